"""Words of the convergence chapter (presentation layer): the verdict, the decomposition, power
and the reasons a test is inconclusive, all generated from the tables of
:func:`analysis.convergence.analyse` and :func:`analysis.validation.power_summary`.

Nothing here computes a statistic; every sentence that compares or judges numbers reads them
from those tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import convergence as conv
from .paths import is_bundled

MEASURE_WORDS = {
    "public_share": "share of firms coded as serving public customers",
    "infrastructure_share": "share of firms coded as infrastructure and services",
    "cosine_to_beijing": "similarity of the firms' words to Beijing's (tf-idf centroid cosine)",
    "distinctiveness": "how well the three cities can be told apart from their firms' words",
}
REASON_TEXT = {
    "no_dated_firms": "no firm has a founding year inside the cohorts, so there are no cohorts to compare",
    "no_beijing": "the corpus has no Beijing firm with a founding year inside the cohorts, so there is "
                  "no Beijing to converge on and no gap to measure",
    "no_other_city": "the corpus has no Shanghai or Shenzhen firm with a founding year inside the cohorts, "
                     "so there is nothing to compare with Beijing",
    "few_cohorts": "fewer than two cohorts have an estimate, so there is no trend to test",
    "no_gap": "over all cohorts the other cities' share equals Beijing's, so there is no gap that could close",
    "no_permutations": "no permutation test was run (0 permutations)",
    "too_few_permutations": "with so few permutations the smallest attainable p-value is not below alpha",
    "unstable": "the p-value lies within two Monte Carlo standard errors of alpha, so the decision could "
                "change with another set of permutations",
    "not_computed": "the measure could not be computed on this corpus",
}
MOVE_WORDS = {"towards": "moved towards", "away": "moved away from", "unclear": "did not move clearly relative to"}


def fmt_p(p: float, mcse: float | None = None) -> str:
    """``0.012 (MCSE 0.001)``; ``not computed`` for NaN."""
    if p is None or np.isnan(p):
        return "not computed"
    text = f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"
    if mcse is not None and not np.isnan(mcse):
        text += f" (Monte Carlo SE {mcse:.3f})" if mcse >= 0.001 else f" (Monte Carlo SE {mcse:.1e})"
    return text


def _pts(x: float) -> str:
    """A share change in percentage points."""
    return f"{100 * x:+.1f} points"


def _interval(lo: float, hi: float, pts: bool = True) -> str:
    if np.isnan(lo) or np.isnan(hi):
        return "no interval"
    f = (lambda v: f"{100 * v:+.1f}") if pts else (lambda v: f"{v:+.3f}")
    return f"95% interval {f(lo)} to {f(hi)}"


def reason_text(code: str) -> str:
    return REASON_TEXT.get(code, code)


def decomposition_sentence(row: pd.Series) -> str:
    """How the gap changed: Beijing's and the others' own slopes with intervals, which side
    moved, and an overshoot when there is one."""
    if np.isnan(row["overall_gap"]) or row["overall_gap"] == 0:
        return "There is no gap to decompose."
    others = row["others"]
    text = (f"Per cohort, the gap changed by {_pts(row['gap_slope'])} ({_interval(row['gap_lo'], row['gap_hi'])}): "
            f"{others} by {_pts(row['others_slope'])} ({_interval(row['others_lo'], row['others_hi'])}) and Beijing "
            f"by {_pts(row['beijing_slope'])} ({_interval(row['beijing_lo'], row['beijing_hi'])}). ")
    om, bm = row["others_move"], row["beijing_move"]
    if om == "towards" and bm == "towards":
        text += f"Both sides moved towards each other: {others} towards Beijing and Beijing towards {others}."
    elif om == "towards":
        text += f"{others} moved towards Beijing; Beijing's own change is within noise." if bm == "unclear" else \
            f"{others} moved towards Beijing while Beijing moved away."
    elif bm == "towards":
        text += f"Beijing moved towards {others}; the others' own change is within noise." if om == "unclear" else \
            f"Beijing moved towards {others} while {others} moved away."
    elif om == "unclear" and bm == "unclear":
        text += "Neither side's change is distinguishable from noise at this size."
    else:
        text += f"{others} {MOVE_WORDS[om]} Beijing, and Beijing {MOVE_WORDS[bm]} {others}."
    if bool(row["overshoot"]):
        text += (" In the last cohort the gap has changed sign, with an interval that excludes zero: "
                 f"{others} overshoots Beijing rather than meeting it.")
    return text


def power_sentence(row: pd.Series, study_attrs: dict | None = None) -> str:
    """Power and minimum detectable effect of one verdict row, from the simulation study."""
    if "power" not in row or row["power"] is None or np.isnan(row["power"]):
        return "No simulation study was run, so the power of this test is not known."
    attrs = study_attrs or {}
    where = "at this corpus's city sizes"
    if attrs.get("scaled"):
        n = attrs.get("n_per_city", ())
        where = (f"at city sizes scaled down to {', '.join(str(x) for x in n)} (this corpus is larger; power at its "
                 "full size is at least as high)")
    mde = row["mde"]
    mde_text = (f"power first reaches 0.8 when the planted gap narrows by about {100 * float(mde):.1f} points per cohort"
                if not isinstance(mde, str) and not np.isnan(float(mde)) else
                "power does not reach 0.8 at any planted strength, so the minimum detectable effect is not reached")
    text = (f"In the simulation study {where}, the power of this test to detect full planted convergence is "
            f"{row['power']:.2f} (Monte Carlo SE {row['power_mcse']:.2f}, {int(row['power_replicates'])} simulated "
            f"corpora), and {mde_text}. These figures come from the simulator's model, not from this corpus.")
    if row["power"] < 0.8:
        text += (" At this power a non-rejection is not evidence that the cities do not converge, and a rejection "
                 "tends to overstate the size of the effect.")
    return text


def decision_sentence(row: pd.Series, alpha: float) -> str:
    """The decision of one verdict row with its estimate, p and MCSE, or why it is inconclusive."""
    measure = MEASURE_WORDS.get(row["measure"], row["measure"])
    comp = row["comparison"]
    if row["statistic"] == "gap":
        stat = f"the gap in the {measure} ({comp})"
        est = f"changes by {_pts(row['estimate'])} per cohort"
        closing = "narrowing" if row["direction"] else "closing"
        direction = f"a {closing} gap"
    else:
        stat = f"the {measure}" + ("" if comp == conv.ALL_CITIES else f" ({comp})")
        est = f"changes by {row['estimate']:+.3f} per cohort" if not np.isnan(row["estimate"]) else "has no estimate"
        direction = "a fall" if row["direction"] == "decrease" else "a rise"
    if row["decision"] == conv.INCONCLUSIVE:
        head = f"Inconclusive: {reason_text(row['reason'])}."
        if row["reason"] == "unstable":
            head = (f"Inconclusive: {stat} {est} (one-sided permutation p = {fmt_p(row['p'], row['p_mcse'])} "
                    f"from {int(row['n_perm'])} permutations), and {reason_text('unstable')}.")
        return head
    verb = "supports" if row["decision"] == conv.SUPPORTS else "does not support"
    return (f"The test {verb} convergence at alpha = {alpha:g}: {stat} {est}, where convergence means {direction} "
            f"(one-sided permutation p = {fmt_p(row['p'], row['p_mcse'])} from {int(row['n_perm'])} permutations; "
            f"the decision does not change within two Monte Carlo standard errors).")


def verdict_text(result, study_attrs: dict | None = None) -> str:
    """The verdict paragraph: decision of the primary test, decomposition, power, caveats."""
    row = result.primary_row()
    parts = [decision_sentence(row, result.alpha)]
    if row["decision"] == conv.SUPPORTS:
        parts.append("This rejects the hypothesis that the gap is unrelated to founding cohort; the size of the "
                     "change is uncertain (see the intervals).")
    dec = result.decomposition
    if len(dec) and row["reason"] not in ("no_dated_firms", "no_beijing", "no_other_city"):
        d = dec[(dec["measure"] == row["measure"]) & (dec["comparison"] == row["comparison"])]
        if len(d):
            parts.append(decomposition_sentence(d.iloc[0]))
    parts.append(power_sentence(row, study_attrs))
    parts.append("The shares rest on the coder's labels, whose errors are discussed under threats to validity.")
    return " ".join(parts)


def verdict_box(result, corpus, study_attrs: dict | None = None) -> str:
    """The verdict in a neutral box (the same style whatever the decision), with what it means
    on simulated data."""
    from . import simulate

    row = result.primary_row()
    body = f"**Decision: {row['decision']}.** " + verdict_text(result, study_attrs)
    if corpus.simulated and is_bundled(corpus.path):
        body += (f" On this simulated corpus convergence was planted at strength {simulate.DEFAULT_CONVERGENCE} "
                 "(0 is none, 1 is full), so the verdict checks the method against a known answer; it says "
                 "nothing about Chinese firms.")
    return f":::{{admonition}} Verdict\n:class: note\n{body}\n:::\n"


def secondary_summary(result) -> str:
    """One line per secondary test: its decision in a few words (no p-value reading across tests)."""
    t = result.verdict_table
    lines = []
    for r in t[~t["primary"]].itertuples(index=False):
        why = f" ({reason_text(r.reason)})" if r.decision == conv.INCONCLUSIVE else ""
        lines.append(f"- {MEASURE_WORDS.get(r.measure, r.measure)}, {r.comparison}: {r.decision}{why}.")
    return "\n".join(lines) + "\n"


def coder_error_sentence(accuracy, kappa: float | None = None, n: int | None = None) -> str:
    """Threat to validity from coder error, with the coder's measured accuracy when there is one
    (a number, or a mapping with ``accuracy`` and optionally ``kappa`` and ``n``)."""
    if isinstance(accuracy, dict) or hasattr(accuracy, "get"):
        kappa, n, accuracy = accuracy.get("kappa"), accuracy.get("n"), accuracy.get("accuracy")
    if accuracy is None or np.isnan(float(accuracy)):
        return ("**Coder error.** Misclassified firms feed the shares directly. The coder's accuracy on the hand-coded check "
                "set is **not yet measured** in this edition, so how much error the shares carry is unknown here; "
                "the validation chapter measures label recovery on simulated text only.")
    extra = f", Cohen's kappa {kappa:.2f}" if kappa is not None and not np.isnan(kappa) else ""
    on = f" on {n} hand-coded descriptions" if n else ""
    return (f"**Coder error.** Misclassified firms feed the shares directly. On the held-out hand-coded check "
            f"set the coder's accuracy for the customer dimension is {accuracy:.0%}{extra}{on}. Errors that are the same in every city shrink the "
            "gap towards zero without creating a trend, but errors that change with founding year (for example "
            "newer firms writing in a vocabulary the dictionary knows better) could create or hide one.")


def sensitivity_sentence(table: pd.DataFrame, main_decision: str) -> str:
    """How many specifications agree with the main verdict."""
    n = len(table)
    agree = int((table["decision"] == main_decision).sum())
    return (f"{agree} of {n} specifications ({agree / n:.0%}) reach the main decision, "
            f"*{main_decision}*." if n else "No alternative specification was run.")
