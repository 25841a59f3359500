"""The heavy work on a real Dask cluster (issue 23): a ``dask scheduler`` and two ``dask worker``
processes on 127.0.0.1, started here with their working folders outside the repository.

The scheduler's task stream (``Client.get_task_stream``, started when the cluster is) says which
tasks the workers ran, so a run that quietly computed in this process fails the tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import ROOT, copy_repo, run_analysis

pytestmark = pytest.mark.slow

distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

from dask.utils import key_split  # noqa: E402

TASKS = Path(__file__).resolve().parent / "dask_path"  # the slow task's module, on the workers' path too
sys.path.insert(0, str(TASKS))
import dask_tasks  # noqa: E402
from analysis.method import parallel  # noqa: E402
from analysis.method.parallel import SCHEDULER_ENV, ClusterError, run_tasks  # noqa: E402

CURVE = "specification-curve"
N_PERM = 500
START_TIMEOUT = 120  # seconds for the scheduler and workers to come up on a busy machine


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(args: list[str], cwd: Path, log: Path) -> subprocess.Popen:
    """``python -m dask ARGS`` in ``cwd``, in its own process group (session on POSIX), output to ``log``."""
    group = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if sys.platform == "win32"
             else {"start_new_session": True})
    # the package under test (as if installed) and the slow task's folder; not tests/
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(TASKS)]))
    env.pop(SCHEDULER_ENV, None)
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **group)


def _kill_tree(proc: subprocess.Popen) -> None:
    """Kill a process and every process it started (a worker's nanny and its worker), and reap them."""
    try:
        parent = psutil.Process(proc.pid)
        procs = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        procs = []
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(procs, timeout=30)
    proc.wait(timeout=30)


class Cluster:
    """A scheduler and ``n_workers`` single-threaded workers, each in its own folder under ``folder``."""

    def __init__(self, folder: Path, n_workers: int = 2):
        self.folder, self.procs, self.workers, self.client = folder, [], [], None
        try:
            self._start(n_workers)
        except BaseException:
            self.stop()
            raise

    def _start(self, n_workers: int) -> None:
        (self.folder / "scheduler").mkdir(parents=True)
        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self.procs.append(_spawn(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                                 self.folder / "scheduler", self.folder / "scheduler.log"))
        for i in range(n_workers):
            cwd = self.folder / f"worker{i}"
            cwd.mkdir()
            self.workers.append(_spawn(["worker", self.address, "--nthreads", "1", "--nworkers", "1",
                                        "--no-dashboard", "--name", f"w{i}", "--death-timeout", "60"],
                                       cwd, self.folder / f"worker{i}.log"))
        self.procs += self.workers
        self.client = distributed.Client(self.address, timeout=START_TIMEOUT, set_as_default=False)
        self.client.wait_for_workers(n_workers, timeout=START_TIMEOUT)
        self.client.get_task_stream()  # the scheduler records the task stream from now on

    def ran(self, prefix: str) -> list[dict]:
        """The scheduler's records of the tasks of ``prefix`` that its workers finished."""
        return [r for r in self.client.get_task_stream() if key_split(r["key"]) == prefix]

    def busy_worker(self, running) -> int:
        """The number of a worker that is running a task (waits for one while ``running``, the
        future of the run, is not done)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if running.done():
                running.result()  # its error, if any
                raise AssertionError("the run finished before a worker was seen busy")
            names = {a: w["name"] for a, w in self.client.scheduler_info()["workers"].items()}
            busy = [names[a] for a, keys in self.client.processing().items() if keys and a in names]
            if busy:
                return int(str(busy[0]).removeprefix("w"))
            time.sleep(0.2)
        raise AssertionError("no worker started a task")

    def kill_worker(self, i: int) -> None:
        _kill_tree(self.workers[i])

    def stop(self) -> None:
        if self.client is not None:
            try:
                self.client.close(timeout=10)
            except (OSError, TimeoutError):  # a test killed the scheduler
                pass
        for proc in reversed(self.procs):
            _kill_tree(proc)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in self.folder.glob("*.log"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    c = Cluster(tmp_path_factory.mktemp("dask-cluster"))
    yield c
    c.stop()


@pytest.fixture
def own_cluster(tmp_path):
    """A cluster of its own, for a test that kills its workers."""
    c = Cluster(tmp_path / "cluster")
    yield c
    c.stop()


def _csv(frame) -> bytes:
    return frame.to_csv(index=False).encode()


def test_curve_on_the_cluster_is_byte_identical(cluster, monkeypatch):
    from analysis.data import corpus
    from analysis.method import specification_curve as sc

    firms = corpus.load("", "").firms
    before = len(cluster.ran(CURVE))
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    local = sc.curve(firms, n_perm_joint=N_PERM)
    assert len(cluster.ran(CURVE)) == before, "the in-process run reached the cluster"  # so the check below can fail
    monkeypatch.setenv(SCHEDULER_ENV, cluster.address)
    remote = sc.curve(firms, n_perm_joint=N_PERM)
    ran = cluster.ran(CURVE)[before:]
    assert len(ran) == len(range(0, N_PERM, sc.BLOCK)), cluster.logs()
    assert {r["worker"] for r in ran} <= set(cluster.client.nthreads())
    assert _csv(remote.table) == _csv(local.table)
    assert _csv(remote.test) == _csv(local.test)


def test_a_function_the_cluster_cannot_import_fails(cluster, monkeypatch):
    """The scheduler and the workers import a task's function by name: they have the package, not
    the tests (the slow task of the tests below is in a folder on their path)."""
    monkeypatch.setenv(SCHEDULER_ENV, cluster.address)
    with pytest.raises((RuntimeError, ModuleNotFoundError), match="deserializ|test_dask_cluster"):
        run_tasks(_square, [1, 2], name="square")


def _square(x):
    return x * x


def test_a_killed_worker_does_not_change_the_results(own_cluster, monkeypatch):
    tasks = [(seed, 0.5) for seed in range(16)]
    expected = [dask_tasks.slow_draw((seed, 0.0)) for seed, _ in tasks]
    monkeypatch.setenv(SCHEDULER_ENV, own_cluster.address)
    t0 = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(run_tasks, dask_tasks.slow_draw, tasks, name="slow-draw")
        own_cluster.kill_worker(own_cluster.busy_worker(running))
        assert running.result(timeout=180) == expected
    assert time.monotonic() - t0 < 180
    assert len(own_cluster.ran("slow-draw")) >= len(tasks)
    assert len(own_cluster.client.nthreads()) == 1  # the killed worker stayed dead: the other did the rest


def test_a_cluster_without_workers_fails_clearly_and_does_not_hang(own_cluster, monkeypatch):
    monkeypatch.setattr(parallel, "STALL_TIMEOUT", 5)
    monkeypatch.setattr(parallel, "POLL", 0.5)
    monkeypatch.setenv(SCHEDULER_ENV, own_cluster.address)
    t0 = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(run_tasks, dask_tasks.slow_draw, [(seed, 1.0) for seed in range(20)],
                              name="slow-draw")
        own_cluster.busy_worker(running)
        for i in range(len(own_cluster.workers)):
            own_cluster.kill_worker(i)
        with pytest.raises(ClusterError, match=r"has had no worker for 5 s; \d+ of 20 tasks unfinished"):
            running.result(timeout=120)
    assert time.monotonic() - t0 < 120


def test_a_lost_scheduler_fails_clearly_and_does_not_hang(own_cluster, monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 5)  # also how long the client tries to reconnect
    monkeypatch.setattr(parallel, "POLL", 0.5)
    monkeypatch.setenv(SCHEDULER_ENV, own_cluster.address)
    t0 = time.monotonic()
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(run_tasks, dask_tasks.slow_draw, [(seed, 1.0) for seed in range(20)],
                              name="slow-draw")
        own_cluster.busy_worker(running)
        _kill_tree(own_cluster.procs[0])
        with pytest.raises(ClusterError, match=f"Dask scheduler at {own_cluster.address}"):
            running.result(timeout=120)
    assert time.monotonic() - t0 < 120


def test_an_unreachable_scheduler_fails_clearly(monkeypatch, capsys):
    from analysis.__main__ import main

    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 2)
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    monkeypatch.setenv(SCHEDULER_ENV, address)
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler at tcp://127.0.0.1"):
        run_tasks(dask_tasks.slow_draw, [(1, 0.0)], name="draw")
    monkeypatch.delenv(SCHEDULER_ENV)
    assert main(["run", "08_convergence", "--scheduler", address]) == 1
    assert f"cannot reach the Dask scheduler at {address}" in capsys.readouterr().err
    assert SCHEDULER_ENV not in os.environ
    assert main(["build", "--scheduler", "127.0.0.1"]) == 1  # no port: not an address
    assert "missing port" in capsys.readouterr().err


def test_the_convergence_chapter_on_the_cluster_gives_the_same_tables(cluster, built_book, tmp_path, monkeypatch):
    """The chapter run on the cluster writes the tables the shared local build wrote (the local
    build ran in its own process: the in-process path adds no task to the cluster, test above)."""
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    local, remote = built_book[0], copy_repo(tmp_path / "remote")
    before = len(cluster.ran(CURVE))
    proc = run_analysis(remote, "run", "08_convergence", "--scheduler", cluster.address)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ran = len(cluster.ran(CURVE)) - before
    folders = [r / "_build" / "tables" for r in (local, remote)]
    tables = {p.relative_to(folders[1]) for p in folders[1].rglob("*.csv")}
    assert tables and all((folders[0] / p).is_file() for p in tables)
    differ = [str(p) for p in sorted(tables) if (folders[0] / p).read_bytes() != (folders[1] / p).read_bytes()]
    assert not differ, f"tables that differ: {differ}"
    # the scheduler's address is in no cache key: without it the chapter is current
    proc = run_analysis(remote, "run", "08_convergence")
    assert proc.returncode == 0 and "unchanged, not re-run" in proc.stdout, proc.stdout + proc.stderr
    assert "specification_curve.csv" in {p.name for p in tables}
    assert ran > 0, "the chapter computed its specification curve without the cluster"


def test_bench_scale_times_both_ways_and_finds_the_same_tables(tmp_path, capsys, monkeypatch):
    import yaml

    from analysis.build import bench_scale

    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    params = yaml.safe_load((ROOT / "params" / "full.yml").read_text(encoding="utf-8"))
    params["replicates"] = 3
    small = tmp_path / "small.yml"
    small.write_text(yaml.safe_dump(params), encoding="utf-8")
    assert bench_scale.main(["--params", str(small), "--n-perm", "250"]) == 0
    out = capsys.readouterr().out
    curve_row = next(line for line in out.splitlines() if line.startswith("specification curve, 250"))
    assert curve_row.split()[-3:] == ["same", "specification-curve", "1"], out
    assert "DIFFER" not in out
