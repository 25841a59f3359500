"""The words of the specification curve (:mod:`analysis.method.specification_curve`): how its
specifications decided, the joint test, and what the curve adds to the primary decision.  Every
sentence is generated from the curve's two tables."""

from __future__ import annotations

import pandas as pd

from analysis.method import convergence_rule as rule
from analysis.method.resampling import decision_stable
from analysis.present.convergence_prose import REASON_TEXT, fmt_p

__all__ = ["CURVE_REASON_TEXT", "curve_summary", "joint_sentence", "curve_adds", "joint_rates_sentence"]

CURVE_REASON_TEXT = {
    **REASON_TEXT,
    "fields_absent": "a text field of the specification is missing from the corpus",
    "no_training_data": "the supervised coder has no hand-coded texts to learn from",
    "no_correction": "there are no error rates to correct with, or the coder barely tells the classes apart",
    "few_years": "the specification has fewer than three distinct founding years or cohorts, too few to tell a trend "
                 "from noise",
}


#: how far above alpha the exact upper bound of a false-positive rate may lie (issue 23: 0.08 at alpha 0.05)
FPR_SLACK = 0.03


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def curve_summary(table: pd.DataFrame) -> str:
    """How the specifications decided, and why those that could not be decided could not.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`analysis.method.specification_curve.CurveResult.table`.

    Returns
    -------
    str
        Markdown: a paragraph, then one bullet per reason.
    """
    counts = table["decision"].value_counts()
    decided = [f"{_count(int(counts.get(d, 0)), 'specification')} {verb}" for d, verb in (
        (rule.SUPPORTS, "support convergence"), (rule.RULES_OUT, "rule it out"), (rule.INCONCLUSIVE, "are inconclusive"))]
    primary = table[table["primary"]]
    text = (f"Of the {len(table):,} specifications, {decided[0]}, {decided[1]} and {decided[2]}."
            .replace("1 specification support ", "1 specification supports ")
            .replace("1 specification rule ", "1 specification rules ").replace("1 specification are ", "1 specification is "))
    if len(primary):
        text += f" The primary specification decides *{primary['decision'].iloc[0]}*."
    reasons = table.loc[table["reason"] != "", "reason"].value_counts()
    if len(reasons):
        text += " Inconclusive for a stated reason, not dropped:\n\n" + "\n".join(
            f"- {_count(int(k), 'specification')}: {CURVE_REASON_TEXT.get(r, r)}." for r, k in reasons.items())
    return text


def joint_sentence(test: pd.DataFrame, alpha: float) -> str:
    """The joint test in words: each statistic, its value under no change and its p-value.

    Parameters
    ----------
    test : pandas.DataFrame
        :attr:`analysis.method.specification_curve.CurveResult.test`.
    alpha : float
        The level.

    Returns
    -------
    str
        One paragraph.
    """
    rows = test.set_index("statistic")
    med, share = rows.loc["median estimate"], rows.loc["share significant"]
    return (f"Joint test, over {int(med['n_perm']):,} permutations of founding years within every city: the median "
            f"estimate of the {int(med['specifications']):,} share-scale specifications is "
            f"{med['observed']:.2f} share points a year towards closing the gap (with no change, the median of the "
            f"permuted data sets is {med['null_median']:.2f}), p = {fmt_p(med['p'], med['p_mcse'])}; "
            f"{share['observed']:.0%} of the {int(share['specifications']):,} specifications that could be decided "
            f"are significant in the predicted direction at alpha = {alpha:g} (with no change, "
            f"{share['null_median']:.0%}), p = {fmt_p(share['p'], share['p_mcse'])}.")


def _joint_rejects(test: pd.DataFrame, alpha: float) -> tuple[int, int]:
    """How many of the joint test's statistics reject at ``alpha`` with a stable p, of how many."""
    stable = [decision_stable(float(r.p), float(r.p_mcse), alpha) for r in test.itertuples()]
    rejects = [bool(r.p < alpha) and s for r, s in zip(test.itertuples(), stable)]
    return sum(rejects), len(rejects)


def curve_adds(test: pd.DataFrame, primary_decision: str, alpha: float) -> str:
    """What the curve adds to the primary decision, in one sentence.

    Parameters
    ----------
    test : pandas.DataFrame
        The joint test (:attr:`analysis.method.specification_curve.CurveResult.test`).
    primary_decision : str
        The book's primary decision.
    alpha : float
        The level.

    Returns
    -------
    str
        The sentence.
    """
    k, n = _joint_rejects(test, alpha)
    if k == n:
        together = "taken together, the defensible specifications show the gap closing more than chance would"
    elif k == 0:
        together = "taken together, the defensible specifications do not show the gap closing more than chance would"
    else:
        together = (f"taken together, the defensible specifications give a mixed answer ({k} of the joint test's "
                    f"{n} statistics reject at alpha = {alpha:g})")
    if primary_decision == rule.SUPPORTS:
        tail = ("so the primary decision does not hang on the choices made" if k == n else
                "so the primary decision depends on the choices made and should be read with that in mind")
    else:
        tail = ("although the primary specification alone does not support convergence" if k else
                "in line with the primary decision")
    return f"The specification curve: {together}, {tail}."


def joint_rates_sentence(rates: pd.DataFrame, alpha: float) -> str:
    """The joint test's false-positive rate with no change and its power at full planted
    convergence, each statistic, with the upper end of its exact interval.

    Parameters
    ----------
    rates : pandas.DataFrame
        :func:`analysis.method.curve_validation.joint_rates`.
    alpha : float
        The level.

    Returns
    -------
    str
        One paragraph.
    """
    null = rates[rates["strength"] == 0].set_index("statistic")
    full = rates[rates["strength"] == rates["strength"].max()].set_index("statistic")
    bound = alpha + FPR_SLACK
    parts = []
    for statistic in null.index:
        row = null.loc[statistic]
        side = "within" if row["hi"] <= bound else "beyond"
        parts.append(f"{statistic}: {int(row['rejections'])} of {int(row['replicates']):,} corpora, a rate of "
                     f"{row['rate']:.3f}, whose exact 95% upper bound {row['hi']:.3f} is {side} the {bound:.2f} the "
                     "book allows")
    power = "; ".join(f"{s}: {full.loc[s, 'rate']:.2f} (Monte Carlo SE {full.loc[s, 'mcse']:.3f})" for s in full.index)
    strength = float(rates["strength"].max())
    return (f"With no change planted, the joint test rejected at alpha = {alpha:g} as follows: " + "; ".join(parts)
            + f". At planted strength {strength:g} its power was {power}.")
