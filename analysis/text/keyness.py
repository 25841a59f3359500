"""Keyness with the firm as the unit, and quanteda's token-level keyness beside it.

**Firm-level keyness** (:func:`firm_keyness`, what the book calls "key" or "over-used").  A firm
is one observation: for every feature, ``firms_target`` (a) is how many target firms use it at
least once and ``firms_reference`` (b) how many reference firms do, out of n_t and n_r firms
(N = n_t + n_r, K = a + b).  How often a firm repeats a word does not count, so a long web page
that repeats its own vocabulary is still one firm.

* ``p``: one-sided Fisher exact test for over-use by the target, P(X >= a) for X hypergeometric
  (N firms, K of them using the feature, n_t drawn): ``scipy.stats.hypergeom.sf(a - 1, N, K,
  n_t)``, equal to ``scipy.stats.fisher_exact([[a, b], [n_t - a, n_r - b]],
  alternative="greater")``.  Under shuffled city labels this p is exact (conservative through
  discreteness) whatever the firms' texts look like, because only the labels are random.
* ``p_under``: the same test in the other direction, P(X <= a) (``hypergeom.cdf``), so that a
  figure can show what the target under-uses; ``q_under`` is its own Benjamini-Hochberg family.
  Only ``q`` (over-use) decides what is key.
* ``q``: ``p`` Benjamini-Hochberg adjusted over all features of the table (:func:`bh_adjust`).
* ``log_ratio``: the effect size, log2 of the target's share of firms using the feature over
  the reference's share, each share smoothed by adding 0.5 to each of the four cells (firms
  with and without the feature in each group): log2(((a + 0.5) / (n_t + 1)) / ((b + 0.5) /
  (n_r + 1))).  0 means the same share; 1 twice the share; -1 half.  The smoothing keeps a
  feature absent from one group finite and pulls ratios built on a handful of firms towards 0.

Rows are sorted by ``p`` ascending (the strongest evidence of over-use first; since BH is
monotone, the key features are the first rows), ties by ``log_ratio`` descending, then feature
in byte order; a feature no firm uses has NaN p and sorts last.  :func:`keyness_table` adds the
token-level chi2 columns below, by feature, kept for comparison with the brief.

**Token-level keyness as quanteda.textstats (0.97) computes it** (:func:`keyness`).

``keyness`` reproduces ``textstat_keyness(x, target, measure, correction)``: the target
rows and the reference rows are summed into two groups and, for every feature, the 2x2
table  a = target count, b = reference count, c = target total - a, d = reference total -
b  (N = a + b + c + d) gives

* chi2:  N (|ad - bc| - N delta)^2 / ((a+b)(c+d)(a+c)(b+d)), where under correction
  "default"/"yates" delta = 0.5 only when |ad - bc| >= N/2 and some expected cell is
  below 5 (otherwise 0); "none" never corrects.  ("williams" multiplies by Williams' q,
  which is what quanteda's code does for chi2.)
* lr:  G2 = 2 sum O ln(O/E + 1e-9) over the four cells (quanteda adds 1e-9 inside the
  logarithm); "default"/"yates" first move the four observed counts by the same
  conditional delta towards independence; "williams" divides G2 by Williams' q
  (q = 1 when any cell is 0); "none" neither.
* pmi:  ln(a/E + 1e-9), unsigned, no correction.

The statistic is positive when the target's count exceeds its expected count
E = (a+b)(a+c)/N, otherwise negative (a tie is negative); p = 1 - F_chi2(|stat|, 1).
With many features tested at once, ``q`` carries the Benjamini-Hochberg adjusted p-value
over all features of the table (``adjust="bh"``, the default) or p itself (``"none"``).
Rows are sorted by statistic, descending, ties by feature name in byte order.  A feature
absent from both groups has an undefined statistic (NaN, as in quanteda) and sorts last.
This p treats every occurrence of a word as an independent draw: a firm that repeats a word
counts as many observations, so under shuffled city labels it finds "key" terms far more often
than alpha says (the tests measure how often).  The book shows it beside the firm-level test,
for comparison with the brief, and decides nothing with it.

:func:`key_terms` keeps the rows of a table whose over-use q is below alpha.  All of it is
numpy over all features at once.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.special import chdtrc as _chi2_sf  # survival function of chi2; cheaper to import than scipy.stats

from analysis.defaults import KEYNESS_ADJUST
from analysis.text import preprocess as _text

__all__ = ["keyness", "firm_keyness", "keyness_table", "over_use_p", "under_use_p",
           "log_ratio", "frequency_table", "cosine_similarity", "bh_adjust", "key_terms", "MEASURES",
           "CORRECTIONS", "ADJUSTMENTS", "LOG_RATIO_SMOOTHING", "TOKEN_COLUMNS"]

MEASURES = ("chi2", "lr", "pmi")
CORRECTIONS = ("default", "yates", "williams", "none")
ADJUSTMENTS = ("bh", "none")  # multiplicity adjustment of keyness p-values (parameter keyness_adjust)
_EPS = 1e-9
LOG_RATIO_SMOOTHING = 0.5  # added to each cell of a feature's 2x2 table of firms before the log ratio


def _two_rows(counts, target) -> tuple[np.ndarray, np.ndarray]:
    """Summed target row and reference row as float arrays."""
    target = np.asarray(target)
    if target.dtype != bool:
        raise TypeError("keyness: target must be a boolean mask over the rows")
    if sp.issparse(counts):
        mat = sp.csr_matrix(counts)
    else:
        mat = np.asarray(counts)
        if mat.ndim != 2:
            raise ValueError("keyness: counts must be a 2-D matrix (rows x features)")
    n_rows = mat.shape[0]
    if len(target) != n_rows:
        raise ValueError(f"keyness: target has {len(target)} entries for {n_rows} rows")
    if n_rows < 2:
        raise ValueError("keyness: counts must have at least two rows")
    if target.all() or not target.any():
        raise ValueError("keyness: the target must be some but not all of the rows")
    a = np.asarray(mat[target].sum(axis=0), dtype=np.float64).ravel()
    b = np.asarray(mat[~target].sum(axis=0), dtype=np.float64).ravel()
    if a.sum() + b.sum() == 0:
        raise ValueError("keyness: the matrix is empty (no counts)")
    return a, b


def _yates_delta(a, b, c, d, n):
    # a, b, c, d: the 2x2 table per term (target with it, reference with it, target without,
    # reference without), n its total: the notation of quanteda's textstat_keyness
    cond = (np.abs(a * d - b * c) >= n / 2) & (
        ((a + b) * (a + c) / n < 5)
        | ((a + b) * (b + d) / n < 5)
        | ((a + c) * (c + d) / n < 5)
        | ((c + d) * (b + d) / n < 5)
    )
    return np.where(cond, 0.5, 0.0)


def _williams_q(a, b, c, d, n):
    with np.errstate(divide="ignore", invalid="ignore"):
        q = 1.0 + (n / (a + b) + n / (c + d) - 1.0) * (n / (a + c) + n / (b + d) - 1.0) / (6.0 * n)
    return np.where(a * b * c * d == 0, 1.0, q)


def _statistic(a, b, measure: str, correction: str) -> np.ndarray:
    tn, rn = a.sum(), b.sum()
    c, d = tn - a, rn - b
    n = a + b + c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        e = (a + b) * (a + c) / n
        sign = np.where(a > e, 1.0, -1.0)
        if measure == "chi2":
            delta = _yates_delta(a, b, c, d, n) if correction in ("default", "yates") else 0.0
            q = _williams_q(a, b, c, d, n) if correction == "williams" else 1.0
            num = n * (np.abs(a * d - b * c) - n * delta) ** 2
            den = (a + b) * (c + d) * (a + c) * (b + d) * sign / q
            return num / den
        if measure == "lr":
            aa, bb, cc, dd = a, b, c, d
            if correction in ("default", "yates"):
                delta = _yates_delta(a, b, c, d, n)
                s = np.where(a * d - b * c > 0, 1.0, -1.0)
                aa, bb, cc, dd = a - s * delta, b + s * delta, c + s * delta, d - s * delta

            def term(o, r1, r2):
                return o * np.log(o / (r1 * r2 / n) + _EPS)

            g2 = 2 * (
                term(aa, aa + bb, aa + cc)
                + term(bb, aa + bb, bb + dd)
                + term(cc, aa + cc, cc + dd)
                + term(dd, bb + dd, cc + dd)
            ) * sign
            if correction == "williams":
                g2 = g2 / _williams_q(a, b, c, d, n)
            return g2
        if measure == "pmi":
            return np.log(a / e + _EPS)
    raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")


def _byte_key(features: Sequence[str]) -> np.ndarray:
    """Rank of each feature in byte (UTF-8) order, R's method = "radix"."""
    enc = [f.encode("utf-8") for f in features]
    order = sorted(range(len(enc)), key=enc.__getitem__)
    rank = np.empty(len(enc), dtype=np.int64)
    rank[order] = np.arange(len(enc))
    return rank


