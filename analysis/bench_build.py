"""``python -m analysis bench build``: how long the book takes to build.

Works in a throw-away copy of the repository (your ``_build/`` is not touched) and reports the
median of ``--repeat`` runs (default 3) of: a cold build (empty ``_build/``, environment
installed), a no-op rebuild, and a rebuild after editing the markdown of one chapter.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .paths import ROOT

IGNORE = shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__", ".pytest_cache", "*.egg-info")


def _timed_build(repo: Path, extra: list[str]) -> float:
    env = dict(os.environ, PYTHONPATH=str(repo))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "analysis", "build", *extra], cwd=repo, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"build failed during the benchmark:\n{proc.stderr}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis bench build", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chapter", default="04_beijing", help="chapter whose markdown is edited")
    parser.add_argument("--params", default=None)
    args = parser.parse_args(argv)
    extra = ["--params", str(Path(args.params).resolve())] if args.params else []
    cold, noop, one = [], [], []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(ROOT, repo, ignore=IGNORE)
        chapter = repo / "book" / f"{args.chapter}.py"
        if not chapter.exists():
            chapter = sorted((repo / "book").glob("[0-9][0-9]_*.py"))[-1]
        original = chapter.read_text()
        for i in range(args.repeat):
            shutil.rmtree(repo / "_build", ignore_errors=True)
            cold.append(_timed_build(repo, extra))
            noop.append(_timed_build(repo, extra))
            chapter.write_text(original + f"\n# %% [markdown]\n# Benchmark edit {i}.\n")
            one.append(_timed_build(repo, extra))
            chapter.write_text(original)
            _timed_build(repo, extra)  # back to the committed text (not timed)
    rows = [("cold build", cold, 60.0), ("no-op rebuild", noop, 3.0),
            (f"edit one chapter ({chapter.stem})", one, 10.0)]
    print(f"{'case':<36}{'median s':>10}{'target s':>10}   runs")
    for name, values, target in rows:
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(f"{name:<36}{statistics.median(values):>10.1f}{target:>10.0f}   {runs}")
    print(f"(machine: {os.cpu_count()} cores; python {sys.version.split()[0]})")
    return 0
