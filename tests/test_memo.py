"""Results shared between the chapters of one build (analysis/build/shared_results.py): equal calls compute
once, different calls do not share, nothing is shared outside a build, two processes asking at
once compute once."""

import multiprocessing
import time
from pathlib import Path

import pandas as pd
import pytest

from analysis.build import inputs, shared_results
from analysis.paths import ROOT

CALLS = []


@shared_results.shared
def _slow_sum(frame: pd.DataFrame, columns=("a",), scale: int = 1):
    CALLS.append(1)
    return float(frame[list(columns)].to_numpy().sum()) * scale


@pytest.fixture
def memo_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(shared_results.ENV_VAR, str(tmp_path / "memo"))
    CALLS.clear()
    return tmp_path / "memo"


def test_equal_calls_compute_once(memo_dir):
    frame = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    assert _slow_sum(frame) == 3.0
    # the same call written differently: keyword, list for tuple, default given, an equal copy
    assert _slow_sum(frame.copy(), columns=["a"], scale=1) == 3.0
    assert len(CALLS) == 1
    assert len(list(memo_dir.glob("*.pkl"))) == 1


def test_different_calls_do_not_share(memo_dir):
    frame = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    assert _slow_sum(frame) == 3.0
    assert _slow_sum(frame, scale=2) == 6.0
    assert _slow_sum(frame, columns=("a", "b")) == 10.0
    changed = frame.assign(a=[1, 5])
    assert _slow_sum(changed) == 6.0
    assert len(CALLS) == 4


def test_a_code_change_is_never_answered_from_an_old_result(memo_dir, monkeypatch):
    frame = pd.DataFrame({"a": [1, 2]})
    _slow_sum(frame)
    monkeypatch.setattr(shared_results.inputs, "environment_digest", lambda: "another version of the package")
    _slow_sum(frame)
    assert len(CALLS) == 2


def test_off_outside_a_build(monkeypatch, tmp_path):
    monkeypatch.delenv(shared_results.ENV_VAR, raising=False)
    CALLS.clear()
    frame = pd.DataFrame({"a": [1, 2]})
    _slow_sum(frame)
    _slow_sum(frame)
    assert len(CALLS) == 2


@shared_results.shared
def _logged(path: str, value: int) -> int:
    with open(path, "a") as fh:
        fh.write("computed\n")
    time.sleep(0.5)
    return value * 2


def _ask(args):
    return _logged(*args)


def test_two_processes_asking_at_once_compute_once(memo_dir, tmp_path):
    log = tmp_path / "log.txt"
    ctx = multiprocessing.get_context("spawn")  # the start method every platform has
    with ctx.Pool(2) as pool:
        results = pool.map(_ask, [(str(log), 21), (str(log), 21)])
    assert results == [42, 42]
    assert log.read_text().count("computed") == 1
    assert not list(memo_dir.glob("*.tmp"))  # written whole, then moved into place


def test_a_call_waiting_for_another_shows_the_runner_it_waits(memo_dir, tmp_path, monkeypatch):
    """While another process computes the result (holds its lock), the waiting call's marker file
    (the runner then starts another chapter on the idle core) exists; it goes once the wait ends."""
    from filelock import FileLock

    log, marker = tmp_path / "log.txt", tmp_path / "waiting"
    monkeypatch.setenv(shared_results.WAITING_VAR, str(marker))
    memo_dir.mkdir(parents=True)
    holder = FileLock(memo_dir / f"{shared_results.key(_logged, (str(log), 5), {})}.lock")
    holder.acquire()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        pending = pool.apply_async(_ask, [(str(log), 5)])
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists() and not pending.ready()
        holder.release()
        assert pending.get(timeout=60) == 10
    assert not marker.exists()
    _logged(str(log), 5)  # an uncontended call never shows the marker
    assert not marker.exists() and log.read_text().count("computed") == 1


