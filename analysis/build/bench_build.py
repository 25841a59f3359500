"""``python -m analysis bench build``: how long the book takes to build, and how much memory.

Works in a throw-away copy of the repository (your ``_build/`` is not touched) and reports the
median of ``--repeat`` runs (default 3) of: a cold build (empty ``_build/``, environment
installed), a no-op rebuild, a rebuild after editing the markdown of one chapter, and a rebuild
after changing one firm's description in ``data/companies.csv`` (which chapters ran is shown).
With ``--stock`` each case is also run, interleaved with ours, on plain Jupyter Book 1 (a second
copy built by ``jupyter-book build`` with ``execute_notebooks: cache``, the edition stamp and
the shipped ``files/`` in place, so its pages resolve as ours do) and the ratio ours/stock is
printed; stock's data-change row says how many pages it left stale (it re-runs no notebook
when a data file changes). Then, once each, a cold build with ``params/full.yml`` (``--full``)
and one on a simulated corpus of ``--large`` firms (default 30,000; 0 skips it). Peak memory is
the largest summed proportional set size (PSS: a page shared by n processes counts 1/n in each)
of the build and all its child processes, sampled every :data:`SAMPLE_EVERY` seconds; where PSS
cannot be read (not Linux) the resident size is used.
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

from analysis.paths import ROOT
from analysis.build.site import jupyter_book_command, SHIPPED_FILES
from analysis.build.publication import build_stamp, STAMP_FILE
from analysis.build.bench_text import realistic_texts
from analysis.defaults import BRIEF_CITY_SIZES, CITIES
from analysis.data.simulate import simulate, write_csv

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


def _timed_stock(repo: Path) -> tuple[float, int]:
    """Seconds and peak memory of one plain ``jupyter-book build`` of the stock copy."""
    cmd = [c for c in jupyter_book_command(repo, repo) if c not in ("-W", "-n", "--keep-going")]
    cmd = cmd[:cmd.index("--path-output")]  # its own _build/ inside the copy, as an author's
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=repo, env=dict(os.environ, PYTHONPATH=str(repo)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _tree_memory(proc.pid))
            done.wait(SAMPLE_EVERY)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    proc.wait()
    seconds = time.perf_counter() - t0
    done.set()
    watcher.join()
    return seconds, peak[0]


def _stock_copy(repo: Path, dest: Path) -> Path:
    """Plain Jupyter Book 1 on the same book: notebooks executed by jupyter-book itself (cached by
    jupyter-cache), the edition stamp the book's extension asks for, ``files/`` staged."""
    import json

    shutil.copytree(repo, dest, ignore=IGNORE)
    config = dest / "_config.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        'execute_notebooks: "off"', 'execute_notebooks: "cache"\n  timeout: 600'), encoding="utf-8")
    (dest / STAMP_FILE).write_text(json.dumps(build_stamp(None, None, root=dest)), encoding="utf-8")
    for rel in SHIPPED_FILES:
        src, target = dest / rel, dest / "files" / rel
        if src.is_dir():
            shutil.copytree(src, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    return dest


def _edit_markdown(repo: Path, chapter: str, text: str) -> None:
    """Append a markdown cell to a chapter's .py and its .ipynb pair (as ``jupytext --sync`` would)."""
    import nbformat

    py = repo / "book" / f"{chapter}.py"
    py.write_text(py.read_text() + f"\n# %% [markdown]\n# {text}\n")
    ipynb = repo / "book" / f"{chapter}.ipynb"
    nb = nbformat.read(ipynb, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(text))
    nbformat.write(nb, ipynb)


def _change_one_firm(repo: Path, i: int) -> str:
    """Change the description of the first firm of data/companies.csv."""
    import pandas as pd

    path = repo / "data" / "companies.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    words = f"benchmark edit {i}"
    frame.loc[0, "description"] = f"{frame.loc[0, 'description']} {words}"
    frame.to_csv(path, index=False)


def large_corpus(path: Path, n: int, seed: int = 1) -> Path:
    """Write a simulated corpus of ``n`` firms in the brief's city proportions (110:53:34) whose
    text is realistic in size and vocabulary: the simulator's labelled phrases, plus for every
    firm the long-tailed English of :func:`analysis.build.bench_text.realistic_texts` in
    ``full_description`` and, for about a third, its Chinese in ``website_text``.

    Parameters
    ----------
    path : pathlib.Path
        The CSV to write.
    n : int
        The number of firms.
    seed : int
        Seed of the simulator and of the added text.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import pandas as pd

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


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m analysis bench build", description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--chapter", default="04_beijing", help="chapter whose markdown is edited")
    parser.add_argument("--params", default=None)
    parser.add_argument("--full", action=argparse.BooleanOptionalAction, default=True,
                        help="also time a cold build with params/full.yml (default: yes)")
    parser.add_argument("--large", type=int, default=LARGE_FIRMS,
                        help=f"also time a cold build on a simulated corpus of this many firms (default {LARGE_FIRMS}; 0 skips)")
    parser.add_argument("--stock", action="store_true",
                        help="also time plain Jupyter Book 1 on the same book, interleaved (ratios printed)")
    return parser.parse_args(argv)


def _time_edits(target: Path, times: dict[str, list], cases: list[str], chapter: str, i: int, timed) -> None:
    """Round ``i`` on ``target`` up to the data change: a cold build, a no-op rebuild and a rebuild
    after editing ``chapter`` (timed by ``timed``), then one firm changed (not built yet)."""
    shutil.rmtree(target / "_build", ignore_errors=True)
    times[cases[0]].append(timed())
    times[cases[1]].append(timed())
    _edit_markdown(target, chapter, f"Benchmark edit {i}.")
    times[cases[2]].append(timed())
    _change_one_firm(target, i)


def _time_data_change(repo: Path, extra: list[str], log: Path) -> tuple[tuple[float, int], list[str], list[str]]:
    """Our rebuild after the data change: its seconds and peak memory, the chapters it ran, and the
    pages whose outputs it changed."""
    executed = {p.name: p.read_bytes() for p in (repo / "_build" / "executed").glob("*.ipynb")}
    timing = _timed_build(repo, extra, log=log)
    ran_after_data = [ln.split()[1] for ln in log.read_text().splitlines() if ln.strip().startswith("ran ")]
    # the pages whose outputs the change altered: stale on a site that re-ran nothing
    stale = sorted(n for n, b in executed.items() if (repo / "_build" / "executed" / n).read_bytes() != b)
    return timing, ran_after_data, stale


def _time_rounds(args: argparse.Namespace, tmp: Path, repo: Path, plain: Path | None, extra: list[str],
                 cases: list[str], ours: dict[str, list], stock: dict[str, list]) -> tuple[list[str], list[str]]:
    """``--repeat`` rounds of the four cases, ours then stock's in each round, each copy's edited
    files restored after its round; what ours ran after the data change and the pages it changed
    (in the last round)."""
    ran_after_data: list[str] = []
    stale: list[str] = []
    originals = {p: p.read_bytes() for r in filter(None, (repo, plain)) for p in
                 [r / "data" / "companies.csv", *(r / "book").glob(f"{args.chapter}.*")]}
    for i in range(args.repeat):
        for target, times in ((repo, ours), (plain, stock)):
            if target is None:
                continue
            timed = (lambda r=target: _timed_build(r, extra)) if target is repo else (lambda r=target: _timed_stock(r))
            _time_edits(target, times, cases, args.chapter, i, timed)
            if target is repo:
                timing, ran_after_data, stale = _time_data_change(repo, extra, tmp / "data.log")
                times[cases[3]].append(timing)
            else:
                times[cases[3]].append(timed())
            for path, data in originals.items():
                if path.is_relative_to(target):
                    path.write_bytes(data)
    return ran_after_data, stale


def _time_once(args: argparse.Namespace, tmp: Path, repo: Path, extra: list[str]) -> list[tuple[str, tuple]]:
    """The cases run once: a cold build with params/full.yml (``--full``) and one on a simulated
    corpus of ``--large`` firms."""
    once = []
    if args.full:
        shutil.rmtree(repo / "_build", ignore_errors=True)
        once.append(("cold build, params/full.yml", _timed_build(repo, ["--params", str(repo / "params" / "full.yml")])))
    if args.large:
        corpus = large_corpus(repo / "bench_large.csv", args.large)
        shutil.rmtree(repo / "_build", ignore_errors=True)
        print(f"building on a simulated corpus of {args.large:,} firms ...", flush=True)
        once.append((f"cold build, {args.large:,} simulated firms",
                     _timed_build(repo, [*extra, "-p", f"corpus_path={corpus}"], log=tmp / "large.log")))
    return once


def _print_report(cases: list[str], ours: dict[str, list], stock: dict[str, list], ran_after_data: list[str],
                  stale: list[str], once: list[tuple[str, tuple]], with_stock: bool) -> None:
    """The table: per case the medians (and ratio to stock), the peak memory and every run."""
    median = lambda values: statistics.median(v[0] for v in values)  # noqa: E731
    print(f"{'case':<40}{'ours s':>8}{'stock s':>9}{'ratio':>7}{'peak GB':>9}   runs (ours | stock)")
    for name in (c for c in cases if ours[c]):
        runs = ", ".join(f"{v[0]:.1f}" for v in ours[name])
        if stock[name]:
            runs += " | " + ", ".join(f"{v[0]:.1f}" for v in stock[name])
        s_med = f"{median(stock[name]):9.1f}{median(ours[name]) / median(stock[name]):7.2f}" if stock[name] else f"{'':>16}"
        peak = max(v[1] for v in ours[name]) / 1e9
        print(f"{name:<40}{median(ours[name]):8.1f}{s_med}{peak:9.2f}   {runs}")
    if ours[cases[3]]:
        print(f"after the data change ours ran: {', '.join(ran_after_data) or 'nothing'}; their outputs changed on "
              f"{len(stale)} page(s) ({', '.join(s.removesuffix('.ipynb') for s in stale)})"
              + ("; stock re-runs no notebook when a data file changes, so those pages stay stale there" if with_stock else ""))
    for name, (seconds, peak) in once:
        print(f"{name:<40}{seconds:8.1f}{'':>16}{peak / 1e9:9.2f}   1 run")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"(machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; load average {load} at the end)")


def main(argv: list[str] | None = None) -> int:
    """Time the build in a throw-away copy of the repository and print the table (see the
    module's docstring).

    Parameters
    ----------
    argv : list of str or None
        The arguments after ``python -m analysis bench build`` (``--repeat``, ``--chapter``,
        ``--params``, ``--full``/``--no-full``, ``--large``, ``--stock``); None for ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status, 0.

    Raises
    ------
    SystemExit
        A build failed during the benchmark (the message ends with its output), or argparse
        exits for ``--help`` and for arguments it cannot parse.
    """
    args = _parse_args(argv)
    extra = ["--params", str(Path(args.params).resolve())] if args.params else []
    cases = ["cold build", "no-op rebuild", f"edit one chapter ({args.chapter})", "one firm changed in companies.csv"]
    ours: dict[str, list] = {c: [] for c in cases}
    stock: dict[str, list] = {c: [] for c in cases}
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        repo = Path(tmp) / "repo"
        shutil.copytree(ROOT, repo, ignore=IGNORE)
        plain = _stock_copy(repo, Path(tmp) / "stock") if args.stock else None
        ran_after_data, stale = _time_rounds(args, Path(tmp), repo, plain, extra, cases, ours, stock)
        once = _time_once(args, Path(tmp), repo, extra)
    _print_report(cases, ours, stock, ran_after_data, stale, once, args.stock)
    return 0
