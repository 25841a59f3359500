"""Validation on simulated corpora (DESIGN §6 "Validation"): does the convergence test find
convergence that was planted, and only then?  Do the coders recover planted labels?

This is the only analysis module that reads ``truth_*`` columns or the simulator's planted
settings, and only of corpora it generates itself with :func:`analysis.simulate.simulate`.

``simulation_study``
    Scenarios: *no change* (nothing planted), *national drift* (every city's public-customer
    probability, Beijing's included, rises by ``drift`` over the simulated years: the gap to
    Beijing stays where it was, so a test that calls this convergence is wrong), and
    convergence at each planted strength.  For each, ``replicates`` corpora are generated (each
    with its own seed derived from ``seed``) at the given city sizes, and every test of
    :func:`analysis.convergence.analyse` is run on each (no bootstrap), together with the
    retired test on the others' mean level (``OLD_TEST``), which ignores Beijing.  The text
    measures (centroid cosine, distinctiveness) cost more and run on the first
    ``text_replicates`` replicates only.  A rejection is ``p < alpha``.  Its rate is the
    false-positive rate where no convergence was planted and the power where it was; its Monte
    Carlo standard error is ``sqrt(rate (1 - rate) / replicates)``.  The full-text replicates
    run in ``workers`` processes (default: every core, at most 8; started with the spawn start
    method, which every platform has, so a script calling this needs the usual
    ``if __name__ == "__main__":`` guard, and extra ``analyse`` options must pickle) with fixed
    seeds, so the result does not depend on the number of workers.  Above ``max_firms`` firms
    the study runs at city sizes scaled down to that total (``attrs["scaled"]``), which the
    pages say.

``power_summary``
    Per measure and comparison: power at the strongest planted strength with its MCSE, and the
    minimum detectable effect: the planted narrowing of the public-share gap per cohort
    (:func:`analysis.simulate.planted_gap`) at which power reaches 0.8, interpolated between
    planted strengths, or ``"not reached"``.

``label_recovery``
    For each phrase bank and each coded dimension: macro-F1 and confusion matrix of the
    dictionary coder against the planted labels, and the same for the supervised cross-check.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Sequence

import numpy as np
import pandas as pd

from . import convergence as conv
from .classify import CODED_DIMENSIONS
from .defaults import BRIEF_CITY_SIZES, DEFAULT_SEED
from .memo import shared, unshared
from .resampling import ols_slope

__all__ = ["DEFAULT_SEED", "DEFAULT_STRENGTHS", "DEFAULT_DRIFT", "POWER_TARGET", "replicate_seeds", "scenarios",
           "simulation_study", "power_summary", "mcse", "binomial_interval", "label_recovery", "LabelRecovery"]

DEFAULT_STRENGTHS = (0.25, 0.5, 0.75, 1.0)
# The largest upward national drift the city profiles allow (Beijing's public share 0.75 + 0.25 = 1).
DEFAULT_DRIFT = 0.25
POWER_TARGET = 0.8
DEFAULT_MAX_FIRMS = 1000  # full-text replicates above this size run scaled down
NO_CHANGE, NATIONAL_DRIFT, CONVERGENCE = "no change", "national drift", "convergence"


def mcse(rate, replicates):
    """Monte Carlo standard error of a proportion: ``sqrt(rate (1 - rate) / replicates)``."""
    rate = np.asarray(rate, dtype=float)
    replicates = np.asarray(replicates, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sqrt(rate * (1 - rate) / replicates)
    return out if out.ndim else float(out)


def binomial_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper–Pearson (exact) interval for a binomial proportion (beta quantiles through
    ``scipy.special.betaincinv``, much cheaper to import than ``scipy.stats``)."""
    from scipy.special import betaincinv

    a = (1 - level) / 2
    lo = 0.0 if successes == 0 else float(betaincinv(successes, trials - successes + 1, a))
    hi = 1.0 if successes == trials else float(betaincinv(successes + 1, trials - successes, 1 - a))
    return lo, hi


