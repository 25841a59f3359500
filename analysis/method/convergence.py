"""Convergence (DESIGN §6): do Shanghai and Shenzhen move towards Beijing?

The brief claims that blockchain firms in Shanghai and Shenzhen increasingly describe
themselves the way Beijing firms do.  This module measures that from the text and the coder's
labels only (:func:`analyse` drops ``truth_*`` columns on entry) and returns numbers and codes;
the words a reader sees are made from them in :mod:`analysis.present.convergence_prose`.

Share measures (``public_share``, the primary one, and ``infrastructure_share``)
    Share of a city's firms coded ``customer == "public"`` / ``application == "infrastructure"``.
    They are decided by :mod:`analysis.method.convergence_rule` on every dated firm with founding year
    as a number: slopes in share points per year, Shanghai and Shenzhen pooled by direct
    standardisation, an intersection-union test (the gap closes on the share and the log-odds
    scale; the others' own share moves towards Beijing's level), an equivalence test against a
    margin, and three answers (:data:`DECISIONS`).  How the gap changed is decomposed into
    Beijing's and the others' own slopes with bootstrap intervals (firms resampled within city).

Cohorts (display)
    Founding years are binned into half-open cohorts ``[a, b)`` from ``cohort_edges``; the cohort
    tables and figures show levels and gaps per cohort, and a last cohort whose gap has the other
    sign, with an interval excluding zero, is flagged as an overshoot.  The edges also set the
    window of founding years analysed; firms outside it, or without a year, are left out and
    counted.

Text measures (secondary)
    ``cosine_to_beijing``: similarity of a city's tf-idf centroid to Beijing's in the same cohort
    (self-pairs left out of the norms); convergence means it rises.  ``distinctiveness``: how
    well a leave-one-out naive Bayes classifier tells the three cities apart within a cohort,
    every city subsampled to the same size; convergence means it falls.  Their slopes are per
    year over the cohorts' middle years, tested by permuting cohorts among each city's firms
    (``n_perm``); they support convergence or are inconclusive (no equivalence test).

The verdict as data
    :attr:`ConvergenceResult.verdict_table` has one row per measure and comparison
    (:data:`VERDICT_COLUMNS`); the primary row is the public share of Beijing against Shanghai
    and Shenzhen.  Its choice was made after results had been seen (``data/analysis_plan.md``
    says which entries).  :func:`with_power` fills the power columns from
    :func:`analysis.method.validation.power_summary`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from analysis.method import convergence_rule as rule
from analysis.method.coder_error import correction as _correction
from analysis.method.coder_error import tipping_point as _tipping_point
from analysis.defaults import (ALPHA, COHORT_EDGES, DEFAULT_SEED, N_BOOT, N_PERM, N_PERM_SHARES, N_SUBSAMPLES,
                               TEXT_FIELDS)
from analysis.text.naive_bayes import BLOCK as _BLOCK
from analysis.text.naive_bayes import _as_csr, _balanced_accuracy_batch, _loo_nb_batch
from analysis.defaults import CITIES
from analysis.method.resampling import (CohortDesign, bootstrap_counts, bootstrap_designs, bootstrap_year_draws, decision_stable, ols_slope, p_mcse, percentile_interval, permutation_p, permuted_counts_batch, permuted_designs)
from analysis.text import preprocess as text_mod
from analysis.text.classify import code_with, CODERS, DEFAULT_CODER, supervised_training
from analysis.params import as_list

__all__ = [
    "DEFAULT_COHORT_EDGES", "DEFAULT_SEED", "PRIMARY_MEASURE", "PRIMARY_COMPARISON", "MEASURES",
    "SHARE_MEASURES", "DECISIONS", "REASONS", "ConvergenceResult", "cohort_labels", "assign_cohorts",
    "cohort_codes", "distinctiveness", "alignment_shares", "centroid_cosine", "gap_statistics", "analyse",
    "year_window", "primary_rows", "share_flags", "coders_available", "sensitivity_specs", "sensitivity",
]

DEFAULT_COHORT_EDGES = COHORT_EDGES
PRIMARY_MEASURE = "public_share"
SHARE_MEASURES = ("public_share", "infrastructure_share")
TEXT_MEASURES = ("cosine_to_beijing", "distinctiveness")
MEASURES = ("public_share", "infrastructure_share", "cosine_to_beijing", "distinctiveness")
NON_BEIJING = tuple(c for c in CITIES if c != "Beijing")
POOLED = "+".join(NON_BEIJING)  # "Shanghai+Shenzhen"
ALL_CITIES = "all three cities"
PRIMARY_COMPARISON = f"Beijing − {POOLED}"
OLD_TEST = f"{POOLED} level"  # the retired test: mean level of the others, ignoring Beijing
SUPPORTS, RULES_OUT, INCONCLUSIVE = rule.SUPPORTS, rule.RULES_OUT, rule.INCONCLUSIVE
DECISIONS = rule.DECISIONS
# reason codes of an inconclusive (or qualified) decision; convergence_prose words them
REASONS = ("no_dated_firms", "no_beijing", "no_other_city", "few_years", "one_year_city", "few_cohorts", "no_variation",
           "no_gap",
           "no_permutations", "too_few_permutations", "unstable", "not_computed")
DEFAULT_N_PERM_SHARES = N_PERM_SHARES
MIN_CORRECTION_BOOT = 1000  # bootstrap replicates of the coder-error correction, at least
DEFAULT_MAX_PER_CITY = 150  # distinctiveness subsample cap per city and cohort
DEFAULT_MAX_TEXT_PER_CELL = 500  # text measures: at most this many firms per city and cohort
# ---------------------------------------------------------------------------------------
# Cohorts
# ---------------------------------------------------------------------------------------
def _check_edges(edges: Iterable) -> list[int]:
    try:
        out = [int(e) for e in edges]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cohort_edges must be integers (years), got {edges!r}") from exc
    if len(out) < 2:
        raise ValueError(f"cohort_edges needs at least two years, got {out}")
    if any(b <= a for a, b in zip(out, out[1:])):
        raise ValueError(f"cohort_edges must be strictly increasing, got {out}")
    return out


def cohort_labels(edges: Iterable) -> list[str]:
    """Labels of the half-open cohorts ``[a, b)``: ``(2014, 2017, 2020)`` ->
    ``["2014–2016", "2017–2019"]`` (en dash; a one-year cohort is just ``"2014"``).

    Parameters
    ----------
    edges : iterable of int
        The cohort edges, strictly increasing years.

    Returns
    -------
    list of str
        A label per cohort, ``len(edges) - 1`` of them.

    Raises
    ------
    ValueError
        If the edges are not integers, are fewer than two, or are not strictly increasing.
    """
    e = _check_edges(edges)
    return [f"{a}" if b - a == 1 else f"{a}\u2013{b - 1}" for a, b in zip(e, e[1:])]


def year_window(edges: Iterable) -> tuple[int, int]:
    """The window of founding years the cohorts cover, its first and last year (the bins are
    half-open): ``(2014, 2017, 2020)`` -> ``(2014, 2019)``.

    Parameters
    ----------
    edges : iterable of int
        The cohort edges, strictly increasing years.

    Returns
    -------
    tuple of int
        The first and the last founding year, inclusive.

    Raises
    ------
    ValueError
        If the edges are not integers, are fewer than two, or are not strictly increasing.
    """
    e = _check_edges(edges)
    return e[0], e[-1] - 1


def _years_as_float(years) -> np.ndarray:
    s = pd.Series(years, copy=False) if not isinstance(years, pd.Series) else years
    return pd.to_numeric(s, errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def cohort_codes(years, edges) -> np.ndarray:
    """Cohort index per firm: ``0 .. len(edges)-2`` inside the edges, ``-1`` for a missing
    year, ``-2`` for a year outside ``[edges[0], edges[-1])``.

    Parameters
    ----------
    years : array_like
        A founding year per firm (a value that is not a number counts as missing).
    edges : iterable of int
        The cohort edges, strictly increasing years.

    Returns
    -------
    numpy.ndarray
        The codes (int64), one per firm.

    Raises
    ------
    ValueError
        If the edges are not integers, are fewer than two, or are not strictly increasing.
    """
    e = np.asarray(_check_edges(edges), dtype=float)
    y = _years_as_float(years)
    codes = np.searchsorted(e, y, side="right") - 1
    out = np.where((y >= e[0]) & (y < e[-1]), codes, -2)
    out[np.isnan(y)] = -1
    return out.astype(np.int64)


def assign_cohorts(years, edges) -> pd.Categorical:
    """Ordered categorical of cohort labels; missing or out-of-range years are NaN
    (use :func:`cohort_codes` to tell the two apart).

    Parameters
    ----------
    years : array_like
        A founding year per firm.
    edges : iterable of int
        The cohort edges, strictly increasing years.

    Returns
    -------
    pandas.Categorical
        A label of :func:`cohort_labels` per firm, the categories in cohort order.

    Raises
    ------
    ValueError
        If the edges are not integers, are fewer than two, or are not strictly increasing.
    """
    labels = cohort_labels(edges)
    codes = cohort_codes(years, edges)
    return pd.Categorical.from_codes(np.where(codes >= 0, codes, -1), categories=labels, ordered=True)


# ---------------------------------------------------------------------------------------
# Distinctiveness
# ---------------------------------------------------------------------------------------
def _distinctiveness_designs(X, design: CohortDesign, resamples, per_city, n_subsamples: int, rng, nb_alpha):
    """Distinctiveness per cohort for each resampled design.

    ``resamples`` is a list of (cohort codes per firm, multiplicity per firm or None) of the
    firms of ``design`` (its cities).  ``per_city`` (length Q) is the per-city subsample size of
    each cohort (0 = no estimate); ``n_subsamples`` subsamples per cohort and design.  Returns an
    array (len(resamples), Q) of mean balanced accuracy minus 1/K.
    """
    # the paper's notation: y city codes, K cities, Q cohorts, m subsample sizes, S subsamples
    y, K, Q = design.city, design.n_cities, design.n_cohorts
    m, S, alpha = per_city, n_subsamples, nb_alpha
    R = len(resamples)
    n = X.shape[0]
    keys = []
    active = [q for q in range(Q) if m[q] > 0]
    for r, (g, mult) in enumerate(resamples):
        order = np.argsort(y * (Q + 1) + np.where(g >= 0, g, Q), kind="stable")
        cell = (y * (Q + 1) + np.where(g >= 0, g, Q))[order]
        bounds = np.searchsorted(cell, np.arange(K * (Q + 1) + 1))
        for q in active:
            mq = int(m[q])
            for c in range(K):
                cid = c * (Q + 1) + q
                members = order[bounds[cid] : bounds[cid + 1]]
                if mult is not None:
                    members = np.repeat(members, mult[members])
                if len(members) < mq:
                    raise RuntimeError("cell smaller than subsample size")  # cannot happen
                pick = np.argsort(rng.random((S, len(members))), axis=1)[:, :mq]
                batch = ((r * Q + q) * S + np.arange(S))[:, None]
                keys.append((batch * n + members[pick]).ravel())
    n_batch = R * Q * S
    if not keys:
        return np.full((R, Q), np.nan)
    uniq, cnt = np.unique(np.concatenate(keys), return_counts=True)
    pb, pi, pw = uniq // n, uniq % n, cnt.astype(float)
    pred = _loo_nb_batch(X, y, K, pb, pi, pw, n_batch, alpha)
    bacc = _balanced_accuracy_batch(pred, y[pi], pb, pw, K, n_batch).reshape(R, Q, S)
    out = bacc.mean(axis=2) - 1.0 / K
    out[:, [q for q in range(Q) if m[q] == 0]] = np.nan
    return out


def _encode(values, order=None):
    values = np.asarray(values, dtype=object)
    if order is None:
        order = list(pd.unique(pd.Series(values).dropna()))
    lookup = {v: i for i, v in enumerate(order)}
    return np.array([lookup.get(v, -1) for v in values], dtype=np.int64), list(order)


def _prune(X, rows, min_df):
    """Rows ``rows`` of X restricted to terms used by at least ``min_df`` of those rows."""
    Xs = _as_csr(X)[rows]
    df = np.asarray((Xs > 0).sum(axis=0)).ravel()
    return _as_csr(Xs[:, np.flatnonzero(df >= max(min_df, 1))])


def distinctiveness(
    X,
    cities,
    cohorts,
    *,
    n_subsamples: int = 5,
    nb_alpha: float = 1.0,
    min_per_city: int = 3,
    min_df: int = 2,
    seed=DEFAULT_SEED,
    city_order: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Distinctiveness of the cities in each cohort (see module docstring).

    Parameters
    ----------
    X : array_like or scipy.sparse matrix
        Document-term counts (firms x terms).
    cities : array_like
        A city label per firm (in ``city_order`` when given; others left out).
    cohorts : array_like
        An integer cohort code per firm (negative or NaN = left out) or cohort labels (a
        :class:`pandas.Categorical` keeps its category order).
    n_subsamples, nb_alpha, min_df, seed
        Subsamples per cohort, the classifier's smoothing, the fewest analysed firms using a
        term it keeps, the seed of the subsamples.
    min_per_city : int
        A cohort in which a city has fewer firms gets no estimate.
    city_order : sequence of str, optional
        The cities, in order (default: as they first appear).

    Returns
    -------
    pandas.DataFrame
        Columns cohort, estimate (mean balanced accuracy minus 1/K), n_per_city (subsample
        size per city), n (firms in the cohort).
    """
    y, order = _encode(cities, city_order)
    g, labels = _cohort_input(cohorts)
    K, Q = len(order), len(labels)
    keep = np.flatnonzero((y >= 0) & (g >= 0))
    Xk = _prune(X, keep, min_df)
    design = CohortDesign(y[keep], g[keep], K, Q)
    sizes = design.sizes
    m = sizes.min(axis=0)
    m = np.where(m >= min_per_city, m, 0)
    rng = np.random.default_rng(seed)
    est = _distinctiveness_designs(Xk, design, [(design.cohort, None)], m, n_subsamples, rng, nb_alpha)[0]
    return pd.DataFrame({"cohort": labels, "estimate": est, "n_per_city": m, "n": sizes.sum(axis=0)})


