"""The book runner: papermill for the chapters, jupyter-book for the site, content-hash records.

It knows chapters, parameters and the corpus check, never the analysis (DESIGN §5, §8):

1. read ``_toc.yml``; every entry with a ``book/NAME.py`` is a chapter, every ``book/NAME.md`` a page;
2. read each chapter's ``.py`` with jupytext (only those changed since the last build: :func:`_read_sources`)
   and the names its ``parameters`` cell declares;
3. merge the parameter file with ``-p`` overrides (values parsed as YAML) and check them against the
   schema of ``analysis/params.py``: every bad or unknown parameter is reported, and nothing runs;
4. take the folder's lock (one build per folder), undo what an interrupted build left, discard
   the state of an older runner, and check the corpus once (``analysis validate``);
5. run each chapter that is not current (:func:`explain` says why) with papermill in a fresh
   ipykernel (a thread of the runner drives each kernel), as many at once as there are cores;
   a finished chapter's notebook, its tables and its record are committed together (the record,
   written last, holds their digests); chapters share results they would otherwise compute
   twice (:mod:`analysis.build.shared_results`, ``_build/memo/``);
6. stage the executed notebooks with the pages into ``_build/stage/`` and run Sphinx with the
   configuration ``jupyter-book config sphinx`` makes, warnings as errors (:mod:`analysis.build.site`);
   only a clean build replaces ``_build/html``.

A chapter is current when its record holds the same code (the ``.py``'s header and code cells),
the same parameters and the same environment (:func:`analysis.build.inputs.environment_digest`), every
input file it read when it last ran still has the digest recorded then (:mod:`analysis.build.inputs`),
and its executed notebook and tables still have the recorded bytes. When only its markdown
changed, the new text is put into the executed notebook around the recorded outputs instead of
running it again. The site is current when the stage and ``_build/html`` match its record.

Processes are started with ``subprocess`` only (jupyter_client for the kernels, :mod:`analysis.build.processes`
for Sphinx), on every platform: Ctrl-C or SIGTERM kills every kernel and child, discards
unfinished chapters and publishes nothing; a second Ctrl-C exits at once. ``ARCHITECTURE.md`` describes the state in ``_build/``.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
import queue
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from analysis.build import inputs, processes, publication, shared_results, site
from analysis import params as _params
from analysis.paths import BUILD_DIR, PARAMS_DIR, ROOT, TOC_FILE

DEFAULT_PARAMS = PARAMS_DIR / "default.yml"
KERNEL = "python3"
RUNNER_PARAMS = _params.RUNNER_PARAMS
TABLES_DIR = site.TABLES_DIR  # every table of the published build, as CSV
PROVENANCE_DIR = "_provenance"  # in TABLES_DIR: which corpus made each table (analysis.present.catalogue)
WORK_DIR = BUILD_DIR / "work"  # scratch of the running build: one folder per running chapter
LOGS_DIR = BUILD_DIR / "logs"  # each chapter's kernel output of its last run
RECORDS_DIR = BUILD_DIR / "cache"  # one JSON record per chapter, and for the corpus check and the site
WAITING = "waiting"  # in a running chapter's work folder while it waits for another's result (analysis.build.shared_results)
SOURCES_RECORD = "_chapters"  # what the build needs of each chapter's .py, by its digest (_read_sources)
PROGRESS_EVERY = 20.0  # seconds without a finished chapter before the runner says what is running
MEMO_DIR = BUILD_DIR / "memo"  # results chapters share, within a build and with the next (analysis.build.shared_results)
FORMAT_FILE = BUILD_DIR / "FORMAT"  # the runner format (analysis.build.inputs.FORMAT) of what _build/ holds
SHIPPED_FILES = site.SHIPPED_FILES


class BuildError(RuntimeError):
    """A build failure with a message meant for the user (printed without a traceback)."""


# --------------------------------------------------------------------------- chapters and pages
@dataclass(frozen=True)
class Chapter:
    name: str  # e.g. "03_data"
    source: Path  # book/03_data.py

    @property
    def executed(self) -> Path:
        return BUILD_DIR / "executed" / f"{self.name}.ipynb"


@dataclass(frozen=True)
class Book:
    root: str
    entries: list[str]  # toc entries in order, e.g. "book/01_introduction"
    chapters: list[Chapter]
    pages: list[Path]  # markdown pages


def read_toc(toc_file: Path = TOC_FILE, root: Path = ROOT) -> Book:
    """The book as ``_toc.yml`` lists it: its entries in order, its chapters and its pages.

    Parameters
    ----------
    toc_file : pathlib.Path
        The table of contents.
    root : pathlib.Path
        The folder its entries are relative to.

    Returns
    -------
    Book
        The root entry, every entry in order, the chapters (entries with a ``.py``) and the
        pages (entries with only a ``.md``).

    Raises
    ------
    BuildError
        If an entry has neither a ``.py`` nor a ``.md``.
    """
    with open(toc_file, encoding="utf-8") as fh:
        toc = yaml.safe_load(fh)
    entries = [toc["root"]]

    def walk(items):
        for item in items or []:
            if "file" in item:
                entries.append(item["file"])
            walk(item.get("chapters"))
            walk(item.get("sections"))
            for part in item.get("parts", []) or []:
                walk(part.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []) or []:
        walk(part.get("chapters"))
    chapters, pages = [], []
    for entry in entries:
        py, md = root / f"{entry}.py", root / f"{entry}.md"
        if py.exists():
            chapters.append(Chapter(Path(entry).name, py))
        elif md.exists():
            pages.append(md)
        else:
            raise BuildError(f"{toc_file.name}: entry '{entry}' has neither {entry}.py nor {entry}.md")
    return Book(toc["root"], entries, chapters, pages)


def read_chapter(chapter: Chapter, text: str | None = None):
    """A chapter's notebook, from its ``.py`` (or from ``text``, its content as read already).

    Parameters
    ----------
    chapter : Chapter
        The chapter.
    text : str, optional
        The ``.py``'s content, if read already; None reads the file.

    Returns
    -------
    nbformat.NotebookNode
        The notebook jupytext makes of it (no outputs).
    """
    import jupytext

    return jupytext.reads(chapter.source.read_text(encoding="utf-8") if text is None else text, fmt="py")


def parameters_cell(nb, name: str = "chapter") -> str:
    """The source of the chapter's one cell tagged ``parameters``.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The chapter's notebook.
    name : str
        The chapter's name, for the error message.

    Returns
    -------
    str
        The cell's source.

    Raises
    ------
    BuildError
        If not exactly one cell is tagged ``parameters``.
    """
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise BuildError(f"{name}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    return cells[0].source


def declared_in(source: str) -> dict[str, Any]:
    """Names (and default values, where literal) assigned in a parameters cell's source.

    Parameters
    ----------
    source : str
        The cell's source.

    Returns
    -------
    dict
        Each name assigned at the top level (plain or annotated assignment) -> its value, or
        None where the value is not a literal.

    Raises
    ------
    SyntaxError
        If ``source`` is not valid Python.
    """
    declared: dict[str, Any] = {}
    for node in ast.parse(source).body:
        targets = []
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    declared[target.id] = ast.literal_eval(value)
                except ValueError:
                    declared[target.id] = None
    return declared


# --------------------------------------------------------------------------- parameters
def _parse_override(text: str) -> tuple[str, Any]:
    """``key=value`` with the value parsed as YAML (``-p cohort_edges=[2014,2018,2023]``)."""
    if "=" not in text:
        raise BuildError(f"-p {text!r}: expected key=value")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() != "" else ""
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise BuildError(f"-p {text!r}: the value is not valid YAML ({problem})") from None
    return key.strip(), value


def _read_params_file(path: Path) -> dict[str, Any]:
    """A parameter file as a mapping, or a BuildError that says what is wrong with it."""
    if not path.exists():
        raise BuildError(f"parameter file {path} does not exist")
    if path.is_dir():
        raise BuildError(f"parameter file {path} is a directory; expected a YAML file of key: value")
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise BuildError(f"parameter file {path} cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BuildError(f"parameter file {path} is not UTF-8 text (binary?); "
                         f"expected a YAML file of key: value") from None
    if "\x00" in text:
        raise BuildError(f"parameter file {path} holds NUL bytes (binary?); expected a YAML file of key: value")
    try:
        params = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise BuildError(f"parameter file {path}: not valid YAML{where} ({problem}); "
                         f"expected key: value lines") from None
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise BuildError(f"parameter file {path}: expected a mapping of key: value, "
                         f"got a {type(params).__name__}")
    return {str(k): v for k, v in params.items()}


def load_parameters(params_file: Path | None, overrides: list[str] | None) -> dict[str, Any]:
    """The parameter file's values with the ``-p`` overrides applied (not yet checked).

    Parameters
    ----------
    params_file : str or pathlib.Path or None
        The parameter file: a relative path is looked for in the working directory, then in the
        repository; None is ``params/default.yml``.
    overrides : list of str or None
        ``key=value`` overrides, each value parsed as YAML; later ones win.

    Returns
    -------
    dict
        Parameter name -> value.

    Raises
    ------
    BuildError
        If the file is missing, a folder, unreadable, binary, not YAML or not a mapping, or an
        override is not ``key=value`` with a YAML value.
    """
    path = Path(params_file) if params_file else DEFAULT_PARAMS
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
        if not path.exists() and (ROOT / params_file).exists():
            path = ROOT / params_file
    params = _read_params_file(path)
    for text in overrides or []:
        key, value = _parse_override(text)
        params[key] = value
    return params


def check_parameters(params: dict[str, Any], declared: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Validate against the schema (analysis/params.py): unknown keys, types and ranges, one line
    per bad parameter.

    Parameters
    ----------
    params : dict
        Parameter name -> value, as :func:`load_parameters` gives them.
    declared : dict
        Chapter name -> the parameters it declares (as :func:`declared_in` gives them).

    Returns
    -------
    dict
        Every parameter of the schema, complete (defaults filled in) and normalised.

    Raises
    ------
    BuildError
        If a key no chapter declares or a runner parameter is given, or a value is out of its
        type or range; one line per problem.
    """
    valid = sorted({k for names in declared.values() for k in names} - set(RUNNER_PARAMS))
    problems = []
    unknown = sorted(set(params) - set(valid))
    if unknown:
        problems.append(f"unknown parameter(s) {', '.join(unknown)}: no chapter declares them. "
                        f"Valid keys: {', '.join(valid)}")
    runner = sorted(set(params) & set(RUNNER_PARAMS))
    if runner:
        problems.append(f"{', '.join(runner)}: set by the runner, not by a parameter file")
    known = {k: v for k, v in params.items() if k in _params.FIELDS and k not in RUNNER_PARAMS}
    try:
        checked = _params.validate(known)
    except _params.ParameterError as exc:
        problems.extend(exc.problems)
        checked = None
    if problems:
        raise BuildError("\n".join(problems))
    return checked


