"""The specification curve's joint test on simulated corpora: how often it finds convergence where
none was planted, and where it was (the validation chapter).

Each corpus is drawn at the level of labels as in the power study (:mod:`analysis.method.validation`:
planted labels, the coder's flags drawn with its measured error), for the world with no change and
for each planted strength.  The text-based choices (text fields, coder, outcome) need words, so a
simulated corpus has one coding, the public share; its curve crosses the label-level choices
(time, comparison, scale, correction: 60 specifications) and gets the joint test of
:func:`analysis.method.specification_curve.joint_statistics` with permutations of its counts
(founding years within every city).  The corpora run in blocks of :data:`JOINT_BLOCK` as tasks of
:func:`analysis.method.parallel.run_tasks`, each seeded from the build seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from analysis.data.simulate import simulate_labels
from analysis.defaults import ALPHA, BRIEF_CITY_SIZES, COHORT_EDGES, DEFAULT_SEED, N_PERM, REPLICATES
from analysis.method import convergence as conv
from analysis.method import convergence_rule as rule
from analysis.method import specification_curve as sc
from analysis.method import validation
from analysis.method.parallel import run_tasks
from analysis.method.resampling import permuted_counts_batch

__all__ = ["JOINT_STATISTICS", "BOTH", "JOINT_BLOCK", "simulated_choices", "joint_rates"]

JOINT_STATISTICS = ("median estimate", "share significant")
BOTH = "both"  # the joint test rejects on both statistics
#: simulated corpora per task (fixed, so the tasks and their seeds do not depend on the workers)
JOINT_BLOCK = 50
#: permutations per simulated corpus, at most: each corpus needs a valid test, not a precise p (1/101
#: resolves alpha = 0.05), and the cost grows with corpora times permutations
JOINT_PERM_CAP = 100
#: corpora of the world with no change, at least: a valid test's rate sits at alpha, and at 400 corpora
#: the exact upper bound of a rate of 0.05 is 0.076, at 1,000 it is 0.065 (room for Monte Carlo error)
NULL_REPLICATES = 1000
#: mixed into the build seed (the joint test's corpora are not the power study's)
SEED_SALT = 0x5C1
PRIMARY = conv.PRIMARY_MEASURE


def simulated_choices(cohort_edges: Sequence[int] = COHORT_EDGES, coder: str = conv.DEFAULT_CODER) -> dict:
    """The choices crossed on a simulated corpus: those of
    :func:`analysis.method.specification_curve.choices` with one coding (the planted labels as the
    coder flags them, the public share).

    Parameters
    ----------
    cohort_edges : sequence of int
        The build's cohort edges.
    coder : str
        The coder whose measured error draws the flags.

    Returns
    -------
    dict
        Choice name -> values.
    """
    ch = sc.choices(("simulated labels",), coder, cohort_edges, coders=[coder])
    return {**ch, "text_fields": [("simulated labels",)], "coder": [coder], "outcome": [PRIMARY]}


def _computable(x, n, res, comps, grid: pd.DataFrame, separation, n_perm: int, alpha: float) -> np.ndarray:
    """(corpora, n_spec): whether each specification can be decided on each corpus (the rule's
    reasons on its table; a correction without a separation cannot run)."""
    out = np.ones((x.shape[0], len(grid)), dtype=bool)
    for (r, c), idx in grid.groupby(["r", "c"]).groups.items():
        xr, nr = x @ res[r].weights, n @ res[r].weights
        level, _, _ = rule.lpm_slopes(xr, nr, res[r].t)
        gap, _ = rule.standardised(level, comps[c])
        ok = rule.reasons(xr, nr, comps[c], np.sign(gap), n_perm, alpha) == ""
        out[:, grid.index.get_indexer(idx)] = ok[:, None]
    if separation is None:
        out[:, (grid["correction"] == sc.CORRECTIONS[0]).to_numpy()] = False
    return out


def _joint_block(task) -> np.ndarray:
    """One task: ``count`` simulated corpora of one world, each with its curve's joint test;
    (count, 2) p-values (median estimate, share significant)."""
    scen, count, seed_seq, sizes, edges, n_perm, alpha, error, sim_options = task
    rng = np.random.default_rng(seed_seq)
    labs = simulate_labels(count, rng, n_per_city=sizes, convergence=scen["strength"],
                           **{o: scen[o] for o in validation.WORLD_OPTIONS}, **sim_options)
    flags = validation.coder_flags(labs, error, rng, count)
    _, n, coded, t = validation.label_tables(labs, flags, edges, count)
    x = coded[PRIMARY][1]
    permuted = permuted_counts_batch(np.rint(x.sum(axis=-1)).astype(np.int64), n.astype(np.int64), n_perm, rng)
    ch = simulated_choices(edges, error.coder)
    res = sc.resolutions(ch["time"], int(t[0]), int(t[-1]), (int(t[0]), int(t[-1])))
    comps = rule.comparisons(np.asarray(sizes, dtype=float))
    measured = error.candidates(PRIMARY)[0]
    separation = rule.separation(measured)
    stats = sc.statistics(np.concatenate([x[:, None], permuted], axis=1)[:, :, None], n[:, None, None], res, comps,
                          [measured])
    grid = sc.spec_grid(ch)
    closing, towards, estimate, _ = sc.spec_arrays(stats, grid, np.array([separation or np.nan]))
    computable = _computable(x, n, res, comps, grid, separation, n_perm, alpha)
    joint = sc.joint_statistics(closing, towards, estimate, computable, (grid["scale"] == sc.SCALES[0]).to_numpy(),
                                alpha)
    return np.stack([joint["p_median"], joint["p_share"]], axis=1)


def joint_rates(strengths: Sequence[float] = validation.DEFAULT_STRENGTHS, replicates: int = REPLICATES,
                seed: int = DEFAULT_SEED, n_perm: int = N_PERM, alpha: float = ALPHA,
                n_per_city: Sequence[int] = BRIEF_CITY_SIZES, cohort_edges: Sequence[int] = COHORT_EDGES,
                coder_error=None, years=None, year_weights=None, missing_year_rate: float | None = None,
                progress: bool = False) -> pd.DataFrame:
    """How often the joint test rejects with no change and at each planted strength.

    Parameters
    ----------
    strengths : sequence of float
        The planted convergence strengths.
    replicates, seed, n_perm, alpha
        Corpora per world (at least :data:`NULL_REPLICATES` with no change), the seed, permutations per corpus (at most :data:`JOINT_PERM_CAP`) and the level.
    n_per_city, cohort_edges, years, year_weights, missing_year_rate
        The simulated corpora's shape (:func:`analysis.method.validation.corpus_design`).
    coder_error : analysis.method.coder_error.CoderError, optional
        The coder's error (None: the dictionary coder's on the check sets).
    progress : bool
        A progress bar over the tasks.

    Returns
    -------
    pandas.DataFrame
        One row per world and statistic (:data:`JOINT_STATISTICS` and :data:`BOTH`): scenario,
        strength, statistic, replicates, rejections, rate, mcse, lo, hi (Clopper–Pearson 95%).
    """
    sizes = tuple(int(s) for s in n_per_city)
    edges = tuple(int(e) for e in cohort_edges)
    scen = validation.scenarios(strengths, 0.0, edges, sizes, years=years, year_weights=year_weights)
    scen = scen[scen["kind"].isin((validation.NO_CHANGE, validation.CONVERGENCE))].reset_index(drop=True)
    error = coder_error if coder_error is not None else validation.check_set_error()
    sim_options = validation.simulator_options(years, year_weights, missing_year_rate)
    n_perm = min(int(n_perm), JOINT_PERM_CAP)
    counts = [max(int(replicates), NULL_REPLICATES) if kind == validation.NO_CHANGE else int(replicates)
              for kind in scen["kind"]]
    worlds = np.random.SeedSequence([int(seed), SEED_SALT]).spawn(len(scen))
    tasks, owner = [], []
    for i, count in enumerate(counts):
        starts = range(0, count, JOINT_BLOCK)
        for r0, child in zip(starts, worlds[i].spawn(len(starts))):
            tasks.append((scen.iloc[i].to_dict(), min(JOINT_BLOCK, count - r0), child, sizes, edges, n_perm,
                          float(alpha), error, sim_options))
            owner.append(i)
    p = run_tasks(_joint_block, tasks, name="joint-test", progress=progress)
    return _rates(scen, [np.concatenate([b for b, o in zip(p, owner) if o == i]) for i in range(len(scen))], alpha)


def _rates(scen: pd.DataFrame, p_values: list, alpha: float) -> pd.DataFrame:
    """The rejection rates per world and statistic from each world's (corpora, 2) p-values."""
    rows = []
    for (_, world), p in zip(scen.iterrows(), p_values):
        rejects = p < alpha
        for statistic, hit in (*zip(JOINT_STATISTICS, rejects.T), (BOTH, rejects.all(axis=1))):
            k, m = int(hit.sum()), len(hit)
            lo, hi = validation.binomial_interval(k, m)
            rows.append({"scenario": world["scenario"], "strength": float(world["strength"]), "statistic": statistic,
                         "replicates": m, "rejections": k, "rate": k / m, "mcse": float(validation.mcse(k / m, m)),
                         "lo": lo, "hi": hi})
    return pd.DataFrame(rows)