def bh_adjust(p) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (R's ``p.adjust(p, "BH")``): for the i-th smallest
    of m p-values, min over j >= i of m p_(j) / j, capped at 1. NaN stays NaN and does not
    count towards m.

    Parameters
    ----------
    p : array_like
        The p-values (NaN allowed).

    Returns
    -------
    numpy.ndarray
        The adjusted p-values (float), in the same places.
    """
    p = np.asarray(p, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    vals = p[ok]
    m = len(vals)
    if m == 0:
        return out
    order = np.argsort(vals, kind="mergesort")
    scaled = vals[order] * m / np.arange(1, m + 1)
    adj = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out


def key_terms(table: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """The rows of a keyness table whose term the target over-uses with q < ``alpha`` (p without
    a ``q`` column), in the table's order.  On a firm-level table (:func:`firm_keyness`, with a
    ``log_ratio`` column) q is the one-sided over-use test and decides alone; on quanteda's
    token table (:func:`keyness`) the statistic's sign gives the direction.

    Parameters
    ----------
    table : pandas.DataFrame
        A keyness table (:func:`firm_keyness`, :func:`keyness_table` or :func:`keyness`).
    alpha : float
        The level q (or p) must stay below.

    Returns
    -------
    pandas.DataFrame
        The rows kept, with the table's columns and index.
    """
    col = "q" if "q" in table.columns else "p"
    if "log_ratio" in table.columns:
        return table[table[col] < alpha]
    return table[(table["statistic"] > 0) & (table[col] < alpha)]


def _group_sums(counts, target, features, adjust: str) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The checks both keyness tests share (the adjustment's name, one name per column) and
    the target's and the reference's column sums of ``counts``."""
    if adjust not in ADJUSTMENTS:
        raise ValueError(f"keyness_adjust must be one of {ADJUSTMENTS}, got {adjust!r}")
    features = [str(f) for f in features]
    a, b = _two_rows(counts, target)
    if len(features) != len(a):
        raise ValueError(f"keyness: {len(features)} feature names for {len(a)} columns")
    return features, a, b