def normalise_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """Make ``corpus_path`` and ``website_snapshot`` absolute (relative to the working directory
    the command started in).

    Parameters
    ----------
    params : dict
        Parameter name -> value.

    Returns
    -------
    dict
        A copy, with those two paths, where not empty, made absolute (``~`` expanded).
    """
    out = dict(params)
    for key in ("corpus_path", "website_snapshot"):
        value = out.get(key)
        if isinstance(value, str) and value.strip():
            out[key] = str(Path(value).expanduser().absolute())
    return out


def chapter_parameters(declared: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The parameters one chapter receives: only those it declares (plus ``tables_dir``).

    Parameters
    ----------
    declared : dict
        The chapter's declared parameters, name -> default.
    params : dict
        The build's checked parameters.

    Returns
    -------
    dict
        The values of the declared parameters, with ``tables_dir`` set to :data:`TABLES_DIR` if
        the chapter declares it.
    """
    mine = {k: v for k, v in params.items() if k in declared}
    if "tables_dir" in declared:
        mine["tables_dir"] = str(TABLES_DIR)
    return mine


# --------------------------------------------------------------------------- records
def code_digest(nb) -> str:
    """What running a chapter depends on in the chapter itself: its notebook metadata and its
    code cells (source and metadata), in order. Its markdown is not part of it: an edit of the
    prose alone is carried into the executed notebook without running it (:func:`_update_prose`).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The chapter's notebook, as :func:`read_chapter` gives it.

    Returns
    -------
    str
        A SHA-256 hex digest.
    """
    h = hashlib.sha256()
    h.update(json.dumps(nb.metadata, sort_keys=True, default=str).encode())
    for cell in nb.cells:
        if cell.cell_type == "code":
            h.update(b"\0" + json.dumps([cell.source, cell.get("metadata", {})], sort_keys=True,
                                        default=str).encode())
    return h.hexdigest()


def static_key(code: str, params: dict[str, Any]) -> dict[str, str]:
    """The parts of a chapter's key known before it runs (the files it reads come after). The
    runner's own parameters (``tables_dir``, an absolute path of this checkout) are left out: a
    moved or copied repository keeps its results.

    Parameters
    ----------
    code : str
        The chapter's :func:`code_digest`.
    params : dict
        The parameters the chapter receives.

    Returns
    -------
    dict of str to str
        ``code``, ``params`` (a digest of the parameters) and ``environment``
        (:func:`analysis.build.inputs.environment_digest`).
    """
    mine = {k: v for k, v in params.items() if k not in RUNNER_PARAMS}
    return {"code": code, "params": inputs.key(json.dumps(mine, sort_keys=True, default=str)),
            "environment": inputs.environment_digest()}


def _record_file(name: str) -> Path:
    return RECORDS_DIR / f"{name}.json"


def _read_record(name: str) -> dict[str, Any]:
    """A record; an unreadable or corrupt one reads as empty (so it never matches)."""
    try:
        record = json.loads(_record_file(name).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def write_record(name: str, record: dict[str, Any]) -> None:
    """Write a record atomically (a crash leaves the old record or the new one, never half).

    Parameters
    ----------
    name : str
        The record's name (a chapter's, or ``_site``, ``_corpus``, ...).
    record : dict
        What to keep, JSON-serialisable.
    """
    path = _record_file(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _forget(name: str) -> None:
    _record_file(name).unlink(missing_ok=True)


def why_not_current(chapter: Chapter, key: dict[str, str]) -> str | None:
    """Why a chapter must run (one line), or None when its record says it is current.

    Parameters
    ----------
    chapter : Chapter
        The chapter.
    key : dict of str to str
        Its :func:`static_key` for this build.

    Returns
    -------
    str or None
        The first reason found (no record, code, parameters, environment, an input file, its
        notebook or a table changed), or None.
    """
    record = _read_record(chapter.name)
    if not record:
        return "never run (no record)"
    for part, reason in (("code", "its code cells changed"), ("params", "its parameters changed"),
                         ("environment", "the analysis package, the lock file or Python changed")):
        if record.get(part) != key[part]:
            return reason
    reads = record.get("reads")
    if not isinstance(reads, dict):
        return "its record is incomplete"
    changed = inputs.changed(reads)
    if changed:
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        return f"input changed: {', '.join(changed[:3])}{more}"
    if record.get("notebook") != inputs.file_digest(chapter.executed):
        return "its executed notebook was changed or removed"
    tables = record.get("tables")
    if not isinstance(tables, dict):
        return "its record is incomplete"
    altered = [name for name, digest in tables.items() if inputs.file_digest(TABLES_DIR / name) != digest]
    if altered:
        return f"its table {altered[0]} was changed or removed"
    return None


def _prose_is_current(chapter: Chapter) -> bool:
    """Whether the executed notebook carries the chapter's present text (markdown included)."""
    return _read_record(chapter.name).get("source") == inputs.file_digest(chapter.source)


