"""``python -m analysis bench scale``: the heavy work in this process and on a local Dask cluster.

Three cases, each run twice: once in this process (Dask's synchronous scheduler) and once on a
``distributed.LocalCluster`` of ``--workers`` single-threaded worker processes (default 2), named
to the package through ``DASK_SCHEDULER_ADDRESS`` as a reviewer's cluster would be:

* the power study at the label level (:func:`analysis.method.validation.simulation_study`) with
  the replicates, permutations and settings of ``--params`` (default ``params/full.yml``) and
  no text replicates;
* the specification curve (:func:`analysis.method.specification_curve.curve`) on the corpus of
  those parameters with ``--n-perm`` joint permutations (default 5,000);
* the joint test on simulated corpora (:func:`analysis.method.curve_validation.joint_rates`) with
  the replicates of those parameters.

It prints both wall times per case, how many tasks the cluster's workers ran (its task stream:
zero means the case did not use the cluster), and checks that the tables are byte for byte the
same.  The cluster's start-up, with each worker importing the package, is timed apart.  A benchmark: run it on a quiet machine (the load
average is printed).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from analysis.paths import ROOT

FULL_PARAMS = ROOT / "params" / "full.yml"
N_PERM = 5000
WORKERS = 2
#: what each worker imports before the timings (a worker pays it once, about 4 s on 2 cores)
WARM_MODULES = ("analysis.method.validation", "analysis.method.specification_curve",
                "analysis.method.curve_validation")


def _import(names: tuple[str, ...]) -> None:
    """Import ``names`` (run on every worker)."""
    import importlib

    for name in names:
        importlib.import_module(name)


def _cases(params: dict, n_perm: int) -> dict[str, Callable[[], list]]:
    """Name -> a function computing the case and returning its tables (pandas frames); the
    corpus is loaded and the coder's error measured once, before any case is timed."""
    from analysis.data import corpus
    from analysis.method import curve_validation, specification_curve, validation
    from analysis.method.coder_error import check_set_error

    edges = [int(e) for e in params["cohort_edges"]]
    fields = [str(f) for f in params["text_fields"]]
    firms = corpus.load(params.get("corpus_path") or "", params.get("website_snapshot") or "").firms
    error = check_set_error()  # the coder's error, measured once: part of neither timing

    def power() -> list:
        return [validation.simulation_study(
            replicates=int(params["replicates"]), seed=int(params["seed"]), n_perm=int(params["n_perm"]),
            alpha=float(params["alpha"]), margin=float(params["equivalence_margin"]), text_replicates=0,
            cohort_edges=edges, text_fields=fields, coder_error=error, **validation.corpus_design(firms, edges))]

    def curve() -> list:
        result = specification_curve.curve(firms, text_fields=fields, coder=params.get("coder") or "",
                                           cohort_edges=edges, seed=int(params["seed"]),
                                           alpha=float(params["alpha"]),
                                           margin=float(params["equivalence_margin"]), n_perm_joint=n_perm)
        return [result.table, result.test]

    def joint() -> list:
        return [curve_validation.joint_rates(
            replicates=int(params["replicates"]), seed=int(params["seed"]), n_perm=int(params["n_perm"]),
            alpha=float(params["alpha"]), cohort_edges=edges, coder_error=error,
            **validation.corpus_design(firms, edges))]

    return {f"power study, {int(params['replicates']):,} corpora per world": power,
            f"specification curve, {n_perm:,} permutations": curve,
            f"joint test on simulated corpora, {int(params['replicates']):,} per world": joint}


def _timed(function: Callable[[], list]) -> tuple[float, list[bytes]]:
    """Seconds taken by ``function`` and its tables as CSV bytes."""
    t0 = time.perf_counter()
    tables = function()
    return time.perf_counter() - t0, [t.to_csv(index=False).encode() for t in tables]


def _on_cluster(cases: dict[str, Callable[[], list]], workers: int) -> tuple[float, dict[str, tuple]]:
    """The cluster's start-up seconds, and per case its seconds, tables and the tasks the
    cluster ran (key prefix -> count), with ``DASK_SCHEDULER_ADDRESS`` naming it."""
    from dask.utils import key_split
    from distributed import Client, LocalCluster

    from analysis.method.parallel import SCHEDULER_ENV

    t0 = time.perf_counter()
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster, set_as_default=False) as client:
        client.wait_for_workers(workers)
        client.run(_import, WARM_MODULES)  # as a warm cluster would: each worker imports them once
        client.get_task_stream()  # the scheduler records the tasks from now on
        startup = time.perf_counter() - t0
        before = os.environ.get(SCHEDULER_ENV)
        os.environ[SCHEDULER_ENV] = cluster.scheduler_address
        out = {}
        try:
            for name, function in cases.items():
                seen = len(client.get_task_stream())
                seconds, tables = _timed(function)
                ran = Counter(key_split(r["key"]) for r in client.get_task_stream()[seen:])
                out[name] = (seconds, tables, dict(ran))
        finally:
            if before is None:
                os.environ.pop(SCHEDULER_ENV, None)
            else:
                os.environ[SCHEDULER_ENV] = before
    return startup, out


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m analysis bench scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--params", default=str(FULL_PARAMS), help="parameter file (default params/full.yml)")
    parser.add_argument("--n-perm", type=int, default=N_PERM, help=f"the curve's permutations (default {N_PERM})")
    parser.add_argument("--workers", type=int, default=WORKERS, help=f"local Dask workers (default {WORKERS})")
    parser.add_argument("--only", choices=["power", "curve"], default=None, help="run one case only")
    return parser.parse_args(argv)


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"


def main(argv: list[str] | None = None) -> int:
    """Time the power study and the specification curve in this process and on a local Dask
    cluster, and print the table (see the module's docstring).

    Parameters
    ----------
    argv : list of str or None
        The arguments after ``python -m analysis bench scale`` (``--params``, ``--n-perm``,
        ``--workers``, ``--only``); None for ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0, or 1 when a case's tables differ between the two runs.
    """
    from analysis.build.runner import load_parameters
    from analysis.method.parallel import SCHEDULER_ENV

    args = _parse_args(argv)
    os.environ.pop(SCHEDULER_ENV, None)  # the in-process run must not reach a cluster named outside
    cases = _cases(load_parameters(Path(args.params), []), args.n_perm)
    if args.only:
        cases = {k: v for k, v in cases.items() if k.startswith(args.only) or args.only in k}
    print(f"load average at the start: {_load()} ({os.cpu_count()} cores)", flush=True)
    local = {}
    for name, function in cases.items():
        local[name] = _timed(function)
        print(f"in process   {name}: {local[name][0]:.1f} s", flush=True)
    startup, remote = _on_cluster(cases, args.workers)
    print(f"\n{'case':<44}{'in process s':>13}{f'{args.workers} workers s':>13}{'ratio':>7}  tables  cluster tasks")
    status = 0
    for name in cases:
        same = local[name][1] == remote[name][1]
        status |= not same
        tasks = ", ".join(f"{k} {v}" for k, v in remote[name][2].items()) or "none (ran in this process)"
        print(f"{name:<44}{local[name][0]:13.1f}{remote[name][0]:13.1f}{remote[name][0] / local[name][0]:7.2f}  "
              f"{'same' if same else 'DIFFER':<8}{tasks}")
    print(f"(cluster start-up {startup:.1f} s, not counted; python {sys.version.split()[0]}; "
          f"load average {_load()} at the end)")
    return status