def replicate_seeds(seed: int, n_scenarios: int, replicates: int) -> np.ndarray:
    """(n_scenarios, replicates, 2) integer seeds: one for the simulator, one for the test.

    Derived with ``SeedSequence(seed).spawn``; a scenario's seeds do not depend on how many
    scenarios or replicates come after it.
    """
    out = np.empty((n_scenarios, replicates, 2), dtype=np.int64)
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(n_scenarios)):
        for r, grand in enumerate(child.spawn(replicates)):
            out[i, r] = grand.generate_state(2, dtype=np.uint32)
    return out


def corpus_design(firms: pd.DataFrame, cohort_edges: Sequence[int] = conv.DEFAULT_COHORT_EDGES) -> dict:
    """Simulator options that reproduce a corpus's shape: firms per city, founding years
    (range and distribution over the cohorts' years) and the share of firms without a usable
    year.  With them the simulation study runs at the corpus's city and cohort sizes."""
    from .palette import CITIES

    edges = [int(e) for e in cohort_edges]
    city = firms["city"].astype("string")
    n_per_city = tuple(int((city == c).sum()) for c in CITIES)
    years = pd.to_numeric(firms["founded_year"], errors="coerce")
    inside = years[(years >= edges[0]) & (years < edges[-1])].astype(int)
    counts = inside.value_counts()
    first, last = edges[0], edges[-1] - 1
    weights = {y: float(counts.get(y, 0)) for y in range(first, last + 1)}
    if sum(weights.values()) == 0:
        weights = {y: 1.0 for y in range(first, last + 1)}
    n = max(int(sum(n_per_city)), 1)
    return {"n_per_city": n_per_city, "years": (first, last), "year_weights": weights,
            "missing_year_rate": float(1 - len(inside) / n) if len(firms) else 0.0}


def scenarios(strengths: Sequence[float] = DEFAULT_STRENGTHS, drift: float = DEFAULT_DRIFT,
              cohort_edges: Sequence[int] = conv.DEFAULT_COHORT_EDGES,
              n_per_city: Sequence[int] = BRIEF_CITY_SIZES, years=None, year_weights=None) -> pd.DataFrame:
    """The study's scenarios with their planted truth: name, kind, strength, national_drift,
    beijing_drift, planted_gap_first, planted_gap_last (expected public-share gap in the first
    and last cohort) and planted_effect (its narrowing per cohort, the negated OLS slope)."""
    rows = [(NO_CHANGE, NO_CHANGE, 0.0, 0.0)]
    if drift:
        rows.append((f"{NATIONAL_DRIFT} {drift:+g}", NATIONAL_DRIFT, 0.0, float(drift)))
    rows += [(f"convergence {s:g}", CONVERGENCE, float(s), 0.0) for s in strengths if float(s) > 0]
    from .simulate import planted_gap

    out = []
    for name, kind, s, d in rows:
        kw = {"years": tuple(years)} if years else {}
        gap = planted_gap(cohort_edges, convergence=s, national_drift=d, n_per_city=n_per_city,
                          year_weights=year_weights, **kw)
        out.append({"scenario": name, "kind": kind, "strength": s, "national_drift": d, "beijing_drift": 0.0,
                    "planted_gap_first": float(gap[0]),
                    "planted_gap_last": float(gap[~np.isnan(gap)][-1]) if (~np.isnan(gap)).any() else np.nan,
                    "planted_effect": float(-ols_slope(gap))})
    return pd.DataFrame(out)


@lru_cache(maxsize=8)
def coder_rates(text_fields: tuple = ("description", "full_description"), phrasebank: str = "a",
                n_per_city: int = 200, seed: int = DEFAULT_SEED) -> dict[str, np.ndarray]:
    """How often the dictionary coder flags a firm as public-customer / infrastructure, given
    its planted application and customer labels: ``{"public_share": (A, C), "infrastructure_share":
    (A, C)}`` probabilities, measured once on a simulated corpus of ``n_per_city`` firms per city
    whose text is coded with :func:`analysis.classify.code_firms`.  The simulator writes text
    from the labels alone, so these rates carry the coder's error into label-level replicates.
    A label pair absent from the calibration corpus gets the pooled rate."""
    from . import classify, labels as lab
    from .simulate import simulate

    firms = simulate(n_per_city=(n_per_city,) * 3, seed=int(seed), convergence=0.5, phrasebank=phrasebank)
    coded = classify.code_firms(firms.loc[:, [c for c in firms.columns if not c.startswith("truth_")]],
                                text_fields=tuple(text_fields))
    apps, custs = lab.categories("application"), lab.categories("customer")
    a = firms["truth_application"].map({c: i for i, c in enumerate(apps)}).to_numpy()
    c = firms["truth_customer"].map({x: i for i, x in enumerate(custs)}).to_numpy()
    flags = {"public_share": (coded["customer_label"].astype("string") == "public").fillna(False).to_numpy(float),
             "infrastructure_share": (coded["application_label"].astype("string") == "infrastructure")
             .fillna(False).to_numpy(float)}
    out = {}
    for name, f in flags.items():
        num = np.zeros((len(apps), len(custs)))
        den = np.zeros((len(apps), len(custs)))
        np.add.at(num, (a, c), f)
        np.add.at(den, (a, c), 1)
        out[name] = np.where(den > 0, num / np.maximum(den, 1), f.mean())
    return out