def _update_prose(chapter: Chapter, children: processes.ChildProcesses | None = None) -> bool:
    """Carry an edit of a chapter's markdown into its executed notebook without running it: the
    chapter's present cells, each code cell with the outputs it had (its source is unchanged: the
    key holds every code cell), papermill's injected cell after the parameters cell. The result is
    the notebook a new run would give, byte for byte (a run's outputs do not depend on the
    markdown). False when the code cells do not line up (then the chapter runs)."""
    import nbformat
    from papermill.iorw import load_notebook_node

    executed = nbformat.read(chapter.executed, as_version=4)
    new = load_notebook_node(read_chapter(chapter))  # the cells as papermill hands them to the kernel
    ran = [c for c in executed.cells if c.cell_type == "code"]
    injected = [c for c in ran if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    ran = [c for c in ran if c not in injected]
    own = [c for c in new.cells if c.cell_type == "code"]
    if [c.source for c in ran] != [c.source for c in own]:
        return False
    outputs = iter(ran)
    cells = []
    for cell in new.cells:
        if cell.cell_type != "code":
            cells.append(cell)
            continue
        cells.append(next(outputs))
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            cells.extend(injected)
    executed.cells = cells
    _clean_notebook(executed)
    tmp = chapter.executed.with_suffix(".ipynb.tmp")
    nbformat.write(executed, tmp)
    with children.critical() if children else contextlib.nullcontext():
        os.replace(tmp, chapter.executed)
        record = _read_record(chapter.name)
        write_record(chapter.name, {**record, "notebook": inputs.file_digest(chapter.executed),
                                    "source": inputs.file_digest(chapter.source)})
    return True


# --------------------------------------------------------------------------- executing one chapter
def _clean_notebook(nb) -> None:
    """Remove what differs between two runs of the same inputs: timestamps, papermill
    metadata, random cell ids and absolute paths of this checkout; hide the injected cell."""
    nb.metadata.pop("papermill", None)
    root = str(ROOT) + os.sep
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:03d}"
        meta = cell.setdefault("metadata", {})
        meta.pop("execution", None)
        meta.pop("papermill", None)
        tags = meta.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            meta["tags"] = tags + ["remove-cell"]
    text = json.dumps(nb)
    if root in text:
        import nbformat

        # JSON-escaped form of the root as well as the plain one
        text = text.replace(json.dumps(root)[1:-1], "").replace(root, "")
        nb.clear()
        nb.update(nbformat.from_dict(json.loads(text)))


