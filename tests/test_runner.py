"""Failure drills for the runner on a small book (a quick root page and two chapters that wait while a
flag file exists): interrupts by SIGINT, SIGTERM and SIGKILL, two builds at once, corrupt cache
records and notebooks, a site overwritten behind the runner's back, unwritable folders."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent

CHAPTER = textwrap.dedent('''\
    # %% [markdown]
    # # {title}

    # %% tags=["parameters"]
    seed = 1

    # %%
    import os, time

    open("../_build/pid-{name}", "w").write(str(os.getpid()))
    deadline = time.time() + 120
    while os.path.exists("../slow.flag") and time.time() < deadline:
        time.sleep(0.1)
    print("{title} ran with seed", seed)
''')


def _small_book(dest: Path) -> Path:
    """A copy of the repository whose book is a root page and two waiting chapters."""
    ignore = shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__", ".pytest_cache",
                                    "*.egg-info", "book")
    shutil.copytree(ROOT, dest, ignore=ignore)
    book = dest / "book"
    book.mkdir()
    shutil.copy2(ROOT / "book" / "references.bib", book / "references.bib")
    (book / "references.md").write_text("# References\n")
    (book / "00_root.md").write_text("# A small book\n\nFor the runner's drills.\n")
    for name in ("01_first", "02_second"):
        (book / f"{name}.py").write_text(CHAPTER.format(title=f"Chapter {name}", name=name))
    (dest / "_toc.yml").write_text("format: jb-book\nroot: book/00_root\nchapters:\n"
                                   "  - file: book/01_first\n  - file: book/02_second\n"
                                   "  - file: book/references\n")
    (dest / "params" / "small.yml").write_text("seed: 1\n")
    return dest


#: a sitecustomize that takes fork, pidfd and SEQPACKET sockets out of every interpreter and forces
#: the spawn start method: the drills run on the path macOS and Windows take
PORTABLE_SITE = ROOT / "tests" / "portable_site"


def _env(repo: Path) -> dict:
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(PORTABLE_SITE), str(repo)]))


def _run(repo: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "analysis", "build", "--params", "params/small.yml",
                           *args], cwd=repo, env=_env(repo), capture_output=True, text=True,
                          timeout=timeout)


def _start(repo: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "analysis", "build", "--params", "params/small.yml",
                             *args], cwd=repo, env=_env(repo), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _search_index(data: bytes) -> bytes:
    """Sphinx's search index without the terms no page holds any more: an incremental build keeps
    a word of a page that was rewritten without it as an empty entry, a fresh build has no entry."""
    text = data.decode("utf-8")
    head, body = text.split("(", 1)
    index = json.loads(body.rstrip().removesuffix(")"))
    for part in ("terms", "titleterms"):
        index[part] = {k: v for k, v in index[part].items() if v != []}
    return (head + json.dumps(index, sort_keys=True)).encode()


def _digest(folder: Path) -> str:
    """Every file's path and bytes, but for the two marks of Sphinx's incremental mode
    (analysis/build/site.py): the search index as :func:`_search_index` reads it, and stylesheet links
    without their cache-busting ``?v=`` suffix."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.name == "searchindex.js":
            data = _search_index(data)
        elif path.suffix == ".html":
            data = re.sub(rb'(\.css)\?v=[0-9a-f]+"', rb'\1"', data)
        h.update(path.relative_to(folder).as_posix().encode() + b"\0" + data)
    return h.hexdigest()


def _published(repo: Path) -> tuple[str, str]:
    return _digest(repo / "_build" / "html"), _digest(repo / "_build" / "executed")


def _wait_for_kernels(repo: Path, proc: subprocess.Popen, names=("01_first", "02_second")) -> list[int]:
    deadline = time.time() + 120
    files = [repo / "_build" / f"pid-{n}" for n in names]
    while time.time() < deadline:
        if all(f.exists() and f.read_text() for f in files):
            return [int(f.read_text()) for f in files]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    raise AssertionError("the chapters did not start")


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:  # gone, or reaped between two looks
        return False


def _gone(pids: list[int], within: float = 10) -> bool:
    deadline = time.time() + within
    while time.time() < deadline:
        alive = [p for p in pids if _alive(p)]
        if not alive:
            return True
        time.sleep(0.1)
    return False


