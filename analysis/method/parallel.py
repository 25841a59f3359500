"""Embarrassingly parallel work (the power study's simulated corpora, the specification curve's
permutations) on Dask: on a ``dask.distributed`` cluster when one is named, else in this process.

A cluster is named by Dask's own convention, the environment variable ``DASK_SCHEDULER_ADDRESS``
(or the ``scheduler-address`` of Dask's configuration); ``python -m analysis build --scheduler
tcp://HOST:PORT`` sets that variable for the chapters it runs.  Without one the tasks run through
Dask's synchronous scheduler in this process: the default work is small numpy batches, and the
chapters already run side by side on the machine's cores, so a local pool only adds the cost of
starting it (``python -m analysis bench scale`` measures both).

Every task is a pure function of its arguments, its random numbers drawn from a seed handed to it
(each caller spawns its tasks' seeds from the build seed with ``numpy.random.SeedSequence.spawn``,
and cuts the work into tasks by the settings alone), so the results are the same bit for bit
whatever the number of workers and wherever they run.  The scheduler and the workers need the
``analysis`` package installed (the same lock file), not the repository: they import a task's
function by name, and a task reads no file.
"""

from __future__ import annotations

import os
import time
import uuid
from concurrent.futures import CancelledError
from collections.abc import Callable, Sequence

import dask

__all__ = ["SCHEDULER_ENV", "ClusterError", "scheduler_address", "check_scheduler", "run_tasks"]

#: the environment variable naming a Dask scheduler (Dask's own convention)
SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
#: seconds to wait for a named cluster to answer, and for a cluster without workers to regain one
CONNECT_TIMEOUT = 30
STALL_TIMEOUT = 120
#: how often (seconds) a wait on a cluster checks that it still has workers
POLL = 2.0


class ClusterError(RuntimeError):
    """A named Dask cluster could not be reached, or lost every worker, before the work was done."""


def scheduler_address() -> str | None:
    """The Dask scheduler the work runs on, or None for this process.

    Returns
    -------
    str or None
        ``DASK_SCHEDULER_ADDRESS``, else the ``scheduler-address`` of Dask's configuration, else None.
    """
    address = os.environ.get(SCHEDULER_ENV) or dask.config.get("scheduler-address", None)
    return str(address) if address else None


def run_tasks(function: Callable, tasks: Sequence, *, name: str, progress: bool = False) -> list:
    """``[function(task) for task in tasks]``, on the named Dask cluster or in this process.

    Parameters
    ----------
    function : callable
        A module-level function of one argument (importable by a worker).
    tasks : sequence
        The arguments, one per task (arrays and plain values; no open file).
    name : str
        The tasks' key prefix, as the scheduler reports it (keys ``NAME-i-TOKEN``, a token per
        call; ``NAME-i`` in this process).
    progress : bool
        Show a progress bar (tqdm) on standard error.

    Returns
    -------
    list
        The results, in the order of ``tasks``.

    Raises
    ------
    ClusterError
        If a named cluster cannot be reached, has had no worker for ``STALL_TIMEOUT`` seconds
        with tasks unfinished (a task whose workers died is run again by the others: Dask's
        ``allowed-failures``), stops answering, or drops the tasks.
    """
    tasks = list(tasks)
    address = scheduler_address()
    if address:
        return _on_cluster(address, function, tasks, name, progress)
    from tqdm import tqdm  # tqdm.auto warns in a kernel without ipywidgets, on the page

    delayed = [dask.delayed(function, pure=False)(task, dask_key_name=f"{name}-{i}") for i, task in enumerate(tasks)]
    results = []
    with tqdm(total=len(tasks), desc=name, disable=not progress, leave=False) as bar:
        for chunk in range(0, len(delayed), max(1, len(delayed) // 20)):  # the bar moves as chunks finish
            part = delayed[chunk:chunk + max(1, len(delayed) // 20)]
            results += list(dask.compute(*part, scheduler="synchronous"))
            bar.update(len(part))
    return results


def check_scheduler(address: str) -> None:
    """Connect to the Dask scheduler at ``address`` once, so that a wrong address fails at once.

    Parameters
    ----------
    address : str
        The scheduler's address, ``tcp://HOST:PORT``.

    Raises
    ------
    ClusterError
        If it cannot be reached within :data:`CONNECT_TIMEOUT` seconds or is not an address.
    """
    with _client(address):
        pass


def _client(address: str):
    """A :class:`distributed.Client` of the scheduler at ``address`` (not made Dask's default)."""
    from distributed import Client

    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:  # ValueError: not an address (no port, unknown scheme)
        raise ClusterError(f"cannot reach the Dask scheduler at {address} ({SCHEDULER_ENV} or --scheduler): "
                           f"{exc}") from exc


def _on_cluster(address: str, function: Callable, tasks: list, name: str, progress: bool) -> list:
    """:func:`run_tasks` on the cluster at ``address``.  The keys are ``NAME-i-TOKEN``: the
    scheduler files them under the prefix ``NAME``, and the token (new for every call) keeps two
    calls that run at once (two chapters of one build) from sharing keys, which the scheduler would
    take for the same tasks and answer with one call's results."""
    from distributed import KilledWorker
    from tqdm import tqdm  # tqdm.auto warns in a kernel without ipywidgets, on the page

    token = uuid.uuid4().hex[:12]
    with _client(address) as client:
        futures = client.map(function, tasks, key=[f"{name}-{i}-{token}" for i in range(len(tasks))], pure=False)
        with tqdm(total=len(tasks), desc=f"{name} on {address}", disable=not progress, leave=False) as bar:
            _wait(client, futures, address, bar)
        try:
            return client.gather(futures)
        except KilledWorker as exc:
            raise ClusterError(f"a task of {name} killed every Dask worker that ran it at {address}: {exc}") from exc
        except CancelledError as exc:
            raise ClusterError(f"the Dask scheduler at {address} dropped tasks of {name}: {exc}") from exc


def _wait(client, futures: list, address: str, bar) -> None:
    """Wait until every future is done (finished, failed or cancelled), moving ``bar``; raises
    :class:`ClusterError` when the cluster has had no worker for :data:`STALL_TIMEOUT` seconds or
    the scheduler stops answering."""
    from distributed import wait

    done_before, no_workers_since = 0, None
    while done_before < len(futures):
        try:
            with client.as_current():  # ``wait`` uses the current client, and ours is not the default
                wait(futures, timeout=POLL)
        except TimeoutError:
            pass
        except CancelledError as exc:  # the scheduler dropped tasks (it lost this client, or restarted)
            raise ClusterError(f"the Dask scheduler at {address} dropped tasks of this run: {exc}") from exc
        done = sum(f.done() for f in futures)
        bar.update(done - done_before)
        done_before = done
        if done < len(futures):
            no_workers_since = _check_workers(client, address, no_workers_since, len(futures) - done, len(futures))


def _check_workers(client, address: str, since: float | None, pending: int, total: int) -> float | None:
    """The time since the cluster has had no worker (None while it has some); raises
    :class:`ClusterError` once that lasts :data:`STALL_TIMEOUT` seconds, or when the scheduler
    does not answer."""
    try:
        workers = client.nthreads()  # worker address -> threads: one small message
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"the Dask scheduler at {address} stopped answering; {pending} of {total} tasks "
                           f"unfinished: {exc}") from exc
    if workers:
        return None
    now = time.monotonic()
    since = now if since is None else since
    if now - since > STALL_TIMEOUT:
        raise ClusterError(f"the Dask cluster at {address} has had no worker for {STALL_TIMEOUT} s; "
                           f"{pending} of {total} tasks unfinished")
    return since