class ChapterFailed(Exception):
    pass


def _chapter_kernel(env: dict[str, str], log) -> type:
    """A kernel manager class (for papermill's ``kernel_manager_class``) whose kernels start with
    ``env`` (the chapter's read-log, the memo folder) and write their output to ``log``, through
    jupyter_client's documented ``start_kernel(**kw)`` launch arguments. The kernel watches the
    process that started it (``JPY_PARENT_PID``, set by jupyter_client) and exits when it has gone."""
    from jupyter_client.manager import AsyncKernelManager

    class ChapterKernelManager(AsyncKernelManager):
        async def start_kernel(self, **kw):
            kw.setdefault("env", env)
            kw.setdefault("stdout", log)
            kw.setdefault("stderr", log)
            return await super().start_kernel(**kw)

    return ChapterKernelManager


def _execute_chapter(chapter: Chapter, params: dict[str, Any], output: Path, env: dict[str, str] | None = None,
                    log=None) -> float:
    """Run one chapter with papermill and write the cleaned notebook atomically to ``output``;
    its kernel gets ``env`` (default: this process's) and writes to ``log`` (default: inherited)."""
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    start = time.perf_counter()
    nb = read_chapter(chapter)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": KERNEL}
    try:
        result = pm.execute_notebook(
            nb,
            None,
            parameters=params,
            kernel_name=KERNEL,
            progress_bar=False,
            cwd=str(chapter.source.parent),
            record_timing=False,
            shutdown_kernel="immediate",  # nbclient: the kernel is killed once the last cell ran
            kernel_manager_class=_chapter_kernel(dict(os.environ) if env is None else env, log),
        )
    except PapermillExecutionError as exc:
        # papermill's counts include its injected parameters cell; name the cell as the author
        # sees it: its position among the chapter's own code cells, and its first line
        own = [c.source for c in read_chapter(chapter).cells if c.cell_type == "code"]
        number = own.index(exc.source) + 1 if exc.source in own else exc.exec_count
        first_line = next((ln for ln in (exc.source or "").splitlines() if ln.strip()), "")
        where = chapter.source.relative_to(ROOT) if chapter.source.is_relative_to(ROOT) else chapter.source
        raise ChapterFailed(
            f"chapter {chapter.name} ({where}) failed in code cell "
            f"[{number}] starting `{first_line.strip()}`: {exc.ename}: {exc.evalue}"
        ) from None
    except Exception as exc:  # kernel died, bad parameters, ...
        raise ChapterFailed(f"chapter {chapter.name} could not run: {type(exc).__name__}: {exc}") from None
    _clean_notebook(result)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".ipynb.tmp")
    nbformat.write(result, tmp)
    os.replace(tmp, output)
    return time.perf_counter() - start


