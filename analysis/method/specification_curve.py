"""The specification curve and its joint test (Simonsohn, Simmons & Nelson 2020): every analysis
that ``data/analysis_plan.md`` names as defensible, crossed, and one test of them all together.

The choices (:data:`CHOICES`; entry 17 of the plan)
    ``time``: founding year as a number (the verdict's primary), or binned by one of the cohort
    edge sets (the build's and :data:`analysis.method.convergence.ALTERNATIVE_EDGES`; the firms of
    a bin sit at its mean year, so slopes stay per year); ``comparison``: Beijing against
    Shanghai and Shenzhen standardised, or against either alone; ``scale``: shares or log-odds;
    ``text_fields``: the three sets; ``coder``: dictionary or supervised; ``outcome``: the public
    or the infrastructure share; ``correction`` for the coder's measured error: on or off.
    720 specifications when every coder can run.

One specification
    The gap to Beijing's slope on its scale, turned so that a positive estimate closes the gap
    (share points per year, or log-odds per year), with a normal interval from the robust (share)
    or Fisher (log-odds) standard error; with the correction on, share estimates are divided by
    the coder's separation and log-odds estimates are computed on counts corrected cell by cell
    (:func:`analysis.method.convergence_rule.corrected_counts`, the measured rates).  Its decision
    is the verdict's rule on its scale (:mod:`analysis.method.convergence_rule`): the gap closes
    and the others move towards Beijing, each one-sided at alpha (p the larger), with the
    equivalence bound for "rules out".  The permutations are the joint ones below, so every
    specification is tested on the same shuffles of the data.

The joint test
    Founding years are permuted within every city (the null: no city changes), the same
    permutation for every specification and coding at once (flags are shuffled firm by firm).
    On each permuted data set each specification gets its p-value by its rank among all the
    data sets (observed and permuted, which the null makes exchangeable).  Two statistics are
    compared with their permutation distributions: the median estimate of the share-scale
    specifications (the log-odds ones are on another scale), and the share of specifications
    significant in the predicted direction.

A specification that cannot be computed (a coder without training data, a text field missing
from the corpus, a comparison the rule cannot decide, no error rates to correct with) is kept,
with its reason and no estimate.  The permutations run in blocks of :data:`BLOCK` on Dask
(:mod:`analysis.method.parallel`), each block seeded from the build seed.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri
from scipy.stats import rankdata

from analysis.defaults import ALPHA, CITIES, COHORT_EDGES, DEFAULT_SEED, EQUIVALENCE_MARGIN, N_PERM_JOINT, TEXT_FIELDS
from analysis.method import coder_error
from analysis.method import convergence as conv
from analysis.method import convergence_rule as rule
from analysis.method.parallel import run_tasks
from analysis.method.resampling import p_mcse

__all__ = ["CHOICES", "YEAR", "SCALES", "CORRECTIONS", "BLOCK", "Resolution", "Coding", "choices", "resolutions",
           "codings", "curve", "statistics", "joint_statistics", "spec_grid", "spec_arrays", "by_choice", "CurveResult"]

CHOICES = ("time", "comparison", "scale", "text_fields", "coder", "outcome", "correction")
YEAR = "founding year"
SCALES = ("share", "log-odds")
CORRECTIONS = ("on", "off")
#: permutations per Dask task (fixed, so the tasks and their seeds do not depend on the workers)
BLOCK = 250
#: the statistics of one specification kept for every permuted data set (:func:`statistics`)
GAP_SHARE, GAP_LO_RAW, GAP_LO_CORR, TOWARDS, LEVEL_GAP, SE_SHARE, SE_LO_RAW, SE_LO_CORR, SE_TOWARDS = range(9)
PERMUTED = 4  # the first four are all a permuted data set needs


@dataclass(frozen=True)
class Resolution:
    """How founding years enter the slopes: ``weights`` (Y, Q) puts each year of the table into
    one column (a year, or a cohort), whose time is ``t`` (Q,)."""

    name: str
    weights: np.ndarray
    t: np.ndarray


@dataclass(frozen=True)
class Coding:
    """One coded outcome: ``flags`` (0/1 per analysed firm; None when ``reason`` says why it
    could not be coded) and ``error`` (the measured sensitivity and false-positive rate, or None)."""

    text_fields: tuple
    coder: str
    outcome: str
    flags: np.ndarray | None
    error: tuple | None
    reason: str = ""


def _edges_name(edges) -> str:
    return ", ".join(str(int(e)) for e in edges)


def choices(text_fields: Sequence[str] = TEXT_FIELDS, coder: str = conv.DEFAULT_CODER,
            cohort_edges: Sequence[int] = COHORT_EDGES, coders: Sequence[str] | None = None) -> dict[str, list]:
    """The values of every choice, the primary specification's first.

    Parameters
    ----------
    text_fields, coder, cohort_edges
        The build's text fields, coder and cohort edges.
    coders : sequence of str, optional
        The coders crossed (default :data:`analysis.text.classify.CODERS`).

    Returns
    -------
    dict
        Choice name (:data:`CHOICES`) -> its values: ``time`` (:data:`YEAR`, then edge sets as
        tuples), ``comparison`` (comparison names), ``scale``, ``text_fields`` (tuples), ``coder``,
        ``outcome``, ``correction``.
    """
    # four edge sets: the build's, then the book's default and the alternatives it does not repeat
    candidates = [tuple(int(e) for e in cohort_edges), tuple(COHORT_EDGES), *(tuple(e) for e in conv.ALTERNATIVE_EDGES)]
    edges = list(dict.fromkeys(candidates))[:4]
    fields = [tuple(text_fields)] + [tuple(f) for f in conv.ALTERNATIVE_TEXT_FIELDS if tuple(f) != tuple(text_fields)]
    coder = coder or conv.DEFAULT_CODER
    all_coders = list(coders) if coders is not None else list(conv.CODERS)
    return {"time": [YEAR, *edges], "comparison": [c.name for c in rule.comparisons(np.ones(len(CITIES)))],
            "scale": list(SCALES), "text_fields": fields[:3], "coder": [coder] + [c for c in all_coders if c != coder],
            "outcome": list(conv.SHARE_MEASURES), "correction": list(CORRECTIONS)}


def resolutions(times: Sequence, first: int, last: int, window: tuple[int, int]) -> list[Resolution]:
    """The time resolutions of ``times`` (:data:`YEAR` or edge tuples) over a table of the years
    ``first..last``: :data:`YEAR` uses the years of ``window`` (inclusive), an edge set its cohorts.

    Parameters
    ----------
    times : sequence
        :data:`YEAR` and edge sets.
    first, last : int
        The first and the last year of the table.
    window : tuple of int
        The first and the last year of the founding-year resolution.

    Returns
    -------
    list of Resolution
        One per entry of ``times``.
    """
    years = np.arange(int(first), int(last) + 1)
    out = []
    for time in times:
        if time == YEAR:
            inside = (years >= window[0]) & (years <= window[1])
            w = np.eye(len(years))[:, inside]
            out.append(Resolution(YEAR, w, years[inside].astype(float)))
            continue
        e = np.asarray(time)
        w = np.stack([(years >= a) & (years < b) for a, b in zip(e[:-1], e[1:])], axis=1).astype(float)
        t = np.array([(years * w[:, q]).sum() / max(w[:, q].sum(), 1) for q in range(w.shape[1])])
        out.append(Resolution(_edges_name(e), w, t))
    return out


def codings(firms: pd.DataFrame, fields_list: Sequence[tuple], coders: Sequence[str], seed: int = DEFAULT_SEED,
            available: Sequence[str] | None = None) -> list[Coding]:
    """Every text-field set crossed with every coder and outcome: the flags of each firm of ``firms``
    and the coder's measured error (:func:`analysis.method.coder_error.for_corpus`).

    Parameters
    ----------
    firms : pandas.DataFrame
        The analysed firms (canonical corpus columns).
    fields_list : sequence of tuple
        The text-field sets.
    coders : sequence of str
        The coders.
    seed : int
        Seed of the supervised coder.
    available : sequence of str, optional
        The coders that can run here (default :func:`analysis.method.convergence.coders_available`).

    Returns
    -------
    list of Coding
        In the order fields x coder x outcome; without flags (and with a reason) where a field is
        missing from the corpus (``fields_absent``) or the coder has no training data (``no_training_data``).
    """
    available = tuple(available) if available is not None else conv.coders_available()
    out, check_sets = [], {}
    for fields, coder in itertools.product(fields_list, coders):
        missing = [f for f in fields if f not in firms.columns]
        reason = ("fields_absent" if missing else "no_training_data" if coder not in available
                  else "no_dated_firms" if firms.empty else "")
        flags, error = {}, None
        if not reason:  # the check sets' error does not depend on the text fields: measured once per coder
            flags = conv.share_flags(firms, list(fields), coder, seed)
            if coder not in check_sets:
                check_sets[coder] = coder_error.check_set_error(coder, seed)
            error = coder_error.sample_error(firms, coder, list(fields), seed) or check_sets[coder]
        for outcome in conv.SHARE_MEASURES:
            out.append(Coding(tuple(fields), coder, outcome, flags.get(outcome),
                              error[outcome].candidates()[0] if error is not None else None, reason))
    return out


def statistics(coded, firms, res: Sequence[Resolution], comps: Sequence[rule.Comparison], errors: Sequence) -> np.ndarray:
    """Every specification's statistics on tables of coded firms per city and year.

    Parameters
    ----------
    coded : numpy.ndarray
        Coded firms per city and year of F codings, (..., F, K, Y).
    firms : numpy.ndarray
        Firms per city and year, broadcastable to (..., 1, K, Y).
    res : sequence of Resolution
        The time resolutions.
    comps : sequence of Comparison
        The comparisons.
    errors : sequence
        Per coding, its (sensitivity, false-positive rate) or None.

    Returns
    -------
    numpy.ndarray
        (..., F, R, C, 9): per coding, resolution and comparison the gap's slope on the share
        scale, on the log-odds scale raw and corrected, the others' slope (share per year; not yet
        turned towards Beijing), the level gap, and the standard errors of the gap's three slopes
        and of the others' slope (module constants :data:`GAP_SHARE` ... :data:`SE_TOWARDS`); NaN
        for a resolution of fewer than :data:`analysis.method.convergence_rule.MIN_YEARS` columns.
    """
    x = np.asarray(coded, dtype=float)
    n = np.asarray(firms, dtype=float)
    out = np.full(x.shape[:-2] + (len(res), len(comps), 9), np.nan)
    for r, reso in enumerate(res):
        if reso.weights.shape[1] < rule.MIN_YEARS:  # no trend to tell from noise: the rule's ``few_years``
            continue
        xr, nr = x @ reso.weights, n @ reso.weights
        level, slope, se = rule.lpm_slopes(xr, nr, reso.t)
        _, lo_raw, lo_raw_se = rule.logodds_fit(xr, nr, reso.t)
        lo_corr, lo_corr_se = np.full_like(lo_raw, np.nan), np.full_like(lo_raw, np.nan)
        for f, e in enumerate(errors):
            if rule.separation(e) is not None:
                n_f = nr[..., 0, :, :]
                _, lo_corr[..., f, :], lo_corr_se[..., f, :] = rule.logodds_fit(
                    rule.corrected_counts(xr[..., f, :, :], n_f, e), n_f, reso.t)
        for c, comp in enumerate(comps):
            gap_slope, others_slope = rule.standardised(slope, comp)
            values = (gap_slope, rule.standardised(lo_raw, comp)[0], rule.standardised(lo_corr, comp)[0],
                      others_slope, rule.standardised(level, comp)[0], _pooled_se(se, comp), _pooled_se(lo_raw_se, comp),
                      _pooled_se(lo_corr_se, comp), _pooled_se(se, comp, with_beijing=False))
            for v, value in enumerate(values):
                out[..., r, c, v] = value
    return out


def _pooled_se(se, comp: rule.Comparison, with_beijing: bool = True):
    """The standard error of the standardised gap (or, without Beijing, of the others' weighted
    mean) from the cities' own standard errors (..., K): the cities' slopes are independent."""
    others = sum((w * se[..., k]) ** 2 for k, w in zip(comp.others, comp.weights))
    return np.sqrt(others + (se[..., 0] ** 2 if with_beijing else 0.0))


def _permutation_block(task) -> np.ndarray:
    """The statistics of ``size`` data sets whose founding years are permuted within every city
    (the flags of all codings shuffled together, firm by firm): (size, F, R, C, :data:`PERMUTED`)."""
    seed, size, flags, slots, cell, firms, res, comps, errors = task
    rng = np.random.default_rng(seed)
    idx = np.empty((size, flags.shape[1]), dtype=np.int64)
    for pos in slots:
        idx[:, pos] = rng.permuted(np.tile(pos, (size, 1)), axis=1)
    K, Y = firms.shape
    offsets = (np.arange(size)[:, None] * (K * Y) + cell[None, :]).ravel()
    x = np.stack([np.bincount(offsets, weights=f[idx].ravel(), minlength=size * K * Y).reshape(size, K, Y)
                  for f in flags], axis=1)
    return statistics(x, firms[None, None], res, comps, errors)[..., :PERMUTED]


def _rank_p(values: np.ndarray) -> np.ndarray:
    """Per data set (axis -2), the share of data sets whose statistic is at least as large: the
    observed data set's permutation p-value and every permuted data set's (NaN stays NaN)."""
    v = np.where(np.isnan(values), -np.inf, values)
    p = rankdata(-v, method="max", axis=-2) / v.shape[-2]
    return np.where(np.isnan(values), np.nan, p)


def joint_statistics(closing, towards, estimate, computable, share_scale, alpha: float = ALPHA) -> dict:
    """The joint test of a set of specifications from their statistics on the observed data set
    (index 0 of axis -2) and the permuted ones.

    Parameters
    ----------
    closing, towards : numpy.ndarray
        (..., S, n_spec): the gap's closing and the others' move towards Beijing, per data set and specification.
    estimate : numpy.ndarray
        (..., S, n_spec): the estimates whose median is tested (share points per year).
    computable : numpy.ndarray
        (..., n_spec) or (n_spec,) bool: the specifications counted (per batch element, or for all).
    share_scale : numpy.ndarray
        (n_spec,) bool: the specifications whose estimate enters the median.
    alpha : float
        The level at which a specification counts as significant.

    Returns
    -------
    dict
        ``p_spec`` (..., n_spec) the observed p of each specification (the larger of its two parts),
        ``median`` and ``share`` (..., S) the statistics per data set, ``p_median`` and ``p_share``
        (...) the joint test's p-values, ``n_perm`` (S - 1).
    """
    p = np.fmax(_rank_p(closing), _rank_p(towards))
    computable = np.asarray(computable, dtype=bool)[..., None, :]
    significant = (p < alpha) & computable
    share = significant.sum(axis=-1) / np.maximum(computable.sum(axis=-1), 1)
    use = computable & np.asarray(share_scale, dtype=bool)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a batch element with no usable specification: NaN
        median = np.nanmedian(np.where(use, estimate, np.nan), axis=-1)
    S = closing.shape[-2]
    with np.errstate(invalid="ignore"):
        p_median = (median >= median[..., :1] - 1e-12).sum(axis=-1) / S
        p_share = (share >= share[..., :1] - 1e-12).sum(axis=-1) / S
    return {"p_spec": p[..., 0, :], "median": median, "share": share, "p_median": p_median, "p_share": p_share,
            "n_perm": S - 1}


def spec_grid(ch: dict) -> pd.DataFrame:
    """Every specification of the choices ``ch`` (:func:`choices`), one row each, the primary first.

    Parameters
    ----------
    ch : dict
        Choice name -> values.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CHOICES` (time and text fields as text) and the integer positions ``r``
        (time), ``c`` (comparison), ``f`` (coding: fields x coder x outcome, as :func:`codings`).
    """
    rows = []
    n_coder, n_outcome = len(ch["coder"]), len(ch["outcome"])
    for values in itertools.product(*(range(len(ch[c])) for c in CHOICES)):
        r, c, s, fi, ci, oi, k = values
        rows.append({"time": YEAR if r == 0 else _edges_name(ch["time"][r]), "comparison": ch["comparison"][c],
                     "scale": ch["scale"][s], "text_fields": ", ".join(ch["text_fields"][fi]),
                     "coder": ch["coder"][ci], "outcome": ch["outcome"][oi], "correction": ch["correction"][k],
                     "r": r, "c": c, "f": (fi * n_coder + ci) * n_outcome + oi})
    return pd.DataFrame(rows)


def spec_arrays(stats: np.ndarray, grid: pd.DataFrame, separations: np.ndarray):
    """Per data set and specification, the closing of the gap on the specification's scale, the
    others' move towards Beijing and the estimate in its unit, from :func:`statistics` turned by
    the sign of the observed gap (data set 0).

    Parameters
    ----------
    stats : numpy.ndarray
        (..., S, F, R, C, 9) from :func:`statistics`, the observed data set first.
    grid : pandas.DataFrame
        The specifications (:func:`spec_grid`).
    separations : numpy.ndarray
        (F,) per coding, sensitivity minus false-positive rate (NaN: nothing to correct with).

    Returns
    -------
    closing, towards, estimate, se : numpy.ndarray
        (..., S, n_spec) the first three; ``se`` (..., n_spec) on the observed data set. Share-scale
        values are in points per year, divided by the separation where the correction is on.
    """
    f, r, c = (grid[k].to_numpy() for k in ("f", "r", "c"))
    share = (grid["scale"] == SCALES[0]).to_numpy()
    on = (grid["correction"] == CORRECTIONS[0]).to_numpy()
    gap_v = np.where(share, GAP_SHARE, np.where(on, GAP_LO_CORR, GAP_LO_RAW))
    se_v = np.where(share, SE_SHARE, np.where(on, SE_LO_CORR, SE_LO_RAW))
    sign = np.sign(stats[..., :1, f, r, c, LEVEL_GAP])
    scale = np.where(share, 100.0, 1.0) / np.where(on & share, separations[f], 1.0)
    closing = -sign * stats[..., f, r, c, gap_v]
    towards = sign * stats[..., f, r, c, TOWARDS]
    return closing, towards, closing * scale, stats[..., 0, f, r, c, se_v] * scale


@dataclass
class CurveResult:
    """The specification curve: ``table`` (one row per specification: the choices, estimate, lo,
    hi, unit, p, p_mcse, decision, reason, primary), ``test`` (the joint test: statistic, observed,
    p, p_mcse, n_perm, specifications), ``settings``."""

    table: pd.DataFrame
    test: pd.DataFrame
    settings: dict


def _dated(firms: pd.DataFrame, first: int, last: int):
    """City code and founding year of the firms of the three cities dated in ``first..last``;
    the rows kept."""
    city = firms["city"].astype("string").map({c: k for k, c in enumerate(CITIES)}).astype("Int64")
    year = pd.to_numeric(firms["founded_year"], errors="coerce")
    ok = (city.notna() & year.between(first, last)).to_numpy(dtype=bool, na_value=False)
    keep = np.flatnonzero(ok)
    return (city.to_numpy(dtype=float, na_value=np.nan)[keep].astype(int),
            year.to_numpy(dtype=float, na_value=np.nan)[keep].astype(int), keep)


def _reasons(grid, codes: list[Coding], x, n, res, comps, sign_obs, n_perm, alpha) -> np.ndarray:
    """Why each specification cannot be decided ("" where it can): the coding's reason, then
    ``no_correction`` (correction on, no error to correct with), then the rule's (:func:`rule.reasons`)."""
    out = np.full(len(grid), "", dtype=object)
    rule_reason = {}
    for i, (f, r, c) in enumerate(zip(grid["f"], grid["r"], grid["c"])):
        if codes[f].reason:
            out[i] = codes[f].reason
        elif grid["correction"].iat[i] == CORRECTIONS[0] and rule.separation(codes[f].error) is None:
            out[i] = "no_correction"
        else:
            if (f, r, c) not in rule_reason:
                rule_reason[(f, r, c)] = rule.reasons((x[f] @ res[r].weights)[None], (n @ res[r].weights)[None],
                                                      comps[c], np.array([sign_obs[i]]), n_perm, alpha)[0]
            out[i] = rule_reason[(f, r, c)]
    return out


def curve(firms: pd.DataFrame, *, text_fields: Sequence[str] = TEXT_FIELDS, coder: str = conv.DEFAULT_CODER,
          cohort_edges: Sequence[int] = COHORT_EDGES, seed: int = DEFAULT_SEED, alpha: float = ALPHA,
          margin: float = EQUIVALENCE_MARGIN, n_perm_joint: int = N_PERM_JOINT, ci_level: float = 0.95,
          progress: bool = False) -> CurveResult:
    """The specification curve and its joint test on a firm table (module docstring).

    Parameters
    ----------
    firms : pandas.DataFrame
        The corpus's firms (canonical columns; ``truth_*`` columns are ignored).
    text_fields, coder, cohort_edges
        The build's choices: they make the primary specification.
    seed : int
        Seeds the permutations (a task per :data:`BLOCK`, seeds spawned from it) and the supervised coder.
    alpha, margin : float
        The rule's level and equivalence margin (share points per year).
    n_perm_joint : int
        Joint permutations of founding years within cities.
    ci_level : float
        Level of each estimate's interval.
    progress : bool
        A progress bar over the permutation tasks.

    Returns
    -------
    CurveResult
        The table of specifications and the joint test.
    """
    ch = choices(text_fields, coder, cohort_edges)
    data = _observed(firms, ch, seed)
    res = resolutions(ch["time"], data.first, data.last, conv.year_window(cohort_edges))
    comps = rule.comparisons(data.n.sum(axis=1))
    errors = [c.error for c in data.codes]
    stats = _all_statistics(data, res, comps, errors, int(seed), int(n_perm_joint), progress)
    codes, x, n = data.codes, data.x, data.n
    grid = spec_grid(ch)
    seps = np.array([rule.separation(c.error) or np.nan for c in codes])
    closing, towards, estimate, se = spec_arrays(stats, grid, seps)
    reason = _reasons(grid, codes, x, n, res, comps, np.sign(stats[0, grid["f"], grid["r"], grid["c"], LEVEL_GAP]),
                      int(n_perm_joint), alpha)
    computable = reason == ""
    joint = joint_statistics(closing, towards, estimate, computable, (grid["scale"] == SCALES[0]).to_numpy(), alpha)
    on = (grid["correction"] == CORRECTIONS[0]).to_numpy()
    upper = (towards[0] + ndtri(1 - alpha) * stats[0, grid["f"], grid["r"], grid["c"], SE_TOWARDS]) \
        / np.where(on, seps[grid["f"]], 1.0)
    table = _table(grid, estimate[0], se, joint["p_spec"], reason, upper, ci_level, alpha, margin, int(n_perm_joint))
    test = _test_table(joint, computable, grid)
    return CurveResult(table, test, {"n_perm": int(n_perm_joint), "alpha": float(alpha), "margin": float(margin),
                                     "seed": int(seed), "choices": ch, "first": data.first, "last": data.last})


@dataclass(frozen=True)
class _Observed:
    """The analysed firms: each one's city, year cell (``cell``) and flags per coding; firms
    ``n`` and coded firms ``x`` per city and year of ``first..last``; the codings."""

    city: np.ndarray
    cell: np.ndarray
    flags: np.ndarray
    n: np.ndarray
    x: np.ndarray
    codes: list
    first: int
    last: int


def _observed(firms: pd.DataFrame, ch: dict, seed: int) -> _Observed:
    """The firms dated within every edge set's window, coded every way of ``ch``."""
    edge_sets = [e for e in ch["time"] if e != YEAR]
    first, last = min(e[0] for e in edge_sets), max(e[-1] for e in edge_sets) - 1
    city, year, keep = _dated(firms, first, last)
    plain = firms.loc[:, [c for c in firms.columns if not str(c).startswith("truth_")]].iloc[keep]
    codes = codings(plain, ch["text_fields"], ch["coder"], seed)
    K, Y = len(CITIES), last - first + 1
    cell = city * Y + (year - first)
    flags = np.stack([c.flags if c.flags is not None else np.zeros(len(keep)) for c in codes])
    n = np.bincount(cell, minlength=K * Y).reshape(K, Y).astype(float)
    x = np.stack([np.bincount(cell, weights=f, minlength=K * Y).reshape(K, Y) for f in flags])
    return _Observed(city, cell, flags, n, x, codes, first, last)


def _all_statistics(data: _Observed, res, comps, errors, seed: int, n_perm: int, progress: bool) -> np.ndarray:
    """:func:`statistics` of the observed data set, then of ``n_perm`` permuted ones (blocks of
    :data:`BLOCK` on :func:`analysis.method.parallel.run_tasks`, each seeded from ``seed``):
    (1 + n_perm, F, R, C, 9), the standard errors those of the observed data set."""
    observed = statistics(data.x[None], data.n[None, None], res, comps, errors)
    sizes = [min(BLOCK, n_perm - b) for b in range(0, n_perm, BLOCK)]
    seeds = np.random.SeedSequence([seed, SEED_SALT]).spawn(len(sizes))
    slots = [np.flatnonzero(data.city == k) for k in range(len(CITIES))]
    blocks = run_tasks(_permutation_block, [(s, size, data.flags, slots, data.cell, data.n, res, comps, errors)
                                            for s, size in zip(seeds, sizes)], name="specification-curve",
                       progress=progress)
    stats = np.concatenate([observed[..., :PERMUTED], *blocks], axis=0)
    return np.concatenate([stats, np.broadcast_to(observed[..., PERMUTED:], stats.shape[:-1] + (5,))], axis=-1)


#: mixed into the build seed so that the curve's permutations are not the verdict's (entropy of a SeedSequence)
SEED_SALT = 0x5C0


UNITS = {"share": rule.UNIT, "log-odds": "log-odds per year"}
TABLE_COLUMNS = [*CHOICES, "estimate", "lo", "hi", "unit", "p", "p_mcse", "decision", "reason", "primary"]


def _table(grid, estimate, se, p, reason, upper, ci_level, alpha, margin, n_perm) -> pd.DataFrame:
    """The curve's table: each specification's estimate, interval, p and decision under the rule."""
    z = ndtri(1 - (1 - ci_level) / 2)
    computable = reason == ""
    est = np.where(computable, estimate, np.nan)
    p = np.where(computable, p, np.nan)
    mcse = p_mcse(p, n_perm)
    decided, why = rule.decision(reason, p, mcse, upper, alpha=alpha, margin=margin, stability=True)
    out = grid[list(CHOICES)].copy()
    out["estimate"], out["lo"], out["hi"] = est, est - z * se, est + z * se
    out["unit"] = out["scale"].map(UNITS)
    out["p"], out["p_mcse"] = p, mcse
    out["decision"], out["reason"] = decided, why
    out["primary"] = np.arange(len(out)) == 0
    return out[TABLE_COLUMNS]


def _test_table(joint: dict, computable: np.ndarray, grid: pd.DataFrame) -> pd.DataFrame:
    """The joint test's two rows: the median estimate and the share significant, each with its
    observed value, the median of its permutation distribution, p and Monte Carlo error."""
    share_scale = computable & (grid["scale"] == SCALES[0]).to_numpy()
    rows = []
    for statistic, key, n_spec in (("median estimate", "median", int(share_scale.sum())),
                                   ("share significant", "share", int(computable.sum()))):
        p = float(joint["p_" + key])
        rows.append({"statistic": statistic, "observed": float(joint[key][0]),
                     "null_median": float(np.median(joint[key][1:])) if joint["n_perm"] else np.nan,
                     "p": p, "p_mcse": float(p_mcse(p, joint["n_perm"])), "n_perm": int(joint["n_perm"]),
                     "specifications": n_spec})
    return pd.DataFrame(rows)


def by_choice(table: pd.DataFrame) -> pd.DataFrame:
    """How the specifications decided, per value of each choice.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`CurveResult.table`.

    Returns
    -------
    pandas.DataFrame
        One row per choice and value: specifications, how many support convergence, rule it out,
        are inconclusive (of them, for a stated reason), and the median share-scale estimate.
    """
    rows = []
    for choice in CHOICES:
        for value, part in table.groupby(choice, sort=False):
            share = part.loc[part["scale"] == SCALES[0], "estimate"].dropna()
            rows.append({"choice": choice, "value": value, "specifications": len(part),
                         "supports": int((part["decision"] == rule.SUPPORTS).sum()),
                         "rules_out": int((part["decision"] == rule.RULES_OUT).sum()),
                         "inconclusive": int((part["decision"] == rule.INCONCLUSIVE).sum()),
                         "with_reason": int((part["reason"] != "").sum()),
                         "median_estimate": float(share.median()) if len(share) else np.nan})
    return pd.DataFrame(rows)
