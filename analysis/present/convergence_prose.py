"""Words of the convergence chapter (presentation layer): the verdict, the decomposition, power
and the reasons a test is inconclusive, all generated from the tables of
:func:`analysis.method.convergence.analyse` and :func:`analysis.method.validation.power_summary`.

Nothing here computes a statistic; every sentence that compares or judges numbers reads them
from those tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.method import convergence as conv
from analysis.method.validation import NULL_KINDS
from analysis.method.coder_error import CODING_SAMPLE, MISSPECIFIED, sample_size
from analysis.present.markdown import escape

MEASURE_WORDS = {
    "public_share": "share of firms coded as serving public customers",
    "infrastructure_share": "share of firms coded as infrastructure and services",
    "cosine_to_beijing": "similarity of the firms' words to Beijing's (tf-idf centroid cosine)",
    "distinctiveness": "how well the three cities can be told apart from their firms' words",
}
REASON_TEXT = {
    "no_dated_firms": "no firm has a founding year inside the cohorts, so there is nothing to compare over time",
    "no_beijing": "the corpus has no Beijing firm with a founding year inside the cohorts, so there is "
                  "no Beijing to converge on and no gap to measure",
    "no_other_city": "the corpus has no Shanghai or Shenzhen firm with a founding year inside the cohorts, "
                     "so there is nothing to compare with Beijing",
    "few_cohorts": "fewer than two cohorts have an estimate, so there is no trend to test",
    "few_years": "the dated firms span fewer than three distinct founding years, too few to tell a trend "
                 "from noise",
    "no_variation": "every compared firm is coded the same way (all public, or none), so no share can move",
    "one_year_city": "the firms of a compared city were all founded in the same year, so that city's own change "
                     "cannot be measured",
    "no_gap": "over all cohorts the other cities' share equals Beijing's, so there is no gap that could close",
    "no_permutations": "no permutation test was run (0 permutations)",
    "too_few_permutations": "with so few permutations the smallest attainable p-value is not below alpha",
    "unstable": "the p-value lies within two Monte Carlo standard errors of alpha, so the decision could "
                "change with another set of permutations",
    "not_computed": "the measure could not be computed on this corpus",
}
#: the documents the page names, as links to the copies shipped with the site
ANALYSIS_PLAN_LINK = "{download}`data/analysis_plan.md </files/data/analysis_plan.md>`"
CODEBOOK_LINK = "{download}`data/codebook.md </files/data/codebook.md>`"
MOVE_WORDS = {"towards": "moved towards", "away": "moved away from", "unclear": "did not move clearly relative to"}


def fmt_p(p: float, mcse: float | None = None) -> str:
    """``0.012 (Monte Carlo SE 0.001)``; ``not computed`` for None or NaN.

    Parameters
    ----------
    p : float or None
        The p-value.
    mcse : float or None
        Its Monte Carlo standard error; None or NaN: not shown.

    Returns
    -------
    str
        ``p`` to 3 decimals (below 0.001 as ``1.0e-04``), its standard error in parentheses.
    """
    if p is None or np.isnan(p):
        return "not computed"
    text = f"{p:.3f}" if p >= 0.001 else f"{p:.1e}"
    if mcse is not None and not np.isnan(mcse):
        text += f" (Monte Carlo SE {mcse:.3f})" if mcse >= 0.001 else f" (Monte Carlo SE {mcse:.1e})"
    return text


def _ppy(x: float) -> str:
    """A slope in share points per year."""
    return "no estimate" if x is None or np.isnan(x) else f"{x:+.1f} points a year"


def _interval(lo: float, hi: float) -> str:
    if np.isnan(lo) or np.isnan(hi):
        return "no interval"
    return f"95% interval {lo:+.1f} to {hi:+.1f}"


def _reason_text(code: str) -> str:
    return REASON_TEXT.get(code, code)


def decomposition_sentence(row: pd.Series) -> str:
    """How the gap changed: Beijing's and the others' own slopes with intervals, which side
    moved, and an overshoot when there is one.

    Parameters
    ----------
    row : pandas.Series
        A row of :attr:`analysis.method.convergence.ConvergenceResult.decomposition`.

    Returns
    -------
    str
        The sentences, or ``There is no gap to decompose.`` when the overall gap is 0 or NaN.
    """
    if np.isnan(row["overall_gap"]) or row["overall_gap"] == 0:
        return "There is no gap to decompose."
    others = row["others"]
    text = (f"With founding year, the gap changed by {_ppy(row['gap_slope'])} "
            f"({_interval(row['gap_lo'], row['gap_hi'])}): {others}'s share by {_ppy(row['others_slope'])} "
            f"({_interval(row['others_lo'], row['others_hi'])}) and Beijing's by {_ppy(row['beijing_slope'])} "
            f"({_interval(row['beijing_lo'], row['beijing_hi'])}). ")
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
    elif bool(row.get("crosses_zero", False)):
        text += (" In the last cohort the estimated gap has changed sign, but its interval includes zero, so "
                 f"this is not counted as an overshoot: {others} may have reached Beijing's level or passed it.")
    return text


#: primary reasons that leave no gap to decompose
NO_DECOMPOSITION = ("no_dated_firms", "no_beijing", "no_other_city")


def decomposition_paragraph(decomposition: pd.DataFrame, row: pd.Series) -> str:
    """How the primary gap changed (:func:`decomposition_sentence` on the decomposition's row for
    the primary measure and comparison), or, when there is no such row or the primary decision
    ``row`` found no gap to measure, why there is no decomposition.

    Parameters
    ----------
    decomposition : pandas.DataFrame
        :attr:`analysis.method.convergence.ConvergenceResult.decomposition`.
    row : pandas.Series
        The verdict table's primary row (its ``reason``).

    Returns
    -------
    str
        The paragraph.
    """
    main = conv.primary_rows(decomposition)
    if len(main) and row["reason"] not in NO_DECOMPOSITION:
        return decomposition_sentence(main.iloc[0])
    return f"No decomposition: {_reason_text(row['reason'])}."


def weights_text(weights: dict) -> str:
    """The standardisation weights in words: ``{"Shanghai": 0.6, "Shenzhen": 0.4}`` ->
    ``Shanghai 0.60, Shenzhen 0.40``.

    Parameters
    ----------
    weights : dict of str to float
        City -> weight (:attr:`analysis.method.convergence.ConvergenceResult.weights`).

    Returns
    -------
    str
        The cities and their weights, in the dict's order.
    """
    return ", ".join(f"{city} {w:.2f}" for city, w in weights.items())


def notes_list(notes: list[str]) -> str:
    """The analysis's notes as a markdown list, each note escaped; empty without notes.

    Parameters
    ----------
    notes : list of str
        :attr:`analysis.method.convergence.ConvergenceResult.notes`.

    Returns
    -------
    str
        One ``- note`` line per note, or ``""``.
    """
    return "\n".join(f"- {escape(note)}" for note in notes)


PLAIN = {
    conv.SUPPORTS: "Shanghai and Shenzhen move towards Beijing's share of public-customer firms, as the brief "
                   "claims: the gap closes and the two cities' own share moves towards Beijing's level.",
    conv.RULES_OUT: "Shanghai and Shenzhen do not move towards Beijing by as much as {margin:g} share points a "
                    "year: a move of that size is ruled out.",
    conv.INCONCLUSIVE: "These data cannot tell whether Shanghai and Shenzhen move towards Beijing: neither the "
                       "brief's claim nor its opposite is established.",
}


def plain_decision(row: pd.Series, simulated: bool) -> str:
    """The decision in one line of plain words (the verdict box's first line).

    Parameters
    ----------
    row : pandas.Series
        The verdict table's primary row (``decision``, ``margin``).
    simulated : bool
        Whether the corpus is simulated.

    Returns
    -------
    str
        The line (from :data:`PLAIN`).
    """
    where = "In this simulated corpus" if simulated else "In this corpus"
    text = PLAIN[row["decision"]].format(margin=float(row["margin"]) if row["margin"] == row["margin"] else 0.0)
    return f"{where}: {text}"


def landing_summary(row: pd.Series, simulated: bool, planted_strength: float | None = None) -> str:
    """The book's decision for its landing page: the primary decision, one plain line
    (:func:`plain_decision`), and what the data are (simulated, or the user's corpus).

    Parameters
    ----------
    row : pandas.Series
        The verdict table's primary row (``decision``, ``margin``).
    simulated : bool
        Whether the corpus is simulated.
    planted_strength : float or None
        The convergence strength planted in the bundled simulated corpus; None when not known.

    Returns
    -------
    str
        A MyST admonition of two short paragraphs.
    """
    if simulated:
        planted = (f", with convergence planted at strength {planted_strength:g} (0 is none, 1 is full)"
                   if planted_strength is not None else "")
        data = ("**The data are simulated.** The firms were invented by this book to follow the brief's Table 1"
                f"{planted}; the decision shows whether the method finds what was put in. It is not a finding "
                "about Chinese firms.")
    else:
        data = ("**The data are this build's own corpus**, not the bundled simulation: the decision is a "
                "finding about these firms, with the caveats of the convergence and validation chapters.")
    return (f":::{{admonition}} What the book finds\n:class: note\n**Decision on convergence: *{row['decision']}*.** "
            f"{plain_decision(row, simulated)}\n\n{data}\n:::\n")


def rule_sentence(row: pd.Series, alpha: float) -> str:
    """The three parts of the rule with their estimates and p-values, and the equivalence bound.

    Parameters
    ----------
    row : pandas.Series
        The verdict table's primary row.
    alpha : float
        The level each of the three parts must be below.

    Returns
    -------
    str
        The sentences; only the reason when the test is inconclusive for any reason but an
        unstable p-value.
    """
    if row["decision"] == conv.INCONCLUSIVE and row["reason"] not in ("", "unstable"):
        return f"Inconclusive: {_reason_text(row['reason'])}."
    others = row["comparison"].split(" − ", 1)[1]
    text = (f"With founding year, the gap between Beijing and {others} changes by {_ppy(row['estimate'])} "
            f"({_interval(row['lo'], row['hi'])}). Against the null that no city's share changes with founding "
            f"year, its closing has one-sided permutation p = {fmt_p(row['p_gap'])} on the share scale and "
            f"{fmt_p(row['p_gap_logodds'])} on the log-odds scale. The share of {others} moves towards Beijing's "
            f"level by {_ppy(row['others_slope'])}; against the null that it does not change with founding year "
            f"(founding years permuted within {others} only), p = {fmt_p(row['p_others'])}. The rule needs all "
            f"three below alpha = {alpha:g}, so its p-value is the largest, {fmt_p(row['p'], row['p_mcse'])}, from "
            f"{int(row['n_perm']):,} permutations")
    text += f", and {_reason_text('unstable')}." if row["reason"] == "unstable" else "."
    text += (f" At most, {others} moves towards Beijing by {row['others_upper']:+.1f} points a year (one-sided "
             f"{1 - alpha:.0%} bound); below the equivalence margin of {row['margin']:g} points a year the rule "
             "would rule convergence out.")
    return text


def _power_sentence(row: pd.Series, study_attrs: dict | None = None) -> str:
    """Power, power at the planted strength, MDE, exaggeration and the corpus size for 80% power."""
    if "power" not in row or row["power"] is None or np.isnan(row["power"]):
        return "No simulation study was run, so the power of this rule is not known."
    n = (study_attrs or {}).get("replicates")
    text = (f"Simulated at this corpus's city sizes and founding years ({n:,} corpora per world), the rule "
            if n else "The rule ")
    text += (f"supports convergence in {row['power']:.2f} of corpora with full planted convergence (Monte Carlo SE "
             f"{row['power_mcse']:.2f})")
    if row["power_planted"] == row["power_planted"]:
        text += f" and in {row['power_planted']:.2f} at the strength planted in this corpus"
    if row["mde_bound"] == "lower":
        text += (f". Power stays below 0.8 even at full convergence, so the minimum detectable effect is more than "
                 f"{row['mde']:.1f} points a year (the largest planted closing of the gap)")
    else:
        text += f". Power reaches 0.8 when the gap closes by about {row['mde']:.1f} points a year"
    if row["firms_for_80pct"] == row["firms_for_80pct"]:
        text += (f"; about {row['firms_for_80pct']:,.0f} firms in this corpus's proportions would give 80% power "
                 "against full convergence")
    text += "."
    if row["exaggeration"] == row["exaggeration"]:
        at = "at the planted strength" if row["power_planted"] == row["power_planted"] else "near that effect"
        text += (f" Among the simulated corpora {at} that supported convergence, the estimate was on average "
                 f"{row['exaggeration']:.1f} times the planted effect: at this power a significant estimate "
                 "overstates the effect.")
    return text


def _planted_sentence(row: pd.Series) -> str:
    """The estimate beside its planted value (simulated corpora whose truth is known)."""
    if row["planted"] != row["planted"]:
        return ""
    return (f"The estimate, {_ppy(row['estimate'])}, stands beside the planted value, {_ppy(row['planted'])} "
            "(in the planted labels, before coder error).")


def _post_hoc_sentence(entries: list[int]) -> str:
    """Flags the analysis-plan entries made after results were seen."""
    if not entries:
        return ""
    words = [str(e) for e in entries]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    noun = "entries" if len(words) > 1 else "entry"
    return (f"Choices behind this verdict were made after results had been seen ({noun} {listed} of "
            f"{ANALYSIS_PLAN_LINK}): read the decision as exploratory.")


def verdict_box(verdict, corpus, post_hoc: list[int] | None = None, curve_words: str = "") -> str:
    """The verdict in a neutral box: a one-line decision in plain words, then the detail in
    short paragraphs (the rule, the estimate, power, what the run can and cannot show).

    Parameters
    ----------
    verdict : analysis.chapters.verdict.Verdict
        The analysis, its power study and the coder's error.
    corpus : analysis.data.corpus.Corpus
        The loaded corpus.
    post_hoc : list of int or None
        The entries of ``data/analysis_plan.md`` made after results were seen.
    curve_words : str
        What the specification curve adds to the decision
        (:func:`analysis.present.curve_prose.curve_adds`); empty: nothing said.

    Returns
    -------
    str
        A MyST admonition.
    """
    row = verdict.row
    paragraphs = [
        [f"**{plain_decision(row, corpus.simulated)}**"],
        [f"Decision{'' if verdict.error.validated else ' (provisional)'}: *{row['decision']}* (the public-customer "
         f"share, {row['comparison']}).",
         rule_sentence(row, verdict.result.alpha)],
        ["How large the move is remains uncertain; see the interval." if row["decision"] == conv.SUPPORTS else "",
         _planted_sentence(row)],
        [_power_sentence(row, verdict.study.attrs)],
        [curve_words],
        [],
    ]
    if verdict.planted_strength is not None and row["power_planted"] == row["power_planted"]:
        paragraphs[-1].append(
            f"Convergence was planted in this simulated corpus at strength {verdict.planted_strength:g} (0 is none, 1 is "
            "full), so this run checks the method against a known answer, but only as far as its power at that "
            f"strength, {row['power_planted']:.2f}, allows: one corpus says little, and the simulation study of the "
            "validation chapter is the real check. It says nothing about Chinese firms.")
    paragraphs.insert(1, [_coder_status(verdict.error, verdict.result.tipping.get("coded_share", 0.5),
                                       len(conv.CITIES) * len(verdict.result.cohorts))])
    paragraphs[-1] += [_post_hoc_sentence(post_hoc or []), correction_sentence(verdict.result, verdict.error)]
    body = "\n\n".join(" ".join(x for x in para if x) for para in paragraphs if any(para))
    return f":::{{admonition}} Verdict\n:class: note\n{body}\n:::\n"


def policy_sentence(row: pd.Series) -> str:
    """The primary slope as the policy page quotes it: with its interval, decision and power.

    Parameters
    ----------
    row : pandas.Series
        The verdict table's primary row, with its power columns.

    Returns
    -------
    str
        A clause (not capitalised) for the policy page to quote.
    """
    power = (f"power {row['power']:.2f} against full convergence" if row["power"] == row["power"]
             else "power not known")
    provisional = (", provisional: the coder has not been checked against this corpus's own text"
                   if row.get("coder_validated") == "no" else "")
    return (f"the gap between Beijing's public share and that of Shanghai and Shenzhen (standardised) changes with "
            f"founding year by {_ppy(row['estimate'])} ({_interval(row['lo'], row['hi'])}); the convergence "
            f"verdict is *{row['decision']}* ({power}{provisional})")


def rates_sentence(rates: pd.DataFrame, power_row: pd.Series, alpha: float) -> str:
    """The validation study in words: the largest "supports" rate of the rule and the largest
    rejection rate of the gap test over the worlds without convergence, and the rule's power.

    Parameters
    ----------
    rates : pandas.DataFrame
        :func:`analysis.method.validation.rates_table`.
    power_row : pandas.Series
        The power summary's primary row (``power``, ``power_mcse``).
    alpha : float
        The level.

    Returns
    -------
    str
        The sentences, or one that no world without convergence was simulated.
    """
    null = rates[rates["kind"].isin(NULL_KINDS)]
    if not len(null):
        return "No world without convergence was simulated."
    r = null.loc[null["supports"].idxmax()]
    g = null.loc[null["gap test"].idxmax()]
    verdict = ("stays at or below" if r["supports 95% upper"] <= alpha
               else "is compatible with" if r["supports"] <= alpha else "exceeds")
    text = (f"Across the {len(null)} worlds without convergence, the rule supported convergence in at most "
            f"{r['supports']:.3f} of corpora ({r['world']}; Monte Carlo SE {r['supports MCSE']:.3f}, exact 95% "
            f"upper bound {r['supports 95% upper']:.3f}), which {verdict} alpha = {alpha:g}; the earlier gap "
            f"test rejected in up to {g['gap test']:.3f} ({g['world']}; SE {g['gap test MCSE']:.3f}).")
    if power_row["power"] == power_row["power"]:
        text += (f" With full planted convergence the rule supports it in {power_row['power']:.2f} of corpora (SE "
                 f"{power_row['power_mcse']:.2f}).")
    return text


def threats_sentence(threats: pd.DataFrame) -> str:
    """The threat worlds in words: the range of the rule's "supports" and "rules out" rates.

    Parameters
    ----------
    threats : pandas.DataFrame
        The rates in the threat worlds (``world``, ``supports``, ``rules out``).

    Returns
    -------
    str
        Two sentences, or ``""`` without threat worlds.
    """
    if not len(threats):
        return ""
    hi_s = threats.loc[threats["supports"].idxmax()]
    hi_r = threats.loc[threats["rules out"].idxmax()]
    return (f"With none of them is convergence planted. The rule supported it in at most {hi_s['supports']:.3f} of "
            f"corpora ({hi_s['world']}), and ruled it out in up to {hi_r['rules out']:.3f} ({hi_r['world']}): "
            "where a threat hides a real move, the rule can only be as right as the corpus is complete.")


def secondary_summary(result) -> str:
    """One line per secondary test: its decision in a few words (no p-value reading across tests).

    Parameters
    ----------
    result : analysis.method.convergence.ConvergenceResult
        The analysis (its verdict table).

    Returns
    -------
    str
        A markdown list, one line per row that is not primary.
    """
    t = result.verdict_table
    lines = []
    for r in t[~t["primary"]].itertuples(index=False):
        why = f" ({_reason_text(r.reason)})" if r.decision == conv.INCONCLUSIVE and r.reason else ""
        lines.append(f"- {MEASURE_WORDS.get(r.measure, r.measure)}, {r.comparison}: {r.decision}{why}.")
    return "\n".join(lines) + "\n"


CHECK_SET_AUTHORS = ("invented firm descriptions that language models wrote and coded from the codebook, "
                     "not descriptions of real firms coded by people")
MEASURE_CATEGORY_WORDS = {"public_share": ("public-customer", "public customers"),
                          "infrastructure_share": ("infrastructure", "infrastructure and services")}


def _rates_words(rates, measure: str = "public_share") -> str:
    """A measure's error rates with their counts, in words."""
    noun = MEASURE_CATEGORY_WORDS.get(measure, (measure, measure))[0]
    return (f"it coded {rates.hits} of {rates.positives} {noun} items as such (sensitivity "
            f"{rates.sensitivity:.2f}) and {rates.false_hits} of {rates.negatives} others as {noun} "
            f"(false-positive rate {rates.false_positive_rate:.3f})")


def _error_source_words(error) -> str:
    """Where the coder's error was measured, in words."""
    if error.source == CODING_SAMPLE:
        return "a coding sample of this corpus (`data/coding_sample.csv`)"
    return f"the check sets ({CHECK_SET_AUTHORS})"


def _coder_status(error, share: float, n_strata: int) -> str:
    """Whether the verdict is provisional: the coder checked on this corpus's own text or not;
    if not, how to make a coding sample (how many firms, stratified by city and cohort)."""
    if error.validated:
        return (f"**Coder validated on this corpus.** The coder was scored on {_error_source_words(error)}: "
                f"{_rates_words(error['public_share'])}. The correction below uses these rates.")
    n = sample_size(share, strata=n_strata)
    return (f"**Provisional.** The coder has not been checked against this corpus's own text: its error rates "
            f"come from {_error_source_words(error)}. To settle the verdict, code a sample of about {n} firms of this "
            f"corpus, stratified by city and cohort (about {n // max(n_strata, 1)} in each of the {n_strata} city × "
            f"cohort cells), blind to the coder's labels and with {CODEBOOK_LINK} only, and save it as "
            f"`data/coding_sample.csv` (format in `data/README.md`). That many firms measure the sensitivity to about "
            f"±0.10 and the false-positive rate to about ±0.05 at this corpus's public share ({share:.2f}).")


def correction_sentence(result, error, measure: str = conv.PRIMARY_MEASURE) -> str:
    """The primary estimate and the shares corrected for the coder's error, in words.

    Parameters
    ----------
    result : analysis.method.convergence.ConvergenceResult
        The analysis (its ``corrected`` table).
    error : analysis.method.coder_error.CoderError
        The coder's error the correction used.
    measure : str
        The share measure.

    Returns
    -------
    str
        The sentences; or that no correction was computed, or why none can be made.
    """
    table = result.corrected
    if not len(table):
        return "No correction for the coder's error was computed."
    part = table[table["measure"] == measure]
    est = part[(part["kind"] == "estimate") & (part["quantity"] == conv.PRIMARY_COMPARISON)]
    if not len(est):
        return "No correction for the coder's error was computed."
    e = est.iloc[0]
    rates = error[measure]
    if e["corrected"] != e["corrected"]:
        return (f"The coder's error cannot be corrected for: {_rates_words(rates, measure)}, too close to telling "
                "nothing apart for the correction, which divides by the difference of the two rates.")
    shares = part[part["kind"] == "share"]
    share_words = "; ".join(f"{r.quantity} {r.observed:.2f} coded, {r.corrected:.2f} corrected "
                            f"({r.lo:.2f} to {r.hi:.2f})" for r in shares.itertuples())
    return (f"On {_error_source_words(error)} {_rates_words(rates, measure)}. Corrected for these rates (the "
            f"Rogan–Gladen estimator, which assumes the same rates in every city and founding year; the interval "
            f"resamples the firms and the items the rates were measured on), the gap's slope is "
            f"{_ppy(e['corrected'])} ({_interval(e['lo'], e['hi'])}) against {_ppy(e['observed'])} as coded. "
            f"Shares: {share_words}.")


def tipping_sentence(tipping: dict, error, measure: str = conv.PRIMARY_MEASURE) -> str:
    """How far the other cities' false-positive rate would have to drift between their earliest
    and latest cohorts to produce the estimate with no true change.

    Parameters
    ----------
    tipping : dict
        :attr:`analysis.method.convergence.ConvergenceResult.tipping`.
    error : analysis.method.coder_error.CoderError
        The coder's error (its false-positive rate for ``measure``).
    measure : str
        The share measure.

    Returns
    -------
    str
        A paragraph, or ``""`` without a tipping point.
    """
    if not tipping or tipping.get("points") != tipping.get("points"):
        return ""
    points, fpr = float(tipping["points"]), float(error[measure].false_positive_rate)
    span = f"from {tipping['first_year']:.1f} to {tipping['last_year']:.1f} (mean founding years of their first and last cohorts)"
    direction = "rise" if tipping["estimate"] < 0 else "fall"
    if points >= 100:
        verdict = ("more than any rate can change, so a drift in false positives alone cannot explain an estimate "
                   "of this size")
    elif points > 100 * fpr:
        verdict = (f"more than the whole false-positive rate measured ({100 * fpr:.1f} points), so it would take "
                   "a coder far worse on late than on early firms")
    else:
        verdict = (f"within the false-positive rate measured ({100 * fpr:.1f} points): a modest drift in the "
                   "coder's errors could produce the estimate on its own")
    return (f"**Tipping point.** With no true change anywhere, the false-positive rate of Shanghai and Shenzhen "
            f"would have to {direction} by {points:.1f} points {span} to produce the estimate "
            f"({_ppy(tipping['estimate'])}) alone: {verdict}.")


def coder_error_sentence(error) -> str:
    """Threat to validity from coder error, with the coder's measured rates.

    Parameters
    ----------
    error : analysis.method.coder_error.CoderError
        The coder's error (its ``public_share`` rates).

    Returns
    -------
    str
        A paragraph; that the rates are not measured when they rest on no items.
    """
    rates = error["public_share"]
    if not rates.positives or not rates.negatives:
        return ("**Coder error.** Misclassified firms feed the shares directly. The coder's error rates are **not "
                "measured** in this edition (no check set or coding sample ships), so how much error the shares "
                "carry is unknown here.")
    return (f"**Coder error.** Misclassified firms feed the shares directly. On {_error_source_words(error)} "
            f"{_rates_words(rates)}. The power study draws each simulated corpus's coder from these counts, and "
            "the estimate is shown corrected for them above. Errors that are the same in every city and year only "
            "shrink the slopes; errors that change with founding year (for example newer firms writing in a "
            "vocabulary the dictionary knows better) could create or hide a trend: the tipping point above says "
            "how large such a change would have to be.")


def misspecified_sentence(power: pd.DataFrame, worse: pd.DataFrame, error) -> str:
    """Power with the coder's measured error against power with the worse coder.

    Parameters
    ----------
    power, worse : pandas.DataFrame
        :func:`analysis.method.validation.power_summary` with the coder's measured error, and with
        the worse coder of :data:`analysis.method.coder_error.MISSPECIFIED`.
    error : analysis.method.coder_error.CoderError
        The coder's measured error.

    Returns
    -------
    str
        Two sentences, or ``""`` when either summary lacks the primary test's power.
    """
    def primary(table):
        hit = conv.primary_rows(table)
        return hit.iloc[0] if len(hit) else None

    a, b = primary(power), primary(worse)
    if a is None or b is None or a["power"] != a["power"] or b["power"] != b["power"]:
        return ""
    sens, fpr = MISSPECIFIED
    diff = b["power"] - a["power"]
    if abs(diff) <= 2 * np.hypot(a["power_mcse"], b["power_mcse"]):
        change = "about the same"
    else:
        change = "lower" if diff < 0 else "higher"
    return (f"Against full convergence the rule has power {a['power']:.2f} (SE {a['power_mcse']:.2f}) with the coder's "
            f"error as measured on {_error_source_words(error)}. If the coder were worse than measured (sensitivity "
            f"{sens:.2f}, false-positive rate {fpr:.2f}) while the analysis still corrects with the measured rates, "
            f"power would be {b['power']:.2f} (SE {b['power_mcse']:.2f}), {change}, and the rule would support "
            f"convergence in {b['fpr']:.3f} of corpora with no change (SE {b['fpr_mcse']:.3f}).")


def sensitivity_sentence(table: pd.DataFrame, main_decision: str) -> str:
    """How many specifications agree with the main verdict.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per specification (its ``decision``).
    main_decision : str
        The main analysis's decision.

    Returns
    -------
    str
        One sentence.
    """
    n = len(table)
    agree = int((table["decision"] == main_decision).sum())
    return (f"{agree} of {n} specifications ({agree / n:.0%}) reach the main decision, "
            f"*{main_decision}*." if n else "No alternative specification was run.")
