"""The convergence verdict's decision rule: do Shanghai and Shenzhen move towards Beijing?

The brief claims that the other two cities move towards Beijing's model.
A gap to Beijing that closes is not enough: it also closes when Beijing alone moves, and on the
share scale when all three cities drift together on the log-odds scale.  This module tests the
claim itself, on a table of firms and coded firms per city and founding year (see
:func:`year_table`), with founding year as a number: every dated firm counts once, slopes are
per year, and cohorts play no part (they are for display, in :mod:`analysis.method.convergence`).

Estimates
    For each city, the least-squares slope of "coded public" (0/1) on founding year (a linear
    probability model; share points per year) and, on the log-odds scale, the slope of a
    logistic regression on founding year (:func:`logodds_slopes`).  The others are *directly
    standardised*: their slope is the weighted mean of the cities' own slopes with fixed weights
    (by default each city's share of the other cities' dated firms), so a shift in the
    Shanghai:Shenzhen mix over the years moves no estimate.  The gap to Beijing is Beijing's
    level minus the others' standardised level; it closes when its slope has the sign opposite
    to the gap.

The rule (each part one-sided at ``alpha``; an intersection-union test, so the decision's
p-value is the largest of the three)
    (a) the gap closes, on the share scale **and** on the log-odds scale: the slope of the gap
        against permutations of founding years within every city (the null "no city changes");
    (b) the others' own share moves towards Beijing's level: their standardised slope against
        permutations of founding years within the other cities only (the null "the others'
        share does not change with founding year", whatever Beijing does).
    ``supports convergence`` when all hold (and the largest p lies more than two Monte Carlo
    standard errors from alpha).  ``rules out convergence`` when the others' move towards
    Beijing is shown to be smaller than ``margin`` share points per year: the upper end of its
    one-sided (1 - alpha) interval (robust standard error, normal quantile) lies below the
    margin.  Otherwise ``inconclusive``, with a reason when a part could not run.

The coder's error
    A coder that puts a share ``fpr`` of the firms outside the category into it, and finds a
    share ``sensitivity`` of those inside, codes a share ``fpr + (sensitivity - fpr) p`` of
    firms whose true share is ``p``. On the share scale this only shrinks every slope by the same
    factor, which no sign test notices; on the log-odds scale it bends the curve (a drift that is
    parallel on the true log-odds is not parallel on the coded one). Given ``error`` (the two
    rates as measured), the log-odds part is therefore computed on the counts corrected cell by
    cell (:func:`corrected_counts`), and the equivalence bound of "rules out" on the corrected
    scale (divided by ``sensitivity - fpr``). The rates are measured, not known: given several
    pairs (the measured one first, then the ends of their intervals), the log-odds part must
    hold under each correction (its p-value is the largest).

Everything is vectorised over a leading batch of tables, so the simulation study of
:mod:`analysis.method.validation` runs this very function on thousands of simulated tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, ndtri

from analysis.defaults import ALPHA, CITIES, EQUIVALENCE_MARGIN, N_PERM_SHARES
from analysis.method.resampling import p_mcse, permuted_counts_batch

__all__ = ["SUPPORTS", "RULES_OUT", "INCONCLUSIVE", "DECISIONS", "DEFAULT_MARGIN", "UNIT", "Comparison",
           "comparisons", "year_table", "lpm_slopes", "logodds_slopes", "logodds_fit", "standardised", "p_one_sided",
           "reasons", "decision", "decide", "planted_slopes"]

SUPPORTS, RULES_OUT, INCONCLUSIVE = "supports convergence", "rules out convergence", "inconclusive"
DECISIONS = (SUPPORTS, RULES_OUT, INCONCLUSIVE)
# Equivalence margin in share points per year: half the others' move under full planted
# convergence (the simulator's profiles over 2014-2022 at the brief's city sizes: 6.1 points a
# year, standardised), rounded down (data/analysis_plan.md, entry 15).
DEFAULT_MARGIN = EQUIVALENCE_MARGIN
UNIT = "share points per year"
MIN_YEARS = 3  # fewer distinct founding years cannot tell a trend from noise
NEWTON_STEPS = 5  # from the one-step start: within 1e-6 of the converged slope on the study's worlds


@dataclass(frozen=True)
class Comparison:
    """Beijing against ``others`` (indices into CITIES) weighted by ``weights`` (summing to 1)."""

    name: str
    others: tuple[int, ...]
    weights: tuple[float, ...]


def comparisons(n_dated) -> list[Comparison]:
    """The pooled comparison (Beijing against Shanghai and Shenzhen, standardised with each
    city's share of the other cities' dated firms as fixed weights; equal weights when neither
    has any) and each city alone.

    Parameters
    ----------
    n_dated : array_like
        (K,) dated firms per city, in the order of CITIES.

    Returns
    -------
    list of Comparison
        The pooled comparison first, then Beijing against each other city (weight 1).
    """
    n = np.asarray(n_dated, dtype=float)
    others = tuple(range(1, len(CITIES)))
    tot = n[list(others)].sum()
    w = tuple(float(n[k] / tot) if tot > 0 else 1.0 / len(others) for k in others)
    pooled = Comparison("Beijing − " + "+".join(CITIES[k] for k in others), others, w)
    return [pooled] + [Comparison(f"Beijing − {CITIES[k]}", (k,), (1.0,)) for k in others]


def year_table(city_codes, years, flags, first: int, last: int):
    """Firms and coded firms per city and founding year, for the years ``first..last``
    (inclusive).

    Parameters
    ----------
    city_codes : array_like
        Per firm, an index into CITIES (negative: left out).
    years : array_like
        Per firm, the founding year; a firm whose year is missing or outside the range is left out.
    flags : array_like
        Per firm, 1 when coded, else 0.
    first, last : int
        The first and the last founding year of the table.

    Returns
    -------
    n, x : numpy.ndarray
        Firms and coded firms, (K, Y).
    t : numpy.ndarray
        The years, (Y,).
    """
    c = np.asarray(city_codes)
    yr = np.asarray(years, dtype=float)
    f = np.asarray(flags, dtype=float)
    t = np.arange(int(first), int(last) + 1)
    ok = (c >= 0) & ~np.isnan(yr) & (yr >= first) & (yr <= last)
    idx = c[ok].astype(int) * len(t) + (yr[ok].astype(int) - int(first))
    K, Y = len(CITIES), len(t)
    n = np.bincount(idx, minlength=K * Y).reshape(K, Y)
    x = np.bincount(idx, weights=f[ok], minlength=K * Y).reshape(K, Y)
    return n, x, t


#: sensitivity - false-positive rate below this: the coder barely tells the classes apart and
#: nothing is corrected (the correction divides by it)
MIN_SEPARATION = 0.05


def separation(error) -> float | None:
    """``sensitivity - false-positive rate`` of ``error`` (a pair), or None when there is no
    error to correct for or the coder barely separates the classes.

    Parameters
    ----------
    error : tuple of float or None
        (sensitivity, false-positive rate) of the coder.

    Returns
    -------
    float or None
        The separation; None without ``error`` or below :data:`MIN_SEPARATION`.
    """
    if error is None:
        return None
    sep = float(error[0]) - float(error[1])
    return sep if sep >= MIN_SEPARATION else None


def corrected_counts(coded, firms, error):
    """Coded counts corrected for the coder's error cell by cell: the Rogan–Gladen estimator
    clipped to [0, firms].

    Parameters
    ----------
    coded, firms : array_like
        Coded firms and firms per cell (same shape, or broadcastable).
    error : tuple of float or None
        (sensitivity, false-positive rate) of the coder.

    Returns
    -------
    numpy.ndarray
        The corrected counts; ``coded`` itself when there is nothing to correct
        (:func:`separation`).
    """
    sep = separation(error)
    if sep is None:
        return coded
    n = np.asarray(firms, dtype=float)
    return np.clip((np.asarray(coded, dtype=float) - float(error[1]) * n) / sep, 0.0, n)


def _centred(firms, years):
    """Firms ``n``, their total ``N`` per city and the years ``d`` centred on each city's mean."""
    n, t = np.asarray(firms, dtype=float), years  # the paper's notation: n firms, t founding years
    N = n.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        tbar = (n * t).sum(axis=-1) / N
    d = t - tbar[..., None]
    return n, N, d


