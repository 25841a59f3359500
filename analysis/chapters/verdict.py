"""The book's convergence verdict as one shared call: the analysis of the corpus
(:func:`analysis.method.convergence.analyse`), the simulation study at the corpus's design
(:func:`analysis.method.validation.simulation_study`, :func:`analysis.method.validation.design_power`), the
power summary, and, for the bundled simulated corpus, the planted values.

Every page that states the verdict (convergence, policy) calls :func:`convergence_verdict`
with the build's parameters; inside a build the call is computed once and shared
(:func:`analysis.build.shared_results.shared`), so the pages cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.chapters import shared as _shared
from analysis.method import coder_error, convergence, validation
from analysis.text.classify import DEFAULT_CODER
from analysis.build.shared_results import shared
from analysis.paths import DATA_DIR, is_bundled
from analysis.data.simulate import DEFAULT_CONVERGENCE


@dataclass
class Verdict:
    """``result`` (its verdict table carries the power columns), ``study`` (rates per world),
    ``power`` (:func:`analysis.method.validation.power_summary`), ``design`` (power by corpus size),
    ``planted_strength`` (the simulator's convergence strength of the bundled corpus, else None),
    ``planted`` (comparison -> planted gap slope, share points per year), ``error`` (the coder's
    error the study and the correction used, :class:`analysis.method.coder_error.CoderError`),
    ``power_misspecified`` (the power summary with the worse coder of
    :data:`analysis.method.coder_error.MISSPECIFIED`); the corrected shares and estimates and the
    tipping point are in ``result`` (``corrected``, ``tipping``)."""

    result: convergence.ConvergenceResult
    study: pd.DataFrame
    power: pd.DataFrame
    design: pd.DataFrame
    planted_strength: float | None
    planted: dict
    error: coder_error.CoderError
    power_misspecified: pd.DataFrame

    @property
    def row(self) -> pd.Series:
        return self.result.primary_row()


def planted_strength(corpus) -> float | None:
    """The planted convergence strength of the bundled simulated corpus; None for any other
    corpus (its truth is not known to the book).

    Parameters
    ----------
    corpus : analysis.data.corpus.Corpus
        A loaded corpus.

    Returns
    -------
    float or None
        :data:`analysis.data.simulate.DEFAULT_CONVERGENCE` for the bundled simulated corpus, else None.
    """
    return float(DEFAULT_CONVERGENCE) if corpus.simulated and is_bundled(corpus.path) else None


def post_hoc_entries(path=None) -> list[int]:
    """Numbers of the entries of ``data/analysis_plan.md`` whose choice was made after results
    had been seen: their "Before or after results" cell starts with a bold **After** (an entry
    that only records a measurement says "After" in plain type and is not a choice).

    Parameters
    ----------
    path : str or pathlib.Path, optional
        The analysis plan; None: ``data/analysis_plan.md``.

    Returns
    -------
    list of int
        The entries' numbers, in the order of the plan's table.

    Raises
    ------
    OSError
        If the plan cannot be read.
    """
    rows = []
    for line in Path(path or DATA_DIR / "analysis_plan.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 6 and cells[0].isdigit() and cells[4].startswith("**After**"):
            rows.append(int(cells[0]))
    return rows


def study_for(firms: pd.DataFrame, *, text_fields, coder: str, cohort_edges, n_subsamples: int, n_perm: int,
              alpha: float, margin: float, seed: int, replicates: int, text_replicates: int,
              error: coder_error.CoderError | None = None) -> pd.DataFrame:
    """The simulation study at the design of the corpus ``firms`` (its city sizes and founding
    years) and with its coder's error (``error``, else :func:`analysis.method.coder_error.for_corpus`),
    as the convergence and validation pages both show it (one shared computation).

    Parameters
    ----------
    firms : pandas.DataFrame
        The corpus's firms.
    text_fields : list of str
        The text columns analysed.
    coder : str
        The business-model coder; empty: :data:`analysis.text.classify.DEFAULT_CODER`.
    cohort_edges : list of int
        The founding-year bin edges.
    n_subsamples, n_perm, seed, replicates, text_replicates : int
        As the book's parameters of the same names (README, "Parameters").
    alpha, margin : float
        The tests' significance level, and the equivalence margin in share points a year.
    error : analysis.method.coder_error.CoderError, optional
        The coder's error; None: measured for ``firms`` and ``coder``.

    Returns
    -------
    pandas.DataFrame
        The rates of every decision per world (:func:`analysis.method.validation.simulation_study`).
    """
    edges = [int(e) for e in cohort_edges]
    fields = [str(f) for f in text_fields]
    coder = coder or DEFAULT_CODER
    return _shared.simulation_study(replicates=int(replicates), seed=int(seed), n_perm=int(n_perm),
                                    alpha=float(alpha), margin=float(margin), n_subsamples=int(n_subsamples),
                                    text_fields=fields, cohort_edges=edges, text_replicates=int(text_replicates),
                                    coder_error=error or coder_error.for_corpus(firms, coder, fields, int(seed)),
                                    **validation.corpus_design(firms, edges))


@shared
def convergence_verdict(firms: pd.DataFrame, *, text_fields, coder: str, cohort_edges, n_subsamples: int, n_boot: int,
                        n_perm: int, n_perm_shares: int, alpha: float, margin: float, seed: int, replicates: int,
                        text_replicates: int, strength: float | None = None) -> Verdict:
    """The verdict of the corpus ``firms`` under the book's parameters (see the module
    docstring); ``strength``: the planted strength when the truth is known.

    Parameters
    ----------
    firms : pandas.DataFrame
        The corpus's firms.
    text_fields : list of str
        The text columns analysed.
    coder : str
        The business-model coder; empty: :data:`analysis.text.classify.DEFAULT_CODER`.
    cohort_edges : list of int
        The founding-year bin edges.
    n_subsamples, n_boot, n_perm, n_perm_shares, seed, replicates, text_replicates : int
        As the book's parameters of the same names (README, "Parameters").
    alpha, margin : float
        The tests' significance level, and the equivalence margin in share points a year.
    strength : float, optional
        The planted strength; None when the truth is not known.

    Returns
    -------
    Verdict
        The analysis with its power columns, the simulation study, power (also with the
        misspecified coder), power by size, the coder's error and the planted values.
    """
    fields = [str(f) for f in text_fields]
    edges = [int(e) for e in cohort_edges]
    coder = coder or DEFAULT_CODER
    error = coder_error.for_corpus(firms, coder, fields, int(seed))
    result = convergence.analyse(firms, text_fields=fields, coder=coder, cohort_edges=edges,
                                 n_subsamples=int(n_subsamples), n_boot=int(n_boot), n_perm=int(n_perm),
                                 n_perm_shares=int(n_perm_shares), alpha=float(alpha), margin=float(margin),
                                 seed=int(seed), coder_error=error)
    design = validation.corpus_design(firms, edges)
    study = study_for(firms, text_fields=fields, coder=coder, cohort_edges=edges, n_subsamples=n_subsamples,
                      n_perm=n_perm, alpha=alpha, margin=margin, seed=seed, replicates=replicates,
                      text_replicates=text_replicates, error=error)
    by_size = _shared.design_power(replicates=int(replicates), seed=int(seed), n_perm=int(n_perm),
                                   alpha=float(alpha), margin=float(margin), cohort_edges=edges,
                                   coder_error=error, **design)
    power = validation.power_summary(study, planted_strength=strength, design=by_size)
    worse = _shared.simulation_study(replicates=int(replicates), seed=int(seed), n_perm=int(n_perm),
                                     alpha=float(alpha), margin=float(margin), cohort_edges=edges,
                                     coder_error=error, true_error=coder_error.misspecified(coder),
                                     worlds=validation.POWER_WORLDS, text_replicates=0, **design)
    planted = {}
    if strength is not None:
        planted = validation.planted_values(strength, design)
    result = convergence.with_power(result, power, planted, validated=error.validated)
    return Verdict(result=result, study=study, power=power, design=by_size, planted_strength=strength,
                   planted=planted, error=error,
                   power_misspecified=validation.power_summary(worse, planted_strength=strength))


__all__ = ["Verdict", "convergence_verdict", "planted_strength", "post_hoc_entries", "study_for"]