def _adjusted(p, adjust: str) -> np.ndarray:
    """p adjusted for testing every feature: Benjamini-Hochberg (``bh``) or not (``none``)."""
    return bh_adjust(p) if adjust == "bh" else p


def keyness(counts, target, features, measure: str = "chi2", correction: str = "default",
            sort: bool = True, adjust: str = KEYNESS_ADJUST) -> pd.DataFrame:
    """Keyness of the ``target`` rows against all other rows (textstat_keyness).

    Parameters
    ----------
    counts : array_like or scipy.sparse matrix
        Token counts, rows (documents) x features.
    target : array_like of bool
        True for the target rows: some, not all.
    features : sequence of str
        A name per column.
    measure : {"chi2", "lr", "pmi"}
        The statistic (see the module's docstring).
    correction : {"default", "yates", "williams", "none"}
        Its correction.
    sort : bool
        Rows by statistic, descending (see the module's docstring); else in column order.
    adjust : {"bh", "none"}
        How ``q`` adjusts p for testing every feature.

    Returns
    -------
    pandas.DataFrame
        Columns feature, statistic, p, q (p adjusted by ``adjust``), n_target, n_reference (the
        two groups' counts; integers when the counts are).

    Raises
    ------
    ValueError
        ``measure``, ``correction`` or ``adjust`` unknown; counts not a 2-D matrix of at least
        two rows with some count; a target of all or none of the rows, or of another length;
        not one feature name per column.
    TypeError
        ``target`` is not boolean.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    if correction not in CORRECTIONS:
        raise ValueError(f"correction must be one of {CORRECTIONS}, got {correction!r}")
    features, a, b = _group_sums(counts, target, features, adjust)
    stat = _statistic(a, b, measure, correction)
    p = _chi2_sf(1, np.abs(stat))
    out = pd.DataFrame({
        "feature": features,
        "statistic": stat,
        "p": p,
        "q": _adjusted(p, adjust),
        "n_target": a,
        "n_reference": b,
    })
    if np.all(a == np.round(a)) and np.all(b == np.round(b)):
        out["n_target"] = a.astype(np.int64)
        out["n_reference"] = b.astype(np.int64)
    if sort and len(out):
        key_stat = np.where(np.isnan(stat), np.inf, -stat)
        order = np.lexsort((_byte_key(features), key_stat))
        out = out.iloc[order].reset_index(drop=True)
    return out


def frequency_table(counts, features, groups=None, n: int | None = None,
                    order=None) -> pd.DataFrame:
    """Feature frequencies (textstat_frequency): columns feature, frequency, rank (ties get
    the minimum rank), docfreq (documents with the feature), group ("all" without groups).
    Only features present in a group are listed; within a group, by rank, ties in feature
    order; ``n`` keeps the first n rows of each group.

    Parameters
    ----------
    counts : array_like or scipy.sparse matrix
        Counts, documents x features.
    features : sequence of str
        A name per column.
    groups, order : sequence or None
        A group label per row, and the groups in order, as in :func:`analysis.text.preprocess.group_rows`
        (``groups`` None: one group, "all").
    n : int or None
        Rows kept per group (None: all).

    Returns
    -------
    pandas.DataFrame
        Columns feature, frequency, rank, docfreq, group; the groups one after the other.

    Raises
    ------
    ValueError
        Not one feature name per column, or not one group label per row.
    """
    mat = sp.csr_matrix(counts)
    features = [str(f) for f in features]
    if len(features) != mat.shape[1]:
        raise ValueError(f"frequency_table: {len(features)} feature names for {mat.shape[1]} columns")
    if groups is None:
        groups = ["all"] * mat.shape[0]
    tf, levels = _text.group_rows(mat, groups, order=order)
    boolean = mat.copy()
    boolean.data = (boolean.data != 0).astype(mat.dtype)
    df, _ = _text.group_rows(boolean, groups, order=levels)
    frames = []
    for gi, level in enumerate(levels):
        freq = np.asarray(tf[gi].toarray()).ravel()
        docf = np.asarray(df[gi].toarray()).ravel()
        cols = np.flatnonzero(freq != 0)
        f = freq[cols]
        rank = pd.Series(-f).rank(method="min").to_numpy().astype(np.int64)
        o = np.lexsort((cols, rank))
        part = pd.DataFrame({
            "feature": [features[i] for i in cols[o]],
            "frequency": f[o],
            "rank": rank[o],
            "docfreq": docf[cols[o]],
            "group": level,
        })
        if n is not None:
            part = part.head(n)
        frames.append(part)
    cols = ["feature", "frequency", "rank", "docfreq", "group"]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    return out[cols]


def cosine_similarity(matrix) -> np.ndarray:
    """Cosine similarity between rows (e.g. the grouped tf-idf rows of the cities).
    A row of zeros has similarity 0 with everything (NaN is never returned).

    Parameters
    ----------
    matrix : array_like or scipy.sparse matrix
        The rows to compare.

    Returns
    -------
    numpy.ndarray
        Rows x rows similarities.
    """
    if sp.issparse(matrix):
        m = sp.csr_matrix(matrix, dtype=np.float64)
        gram = np.asarray((m @ m.T).todense())
    else:
        m = np.asarray(matrix, dtype=np.float64)
        gram = m @ m.T
    norm = np.sqrt(np.clip(np.diag(gram), 0, None))
    denom = np.outer(norm, norm)
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(denom > 0, gram / denom, 0.0)
    return sim


# ----------------------------------------------------------------------------- firm level
TOKEN_COLUMNS = {"statistic": "chi2", "p": "p_chi2", "q": "q_chi2"}  # keyness()'s names in keyness_table


def _binary_rows(docs) -> sp.csr_matrix:
    mat = sp.csr_matrix(docs)
    out = mat.copy()
    out.data = (out.data != 0).astype(np.int64)
    out.eliminate_zeros()
    return out


def over_use_p(a, k, n, total) -> np.ndarray:
    """One-sided Fisher exact p for over-use: P(X >= a) for X ~ hypergeometric(``total`` rows,
    ``k`` of them with the feature, ``n`` target rows drawn).  Broadcasts, so a matrix of target
    counts (one row per shuffle of the labels) is tested in one call.

    Parameters
    ----------
    a, k : array_like
        Target rows with the feature, and all rows with it.
    n, total : int or array_like
        Target rows, and all rows.

    Returns
    -------
    numpy.ndarray
        The p-values, in the broadcast shape of the arguments.
    """
    from scipy.stats import hypergeom  # imported here: scipy.stats takes over half a second to import

    return hypergeom.sf(np.asarray(a) - 1, total, k, n)


def under_use_p(a, k, n, total) -> np.ndarray:
    """One-sided Fisher exact p for under-use: P(X <= a), X as in :func:`over_use_p`.

    Parameters
    ----------
    a, k : array_like
        Target rows with the feature, and all rows with it.
    n, total : int or array_like
        Target rows, and all rows.

    Returns
    -------
    numpy.ndarray
        The p-values, in the broadcast shape of the arguments.
    """
    from scipy.stats import hypergeom

    return hypergeom.cdf(a, total, k, n)


def log_ratio(a, b, n_target, n_reference, smoothing: float = LOG_RATIO_SMOOTHING) -> np.ndarray:
    """log2 of the target's share of rows with the feature over the reference's, ``smoothing``
    added to each of the four cells: log2(((a + s) / (n_t + 2s)) / ((b + s) / (n_r + 2s))).

    Parameters
    ----------
    a, b : array_like
        Target rows and reference rows with the feature.
    n_target, n_reference : int or array_like
        Rows in the target and in the reference.
    smoothing : float
        s, added to each cell.

    Returns
    -------
    numpy.ndarray
        The log ratios (float), in the broadcast shape of the arguments.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    s = smoothing
    return np.log2((a + s) / (n_target + 2 * s)) - np.log2((b + s) / (n_reference + 2 * s))