def lpm_slopes(coded, firms, years):
    """Per city, the linear-probability model of the code on founding year.

    Parameters
    ----------
    coded, firms : array_like
        Coded firms and firms per city and founding year, tables (..., K, Y).
    years : array_like
        The founding years (Y,).

    Returns
    -------
    level, slope, se : numpy.ndarray
        Per city (..., K): the level (share coded), the OLS slope of the 0/1 code on founding
        year (per year) and its heteroscedasticity-robust standard error (HC1), never below the
        binomial one at the city's smoothed share (x + 0.5) / (N + 1).  NaN where a city has
        fewer than two distinct years.
    """
    # the paper's notation: x coded firms, n firms, d centred years, N firms per city
    x = np.asarray(coded, dtype=float)
    n, N, d = _centred(firms, years)
    with np.errstate(invalid="ignore", divide="ignore"):
        sxx = (n * d * d).sum(axis=-1)
        level = x.sum(axis=-1) / N
        slope = np.where(sxx > 0, (x * d).sum(axis=-1) / np.where(sxx > 0, sxx, 1), np.nan)
        fit = level[..., None] + slope[..., None] * d
        rss = d * d * (x * (1 - fit) ** 2 + (n - x) * fit ** 2)
        var = rss.sum(axis=-1) / sxx ** 2 * N / np.maximum(N - 2, 1)
        # never below the binomial variance at the smoothed share: a city whose few firms are all
        # coded alike has a robust variance of 0, which would make any bound look certain
        smooth = (x.sum(axis=-1) + 0.5) / (N + 1)
        var = np.maximum(var, smooth * (1 - smooth) / sxx)
    return level, slope, np.sqrt(var)


