"""What the convergence page shows of its tables (presentation layer).

The CSVs keep every column (:func:`analysis.present.tables.save`); the page shows the columns
below. Each function returns the table cut to them, still carrying the name ``save`` gave it,
so that :func:`analysis.present.tables.html` captions it.
"""

from __future__ import annotations

import pandas as pd

#: convergence_decomposition: the gap's, Beijing's and the others' slopes per year, and how each side moved
DECOMPOSITION_COLUMNS = ["measure", "comparison", "gap_slope", "gap_lo", "gap_hi", "beijing_slope", "beijing_lo",
                         "beijing_hi", "others_slope", "others_lo", "others_hi", "others_move", "beijing_move",
                         "overshoot"]
#: convergence_corrected: the shares and the gap's slope as coded and corrected for the coder's error
CORRECTED_COLUMNS = ["measure", "kind", "quantity", "observed", "corrected", "lo", "hi", "replicates"]
#: verdict: one row per measure and comparison
VERDICT_COLUMNS = ["measure", "comparison", "unit", "estimate", "lo", "hi", "corrected", "corrected_lo",
                   "corrected_hi", "planted", "others_slope", "others_upper", "p", "p_mcse", "power",
                   "power_planted", "mde", "mde_bound", "coder_validated", "primary", "decision", "reason"]
#: convergence_power_misspecified: power and the false-positive rate with a coder worse than measured
MISSPECIFIED_COLUMNS = ["measure", "comparison", "power", "power_mcse", "power_replicates", "fpr", "fpr_mcse"]
#: convergence_rates: the columns left out (the world's kind and whether it plants convergence)
RATES_HIDDEN = ["kind", "no convergence"]


def decomposition_shown(decomposition: pd.DataFrame) -> pd.DataFrame:
    """The decomposition as the page shows it (:data:`DECOMPOSITION_COLUMNS`).

    Parameters
    ----------
    decomposition : pandas.DataFrame
        :attr:`analysis.method.convergence.ConvergenceResult.decomposition`.

    Returns
    -------
    pandas.DataFrame
        Its columns :data:`DECOMPOSITION_COLUMNS`, in that order; ``overshoot`` in words
        (:func:`overshoot_words`).
    """
    shown = decomposition[DECOMPOSITION_COLUMNS].copy()
    shown["overshoot"] = [overshoot_words(r) for _, r in decomposition.iterrows()]
    return shown


def overshoot_words(row: pd.Series) -> str:
    """The overshoot cell: ``yes`` when the last cohort's gap has the other sign with an interval
    clear of zero; ``crosses zero, within noise`` when only its estimate has the other sign; ``no``.

    Parameters
    ----------
    row : pandas.Series
        A decomposition row (``overshoot``, and ``crosses_zero`` when known).

    Returns
    -------
    str
        The words.
    """
    if bool(row["overshoot"]):
        return "yes"
    return "crosses zero, within noise" if bool(row.get("crosses_zero", False)) else "no"


def corrected_shown(corrected: pd.DataFrame) -> pd.DataFrame:
    """The corrected shares and slopes as the page shows them (:data:`CORRECTED_COLUMNS`).

    Parameters
    ----------
    corrected : pandas.DataFrame
        :attr:`analysis.method.convergence.ConvergenceResult.corrected`.

    Returns
    -------
    pandas.DataFrame
        Its columns :data:`CORRECTED_COLUMNS`, in that order.
    """
    return corrected[CORRECTED_COLUMNS]


def verdict_shown(verdict_table: pd.DataFrame) -> pd.DataFrame:
    """The verdict table as the page shows it (:data:`VERDICT_COLUMNS`).

    Parameters
    ----------
    verdict_table : pandas.DataFrame
        :attr:`analysis.method.convergence.ConvergenceResult.verdict_table`.

    Returns
    -------
    pandas.DataFrame
        Its columns :data:`VERDICT_COLUMNS`, in that order.
    """
    return verdict_table[VERDICT_COLUMNS]


def rates_shown(rates: pd.DataFrame) -> pd.DataFrame:
    """The rates of the simulation study, world by world, without :data:`RATES_HIDDEN`.

    Parameters
    ----------
    rates : pandas.DataFrame
        :func:`analysis.method.validation.rates_table`.

    Returns
    -------
    pandas.DataFrame
        The table without the columns :data:`RATES_HIDDEN`.
    """
    return rates.drop(columns=RATES_HIDDEN)


def misspecified_shown(power_misspecified: pd.DataFrame) -> pd.DataFrame:
    """Power with the misspecified coder as the page shows it (:data:`MISSPECIFIED_COLUMNS`).

    Parameters
    ----------
    power_misspecified : pandas.DataFrame
        :func:`analysis.method.validation.power_summary` with the worse coder of
        :data:`analysis.method.coder_error.MISSPECIFIED`.

    Returns
    -------
    pandas.DataFrame
        Its columns :data:`MISSPECIFIED_COLUMNS`, in that order.
    """
    return power_misspecified[MISSPECIFIED_COLUMNS]


__all__ = ["CORRECTED_COLUMNS", "DECOMPOSITION_COLUMNS", "MISSPECIFIED_COLUMNS", "RATES_HIDDEN", "VERDICT_COLUMNS",
           "corrected_shown", "decomposition_shown", "misspecified_shown", "overshoot_words", "rates_shown",
           "verdict_shown"]
