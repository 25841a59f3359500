"""The coder's error: measured, carried into the simulation study, corrected for in the estimate.

A share measure counts the firms the coder puts in one category (``public_share``: customer
``public``; ``infrastructure_share``: application ``infrastructure``). Its error is two rates:
the **sensitivity** (of the firms truly in the category, the share coded so) and the
**false-positive rate** (of the firms not in it, the share coded so anyway; an abstention,
``none`` or ``tie``, counts as not coded in the category). They are measured as counts
(:class:`Rates`) on labelled text:

* a **coding sample** of this corpus (``data/coding_sample.csv``, firms of the corpus coded blind
  with the codebook; :func:`analysis.text.classify.load_coding_sample`): the coder is then checked
  on the corpus's own text, and the verdict is not provisional (``coder_validated`` yes);
* otherwise the shipped **check sets**, invented descriptions that language models wrote and
  coded from the codebook (:mod:`analysis.text.checkset`), pooled: the coder was never checked on
  the corpus's text, and the verdict is provisional.

What the rates feed:

* the simulation study draws, for each simulated corpus, the two rates from their sampling
  distribution given the counts (:meth:`Rates.draw`: Jeffreys beta distributions, the
  posterior of a binomial rate under the Jeffreys prior), so that power reflects both the
  coder's error and how little is known about it; :data:`MISSPECIFIED` is a worse coder shown
  beside it;
* the **corrected** shares and estimate (:func:`correction`): the Rogan–Gladen estimator
  ``(observed - fpr) / (sensitivity - fpr)``, which assumes that the rates are the same in every
  city and founding year. Then every city's slope is the observed one divided by
  ``sensitivity - fpr``. The interval is a percentile bootstrap that resamples the firms within
  each city and, independently, the labelled items the rates were counted on (a parametric
  bootstrap of the counts, :meth:`Rates.resample`);
* the **tipping point** (:func:`tipping_point`): how far the false-positive rate of the other
  cities would have to change between the earliest and the latest cohort to produce the
  estimate with no true change anywhere (rates that differ by cohort break the correction's
  assumption; this says how much of that it would take).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.method import convergence_rule as rule
from analysis.defaults import CITIES, CODER, DEFAULT_SEED, TEXT_FIELDS
from analysis.text import checkset, checkset_scores, classify

CI_LEVEL = 0.95

#: share measure -> (dimension, category) whose coding it counts
MEASURE_CATEGORIES = {"public_share": ("customer", "public"), "infrastructure_share": ("application", "infrastructure")}
CHECK_SETS, CODING_SAMPLE, MISSPECIFIED_SOURCE = "check sets", "coding sample", "misspecified"
#: the worse coder the pages show beside the measured one (issue 21): sensitivity, false-positive rate
MISSPECIFIED = (0.80, 0.10)
MIN_SEPARATION = rule.MIN_SEPARATION  # below it the coder barely tells the classes apart: no correction

#: half-widths (95%) a coding sample should give the sensitivity and the false-positive rate
SAMPLE_HALF_WIDTHS = (0.10, 0.05)
SAMPLE_GUESS = (0.90, 0.05)  # the rates assumed when no measurement is at hand, for the sample size


@dataclass(frozen=True)
class Rates:
    """Counts behind one measure's error: of ``positives`` items truly in the category the coder
    put ``hits`` in it; of ``negatives`` items not in it, ``false_hits``."""

    hits: int
    positives: int
    false_hits: int
    negatives: int

    @property
    def sensitivity(self) -> float:
        return self.hits / self.positives if self.positives else float("nan")

    @property
    def false_positive_rate(self) -> float:
        return self.false_hits / self.negatives if self.negatives else float("nan")

    def draw(self, rng, size: int) -> tuple[np.ndarray, np.ndarray]:
        """``size`` draws of (sensitivity, false-positive rate) from Jeffreys beta distributions
        given the counts (a rate with no items is drawn from Beta(1/2, 1/2))."""
        sens = rng.beta(self.hits + 0.5, self.positives - self.hits + 0.5, size)
        fpr = rng.beta(self.false_hits + 0.5, self.negatives - self.false_hits + 0.5, size)
        return sens, fpr

    def candidates(self, level: float = CI_LEVEL) -> list[tuple[float, float]]:
        """The measured (sensitivity, false-positive rate), then each rate at either end of its
        Jeffreys interval with the other at its measured value: the corrections the decision
        rule's log-odds part must hold under."""
        from scipy.special import betaincinv

        a = (1 - level) / 2
        s, f = self.sensitivity, self.false_positive_rate
        s_ends = [float(betaincinv(self.hits + 0.5, self.positives - self.hits + 0.5, q)) for q in (a, 1 - a)]
        f_ends = [float(betaincinv(self.false_hits + 0.5, self.negatives - self.false_hits + 0.5, q))
                  for q in (a, 1 - a)]
        return [(s, f), *((x, f) for x in s_ends), *((s, x) for x in f_ends)]

    def resample(self, rng, size: int) -> tuple[np.ndarray, np.ndarray]:
        """``size`` bootstrap replicates of the two measured rates: the counts drawn again from
        binomials at the measured rates (a parametric bootstrap of the labelled items)."""
        sens = rng.binomial(self.positives, self.sensitivity, size) / self.positives if self.positives \
            else np.full(size, np.nan)
        fpr = rng.binomial(self.negatives, self.false_positive_rate, size) / self.negatives if self.negatives \
            else np.full(size, np.nan)
        return sens, fpr