def logodds_slopes(coded, firms, years, steps: int = NEWTON_STEPS):
    """Per city, a logistic regression of the code on founding year (:func:`logodds_fit`
    without the standard error).

    Parameters
    ----------
    coded, firms : array_like
        Coded firms and firms per city and founding year, tables (..., K, Y).
    years : array_like
        The founding years (Y,).
    steps : int
        Newton steps after the one-step start.

    Returns
    -------
    level, slope : numpy.ndarray
        Per city (..., K): the intercept at the city's mean year and the slope (log-odds per
        year; NaN where a city has fewer than two distinct years).
    """
    level, slope, _ = logodds_fit(coded, firms, years, steps)
    return level, slope


def logodds_fit(coded, firms, years, steps: int = NEWTON_STEPS):
    """Per city, a logistic regression of the code on founding year, with the slope's standard error.

    Fitted by Newton's method on the counts with half a coded and half an uncoded pseudo-firm
    spread over each city's years in proportion to its firms (so a city whose firms are all
    coded, or none, or separated by year, still has a finite slope).  The iterations start from
    the one-step estimate (the linear-probability slope over p(1 - p)).

    Parameters
    ----------
    coded, firms : array_like
        Coded firms and firms per city and founding year, tables (..., K, Y).
    years : array_like
        The founding years (Y,).
    steps : int
        Newton steps after the one-step start.

    Returns
    -------
    level, slope, se : numpy.ndarray
        Per city (..., K): the intercept at the city's mean year, the slope (log-odds per year)
        and its standard error from the Fisher information at the fit (NaN where a city has
        fewer than two distinct years).
    """
    # the paper's notation: x coded firms, n firms, d centred years, N firms per city
    x = np.asarray(coded, dtype=float)
    n, N, d = _centred(firms, years)
    x, n, d = np.broadcast_arrays(x, n, d)
    # years first: the sums over years are then sums of contiguous slabs (much faster than
    # reducing a short last axis)
    x, n, d = (np.ascontiguousarray(np.moveaxis(v, -1, 0)) for v in (x, n, d))
    with np.errstate(invalid="ignore", divide="ignore"):
        spread = np.where(N > 0, n / np.where(N > 0, N, 1), 0.0)
        xs, ns = x + 0.5 * spread, n + spread
        nd = ns * d
        ndd = nd * d
        p0 = xs.sum(axis=0) / ns.sum(axis=0)
        a = np.log(p0) - np.log1p(-p0)
        sxx = ndd.sum(axis=0)
        b = np.clip((xs * d).sum(axis=0) / np.where(sxx > 0, sxx, 1) / (p0 * (1 - p0)), -1, 1)
        for _ in range(steps + 1):  # the last pass only evaluates the information at the fit
            mu = expit(a + b * d)
            v = mu * (1 - mu)
            r = xs - ns * mu
            u0, u1 = r.sum(axis=0), (r * d).sum(axis=0)
            i00, i01, i11 = (ns * v).sum(axis=0), (nd * v).sum(axis=0), (ndd * v).sum(axis=0)
            det = i00 * i11 - i01 * i01
            ok = det > 1e-12
            safe = np.where(ok, det, 1)
            if _ == steps:
                break
            a = a + np.clip(np.where(ok, (i11 * u0 - i01 * u1) / safe, 0.0), -5, 5)
            b = b + np.clip(np.where(ok, (i00 * u1 - i01 * u0) / safe, 0.0), -1, 1)
        se = np.where(ok & (sxx > 0), np.sqrt(np.abs(i00 / safe)), np.nan)
    return a, np.where(sxx > 0, b, np.nan), se


