"""``python -m analysis bench build``: how long the book takes to build, and how much memory.

Works in a throw-away copy of the repository (your ``_build/`` is not touched) and reports the
median of ``--repeat`` runs (default 3) of: a cold build (empty ``_build/``, environment
installed), a no-op rebuild, and a rebuild after editing the markdown of one chapter; then, once
each, a cold build with ``params/full.yml`` (``--full``) and a cold build with default parameters
on a simulated corpus of ``--large`` firms (default 30,000; 0 skips it).  Peak memory is the
largest summed proportional set size (PSS: a page shared by n processes counts 1/n in each) of the
build and all its child processes, sampled every :data:`SAMPLE_EVERY` seconds: the chapters'
workers and kernels are forked and share most of their pages, which a sum of resident sizes would
count once per process. Where PSS cannot be read (not Linux) the resident size is used.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from .paths import ROOT

IGNORE = shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__", ".pytest_cache", "*.egg-info")
LARGE_FIRMS = 30_000
# Reading a process's PSS makes the kernel walk its page tables: a sample of a build's six
# processes costs about 40 ms, so sampling every 0.2 s took a fifth of a core from the build it timed.
SAMPLE_EVERY = 1.0


def _tree_memory(pid: int) -> int:
    """Summed PSS of a process and its descendants (bytes); RSS where PSS is not available."""
    import psutil

    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            info = p.memory_full_info()
            total += getattr(info, "pss", info.rss)
        except psutil.AccessDenied:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        except psutil.Error:
            pass
    return total


def _timed_build(repo: Path, extra: list[str], log: Path | None = None) -> tuple[float, int]:
    """Seconds and peak summed memory (PSS, bytes) of one ``python -m analysis build``."""
    env = dict(os.environ, PYTHONPATH=str(repo))
    t0 = time.perf_counter()
    out = open(log, "w") if log else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "build", *extra], cwd=repo, env=env,
                            stdout=out, stderr=subprocess.STDOUT if log else subprocess.PIPE, text=True)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_memory(proc.pid))
            done.wait(SAMPLE_EVERY)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    proc.wait()
    seconds = time.perf_counter() - t0  # not counting the sampler's last nap
    done.set()
    watcher.join()
    if log:
        out.close()
    if proc.returncode != 0:
        detail = log.read_text()[-4000:] if log else (proc.stderr.read() if proc.stderr else "")
        raise SystemExit(f"build failed during the benchmark:\n{detail}")
    return seconds, peak[0]


def large_corpus(path: Path, n: int, seed: int = 1) -> Path:
    """Write a simulated corpus of ``n`` firms in the brief's city proportions (110:53:34) whose
    text is realistic in size and vocabulary: the simulator's labelled phrases, plus for every
    firm the long-tailed English of :func:`analysis.bench_text.realistic_texts` in
    ``full_description`` and, for about a third, its Chinese in ``website_text``."""
    import pandas as pd

    from .bench_text import realistic_texts
    from .defaults import BRIEF_CITY_SIZES
    from .palette import CITIES
    from .simulate import simulate, write_csv

    total = sum(BRIEF_CITY_SIZES)
    sizes = [round(n * s / total) for s in BRIEF_CITY_SIZES]
    sizes[0] += n - sum(sizes)
    firms = simulate(n_per_city=sizes, seed=seed)
    city = firms["city"].map({c: i for i, c in enumerate(CITIES)}).to_numpy()
    extra = list(realistic_texts(len(firms), seed, cities=city))

    def join(base, more):
        return [" ".join(p for p in (b if isinstance(b, str) else "", m) if p) or None for b, m in zip(base, more)]

    firms["full_description"] = join(firms["full_description"], [f"{d} {lg}".strip() for _, d, lg, _, _ in extra])
    firms["website_text"] = join(firms["website_text"], [zh for *_, zh, _ in extra])
    firms["website_text"] = firms["website_text"].where(firms["website_text"].notna(), pd.NA)
    write_csv(firms, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis bench build", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chapter", default="04_beijing", help="chapter whose markdown is edited")
    parser.add_argument("--params", default=None)
    parser.add_argument("--full", action=argparse.BooleanOptionalAction, default=True,
                        help="also time a cold build with params/full.yml (default: yes)")
    parser.add_argument("--large", type=int, default=LARGE_FIRMS,
                        help=f"also time a cold build on a simulated corpus of this many firms (default {LARGE_FIRMS}; 0 skips)")
    args = parser.parse_args(argv)
    extra = ["--params", str(Path(args.params).resolve())] if args.params else []
    cold, noop, one, once = [], [], [], []
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
        if args.full:
            shutil.rmtree(repo / "_build", ignore_errors=True)
            once.append(("cold build, params/full.yml", _timed_build(repo, ["--params", str(repo / "params" / "full.yml")]),
                         300.0))
        if args.large:
            corpus = large_corpus(repo / "bench_large.csv", args.large)
            shutil.rmtree(repo / "_build", ignore_errors=True)
            print(f"building on a simulated corpus of {args.large:,} firms ...", flush=True)
            once.append((f"cold build, {args.large:,} simulated firms",
                         _timed_build(repo, [*extra, "-p", f"corpus_path={corpus}"], log=Path(tmp) / "large.log"),
                         300.0))
    rows = [("cold build", cold, 40.0), ("no-op rebuild", noop, 3.0),
            (f"edit one chapter ({chapter.stem})", one, 10.0)]
    print(f"{'case':<40}{'median s':>10}{'target s':>10}{'peak GB':>9}   runs")
    for name, values, target in rows:
        runs = ", ".join(f"{v[0]:.1f}" for v in values)
        peak = max(v[1] for v in values) / 1e9
        print(f"{name:<40}{statistics.median(v[0] for v in values):>10.1f}{target:>10.0f}{peak:>9.2f}   {runs}")
    for name, (seconds, peak), target in once:
        print(f"{name:<40}{seconds:>10.1f}{target:>10.0f}{peak / 1e9:>9.2f}   1 run")
    print(f"(machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end)")
    return 0