@dataclass(frozen=True)
class Fixed:
    """Rates taken as known (the misspecified coder of the study)."""

    sensitivity: float
    false_positive_rate: float

    def draw(self, rng, size: int) -> tuple[np.ndarray, np.ndarray]:
        return np.full(size, float(self.sensitivity)), np.full(size, float(self.false_positive_rate))

    resample = draw

    def candidates(self, level: float = CI_LEVEL) -> list[tuple[float, float]]:
        return [(float(self.sensitivity), float(self.false_positive_rate))]


@dataclass(frozen=True)
class CoderError:
    """A coder's error per share measure (``rates``: pairs measure, :class:`Rates` or
    :class:`Fixed`), where it was measured (``source``) and which coder it is."""

    source: str
    coder: str
    rates: tuple

    def __getitem__(self, measure: str):
        return dict(self.rates)[measure]

    def candidates(self, measure: str) -> list[tuple[float, float]]:
        """The corrections the decision rule's log-odds part must hold under (:meth:`Rates.candidates`)."""
        return self[measure].candidates()

    @property
    def validated(self) -> bool:
        """Whether the coder was checked on the corpus's own text (a scored coding sample)."""
        return self.source == CODING_SAMPLE


def from_confusion(confusion: pd.DataFrame, category: str) -> Rates:
    """:class:`Rates` of one category from a confusion matrix (rows the true codes, columns the
    coder's, abstentions among the columns).

    Parameters
    ----------
    confusion : pandas.DataFrame
        Counts of items, rows the true codes, columns the coder's.
    category : str
        The category whose rates are counted.

    Returns
    -------
    Rates
        ``positives`` the items of its row (0 without one), ``hits`` those of them coded ``category``;
        ``negatives`` all other items, ``false_hits`` those of them coded ``category``.
    """
    m = confusion.astype(int)
    col = m[category] if category in m.columns else pd.Series(0, index=m.index)
    positives = int(m.loc[category].sum()) if category in m.index else 0
    hits = int(col.get(category, 0))
    return Rates(hits=hits, positives=positives, false_hits=int(col.sum()) - hits,
                 negatives=int(m.to_numpy().sum()) - positives)


RATE_COUNTS = ("hits", "positives", "false_hits", "negatives")  # the fields of Rates, in order


def _error(source: str, coder: str, confusions: dict[str, list[pd.DataFrame]]) -> CoderError:
    rates = []
    for measure, (dim, cat) in MEASURE_CATEGORIES.items():
        parts = [from_confusion(c, cat) for c in confusions.get(dim, [])]
        rates.append((measure, Rates(*(int(sum(getattr(p, f) for p in parts)) for f in RATE_COUNTS))))
    return CoderError(source, coder, tuple(rates))