def standardised(values, comp: Comparison):
    """Beijing's value minus the others' weighted mean, and the others' weighted mean, for
    per-city values.

    Parameters
    ----------
    values : array_like
        Per-city values (..., K), in the order of CITIES (Beijing first).
    comp : Comparison
        The other cities and their weights.

    Returns
    -------
    gap, others : numpy.ndarray
        (...): Beijing's value minus the others' weighted mean; the others' weighted mean.
    """
    v = np.asarray(values, dtype=float)
    others = sum(w * v[..., k] for k, w in zip(comp.others, comp.weights))
    return v[..., 0] - others, others


def p_one_sided(observed, permuted):
    """One-sided permutation p-values: (1 + #{permuted >= observed}) / (1 + P) along the last axis.

    Parameters
    ----------
    observed : array_like
        The observed statistics (...).
    permuted : array_like
        Their permutation distributions (..., P); NaN draws are left out.

    Returns
    -------
    numpy.ndarray
        (...): the p-values, NaN where ``observed`` is NaN or no draw is valid.
    """
    obs = np.asarray(observed, dtype=float)
    perm = np.asarray(permuted, dtype=float)
    tol = 1e-12 * np.maximum(1.0, np.abs(obs))
    with np.errstate(invalid="ignore"):
        hits = np.where(np.isnan(perm), False, perm >= (obs - tol)[..., None]).sum(axis=-1)
    valid = (~np.isnan(perm)).sum(axis=-1)
    return np.where(np.isnan(obs) | (valid == 0), np.nan, (1 + hits) / (1 + valid))


def reasons(coded, firms, comp: Comparison, sign, n_perm: int, alpha: float) -> np.ndarray:
    """Why a comparison cannot be decided, per table: the first of no dated firm, no Beijing
    firm, no firm of the other cities, fewer than :data:`MIN_YEARS` founding years among the
    compared cities, a compared city founded in one year only, every compared firm coded alike,
    no gap, and no or too few permutations.

    Parameters
    ----------
    coded, firms : numpy.ndarray
        Coded firms and firms per city and founding year (or cohort), (B, K, Y).
    comp : Comparison
        The comparison.
    sign : numpy.ndarray
        (B,): the sign of the gap (0: no gap).
    n_perm : int
        The permutations the test draws.
    alpha : float
        The test's level.

    Returns
    -------
    numpy.ndarray
        (B,) object array: the reason's code, ``""`` where the comparison can be decided.
    """
    x, n = coded, firms  # the paper's notation: x coded firms, n firms, tables (B, K, Y)
    B = x.shape[0]
    cities = [0, *comp.others]
    n_coded = x[:, cities].sum(axis=(1, 2))
    n_all = n[:, cities].sum(axis=(1, 2))
    checks = [
        (n.sum(axis=(1, 2)) == 0, "no_dated_firms"),
        (n[:, 0].sum(axis=-1) == 0, "no_beijing"),
        (n[:, list(comp.others)].sum(axis=(1, 2)) == 0, "no_other_city"),
        ((n[:, cities].sum(axis=1) > 0).sum(axis=-1) < MIN_YEARS, "few_years"),
        (((n[:, cities] > 0).sum(axis=-1) < 2).any(axis=1), "one_year_city"),
        ((n_coded == 0) | (n_coded == n_all), "no_variation"),
        (sign == 0, "no_gap"),
        (np.full(B, not n_perm), "no_permutations"),
        (np.full(B, bool(n_perm) and 1.0 / (1 + n_perm) >= alpha), "too_few_permutations"),
    ]
    reason = np.full(B, "", dtype=object)
    for cond, code in reversed(checks):  # the first that holds wins
        reason = np.where(cond, code, reason)
    return reason