def _lock_is_free(repo: Path) -> bool:
    from filelock import FileLock, Timeout

    lock = FileLock(repo / "_build" / "build.lock")
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    lock.release()
    return True


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The small book built once with seed 1: its published bytes are the reference."""
    repo = _small_book(tmp_path_factory.mktemp("drills") / "repo")
    proc = _run(repo, "--jobs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return repo, _published(repo)


def _start_slow(repo: Path, param: str) -> tuple[subprocess.Popen, list[int]]:
    """Start a build whose chapters stall (slow.flag) under other parameters, and wait until
    their kernels run; the build and the kernels' pids."""
    (repo / "slow.flag").write_text("")
    for f in (repo / "_build").glob("pid-*"):
        f.unlink()
    proc = _start(repo, "--jobs", "2", "-p", param)
    return proc, _wait_for_kernels(repo, proc)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_interrupt_publishes_nothing_and_the_next_build_recovers(small, how):
    repo, reference = small
    proc, kernels = _start_slow(repo, "seed=2")  # other parameters: every chapter runs
    workers = [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
    assert set(kernels) <= set(workers)
    t0 = time.time()
    proc.send_signal(getattr(signal, how))
    out, err = proc.communicate(timeout=30)
    stopped = time.time() - t0
    (repo / "slow.flag").unlink()  # a chapter that would go on now finishes at once
    assert stopped < 5, f"{how} took {stopped:.1f} s"
    if how != "SIGKILL":
        assert proc.returncode == 128 + getattr(signal, how), err
        assert "interrupted" in err and "Traceback" not in err
    assert _gone(workers), "a worker or kernel outlived the build"
    assert _lock_is_free(repo)
    assert _published(repo) == reference  # nothing of the seed=2 run published
    # the next build with the first parameters: nothing of the interrupted run is trusted
    proc = _run(repo, "--jobs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _published(repo) == reference
    assert "seed 2" not in (repo / "_build" / "html" / "book" / "01_first.html").read_text()


@pytest.mark.slow
def test_second_ctrl_c_never_hangs(small):
    repo, reference = small
    proc, _ = _start_slow(repo, "seed=3")
    proc.send_signal(signal.SIGINT)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=10)
    (repo / "slow.flag").unlink()
    assert proc.returncode in (130, -2), proc.returncode
    assert _lock_is_free(repo)
    assert _published(repo) == reference


@pytest.mark.slow
def test_two_builds_at_once_second_refused(small):
    repo, reference = small
    first, _ = _start_slow(repo, "seed=4")
    second = _run(repo, "--jobs", "2", timeout=60)
    assert second.returncode == 1
    assert "another build is running in this folder" in second.stderr
    assert f"pid {first.pid}" in second.stderr and "Traceback" not in second.stderr
    (repo / "slow.flag").unlink()
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err
    assert "seed 4" in (repo / "_build" / "html" / "book" / "01_first.html").read_text()
    assert _run(repo, "--jobs", "2").returncode == 0  # back to seed 1
    assert _published(repo) == reference


@pytest.mark.slow
def test_tampered_build_folder_is_detected_and_rebuilt(small):
    repo, reference = small
    build = repo / "_build"
    executed = build / "executed" / "01_first.ipynb"
    cases = {
        "truncated notebook": lambda: executed.write_bytes(executed.read_bytes()[:200]),
        "notebook edited by hand": lambda: executed.write_text(
            executed.read_text().replace("ran with seed", "ran with SEED")),
        "corrupt cache record": lambda: (build / "cache" / "01_first.json").write_text("{not json"),
        "cache record deleted": lambda: (build / "cache" / "01_first.json").unlink(),
        "site page overwritten": lambda: (build / "html" / "book" / "01_first.html").write_text("blank"),
        "site index deleted": lambda: (build / "html" / "index.html").unlink(),
        "site record corrupt": lambda: (build / "cache" / "_site.json").write_bytes(b"\x00" * 10),
    }
    for case, tamper in cases.items():
        tamper()
        proc = _run(repo, "--jobs", "2")
        assert proc.returncode == 0, (case, proc.stdout + proc.stderr)
        assert "Traceback" not in proc.stderr, case
        if "site" in case:  # the site is rebuilt, the chapters are trusted
            assert "running" not in proc.stdout and "Sphinx, with jupyter-book's" in proc.stdout, (case, proc.stdout)
        else:  # the chapter runs again (and gives the same bytes, so the site stands)
            assert "ran     01_first" in proc.stdout, (case, proc.stdout)
        assert _published(repo) == reference, case
    # and an untouched folder is trusted: nothing runs
    proc = _run(repo, "--jobs", "2")
    assert "running" not in proc.stdout and "Sphinx not run" in proc.stdout


@pytest.mark.slow
def test_unwritable_build_folder_is_a_message(tmp_path):
    repo = _small_book(tmp_path / "repo")
    (repo / "_build").write_text("a file where the build folder should be")
    proc = _run(repo)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "_build" in proc.stderr and "writable" in proc.stderr, proc.stderr


@pytest.mark.slow
def test_read_only_data_folder_builds(small):
    """The build never writes into data/: it builds with data/ read-only (enforced when not root)
    and leaves every file there byte-identical."""
    repo, reference = small
    data = repo / "data"
    before = _digest(data)
    modes = {p: p.stat().st_mode for p in [data, *data.rglob("*")]}
    try:
        for p in modes:
            p.chmod(modes[p] & ~0o222)
        proc = _run(repo, "--jobs", "2", "-p", "seed=5")
        assert proc.returncode == 0, proc.stdout + proc.stderr
    finally:
        for p, mode in sorted(modes.items(), key=lambda kv: -len(kv[0].parts)):
            p.chmod(mode)
    assert _digest(data) == before
    assert _run(repo, "--jobs", "2").returncode == 0
    assert _published(repo) == reference


@pytest.mark.slow
def test_markdown_edit_reaches_the_page_without_running_the_chapter(tmp_path):
    repo = _small_book(tmp_path / "repo")
    assert _run(repo, "--jobs", "2").returncode == 0
    source = repo / "book" / "01_first.py"
    text = source.read_text()
    edited = (text.replace("# # Chapter 01_first\n", "# # Chapter 01_first, revised\n#\n# A new paragraph.\n")
              .replace("# %%\nimport os, time", "# %% [markdown]\n# Before the code.\n\n# %%\nimport os, time")
              + "\n# %% [markdown]\n# A closing note.\n")
    source.write_text(edited)
    (repo / "_build" / "pid-01_first").unlink()
    proc = _run(repo, "--jobs", "2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "outputs kept (not re-run): 01_first" in proc.stdout
    assert not (repo / "_build" / "pid-01_first").exists(), "the chapter ran"
    page = (repo / "_build" / "html" / "book" / "01_first.html").read_text()
    assert "A new paragraph." in page and "Before the code." in page and "A closing note." in page
    assert "ran with seed 1" in page
    # the notebook is the one a run of the edited chapter gives, byte for byte
    fresh = _small_book(tmp_path / "fresh")
    (fresh / "book" / "01_first.py").write_text(edited)
    assert _run(fresh, "--jobs", "2").returncode == 0
    name = Path("_build") / "executed" / "01_first.ipynb"
    assert (repo / name).read_bytes() == (fresh / name).read_bytes()
    # an edit of the code runs the chapter
    source.write_text(edited.replace("time.sleep(0.1)", "time.sleep(0.2)"))
    proc = _run(repo, "--jobs", "2")
    assert proc.returncode == 0 and (repo / "_build" / "pid-01_first").exists()
    assert "outputs kept" not in proc.stdout


@pytest.mark.slow
def test_sphinx_rereads_only_changed_pages_and_gives_the_fresh_site(tmp_path):
    repo = _small_book(tmp_path / "repo")
    assert _run(repo, "--jobs", "2").returncode == 0
    root_page = repo / "book" / "00_root.md"
    # a page that fails (warnings are errors): nothing of that run is kept for the next
    root_page.write_text("# A small book\n\nSee {ref}`no-such-label`.\n")
    proc = _run(repo, "--jobs", "2")
    assert proc.returncode == 1 and "no-such-label" in proc.stderr
    assert not (repo / "_build" / "sphinx").exists()
    root_page.write_text("# A small book\n\nFor the runner's drills, revised.\n")
    assert _run(repo, "--jobs", "2").returncode == 0
    assert "4 added, 0 changed" in (repo / "_build" / "sphinx.log").read_text()  # every page, afresh
    # an edit of one page: only that page is read again, and the site is the one a fresh build gives
    root_page.write_text("# A small book\n\nFor the runner's drills, revised twice.\n")
    assert _run(repo, "--jobs", "2").returncode == 0
    assert "0 added, 1 changed, 0 removed" in (repo / "_build" / "sphinx.log").read_text()
    fresh = _small_book(tmp_path / "fresh")
    (fresh / "book" / "00_root.md").write_text(root_page.read_text())
    assert _run(fresh, "--jobs", "2").returncode == 0
    assert _digest(repo / "_build" / "html") == _digest(fresh / "_build" / "html")
    # kept parses that were touched behind the runner's back are not trusted: every page is read
    pickle = next((repo / "_build" / "sphinx" / "doctrees").rglob("*.pickle"))
    pickle.write_bytes(b"not a pickle")
    root_page.write_text("# A small book\n\nFor the runner's drills, revised thrice.\n")
    assert _run(repo, "--jobs", "2").returncode == 0
    assert "4 added, 0 changed" in (repo / "_build" / "sphinx.log").read_text()


@pytest.mark.slow
def test_the_incremental_site_is_the_one_a_fresh_jupyter_book_writes(tmp_path):
    """Sphinx keeps its state between builds; the site is still the one a fresh ``jupyter-book
    build`` writes from the same staged pages, and a build that fails before Sphinx leaves the
    last sphinx.log and the site as they were."""
    repo = _small_book(tmp_path / "repo")
    assert _run(repo, "--jobs", "2").returncode == 0
    out = tmp_path / "fresh-out"
    subprocess.run([sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build",
                    str(repo / "_build" / "stage"), "--path-output", str(out), "-W", "-n", "--keep-going"],
                   env=dict(_env(repo), PYTHONHASHSEED="0"), cwd=repo, check=True, capture_output=True,
                   timeout=300)
    site = repo / "_build" / "html"
    shutil.copytree(site, tmp_path / "published")
    shutil.rmtree(tmp_path / "published" / "tables")  # the runner adds the tables after Sphinx
    assert _digest(tmp_path / "published") == _digest(out / "_build" / "html")

    log = (repo / "_build" / "sphinx.log").read_bytes()
    before = _published(repo)
    chapter = repo / "book" / "01_first.py"
    chapter.write_text(chapter.read_text().replace('print("', 'raise RuntimeError("drill")\nprint("'))
    proc = _run(repo, "--jobs", "2")
    assert proc.returncode == 1 and "RuntimeError: drill" in proc.stderr
    assert (repo / "_build" / "sphinx.log").read_bytes() == log
    assert _published(repo) == before


@pytest.mark.slow
def test_explain_says_what_would_run_and_why_without_running(tmp_path):
    repo = _small_book(tmp_path / "repo")

    def explain() -> dict[str, str]:
        proc = subprocess.run([sys.executable, "-m", "analysis", "build", "--explain", "--params",
                               "params/small.yml"], cwd=repo, env=_env(repo), capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return dict(line.split(None, 1) for line in proc.stdout.splitlines())

    assert explain() == {"01_first": "runs: never run (no record)", "02_second": "runs: never run (no record)"}
    assert not (repo / "_build" / "executed").exists()  # nothing ran
    assert _run(repo, "--jobs", "2").returncode == 0
    assert explain() == {"01_first": "current: not run", "02_second": "current: not run"}
    second = repo / "book" / "02_second.py"
    second.write_text(second.read_text().replace("# # Chapter", "# # The chapter"))
    (repo / "params" / "small.yml").write_text("seed: 1\n")
    told = explain()
    assert told["02_second"].startswith("markdown only") and told["01_first"] == "current: not run"
    assert explain() == told  # explaining changed nothing
    told = subprocess.run([sys.executable, "-m", "analysis", "build", "--explain", "--params", "params/small.yml",
                           "-p", "seed=9"], cwd=repo, env=_env(repo), capture_output=True, text=True).stdout
    assert told.count("runs: its parameters changed") == 2, told


def test_a_waiting_sphinx_told_nothing_builds_nothing(tmp_path):
    """analysis.build.sphinx_ready imports what it is given, and on end of input exits having built
    nothing; a module that cannot be imported is left to the build (which reports it)."""
    listed = tmp_path / "modules.json"
    listed.write_text('["json", "no_such_listed_module"]')
    proc = subprocess.run([sys.executable, "-m", "analysis.build.sphinx_ready", str(listed), "sphinx_book_theme",
                           "no_such_module"],
                          stdin=subprocess.DEVNULL, cwd=tmp_path, env=_env(ROOT), capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert list(tmp_path.iterdir()) == [listed]
    assert listed.read_text() == '["json", "no_such_listed_module"]'  # rewritten only after a build