def check_set_error(coder: str = CODER, seed: int = DEFAULT_SEED, paths: dict | None = None) -> CoderError:
    """The coder's error on the shipped check sets, pooled: the dictionary as it stands, the
    supervised coder by cross-validation within each set (every description coded by a model
    that did not see it): the ``all`` rows of :func:`check_set_rates` (no counts without a
    check set).

    Parameters
    ----------
    coder : str
        ``dictionary``, or (any other name) the supervised coder.
    seed : int
        Seed of the supervised coder's cross-validation.
    paths : dict, optional
        Set name -> path of the check sets (None: the shipped ones, :func:`analysis.text.checkset.available`).

    Returns
    -------
    CoderError
        Source :data:`CHECK_SETS`, a :class:`Rates` per share measure (all counts 0 without a check set).
    """
    table = check_set_rates(coder, seed, paths)
    rates = []
    for measure in MEASURE_CATEGORIES:
        row = table[(table["measure"] == measure) & (table["language"] == "all")] if len(table) else table
        rates.append((measure, Rates(*(int(row[c].iloc[0]) if len(row) else 0 for c in RATE_COUNTS))))
    return CoderError(CHECK_SETS, coder, tuple(rates))


def check_set_rates(coder: str = CODER, seed: int = DEFAULT_SEED, paths: dict | None = None) -> pd.DataFrame:
    """The counts behind :func:`check_set_error`, pooled over the sets, for all items and per
    language of the items. The study draws from the pooled counts (``all``): its
    simulated corpora are labels, without a language; the rows per language show how far the
    rates differ between English, Chinese and mixed text.

    Parameters
    ----------
    coder : str
        ``dictionary``, or (any other name) the supervised coder.
    seed : int
        Seed of the supervised coder's cross-validation.
    paths : dict, optional
        Set name -> path of the check sets (None: the shipped ones).

    Returns
    -------
    pandas.DataFrame
        Columns measure, language (``all``, then each language present), hits, positives, false_hits,
        negatives, sensitivity, false_positive_rate; empty, without columns, when there is no check set.
    """
    preds = []
    for path in checkset.available(paths).values():
        check = checkset.load(path)
        score = (checkset_scores.score_dictionary(check) if coder == "dictionary"
                 else checkset_scores.score_supervised_cv(check, seed=int(seed)))
        preds.append(score.predictions)
    rows = []
    if not preds:
        return pd.DataFrame(rows)
    pred = pd.concat(preds, ignore_index=True)
    languages = ["all", *(lang for lang in checkset.LANGUAGES if (pred["language"] == lang).any())]
    for measure, (dim, cat) in MEASURE_CATEGORIES.items():
        for lang in languages:
            part = pred if lang == "all" else pred[pred["language"] == lang]
            truth, coded = part[dim].to_numpy() == cat, part[f"{dim}_label"].astype(str).to_numpy() == cat
            r = Rates(int((truth & coded).sum()), int(truth.sum()), int((~truth & coded).sum()), int((~truth).sum()))
            rows.append({"measure": measure, "language": lang, "hits": r.hits, "positives": r.positives,
                         "false_hits": r.false_hits, "negatives": r.negatives, "sensitivity": r.sensitivity,
                         "false_positive_rate": r.false_positive_rate})
    return pd.DataFrame(rows)


def sample_error(firms: pd.DataFrame, coder: str = CODER, text_fields=TEXT_FIELDS,
                 seed: int = DEFAULT_SEED, sample_path=None) -> CoderError | None:
    """The coder's error on the firms of ``firms`` that a coding sample codes. Simulated truth
    columns are not a coding sample: they are dropped first.

    Parameters
    ----------
    firms : pandas.DataFrame
        The corpus's firm table.
    coder : str
        ``dictionary``, or (any other name) the supervised coder.
    text_fields : sequence of str
        The text columns the coder reads.
    seed : int
        Seed of the supervised coder.
    sample_path : str or pathlib.Path, optional
        The coding sample (default :data:`analysis.text.classify.CODING_SAMPLE`).

    Returns
    -------
    CoderError or None
        None when there is no sample, or it codes none of these firms on the measures' dimensions.
    """
    path = classify.CODING_SAMPLE if sample_path is None else sample_path
    if classify.load_coding_sample(path) is None:
        return None
    plain = firms.loc[:, [c for c in firms.columns if not str(c).startswith("truth_")]]
    check = classify.dictionary_check if coder == "dictionary" else classify.supervised_check
    extra = {} if coder == "dictionary" else {"seed": int(seed)}
    confusions = {}
    for dim in dict(MEASURE_CATEGORIES.values()):
        result = check(plain, dim, text_fields=list(text_fields), sample_path=path, **extra)
        if result.available:
            confusions[dim] = [result.confusion]
    return _error(CODING_SAMPLE, coder, confusions) if confusions else None


