"""Validation on simulated corpora (DESIGN §6 "Validation"): does the convergence verdict find
convergence that was planted, and only then?  Do the coders recover planted labels?

This is the only analysis module that reads ``truth_*`` columns or the simulator's planted
settings, and only of corpora it generates itself with :mod:`analysis.data.simulate`.

``simulation_study``
    Worlds (:func:`scenarios`): no change; worlds with no convergence in the brief's sense
    (:data:`NULL_WORLDS`: national drift, log-odds drift, Beijing alone moving, a shift in the
    Shanghai:Shenzhen mix); threats a cross-section cannot test away (:data:`THREATS`); and
    convergence at each planted strength.  For each, ``replicates`` corpora are drawn at the
    level of labels, each with the coder's error rates drawn from what the check sets (or the
    corpus's coding sample) measured (:mod:`analysis.method.coder_error`), and each gets the decision rule
    (:func:`analysis.method.convergence_rule.decide`: roles ``supports`` and ``rules out``) with the
    earlier gap test and the retired level test beside it.  The text measures (centroid cosine,
    distinctiveness) need the words and run on ``text_replicates`` full corpora of a few worlds,
    in ``workers`` processes started with the spawn start method (every platform has it; a
    script calling this needs the usual ``if __name__ == "__main__":`` guard), with fixed seeds,
    so the result does not depend on the number of workers.  Above ``max_firms`` firms the text
    replicates run at city sizes scaled down to that total (``attrs["scaled"]``), which the pages
    say.  A rate's Monte Carlo standard error is ``sqrt(rate (1 - rate) / replicates)``.

``power_summary``
    Per measure and comparison of the decision rule: power against full convergence and at the
    planted strength, the minimum detectable effect (the closing of the gap in share points per
    year at which power reaches 0.8, or a lower bound), the exaggeration ratio and, with
    :func:`design_power`, the firms that give 80% power.

``label_recovery``
    For each phrase bank and each coded dimension: macro-F1 and confusion matrix of the
    dictionary coder against the planted labels, and the same for the supervised cross-check.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from analysis.method import convergence as conv
from analysis.method import convergence_rule as rule
from analysis.text.classify import CODED_DIMENSIONS
from analysis.method.coder_error import check_set_error, MEASURE_CATEGORIES
from analysis.defaults import (ALPHA, BRIEF_CITY_SIZES, DEFAULT_SEED, N_PERM, N_SUBSAMPLES, REPLICATES, TEXT_FIELDS,
                               TEXT_REPLICATES)
from analysis.defaults import CITIES
from analysis.method.parallel import run_tasks
from analysis.method.resampling import ols_slope
from analysis.data.simulate import planted_gap, planted_public_table, simulate, simulate_labels
from analysis import labels as lab
from analysis.text import classify, preprocess as _text
from analysis.params import as_list

__all__ = ["DEFAULT_SEED", "DEFAULT_STRENGTHS", "DEFAULT_DRIFT", "POWER_TARGET", "replicate_seeds", "scenarios",
           "simulation_study", "design_power", "firms_for_power", "planted_values", "rates_table", "power_summary",
           "mcse", "binomial_interval", "label_recovery", "LabelRecovery", "primary_power", "null_worlds",
           "threats_table", "rates_shown", "macro_f1_table", "lowest_macro_f1", "confusion_matrices"]

DEFAULT_STRENGTHS = (0.25, 0.5, 0.75, 1.0)
# The largest upward national drift the city profiles allow (Beijing's public share 0.75 + 0.25 = 1).
DEFAULT_DRIFT = 0.25
POWER_TARGET = 0.8
DEFAULT_MAX_FIRMS = 1000  # full-text replicates above this size run scaled down
# Kinds of world of the study; each kind but CONVERGENCE plants no convergence in the brief's sense.
NO_CHANGE, NATIONAL_DRIFT, LOGODDS_DRIFT = "no change", "national drift", "log-odds drift"
BEIJING_ALONE, MIX_SHIFT, CONVERGENCE = "Beijing alone moves", "city mix shifts", "convergence"
# The worlds of issue 20's table: (kind, simulator option, values).  National drift moves every
# city's public-customer probability by the same amount over the simulated years, log-odds drift
# adds the same amount to every firm's log-odds (odds ratios between the cities fixed), Beijing's
# drift moves Beijing alone, and the mix shift tilts Shanghai's founding years late and
# Shenzhen's early (the others' pooled share changes while no city does).
NULL_WORLDS = ((NATIONAL_DRIFT, "national_drift", (0.25, -0.15)),
               (LOGODDS_DRIFT, "logit_drift", (1.0, 1.5, -1.5, -2.0)),
               (BEIJING_ALONE, "beijing_drift", (-0.25,)),
               (MIX_SHIFT, "mix_shift", (0.9,)))
NULL_KINDS = (NO_CHANGE, NATIONAL_DRIFT, LOGODDS_DRIFT, BEIJING_ALONE, MIX_SHIFT)
WORLD_OPTIONS = ("national_drift", "beijing_drift", "logit_drift", "mix_shift")
# Threats a cross-section of surviving firms cannot rule out, shown with their rates (not
# tested away): (kind, option, value).  No convergence is planted in any of them; each acts on
# the labels after they are drawn (:func:`_apply_threat`), with w0 the firm's relative founding
# year (0 first, 1 last).
PIVOT, RELOCATION, DEATHS, CODER_DRIFT = ("incumbents pivot to the state", "state-oriented firms move to Beijing",
                                          "early firms die", "coder error grows with cohort")
THREATS = ((PIVOT, "pivot", 0.3), (RELOCATION, "relocation", 0.3), (DEATHS, "deaths", 0.5),
           (CODER_DRIFT, "coder_drift", 0.15))
THREAT_OPTIONS = tuple(option for _, option, _ in THREATS)
# Roles of the study's rows: the rule's two decisions, the earlier gap test of issue 8 (slope over the
# cohort index, permutations within every city) and the level test before it.
SUPPORTS_ROLE, RULES_OUT_ROLE, GAP_TEST, LEVEL_TEST, TEXT_TEST = (
    "supports", "rules out", "earlier gap test", "level test (retired)", "test")
DESIGN_FACTORS = (1.0, 1.5, 2.0, 3.0, 4.0, 6.0)  # corpus sizes, as multiples of this one, for firms_for_80pct
# Permutations per label-level corpus of the study, at most: a rejection rate needs a valid test
# per corpus, not a precise p (1/201 resolves alpha = 0.05 well), and the cost grows with both
# corpora and permutations (2,500 corpora at 1,000 permutations would take minutes per world).
LABEL_PERM_CAP = 200
# Which worlds a study runs: all of them, or only no change and the convergence strengths (the
# misspecified coder's study, which reports power and the rate with no change).
ALL_WORLDS, POWER_WORLDS = "all", "power"


def mcse(rate, replicates):
    """Monte Carlo standard error of a proportion: ``sqrt(rate (1 - rate) / replicates)``.

    Parameters
    ----------
    rate : float or array_like
        The proportions.
    replicates : int or array_like
        The replicates behind them.

    Returns
    -------
    float or numpy.ndarray
        The standard errors; a float for scalar arguments.
    """
    rate = np.asarray(rate, dtype=float)
    replicates = np.asarray(replicates, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sqrt(rate * (1 - rate) / replicates)
    return out if out.ndim else float(out)


def binomial_interval(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """Clopper–Pearson (exact) interval for a binomial proportion (beta quantiles through
    ``scipy.special.betaincinv``, much cheaper to import than ``scipy.stats``).

    Parameters
    ----------
    successes, trials : int
        The successes, among so many trials.
    level : float
        The interval's level.

    Returns
    -------
    lo, hi : float
        The interval's ends (0 without a success, 1 when every trial succeeded).
    """
    from scipy.special import betaincinv

    a = (1 - level) / 2
    lo = 0.0 if successes == 0 else float(betaincinv(successes, trials - successes + 1, a))
    hi = 1.0 if successes == trials else float(betaincinv(successes + 1, trials - successes, 1 - a))
    return lo, hi


def replicate_seeds(seed: int, n_scenarios: int, replicates: int) -> np.ndarray:
    """(n_scenarios, replicates, 2) integer seeds: one for the simulator, one for the test.

    Derived with ``SeedSequence(seed).spawn``; a scenario's seeds do not depend on how many
    scenarios or replicates come after it.

    Parameters
    ----------
    seed : int
        The root seed.
    n_scenarios, replicates : int
        The scenarios, and the replicates per scenario.

    Returns
    -------
    numpy.ndarray
        The seeds (int64), of shape (n_scenarios, replicates, 2).
    """
    out = np.empty((n_scenarios, replicates, 2), dtype=np.int64)
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(n_scenarios)):
        for r, grand in enumerate(child.spawn(replicates)):
            out[i, r] = grand.generate_state(2, dtype=np.uint32)
    return out


def corpus_design(firms: pd.DataFrame, cohort_edges: Sequence[int] = conv.DEFAULT_COHORT_EDGES) -> dict:
    """Simulator options that reproduce a corpus's shape: firms per city, founding years
    (range and distribution over the cohorts' years) and the share of firms without a usable
    year.  With them the simulation study runs at the corpus's city and cohort sizes.

    Parameters
    ----------
    firms : pandas.DataFrame
        The firm table (its ``city`` and ``founded_year`` columns).
    cohort_edges : sequence of int
        The cohort edges; the founding years usable are those of their window.

    Returns
    -------
    dict
        ``n_per_city`` (firms per city, in the order of CITIES), ``years`` (first, last),
        ``year_weights`` (year -> firms founded that year; 1 each when there are none) and
        ``missing_year_rate`` (the share of firms without a founding year inside the window).
    """
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
    """The study's worlds with their planted truth.

    ``drift`` is the national drift of the text replicates' drift world (the first national-drift
    world).  The threat worlds (:data:`THREATS`) plant no change in the firms' own profiles; their
    planted columns describe the profiles, not what survives.

    Parameters
    ----------
    strengths : sequence of float
        The planted convergence strengths, a world each (those not above 0 left out).
    drift : float
        The national drift put first among the national-drift worlds (0: none added).
    cohort_edges : sequence of int
        The cohorts over which ``planted_effect`` is computed.
    n_per_city : sequence of int
        Firms per city.
    years : sequence of int, optional
        The first and the last founding year (None: the simulator's).
    year_weights : dict, optional
        Year -> relative weight of the founding years (None: the simulator's).

    Returns
    -------
    pandas.DataFrame
        Columns scenario, kind, strength, the drift options (:data:`WORLD_OPTIONS`) and the threats'
        (:data:`THREAT_OPTIONS`), ``planted_estimate`` (the gap's slope, share points per year,
        standardised pooled comparison), ``planted_others`` (the others' move towards Beijing, points
        per year) and ``planted_effect`` (the narrowing of the pooled gap per cohort, the old test's
        unit; NaN except with no change, national drift and convergence).
    """
    rows = [(NO_CHANGE, NO_CHANGE, 0.0, {})]
    for kind, option, values in NULL_WORLDS:
        if kind == NATIONAL_DRIFT:
            values = tuple(dict.fromkeys((float(drift), *values))) if drift else values
        rows += [(f"{kind} {v:+g}" if kind != MIX_SHIFT else f"{kind} ({v:g})", kind, 0.0, {option: float(v)})
                 for v in values]
    rows += [(f"{kind} ({v:g})", kind, 0.0, {option: float(v)}) for kind, option, v in THREATS]
    rows += [(f"{CONVERGENCE} {s:g}", CONVERGENCE, float(s), {}) for s in strengths if float(s) > 0]
    kw = {"years": tuple(years)} if years else {}
    out = []
    for name, kind, s, opts in rows:
        sim_opts = {k: v for k, v in opts.items() if k in WORLD_OPTIONS}
        firms, prob, t = planted_public_table(convergence=s, n_per_city=n_per_city, year_weights=year_weights,
                                              **sim_opts, **kw)
        planted = rule.planted_slopes(firms, prob, t)[conv.PRIMARY_COMPARISON]
        gap = planted_gap(cohort_edges, convergence=s, national_drift=opts.get("national_drift", 0.0),
                          beijing_drift=opts.get("beijing_drift", 0.0), n_per_city=n_per_city,
                          year_weights=year_weights, **kw)
        out.append({"scenario": name, "kind": kind, "strength": s,
                    **{o: float(opts.get(o, 0.0)) for o in (*WORLD_OPTIONS, *THREAT_OPTIONS)},
                    "planted_estimate": planted["estimate"], "planted_others": planted["others"],
                    "planted_effect": float(-ols_slope(gap)) if kind in (NO_CHANGE, NATIONAL_DRIFT, CONVERGENCE)
                    else np.nan})
    return pd.DataFrame(out)


def coder_flags(labs: dict, error, rng, R: int) -> dict[str, np.ndarray]:
    """The coder's flags of a batch of ``R`` simulated corpora: each corpus draws its coder's
    sensitivity and false-positive rate per share measure (:meth:`analysis.method.coder_error.Rates.draw`),
    and each firm is flagged with the one that its planted label calls for.

    Parameters
    ----------
    labs : dict
        Planted labels of the batch (:func:`analysis.data.simulate.simulate_labels`).
    error : analysis.method.coder_error.CoderError
        The coder's error per share measure.
    rng : numpy.random.Generator
        Draws the rates and the flags.
    R : int
        Corpora in the batch.

    Returns
    -------
    dict
        Share measure -> bool flags, shaped like the labels.
    """
    flags = {}
    for measure in conv.SHARE_MEASURES:
        dim, category = MEASURE_CATEGORIES[measure]
        sens, fpr = error[measure].draw(rng, R)
        p = np.where(labs[dim] == lab.categories(dim).index(category), sens[:, None], fpr[:, None])
        flags[measure] = rng.random(p.shape) < p
    return flags


def label_tables(labs: dict, flags: dict, edges, R: int):
    """Cohort tables (R, K, Q) and year tables (R, K, Y) of firms and coded firms of a batch of
    simulated corpora (founding years inside the cohort edges only).

    Parameters
    ----------
    labs : dict
        Planted labels of the batch (:func:`analysis.data.simulate.simulate_labels`).
    flags : dict
        Share measure -> the coder's flags (:func:`coder_flags`).
    edges : sequence of int
        The cohort edges; their window is the founding years tabulated.
    R : int
        Corpora in the batch.

    Returns
    -------
    n_q, n_y : numpy.ndarray
        Firms per corpus, city and cohort (R, K, Q), and per corpus, city and year (R, K, Y).
    coded : dict
        Share measure -> (coded firms per cohort, coded firms per year).
    t : numpy.ndarray
        The years (Y,).
    """
    K = len(CITIES)
    e = np.asarray(edges)
    t = np.arange(int(e[0]), int(e[-1]))
    Q, Y = len(e) - 1, len(t)
    ok = labs["observed"] & (labs["year"] >= e[0]) & (labs["year"] < e[-1])
    rep = np.broadcast_to(np.arange(R)[:, None], ok.shape)[ok]
    city = labs["city"][ok]
    g = np.searchsorted(e, labs["year"][ok], side="right") - 1
    cohort_idx = (rep * K + city) * Q + g
    year_idx = (rep * K + city) * Y + (labs["year"][ok] - t[0])
    n_q = np.bincount(cohort_idx, minlength=R * K * Q).reshape(R, K, Q)
    n_y = np.bincount(year_idx, minlength=R * K * Y).reshape(R, K, Y)
    coded = {}
    for m, f in flags.items():
        coded[m] = (np.bincount(cohort_idx, weights=f[ok], minlength=R * K * Q).reshape(R, K, Q),
                    np.bincount(year_idx, weights=f[ok], minlength=R * K * Y).reshape(R, K, Y))
    return n_q, n_y, coded, t


def _apply_threat(labs: dict, flags: dict, scen: dict, rng) -> None:
    """Change simulated labels in place as a threat world says (:data:`THREATS`): with
    probability ``value`` times the firm's age (1 - w0), a Shanghai or Shenzhen firm has since
    pivoted to public customers (``pivot``: its code now says public) or, if it serves private
    customers, has died (``deaths``: it is not in the corpus); with probability ``value`` times
    w0 a later public-customer firm of those cities has moved to Beijing (``relocation``); the
    coder falsely codes a firm public with probability ``value`` times w0 (``coder_drift``)."""
    options = {o: float(scen.get(o, 0.0)) for o in THREAT_OPTIONS}
    if not any(options.values()):
        return

    public = lab.categories("customer").index("public")
    year = labs["year"]
    w0 = (year - year.min()) / max(year.max() - year.min(), 1)
    other = labs["city"] > 0
    u = rng.random(year.shape)
    if options["pivot"]:
        hit = other & (u < options["pivot"] * (1 - w0))
        flags["public_share"] = flags["public_share"] | hit
    if options["deaths"]:
        gone = other & (labs["customer"] != public) & (u < options["deaths"] * (1 - w0))
        labs["observed"] = labs["observed"] & ~gone
    if options["relocation"]:
        moved = other & (labs["customer"] == public) & (u < options["relocation"] * w0)
        labs["city"] = np.where(moved, 0, labs["city"])
    if options["coder_drift"]:
        flags["public_share"] = flags["public_share"] | (u < options["coder_drift"] * w0)


def _label_replicates(scen: dict, replicates: int, seed_seq: np.random.SeedSequence, sizes, edges, n_perm: int,
                      alpha: float, margin: float, error, sim_options: dict, measures=None, old_tests: bool = True,
                      pooled_only: bool = False, true_error=None, first_replicate: int = 0) -> pd.DataFrame:
    """``replicates`` label-level corpora of one world (seeded by ``seed_seq``, firms per city
    ``sizes``): planted labels, coder flags drawn with the coder's error (``true_error``, default
    ``error``: :class:`analysis.method.coder_error.CoderError`; :func:`coder_flags`), then on
    each corpus the decision rule (:func:`analysis.method.convergence_rule.decide`) and the two
    older tests (:func:`analysis.method.convergence.share_tests`).  One row per replicate,
    measure, comparison and role: estimate (the rule's, points per year, or the old slope) and
    whether it rejected.  ``measures`` (default: both share measures; the infrastructure share
    only in the worlds that change applications, no change and convergence), ``old_tests`` and
    ``pooled_only`` trim the work where a caller needs less."""
    rng = np.random.default_rng(seed_seq)
    K, Q = len(CITIES), len(edges) - 1
    Y = int(edges[-1]) - int(edges[0])
    n = sum(sizes)
    comps = rule.comparisons(np.asarray(sizes))
    comps = comps[:1] if pooled_only else comps
    if measures is None:
        measures = conv.SHARE_MEASURES if scen.get("kind") in (NO_CHANGE, CONVERGENCE) else (conv.PRIMARY_MEASURE,)
    chunk = label_chunk(n, n_perm, K * max(Q, Y))
    frames = []
    for r0 in range(0, replicates, chunk):
        Rc = min(chunk, replicates - r0)
        labs = simulate_labels(Rc, rng, n_per_city=sizes, convergence=scen["strength"],
                               **{o: scen[o] for o in WORLD_OPTIONS}, **sim_options)
        flags = coder_flags(labs, error if true_error is None else true_error, rng, Rc)
        _apply_threat(labs, flags, scen, rng)
        n_q, n_y, coded, t = label_tables(labs, flags, edges, Rc)
        for m in measures:
            x_q, x_y = coded[m]
            decided = rule.decide(x_y, n_y, t, alpha=alpha, margin=margin, n_perm=n_perm, rng=rng, comps=comps,
                                  stability=False, complete=False, error=error.candidates(m))
            for comp, d in decided.items():
                for role, code in ((SUPPORTS_ROLE, rule.SUPPORTS), (RULES_OUT_ROLE, rule.RULES_OUT)):
                    frames.append(pd.DataFrame({"replicate": np.arange(r0, r0 + Rc), "measure": m, "comparison": comp,
                                                "role": role, "estimate": d["estimate"],
                                                "rejected": d["decision"] == code}))
            if not old_tests:
                continue
            old = conv.share_tests(x_q, n_q, n_perm, rng)
            recs = [(r0 + j, comp, GAP_TEST if kind == "test" else LEVEL_TEST, slope, p)
                    for j, rows in enumerate(old) for comp, kind, slope, p in rows]
            o = pd.DataFrame(recs, columns=["replicate", "comparison", "role", "estimate", "p"])
            o["rejected"] = o["p"] < alpha
            frames.append(o.drop(columns="p").assign(measure=m))
    out = pd.concat(frames, ignore_index=True).assign(scenario=scen["scenario"])
    out["replicate"] += first_replicate
    return out


#: simulated corpora per task of the study, at most (fixed: the tasks and their seeds do not depend on the workers)
LABEL_BLOCK = 100


def label_chunk(n_firms: int, n_perm: int, cells: int) -> int:
    """Simulated corpora computed at once, so that the arrays stay within a few million values.

    Parameters
    ----------
    n_firms : int
        Firms per corpus.
    n_perm : int
        Permutations per corpus.
    cells : int
        City x year (or cohort) cells of a corpus's table, the largest.

    Returns
    -------
    int
        At most :data:`LABEL_BLOCK`, at least 1.
    """
    return max(1, min(LABEL_BLOCK, int(2_000_000 // max(n_firms, 1)), int(4_000_000 // max(n_perm * cells, 1))))


def _label_block(task) -> pd.DataFrame:
    """One task of the study: a block of label-level corpora of one world (:func:`_label_replicates`)."""
    scen, first, count, seed_seq, kwargs = task
    return _label_replicates(scen, count, seed_seq, first_replicate=first, **kwargs)


def _text_replicate(task):
    scen, sim_seed, test_seed, sim_kwargs, test_kwargs = task

    firms = simulate(convergence=scen["strength"], national_drift=scen["national_drift"],
                     beijing_drift=scen["beijing_drift"], seed=int(sim_seed), **sim_kwargs)
    firms = firms.loc[:, [c for c in firms.columns if not c.startswith("truth_")]]
    res = conv.analyse(firms, n_boot=0, seed=int(test_seed), measures=conv.TEXT_MEASURES, n_perm_shares=0,
                       **test_kwargs)
    t = res.verdict_table
    return [(r.measure, r.comparison, TEXT_TEST, float(r.estimate), float(r.p)) for r in t.itertuples(index=False)]


def _scaled_sizes(n_per_city, max_firms):
    total = sum(n_per_city)
    if not max_firms or total <= max_firms:
        return tuple(n_per_city), False
    f = max_firms / total
    return tuple(max(1, int(round(n * f))) if n else 0 for n in n_per_city), True


def _aggregate(det: pd.DataFrame, scen: pd.DataFrame) -> pd.DataFrame:
    """Rates per world, measure, comparison and role from per-replicate rows, with MCSE, the
    exact 95% interval and, for the rule's "supports" rows, the exaggeration ratio: the mean
    |estimate| of the corpora that supported convergence over the planted |estimate|."""
    keys = ["scenario", "measure", "comparison", "role"]
    out = (det.groupby(keys, sort=False)
              .agg(replicates=("rejected", "size"), rejections=("rejected", "sum")).reset_index())
    out["rejections"] = out["rejections"].astype(int)
    out["rate"] = out["rejections"] / out["replicates"]
    out["mcse"] = mcse(out["rate"], out["replicates"])
    ci = [binomial_interval(int(k), int(n)) for k, n in zip(out["rejections"], out["replicates"])]
    out["lo"] = [c[0] for c in ci]
    out["hi"] = [c[1] for c in ci]
    sig = det[det["rejected"] & (det["role"] == SUPPORTS_ROLE)]
    mean_abs = sig.assign(abs_est=sig["estimate"].abs()).groupby(keys, sort=False)["abs_est"].mean()
    out = out.merge(mean_abs.rename("mean_abs_significant").reset_index(), on=keys, how="left")
    out = scen.merge(out, on="scenario", how="right")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["exaggeration"] = np.where(out["planted_estimate"].abs() > 1e-9,
                                       out["mean_abs_significant"] / out["planted_estimate"].abs(), np.nan)
    return out.drop(columns="mean_abs_significant")


def _run_text_replicates(scen: pd.DataFrame, seed: int, text_replicates: int, workers, progress: bool, t0: float,
                         sim_kwargs: dict, test_kwargs: dict) -> pd.DataFrame:
    """The text measures on full simulated corpora (no change, the first national drift and
    the planted strengths only), in ``workers`` spawned processes."""
    first_drift = scen.index[scen["kind"] == NATIONAL_DRIFT][:1].tolist()
    chosen = [i for i in range(len(scen)) if scen["kind"].iloc[i] in (NO_CHANGE, CONVERGENCE) or i in first_drift]
    seeds = replicate_seeds(int(seed) + 1, len(scen), text_replicates)
    tasks = [(scen.iloc[i].to_dict(), seeds[i, r, 0], seeds[i, r, 1], sim_kwargs, test_kwargs)
             for i in chosen for r in range(text_replicates)]
    workers = min(os.cpu_count() or 1, 8) if workers is None else int(workers)
    results = []
    if workers > 1 and len(tasks) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: the start method of every platform; a worker is a fresh interpreter that imports this
        # module and is given the Chinese terms this process's tokenizer has beyond the packaged list
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_text.add_zh_terms, initargs=(_text.added_zh_terms(),)) as pool:
            for k, res in enumerate(pool.map(_text_replicate, tasks)):
                results.append(res)
                if (k + 1) % max(1, len(tasks) // 5) == 0:
                    _progress(progress, f"text measures, {k + 1}/{len(tasks)} corpora", t0)
    else:
        for k, task in enumerate(tasks):
            results.append(_text_replicate(task))
            if (k + 1) % max(1, len(tasks) // 5) == 0:
                _progress(progress, f"text measures, {k + 1}/{len(tasks)} corpora", t0)
    rows = [{"scenario": task[0]["scenario"], "replicate": k % text_replicates, "measure": m, "comparison": c,
             "role": TEXT_TEST, "estimate": sl, "rejected": bool(p < test_kwargs["alpha"])}
            for k, (task, res) in enumerate(zip(tasks, results)) for (m, c, _, sl, p) in res]
    return pd.DataFrame(rows, columns=["scenario", "replicate", "measure", "comparison", "role", "estimate", "rejected"])


def simulator_options(years, year_weights, missing_year_rate) -> dict:
    """The simulator's options for a corpus design: only those given.

    Parameters
    ----------
    years : sequence of int or None
        The first and the last founding year.
    year_weights : dict or None
        Year -> relative weight of the founding years.
    missing_year_rate : float or None
        The share of firms without a founding year.

    Returns
    -------
    dict
        Keyword arguments of :func:`analysis.data.simulate.simulate_labels`.
    """
    out = {}
    if years:
        out["years"] = tuple(int(y) for y in years)
    if year_weights:
        out["year_weights"] = {int(k): float(v) for k, v in dict(year_weights).items()}
    if missing_year_rate is not None:
        out["missing_year_rate"] = float(missing_year_rate)
    return out


@dataclass(frozen=True)
class _StudySettings:
    """The checked settings of :func:`simulation_study`: planted ``strengths``, label-level
    ``replicates`` and ``text_replicates`` per world, firms per city of the label-level corpora
    (``sizes``) and of the text replicates (``text_sizes``, ``scaled`` when smaller), cohort
    ``edges``, text ``fields`` and the simulator's options for the corpus's shape."""

    strengths: list
    replicates: int
    text_replicates: int
    sizes: tuple
    text_sizes: tuple
    scaled: bool
    edges: tuple
    fields: tuple
    sim_options: dict


def _study_settings(strengths, replicates, text_replicates, n_per_city, max_firms, cohort_edges, text_fields,
                    years, year_weights, missing_year_rate) -> _StudySettings:
    """:func:`simulation_study`'s arguments checked (ValueError) and normalised."""
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
    sim_options = simulator_options(years, year_weights, missing_year_rate)
    return _StudySettings(strengths, replicates, text_replicates, sizes, text_sizes, scaled, edges, fields, sim_options)


def _study_worlds(st: _StudySettings, drift, years, worlds: str) -> tuple[pd.DataFrame, dict]:
    """The worlds the study runs (:func:`scenarios`) and, for :data:`POWER_WORLDS`, the trimmed
    work of each (:func:`_label_replicates`' options)."""
    scen = scenarios(st.strengths, drift, st.edges, st.sizes, years=years,
                     year_weights=st.sim_options.get("year_weights"))
    if worlds not in (ALL_WORLDS, POWER_WORLDS):
        raise ValueError(f"worlds must be {ALL_WORLDS!r} or {POWER_WORLDS!r}, got {worlds!r}")
    trim = {}
    if worlds == POWER_WORLDS:
        scen = scen[scen["kind"].isin((NO_CHANGE, CONVERGENCE))].reset_index(drop=True)
        trim = {"measures": (conv.PRIMARY_MEASURE,), "old_tests": False, "pooled_only": True}
    return scen, trim


def _label_study(scen: pd.DataFrame, st: _StudySettings, seed, n_perm, alpha, margin, error, true_error, trim: dict,
                 progress: bool, t0: float) -> list[pd.DataFrame]:
    """The label-level replicates of every world (:func:`_label_replicates`), in blocks of at most
    :data:`LABEL_BLOCK` corpora, each a task of :func:`analysis.method.parallel.run_tasks` with its
    own seed spawned from the world's (itself spawned from ``seed``)."""
    children = np.random.SeedSequence(int(seed)).spawn(len(scen))
    n_perm = min(int(n_perm), LABEL_PERM_CAP)
    kwargs = dict(sizes=st.sizes, edges=st.edges, n_perm=n_perm, alpha=float(alpha), margin=float(margin), error=error,
                  sim_options=st.sim_options, true_error=true_error, **trim)
    size = label_chunk(sum(st.sizes), n_perm, len(CITIES) * max(len(st.edges) - 1, int(st.edges[-1] - st.edges[0])))
    starts = list(range(0, st.replicates, size))
    tasks = [(scen.iloc[i].to_dict(), r0, min(size, st.replicates - r0), seeds, kwargs)
             for i in range(len(scen)) for r0, seeds in zip(starts, children[i].spawn(2)[0].spawn(len(starts)))]
    frames = run_tasks(_label_block, tasks, name="power-study", progress=progress)
    _progress(progress, f"share measures, {len(scen)} worlds", t0)
    return frames


def _text_study(scen: pd.DataFrame, st: _StudySettings, seed, phrasebank, text_n_perm, alpha, n_subsamples, workers,
                progress: bool, t0: float, analyse_kwargs: dict) -> pd.DataFrame:
    """The text measures' replicates (:func:`_run_text_replicates`) with the study's settings."""
    sim_kwargs = {"n_per_city": st.text_sizes, "phrasebank": str(phrasebank), **st.sim_options}
    test_kwargs = {"n_perm": int(text_n_perm), "alpha": float(alpha), "n_subsamples": int(n_subsamples),
                   "text_fields": st.fields, "cohort_edges": st.edges, **analyse_kwargs}
    return _run_text_replicates(scen, seed, st.text_replicates, workers, progress, t0, sim_kwargs, test_kwargs)


def _study_table(det: pd.DataFrame, scen: pd.DataFrame, t0: float, details: bool, attrs: dict) -> pd.DataFrame:
    """The study's rates per world from the per-replicate rows ``det``, with the settings
    ``attrs`` and the seconds taken (and ``det`` itself with ``details``)."""
    out = _aggregate(det, scen)
    out = out[["scenario", "kind", "strength", *WORLD_OPTIONS, "planted_estimate", "planted_others", "planted_effect",
               "measure", "comparison", "role", "replicates", "rejections", "rate", "mcse", "lo", "hi", "exaggeration"]]
    out.attrs.update({"seconds": time.perf_counter() - t0, **attrs})
    if details:
        out.attrs["details"] = det
    return out


def simulation_study(strengths: Sequence[float] = DEFAULT_STRENGTHS, replicates: int = REPLICATES, seed: int = DEFAULT_SEED,
                     n_perm: int = N_PERM, alpha: float = ALPHA, n_per_city: Sequence[int] = BRIEF_CITY_SIZES,
                     phrasebank: str = "a", *, margin: float = rule.DEFAULT_MARGIN, drift: float = DEFAULT_DRIFT,
                     text_replicates: int = TEXT_REPLICATES, text_n_perm: int = 50, n_subsamples: int = N_SUBSAMPLES,
                     text_fields: Sequence[str] = TEXT_FIELDS,
                     cohort_edges: Sequence[int] = conv.DEFAULT_COHORT_EDGES, workers: int | None = None,
                     max_firms: int | None = DEFAULT_MAX_FIRMS, years: Sequence[int] | None = None,
                     year_weights: dict | None = None, missing_year_rate: float | None = None, details: bool = False,
                     progress: bool = False, coder_error=None, true_error=None, worlds: str = ALL_WORLDS,
                     **analyse_kwargs) -> pd.DataFrame:
    """Rates of every decision per world (module docstring).

    Parameters
    ----------
    strengths : sequence of float
        The planted convergence strengths (distinct) of the convergence worlds.
    replicates, n_perm, seed, alpha, margin
        Label-level corpora per world (:func:`analysis.data.simulate.simulate_labels`),
        permutations each (at most :data:`LABEL_PERM_CAP`), the seed, the rule's level and its
        equivalence margin (share points per year).
    n_per_city, cohort_edges, years, year_weights, missing_year_rate
        The simulated corpora's shape (:func:`corpus_design`).
    coder_error, true_error : analysis.method.coder_error.CoderError, optional
        The coder's error as measured (default the dictionary coder's on the check sets), which
        draws each corpus's flags and corrects the rule; ``true_error`` draws the flags instead
        (a misspecified coder).
    worlds : str
        :data:`ALL_WORLDS`, or :data:`POWER_WORLDS` (no change and the convergence strengths,
        the primary measure and comparison, the rule only).
    text_replicates, text_n_perm, n_subsamples, text_fields, phrasebank, drift, workers, max_firms
        The text measures: ``text_replicates`` full corpora per world (no change, national drift
        ``drift``, convergence) of at most ``max_firms`` firms, ``text_n_perm`` permutations each,
        in ``workers`` processes.
    details, progress : bool
        Keep the per-replicate rows in ``attrs["details"]``; report progress on stderr.
    **analyse_kwargs
        Passed on to :func:`analysis.method.convergence.analyse` by the text replicates.

    Returns
    -------
    pandas.DataFrame
        One row per world x measure x comparison x role: the world's columns (:func:`scenarios`),
        replicates, rejections, rate, mcse, lo, hi (exact 95% interval), exaggeration; ``attrs``
        carry the settings and the seconds taken.
    """
    st = _study_settings(strengths, replicates, text_replicates, n_per_city, max_firms, cohort_edges, text_fields,
                         years, year_weights, missing_year_rate)
    scen, trim = _study_worlds(st, drift, years, worlds)
    t0 = time.perf_counter()
    error = coder_error if coder_error is not None else check_set_error()
    frames = _label_study(scen, st, seed, n_perm, alpha, margin, error, true_error, trim, progress, t0)
    if st.text_replicates:
        frames.append(_text_study(scen, st, seed, phrasebank, text_n_perm, alpha, n_subsamples, workers, progress, t0,
                                  analyse_kwargs))
    return _study_table(pd.concat(frames, ignore_index=True), scen, t0, details, {
        "alpha": float(alpha), "n_perm": min(int(n_perm), LABEL_PERM_CAP), "text_n_perm": int(text_n_perm),
        "seed": int(seed), "n_subsamples": int(n_subsamples), "n_per_city": st.sizes, "text_n_per_city": st.text_sizes,
        "scaled": st.scaled and bool(st.text_replicates), "replicates": st.replicates,
        "text_replicates": st.text_replicates, "phrasebank": phrasebank, "coder_error": error, "true_error": true_error,
        "drift": float(drift), "margin": float(margin), "scenarios": scen})


def design_power(replicates: int = REPLICATES, seed: int = DEFAULT_SEED, n_perm: int = N_PERM, alpha: float = ALPHA,
                 n_per_city: Sequence[int] = BRIEF_CITY_SIZES, *,
                 margin: float = rule.DEFAULT_MARGIN, factors: Sequence[float] = DESIGN_FACTORS,
                 cohort_edges: Sequence[int] = conv.DEFAULT_COHORT_EDGES, years=None, year_weights=None,
                 missing_year_rate: float | None = None, coder_error=None) -> pd.DataFrame:
    """Power of the rule against full planted convergence (primary measure and comparison) at
    this design's city proportions and years, with every city's firms multiplied by each of
    ``factors`` and the coder's error ``coder_error`` (as :func:`simulation_study`).

    Parameters
    ----------
    replicates : int
        Label-level corpora per size.
    seed : int
        The seed.
    n_perm : int
        Permutations per corpus (at most :data:`LABEL_PERM_CAP`).
    alpha, margin : float
        The rule's level and its equivalence margin, share points per year.
    n_per_city : sequence of int
        Firms per city of the design.
    factors : sequence of float
        The multiples of every city's firms tried.
    cohort_edges : sequence of int
        The cohort edges; their window is the founding years analysed.
    years : sequence of int, optional
        The first and the last founding year (None: the simulator's).
    year_weights : dict, optional
        Year -> relative weight of the founding years (None: the simulator's).
    missing_year_rate : float, optional
        The share of firms without a founding year (None: the simulator's).
    coder_error : analysis.method.coder_error.CoderError, optional
        The coder's error (None: the dictionary coder's on the check sets).

    Returns
    -------
    pandas.DataFrame
        Columns factor, firms, replicates, rate (the share of corpora the rule supported), mcse.
    """
    sizes = [int(n) for n in n_per_city]
    edges = tuple(int(e) for e in cohort_edges)
    sim_options = simulator_options(years, year_weights, missing_year_rate)
    error = coder_error if coder_error is not None else check_set_error()
    world = {"scenario": "convergence 1", "strength": 1.0, **{o: 0.0 for o in WORLD_OPTIONS}}
    rows = []
    scaled_sizes = [tuple(max(int(round(n * float(f))), 1 if n else 0) for n in sizes) for f in factors]
    common = dict(edges=edges, n_perm=min(int(n_perm), LABEL_PERM_CAP), alpha=float(alpha), margin=float(margin),
                  error=error, sim_options=sim_options, measures=(conv.PRIMARY_MEASURE,), old_tests=False,
                  pooled_only=True)
    tasks = [(world, 0, int(replicates), child, {**common, "sizes": scaled})
             for scaled, child in zip(scaled_sizes, np.random.SeedSequence(int(seed) + 2).spawn(len(factors)))]
    for f, scaled, det in zip(factors, scaled_sizes, run_tasks(_label_block, tasks, name="power-by-size")):
        sel = conv.primary_rows(det)
        sel = sel[sel["role"] == SUPPORTS_ROLE]
        rate = float(sel["rejected"].mean())
        rows.append({"factor": float(f), "firms": int(sum(scaled)), "replicates": len(sel), "rate": rate,
                     "mcse": float(mcse(rate, len(sel)))})
    return pd.DataFrame(rows)


def planted_values(strength: float, design: dict) -> dict[str, float]:
    """Comparison -> the planted gap slope (share points per year, planted labels) of a corpus
    simulated with convergence ``strength`` and the shape ``design`` (:func:`corpus_design`).

    Parameters
    ----------
    strength : float
        The planted convergence strength.
    design : dict
        As :func:`corpus_design` gives it (its ``n_per_city``, ``years`` and ``year_weights``).

    Returns
    -------
    dict
        Comparison name -> the planted gap slope, share points per year.
    """
    kw = {"years": tuple(design["years"])} if design.get("years") else {}
    firms, prob, t = planted_public_table(convergence=float(strength), n_per_city=design["n_per_city"],
                                          year_weights=design.get("year_weights"), **kw)
    return {name: v["estimate"] for name, v in rule.planted_slopes(firms, prob, t).items()}


def firms_for_power(design: pd.DataFrame, target: float = POWER_TARGET) -> float:
    """Firms at which the power of :func:`design_power` first reaches ``target``, interpolated
    linearly between the sizes tried; NaN when it is not reached.

    Parameters
    ----------
    design : pandas.DataFrame
        A table of :func:`design_power` (its columns firms and rate).
    target : float
        The power wanted.

    Returns
    -------
    float
        The firms (the smallest size tried when that already reaches ``target``), or NaN.
    """
    d = design.sort_values("firms")
    hit = np.flatnonzero(d["rate"].to_numpy() >= target)
    if not len(hit):
        return float("nan")
    i = int(hit[0])
    if i == 0:
        return float(d["firms"].iloc[0])
    f0, f1 = d["firms"].iloc[i - 1], d["firms"].iloc[i]
    p0, p1 = d["rate"].iloc[i - 1], d["rate"].iloc[i]
    return float(f0 + (target - p0) / (p1 - p0) * (f1 - f0))


def _progress(enabled: bool, what: str, t0: float) -> None:
    if enabled:
        import sys

        print(f"simulation study: {what} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)


def _interpolate_mde(effects, power, target: float):
    """The effect at which power first reaches ``target`` (linear between grid points) and
    whether it is only a lower bound (the grid ends below the target)."""
    hit = np.flatnonzero(np.asarray(power) >= target)
    if not len(hit):
        return float(effects[-1]), "lower"
    i = int(hit[0])
    if i == 0:
        return float(effects[0]), ""
    frac = (target - power[i - 1]) / (power[i] - power[i - 1])
    return float(effects[i - 1] + frac * (effects[i] - effects[i - 1])), ""


def power_summary(study: pd.DataFrame, target: float = POWER_TARGET, planted_strength: float | None = None,
                  design: pd.DataFrame | None = None) -> pd.DataFrame:
    """Power, false-positive rates and the minimum detectable effect (MDE) of the rule.

    Parameters
    ----------
    study : pandas.DataFrame
        A table of :func:`simulation_study` (its ``supports`` rows are read).
    target : float
        The power at which the MDE is read.
    planted_strength : float, optional
        The planted strength of a simulated corpus (None: a real corpus).
    design : pandas.DataFrame, optional
        A table of :func:`design_power`, for ``firms_for_80pct``.

    Returns
    -------
    pandas.DataFrame
        Per measure and comparison: ``power`` against full planted convergence (the strongest strength) with
        ``power_mcse`` and ``power_replicates``; ``power_planted`` (``power_planted_mcse``) at ``planted_strength`` (NaN
        without one); ``fpr`` (``fpr_mcse``) with no change and ``fpr_max`` (``fpr_max_mcse``, ``fpr_max_world``), the
        largest "supports" rate over the worlds of :data:`NULL_KINDS` (the threats aside); ``mde``: the gap's closing,
        share points per year, at which power first reaches ``target``, interpolated on the planted strengths
        (``mde_bound`` ``lower``: the grid ends first, ``mde`` is its end); ``exaggeration`` at the planted strength
        where known, else at the strength nearest the MDE; for the primary row with ``design``, ``firms_for_80pct``.
    """
    rows = []
    sup = study[study["role"] == SUPPORTS_ROLE]
    for (measure, comp), part in sup.groupby(["measure", "comparison"], sort=False):
        conv_rows = part[part["kind"] == CONVERGENCE].sort_values("strength")
        null = part[part["kind"] == NO_CHANGE]
        others = part[part["kind"].isin(NULL_KINDS)]
        worst = others.loc[others["rate"].idxmax()] if len(others) else None
        row = {"measure": measure, "comparison": comp, "power": np.nan, "power_mcse": np.nan, "power_replicates": 0,
               "power_planted": np.nan, "power_planted_mcse": np.nan, "mde": np.nan, "mde_bound": "",
               "exaggeration": np.nan, "firms_for_80pct": np.nan,
               "fpr": float(null["rate"].iloc[0]) if len(null) else np.nan,
               "fpr_mcse": float(null["mcse"].iloc[0]) if len(null) else np.nan,
               "fpr_max": float(worst["rate"]) if worst is not None else np.nan,
               "fpr_max_mcse": float(worst["mcse"]) if worst is not None else np.nan,
               "fpr_max_world": str(worst["scenario"]) if worst is not None else ""}
        if len(conv_rows):
            top = conv_rows.iloc[-1]
            row.update(power=float(top["rate"]), power_mcse=float(top["mcse"]), power_replicates=int(top["replicates"]))
            effects = np.concatenate([[0.0], conv_rows["planted_estimate"].abs().to_numpy(float)])
            pw = np.concatenate([[row["fpr"] if row["fpr"] == row["fpr"] else 0.0], conv_rows["rate"].to_numpy(float)])
            row["mde"], row["mde_bound"] = _interpolate_mde(effects, pw, target)
            at = None
            if planted_strength is not None:
                hit = conv_rows[np.isclose(conv_rows["strength"], float(planted_strength))]
                if len(hit):
                    at = hit.iloc[0]
                    row.update(power_planted=float(at["rate"]), power_planted_mcse=float(at["mcse"]))
            if at is None:
                at = conv_rows.iloc[int(np.argmin(np.abs(conv_rows["planted_estimate"].abs().to_numpy() - row["mde"])))]
            row["exaggeration"] = float(at["exaggeration"])
        if design is not None and measure == conv.PRIMARY_MEASURE and comp == conv.PRIMARY_COMPARISON:
            row["firms_for_80pct"] = firms_for_power(design, target)
        rows.append(row)
    return pd.DataFrame(rows)


def rates_table(study: pd.DataFrame, measure: str = conv.PRIMARY_MEASURE,
                comparison: str = conv.PRIMARY_COMPARISON) -> pd.DataFrame:
    """One row per world for one measure and comparison: the world, its kind, the planted gap
    slope (share points per year), and side by side the rate at which the earlier gap test
    rejected and the rule supported or ruled out convergence, each with its Monte Carlo SE, and
    the exact 95% upper bound of the "supports" rate.

    Parameters
    ----------
    study : pandas.DataFrame
        A table of :func:`simulation_study`.
    measure, comparison : str
        The measure and the comparison shown.

    Returns
    -------
    pandas.DataFrame
        Columns world, kind, planted gap slope, gap test, gap test MCSE, supports, supports MCSE,
        supports 95% upper, rules out, rules out MCSE, no convergence (the world plants none).
    """
    part = study[(study["measure"] == measure) & (study["comparison"] == comparison)]
    worlds = part.drop_duplicates("scenario")[["scenario", "kind", "planted_estimate"]]
    out = worlds.rename(columns={"scenario": "world", "planted_estimate": "planted gap slope"}).reset_index(drop=True)
    out["planted gap slope"] = out["planted gap slope"].round(6) + 0.0  # no "-0"
    for role, label in ((GAP_TEST, "gap test"), (SUPPORTS_ROLE, "supports"), (RULES_OUT_ROLE, "rules out")):
        r = part[part["role"] == role].set_index("scenario")
        out[label] = out["world"].map(r["rate"])
        out[f"{label} MCSE"] = out["world"].map(r["mcse"])
        if role == SUPPORTS_ROLE:
            out["supports 95% upper"] = out["world"].map(r["hi"])
    out["no convergence"] = out["kind"] != CONVERGENCE
    return out


#: the columns of :func:`rates_table` that sort its rows rather than being read (not shown)
RATES_HIDDEN = ("kind", "no convergence")
#: the columns of a threat world's row that the threats table shows, in order
THREAT_COLUMNS = ("world", "gap test", "gap test MCSE", "supports", "supports MCSE", "rules out", "rules out MCSE")


def primary_power(power: pd.DataFrame) -> pd.Series:
    """The row of :func:`power_summary` of the primary measure and comparison
    (:data:`analysis.method.convergence.PRIMARY_MEASURE`, ``PRIMARY_COMPARISON``).

    Parameters
    ----------
    power : pandas.DataFrame
        A table of :func:`power_summary`.

    Returns
    -------
    pandas.Series
        The primary row.

    Raises
    ------
    IndexError
        If the table has no primary row.
    """
    return conv.primary_rows(power).iloc[0]


def null_worlds(rates: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`rates_table` of the worlds without convergence in the brief's sense
    (:data:`NULL_KINDS`; the threats aside).

    Parameters
    ----------
    rates : pandas.DataFrame
        A table of :func:`rates_table`.

    Returns
    -------
    pandas.DataFrame
        Those rows, their index kept.
    """
    return rates[rates["kind"].isin(NULL_KINDS)]


def threats_table(rates: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`rates_table` of the threat worlds (:data:`THREATS`), with the rates of
    the earlier gap test and of the rule's two decisions and their Monte Carlo SEs
    (:data:`THREAT_COLUMNS`), numbered from 0.

    Parameters
    ----------
    rates : pandas.DataFrame
        A table of :func:`rates_table`.

    Returns
    -------
    pandas.DataFrame
        Those rows, the columns :data:`THREAT_COLUMNS` in that order.
    """
    threats = rates[rates["kind"].isin([kind for kind, _, _ in THREATS])]
    return threats[list(THREAT_COLUMNS)].reset_index(drop=True)


def rates_shown(rates: pd.DataFrame) -> pd.DataFrame:
    """:func:`rates_table` as the validation page shows it: without the columns that only sort
    its rows (:data:`RATES_HIDDEN`).

    Parameters
    ----------
    rates : pandas.DataFrame
        A table of :func:`rates_table`.

    Returns
    -------
    pandas.DataFrame
        ``rates`` without those columns.
    """
    return rates.drop(columns=list(RATES_HIDDEN))


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
    text_fields: Sequence[str] = TEXT_FIELDS,
    *,
    convergence: float | None = None,
    folds: int = 5,
    max_firms: int | None = DEFAULT_MAX_FIRMS,
) -> LabelRecovery:
    """Dictionary and supervised coders against the planted labels, per phrase bank.

    Both coders see the corpus without its ``truth_*`` columns; the planted labels go to the scoring functions of
    :mod:`analysis.text.classify` (``dictionary_check``, ``supervised_check``).  A ``"tie"`` or ``"none"`` of the
    dictionary coder counts as wrong (extra columns of its confusion matrix); macro-F1 averages over true categories.

    Parameters
    ----------
    phrasebanks : sequence of str
        The simulator's phrase banks, a corpus each.
    n_per_city : sequence of int
        Firms per city of each corpus.
    seed, folds : int
        The seed of the simulator and of the supervised coder; its cross-validation folds.
    text_fields : sequence of str
        The text columns the coders read.
    convergence : float, optional
        The planted convergence strength (None: the simulator's).
    max_firms : int, optional
        Above it the corpora are simulated at city sizes scaled down to that total (``scaled``), as in the study.

    Returns
    -------
    LabelRecovery
        The scores, the confusion matrices, notes on a coder that could not run, the city sizes used (``scaled``).
    """
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


def macro_f1_table(summary: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The macro-F1 of :class:`LabelRecovery`'s ``summary`` as the validation page shows it: one
    row per dimension, one column per (coder, phrase bank), rounded to ``digits``.

    Parameters
    ----------
    summary : pandas.DataFrame
        The ``summary`` of a :class:`LabelRecovery`.
    digits : int
        The decimals kept.

    Returns
    -------
    pandas.DataFrame
        Index dimension, columns (coder, phrasebank).
    """
    return summary.pivot_table(index=["dimension"], columns=["coder", "phrasebank"], values="macro_f1").round(digits)


def lowest_macro_f1(summary: pd.DataFrame, coder: str, phrasebank: str | None = None) -> float:
    """The lowest macro-F1 in :class:`LabelRecovery`'s ``summary`` of ``coder`` over the
    dimensions, on ``phrasebank`` (None: on every bank).

    Parameters
    ----------
    summary : pandas.DataFrame
        The ``summary`` of a :class:`LabelRecovery`.
    coder : str
        The coder.
    phrasebank : str, optional
        The phrase bank.

    Returns
    -------
    float
        The lowest macro-F1; NaN when no row matches.
    """
    rows = summary["coder"] == coder
    if phrasebank is not None:
        rows &= summary["phrasebank"] == phrasebank
    return summary.loc[rows, "macro_f1"].min()


def confusion_matrices(recovery: LabelRecovery, phrasebank: str, coder: str,
                       dimensions: Sequence[str] = CODED_DIMENSIONS) -> dict[str, pd.DataFrame]:
    """Dimension -> the confusion matrix of ``coder`` on the corpus written with ``phrasebank``
    (rows planted, columns coded), for each of ``dimensions`` in that order.

    Parameters
    ----------
    recovery : LabelRecovery
        The label recovery.
    phrasebank, coder : str
        The phrase bank of the corpus and the coder.
    dimensions : sequence of str
        The dimensions wanted.

    Returns
    -------
    dict of str to pandas.DataFrame
        Dimension -> confusion matrix.

    Raises
    ------
    KeyError
        If ``recovery`` has no matrix for one of them (e.g. the coder could not run).
    """
    return {dim: recovery.confusion[(phrasebank, dim, coder)] for dim in dimensions}
