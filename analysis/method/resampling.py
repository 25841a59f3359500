"""Resampling for the convergence tests: trend slopes, permutation p-values with their Monte
Carlo error, percentile bootstrap intervals, and the resampling designs.

Two kinds of design:

* firm-level designs (:func:`permuted_designs`, :func:`bootstrap_designs`) for measures that
  need every firm's words (distinctiveness, centroid cosine): from a corpus's
  :class:`CohortDesign` (each firm's city and cohort), cohort codes shuffled among each city's
  firms, or multiplicities from resampling firms within city x cohort; each resampled design is a
  pair (cohort code per firm, multiplicity per firm or None);
* count-level draws for share measures (:func:`permuted_counts`, :func:`bootstrap_counts`).
  Shuffling founding years among a city's firms moves its flagged firms into cohorts as a
  multivariate hypergeometric draw (cohort sizes fixed), and resampling a cell's firms with
  replacement makes its flagged count binomial; drawing the counts directly gives the same
  distribution as shuffling firm by firm, at a cost that does not grow with the corpus.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["CohortDesign", "ols_slope", "permutation_p", "p_mcse", "decision_stable", "percentile_interval",
           "permuted_designs", "bootstrap_designs", "permuted_counts", "permuted_counts_batch", "bootstrap_counts",
           "bootstrap_year_draws"]


@dataclass(frozen=True, eq=False)
class CohortDesign:
    """The cohort design of a corpus: in which city and cohort each analysed firm sits.

    Attributes
    ----------
    city : numpy.ndarray
        (n,) integer city code per firm, ``0 .. n_cities - 1``.
    cohort : numpy.ndarray
        (n,) integer cohort code per firm, ``0 .. n_cohorts - 1``; negative: left out.
    n_cities, n_cohorts : int
        How many cities and cohorts the codes index (K and Q in the docstrings' shapes).
    """

    city: np.ndarray
    cohort: np.ndarray
    n_cities: int
    n_cohorts: int

    @cached_property
    def sizes(self) -> np.ndarray:
        """(n_cities, n_cohorts) firms per city x cohort (firms with a negative cohort left out)."""
        ok = self.cohort >= 0
        cell = self.city[ok] * self.n_cohorts + self.cohort[ok]
        return np.bincount(cell, minlength=self.n_cities * self.n_cohorts).reshape(self.n_cities, self.n_cohorts)

    @property
    def n_firms(self) -> int:
        return len(self.city)

    def take(self, rows) -> CohortDesign:
        """The design of the firms ``rows`` (indices), in that order."""
        return CohortDesign(self.city[rows], self.cohort[rows], self.n_cities, self.n_cohorts)

    def members(self, city: int, cohort: int) -> np.ndarray:
        """Indices of the firms of one city x cohort cell, in their order."""
        return np.flatnonzero((self.city == city) & (self.cohort == cohort))

    def cell_sums(self, weights) -> np.ndarray:
        """(n_cities, n_cohorts) sums of ``weights`` (one per firm) per city x cohort, e.g. the
        flagged firms of each cell (firms with a negative cohort left out)."""
        ok = self.cohort >= 0
        cell = self.city[ok] * self.n_cohorts + self.cohort[ok]
        return np.bincount(cell, weights=np.asarray(weights, dtype=float)[ok],
                           minlength=self.n_cities * self.n_cohorts).reshape(self.n_cities, self.n_cohorts)


def ols_slope(values, x=None) -> np.ndarray | float:
    """OLS slope of ``values`` on ``x`` along the last axis, ignoring NaN entries; NaN when fewer
    than two points remain.

    Parameters
    ----------
    values : array_like
        The series, along the last axis.
    x : array_like, optional
        The abscissae, broadcastable to ``values`` (None: 0, 1, 2, ...).

    Returns
    -------
    float or numpy.ndarray
        A float for a 1-D ``values``, else the slopes, of shape ``values.shape[:-1]``.
    """
    v = np.asarray(values, dtype=float)
    scalar = v.ndim == 1
    v = np.atleast_2d(v)
    xs = np.arange(v.shape[-1], dtype=float) if x is None else np.asarray(x, dtype=float)
    xs = np.broadcast_to(xs, v.shape)
    ok = ~np.isnan(v)
    cnt = ok.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        xm = np.where(ok, xs, 0).sum(axis=-1) / cnt
        vm = np.where(ok, v, 0).sum(axis=-1) / cnt
        dx = np.where(ok, xs - xm[..., None], 0)
        dv = np.where(ok, v - vm[..., None], 0)
        slope = (dx * dv).sum(axis=-1) / (dx * dx).sum(axis=-1)
    slope = np.where(cnt >= 2, slope, np.nan)
    return float(slope[0]) if scalar else slope


def permutation_p(observed: float, permuted, direction: str) -> float:
    """One-sided permutation p-value ``(1 + #{at least as extreme}) / (1 + n_perm)``, ``n_perm``
    the permuted values that are not NaN.

    Parameters
    ----------
    observed : float
        The observed statistic.
    permuted : array_like
        The statistic under each permutation (NaN ignored).
    direction : str
        ``"decrease"`` (small is extreme) or ``"increase"``.

    Returns
    -------
    float
        The p-value; NaN when ``observed`` is NaN or ``permuted`` is empty.

    Raises
    ------
    ValueError
        If ``direction`` is neither (checked only when there is a p-value to compute).
    """
    perm = np.asarray(permuted, dtype=float)
    if np.isnan(observed) or perm.size == 0:
        return float("nan")
    perm = perm[~np.isnan(perm)]
    tol = 1e-12 * max(1.0, abs(observed))
    if direction == "decrease":
        hits = np.sum(perm <= observed + tol)
    elif direction == "increase":
        hits = np.sum(perm >= observed - tol)
    else:
        raise ValueError(f"direction must be 'decrease' or 'increase', got {direction!r}")
    return float((1 + hits) / (1 + perm.size))


def percentile_interval(samples, level: float = 0.95, axis: int = 0):
    """Percentile bootstrap interval (lo, hi), ignoring NaN replicates.

    Parameters
    ----------
    samples : array_like
        The bootstrap replicates.
    level : float
        The interval's level.
    axis : int
        The axis along which the replicates lie.

    Returns
    -------
    lo, hi : numpy.ndarray or float
        The ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles; NaN where every replicate is NaN.
    """
    s = np.asarray(samples, dtype=float)
    a = (1 - level) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns give NaN
        lo = np.nanquantile(s, a, axis=axis)
        hi = np.nanquantile(s, 1 - a, axis=axis)
    return lo, hi


def permuted_designs(design: CohortDesign, n_perm: int, rng) -> list[tuple[np.ndarray, None]]:
    """Cohort codes shuffled among each city's analysed firms.

    Parameters
    ----------
    design : CohortDesign
        The observed design; firms with a negative cohort keep it (they stay out).
    n_perm : int
        Number of permuted designs.
    rng : numpy.random.Generator
        Draws one permutation per city for each design, city after city.

    Returns
    -------
    list of (numpy.ndarray, None)
        Per permutation, the shuffled cohort codes of the same firms and no multiplicities.
    """
    city, cohort = design.city, design.cohort
    designs = []
    groups = [np.flatnonzero((city == c) & (cohort >= 0)) for c in range(design.n_cities)]
    for _ in range(n_perm):
        shuffled = cohort.copy()
        for idx in groups:
            shuffled[idx] = cohort[idx][rng.permutation(len(idx))]
        designs.append((shuffled, None))
    return designs


def bootstrap_designs(design: CohortDesign, n_boot: int, rng) -> list[tuple[np.ndarray, np.ndarray]]:
    """Multiplicities from resampling firms with replacement within city x cohort.

    Parameters
    ----------
    design : CohortDesign
        The observed design; a firm with a negative cohort is never drawn.
    n_boot : int
        Number of bootstrap designs.
    rng : numpy.random.Generator
        Draws each cell's firms, cell after cell (cities outer, cohorts inner).

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray)
        Per replicate, the observed cohort codes and how many times each firm was drawn.
    """
    designs = []
    cells = [design.members(c, q) for c in range(design.n_cities) for q in range(design.n_cohorts)]
    n = design.n_firms
    for _ in range(n_boot):
        mult = np.zeros(n, dtype=np.int64)
        for idx in cells:
            if len(idx):
                mult += np.bincount(idx[rng.integers(0, len(idx), len(idx))], minlength=n)
        designs.append((design.cohort, mult))
    return designs


def p_mcse(p, n_perm):
    """Monte Carlo standard error of a permutation p-value, ``sqrt(p (1 - p) / n_perm)``
    (NaN when there is no p-value or no permutation).

    Parameters
    ----------
    p : float or array_like
        The p-values.
    n_perm : int or array_like
        The permutations behind them.

    Returns
    -------
    float or numpy.ndarray
        The standard errors; a float for scalar arguments.
    """
    p = np.asarray(p, dtype=float)
    n = np.asarray(n_perm, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(n > 0, np.sqrt(p * (1 - p) / np.where(n > 0, n, 1)), np.nan)
    return out if out.ndim else float(out)


def decision_stable(p: float, mcse: float, alpha: float, z: float = 2.0) -> bool:
    """Whether the decision ``p < alpha`` would stand with other permutations: alpha lies
    outside ``p ± z·mcse`` (False for a missing p).

    Parameters
    ----------
    p : float
        The permutation p-value.
    mcse : float
        Its Monte Carlo standard error.
    alpha : float
        The level.
    z : float
        How many standard errors alpha must lie away from p.

    Returns
    -------
    bool
        True when ``|p - alpha| > z·mcse``; False when ``p`` or ``mcse`` is NaN.
    """
    if np.isnan(p) or np.isnan(mcse):
        return False
    return bool(abs(p - alpha) > z * mcse)


def permuted_counts(flagged, sizes, n_perm: int, rng) -> np.ndarray:
    """Flagged firms per city x cohort after shuffling founding years within each city.

    Parameters
    ----------
    flagged : array_like
        (K,) flagged firms per city, over all cohorts.
    sizes : array_like
        (K, Q) firms per city x cohort.
    n_perm : int
        Permutations.
    rng : numpy.random.Generator
        Draws them, city after city.

    Returns
    -------
    numpy.ndarray
        (n_perm, K, Q) integer counts: for each city, a multivariate hypergeometric draw of its
        flagged firms over its cohorts.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    K, Q = sizes.shape
    out = np.zeros((int(n_perm), K, Q), dtype=np.int64)
    for k in range(K):
        if sizes[k].sum() == 0 or n_perm == 0:
            continue
        out[:, k, :] = rng.multivariate_hypergeometric(sizes[k], int(flagged[k]), size=int(n_perm))
    return out


def permuted_counts_batch(flagged, sizes, n_perm: int, rng) -> np.ndarray:
    """:func:`permuted_counts` for a batch of tables at once.  The multivariate hypergeometric draw
    is built from conditional hypergeometric draws cohort by cohort, vectorised over tables,
    permutations and cities.

    Parameters
    ----------
    flagged : array_like
        (B, K) flagged firms per table and city, over all cohorts.
    sizes : array_like
        (B, K, Q) firms per table, city and cohort.
    n_perm : int
        Permutations per table.
    rng : numpy.random.Generator
        Draws them.

    Returns
    -------
    numpy.ndarray
        (B, n_perm, K, Q) integer counts.
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    flagged = np.asarray(flagged, dtype=np.int64)
    B, K, Q = sizes.shape
    out = np.zeros((B, int(n_perm), K, Q), dtype=np.int64)
    left = np.broadcast_to(flagged[:, None, :], (B, int(n_perm), K)).copy()
    rest = np.broadcast_to(sizes.sum(axis=-1)[:, None, :], (B, int(n_perm), K)).copy()
    for q in range(Q - 1):
        good = np.broadcast_to(sizes[:, None, :, q], rest.shape)
        bad = rest - good
        draw = np.where(left > 0, rng.hypergeometric(np.maximum(good, 0), np.maximum(bad, 0),
                                                     np.maximum(left, 0)) if left.size else 0, 0)
        out[..., q] = draw
        left -= draw
        rest -= good
    out[..., Q - 1] = left
    return out


def bootstrap_counts(counts, sizes, n_boot: int, rng) -> np.ndarray:
    """Flagged firms per cell after resampling each cell's firms with replacement:
    binomial(size, count/size).

    Parameters
    ----------
    counts : array_like
        (K, Q) flagged firms per city x cohort.
    sizes : array_like
        (K, Q) firms per city x cohort.
    n_boot : int
        Replicates.
    rng : numpy.random.Generator
        Draws them.

    Returns
    -------
    numpy.ndarray
        (n_boot, K, Q) integer counts (0 in an empty cell).
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    counts = np.asarray(counts, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(sizes > 0, counts / np.maximum(sizes, 1), 0.0)
    return rng.binomial(sizes[None], share[None], size=(int(n_boot),) + sizes.shape)


def bootstrap_year_draws(coded, firms, n_boot: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Resampled tables of coded firms and firms: per city, a multinomial draw of its firms over
    the 2Y cells (year x coded or not).

    Parameters
    ----------
    coded, firms : array_like
        (K, Y) coded firms and firms per city and founding year.
    n_boot : int
        Replicates.
    rng : numpy.random.Generator
        Draws them, city after city.

    Returns
    -------
    coded, firms : numpy.ndarray
        (n_boot, K, Y) integer tables each (zero for a city without firms).
    """
    x = np.asarray(coded, dtype=float)
    n = np.asarray(firms, dtype=np.int64)
    K, Y = n.shape
    out_x = np.zeros((int(n_boot), K, Y), dtype=np.int64)
    out_n = np.zeros((int(n_boot), K, Y), dtype=np.int64)
    for k in range(K):
        total = int(n[k].sum())
        if total == 0 or n_boot == 0:
            continue
        cells = np.concatenate([x[k], n[k] - x[k]]) / total
        draw = rng.multinomial(total, cells / cells.sum(), size=int(n_boot))
        out_x[:, k], out_n[:, k] = draw[:, :Y], draw[:, :Y] + draw[:, Y:]
    return out_x, out_n