def for_corpus(firms: pd.DataFrame, coder: str = CODER, text_fields=TEXT_FIELDS,
               seed: int = DEFAULT_SEED) -> CoderError:
    """The error the verdict uses: the corpus's coding sample where one is supplied and scored,
    else the check sets.

    Parameters
    ----------
    firms : pandas.DataFrame
        The corpus's firm table (simulated ``truth_*`` columns are not a coding sample: dropped).
    coder : str
        ``dictionary``, or (any other name) the supervised coder.
    text_fields : sequence of str
        The text columns the coder reads on the firms of the coding sample.
    seed : int
        Seed of the supervised coder.

    Returns
    -------
    CoderError
        Source :data:`CODING_SAMPLE`, or :data:`CHECK_SETS` when no coding sample codes these firms.
    """
    return sample_error(firms, coder, text_fields, seed) or check_set_error(coder, seed)


def misspecified(coder: str = CODER) -> CoderError:
    """The worse coder of :data:`MISSPECIFIED`, for both measures.

    Parameters
    ----------
    coder : str
        The coder's name, recorded with the rates (they do not depend on it).

    Returns
    -------
    CoderError
        Source :data:`MISSPECIFIED_SOURCE`, the same :class:`Fixed` rates for every share measure.
    """
    return CoderError(MISSPECIFIED_SOURCE, coder,
                      tuple((m, Fixed(*MISSPECIFIED)) for m in MEASURE_CATEGORIES))