def commit(chapter: Chapter, key: dict[str, str], work: Path, children: processes.ChildProcesses,
           seconds: float) -> None:
    """Move a finished chapter's notebook and tables into place, then write its record: the
    record is the commit point, and it holds the digests the next build checks.

    Parameters
    ----------
    chapter : Chapter
        The chapter that ran.
    key : dict of str to str
        Its :func:`static_key`.
    work : pathlib.Path
        Its work folder (the notebook, ``tables/`` and ``reads.log``).
    children : processes.ChildProcesses
        The runner's children (a first signal waits until the commit is done).
    seconds : float
        How long it ran, kept for the order of the next build.
    """
    reads_log = work / "reads.log"
    lines = reads_log.read_text(encoding="utf-8").splitlines() if reads_log.exists() else []
    reads = inputs.digests(ln for ln in lines if ln)
    tables = work / "tables"
    with children.critical():
        _forget(chapter.name)
        digests = {}
        TABLES_DIR.mkdir(parents=True, exist_ok=True)
        for csv in sorted(tables.glob("*.csv")) if tables.exists() else []:
            digests[csv.name] = inputs.file_digest(csv)
            os.replace(csv, TABLES_DIR / csv.name)
        # which corpus made each table (analysis.present.catalogue.record), kept beside the CSVs
        for note in sorted((tables / PROVENANCE_DIR).glob("*.json")) if tables.exists() else []:
            (TABLES_DIR / PROVENANCE_DIR).mkdir(exist_ok=True)
            digests[f"{PROVENANCE_DIR}/{note.name}"] = inputs.file_digest(note)
            os.replace(note, TABLES_DIR / PROVENANCE_DIR / note.name)
        chapter.executed.parent.mkdir(parents=True, exist_ok=True)
        os.replace(work / f"{chapter.name}.ipynb", chapter.executed)
        write_record(chapter.name, {**key, "reads": reads, "notebook": inputs.file_digest(chapter.executed),
                                    "tables": digests, "source": inputs.file_digest(chapter.source),
                                    "seconds": round(seconds, 1)})


# --------------------------------------------------------------------------- the build folder
def _old_state() -> list[Path]:
    """What a runner of another format (or one from before formats were written) left in
    ``_build/``; empty when the format is this runner's."""
    try:
        found = FORMAT_FILE.read_text().strip()
    except OSError:
        found = ""
    if found == str(inputs.FORMAT):
        return []
    return [p for p in (BUILD_DIR / n for n in ("cache", "memo", "sphinx", "stage", "executed", "work"))
            if p.exists()]


def discard_old_state() -> list[str]:
    """Drop what a runner of another format left in ``_build/`` (never trusted); the published
    site stays until a new one replaces it.

    Returns
    -------
    list of str
        A note saying what was discarded, or nothing when ``_build/`` was this runner's.
    """
    old = _old_state()
    for path in old:
        shutil.rmtree(path, ignore_errors=True)
    if not FORMAT_FILE.exists() or FORMAT_FILE.read_text().strip() != str(inputs.FORMAT):
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        FORMAT_FILE.write_text(f"{inputs.FORMAT}\n")
    return [f"discarded the state an older runner left in {BUILD_DIR.name}/ ({', '.join(p.name for p in old)}): "
            f"every chapter runs again"] if old else []


def recover() -> list[str]:
    """Undo what an interrupted build left behind (called under the lock).

    Returns
    -------
    list of str
        A note for each thing restored or removed.
    """
    notes = site.recover()
    if WORK_DIR.exists():
        shutil.rmtree(WORK_DIR)
        notes.append("removed the scratch files of an interrupted build")
    return notes


# --------------------------------------------------------------------------- the whole build
@dataclass
class BuildReport:
    executed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    prose_only: list[str] = field(default_factory=list)  # markdown carried into the notebook, not run
    sphinx_ran: bool = False
    index: Path | None = None


def _log(msg: str) -> None:
    print(msg, flush=True)


@dataclass
class Plan:
    book: Book
    declared: dict[str, dict[str, Any]]
    params: dict[str, Any]
    codes: dict[str, str]  # chapter name -> code_digest


def _read_sources(book: Book, remember: bool = False) -> dict[str, dict[str, str]]:
    """Per chapter, what the build needs of its ``.py``: its digest (``source``), its parameters
    cell (``parameters``) and its :func:`code_digest` (``code``). Only the chapters whose ``.py``
    changed since the last build are parsed by jupytext: the record ``_chapters`` keeps these
    three for each ``.py`` digest (and environment, which holds jupytext's version); ``remember``
    writes it (the build does, under its lock)."""
    record = _read_record(SOURCES_RECORD)
    environment = inputs.environment_digest()
    kept = record.get("chapters") if record.get("environment") == environment else None
    kept = kept if isinstance(kept, dict) else {}
    sources = {}
    for chapter in book.chapters:
        data = chapter.source.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        entry = kept.get(chapter.name)
        if not (isinstance(entry, dict) and entry.get("source") == digest
                and all(isinstance(entry.get(k), str) for k in ("parameters", "code"))):
            nb = read_chapter(chapter, data.decode("utf-8"))
            entry = {"source": digest, "parameters": parameters_cell(nb, chapter.name), "code": code_digest(nb)}
        sources[chapter.name] = entry
    if remember and sources != kept:
        write_record(SOURCES_RECORD, {"environment": environment, "chapters": sources})
    return sources


