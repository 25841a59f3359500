"""The runner: parameters, cache keys, failure handling, determinism, and the real book with -W."""

from __future__ import annotations

import hashlib
import os
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from analysis.build import runner as B
from analysis.build import inputs
from conftest import copy_repo, run_analysis

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------ parameters (no execution)
def test_declared_parameters_and_filtering():
    book = B.read_toc()
    names = {c.name for c in book.chapters}
    assert {"01_introduction", "03_data"} <= names
    declared = {c.name: B.declared_in(B.parameters_cell(B.read_chapter(c), c.name)) for c in book.chapters}
    assert "corpus_path" in declared["03_data"]
    params = {"corpus_path": "/x.csv", "unrelated": 1}
    mine = B.chapter_parameters({"corpus_path": ""}, params)
    assert mine == {"corpus_path": "/x.csv"}
    with_tables = B.chapter_parameters({"corpus_path": "", "tables_dir": ""}, params)
    assert with_tables["tables_dir"] == str(B.BUILD_DIR / "tables")


def test_unknown_key_lists_valid_keys():
    declared = {"a": {"corpus_path": "", "tables_dir": ""}, "b": {"alpha": 0.05}}
    with pytest.raises(B.BuildError) as err:
        B.check_parameters({"no_such_key": 1, "alpha": 0.1}, declared)
    msg = str(err.value)
    assert "no_such_key" in msg and "Valid keys: alpha, corpus_path" in msg
    assert "tables_dir" not in msg.split("Valid keys:")[1]  # filled by the runner, not a user key
    B.check_parameters({"alpha": 0.1}, declared)  # a declared key passes


def test_override_values_are_yaml(tmp_path):
    pfile = tmp_path / "p.yml"
    pfile.write_text("corpus_path: ''\ncohort_edges: [2014, 2020]\n")
    params = B.load_parameters(pfile, ["cohort_edges=[2014, 2018, 2023]", "alpha=0.1", "corpus_path=my.csv"])
    assert params["cohort_edges"] == [2014, 2018, 2023]
    assert params["alpha"] == 0.1
    norm = B.normalise_parameters(params)
    assert norm["corpus_path"] == str(Path.cwd() / "my.csv")
    assert B.normalise_parameters({"corpus_path": ""})["corpus_path"] == ""