def corrected(observed, sensitivity, false_positive_rate):
    """Rogan–Gladen: the share in the category given the coded share and the two rates, clipped
    to [0, 1]; NaN where ``sensitivity - false_positive_rate`` < :data:`MIN_SEPARATION`.

    Parameters
    ----------
    observed : array_like
        The coded shares.
    sensitivity, false_positive_rate : array_like
        The coder's rates, broadcastable to ``observed``.

    Returns
    -------
    numpy.ndarray
        ``(observed - false_positive_rate) / (sensitivity - false_positive_rate)``, clipped, or NaN.
    """
    obs = np.asarray(observed, dtype=float)
    sep = np.asarray(sensitivity, dtype=float) - np.asarray(false_positive_rate, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.clip((obs - false_positive_rate) / sep, 0.0, 1.0)
    return np.where(sep >= MIN_SEPARATION, out, np.nan)


def _bootstrap_tables(city, years, flags, t, n_boot: int, rng):
    """(B, K, Y) tables of firms and coded firms, the firms resampled within each city."""
    K, Y = len(CITIES), len(t)
    n = np.zeros((n_boot, K, Y))
    x = np.zeros((n_boot, K, Y))
    for k in range(K):
        idx = np.flatnonzero(city == k)
        if not len(idx):
            continue
        pick = idx[rng.integers(0, len(idx), size=(n_boot, len(idx)))]
        cell = (np.arange(n_boot)[:, None] * Y + (years[pick] - t[0])).ravel()
        n[:, k] = np.bincount(cell, minlength=n_boot * Y).reshape(n_boot, Y)
        x[:, k] = np.bincount(cell, weights=flags[pick].ravel(), minlength=n_boot * Y).reshape(n_boot, Y)
    return n, x


def correction(city, years, flags, first: int, last: int, comps: list, rates, n_boot: int, rng,
               level: float = CI_LEVEL) -> pd.DataFrame:
    """Observed and corrected shares per city and estimates (the rule's gap slope, share points
    per year, one per comparison of ``comps``) of one share measure, with percentile bootstrap
    intervals of the corrected values (firms resampled within city, the rates' counts resampled).

    Parameters
    ----------
    city, years, flags : array_like
        Per firm: city code (index into CITIES), founding year, 1 if coded in the category else 0.
    first, last : int
        The founding years analysed, inclusive (other firms, and those without a city or year, left out).
    comps : list of analysis.method.convergence_rule.Comparison
        The comparisons whose estimates are corrected.
    rates : Rates or Fixed
        The coder's error on this measure.
    n_boot : int
        Bootstrap replicates.
    rng : numpy.random.Generator
        Draws the replicates.
    level : float
        The intervals' level.

    Returns
    -------
    pandas.DataFrame
        Columns quantity (a city's or a comparison's name), kind (``share`` or ``estimate``), observed,
        corrected, lo, hi, replicates (bootstrap replicates where the correction was defined).
    """
    city = np.asarray(city)
    yr = np.asarray(years, dtype=float)
    keep = (city >= 0) & ~np.isnan(yr) & (yr >= first) & (yr <= last)
    city, yr, f = city[keep].astype(int), yr[keep].astype(int), np.asarray(flags, dtype=float)[keep]
    n, x, t = rule.year_table(city, yr, f, first, last)
    level_obs, slope_obs, _ = rule.lpm_slopes(x, n, t)
    sens, fpr = rates.sensitivity, rates.false_positive_rate
    sep = sens - fpr
    nb, xb = _bootstrap_tables(city, yr, f, t, int(n_boot), rng)
    sb, fb = rates.resample(rng, int(n_boot))
    lv, sl, _ = rule.lpm_slopes(xb, nb, t)
    sep_b = sb - fb
    ok = sep_b >= MIN_SEPARATION
    a = (1 - level) / 2

    def row(name, kind, observed, point, draws):
        vals = draws[~np.isnan(draws)]
        return {"quantity": name, "kind": kind, "observed": float(observed), "corrected": float(point),
                "lo": float(np.quantile(vals, a)) if len(vals) else np.nan,
                "hi": float(np.quantile(vals, 1 - a)) if len(vals) else np.nan, "replicates": int(len(vals))}

    shares_b = corrected(lv, sb[:, None], fb[:, None])
    point_shares = corrected(level_obs, sens, fpr)
    rows = [row(name, "share", level_obs[k], point_shares[k], shares_b[:, k]) for k, name in enumerate(CITIES)]
    for comp in comps:
        est_obs, _ = rule.standardised(slope_obs, comp)
        est_b, _ = rule.standardised(sl, comp)
        point = 100 * est_obs / sep if sep >= MIN_SEPARATION else np.nan
        rows.append(row(comp.name, "estimate", 100 * est_obs, point,
                        np.where(ok, 100 * est_b / np.where(ok, sep_b, 1.0), np.nan)))
    return pd.DataFrame(rows)


def tipping_point(estimate: float, others_share: float, span_years: float) -> float:
    """How many share points the other cities' false-positive rate would have to change between
    two founding years ``span_years`` apart to produce a gap slope of ``estimate`` (share points
    per year) with no true change anywhere: with a true share ``others_share`` in the category, a
    false-positive rate that moves by d over the span moves the coded share by
    ``(1 - others_share) d`` (it acts on the firms not in the category).

    Parameters
    ----------
    estimate : float
        The gap slope, share points per year.
    others_share : float
        The other cities' true share in the category, in [0, 1).
    span_years : float
        Years between the two founding years (> 0).

    Returns
    -------
    float
        The change in share points; NaN when an argument is out of range or ``estimate`` is not finite.
    """
    if not (span_years > 0 and 0 <= others_share < 1) or not np.isfinite(estimate):
        return float("nan")
    return float(abs(estimate) * span_years / (1 - others_share))


def sample_size(share: float, guess: tuple[float, float] = SAMPLE_GUESS,
                half_widths: tuple[float, float] = SAMPLE_HALF_WIDTHS, strata: int = 1) -> int:
    """Firms a coding sample needs so that, at a share ``share`` of firms in the category, the
    sensitivity and the false-positive rate are measured to about ``half_widths`` (95%, normal
    approximation at the ``guess``ed rates); rounded up to a multiple of ``strata``.

    Parameters
    ----------
    share : float
        The share of firms in the category (taken within [0.05, 0.95]).
    guess : tuple of float
        The (sensitivity, false-positive rate) assumed.
    half_widths : tuple of float
        The half-widths wanted of the two rates' 95% intervals.
    strata : int
        The sample is a multiple of it (of 1 when below 1).

    Returns
    -------
    int
        The firms of the coding sample.
    """
    z = 1.96
    share = min(max(float(share), 0.05), 0.95)
    need_pos = z * z * guess[0] * (1 - guess[0]) / half_widths[0] ** 2
    need_neg = z * z * guess[1] * (1 - guess[1]) / half_widths[1] ** 2
    n = max(need_pos / share, need_neg / (1 - share))
    return int(np.ceil(n / max(strata, 1)) * max(strata, 1))


__all__ = ["MEASURE_CATEGORIES", "MISSPECIFIED", "MIN_SEPARATION", "Rates", "Fixed", "CoderError", "from_confusion",
           "check_set_error", "check_set_rates", "for_corpus", "misspecified", "corrected",
           "correction", "tipping_point", "sample_size"]