def plan(params_file=None, overrides=None, book: Book | None = None, remember: bool = False) -> Plan:
    """What a build would do, decided before anything runs: the chapters, what each declares, the
    checked parameters and each chapter's code digest.

    Parameters
    ----------
    params_file : str or pathlib.Path, optional
        The parameter file, as :func:`load_parameters` takes it.
    overrides : list of str, optional
        ``-p`` overrides, ``key=value``.
    book : Book, optional
        The book; None reads ``_toc.yml``.
    remember : bool
        Whether to write what was read of the chapters' ``.py`` for the next build.

    Returns
    -------
    Plan
        The book, the parameters declared per chapter, the checked and normalised parameters
        some chapter declares, and each chapter's :func:`code_digest`.

    Raises
    ------
    BuildError
        If the table of contents, a parameters cell, the parameter file or a value is bad.
    """
    book = book or read_toc()
    sources = _read_sources(book, remember)
    declared = {name: declared_in(entry["parameters"]) for name, entry in sources.items()}
    params = load_parameters(params_file, overrides)
    checked = check_parameters(params, declared)
    # every chapter receives every parameter it declares, checked and complete
    declared_names = {k for names in declared.values() for k in names}
    params = normalise_parameters({k: v for k, v in checked.items() if k in declared_names})
    return Plan(book, declared, params, {n: entry["code"] for n, entry in sources.items()})


def _check_corpus(params: dict[str, Any]) -> bool:
    """The corpus check of ``analysis validate``, once, before any chapter starts; and the
    parameters that depend on the corpus (text in ``text_fields``, ``min_df`` within its size).
    Skipped when these parameters and every file the last check read are unchanged. Returns
    whether the corpus is a user's own, not simulated (its text may be licensed)."""
    if "corpus_path" not in params:
        return False
    relevant = {k: params.get(k) for k in ("corpus_path", "website_snapshot", "text_fields", "min_df")}
    key = inputs.key(json.dumps(relevant, sort_keys=True, default=str), inputs.environment_digest())
    record = _read_record("_corpus")
    if (record.get("key") == key and isinstance(record.get("reads"), dict) and "licensed" in record
            and not inputs.changed(record["reads"])):
        return bool(record["licensed"])
    inputs.install_recorder(log="", roots=inputs.roots_for(params))
    with inputs.capture() as reads:
        from analysis.data import corpus as _corpus  # pandas and pandera: only when the check runs

        try:
            data = _corpus.load(params.get("corpus_path") or None, params.get("website_snapshot") or None)
        except _corpus.CorpusError as exc:
            raise BuildError(f"corpus check failed, no chapter run:\n  {exc}") from None
    problems = []
    fields = [f for f in params.get("text_fields") or [] if f in data.firms.columns]
    empty = [f for f in fields if data.firms[f].isna().all()]
    if fields and len(empty) == len(fields):
        problems.append(f"text_fields={fields}: every firm of {data.path.name} has no text in "
                        f"{' or '.join(empty)}; choose columns with text "
                        f"({', '.join(c for c in _corpus.TEXT_COLUMNS if data.firms[c].notna().any())})")
    min_df = params.get("min_df")
    if isinstance(min_df, int) and min_df > len(data.firms):
        problems.append(f"min_df={min_df}: more than the {len(data.firms)} firms of {data.path.name}; "
                        f"no term could be kept (use 1 to {len(data.firms)})")
    if problems:
        raise BuildError("bad parameter(s) for this corpus:\n  " + "\n  ".join(problems))
    write_record("_corpus", {"key": key, "reads": inputs.digests(reads), "licensed": not data.simulated})
    return not data.simulated


def _chapter_states(p: Plan, only: list[str] | None) -> dict[str, tuple[dict, dict[str, str], str | None]]:
    """Per chapter to consider: its parameters, its static key, and why it must run (or None)."""
    states = {}
    for chapter in p.book.chapters:
        if only and chapter.name not in only:
            continue
        mine = chapter_parameters(p.declared[chapter.name], p.params)
        key = static_key(p.codes[chapter.name], mine)
        states[chapter.name] = (mine, key, why_not_current(chapter, key))
    return states


def explain(params_file=None, overrides=None, book: Book | None = None) -> list[tuple[str, str]]:
    """Per chapter, whether the next build runs it and why, and whether Sphinx runs; runs nothing.

    Parameters
    ----------
    params_file : str or pathlib.Path, optional
        The parameter file, as :func:`load_parameters` takes it.
    overrides : list of str, optional
        ``-p`` overrides, ``key=value``.
    book : Book, optional
        The book; None reads ``_toc.yml``.

    Returns
    -------
    list of tuple of str
        ``(chapter, what the build does with it and why)``, in book order.

    Raises
    ------
    BuildError
        As :func:`plan` does.
    """
    p = plan(params_file, overrides, book)
    found = _old_state()
    lines = []
    for chapter in p.book.chapters:
        _, _, why = _chapter_states(p, [chapter.name])[chapter.name]
        if found:
            lines.append((chapter.name, "runs: the build folder holds an older runner's state"))
        elif why:
            lines.append((chapter.name, f"runs: {why}"))
        elif not _prose_is_current(chapter):
            lines.append((chapter.name, "markdown only: the new text is put around the kept outputs"))
        else:
            lines.append((chapter.name, "current: not run"))
    return lines