def firm_keyness(docs, target, features, adjust: str = KEYNESS_ADJUST, sort: bool = True) -> pd.DataFrame:
    """Keyness of the ``target`` rows (firms) against all other rows, with the firm as the
    unit (see the module's docstring).

    Parameters
    ----------
    docs : array_like or scipy.sparse matrix
        Counts, firms x features (only whether a count is non-zero matters).
    target : array_like of bool
        True for the target rows: some, not all.
    features : sequence of str
        A name per column.
    adjust : {"bh", "none"}
        How ``q`` and ``q_under`` adjust p and p_under for testing every feature.
    sort : bool
        Rows in the order the module's docstring gives; else in column order.

    Returns
    -------
    pandas.DataFrame
        Columns feature, firms_target, firms_reference, log_ratio, p, q, p_under, q_under (NaN
        log_ratio and p-values for a feature no firm uses).

    Raises
    ------
    ValueError
        ``adjust`` unknown; ``docs`` of fewer than two rows or without any count; a target of all
        or none of the rows, or of another length; not one feature name per column.
    TypeError
        ``target`` is not boolean.
    """
    features, a, b = _group_sums(_binary_rows(docs), target, features, adjust)
    target = np.asarray(target)
    n_t, n_r = int(target.sum()), int((~target).sum())
    k = a + b
    used = k > 0
    p = np.where(used, over_use_p(a, k, n_t, n_t + n_r), np.nan)
    p_under = np.where(used, under_use_p(a, k, n_t, n_t + n_r), np.nan)
    lr = np.where(used, log_ratio(a, b, n_t, n_r), np.nan)
    out = pd.DataFrame({
        "feature": features,
        "firms_target": a.astype(np.int64),
        "firms_reference": b.astype(np.int64),
        "log_ratio": lr,
        "p": p,
        "q": _adjusted(p, adjust),
        "p_under": p_under,
        "q_under": _adjusted(p_under, adjust),
    })
    return _firm_order(out) if sort else out