@dataclass(frozen=True)
class _Fit:
    """What :func:`decide` estimates once for every comparison, per table and city: the
    linear-probability ``level``, ``slope`` and ``se``, the log-odds slopes under each of the
    coder's ``errors`` (``lo_slopes``), and ``shrink``, the factor by which the coder's error
    shrinks a slope (1 without)."""

    level: np.ndarray
    slope: np.ndarray
    se: np.ndarray
    lo_slopes: list
    errors: list
    shrink: float


def _error_candidates(error) -> list:
    """``decide``'s ``error`` as a list of (sensitivity, false-positive rate) pairs, the measured
    one first; ``[None]`` without an error."""
    return [None] if error is None else ([error] if np.isscalar(error[0]) else list(error))


def _permuted_slopes(coded, firms, years, n_perm: int, rng):
    """Coded counts with founding years permuted within every city, (B, P, K, Y), and the
    cities' slopes on them, (B, P, K)."""
    x, n, t = coded, firms, years  # the paper's notation
    rng = rng if rng is not None else np.random.default_rng()
    px = permuted_counts_batch(np.rint(x.sum(axis=-1)).astype(np.int64), n, int(n_perm), rng)  # (B, P, K, Y)
    _, pslope, _ = lpm_slopes(px, n[:, None], t)
    return px, pslope


def _logodds_p(permuted, firms, years, comp: Comparison, sign, gaps_lo, errors, todo, alpha: float, complete: bool):
    """p-value of the log-odds part (a), per table, from the ``permuted`` coded counts (B, P, K, Y):
    under every correction of ``errors`` the largest; NaN for the tables not in ``todo`` (and,
    with ``complete=False``, for those a previous correction already failed)."""
    px, n, t = permuted, firms, years  # the paper's notation
    p_gap_lo = np.full(len(sign), np.nan)
    cities = [0, *comp.others]
    if len(todo):
        sub_n = n[todo][:, None][..., cities, :]
        sub = Comparison(comp.name, tuple(range(1, len(cities))), comp.weights)
        # under every correction the largest p; the largest corrections (smallest separation)
        # first, as they fail most often and so end the loop soonest (complete=False)
        by_size = sorted(range(len(errors)), key=lambda i: separation(errors[i]) or np.inf)
        for e, g in ((errors[i], gaps_lo[i]) for i in by_size):
            _, plo = logodds_slopes(corrected_counts(px[todo][..., cities, :], sub_n, e), sub_n, t)
            pgl, _ = standardised(plo, sub)
            p_gap_lo[todo] = np.fmax(p_gap_lo[todo],
                                     p_one_sided(-sign[todo] * g[todo], -sign[todo, None] * pgl))
            if not complete:  # the next correction matters only where this part still rejects
                keep = p_gap_lo[todo] < alpha
                todo, sub_n = todo[keep], sub_n[keep]
                if not len(todo):
                    break
    return p_gap_lo


def decision(reason, p_value, mcse, upper, *, alpha: float, margin: float, stability: bool):
    """The rule's decision per table from its parts.

    Parameters
    ----------
    reason : numpy.ndarray
        Object array: why a table cannot be decided (:func:`reasons`; ``""`` where it can).
    p_value, mcse : numpy.ndarray
        The largest p-value of the parts and its Monte Carlo standard error.
    upper : numpy.ndarray
        The upper end of the others' move towards Beijing, share per year (a fraction, not points).
    alpha, margin : float
        The level, and the equivalence margin in share points per year.
    stability : bool
        Whether a p-value within two Monte Carlo standard errors of alpha is inconclusive.

    Returns
    -------
    decision, reason : numpy.ndarray
        Object arrays: :data:`SUPPORTS`, :data:`RULES_OUT` or :data:`INCONCLUSIVE`; the reasons,
        with ``unstable`` where ``stability`` made a decision inconclusive.
    """
    clean = reason == ""
    rejected = clean & (p_value < alpha)
    if stability:
        unstable = clean & (np.abs(p_value - alpha) <= 2 * mcse)
        reason = np.where(unstable, "unstable", reason)
        rejected &= ~unstable
    ruled_out = (reason == "") & ~rejected & (upper < margin / 100)
    decided = np.where(rejected, SUPPORTS, np.where(ruled_out, RULES_OUT, INCONCLUSIVE)).astype(object)
    return decided, reason


