"""Validation on simulated corpora (DESIGN §6 "Validation"): does the convergence test find
convergence that was planted, and only then?  Do the coders recover planted labels?

This is the only analysis module that reads ``truth_*`` columns, and only of corpora it
generates itself with :func:`analysis.simulate.simulate`.

``simulation_study``
    For each planted convergence strength (0 = none), ``replicates`` corpora are generated,
    each with its own seed derived from ``seed`` (``numpy.random.SeedSequence``), and the
    primary convergence test of :mod:`analysis.convergence` is run on each (no bootstrap,
    only the primary measure).  A detection is ``p < alpha``.  At strength 0 the detection
    rate is the false-positive rate; at the others it is the power.  The Monte Carlo
    standard error of a rate r from R replicates is ``sqrt(r (1 - r) / R)``.
    Replicates are independent and their seeds fixed in advance, so running them in
    ``workers`` processes gives exactly the serial result.

``label_recovery``
    For each phrase bank and each coded dimension: macro-F1 and confusion matrix of the
    dictionary coder (:func:`analysis.classify.code_firms`) against the planted labels, and
    the same for the supervised cross-check (:func:`analysis.classify.supervised_check`).
    Phrase bank "b" was not used to write the dictionary, so it shows how the coder fares on
    wording it was not tuned on.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from . import convergence as conv

__all__ = ["DEFAULT_SEED", "DEFAULT_STRENGTHS", "replicate_seeds", "simulation_study", "mcse",
           "label_recovery", "LabelRecovery", "main"]

DEFAULT_SEED = 20220901
DEFAULT_STRENGTHS = (0.0, 0.25, 0.5, 0.75, 1.0)
CODED_DIMENSIONS = ("application", "customer", "geography")


def mcse(rate, replicates):
    """Monte Carlo standard error of a proportion: ``sqrt(rate (1 - rate) / replicates)``."""
    rate = np.asarray(rate, dtype=float)
    replicates = np.asarray(replicates, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.sqrt(rate * (1 - rate) / replicates)
    return out if out.ndim else float(out)


def replicate_seeds(seed: int, n_strengths: int, replicates: int) -> np.ndarray:
    """(n_strengths, replicates, 2) integer seeds: one for the simulator, one for the test.

    Derived with ``SeedSequence(seed).spawn``; a strength's seeds do not depend on how many
    strengths or replicates come after it.
    """
    out = np.empty((n_strengths, replicates, 2), dtype=np.int64)
    for i, child in enumerate(np.random.SeedSequence(seed).spawn(n_strengths)):
        for r, grand in enumerate(child.spawn(replicates)):
            out[i, r] = grand.generate_state(2, dtype=np.uint32)
    return out


def _one_replicate(task):
    strength, sim_seed, test_seed, sim_kwargs, test_kwargs = task
    from .simulate import simulate

    firms = simulate(convergence=float(strength), seed=int(sim_seed), **sim_kwargs)
    firms = firms.loc[:, [c for c in firms.columns if not c.startswith("truth_")]]
    res = conv.analyse(firms, n_boot=0, seed=int(test_seed), measures=(test_kwargs["primary"],), **test_kwargs)
    row = res.primary_row()
    return float(row["slope"]), float(row["p"])


def simulation_study(
    strengths: Sequence[float] = DEFAULT_STRENGTHS,
    replicates: int = 20,
    seed: int = DEFAULT_SEED,
    n_perm: int = 200,
    alpha: float = 0.05,
    n_per_city: Sequence[int] = (110, 53, 34),
    phrasebank: str = "a",
    *,
    n_subsamples: int = 5,
    text_fields: Sequence[str] = ("description", "full_description"),
    cohort_edges: Sequence[int] = conv.DEFAULT_COHORT_EDGES,
    primary: str = conv.PRIMARY_MEASURE,
    workers: int = 1,
    details: bool = False,
    **analyse_kwargs,
) -> pd.DataFrame:
    """Detection rate of the primary convergence test per planted strength.

    Returns a DataFrame with columns strength, replicates, detections, rate, mcse (and,
    with ``details=True``, the per-replicate slopes and p-values in ``.attrs["details"]``).
    ``workers > 1`` runs replicates in that many processes (same result as serial).
    """
    from .params import as_list

    strengths = [float(s) for s in as_list(strengths, name="strengths")]
    replicates = int(replicates)
    if replicates < 1:
        raise ValueError(f"replicates must be >= 1, got {replicates}")
    if len(set(strengths)) != len(strengths):
        raise ValueError(f"strengths must be distinct, got {strengths}")
    seeds = replicate_seeds(seed, len(strengths), replicates)
    n_per_city = tuple(int(n) for n in as_list(n_per_city, name="n_per_city"))
    sim_kwargs = {"n_per_city": n_per_city, "phrasebank": str(phrasebank)}
    test_kwargs = {"n_perm": int(n_perm), "alpha": float(alpha), "n_subsamples": int(n_subsamples),
                   "text_fields": tuple(as_list(text_fields, name="text_fields")),
                   "cohort_edges": tuple(int(e) for e in as_list(cohort_edges, name="cohort_edges")), "primary": primary,
                   **analyse_kwargs}
    tasks = [(s, seeds[i, r, 0], seeds[i, r, 1], sim_kwargs, test_kwargs)
             for i, s in enumerate(strengths) for r in range(replicates)]
    t0 = time.perf_counter()
    if workers and int(workers) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=int(workers)) as pool:
            results = list(pool.map(_one_replicate, tasks, chunksize=max(1, len(tasks) // (4 * int(workers)))))
    else:
        results = [_one_replicate(t) for t in tasks]
    seconds = time.perf_counter() - t0
    det = pd.DataFrame(
        [{"strength": t[0], "replicate": k % replicates, "slope": r[0], "p": r[1]} for k, (t, r) in enumerate(zip(tasks, results))]
    )
    det["detected"] = det["p"] < alpha
    out = det.groupby("strength", sort=False).agg(detections=("detected", "sum")).reset_index()
    out.insert(1, "replicates", replicates)
    out["detections"] = out["detections"].astype(int)
    out["rate"] = out["detections"] / replicates
    out["mcse"] = mcse(out["rate"], replicates)
    out.attrs.update({"seconds": seconds, "alpha": float(alpha), "n_perm": int(n_perm), "seed": seed,
                      "n_subsamples": int(n_subsamples), "primary": primary, "n_per_city": tuple(n_per_city),
                      "phrasebank": phrasebank})
    if details:
        out.attrs["details"] = det
    return out


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


def label_recovery(
    phrasebanks: Sequence[str] = ("a", "b"),
    n_per_city: Sequence[int] = (110, 53, 34),
    seed: int = DEFAULT_SEED,
    text_fields: Sequence[str] = ("description", "full_description"),
    *,
    convergence: float | None = None,
    folds: int = 5,
) -> LabelRecovery:
    """Dictionary and supervised coders against the planted labels, per phrase bank.

    Both coders see the corpus without its ``truth_*`` columns; the planted labels are
    passed to the scoring functions of :mod:`analysis.classify` (``dictionary_check``,
    ``supervised_check``, cross-validated with ``folds`` folds).  Predictions ``"tie"`` /
    ``"none"`` of the dictionary coder count as wrong (extra columns of its confusion
    matrix); macro-F1 averages over the true categories.
    """
    from . import classify
    from .simulate import simulate

    sim_kw = {} if convergence is None else {"convergence": float(convergence)}
    rows, conf, notes = [], {}, []
    for bank in phrasebanks:
        firms = simulate(n_per_city=tuple(n_per_city), seed=int(seed), phrasebank=bank, **sim_kw)
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
    return LabelRecovery(summary=pd.DataFrame(rows), confusion=conf, notes=notes)


# ---------------------------------------------------------------------------------------
# CLI: python -m analysis validate-convergence ... (wired by the lead)
# ---------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    """Run the convergence simulation study and print power / false-positive rates."""
    ap = argparse.ArgumentParser(prog="python -m analysis simulation-study", description=main.__doc__)
    ap.add_argument("--strengths", default="0,0.25,0.5,0.75,1")
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--n-perm", type=int, default=200)
    ap.add_argument("--n-subsamples", type=int, default=5)
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--n", type=int, nargs=3, default=(110, 53, 34), metavar=("BEIJING", "SHANGHAI", "SHENZHEN"))
    ap.add_argument("--phrasebank", default="a")
    ap.add_argument("--primary", default=conv.PRIMARY_MEASURE, choices=conv.MEASURES)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    out = simulation_study(strengths=[float(s) for s in args.strengths.split(",")], replicates=args.replicates,
                           seed=args.seed, n_perm=args.n_perm, alpha=args.alpha, n_per_city=tuple(args.n),
                           phrasebank=args.phrasebank, n_subsamples=args.n_subsamples, primary=args.primary,
                           workers=args.workers)
    print(out.to_string(index=False))
    print(f"\n{len(out) * args.replicates} replicates in {out.attrs['seconds']:.1f} s "
          f"(primary: {args.primary}, n_perm {args.n_perm}, n_subsamples {args.n_subsamples}, alpha {args.alpha})")
    return 0