def _share_replicates(scen: dict, R: int, ss: np.random.SeedSequence, sizes, edges, n_perm: int, rates: dict,
                      sim_options: dict) -> list[list[tuple]]:
    """Label-level replicates of one scenario: planted labels, coder flags drawn from the coder's
    measured rates, then the share tests of :func:`analysis.convergence.share_tests`."""
    from .simulate import simulate_labels

    rng = np.random.default_rng(ss)
    K, Q = 3, len(edges) - 1
    n = sum(sizes)
    chunk = max(1, min(int(2_000_000 // max(n, 1)), int(4_000_000 // max(n_perm * K * Q, 1))))
    results: list[list[tuple]] = []
    for r0 in range(0, R, chunk):
        Rc = min(chunk, R - r0)
        labs = simulate_labels(Rc, rng, n_per_city=sizes, convergence=scen["strength"],
                               national_drift=scen["national_drift"], beijing_drift=scen["beijing_drift"],
                               **sim_options)
        e = np.asarray(edges)
        g = np.searchsorted(e, labs["year"], side="right") - 1
        g = np.where(labs["observed"] & (labs["year"] >= e[0]) & (labs["year"] < e[-1]), g, -1)
        flags = {m: rng.random(labs["city"].shape) < rates[m][labs["application"], labs["customer"]]
                 for m in conv.SHARE_MEASURES}
        ok = g >= 0
        rep = np.broadcast_to(np.arange(Rc)[:, None], g.shape)
        idx = (rep[ok] * K + labs["city"][ok]) * Q + g[ok]
        cell = np.bincount(idx, minlength=Rc * K * Q).reshape(Rc, K, Q)
        per_measure = []
        for m in conv.SHARE_MEASURES:
            counts = np.bincount(idx, weights=flags[m][ok], minlength=Rc * K * Q).reshape(Rc, K, Q)
            per_measure.append([[(m, *row) for row in rows] for rows in conv.share_tests(counts, cell, n_perm, rng)])
        results += [sum((pm[j] for pm in per_measure), []) for j in range(Rc)]
    return results


def _text_replicate(task):
    scen, sim_seed, test_seed, sim_kwargs, test_kwargs = task
    from .simulate import simulate

    firms = simulate(convergence=scen["strength"], national_drift=scen["national_drift"],
                     beijing_drift=scen["beijing_drift"], seed=int(sim_seed), **sim_kwargs)
    firms = firms.loc[:, [c for c in firms.columns if not c.startswith("truth_")]]
    with unshared():  # a replicate's matrices are never asked for again
        res = conv.analyse(firms, n_boot=0, seed=int(test_seed), measures=conv.TEXT_MEASURES, n_perm_shares=0,
                           **test_kwargs)
    t = res.trend_table[res.trend_table["role"] == "test"]
    return [(r.measure, r.comparison, r.role, float(r.slope), float(r.p)) for r in t.itertuples(index=False)]


def _scaled_sizes(n_per_city, max_firms):
    total = sum(n_per_city)
    if not max_firms or total <= max_firms:
        return tuple(n_per_city), False
    f = max_firms / total
    return tuple(max(1, int(round(n * f))) if n else 0 for n in n_per_city), True


@shared
def simulation_study(
    strengths: Sequence[float] = DEFAULT_STRENGTHS,
    replicates: int = 200,
    seed: int = DEFAULT_SEED,
    n_perm: int = 200,
    alpha: float = 0.05,
    n_per_city: Sequence[int] = BRIEF_CITY_SIZES,
    phrasebank: str = "a",
    *,
    drift: float = DEFAULT_DRIFT,
    text_replicates: int = 0,
    text_n_perm: int = 50,
    n_subsamples: int = 5,
    text_fields: Sequence[str] = ("description", "full_description"),
    cohort_edges: Sequence[int] = conv.DEFAULT_COHORT_EDGES,
    workers: int | None = None,
    max_firms: int | None = DEFAULT_MAX_FIRMS,
    years: Sequence[int] | None = None,
    year_weights: dict | None = None,
    missing_year_rate: float | None = None,
    details: bool = False,
    progress: bool = False,
    **analyse_kwargs,
) -> pd.DataFrame:
    """Rejection rates of every convergence test per scenario (see the module docstring).

    Share measures (``replicates`` corpora per scenario, ``n_perm`` permutations each) are
    simulated at the label level: planted labels from :func:`analysis.simulate.simulate_labels`
    and coder flags drawn with the coder's measured rates (:func:`coder_rates`), so thousands
    of corpora cost seconds.  Text measures (centroid cosine, distinctiveness) need the words:
    ``text_replicates`` full corpora per scenario (:func:`analysis.simulate.simulate`, at most
    ``max_firms`` firms, ``text_n_perm`` permutations), run in ``workers`` processes.

    ``years``, ``year_weights``, ``missing_year_rate`` (see :func:`corpus_design`) shape the
    simulated corpora like a given corpus.  Returns one row per scenario x measure x comparison:
    scenario, kind, strength, national_drift, planted_effect, measure, comparison, role
    (``test`` or ``old test``), replicates, rejections, rate, mcse, lo, hi (exact 95% binomial
    interval).  ``attrs`` carry the settings, the seconds taken and, with ``details=True``, the
    per-replicate slopes and p-values.
    """
    from .params import as_list

    strengths = [float(s) for s in as_list(strengths, name="strengths")]
    replicates = int(replicates)
    if replicates < 1:
        raise ValueError(f"replicates must be >= 1, got {replicates}")
    if len(set(strengths)) != len(strengths):
        raise ValueError(f"strengths must be distinct, got {strengths}")
    text_replicates = max(0, int(text_replicates))
    sizes = tuple(int(n) for n in as_list(n_per_city, name="n_per_city"))
    text_sizes, scaled = _scaled_sizes(sizes, max_firms)
    edges = tuple(int(e) for e in as_list(cohort_edges, name="cohort_edges"))
    fields = tuple(as_list(text_fields, name="text_fields"))
    sim_options = {}
    if years:
        sim_options["years"] = tuple(int(y) for y in years)
    if year_weights:
        sim_options["year_weights"] = {int(k): float(v) for k, v in dict(year_weights).items()}
    if missing_year_rate is not None:
        sim_options["missing_year_rate"] = float(missing_year_rate)
    scen = scenarios(strengths, drift, edges, sizes, years=years, year_weights=sim_options.get("year_weights"))
    t0 = time.perf_counter()
    rates = coder_rates(fields, str(phrasebank))
    children = np.random.SeedSequence(int(seed)).spawn(len(scen))
    records = []
    for i in range(len(scen)):
        sc = scen.iloc[i].to_dict()
        label_ss, _ = children[i].spawn(2)
        res = _share_replicates(sc, replicates, label_ss, sizes, edges, int(n_perm), rates, sim_options)
        records += [(sc["scenario"], r, row) for r, rows in enumerate(res) for row in rows]
        _progress(progress, f"share measures, scenario {i + 1}/{len(scen)}", t0)
    if text_replicates:
        seeds = replicate_seeds(int(seed) + 1, len(scen), text_replicates)
        sim_kwargs = {"n_per_city": text_sizes, "phrasebank": str(phrasebank), **sim_options}
        test_kwargs = {"n_perm": int(text_n_perm), "alpha": float(alpha), "n_subsamples": int(n_subsamples),
                       "text_fields": fields, "cohort_edges": edges, **analyse_kwargs}
        tasks = [(scen.iloc[i].to_dict(), seeds[i, r, 0], seeds[i, r, 1], sim_kwargs, test_kwargs)
                 for i in range(len(scen)) for r in range(text_replicates)]
        workers = min(os.cpu_count() or 1, 8) if workers is None else int(workers)
        if workers > 1 and len(tasks) > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            from . import text as _text

            # spawn: the start method of every platform; a worker is a fresh interpreter that imports this
            # module and is given the Chinese terms this process's tokenizer has beyond the packaged list
            with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=_text.add_zh_terms, initargs=(_text.added_zh_terms(),)) as pool:
                text_results = []
                for k, res in enumerate(pool.map(_text_replicate, tasks)):
                    text_results.append(res)
                    if (k + 1) % max(1, len(tasks) // 5) == 0:
                        _progress(progress, f"text measures, {k + 1}/{len(tasks)} corpora", t0)
        else:
            text_results = []
            for k, t in enumerate(tasks):
                text_results.append(_text_replicate(t))
                if (k + 1) % max(1, len(tasks) // 5) == 0:
                    _progress(progress, f"text measures, {k + 1}/{len(tasks)} corpora", t0)
        records += [(t[0]["scenario"], k % text_replicates, row) for k, (t, rows) in enumerate(zip(tasks, text_results))
                    for row in rows]
    seconds = time.perf_counter() - t0
    det = pd.DataFrame([{"scenario": sc, "replicate": r, "measure": m, "comparison": c, "role": role, "slope": sl,
                         "p": p} for sc, r, (m, c, role, sl, p) in records])
    det["rejected"] = det["p"] < alpha
    out = (det.groupby(["scenario", "measure", "comparison", "role"], sort=False)
              .agg(replicates=("p", "size"), rejections=("rejected", "sum")).reset_index())
    out["rejections"] = out["rejections"].astype(int)
    out["rate"] = out["rejections"] / out["replicates"]
    out["mcse"] = mcse(out["rate"], out["replicates"])
    ci = [binomial_interval(int(k), int(n)) for k, n in zip(out["rejections"], out["replicates"])]
    out["lo"] = [c[0] for c in ci]
    out["hi"] = [c[1] for c in ci]
    out = scen.merge(out, on="scenario", how="right")
    out = out[["scenario", "kind", "strength", "national_drift", "planted_effect", "measure", "comparison", "role",
               "replicates", "rejections", "rate", "mcse", "lo", "hi"]]
    out.attrs.update({"seconds": seconds, "alpha": float(alpha), "n_perm": int(n_perm), "text_n_perm": int(text_n_perm),
                      "seed": int(seed), "n_subsamples": int(n_subsamples), "n_per_city": sizes,
                      "text_n_per_city": text_sizes, "scaled": scaled and bool(text_replicates),
                      "replicates": replicates, "text_replicates": text_replicates, "phrasebank": phrasebank,
                      "drift": float(drift), "scenarios": scen})
    if details:
        out.attrs["details"] = det
    return out


def _progress(enabled: bool, what: str, t0: float) -> None:
    if enabled:
        import sys

        print(f"simulation study: {what} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)


def power_summary(study: pd.DataFrame, target: float = POWER_TARGET) -> pd.DataFrame:
    """Per measure and comparison (tests only): ``power`` at the strongest planted strength
    with ``power_mcse`` and ``power_replicates``, the planted effect it refers to
    (``power_effect``), the false-positive rates with no change and under national drift
    (``fpr``, ``fpr_drift``), and ``mde``: the planted effect (narrowing of the public-share gap,
    share points per cohort) at which power first reaches ``target``, interpolated linearly
    between planted strengths, or ``"not reached"``."""
    rows = []
    tests = study[study["role"] == "test"]
    for (measure, comp), part in tests.groupby(["measure", "comparison"], sort=False):
        conv_rows = part[part["kind"] == CONVERGENCE].sort_values("planted_effect")
        null = part[part["kind"] == NO_CHANGE]
        drift = part[part["kind"] == NATIONAL_DRIFT]
        row = {"measure": measure, "comparison": comp, "power": np.nan, "power_mcse": np.nan,
               "power_replicates": 0, "power_effect": np.nan, "mde": "not reached",
               "fpr": float(null["rate"].iloc[0]) if len(null) else np.nan,
               "fpr_mcse": float(null["mcse"].iloc[0]) if len(null) else np.nan,
               "fpr_drift": float(drift["rate"].iloc[0]) if len(drift) else np.nan,
               "fpr_drift_mcse": float(drift["mcse"].iloc[0]) if len(drift) else np.nan}
        if len(conv_rows):
            top = conv_rows.iloc[-1]
            row.update(power=float(top["rate"]), power_mcse=float(top["mcse"]),
                       power_replicates=int(top["replicates"]), power_effect=float(top["planted_effect"]))
            eff = np.concatenate([[0.0], conv_rows["planted_effect"].to_numpy(float)])
            pw = np.concatenate([[row["fpr"] if row["fpr"] == row["fpr"] else 0.0], conv_rows["rate"].to_numpy(float)])
            hit = np.flatnonzero(pw >= target)
            if len(hit):
                i = int(hit[0])
                if i == 0:
                    row["mde"] = 0.0
                else:
                    frac = (target - pw[i - 1]) / (pw[i] - pw[i - 1])
                    row["mde"] = float(eff[i - 1] + frac * (eff[i] - eff[i - 1]))
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# Label recovery
# ---------------------------------------------------------------------------------------
@dataclass
class LabelRecovery:
    """Per bank x dimension x coder: macro-F1 and accuracy (``summary``: phrasebank,
    dimension, coder, macro_f1, accuracy, n) and confusion matrices (``confusion``, keyed by
    (phrasebank, dimension, coder); rows true, columns predicted)."""

    summary: pd.DataFrame
    confusion: dict = field(default_factory=dict)  # (bank, dimension, coder) -> DataFrame
    notes: list = field(default_factory=list)
    n_per_city: tuple = ()  # firms per city of each simulated corpus
    scaled: bool = False  # True when that is smaller than asked (max_firms)


def label_recovery(
    phrasebanks: Sequence[str] = ("a", "b"),
    n_per_city: Sequence[int] = BRIEF_CITY_SIZES,
    seed: int = DEFAULT_SEED,
    text_fields: Sequence[str] = ("description", "full_description"),
    *,
    convergence: float | None = None,
    folds: int = 5,
    max_firms: int | None = DEFAULT_MAX_FIRMS,
) -> LabelRecovery:
    """Dictionary and supervised coders against the planted labels, per phrase bank.

    Both coders see the corpus without its ``truth_*`` columns; the planted labels are
    passed to the scoring functions of :mod:`analysis.classify` (``dictionary_check``,
    ``supervised_check``, cross-validated with ``folds`` folds).  Predictions ``"tie"`` /
    ``"none"`` of the dictionary coder count as wrong (extra columns of its confusion
    matrix); macro-F1 averages over the true categories.  Above ``max_firms`` firms the corpora
    are simulated at city sizes scaled down to that total (``scaled``), as in the study.
    """
    from . import classify
    from .simulate import simulate

    sim_kw = {} if convergence is None else {"convergence": float(convergence)}
    sizes, scaled = _scaled_sizes(tuple(int(n) for n in n_per_city), max_firms)
    rows, conf, notes = [], {}, []
    for bank in phrasebanks:
        firms = simulate(n_per_city=sizes, seed=int(seed), phrasebank=bank, **sim_kw)
        features = firms.loc[:, [c for c in firms.columns if not c.startswith("truth_")]]
        coded = classify.code_firms(features, text_fields=tuple(text_fields))
        for dim in CODED_DIMENSIONS:
            truth = firms[f"truth_{dim}"].astype(str)
            checks = (
                ("dictionary", classify.dictionary_check(features, dim, text_fields=tuple(text_fields),
                                                         labels=truth, coded=coded)),
                ("supervised", classify.supervised_check(features, dim, text_fields=tuple(text_fields),
                                                         labels=truth, seed=int(seed), folds=folds)),
            )
            for coder, res in checks:
                if not res.available:
                    notes.append(f"{coder} coder unavailable for bank {bank}, {dim}: {res.reason}")
                    continue
                conf[(bank, dim, coder)] = res.confusion
                rows.append({"phrasebank": bank, "dimension": dim, "coder": coder, "macro_f1": float(res.macro_f1),
                             "accuracy": float(res.accuracy), "n": int(res.n)})
    return LabelRecovery(summary=pd.DataFrame(rows), confusion=conf, notes=notes, n_per_city=sizes,
                         scaled=scaled)