def _firm_order(table: pd.DataFrame) -> pd.DataFrame:
    """Over-use p ascending (NaN last), then log ratio descending, then feature in byte order."""
    if not len(table):
        return table
    p, lr = table["p"].to_numpy(), table["log_ratio"].to_numpy()
    order = np.lexsort((_byte_key(table["feature"].tolist()), -np.nan_to_num(lr, nan=-np.inf),
                        np.where(np.isnan(p), np.inf, p)))
    return table.iloc[order].reset_index(drop=True)


def keyness_table(docs, target, features, adjust: str = KEYNESS_ADJUST, correction: str = "default") -> pd.DataFrame:
    """The table the book shows for one target: :func:`firm_keyness` (which decides what is
    key, and sets the order) with quanteda's token-level chi2 beside it (:func:`keyness`,
    ``measure="chi2"``), renamed chi2, p_chi2, q_chi2, with its token counts n_target and
    n_reference.

    Parameters
    ----------
    docs : array_like or scipy.sparse matrix
        Token counts, firms x features.
    target : array_like of bool
        True for the target rows: some, not all.
    features : sequence of str
        A name per column.
    adjust : {"bh", "none"}
        How every q adjusts its p for testing every feature.
    correction : {"default", "yates", "williams", "none"}
        The chi2's correction (see :func:`keyness`).

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`firm_keyness` and chi2, p_chi2, q_chi2, n_target, n_reference, in
        :func:`firm_keyness`'s order.

    Raises
    ------
    ValueError
        ``adjust`` or ``correction`` unknown; ``docs`` of fewer than two rows or without any count;
        a target of all or none of the rows, or of another length; not one feature name per column.
    TypeError
        ``target`` is not boolean.
    """
    firm = firm_keyness(docs, target, features, adjust=adjust, sort=False)
    token = keyness(docs, target, features, measure="chi2", correction=correction, adjust=adjust, sort=False)
    token = token.drop(columns="feature").rename(columns=TOKEN_COLUMNS)
    return _firm_order(pd.concat([firm, token], axis=1))