def build(params_file=None, overrides=None, jobs: int | None = None, only: list[str] | None = None,
          sphinx: bool = True, book: Book | None = None, pdf_link: bool = False) -> BuildReport:
    """Check everything, then (under the folder lock) run what changed and publish the site.

    Parameters
    ----------
    params_file : str or pathlib.Path, optional
        The parameter file, as :func:`load_parameters` takes it.
    overrides : list of str, optional
        ``-p`` overrides, ``key=value``.
    jobs : int, optional
        Chapters run at once; None: one per core.
    only : list of str, optional
        Consider only these chapters; None: all.
    sphinx : bool
        Whether to build and publish the site after the chapters.
    book : Book, optional
        The book; None reads ``_toc.yml``.
    pdf_link : bool
        Whether the site links the PDF edition (``make publish`` puts it beside the pages).

    Returns
    -------
    BuildReport
        The chapters run, kept and given new markdown only; whether Sphinx ran; the site's index
        page (None when ``sphinx`` is False).

    Raises
    ------
    BuildError
        If a chapter in ``only`` is unknown, a parameter or the corpus is bad, a chapter or Sphinx
        fails, another build holds the lock, or ``_build/`` cannot be written.
    """
    book = book or read_toc()
    if only:
        unknown = sorted(set(only) - {c.name for c in book.chapters})
        if unknown:
            raise BuildError(
                f"unknown chapter(s) {', '.join(unknown)}; chapters: {', '.join(c.name for c in book.chapters)}"
            )
    try:
        with processes.folder_lock(BUILD_DIR / "build.lock"), processes.ChildProcesses() as children:
            for note in discard_old_state() + recover():
                _log(note)
            if sphinx:  # Sphinx imports itself while the chapters run; stopped unused if the site stands
                children.procs["sphinx"] = site.standby(_read_record("_conf"))
            p = plan(params_file, overrides, book, remember=True)
            licensed = _check_corpus(p.params)
            stamp = publication.build_stamp(params_file, p.params.get("corpus_path") or None, pdf_link=pdf_link,
                                            licensed=licensed, withheld=bool(p.params.get("withhold_texts")))
            return _build_locked(p, jobs, only, sphinx, children, stamp)
    except processes.LockHeld as exc:
        raise BuildError(str(exc)) from None
    except site.SiteError as exc:
        raise BuildError(str(exc)) from None
    except OSError as exc:  # a read-only or full disk, a file where a folder should be, ...
        where = exc.filename or BUILD_DIR
        raise BuildError(f"cannot write the build: {where}: {exc.strerror or exc}; the build needs "
                         f"a writable {BUILD_DIR}") from None


def _build_locked(p: Plan, jobs, only, sphinx, children: processes.ChildProcesses, stamp: dict) -> BuildReport:
    report = BuildReport()
    todo: dict[str, tuple[Chapter, dict, dict[str, str]]] = {}
    by_name = {c.name: c for c in p.book.chapters}
    for name, (mine, key, why) in _chapter_states(p, only).items():
        chapter = by_name[name]
        if why is None:
            if _prose_is_current(chapter):
                report.skipped.append(name)
                continue
            if _update_prose(chapter, children):
                report.prose_only.append(name)
                continue
        todo[name] = (chapter, mine, key)
    TABLES_DIR.mkdir(parents=True, exist_ok=True)
    if report.skipped:
        _log(f"unchanged, not re-run: {', '.join(report.skipped)}")
    if report.prose_only:
        _log(f"only the markdown changed, outputs kept (not re-run): {', '.join(report.prose_only)}")
    failures = _run_chapters(todo, jobs, report, children, p.params) if todo else []
    if failures:
        raise BuildError("\n".join(failures) + "\nThe previous site is unchanged.")
    if not sphinx:
        return report
    missing = [c.name for c in p.book.chapters if not c.executed.exists()]
    if missing:
        raise BuildError(f"not yet executed: {', '.join(missing)} (run the whole build)")
    conf, conf_record = site.sphinx_conf(_read_record("_conf"))
    write_record("_conf", conf_record)
    site.stage(p.book, stamp, conf)
    digest = _site_digest()
    if site_is_published(digest):
        site.stop_standby(children)
        _log("site unchanged, Sphinx not run")
    else:
        t0 = time.perf_counter()
        _log("Sphinx, with jupyter-book's configuration (warnings are errors) ...")
        _forget("_site")
        sphinx_record = _read_record("_sphinx")
        _forget("_sphinx")  # a run cut short leaves Sphinx's folder in no known state
        built, sphinx_record = site.run_sphinx(children, sphinx_record)
        write_record("_sphinx", sphinx_record)
        site.publish(built, children)
        write_record("_site", {"key": digest, "html": site.html_digest()})
        report.sphinx_ran = True
        _log(f"site built in {time.perf_counter() - t0:.1f} s")
    report.index = site.HTML_DIR / "index.html"
    return report