def _cohort_input(cohorts):
    if isinstance(cohorts, pd.Categorical) or isinstance(getattr(cohorts, "dtype", None), pd.CategoricalDtype):
        cat = pd.Categorical(cohorts)
        return np.asarray(cat.codes, dtype=np.int64), [str(c) for c in cat.categories]
    arr = pd.Series(cohorts)
    num = pd.to_numeric(arr, errors="coerce")
    if num.notna().sum() == arr.notna().sum():
        codes = num.fillna(-1).astype(np.int64).to_numpy()
        Q = int(codes.max()) + 1 if (codes >= 0).any() else 0
        return codes, [str(q) for q in range(Q)]
    cat = pd.Categorical(arr)
    return np.asarray(cat.codes, dtype=np.int64), [str(c) for c in cat.categories]


# ---------------------------------------------------------------------------------------
# Alignment
# ---------------------------------------------------------------------------------------
def _cell_sums(values, design: CohortDesign, resamples):
    """Weighted sums and weights of ``values`` (n,) per resampled design x city x cohort."""
    y, K, Q = design.city, design.n_cities, design.n_cohorts  # city codes, K cities, Q cohorts
    R = len(resamples)
    sums = np.zeros(R * K * Q)
    wts = np.zeros(R * K * Q)
    for r, (g, mult) in enumerate(resamples):
        ok = g >= 0
        w = np.ones(ok.sum()) if mult is None else mult[ok].astype(float)
        idx = r * K * Q + y[ok] * Q + g[ok]
        sums += np.bincount(idx, weights=w * values[ok], minlength=R * K * Q)
        wts += np.bincount(idx, weights=w, minlength=R * K * Q)
    return sums.reshape(R, K, Q), wts.reshape(R, K, Q)


def _shares_designs(flags, design: CohortDesign, resamples):
    s, w = _cell_sums(np.asarray(flags, dtype=float), design, resamples)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(w > 0, s / np.where(w > 0, w, 1), np.nan)