def _decide_comparison(coded, firms, years, comp: Comparison, fit: _Fit, perm, *, alpha: float, margin: float,
                       n_perm: int, stability: bool, complete: bool) -> dict[str, np.ndarray]:
    """:func:`decide` for one comparison of the tables ``coded``, ``firms`` (B, K, Y): ``fit`` the
    per-city estimates, ``perm`` the permuted counts and slopes (:func:`_permuted_slopes`; None
    without permutations)."""
    x, n, t = coded, firms, years  # the paper's notation
    B = x.shape[0]
    gap, _ = standardised(fit.level, comp)
    sign = np.sign(gap)  # > 0: Beijing above the others; closing = gap slope < 0, others' slope > 0
    gap_slope, others_slope = standardised(fit.slope, comp)
    gaps_lo = [standardised(s, comp)[0] for s in fit.lo_slopes]
    others_se = np.sqrt(sum((w * fit.se[:, k]) ** 2 for k, w in zip(comp.others, comp.weights)))
    towards = sign * others_slope
    upper = (towards + ndtri(1 - alpha) * others_se) / fit.shrink
    p_gap, p_gap_lo, p_oth = np.full(B, np.nan), np.full(B, np.nan), np.full(B, np.nan)
    if perm is not None:
        px, pslope = perm
        pg, po = standardised(pslope, comp)
        p_gap = p_one_sided(-sign * gap_slope, -sign[:, None] * pg)
        p_oth = p_one_sided(towards, sign[:, None] * po)
        # the log-odds part: for every table, or (complete=False) only where it can still decide
        todo = np.arange(B) if complete else np.flatnonzero(np.fmax(p_gap, p_oth) < alpha)
        p_gap_lo = _logodds_p(px, n, t, comp, sign, gaps_lo, fit.errors, todo, alpha, complete)
    p = np.fmax(np.fmax(p_gap, p_gap_lo), p_oth)  # fmax: a part not run (complete=False) cannot decide
    p = np.where(np.isnan(p_gap) | np.isnan(p_oth), np.nan, p)
    mc = p_mcse(p, int(n_perm)) if n_perm else np.full(B, np.nan)
    decided, reason = decision(reasons(x, n, comp, sign, n_perm, alpha), p, mc, upper, alpha=alpha,
                                 margin=margin, stability=stability and perm is not None)
    return {
        "gap": gap, "estimate": 100 * gap_slope, "estimate_logodds": gaps_lo[0], "others": 100 * towards,
        "others_se": 100 * others_se, "others_upper": 100 * upper, "beijing": 100 * fit.slope[:, 0],
        "p_gap": p_gap, "p_gap_logodds": p_gap_lo, "p_others": p_oth, "p": p, "p_mcse": mc,
        "decision": decided, "reason": reason.astype(object),
    }