def _site_digest() -> str:
    """What the site is made from: the stage, the tables and the environment."""
    # PROVENANCE.csv is written into the tables folder by publishing, from what is hashed already
    tables = inputs.tree_digest(TABLES_DIR, skip=frozenset({"PROVENANCE.csv"}))
    return inputs.key(inputs.tree_digest(site.STAGE_DIR), tables, inputs.environment_digest())


def site_is_published(digest: str | None = None) -> bool:
    """Whether ``_build/html`` is the site of the present stage, untouched since it was built
    (then the PDF can be made from the stage as it is).

    Parameters
    ----------
    digest : str, optional
        What the site is made from now (stage, tables, environment), if computed already.

    Returns
    -------
    bool
        True if the site and the stage exist and match the site's record.
    """
    record = _read_record("_site")
    return ((site.HTML_DIR / "index.html").exists() and (site.STAGE_DIR / "_config.yml").exists()
            and record.get("key") == (digest or _site_digest()) and record.get("html") == site.html_digest())


def _run_chapters(todo: dict, jobs: int | None, report: BuildReport, children: processes.ChildProcesses,
                  params: dict) -> list[str]:
    """Run chapters, at most ``jobs`` at a time, each in a thread of the runner that drives its
    kernel through papermill (the kernels do the work, in their own processes); commit each as
    it finishes."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    LOGS_DIR.mkdir(parents=True, exist_ok=True)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    _log(f"running {len(todo)} chapter(s) on {jobs} worker(s)")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(WORK_DIR / "runtime"),  # kernels' connection files
               **{shared_results.ENV_VAR: str(MEMO_DIR), inputs.ROOTS_VAR: inputs.roots_for(params)})
    import papermill  # noqa: F401 - imported once, before the threads start

    try:
        return _run_queue(todo, jobs, report, children, env)
    finally:
        shared_results.prune(MEMO_DIR)


def _run_one(chapter: Chapter, mine: dict, env: dict, done: queue.Queue) -> None:
    """One chapter in a thread: papermill, then its result (seconds or the error) on ``done``."""
    work = WORK_DIR / chapter.name
    (work / "tables").mkdir(parents=True)
    if "tables_dir" in mine:
        mine = {**mine, "tables_dir": str(work / "tables")}
    env = {**env, inputs.LOG_VAR: str(work / "reads.log"), shared_results.WAITING_VAR: str(work / WAITING)}
    try:
        with open(LOGS_DIR / f"{chapter.name}.log", "wb") as log:
            result = {"seconds": _execute_chapter(chapter, mine, work / f"{chapter.name}.ipynb", env, log)}
    except ChapterFailed as exc:
        result = {"error": str(exc)}
    except Exception as exc:  # noqa: BLE001 - reported as the chapter's failure, never lost in a thread
        result = {"error": f"chapter {chapter.name} could not run: {type(exc).__name__}: {exc}"}
    done.put((chapter.name, result))


def _longest_first(todo: dict) -> list[str]:
    """The order chapters start in: the longest first, so that the short ones fill the cores at
    the end; by their last runs' durations when every one has been timed, else by the size of
    their code."""
    cost = {name: _read_record(name).get("seconds") for name in todo}
    if not all(isinstance(v, (int, float)) for v in cost.values()):
        cost = {name: todo[name][0].source.stat().st_size for name in todo}
    return sorted(todo, key=lambda name: cost[name], reverse=True)


def _run_queue(todo: dict, jobs: int, report: BuildReport, children: processes.ChildProcesses, env: dict) -> list[str]:
    waiting = _longest_first(todo)
    done: queue.Queue = queue.Queue()
    failures: list[str] = []
    started: dict[str, float] = {}
    last_word = time.monotonic()
    while waiting or started:
        # a chapter waiting for another's shared result leaves its core idle: start one more
        busy = [n for n in started if not (WORK_DIR / n / WAITING).exists()]
        while waiting and len(busy) < jobs and len(started) < 2 * jobs:
            name = waiting.pop(0)
            chapter, mine, _ = todo[name]
            threading.Thread(target=_run_one, args=(chapter, mine, env, done), name=f"chapter {name}",
                             daemon=True).start()
            started[name] = time.monotonic()
            busy.append(name)
        try:
            name, result = done.get(timeout=0.1)
        except queue.Empty:
            children.remember()
            now = time.monotonic()
            if now - last_word >= PROGRESS_EVERY:  # a long chapter is not a hung build: say so
                running = ", ".join(f"{n} ({now - t:.0f} s)" for n, t in started.items())
                _log(f"  running {running}; {len(todo) - len(waiting) - len(started)} of {len(todo)} done")
                last_word = now
            continue
        last_word = time.monotonic()
        del started[name]
        chapter, _, key = todo[name]
        work = WORK_DIR / name
        if "error" in result:
            failures.append(result["error"])
            _log(f"  FAILED  {name}")
        else:
            commit(chapter, key, work, children, result["seconds"])
            report.executed.append(name)
            _log(f"  ran     {name:<18} {result['seconds']:6.1f} s")
        shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    return failures