def _cosine_designs(Z, design: CohortDesign, resamples, ref=0):
    """Cross-firm cosine of each city to city ``ref`` per cohort, for each resampled design of
    the firms of ``design``: (R, K, Q).

    With unit-length rows x_i and firm weights w_i, a cell's centroid direction is
    C = sum w_i x_i.  The plain cosine of two centroids is biased towards 0 in small cells
    (a firm is perfectly similar to itself, which inflates |C|), so the norms leave out
    each firm's similarity with itself (and with its own bootstrap copies):
    ``within = (|C|^2 - sum w_i^2 |x_i|^2) / (W^2 - sum w_i^2)`` is the mean similarity of
    two different firms of the cell, ``between = C_c . C_ref / (W_c W_ref)`` the mean
    similarity of a firm of c and a firm of ref, and the measure is
    ``between / sqrt(within_c within_ref)``: 1 when a city's firms resemble Beijing's as much
    as firms of each city resemble each other.  It can slightly exceed 1 by chance.
    """
    y, K, Q = design.city, design.n_cities, design.n_cohorts  # city codes, K cities, Q cohorts
    Z = _as_csr(Z)
    n, V = Z.shape
    sq = np.asarray(Z.multiply(Z).sum(axis=1)).ravel()
    R = len(resamples)
    out = np.full((R, K, Q), np.nan)
    step = max(1, int(_BLOCK // max(K * Q * V, 1)))
    for r0 in range(0, R, step):
        chunk = resamples[r0 : r0 + step]
        rows, cols, vals = [], [], []
        for j, (g, mult) in enumerate(chunk):
            ok = np.flatnonzero(g >= 0)
            rows.append(j * K * Q + y[ok] * Q + g[ok])
            cols.append(ok)
            vals.append(np.ones(len(ok)) if mult is None else mult[ok].astype(float))
        r_, c_, v_ = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
        keep = v_ > 0
        r_, c_, v_ = r_[keep], c_[keep], v_[keep]
        size = len(chunk) * K * Q
        M = sparse.csr_matrix((v_, (r_, c_)), shape=(size, n))
        W = np.bincount(r_, weights=v_, minlength=size).reshape(len(chunk), K, Q)
        W2 = np.bincount(r_, weights=v_**2, minlength=size).reshape(len(chunk), K, Q)
        self_sim = np.bincount(r_, weights=v_**2 * sq[c_], minlength=size).reshape(len(chunk), K, Q)
        C = (M @ Z).toarray().reshape(len(chunk), K, Q, V)
        dots = np.einsum("rkqv,rqv->rkq", C, C[:, ref])
        norm2 = np.einsum("rkqv,rkqv->rkq", C, C)
        with np.errstate(invalid="ignore", divide="ignore"):
            within = (norm2 - self_sim) / (W**2 - W2)
            between = dots / (W * W[:, ref][:, None, :])
            cos = between / np.sqrt(within * within[:, ref][:, None, :])
        valid = (W**2 - W2 > 0) & ((W**2 - W2 > 0)[:, ref][:, None, :]) & (within > 0) & (within[:, ref][:, None, :] > 0)
        out[r0 : r0 + len(chunk)] = np.where(valid, cos, np.nan)
    return out


def _unit_rows(Z):
    Z = _as_csr(Z)
    norms = np.sqrt(np.asarray(Z.multiply(Z).sum(axis=1)).ravel())
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    return _as_csr(sparse.diags(inv) @ Z)


def _cells(cities, cohorts, city_order) -> tuple[CohortDesign, list, list[str]]:
    """The design of the firms (cities and cohorts; a firm not analysed gets cohort -1), the
    cities' order and the cohorts' labels."""
    y, order = _encode(cities, city_order)
    g, labels = _cohort_input(cohorts)
    keep = (y >= 0) & (g >= 0)
    return CohortDesign(np.where(keep, y, 0), np.where(keep, g, -1), len(order), len(labels)), order, labels


def _cell_frame(est, design: CohortDesign, order, labels, skip=None) -> pd.DataFrame:
    """One row per city x cohort: city, cohort, estimate, n (firms in the cell)."""
    n = design.sizes
    return pd.DataFrame(
        [
            {"city": order[c], "cohort": labels[q], "estimate": est[c, q], "n": int(n[c, q])}
            for c in range(len(order))
            for q in range(len(labels))
            if order[c] != skip
        ]
    )


def alignment_shares(flags, cities, cohorts, *, city_order: Sequence[str] | None = None) -> pd.DataFrame:
    """Share of flagged firms per city and cohort (a hand-checkable building block).

    Parameters
    ----------
    flags : array_like
        1 for a flagged firm, else 0.
    cities, cohorts, city_order
        As in :func:`distinctiveness`.

    Returns
    -------
    pandas.DataFrame
        Columns city, cohort, estimate, n (firms in the cell).
    """
    design, order, labels = _cells(cities, cohorts, city_order)
    est = _shares_designs(np.asarray(flags, dtype=float), design, [(design.cohort, None)])[0]
    return _cell_frame(est, design, order, labels)


def centroid_cosine(Z, cities, cohorts, *, reference: str = "Beijing", city_order=None) -> pd.DataFrame:
    """Cosine similarity of each city's centroid to the ``reference`` city's centroid, per cohort
    (the centroids of unit-length rows, self-pairs left out of the norms; see
    :func:`_cosine_designs`).

    Parameters
    ----------
    Z : array_like or scipy.sparse matrix
        A row per firm (e.g. tf-idf weights).
    cities, cohorts, city_order
        As in :func:`distinctiveness`.
    reference : str
        The city compared with.

    Returns
    -------
    pandas.DataFrame
        Columns city, cohort, estimate, n (firms in the cell); no row for the reference city.

    Raises
    ------
    ValueError
        If ``reference`` is not among the cities (``city_order``, else those of ``cities``).
    """
    design, order, labels = _cells(cities, cohorts, city_order)
    est = _cosine_designs(_unit_rows(Z), design, [(design.cohort, None)], ref=order.index(reference))[0]
    return _cell_frame(est, design, order, labels, skip=reference)


# ---------------------------------------------------------------------------------------
# Share measures: levels, gaps to Beijing, their trends
# ---------------------------------------------------------------------------------------
def _ratio(num, den):
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)


def _share_series(counts, sizes, weights=None) -> dict[tuple[str, str], np.ndarray]:
    """Per-cohort series from flagged counts (..., K, Q) and cell sizes broadcastable to them:
    ``("level", city)`` for each city, the others pooled (``POOLED``: firm-weighted, or
    standardised with the fixed city ``weights`` of the others) and their plain mean
    (``OLD_TEST``); ``("gap", "Beijing − X")`` for the others pooled and each city.  Each value
    has shape (..., Q)."""
    c = np.asarray(counts, dtype=float)
    n = np.broadcast_to(np.asarray(sizes, dtype=float), c.shape)
    share = _ratio(c, n)
    if weights is None:
        pooled = _ratio(c[..., 1:, :].sum(axis=-2), n[..., 1:, :].sum(axis=-2))
    else:
        pooled = sum(float(w) * share[..., k, :] for k, w in enumerate(weights, start=1))
    out = {("level", city): share[..., k, :] for k, city in enumerate(CITIES)}
    out[("level", POOLED)] = pooled
    out[("level", OLD_TEST)] = share[..., 1:, :].mean(axis=-2)
    out[("gap", PRIMARY_COMPARISON)] = share[..., 0, :] - pooled
    for k, city in enumerate(CITIES[1:], start=1):
        out[("gap", f"Beijing − {city}")] = share[..., 0, :] - share[..., k, :]
    return out


def _overall_gaps(counts, sizes) -> dict[str, np.ndarray]:
    """Beijing's share minus the others' over all cohorts (invariant under the within-city
    shuffle); its sign says which way the gap must move to close.  Counts and sizes
    (..., K, Q); values of shape (...) (floats for a single table)."""
    c = np.asarray(counts, dtype=float).sum(axis=-1)
    n = np.broadcast_to(np.asarray(sizes, dtype=float), np.asarray(counts).shape).sum(axis=-1)
    bj = _ratio(c[..., 0], n[..., 0])
    out = {PRIMARY_COMPARISON: bj - _ratio(c[..., 1:].sum(axis=-1), n[..., 1:].sum(axis=-1))}
    for k, city in enumerate(CITIES[1:], start=1):
        out[f"Beijing − {city}"] = bj - _ratio(c[..., k], n[..., k])
    return {k: (float(v) if np.ndim(v) == 0 else v) for k, v in out.items()}


def _closing_direction(overall_gap: float) -> str | None:
    if np.isnan(overall_gap) or overall_gap == 0:
        return None
    return "decrease" if overall_gap > 0 else "increase"


def gap_statistics(flags, cities, cohorts, *, city_order: Sequence[str] | None = None) -> pd.DataFrame:
    """Signed gap per cohort, Beijing's share of flagged firms minus the others' (pooled
    firm-weighted, and each city), with the overall gap and the closing direction.

    A hand-checkable building block of :func:`analyse`.

    Parameters
    ----------
    flags, cities, cohorts
        As in :func:`alignment_shares`.
    city_order : sequence of str, optional
        Must be :data:`analysis.defaults.CITIES` (the default) when given.

    Returns
    -------
    pandas.DataFrame
        Columns comparison, cohort, gap, overall_gap, direction.

    Raises
    ------
    ValueError
        If ``city_order`` is given and is not :data:`analysis.defaults.CITIES`, in that order.
    """
    design, order, labels = _cells(cities, cohorts, city_order or list(CITIES))
    if list(order) != list(CITIES):
        raise ValueError(f"city_order must be {CITIES}")
    Q = len(labels)
    sizes = design.sizes
    counts = design.cell_sums(flags)
    series = _share_series(counts[None], sizes)
    overall = _overall_gaps(counts, sizes)
    rows = []
    for (kind, comp), values in series.items():
        if kind != "gap":
            continue
        for q in range(Q):
            rows.append({"comparison": comp, "cohort": labels[q], "gap": values[0, q],
                         "overall_gap": overall[comp], "direction": _closing_direction(overall[comp])})
    return pd.DataFrame(rows)


def share_tests(counts, sizes, n_perm: int, rng) -> list[list[tuple[str, str, float, float]]]:
    """The earlier share-measure tests (before the decision rule of
    :mod:`analysis.method.convergence_rule`) for a batch of tables, without intervals.

    Used by the simulation study, which draws counts rather than firms; the permutations are
    drawn for the whole batch at once.

    Parameters
    ----------
    counts, sizes : array_like
        Flagged firms and firms per city x cohort, (B, K, Q).
    n_perm : int
        Permutations of founding years within each city, per table (0: no p-values).
    rng : numpy.random.Generator
        Draws the permutations.

    Returns
    -------
    list of list of tuple
        Per table, ``(comparison, role, slope, p)`` for each gap to Beijing (role ``test``) and for
        the retired level test (``old test``): the OLS slope over the cohort index and its one-sided
        permutation p-value in the closing direction (NaN without permutations or without a gap).
    """
    counts = np.asarray(counts, dtype=np.int64)
    sizes = np.asarray(sizes, dtype=np.int64)
    B = counts.shape[0]
    est = _share_series(counts, sizes)
    overall = _overall_gaps(counts, sizes)
    perm = None
    if n_perm:
        pc = permuted_counts_batch(counts.sum(axis=-1), sizes, int(n_perm), rng)  # (B, P, K, Q)
        perm = _share_series(pc, sizes[:, None])
    out: list[list] = [[] for _ in range(B)]
    for (kind, comp), values in est.items():
        if kind == "gap":
            sign = np.sign(np.asarray(overall[comp], dtype=float))
            role = "test"
        elif comp == OLD_TEST:
            sign = np.full(B, -1.0)  # closing = increase of the others' level
            role = "old test"
        else:
            continue
        slope = ols_slope(values)  # (B,)
        if perm is not None:
            ps = ols_slope(perm[(kind, comp)])  # (B, P)
            # convergence direction: decrease when the gap is positive, increase otherwise
            tol = 1e-12 * np.maximum(1.0, np.abs(slope))
            with np.errstate(invalid="ignore"):
                hits = np.where(sign[:, None] > 0, ps <= (slope + tol)[:, None], ps >= (slope - tol)[:, None])
            hits = np.where(np.isnan(ps), False, hits)
            p = (1 + hits.sum(axis=1)) / (1 + (~np.isnan(ps)).sum(axis=1))
            p = np.where(np.isnan(slope) | (sign == 0) | np.isnan(sign), np.nan, p)
        else:
            p = np.full(B, np.nan)
        for b in range(B):
            out[b].append((comp, role, float(slope[b]), float(p[b])))
    return out


# ---------------------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------------------
VERDICT_COLUMNS = ["measure", "comparison", "statistic", "unit", "estimate", "lo", "hi", "planted",
                   "estimate_logodds", "others_slope", "others_upper", "margin", "direction", "p_gap", "p_gap_logodds",
                   "p_others", "p", "p_mcse", "n_perm", "n_years", "power", "power_mcse", "power_replicates",
                   "power_planted", "mde", "mde_bound", "exaggeration", "firms_for_80pct", "corrected", "corrected_lo",
                   "corrected_hi", "coder_validated", "primary", "decision", "reason", "stable"]
POWER_COLUMNS = ["power", "power_mcse", "power_replicates", "power_planted", "mde", "mde_bound", "exaggeration",
                 "firms_for_80pct"]
TEXT_UNITS = {"cosine_to_beijing": "similarity per year", "distinctiveness": "balanced accuracy per year"}


@dataclass
class ConvergenceResult:
    """Everything :func:`analyse` computes; tables are plain DataFrames.

    ``cohort_table``: measure, city, cohort, estimate, lo, hi, n, n_compared (levels by cohort,
    for display).  ``gap_table``: measure, comparison, cohort, estimate, lo, hi (signed gaps to
    Beijing by cohort, for display).  ``trend_table``: measure, comparison, statistic, unit,
    slope, lo, hi (per year; share measures on every dated firm, text measures over the cohorts'
    middle years).  ``decomposition``: per share measure and comparison, the gap's, Beijing's
    and the others' slopes per year with intervals, how each side moved (``towards``, ``away``,
    ``unclear``) and whether the last cohort overshoots.  ``verdict_table``: one row per measure
    and comparison (``VERDICT_COLUMNS``; see :mod:`analysis.method.convergence_rule`)."""

    cohort_table: pd.DataFrame
    gap_table: pd.DataFrame
    trend_table: pd.DataFrame
    decomposition: pd.DataFrame
    verdict_table: pd.DataFrame
    primary: str
    alpha: float
    n_missing_year: int
    n_outside_edges: int
    n_per_cohort: pd.DataFrame
    cohorts: list[str]
    weights: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = float("nan")
    #: the shares and estimates corrected for the coder's error (analysis.method.coder_error.correction),
    #: per share measure (column ``measure``); empty without a coder error
    corrected: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: the primary measure's tipping point (:func:`analysis.method.coder_error.tipping_point`): ``points``,
    #: ``first_year``, ``last_year`` (mean founding years of the others' first and last cohorts),
    #: ``others_share``, ``estimate``, ``false_positive_rate``, ``coded_share`` (of all dated firms);
    #: empty without a coder error
    tipping: dict = field(default_factory=dict)

    def primary_row(self) -> pd.Series:
        t = self.verdict_table
        return t[t["primary"]].iloc[0]

    @property
    def decision(self) -> str:
        return str(self.primary_row()["decision"])

    @property
    def supports(self) -> bool:
        return self.decision == SUPPORTS


def _move(slope_lo, slope_hi, towards_sign):
    """'towards' / 'away' / 'unclear' from a slope interval and the sign that closes the gap."""
    if np.isnan(slope_lo) or np.isnan(slope_hi) or slope_lo <= 0 <= slope_hi:
        return "unclear"
    sign = 1.0 if slope_lo > 0 else -1.0
    return "towards" if sign == towards_sign else "away"


# ---------------------------------------------------------------------------------------
# The whole analysis on a firm table, in steps
# ---------------------------------------------------------------------------------------
def _document_terms(firms: pd.DataFrame, text_fields):
    texts = text_mod.firm_texts(firms, text_fields=tuple(text_fields))
    X, vocab = text_mod.document_term_matrix(texts, language=text_mod.text_language(tuple(text_fields)))
    return _as_csr(X), _as_csr(text_mod.tfidf(X))


def share_flags(firms: pd.DataFrame, text_fields, coder: str | None = None, seed: int = DEFAULT_SEED) -> dict:
    """The share measures' flags of every firm: 1 where the coder codes it public (or infrastructure).

    Parameters
    ----------
    firms : pandas.DataFrame
        The firms (canonical corpus columns).
    text_fields : sequence of str
        The text columns the coder reads.
    coder : str, optional
        The coder (None: :data:`analysis.text.classify.DEFAULT_CODER`).
    seed : int
        Seed of the supervised coder.

    Returns
    -------
    dict
        ``public_share`` and ``infrastructure_share``: float arrays of 0 and 1, one per firm.
    """
    codes = code_with(firms, text_fields=tuple(text_fields), coder=coder, seed=seed)
    public = (codes["customer_label"].astype("string") == "public").fillna(False).to_numpy(dtype=float)
    infra = (codes["application_label"].astype("string") == "infrastructure").fillna(False).to_numpy(dtype=float)
    return {"public_share": public, "infrastructure_share": infra}


@dataclass
class _Dated:
    """The analysed firms: the ``design`` (city and cohort codes, firms per city x cohort) of the
    dated firms inside the cohort edges (rows ``keep`` of the firm table), their founding
    ``years``, the cohorts' ``labels`` and the firms-per-cohort table shown on the page."""

    keep: np.ndarray
    design: CohortDesign
    years: np.ndarray
    labels: list
    per_cohort: pd.DataFrame
    n_missing: int
    n_outside: int
    notes: list


def _dated_firms(firms: pd.DataFrame, cohort_edges: list[int]) -> _Dated:
    labels = cohort_labels(cohort_edges)
    K, Q = len(CITIES), len(labels)
    y_all, _ = _encode(firms["city"].astype("string").to_numpy(dtype=object, na_value=None), list(CITIES))
    g_all = cohort_codes(firms["founded_year"], cohort_edges)
    notes = []
    n_other_city = int(np.sum(y_all < 0))
    if n_other_city:
        notes.append(f"{n_other_city} firms outside {', '.join(CITIES)} left out.")
    keep = np.flatnonzero((y_all >= 0) & (g_all >= 0))
    design = CohortDesign(y_all[keep], g_all[keep], K, Q)
    npc = pd.DataFrame(design.sizes, index=list(CITIES), columns=labels)
    for name, code in (("no founding year", -1), ("outside cohorts", -2)):
        npc[name] = [int(np.sum((y_all == c) & (g_all == code))) for c in range(K)]
    npc.loc["all"] = npc.sum(axis=0)
    npc.index.name = "city"
    years = _years_as_float(firms["founded_year"])[keep]
    return _Dated(keep, design, years, labels, npc, int(np.sum(g_all == -1)), int(np.sum(g_all == -2)), notes)


def _check_inputs(firms, text_fields, wanted_unknown, counts):
    if wanted_unknown:
        raise ValueError(f"unknown measures {sorted(wanted_unknown)}; choose from {MEASURES}")
    for name, v, low in counts:
        if int(v) < low:
            raise ValueError(f"{name} must be >= {low}, got {v}")
    for col in ("city", "founded_year"):
        if col not in firms.columns:
            raise ValueError(f"firm table has no {col!r} column (needed for the convergence analysis)")
    # a nullable text column a table lacks is empty text, as firm_texts reads it, if another field is there
    missing_fields = [f for f in text_fields if f not in firms.columns]
    present = [f for f in text_fields if f in firms.columns]
    if not present or any(f not in text_mod.NULLABLE_TEXT_FIELDS for f in missing_fields):
        raise ValueError(f"text_fields {missing_fields} are not columns of the firm table")


def _share_cohorts(measure, counts, d: _Dated, weights, n_boot, ci_level, rng):
    """Display rows of one share measure: levels and gaps per cohort with bootstrap intervals,
    and per comparison the interval of the last cohort's gap (None without bootstrap or cohort),
    from which :func:`_share_measure` flags an overshoot."""
    Q, sizes = len(d.labels), d.design.sizes
    est = _share_series(counts[None], sizes, weights)
    boot = _share_series(bootstrap_counts(counts, sizes, n_boot, rng), sizes, weights) if n_boot else None
    levels, gaps, last_gap = [], [], {}
    for (kind, comp), values in est.items():
        if comp == OLD_TEST:
            continue
        lo_q, hi_q = (percentile_interval(boot[(kind, comp)], ci_level) if boot
                      else (np.full(Q, np.nan), np.full(Q, np.nan)))
        for q in range(Q):
            row = {"measure": measure, "cohort": d.labels[q], "estimate": values[0, q], "lo": lo_q[q], "hi": hi_q[q]}
            if kind == "level":
                n_cell = int(sizes[CITIES.index(comp), q]) if comp in CITIES else int(sizes[1:, q].sum())
                levels.append({**row, "city": comp, "n": n_cell, "n_compared": n_cell})
            else:
                gaps.append({**row, "comparison": comp})
        if kind == "gap":
            last = np.flatnonzero(~np.isnan(values[0]))
            last_gap[comp] = ((*percentile_interval(boot[(kind, comp)][:, last[-1]], ci_level), values[0, last[-1]])
                              if len(last) and boot is not None else None)
    return levels, gaps, last_gap


def _corrected(measure, flags, d: _Dated, cohort_edges, rates, n_boot: int, rng) -> tuple[pd.DataFrame, dict]:
    """One share measure corrected for the coder's error (:func:`analysis.method.coder_error.correction`)
    and its tipping point: the change in the others' false-positive rate between their first and
    last cohorts (mean founding years) that would alone produce the pooled estimate."""
    first, last = int(cohort_edges[0]), int(cohort_edges[-1]) - 1
    city, cohort = d.design.city, d.design.cohort
    n_y, _, _ = rule.year_table(city, d.years, flags, first, last)
    comps = rule.comparisons(n_y.sum(axis=1))
    table = _correction(city, d.years, flags, first, last, comps, rates, n_boot, rng)
    pooled = comps[0]
    share = table[table["kind"] == "share"].set_index("quantity")["corrected"]
    others_share = float(sum(w * share[CITIES[k]] for k, w in zip(pooled.others, pooled.weights)))
    others = np.isin(city, pooled.others)
    firsts = d.years[others & (cohort == 0)]
    lasts = d.years[others & (cohort == len(d.labels) - 1)]
    tip = {}
    if len(firsts) and len(lasts):
        estimate = float(table.loc[(table["kind"] == "estimate") & (table["quantity"] == pooled.name),
                                   "observed"].iloc[0])
        span = float(lasts.mean() - firsts.mean())
        tip = {"points": 100 * _tipping_point(estimate / 100, others_share, span),
               "first_year": float(firsts.mean()), "last_year": float(lasts.mean()), "others_share": others_share,
               "estimate": estimate, "false_positive_rate": float(rates.false_positive_rate),
               "coded_share": float(np.mean(flags))}
    return table.assign(measure=measure), tip


def _year_slopes(x_y, n_y, t, n_boot: int, rng):
    """The cities' slopes per year on the year table ``x_y``, ``n_y`` (K, Y) and, with
    ``n_boot``, on as many tables with firms resampled within city ((n_boot, K); None without)."""
    _, slope, _ = rule.lpm_slopes(x_y, n_y, t)
    boot_slope = None
    if n_boot:
        bx, bn = bootstrap_year_draws(x_y, n_y, n_boot, rng)
        _, boot_slope, _ = rule.lpm_slopes(bx, bn, t)  # (B, K)
    return slope, boot_slope


def _points_interval(values, ci_level):
    """Percentile interval of per-draw slopes, in share points per year; NaN without draws."""
    if values is None:
        return np.nan, np.nan
    return tuple(100 * float(v) for v in percentile_interval(values, ci_level))


def _decomposition_row(measure, comp, others_name, decided, others_slope, intervals, towards, last_gap) -> dict:
    """How one comparison's gap moved: the gap's, Beijing's and the others' slopes with their
    ``intervals`` (gap, others, Beijing), which way each side moved, and whether the last cohort
    overshoots (``last_gap``: the interval of its gap and its estimate, or None)."""
    (g_lo, g_hi), (o_lo, o_hi), (b_lo, b_hi) = intervals
    # overshoot: the last cohort's gap has the sign opposite to the overall (standardised) gap,
    # its interval excluding zero
    overshoot = bool(last_gap is not None and ((towards > 0 and last_gap[1] < 0) or (towards < 0 and last_gap[0] > 0)))
    return {
        "measure": measure, "comparison": comp.name, "overall_gap": float(decided["gap"]),
        "gap_slope": float(decided["estimate"]), "gap_lo": g_lo, "gap_hi": g_hi,
        "beijing_slope": float(decided["beijing"]), "beijing_lo": b_lo, "beijing_hi": b_hi,
        "others": others_name, "others_slope": others_slope,
        "others_lo": o_lo, "others_hi": o_hi,
        "others_move": _move(o_lo, o_hi, towards) if towards else "unclear",
        "beijing_move": _move(b_lo, b_hi, -towards) if towards else "unclear",
        "overshoot": overshoot,
        # the last cohort's estimated gap has the other sign, whatever its interval
        "crosses_zero": bool(last_gap is not None and towards * last_gap[2] < 0),
    }


def _share_verdict_row(measure, comp, decided, gap_interval, towards, n_y, settings) -> dict:
    """The verdict row of one comparison of a share measure from the rule's result ``decided``."""
    g_lo, g_hi = gap_interval
    stable = bool(decided["decision"] != INCONCLUSIVE or decided["reason"] == "")
    return {
        "measure": measure, "comparison": comp.name, "statistic": "gap", "unit": rule.UNIT,
        "estimate": float(decided["estimate"]), "lo": g_lo, "hi": g_hi,
        "estimate_logodds": float(decided["estimate_logodds"]), "others_slope": float(decided["others"]),
        "others_upper": float(decided["others_upper"]), "margin": float(settings["margin"]),
        "direction": ("decrease" if towards > 0 else "increase") if towards else "",
        "p_gap": float(decided["p_gap"]), "p_gap_logodds": float(decided["p_gap_logodds"]),
        "p_others": float(decided["p_others"]),
        "p": float(decided["p"]), "p_mcse": float(decided["p_mcse"]), "n_perm": settings["n_perm_shares"],
        "n_years": int((n_y[[0, *comp.others]].sum(axis=0) > 0).sum()),
        "decision": str(decided["decision"]), "reason": str(decided["reason"]), "stable": stable}


def _comparison_rows(measure, comp, pooled: bool, decided, slope, boot_slope, last_gap, n_y, settings):
    """Trend rows (the others' standardised level when ``pooled``, the gap), the decomposition
    row and the verdict row of one comparison, from the rule's result ``decided``, the cities'
    slopes and their bootstrap draws (None without)."""
    ci = settings["ci_level"]
    gap_b = others_b = None
    if boot_slope is not None:
        gap_b, others_b = rule.standardised(boot_slope, comp)
    others_slope = 100 * float(rule.standardised(slope, comp)[1])
    trend = []
    if pooled:
        trend.append({"measure": measure, "comparison": POOLED, "statistic": "level (standardised)", "unit": rule.UNIT,
                      "slope": others_slope, **dict(zip(("lo", "hi"), _points_interval(others_b, ci)))})
    g_lo, g_hi = _points_interval(gap_b, ci)
    trend.append({"measure": measure, "comparison": comp.name, "statistic": "gap", "unit": rule.UNIT,
                  "slope": float(decided["estimate"]), "lo": g_lo, "hi": g_hi})
    towards = float(np.sign(decided["gap"])) if decided["gap"] == decided["gap"] else 0.0
    intervals = ((g_lo, g_hi), _points_interval(others_b, ci),
                 _points_interval(boot_slope[:, 0] if boot_slope is not None else None, ci))
    decomp = _decomposition_row(measure, comp, POOLED if pooled else CITIES[comp.others[0]], decided, others_slope,
                                intervals, towards, last_gap)
    return trend, decomp, _share_verdict_row(measure, comp, decided, (g_lo, g_hi), towards, n_y, settings)


def _share_measure(measure, flags, d: _Dated, cohort_edges, settings, rngs, error=None):
    """One share measure: display rows, per-year slopes with intervals, the decomposition of
    each gap and its verdict rows under the decision rule (:mod:`analysis.method.convergence_rule`;
    ``error``: the coder's measured sensitivity and false-positive rate, or None)."""
    first, last = int(cohort_edges[0]), int(cohort_edges[-1]) - 1
    n_y, x_y, t = rule.year_table(d.design.city, d.years, flags, first, last)
    comps = rule.comparisons(n_y.sum(axis=1))
    weights = comps[0].weights
    counts = d.design.cell_sums(flags)
    levels, gaps, last_gap = _share_cohorts(measure, counts, d, weights, settings["n_boot"], settings["ci_level"],
                                            rngs["boot_cohorts"])
    decided = rule.decide(x_y, n_y, t, alpha=settings["alpha"], margin=settings["margin"],
                          n_perm=settings["n_perm_shares"], rng=rngs["perm"], comps=comps, error=error)
    slope, boot_slope = _year_slopes(x_y, n_y, t, settings["n_boot"], rngs["boot_years"])
    trend = [{"measure": measure, "comparison": city, "statistic": "level", "unit": rule.UNIT,
              "slope": 100 * float(slope[k]), **dict(zip(("lo", "hi"), _points_interval(
                  boot_slope[:, k] if boot_slope is not None else None, settings["ci_level"])))}
             for k, city in enumerate(CITIES)]
    decomp, verdict = [], []
    for comp in comps:
        tr, dc, vd = _comparison_rows(measure, comp, comp is comps[0], decided[comp.name], slope, boot_slope,
                                      last_gap.get(comp.name), n_y, settings)
        trend += tr
        decomp.append(dc)
        verdict.append(vd)
    return levels, gaps, trend, decomp, verdict, dict(zip((CITIES[k] for k in comps[0].others), weights))


def _text_sample(d: _Dated, settings, ss, notes) -> tuple[np.ndarray, CohortDesign]:
    """The firms the text measures use: positions among the dated firms when every city x cohort
    cell is cut to at most ``max_text_per_cell`` firms at random (noted when a cell is cut), and
    their design."""
    cap = int(settings["max_text_per_cell"])
    rows = _cap_cells(d.design, cap, np.random.default_rng(ss[0].spawn(1)[0]))
    if len(rows) < d.design.n_firms:
        notes.append(f"The text measures use a random subsample of at most {cap:,} "
                     f"firms per city and cohort ({len(rows):,} of {d.design.n_firms:,} firms).")
    return rows, d.design.take(rows)


def _cosine_series(Z, sample: CohortDesign, resamples) -> dict[tuple[str, str], tuple]:
    """Centroid cosine to Beijing per cohort, of each other city and of the two (their mean),
    on each of ``resamples`` (the observed design, the bootstrap and the permuted designs; an
    empty list gives None): (measure, comparison) -> (observed (1, Q), bootstrap, permuted)."""
    Zn = _unit_rows(Z)
    vals = [(_cosine_designs(Zn, sample, dd, ref=0) if dd else None) for dd in resamples]
    series = {}
    for k, city in enumerate(CITIES[1:], start=1):
        series[("cosine_to_beijing", city)] = tuple(None if v is None else v[:, k] for v in vals)
    series[("cosine_to_beijing", POOLED)] = tuple(None if v is None else v[:, 1:].mean(axis=1) for v in vals)
    return series


def _distinctiveness_series(X, sample: CohortDesign, resamples, settings, ss) -> tuple[dict, np.ndarray]:
    """Distinctiveness of the three cities per cohort on each of ``resamples`` (as
    :func:`_cosine_series`), and the per-city subsample size of each cohort (0: no estimate)."""
    Xd = _prune(X, np.arange(X.shape[0]), settings["min_df"])
    per_city = np.minimum(sample.sizes.min(axis=0), int(settings["max_per_city"]))
    per_city = np.where(per_city >= settings["min_per_city"], per_city, 0)
    sub_rng = np.random.default_rng(ss[0])
    vals = [(_distinctiveness_designs(Xd, sample, dd, per_city, settings["n_subsamples"], sub_rng,
                                      settings["nb_alpha"]) if dd else None) for dd in resamples]
    return {("distinctiveness", ALL_CITIES): tuple(vals)}, per_city


def _text_levels(measure, comp, estimate, boot, d: _Dated, sample: CohortDesign, per_city, ci_level) -> list[dict]:
    """Display rows of one text series: its level per cohort with a bootstrap interval, the
    firms of the cell (``n``) and those compared (``n_compared``, after the cap)."""
    K, Q = len(CITIES), len(d.labels)
    sizes = sample.sizes
    lo_q, hi_q = percentile_interval(boot, ci_level) if boot is not None else (np.full(Q, np.nan), np.full(Q, np.nan))
    levels = []
    for q in range(Q):
        if comp == ALL_CITIES:
            n_cell, n_cmp = int(d.design.sizes[:, q].sum()), int(per_city[q]) * K
        elif comp == POOLED:
            n_cell, n_cmp = int(d.design.sizes[1:, q].sum()), int(sizes[1:, q].sum())
        else:
            n_cell, n_cmp = int(d.design.sizes[CITIES.index(comp), q]), int(sizes[CITIES.index(comp), q])
        levels.append({"measure": measure, "city": comp, "cohort": d.labels[q], "estimate": estimate[0, q],
                       "lo": lo_q[q], "hi": hi_q[q], "n": n_cell, "n_compared": n_cmp})
    return levels


def _text_test(measure, comp, estimate, boot, perm, mid, settings) -> tuple[dict, dict]:
    """The trend row and the verdict row of one text series: its slope per year over the cohorts'
    middle years ``mid`` with a bootstrap interval and a permutation p-value; it supports
    convergence or is inconclusive (no equivalence test)."""
    n_perm, alpha, ci = settings["n_perm"], settings["alpha"], settings["ci_level"]
    direction = "decrease" if measure == "distinctiveness" else "increase"
    slope = float(ols_slope(estimate[0], mid))
    lo = hi = p = float("nan")
    if boot is not None:
        lo, hi = (float(v) for v in percentile_interval(ols_slope(boot, mid), ci))
    if perm is not None and not np.isnan(slope):
        p = permutation_p(slope, ols_slope(perm, mid), direction)
    statistic = "similarity" if measure == "cosine_to_beijing" else "distinctiveness"
    trend = {"measure": measure, "comparison": comp, "statistic": statistic, "unit": TEXT_UNITS[measure],
             "slope": slope, "lo": lo, "hi": hi}
    mc = p_mcse(p, n_perm)
    reason = "few_cohorts" if np.isnan(slope) else ("no_permutations" if not n_perm else "")
    if not reason and 1.0 / (1 + n_perm) >= alpha:
        reason = "too_few_permutations"
    if not reason and not decision_stable(p, mc, alpha):
        reason = "unstable"
    decision = SUPPORTS if not reason and p < alpha else INCONCLUSIVE
    verdict = {"measure": measure, "comparison": comp, "statistic": statistic, "unit": TEXT_UNITS[measure],
               "estimate": slope, "lo": lo, "hi": hi, "direction": direction, "p": p, "p_mcse": mc,
               "n_perm": n_perm, "decision": decision, "reason": reason, "stable": reason == ""}
    return trend, verdict


def _text_measures(firms, wanted, d: _Dated, text_fields, cohort_edges, settings, ss, notes):
    """Centroid cosine and distinctiveness by cohort (firm-level designs), their slopes per year
    over the cohorts' middle years, and their verdict rows (supports or inconclusive: these
    measures have no equivalence test)."""
    rows, sample = _text_sample(d, settings, ss, notes)
    X, Z = _document_terms(firms.iloc[d.keep[rows]], text_fields)
    n_perm, n_boot = settings["n_perm"], settings["n_boot"]
    perm_designs = permuted_designs(sample, n_perm, np.random.default_rng(ss[2])) if n_perm else []
    boot_designs = bootstrap_designs(sample, n_boot, np.random.default_rng(ss[1])) if n_boot else []
    resamples = ([(sample.cohort, None)], boot_designs, perm_designs)
    series: dict[tuple[str, str], tuple] = {}
    per_city = np.zeros(len(d.labels), dtype=int)
    if "cosine_to_beijing" in wanted:
        series.update(_cosine_series(Z, sample, resamples))
    if "distinctiveness" in wanted:
        found, per_city = _distinctiveness_series(X, sample, resamples, settings, ss)
        series.update(found)
        if (per_city == 0).any():
            notes.append("No distinctiveness estimate for cohort(s) "
                         + ", ".join(label for label, m in zip(d.labels, per_city) if m == 0)
                         + f": a city has fewer than {settings['min_per_city']} firms there.")
    mid = np.array([(a + b - 1) / 2 for a, b in zip(cohort_edges, cohort_edges[1:])], dtype=float)
    levels, trend, verdict = [], [], []
    for (measure, comp), (estimate, boot, perm) in series.items():
        levels += _text_levels(measure, comp, estimate, boot, d, sample, per_city, settings["ci_level"])
        tr, vd = _text_test(measure, comp, estimate, boot, perm, mid, settings)
        trend.append(tr)
        verdict.append(vd)
    return levels, trend, verdict


def _checked_settings(firms, measures, **given) -> tuple[list[str], dict]:
    """The measures wanted and the settings of :func:`analyse` (``given``: its other arguments),
    each of the wrong kind or out of range raising ValueError."""
    text_fields = [str(f) for f in as_list(given["text_fields"], name="text_fields")]
    cohort_edges = [int(e) for e in as_list(given["cohort_edges"], name="cohort_edges")]
    _check_inputs(firms, text_fields, set(measures or ()) - set(MEASURES),
                  tuple((name, given[name], low) for name, low in
                        (("n_subsamples", 1), ("n_boot", 0), ("n_perm", 0), ("n_perm_shares", 0), ("max_per_city", 1))))
    if not float(given["margin"]) > 0:
        raise ValueError(f"margin must be > 0 share points per year, got {given['margin']}")
    wanted = list(MEASURES) if measures is None else [m for m in MEASURES if m in set(measures)]
    settings = {"text_fields": text_fields, "cohort_edges": cohort_edges,
                "n_subsamples": int(given["n_subsamples"]), "n_boot": int(given["n_boot"]),
                "n_perm": int(given["n_perm"]), "n_perm_shares": int(given["n_perm_shares"]),
                "alpha": float(given["alpha"]), "margin": float(given["margin"]), "seed": int(given["seed"]),
                "ci_level": given["ci_level"], "nb_alpha": given["nb_alpha"], "min_per_city": given["min_per_city"],
                "max_per_city": int(given["max_per_city"]), "max_text_per_cell": int(given["max_text_per_cell"]),
                "min_df": given["min_df"], "coder": given["coder"] or "dictionary"}
    return wanted, settings


@dataclass
class _Rows:
    """The rows of the result's tables as the measures add them, the pooled comparison's city
    ``weights``, the ``corrected`` tables and the primary measure's ``tipping`` point."""

    levels: list = field(default_factory=list)
    gaps: list = field(default_factory=list)
    trend: list = field(default_factory=list)
    decomposition: list = field(default_factory=list)
    verdict: list = field(default_factory=list)
    weights: dict = field(default_factory=dict)
    corrected: list = field(default_factory=list)
    tipping: dict = field(default_factory=dict)


def _share_flags(firms, d: _Dated, text_fields, coder, flags, seed: int) -> dict[str, np.ndarray]:
    """0/1 per dated firm for each share measure: the coder's labels (a supervised coder trained
    with ``seed``), or ``flags`` (one value per firm of the table) when given."""
    if flags is None:
        return share_flags(firms.iloc[d.keep], text_fields, coder, seed)
    return {k: np.asarray(v, dtype=float)[d.keep] for k, v in flags.items()}


def _share_rngs(ss, measure_index: int) -> dict:
    """The generators of the share measure at ``measure_index`` among those wanted, from the
    analysis's seed sequences ``ss``: permutations, bootstrap by cohort, bootstrap by year."""
    i = measure_index
    return {"perm": np.random.default_rng(ss[3].spawn(len(SHARE_MEASURES))[i]),
            "boot_cohorts": np.random.default_rng(ss[4].spawn(len(SHARE_MEASURES))[i]),
            "boot_years": np.random.default_rng(ss[5].spawn(len(SHARE_MEASURES))[i])}


def _correct_rows(measure, flags, d: _Dated, cohort_edges, rates, n_boot, rng, verdict) -> tuple[pd.DataFrame, dict]:
    """The correction of one share measure for the coder's error and its tipping point
    (:func:`_corrected`), its corrected estimates and intervals written into the ``verdict`` rows."""
    table, tip = _corrected(measure, flags, d, cohort_edges, rates, n_boot, rng)
    for row in verdict:
        hit = table[(table["kind"] == "estimate") & (table["quantity"] == row["comparison"])]
        if len(hit):
            row.update(corrected=float(hit["corrected"].iloc[0]), corrected_lo=float(hit["lo"].iloc[0]),
                       corrected_hi=float(hit["hi"].iloc[0]))
    return table, tip


def _share_rows(firms, wanted, d: _Dated, settings, ss, coder, flags, coder_error) -> _Rows:
    """The rows of the share measures ``wanted`` (:func:`_share_measure`), each corrected for
    ``coder_error`` when given."""
    rows = _Rows()
    if not wanted:
        return rows
    cohort_edges = settings["cohort_edges"]
    flags = _share_flags(firms, d, settings["text_fields"], coder, flags, settings["seed"])
    for i, measure in enumerate(wanted):
        lv, gp, tr, dc, vd, rows.weights = _share_measure(
            measure, flags[measure], d, cohort_edges, settings, _share_rngs(ss, i),
            coder_error.candidates(measure) if coder_error is not None else None)
        if coder_error is not None:
            rng = np.random.default_rng(ss[6].spawn(len(SHARE_MEASURES))[i])
            table, tip = _correct_rows(measure, flags[measure], d, cohort_edges, coder_error[measure],
                                       max(settings["n_boot"], MIN_CORRECTION_BOOT), rng, vd)
            rows.corrected.append(table)
            rows.tipping = tip if measure == PRIMARY_MEASURE else rows.tipping
        rows.levels += lv
        rows.gaps += gp
        rows.trend += tr
        rows.decomposition += dc
        rows.verdict += vd
    return rows


def _verdict_frame(verdict: list[dict]) -> pd.DataFrame:
    """The verdict table: one row per measure and comparison, :data:`VERDICT_COLUMNS`, the
    primary row marked, the power columns empty."""
    verdict_table = pd.DataFrame(verdict)
    if len(verdict_table):
        verdict_table["primary"] = ((verdict_table["measure"] == PRIMARY_MEASURE)
                                    & (verdict_table["comparison"] == PRIMARY_COMPARISON))
    verdict_table = verdict_table.reindex(columns=VERDICT_COLUMNS)
    numeric = ["p_gap", "p_gap_logodds", "p_others", "estimate_logodds", "others_slope", "others_upper", "margin",
               "planted", "corrected", "corrected_lo", "corrected_hi", *(c for c in POWER_COLUMNS if c != "mde_bound")]
    verdict_table[numeric] = verdict_table[numeric].apply(pd.to_numeric, errors="coerce")
    verdict_table["mde_bound"] = verdict_table["mde_bound"].astype(object).fillna("")
    return verdict_table


def _assemble_result(rows: _Rows, d: _Dated, settings: dict, notes: list, alpha) -> ConvergenceResult:
    """The result of :func:`analyse` from the measures' rows."""
    verdict_table = _verdict_frame(rows.verdict)
    return ConvergenceResult(
        cohort_table=pd.DataFrame(rows.levels,
                                  columns=["measure", "city", "cohort", "estimate", "lo", "hi", "n", "n_compared"]),
        gap_table=pd.DataFrame(rows.gaps, columns=["measure", "comparison", "cohort", "estimate", "lo", "hi"]),
        trend_table=pd.DataFrame(rows.trend,
                                 columns=["measure", "comparison", "statistic", "unit", "slope", "lo", "hi"]),
        decomposition=pd.DataFrame(rows.decomposition), verdict_table=verdict_table, primary=PRIMARY_MEASURE,
        alpha=float(alpha), n_missing_year=d.n_missing, n_outside_edges=d.n_outside, n_per_cohort=d.per_cohort,
        cohorts=d.labels, weights=rows.weights, settings=settings, notes=notes,
        corrected=pd.concat(rows.corrected, ignore_index=True) if rows.corrected else pd.DataFrame(),
        tipping=rows.tipping)


def analyse(firms: pd.DataFrame, text_fields: Sequence[str] = TEXT_FIELDS,
            cohort_edges: Sequence[int] = COHORT_EDGES, n_subsamples: int = N_SUBSAMPLES, n_boot: int = N_BOOT,
            n_perm: int = N_PERM, alpha: float = ALPHA, seed: int = DEFAULT_SEED, *,
            n_perm_shares: int = DEFAULT_N_PERM_SHARES, margin: float = rule.DEFAULT_MARGIN,
            measures: Sequence[str] | None = None, ci_level: float = 0.95, nb_alpha: float = 1.0,
            min_per_city: int = 3, max_per_city: int = DEFAULT_MAX_PER_CITY,
            max_text_per_cell: int = DEFAULT_MAX_TEXT_PER_CELL, min_df: int = 2, coder: str | None = None,
            flags: dict | None = None, coder_error=None) -> ConvergenceResult:
    """Run the convergence analysis (module docstring) on a firm table (canonical corpus columns).

    Parameters
    ----------
    firms : pandas.DataFrame
        Its ``city``, ``founded_year`` and ``text_fields`` are used (``truth_*`` columns dropped).
    text_fields, cohort_edges : sequence
        The text columns coded and compared; the cohorts ``[a, b)`` of the tables and figures,
        also the window of founding years analysed (the share measures use every year inside).
    n_boot, n_perm, n_perm_shares : int
        Bootstrap replicates, permutations of the text measures and of the share measures' rule
        (0 skips the intervals, the tests).
    alpha, margin, ci_level, seed
        The tests' level, the equivalence margin (share points per year), the intervals' level, the seed.
    measures : sequence of str, optional
        Restricts what is computed (default :data:`MEASURES`).
    n_subsamples, nb_alpha, min_per_city, max_per_city, max_text_per_cell, min_df
        The text measures: distinctiveness's subsamples per cohort, smoothing, fewest firms per
        city (else no estimate) and subsample cap per city; at most ``max_text_per_cell`` firms
        per city and cohort (a seeded subsample, noted); terms used by at least ``min_df`` firms.
    coder, flags
        The share measures' coder, or ``flags`` (``{"public_share": 0/1 per firm, ...}``) instead.
    coder_error : analysis.method.coder_error.CoderError, optional
        Also corrects the share measures for the coder's error (``corrected``, ``tipping``; at
        least :data:`MIN_CORRECTION_BOOT` bootstrap replicates).

    Returns
    -------
    ConvergenceResult
        With empty power columns (:func:`with_power` fills them).
    """
    t0 = time.perf_counter()
    wanted, settings = _checked_settings(
        firms, measures, text_fields=text_fields, cohort_edges=cohort_edges, n_subsamples=n_subsamples,
        n_boot=n_boot, n_perm=n_perm, n_perm_shares=n_perm_shares, alpha=alpha, margin=margin, seed=seed,
        ci_level=ci_level, nb_alpha=nb_alpha, min_per_city=min_per_city, max_per_city=max_per_city,
        max_text_per_cell=max_text_per_cell, min_df=min_df, coder=coder)
    firms = firms.loc[:, [c for c in firms.columns if not str(c).startswith("truth_")]].reset_index(drop=True)
    d = _dated_firms(firms, settings["cohort_edges"])
    notes = list(d.notes)
    # subsamples, boot designs, perm designs, share perms, boots, year boots, the coder-error correction
    ss = np.random.SeedSequence(int(seed)).spawn(7)
    rows = _share_rows(firms, [m for m in SHARE_MEASURES if m in wanted], d, settings, ss, coder, flags, coder_error)
    text_wanted = [m for m in TEXT_MEASURES if m in wanted]
    if text_wanted:
        lv, tr, vd = _text_measures(firms, text_wanted, d, settings["text_fields"], settings["cohort_edges"],
                                    settings, ss, notes)
        rows.levels, rows.trend, rows.verdict = rows.levels + lv, rows.trend + tr, rows.verdict + vd
    result = _assemble_result(rows, d, settings, notes, alpha)
    result.seconds = time.perf_counter() - t0
    return result


def _cap_cells(design: CohortDesign, cap: int, rng) -> np.ndarray:
    """Indices of the firms kept when every city x cohort cell is cut to at most ``cap``
    firms at random (all firms when no cell is larger), in their original order."""
    if design.sizes.max(initial=0) <= cap:
        return np.arange(design.n_firms)
    keep = []
    for c in range(design.n_cities):
        for q in range(design.n_cohorts):
            idx = design.members(c, q)
            keep.append(idx if len(idx) <= cap else rng.choice(idx, cap, replace=False))
    return np.sort(np.concatenate(keep))


def with_power(result: ConvergenceResult, power: pd.DataFrame | None,
               planted: dict[str, float] | None = None, validated: bool | None = None) -> ConvergenceResult:
    """The result with the power columns of its verdict table filled from
    :func:`analysis.method.validation.power_summary`, ``planted`` (comparison -> the planted gap
    slope, share points per year, of a simulated corpus whose truth is known) on the primary
    measure's rows, and ``coder_validated`` (``yes`` when the coder was scored on a coding
    sample of this corpus, ``no`` otherwise; empty when ``validated`` is None).

    Parameters
    ----------
    result : ConvergenceResult
        What :func:`analyse` returned; its verdict table is replaced.
    power : pandas.DataFrame or None
        A table of :func:`~analysis.method.validation.power_summary` (None or empty: power columns NaN).
    planted : dict, optional
        Comparison -> the planted gap slope, share points per year.
    validated : bool, optional
        Whether the coder was scored on a coding sample of this corpus.

    Returns
    -------
    ConvergenceResult
        ``result`` itself, with the new ``verdict_table``.
    """
    t = result.verdict_table.drop(columns=POWER_COLUMNS)
    if power is not None and len(power) and len(t):
        t = t.merge(power[["measure", "comparison", *POWER_COLUMNS]], on=["measure", "comparison"], how="left")
    else:
        for c in POWER_COLUMNS:
            t[c] = np.nan
    t["mde_bound"] = t["mde_bound"].astype(object).fillna("")
    t["planted"] = np.nan
    if planted:
        is_primary = t["measure"] == PRIMARY_MEASURE
        t.loc[is_primary, "planted"] = t.loc[is_primary, "comparison"].map(planted).astype(float)
    t["coder_validated"] = "" if validated is None else ("yes" if validated else "no")
    result.verdict_table = t[VERDICT_COLUMNS]
    return result


def primary_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The rows of a table with ``measure`` and ``comparison`` columns (a result's decomposition,
    a power summary, a study's replicates) for the primary measure and the primary comparison
    (:data:`PRIMARY_MEASURE`, :data:`PRIMARY_COMPARISON`).

    Parameters
    ----------
    table : pandas.DataFrame
        Any table with ``measure`` and ``comparison`` columns.

    Returns
    -------
    pandas.DataFrame
        Those rows, their index kept; none when the primary measure could not be computed.
    """
    return table[(table["measure"] == PRIMARY_MEASURE) & (table["comparison"] == PRIMARY_COMPARISON)]


# ---------------------------------------------------------------------------------------
# Sensitivity of the primary decision to analytic choices
# ---------------------------------------------------------------------------------------
ALTERNATIVE_EDGES = ((2014, 2016, 2018, 2020, 2023), (2014, 2018, 2023), (2015, 2018, 2021, 2023))
ALTERNATIVE_TEXT_FIELDS = (("description",), ("description", "full_description"),
                           ("description", "full_description", "website_text"))


def coders_available() -> tuple[str, ...]:
    """Coders :func:`analysis.text.classify.code_with` can run here: ``dictionary`` always, and
    ``supervised`` when there are hand-coded texts to train it on (the shipped check sets or a
    coding sample).

    Returns
    -------
    tuple of str
        :data:`analysis.text.classify.CODERS`, or ``("dictionary",)`` alone.
    """
    return CODERS if not supervised_training().empty else ("dictionary",)


def sensitivity_specs(text_fields: Sequence[str], cohort_edges: Sequence[int],
                      coder: str | None = None) -> list[dict]:
    """The main specification first, then one change at a time: up to three other sets of cohort
    edges (:data:`ALTERNATIVE_EDGES`), the other sets of text fields (:data:`ALTERNATIVE_TEXT_FIELDS`),
    and every other available coder (:func:`coders_available`).

    Parameters
    ----------
    text_fields : sequence of str
        The main specification's text columns.
    cohort_edges : sequence of int
        The main specification's cohort edges.
    coder : str, optional
        The main specification's coder (None or empty: :data:`analysis.text.classify.DEFAULT_CODER`).

    Returns
    -------
    list of dict
        Per specification: ``cohort_edges`` and ``text_fields`` (tuples), ``coder`` and ``change``
        (``main specification``, ``cohort edges``, ``text fields`` or ``coder``).
    """
    main = {"cohort_edges": tuple(int(e) for e in cohort_edges), "text_fields": tuple(text_fields),
            "coder": coder or DEFAULT_CODER}
    specs = [{**main, "change": "main specification"}]
    for e in ALTERNATIVE_EDGES:
        if tuple(e) != main["cohort_edges"]:
            specs.append({**main, "cohort_edges": tuple(e), "change": "cohort edges"})
    specs = specs[:4]
    for tf in ALTERNATIVE_TEXT_FIELDS:
        if tuple(tf) != main["text_fields"]:
            specs.append({**main, "text_fields": tuple(tf), "change": "text fields"})
    for c in coders_available():
        if c != main["coder"]:
            specs.append({**main, "coder": c, "change": "coder"})
    return specs


def sensitivity(firms: pd.DataFrame, text_fields: Sequence[str], cohort_edges: Sequence[int], *,
                alpha: float = ALPHA, seed: int = DEFAULT_SEED, n_perm_shares: int = DEFAULT_N_PERM_SHARES,
                specs: list[dict] | None = None, coder: str | None = None,
                margin: float = rule.DEFAULT_MARGIN) -> pd.DataFrame:
    """The primary decision under each specification of :func:`sensitivity_specs` (or ``specs``),
    the main one coded by ``coder``.  Keyness correction is not a row: no convergence measure uses
    key terms, so it cannot change this decision.

    Parameters
    ----------
    firms : pandas.DataFrame
        The firm table, as for :func:`analyse`.
    text_fields : sequence of str
        The main specification's text columns (those not in ``firms`` are dropped).
    cohort_edges : sequence of int
        The main specification's cohort edges.
    alpha, margin : float
        The rule's level and its equivalence margin, share points per year.
    seed : int
        The seed of every run.
    n_perm_shares : int
        Permutations of the rule in every run.
    specs : list of dict, optional
        The specifications as :func:`sensitivity_specs` gives them, the main one first (None or empty: its own).
    coder : str, optional
        The main specification's coder (None or empty: :data:`analysis.text.classify.DEFAULT_CODER`).

    Returns
    -------
    pandas.DataFrame
        Columns change, cohort_edges, text_fields, coder, estimate (share points per year), p,
        p_mcse, decision, reason, agrees (decision equal to the main specification's).

    Raises
    ------
    ValueError
        As :func:`analyse`, for a specification it rejects (e.g. no ``city`` or ``founded_year`` column).
    """
    fields = [str(f) for f in as_list(text_fields, name="text_fields")]
    present = [f for f in fields if f in firms.columns]
    specs = specs or sensitivity_specs(present, cohort_edges, coder)
    rows, coded = [], {}
    for spec in specs:
        tf = [f for f in spec["text_fields"] if f in firms.columns]
        key = (tuple(tf), spec["coder"])
        if key not in coded:  # code each text-field / coder combination once
            coded[key] = share_flags(firms, tf, spec["coder"], seed)
        res = analyse(firms, text_fields=tf, cohort_edges=spec["cohort_edges"], n_boot=0, n_perm=0,
                      n_perm_shares=n_perm_shares, alpha=alpha, seed=seed, measures=(PRIMARY_MEASURE,), margin=margin,
                      coder=spec["coder"], flags=coded[key])
        r = res.primary_row()
        rows.append({"change": spec["change"], "cohort_edges": ", ".join(str(e) for e in spec["cohort_edges"]),
                     "text_fields": ", ".join(tf), "coder": spec["coder"], "estimate": float(r["estimate"]),
                     "p": float(r["p"]), "p_mcse": float(r["p_mcse"]), "decision": r["decision"],
                     "reason": r["reason"]})
    out = pd.DataFrame(rows)
    out["agrees"] = out["decision"] == out["decision"].iloc[0]
    return out