def test_prune_keeps_the_most_recently_used(tmp_path):
    import os

    for i, name in enumerate(["old", "mid", "new"]):
        path = tmp_path / f"{name}.pkl"
        path.write_bytes(b"x" * 100)
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
    (tmp_path / "left.123.tmp").write_bytes(b"half")
    gone = shared_results.prune(tmp_path, max_bytes=250)
    assert sorted(p.name for p in gone) == ["left.123.tmp", "old.pkl"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mid.pkl", "new.pkl"]


def test_a_result_read_back_counts_as_recently_used(memo_dir):
    import os

    frame = pd.DataFrame({"a": [1, 2]})
    _slow_sum(frame)
    (path,) = memo_dir.glob("*.pkl")
    os.utime(path, (1_000_000, 1_000_000))
    _slow_sum(frame)
    assert path.stat().st_mtime > 1_000_000


@shared_results.shared
def _read_number(path: str) -> int:
    with open(path, encoding="utf-8") as fh:
        return int(fh.read())


def test_a_result_carries_the_files_it_was_made_from(memo_dir, tmp_path, monkeypatch):
    """A hit counts the inputs of the computation as read by the caller, and a result whose
    input changed since is computed again."""
    monkeypatch.setattr(inputs, "_roots", (str(tmp_path),))  # count files under tmp_path as inputs
    inputs.install_recorder(log="", roots=str(tmp_path))
    number = tmp_path / "number.txt"
    number.write_text("41")
    with inputs.capture() as first:
        assert _read_number(str(number)) == 41
    with inputs.capture() as second:  # answered from the memo: the file is still an input
        assert _read_number(str(number)) == 41
    assert str(number) in first and str(number) in second
    number.write_text("42")
    assert _read_number(str(number)) == 42


def test_the_recorder_counts_inputs_and_nothing_else(tmp_path):
    """In a process that records (as a chapter's kernel does): files under the repository and a
    corpus outside it are inputs, read or looked for; what is written, the build folder, the
    package, temporary files beside the corpus and the import system's probing are not."""
    import json
    import subprocess
    import sys

    corpus = tmp_path / "export.csv"
    corpus.write_text("a\n1\n")
    (tmp_path / "beside.txt").write_text("not an input")
    log = tmp_path / "reads.log"
    code = f"""
import os, json
from analysis.build import inputs
from analysis.paths import BUILD_DIR, DATA_DIR, ROOT
inputs.install_recorder(log={str(log)!r}, roots={str(corpus)!r})
open(DATA_DIR / "labels.yml").read()
try:
    open(DATA_DIR / "absent.csv")
except FileNotFoundError:
    pass
open({str(corpus)!r}).read()
open({str(tmp_path / "beside.txt")!r}).read()
open({str(tmp_path / "written.txt")!r}, "w").write("x")
os.makedirs(BUILD_DIR, exist_ok=True)
open(BUILD_DIR / "scratch.txt", "w").write("x"); open(BUILD_DIR / "scratch.txt").read()
sorted(os.listdir(DATA_DIR))
import analysis.present.colours, json as _  # the import system and importlib.metadata probe sys.path
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    recorded = sorted(set(log.read_text().splitlines()))
    assert recorded == sorted({"data/labels.yml", "data/absent.csv", str(corpus), "data"}), recorded
    assert inputs.digests(["data/absent.csv"]) == {"data/absent.csv": inputs.MISSING}
    assert json.loads(json.dumps(inputs.digests(["data"])))["data"].startswith("dir:")



@shared_results.shared
def _size(path: str) -> int:
    return len(Path(path).read_bytes())


@shared_results.shared
def _sizes(first: str, second: str) -> int:
    """A shared call that makes a shared call, then reads a file of its own (the convergence
    verdict calls the shared simulation study, then reads more)."""
    CALLS.append("outer")
    return _size(first) + len(Path(second).read_bytes())


def test_a_shared_call_inside_a_shared_call_keeps_both_records(memo_dir):
    """A bug once took the outer block's record of its reads off the stack when the inner block
    ended with an equal set, and the outer block then failed with ValueError."""
    first, second = (str(ROOT / "data" / name) for name in ("policy_events.csv", "external_counts.csv"))
    expected = len(Path(first).read_bytes()) + len(Path(second).read_bytes())
    assert _sizes(first, second) == expected
    assert _sizes(first, second) == expected  # read back: computed once
    assert CALLS.count("outer") == 1
    assert len(list(memo_dir.glob("*.pkl"))) == 2
    with inputs.capture() as reads:  # the stored result carries both files it was made from
        _sizes(first, second)
    assert {Path(p).name for p in reads} >= {"policy_events.csv", "external_counts.csv"}