def decide(coded, firms, years, *, alpha: float = ALPHA, margin: float = DEFAULT_MARGIN, n_perm: int = N_PERM_SHARES,
           rng=None, comps: list[Comparison] | None = None, stability: bool = True,
           complete: bool = True, error=None) -> dict[str, dict[str, np.ndarray]]:
    """The rule (module docstring) for a batch of tables of coded firms and firms.

    Parameters
    ----------
    coded, firms : array_like
        Coded firms and firms per city and founding year, (B, K, Y) or one table (K, Y).
    years : array_like
        The founding years (Y,).
    alpha, margin : float
        Level of each one-sided part; equivalence margin, share points per year.
    n_perm : int
        Permutations of founding years within cities (0: no test).
    rng : numpy.random.Generator, optional
        Draws the permutations (a fresh generator when None).
    comps : list of Comparison, optional
        The comparisons; default :func:`comparisons` of the firms.
    stability : bool
        False skips the rule that a p-value within two Monte Carlo standard errors of alpha is
        inconclusive (the simulation study, whose p-values use few permutations).
    complete : bool
        False permutes the log-odds part only for the tables whose other two parts reject (the
        decision is the same; ``p_gap_logodds`` is NaN for the others).
    error : tuple or list of tuple, optional
        (sensitivity, false-positive rate) as measured, or a list of such pairs (the measured
        one first): corrects the log-odds part and the equivalence bound for the coder's error.

    Returns
    -------
    dict
        Per comparison name, arrays over the batch (scalars for one table): ``gap``
        (standardised level gap, share), ``estimate`` (the gap's slope, share points per year),
        ``estimate_logodds``, ``others`` (the others' standardised slope, points per year,
        positive = towards Beijing), ``others_se``, ``others_upper`` (upper end of its one-sided
        interval; on the corrected scale with ``error``), ``beijing`` (Beijing's slope),
        ``p_gap``, ``p_gap_logodds``, ``p_others``, ``p`` (the largest), ``p_mcse``,
        ``decision`` and ``reason`` (object arrays).
    """
    # the paper's notation: x coded firms, n firms, t founding years, tables (B, K, Y)
    x = np.asarray(coded, dtype=float)
    n = np.asarray(firms, dtype=np.int64)
    single = x.ndim == 2
    if single:
        x, n = x[None], n[None]
    _tables, _cities, _years = x.shape  # (B, K, Y): any other shape stops here
    t = np.asarray(years, dtype=float)
    comps = comps or comparisons(n.sum(axis=(0, 2)) if single else n.sum(axis=2).mean(axis=0))
    level, slope, se = lpm_slopes(x, n, t)
    errors = _error_candidates(error)
    lo_slopes = [logodds_slopes(corrected_counts(x, n, e), n, t)[1] for e in errors]
    shrink = separation(errors[0]) or 1.0  # coded slopes are the true ones times this
    fit = _Fit(level, slope, se, lo_slopes, errors, shrink)
    perm = _permuted_slopes(x, n, t, n_perm, rng) if n_perm else None
    out = {comp.name: _decide_comparison(x, n, t, comp, fit, perm, alpha=alpha, margin=margin, n_perm=n_perm,
                                         stability=stability, complete=complete) for comp in comps}
    if single:
        out = {k: {m: v[0] for m, v in d.items()} for k, d in out.items()}
    return out


def planted_slopes(firms, prob, t, comps: list[Comparison] | None = None) -> dict[str, dict[str, float]]:
    """The planted truth of a world in the rule's terms, from expected firms and public-customer
    probabilities per city and year (:func:`analysis.data.simulate.planted_public_table`).

    Parameters
    ----------
    firms, prob : array_like
        Expected firms and public-customer probabilities per city and founding year, (K, Y).
    t : array_like
        The founding years, (Y,).
    comps : list of Comparison, optional
        The comparisons (None: :func:`comparisons` of the firms).

    Returns
    -------
    dict
        Per comparison name: ``gap`` (the standardised level gap, share), ``estimate`` (the gap's
        slope) and ``others`` (the others' standardised move towards Beijing), in share points per
        year, and ``estimate_logodds`` (the gap's slope on the log-odds scale, per year).
    """
    firms = np.asarray(firms, dtype=float)
    prob = np.asarray(prob, dtype=float)
    comps = comps or comparisons(firms.sum(axis=1))
    level, slope, _ = lpm_slopes(firms * prob, firms, t)
    # the population logistic slope: weighted least squares of the log-odds on year
    pc = np.clip(prob, 1e-6, 1 - 1e-6)  # a probability planted at 0 or 1 (the largest drift) stays finite
    z = np.log(pc) - np.log1p(-pc)
    _, N, d = _centred(firms, t)
    wts = firms * pc * (1 - pc)
    with np.errstate(invalid="ignore", divide="ignore"):
        zc = z - (wts * z).sum(axis=-1, keepdims=True) / wts.sum(axis=-1, keepdims=True)
        dw = d - (wts * d).sum(axis=-1, keepdims=True) / wts.sum(axis=-1, keepdims=True)
        lo_slope = (wts * dw * zc).sum(axis=-1) / (wts * dw * dw).sum(axis=-1)
    out = {}
    for comp in comps:
        gap, _ = standardised(level, comp)
        gs, os_ = standardised(slope, comp)
        gl, _ = standardised(lo_slope, comp)
        out[comp.name] = {"gap": float(gap), "estimate": float(100 * gs), "others": float(100 * np.sign(gap) * os_),
                          "estimate_logodds": float(gl)}
    return out