def test_cli_unknown_key_fails_naming_valid_keys():
    proc = subprocess.run([sys.executable, "-m", "analysis", "build", "-p", "no_such_key=1"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode != 0
    assert "no_such_key" in proc.stderr and "corpus_path" in proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------ records
@pytest.fixture
def records(tmp_path, monkeypatch):
    """The runner's records and tables in a temporary build folder; a chapter with one input
    file outside the repository, executed and committed."""
    monkeypatch.setattr(B, "BUILD_DIR", tmp_path / "_build")
    monkeypatch.setattr(B, "RECORDS_DIR", tmp_path / "_build" / "cache")
    monkeypatch.setattr(B, "TABLES_DIR", tmp_path / "_build" / "tables")
    source = tmp_path / "book" / "01_x.py"
    source.parent.mkdir()
    source.write_text("# %% tags=['parameters']\nalpha = 0.05\n\n# %%\nx = 1\n")
    chapter = B.Chapter("01_x", source)
    chapter.executed.parent.mkdir(parents=True)
    chapter.executed.write_text("{}")
    (tmp_path / "_build" / "tables").mkdir()
    (tmp_path / "_build" / "tables" / "t.csv").write_text("a\n1\n")
    data = tmp_path / "input.csv"
    data.write_text("a,b\n1,2\n")
    key = B.static_key(B.code_digest(B.read_chapter(chapter)), {"alpha": 0.05})
    B.write_record(chapter.name, {**key, "reads": inputs.digests([str(data), str(tmp_path / "absent.csv")]),
                                  "notebook": inputs.file_digest(chapter.executed),
                                  "tables": {"t.csv": inputs.file_digest(tmp_path / "_build" / "tables" / "t.csv")},
                                  "source": inputs.file_digest(source)})
    return chapter, key, data


def test_a_committed_chapter_is_current_until_something_it_depends_on_changes(records, tmp_path):
    chapter, key, data = records
    assert B.why_not_current(chapter, key) is None
    os.utime(data, (1, 1))  # a modification time alone changes nothing
    assert B.why_not_current(chapter, key) is None
    assert B.why_not_current(chapter, B.static_key(key["code"], {"alpha": 0.1})) == "its parameters changed"
    assert B.why_not_current(chapter, {**key, "code": "other"}) == "its code cells changed"
    assert "analysis package" in B.why_not_current(chapter, {**key, "environment": "other"})
    original = data.read_bytes()
    data.write_bytes(original + b"3,4\n")  # a file the chapter read
    assert B.why_not_current(chapter, key) == f"input changed: {data}"
    data.write_bytes(original)
    (tmp_path / "absent.csv").write_text("now here\n")  # a file it looked for and did not find
    assert B.why_not_current(chapter, key) == f"input changed: {tmp_path / 'absent.csv'}"
    (tmp_path / "absent.csv").unlink()
    assert B.why_not_current(chapter, key) is None
    (B.TABLES_DIR / "t.csv").write_text("a\n2\n")
    assert B.why_not_current(chapter, key) == "its table t.csv was changed or removed"
    (B.TABLES_DIR / "t.csv").write_text("a\n1\n")
    chapter.executed.write_text("{ }")
    assert B.why_not_current(chapter, key) == "its executed notebook was changed or removed"
    B._record_file(chapter.name).write_text("{not json")
    assert B.why_not_current(chapter, key) == "never run (no record)"


def test_code_digest_leaves_out_the_markdown_but_not_cell_metadata(tmp_path):
    source = tmp_path / "01_x.py"
    text = "# %% tags=['parameters']\nalpha = 0.05\n"
    source.write_text(text)
    chapter = B.Chapter("01_x", source)
    base = B.code_digest(B.read_chapter(chapter))
    source.write_text(text + "\n# %% [markdown]\n# More prose.\n")
    assert B.code_digest(B.read_chapter(chapter)) == base
    source.write_text(text.replace("tags=['parameters']", "tags=['parameters', 'hide-input']"))
    assert B.code_digest(B.read_chapter(chapter)) != base
    source.write_text(text.replace("0.05", "0.1"))
    assert B.code_digest(B.read_chapter(chapter)) != base


# ------------------------------------------------------------------ whole builds in a copy of the repo
_copy_repo = copy_repo
_run = run_analysis


def _tree_hash(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@pytest.mark.book
def test_default_book_builds_with_warnings_as_errors(built_book):
    repo, proc = built_book
    assert "Open the book:" in proc.stdout
    index = repo / "_build" / "html" / "index.html"
    assert index.exists()
    for chapter in B.read_toc(repo / "_toc.yml", repo).chapters:
        page = repo / "_build" / "html" / "book" / f"{chapter.name}.html"
        assert page.exists(), chapter.name
        assert "Traceback" not in page.read_text(encoding="utf-8"), chapter.name
    # no papermill timestamps, no absolute paths of the checkout in the executed notebooks
    for nb in (repo / "_build" / "executed").glob("*.ipynb"):
        text = nb.read_text()
        assert '"papermill"' not in text and str(repo) not in text, nb.name
        assert '"execution"' not in text
    # the Sphinx run listed what it imported, for the next build's Sphinx to import ahead: what
    # myst-nb's setup imports, not the book's own extension (imported from the stage each time)
    imported = json.loads((repo / "_build" / "cache" / "_sphinx_modules.json").read_text())
    assert {"sphinx_book_theme", "myst_nb.sphinx_ext"} <= set(imported) and "reading_aids" not in imported


@pytest.mark.book
def test_noop_rebuild_runs_nothing_and_identical_notebooks(built_book):
    repo, _ = built_book
    executed = repo / "_build" / "executed"
    before = {p.name: p.read_bytes() for p in executed.glob("*.ipynb")}
    proc = _run(repo, "build")
    assert proc.returncode == 0, proc.stderr
    assert "running" not in proc.stdout and "Sphinx not run" in proc.stdout
    # force every chapter to run again: the executed notebooks are byte-identical
    shutil.rmtree(repo / "_build" / "cache")
    proc = _run(repo, "build", "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    after = {p.name: p.read_bytes() for p in executed.glob("*.ipynb")}
    assert before.keys() == after.keys()
    changed = [name for name in before if before[name] != after[name]]
    assert changed == []


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.book
def test_cold_builds_in_two_folders_are_byte_identical(built_book, tmp_path):
    """Another folder, one chapter at a time, and the interpreter macOS and Windows give: no
    ``os.fork``, ``os.pidfd_open`` or ``socket.SOCK_SEQPACKET``, spawn the only start method
    (tests/portable_site). The same executed notebooks, tables and HTML, byte for byte."""
    first, _ = built_book
    second = _copy_repo(tmp_path / "elsewhere" / "repo")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "tests" / "portable_site"), str(second)]))
    probe = subprocess.run([sys.executable, "-c", "import os, multiprocessing as m; "
                            "print(hasattr(os, 'fork'), m.get_start_method())"], env=env, capture_output=True, text=True)
    assert probe.stdout.split() == ["False", "spawn"], probe.stdout + probe.stderr  # the portable-only interpreter
    proc = subprocess.run([sys.executable, "-m", "analysis", "build", "--jobs", "1"], cwd=second, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for part in ("executed", "tables", "html"):
        a, b = _files(first / "_build" / part), _files(second / "_build" / part)
        assert a.keys() == b.keys(), part
        differ = [name for name in a if a[name] != b[name]]
        assert differ == [], f"{part}: {differ[:10]}"


FAILING = textwrap.dedent('''\
    # %% [markdown]
    # # A chapter that fails

    # %% tags=["parameters"]
    corpus_path = ""

    # %%
    x = 1

    # %%
    raise ValueError("planted failure for the test")
''')


def test_failing_chapter_keeps_last_good_site(tmp_path):
    repo = _copy_repo(tmp_path / "repo")
    (repo / "book" / "00_root.py").write_text(FAILING.replace("A chapter that fails", "A small book")
                                              .replace('raise ValueError("planted failure for the test")', "y = 2"))
    (repo / "_toc.yml").write_text("format: jb-book\nroot: book/00_root\nchapters:\n"
                                   "  - file: book/references\n")
    (repo / "params" / "small.yml").write_text("corpus_path: ''\n")  # only what these chapters declare
    proc = _run(repo, "build", "--params", "params/small.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = repo / "_build" / "html"
    good = _tree_hash(html)
    (repo / "book" / "99_fails.py").write_text(FAILING)
    (repo / "_toc.yml").write_text("format: jb-book\nroot: book/00_root\nchapters:\n"
                                   "  - file: book/99_fails\n  - file: book/references\n")
    proc = _run(repo, "build", "--params", "params/small.yml")
    assert proc.returncode != 0
    assert "99_fails" in proc.stderr and "ValueError: planted failure" in proc.stderr
    # the third code cell of the chapter (parameters, x = 1, raise), counted as its author does
    assert "code cell [3]" in proc.stderr and "raise ValueError" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert _tree_hash(html) == good
    # a Sphinx warning (a reference to a label that does not exist) fails the same way
    (repo / "book" / "99_fails.py").write_text(FAILING.replace(
        'raise ValueError("planted failure for the test")', "y = 2").replace(
        "# # A chapter that fails", "# # A chapter that fails\n#\n# See {ref}`no-such-label`."))
    proc = _run(repo, "build", "--params", "params/small.yml")
    assert proc.returncode != 0
    assert "99_fails" in proc.stderr and "no-such-label" in proc.stderr
    assert _tree_hash(html) == good


def _ran(stdout: str) -> set[str]:
    return {line.split()[1] for line in stdout.splitlines() if line.strip().startswith("ran ")}


@pytest.mark.book
def test_a_changed_fact_table_reruns_only_the_chapters_that_read_it(built_book, tmp_path):
    """Drop one event from data/policy_events.csv: the chapters that show policy events (context,
    policy) and the one that hashes every input (reproduce) run again, no other; and what they
    publish equals a build that runs every chapter afresh on the changed file (no stale number)."""
    built, _ = built_book
    repo = tmp_path / "repo"
    shutil.copytree(built, repo, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__"))
    events = repo / "data" / "policy_events.csv"
    lines = events.read_text(encoding="utf-8").splitlines(keepends=True)
    events.write_text("".join(lines[:-1]), encoding="utf-8")
    told = _run(repo, "build", "--explain").stdout
    assert "runs: input changed: data/policy_events.csv" in told and "02_context" in told
    proc = _run(repo, "build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _ran(proc.stdout) == {"02_context", "10_policy", "11_reproduce"}, proc.stdout
    incremental = {part: _files(repo / "_build" / part) for part in ("executed", "tables")}
    shutil.rmtree(repo / "_build" / "cache")  # every chapter runs, on the changed data
    proc = _run(repo, "build")
    assert proc.returncode == 0 and len(_ran(proc.stdout)) == 11, proc.stdout + proc.stderr
    for part, before in incremental.items():
        after = _files(repo / "_build" / part)
        assert [n for n in after if after[n] != before.get(n)] == [], part


def test_state_of_an_older_runner_is_discarded_with_a_message(tmp_path):
    repo = _copy_repo(tmp_path / "repo")
    old = repo / "_build" / "cache"
    old.mkdir(parents=True)
    (old / "01_introduction.json").write_text('{"key": "a key of the old runner"}')
    proc = _run(repo, "build", "--explain")
    assert "older runner" in proc.stdout and old.exists()  # explaining changes nothing
    from analysis.build import runner

    proc = subprocess.run([sys.executable, "-c", "from analysis.build import runner; print(runner.discard_old_state())"],
                          cwd=repo, env=dict(os.environ, PYTHONPATH=str(repo)), capture_output=True, text=True)
    assert "discarded the state an older runner left in _build/ (cache)" in proc.stdout, proc.stderr
    assert not old.exists() and (repo / "_build" / "FORMAT").read_text().strip() == str(runner.inputs.FORMAT)
