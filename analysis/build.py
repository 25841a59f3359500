"""The book runner: papermill for the chapters, jupyter-book for the site, a content-hash cache.

It knows chapters, parameters and the corpus check, never the analysis (DESIGN §5, §8):

1. read ``_toc.yml``; every entry with a ``book/NAME.py`` is a chapter, every ``book/NAME.md`` a page;
2. read each chapter's ``.py`` with jupytext and the names its ``parameters`` cell declares;
3. merge the parameter file with ``-p`` overrides (values parsed as YAML) and check them against the
   schema of ``analysis/params.py``: every bad or unknown parameter is reported, and nothing runs;
4. take the folder's lock (one build per folder), undo what an interrupted build left, and check
   the corpus once (``analysis validate``);
5. execute each chapter whose cache record does not match in its own worker process, in parallel,
   passing it the parameters it declares; a finished chapter's notebook, its tables and its record
   are committed together (the record, written last, holds their digests); chapters share
   results they would otherwise compute twice, within a build and with the next one
   (``analysis.memo``, in ``_build/memo/``, the most recently used 1 GB kept);
6. stage the executed notebooks with the pages into a fresh ``_build/stage/`` and run
   ``jupyter-book build -W -n --keep-going``; only a clean build replaces ``_build/html``.

The cache key of a chapter is a SHA-256 over its code (the ``.py``'s header and code cells), its
effective parameters, every file in ``data/``, the corpus file, the website-text snapshot
(parameter ``website_snapshot``), the ``analysis`` source and the lock file.  A chapter is trusted
only when its record has that key and its executed notebook and tables still have the recorded
digests; when only its markdown changed, the new text is put into the executed notebook around the
recorded outputs instead of running it again.  The site is trusted only when its inputs and
``_build/html`` itself match the record.  Whatever else wrote to ``_build/`` is detected and rebuilt.

Workers are forked from the runner (papermill imported once); kernels are forked from a zygote
that has imported what the chapters import (``analysis.kernels``).  Signals: workers, the zygote
and Sphinx run in their own sessions and die with the runner (``PR_SET_PDEATHSIG``); kernels die
with their worker or the zygote.  Ctrl-C or SIGTERM kills them all within a second, discards
unfinished chapters and publishes nothing; a second Ctrl-C exits at once.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import kernels, memo
from . import params as _params
from .paths import BUILD_DIR, CONFIG_FILE, DATA_DIR, LOCK_FILE, PACKAGE_DIR, PARAMS_DIR, ROOT, TOC_FILE

DEFAULT_PARAMS = PARAMS_DIR / "default.yml"
KERNEL = "python3"
RUNNER_PARAMS = _params.RUNNER_PARAMS
TABLES_DIR = BUILD_DIR / "tables"  # every table of the published build, as CSV
PROVENANCE_DIR = "_provenance"  # in TABLES_DIR: which corpus made each table (analysis.registry)
WORK_DIR = BUILD_DIR / "work"  # scratch of the running build: one folder per running chapter
LOGS_DIR = BUILD_DIR / "logs"  # each chapter's kernel output of its last run
PROGRESS_EVERY = 20.0  # seconds without a finished chapter before the runner says what is running
MEMO_DIR = BUILD_DIR / "memo"  # results chapters share, within a build and with the next (analysis.memo)
SPHINX_DIR = BUILD_DIR / "sphinx"  # what the last good Sphinx run parsed, reused by the next (run_sphinx)


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


def read_chapter(chapter: Chapter):
    import jupytext

    return jupytext.read(chapter.source)


def declared_parameters(nb, name: str = "chapter") -> dict[str, Any]:
    """Names (and default values, where literal) assigned in the cell tagged ``parameters``."""
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise BuildError(f"{name}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    declared: dict[str, Any] = {}
    for node in ast.parse(cells[0].source).body:
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
def parse_override(text: str) -> tuple[str, Any]:
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


def read_params_file(path: Path) -> dict[str, Any]:
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
    path = Path(params_file) if params_file else DEFAULT_PARAMS
    if not path.is_absolute():
        path = (Path.cwd() / path).resolve()
        if not path.exists() and (ROOT / params_file).exists():
            path = ROOT / params_file
    params = read_params_file(path)
    for text in overrides or []:
        key, value = parse_override(text)
        params[key] = value
    return params


def check_parameters(params: dict[str, Any], declared: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Validate against the schema (analysis/params.py): unknown keys, types and ranges, one line
    per bad parameter.  Returns the values complete and normalised."""
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
    """Make ``corpus_path`` absolute (relative to the working directory the command started in)."""
    out = dict(params)
    for key in ("corpus_path", "website_snapshot"):
        value = out.get(key)
        if isinstance(value, str) and value.strip():
            out[key] = str(Path(value).expanduser().absolute())
    return out


def chapter_parameters(declared: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The parameters one chapter receives: only those it declares (plus ``tables_dir``)."""
    mine = {k: v for k, v in params.items() if k in declared}
    if "tables_dir" in declared:
        mine["tables_dir"] = str(TABLES_DIR)
    return mine


# --------------------------------------------------------------------------- cache records
def _hash_file(h, path: Path, label: str) -> None:
    h.update(label.encode() + b"\0")
    h.update(path.read_bytes())
    h.update(b"\0")


def file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _tree_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")
    )


def tree_digest(folder: Path, skip: frozenset[str] = frozenset()) -> str | None:
    """Digest of every file (path and bytes) under ``folder``, but for top-level files named in
    ``skip``; None when the folder does not exist."""
    if not folder.is_dir():
        return None
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if (p.is_file() or p.is_symlink())
                       and p.relative_to(folder).as_posix() not in skip):
        _hash_file(h, path, path.relative_to(folder).as_posix())
    return h.hexdigest()


def inputs_digest(corpus: str | None = None, website_snapshot: str | None = None) -> str:
    """Digest of everything every chapter depends on besides itself: data/, corpus, website-text
    snapshot, analysis/, lock."""
    h = hashlib.sha256()
    if website_snapshot:
        from .snapshot import snapshot_path

        snap = snapshot_path(website_snapshot)
        if snap.is_file():
            _hash_file(h, snap, "website_snapshot")
        else:
            h.update(f"missing snapshot {snap}".encode())
    for path in _tree_files(DATA_DIR):
        _hash_file(h, path, "data/" + path.relative_to(DATA_DIR).as_posix())
    if corpus:
        corpus_file = Path(corpus)
        try:
            _hash_file(h, corpus_file, "corpus")
        except (OSError, RuntimeError):
            h.update(f"unreadable corpus {corpus}".encode())
    for path in _tree_files(PACKAGE_DIR):
        _hash_file(h, path, "analysis/" + path.relative_to(PACKAGE_DIR).as_posix())
    if LOCK_FILE.exists():
        _hash_file(h, LOCK_FILE, "lock")
    return h.hexdigest()


def code_digest(nb) -> str:
    """What running a chapter depends on in the chapter itself: its notebook metadata and its
    code cells (source and metadata), in order. Its markdown is not part of it: an edit of the
    prose alone is carried into the executed notebook without running it (:func:`update_prose`)."""
    h = hashlib.sha256()
    h.update(json.dumps(nb.metadata, sort_keys=True, default=str).encode())
    for cell in nb.cells:
        if cell.cell_type == "code":
            h.update(b"\0" + json.dumps([cell.source, cell.get("metadata", {})], sort_keys=True,
                                        default=str).encode())
    return h.hexdigest()


_CODE_DIGESTS: dict[tuple, str] = {}  # (path, mtime, size) -> code_digest: each chapter read once


def chapter_code_digest(chapter: Chapter, nb=None) -> str:
    st = chapter.source.stat()
    key = (str(chapter.source), st.st_mtime_ns, st.st_size)
    if key not in _CODE_DIGESTS:
        _CODE_DIGESTS[key] = code_digest(nb if nb is not None else read_chapter(chapter))
    return _CODE_DIGESTS[key]


def cache_key(chapter: Chapter, params: dict[str, Any], shared_digest: str) -> str:
    h = hashlib.sha256()
    h.update(b"code\0" + chapter_code_digest(chapter).encode())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    h.update(shared_digest.encode())
    return h.hexdigest()


def _cache_file(name: str) -> Path:
    return BUILD_DIR / "cache" / f"{name}.json"


def read_record(name: str) -> dict[str, Any]:
    """A cache record; an unreadable or corrupt one reads as empty (so it never matches)."""
    try:
        record = json.loads(_cache_file(name).read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def cached_key(name: str) -> str | None:
    return read_record(name).get("key")


def write_record(name: str, record: dict[str, Any]) -> None:
    """Write a record atomically (a crash leaves the old record or the new one, never half)."""
    path = _cache_file(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def record_key(name: str, key: str) -> None:
    write_record(name, {"key": key})


def forget(name: str) -> None:
    _cache_file(name).unlink(missing_ok=True)


def chapter_is_current(chapter: Chapter, key: str) -> bool:
    """Trust an executed notebook only when its record has this key and the notebook and the
    tables it wrote still have the bytes recorded when it was committed."""
    record = read_record(chapter.name)
    if record.get("key") != key or record.get("notebook") != file_digest(chapter.executed):
        return False
    tables = record.get("tables")
    if not isinstance(tables, dict):
        return False
    return all(file_digest(TABLES_DIR / name) == digest for name, digest in tables.items())


def prose_is_current(chapter: Chapter) -> bool:
    """Whether the executed notebook carries the chapter's present text (markdown included)."""
    return read_record(chapter.name).get("source") == file_digest(chapter.source)


def update_prose(chapter: Chapter) -> bool:
    """Carry an edit of a chapter's markdown into its executed notebook without running it: the
    chapter's present cells, each code cell with the outputs it had (its source is unchanged: the
    cache key holds every code cell), papermill's injected cell after the parameters cell. The
    result is the notebook a new run would give, byte for byte (a run's outputs do not depend on
    the markdown). False when the code cells do not line up (then the chapter runs)."""
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
    clean_notebook(executed)
    tmp = chapter.executed.with_suffix(".ipynb.tmp")
    nbformat.write(executed, tmp)
    with _Blocked():
        os.replace(tmp, chapter.executed)
        record = read_record(chapter.name)
        write_record(chapter.name, {**record, "notebook": file_digest(chapter.executed),
                                    "source": file_digest(chapter.source)})
    return True


# --------------------------------------------------------------------------- executing one chapter
def clean_notebook(nb) -> None:
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


def execute_chapter(chapter: Chapter, params: dict[str, Any], output: Path) -> float:
    """Run one chapter with papermill and write the cleaned notebook atomically to ``output``."""
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
            **kernels.papermill_options(),  # a kernel forked from the build's zygote, if there is one
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
    clean_notebook(result)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".ipynb.tmp")
    nbformat.write(result, tmp)
    os.replace(tmp, output)
    return time.perf_counter() - start


# --------------------------------------------------------------------------- worker processes and signals
def _die_with_parent(sig: int):
    """``preexec_fn`` for a child: Linux sends it ``sig`` when this process dies, even by SIGKILL."""
    parent = os.getpid()

    def preexec() -> None:
        kernels.die_with_parent(sig)  # not Linux: the signal handlers still stop children
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _spawn(cmd: list[str], log: Path, *, env: dict | None = None, sig: int = signal.SIGTERM,
           pass_fds: tuple[int, ...] = (), stdin: int = subprocess.DEVNULL):
    """A child in its own session (a terminal's Ctrl-C reaches only the runner, which stops it)
    that dies with the runner."""
    with open(log, "wb") as fh:
        return subprocess.Popen(cmd, stdin=stdin, stdout=fh, stderr=subprocess.STDOUT,
                                env=env, cwd=ROOT, start_new_session=True, pass_fds=pass_fds,
                                preexec_fn=_die_with_parent(sig))


def _tree(pid: int) -> list:
    import psutil

    try:
        proc = psutil.Process(pid)
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


def _kill(processes: list) -> None:
    """SIGKILL every process given (and, if still alive, every process they started)."""
    import psutil

    for proc in processes:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(processes, timeout=5)


def _kill_children_and_exit(signum, frame) -> None:  # a worker's SIGTERM handler
    import psutil

    _kill(psutil.Process().children(recursive=True))
    os._exit(128 + signum)


class _ForkedWorker:
    """A chapter worker forked from the runner, with the part of ``subprocess.Popen`` the runner
    uses (``pid``, ``poll``, ``wait``, ``returncode``)."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # already reaped (psutil waits for the processes it kills)
                self.returncode = -signal.SIGKILL
            else:
                if pid:
                    self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode


def _fork_worker(job_file: Path, log: Path, env: dict, children: "_Children") -> _ForkedWorker:
    """Run one chapter's job in a child forked from the runner: it starts with papermill and
    jupytext already imported (a new interpreter spent about a second on them per chapter). Like
    :func:`_spawn`'s children it has its own session, dies with the runner and writes to ``log``;
    it does not keep the runner's lock."""
    import papermill  # noqa: F401 - imported once here, inherited by every worker

    die_with_runner = _die_with_parent(signal.SIGTERM)

    def worker() -> int:
        os.setsid()
        die_with_runner()
        signal.signal(signal.SIGINT, signal.default_int_handler)  # not the runner's handlers
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        for fd in children.private_fds:
            os.close(fd)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.environ.clear()
        os.environ.update(env)
        os.chdir(ROOT)
        return _worker_main(str(job_file))

    return _ForkedWorker(kernels.fork_child(worker))


def _worker_main(job_file: str) -> int:
    """One chapter in its own process (forked by :func:`_fork_worker`); the result goes to a file."""
    signal.signal(signal.SIGTERM, _kill_children_and_exit)
    job = json.loads(Path(job_file).read_text())
    chapter = Chapter(job["name"], Path(job["source"]))
    os.environ[kernels.CHAPTER_VAR] = job["source"]  # the zygote serves its kernel once its imports are done
    try:
        result = {"seconds": execute_chapter(chapter, job["params"], Path(job["output"]))}
    except ChapterFailed as exc:
        result = {"error": str(exc)}
    tmp = Path(job["result"] + ".tmp")
    tmp.write_text(json.dumps(result))
    os.replace(tmp, job["result"])
    return 0


class Interrupted(BaseException):
    """SIGINT or SIGTERM reached the runner; the build stops and publishes nothing."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class _Children:
    """The runner's children (chapter workers, Sphinx) and the signals that stop them.

    The first SIGINT/SIGTERM raises :class:`Interrupted` in the runner, which kills every child
    and its descendants (kernels included) and cleans up; a second one during that cleanup kills
    them at once and exits, so it never waits."""

    def __init__(self) -> None:
        self.procs: dict[str, _ForkedWorker] = {}  # chapter workers
        self.helpers: list[subprocess.Popen] = []  # the kernel zygote
        self.standby: subprocess.Popen | None = None  # jupyter-book, importing while the chapters run
        self.private_fds: list[int] = []  # the runner's own (its lock): closed in forked workers
        self.zygote = ""  # the kernel zygote's address (analysis.kernels), once started
        self.stopping = False
        self._previous: dict[int, Any] = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                self._previous[sig] = signal.signal(sig, self._handler)
            except ValueError:  # not the main thread: no handlers, children still die with us
                pass
        return self

    def _handler(self, signum, frame) -> None:
        if self.stopping:  # a second signal: no more waiting
            self.kill_all()
            os._exit(128 + signum)
        self.stopping = True
        raise Interrupted(signum)

    def kill_all(self) -> None:
        children = [*self.procs.values(), *self.helpers, *([self.standby] if self.standby else [])]
        _kill([p for proc in children for p in _tree(proc.pid)])
        for proc in children:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self.procs.clear()
        self.helpers.clear()
        if self.standby is not None:  # it never built: what it printed while importing goes too
            self.standby = None
            SPHINX_LOG_NEW.unlink(missing_ok=True)

    def __exit__(self, exc_type, exc, tb):
        self.stopping = True
        try:
            self.kill_all()
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)
        return False


class _Blocked:
    """Hold SIGINT/SIGTERM while a chapter's notebook, tables and record are committed."""

    SIGNALS = {signal.SIGINT, signal.SIGTERM}

    def __enter__(self):
        signal.pthread_sigmask(signal.SIG_BLOCK, self.SIGNALS)

    def __exit__(self, *exc):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, self.SIGNALS)
        return False


# --------------------------------------------------------------------------- the build folder
class FolderLock:
    """One build per folder: an exclusive ``flock`` on ``_build/build.lock``.

    The kernel releases the lock when the holder exits, however it exits, so a stale lock file
    left by a killed build never blocks the next one."""

    def __init__(self, path: Path):
        self.path = path
        self.fh = None

    def __enter__(self):
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.fh.seek(0)
            holder = self.fh.read().strip() or "another process"
            self.fh.close()
            raise BuildError(f"another build is running in this folder ({holder}); wait for it to "
                             f"finish or stop it, then build again. Lock: {self.path}") from None
        self.fh.seek(0)
        self.fh.truncate()
        self.fh.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        self.fh.flush()
        return self

    def __exit__(self, *exc):
        import fcntl

        self.fh.seek(0)
        self.fh.truncate()
        fcntl.flock(self.fh, fcntl.LOCK_UN)
        self.fh.close()
        return False


def recover() -> list[str]:
    """Undo what an interrupted build left behind (called under the lock): its scratch folders,
    and a site swap cut between its two renames."""
    notes = []
    html, old = BUILD_DIR / "html", BUILD_DIR / "html-old"
    if old.exists():
        if not html.exists():
            os.replace(old, html)
            notes.append("restored the previous site after an interrupted swap")
        else:
            shutil.rmtree(old)
    for leftover in (WORK_DIR, BUILD_DIR / "stage", BUILD_DIR / "site-new"):
        if leftover.exists():
            shutil.rmtree(leftover)
            if leftover == WORK_DIR:
                notes.append("removed the scratch files of an interrupted build")
    SPHINX_LOG_NEW.unlink(missing_ok=True)  # the output of a Sphinx run that was cut short
    return notes


def commit(chapter: Chapter, key: str, notebook: Path, tables: Path) -> None:
    """Move a finished chapter's notebook and tables into place, then write its record: the
    record is the commit point, and it holds the digests the next build checks."""
    with _Blocked():
        forget(chapter.name)
        digests = {}
        TABLES_DIR.mkdir(parents=True, exist_ok=True)
        for csv in sorted(tables.glob("*.csv")) if tables.exists() else []:
            digests[csv.name] = file_digest(csv)
            os.replace(csv, TABLES_DIR / csv.name)
        # which corpus made each table (analysis.registry.record), kept beside the CSVs
        for note in sorted((tables / PROVENANCE_DIR).glob("*.json")) if tables.exists() else []:
            (TABLES_DIR / PROVENANCE_DIR).mkdir(exist_ok=True)
            digests[f"{PROVENANCE_DIR}/{note.name}"] = file_digest(note)
            os.replace(note, TABLES_DIR / PROVENANCE_DIR / note.name)
        chapter.executed.parent.mkdir(parents=True, exist_ok=True)
        os.replace(notebook, chapter.executed)
        write_record(chapter.name, {"key": key, "notebook": file_digest(chapter.executed),
                                    "tables": digests, "source": file_digest(chapter.source)})


# --------------------------------------------------------------------------- the site
def site_digest(book: Book, stamp: dict | None = None) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(stamp or {}, sort_keys=True).encode())  # a new commit re-runs Sphinx only
    for path in [CONFIG_FILE, TOC_FILE, ROOT / "book" / "references.bib", *book.pages]:
        _hash_file(h, path, path.relative_to(ROOT).as_posix())
    for chapter in book.chapters:
        _hash_file(h, chapter.executed, chapter.name)
    # PROVENANCE.csv is written there by add_tables, from the notes and the registry already hashed
    h.update(str(tree_digest(TABLES_DIR, skip=frozenset({"PROVENANCE.csv"}))).encode())
    for rel in ("_static", "_ext", *SHIPPED_FILES):  # staged beside the pages
        src = ROOT / rel
        for path in sorted(p for p in ([src] if src.is_file() else src.rglob("*")) if p.is_file()):
            if "__pycache__" not in path.parts:
                _hash_file(h, path, path.relative_to(ROOT).as_posix())
    return h.hexdigest()


def stage(book: Book, stamp: dict | None = None) -> Path:
    from . import edition

    stage_dir = BUILD_DIR / "stage"
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    (stage_dir / "book").mkdir(parents=True)
    edition.write_stamp(stage_dir, stamp or edition.build_stamp(None, None))
    for path in [CONFIG_FILE, TOC_FILE]:
        shutil.copy2(path, stage_dir / path.name)
    for folder in ("_static", "_ext"):  # the book's CSS, JS and Sphinx extension (reading aids)
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, stage_dir / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "book" / "references.bib", stage_dir / "book" / "references.bib")
    for page in book.pages:
        shutil.copy2(page, stage_dir / "book" / page.name)
    for chapter in book.chapters:
        shutil.copy2(chapter.executed, stage_dir / "book" / f"{chapter.name}.ipynb")
    # files the text names, shipped with the site (linked with {download}`/files/...`)
    for rel in SHIPPED_FILES:
        src = ROOT / rel
        dest = stage_dir / "files" / rel
        if src.is_dir():
            shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        elif src.exists():
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    return stage_dir


#: repository files the book's text names; staged under files/ so that pages can link them
SHIPPED_FILES = ("data", "analysis/dictionaries", "params", "requirements.lock")


_WARNING = re.compile(r"(WARNING|ERROR|CRITICAL)", re.I)


def _wait(proc: subprocess.Popen) -> int:
    """Wait for a child in short steps, so that a signal to the runner acts at once."""
    while True:
        try:
            return proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            continue


SPHINX_KEPT = (".doctrees", "jupyter_execute")  # what a rebuild reuses from the last good Sphinx run
OLD_MTIME = 946684800  # 2000-01-01: the mtime of a staged file Sphinx has already read


def sphinx_env_digest() -> str:
    """Everything besides the pages that shapes how Sphinx reads them: configuration, table of
    contents, the book's Sphinx extensions (``_ext/``, ``analysis/``), the lock file (versions),
    Python and this folder. Kept parses are reused only while it is unchanged."""
    h = hashlib.sha256(f"{sys.version}\0{ROOT}\0".encode())
    for path in [CONFIG_FILE, TOC_FILE, LOCK_FILE, *_tree_files(ROOT / "_ext"), *_tree_files(PACKAGE_DIR)]:
        if path.exists():
            _hash_file(h, path, path.relative_to(ROOT).as_posix())
    return h.hexdigest()


def _settle_mtimes(stage_dir: Path, read: dict[str, str]) -> dict[str, str]:
    """Make a staged file's mtime say whether Sphinx has read these bytes: an old date for a file
    whose digest is in ``read``, now for any other. Sphinx re-reads a page whose source is newer
    than its last reading, so it then re-reads exactly the pages whose bytes changed. Returns the
    digests of the staged files."""
    now = time.time()
    digests = {}
    for path in _tree_files(stage_dir):
        rel = path.relative_to(stage_dir).as_posix()
        digests[rel] = file_digest(path)
        stamp = OLD_MTIME if read.get(rel) == digests[rel] else now
        os.utime(path, (stamp, stamp))
    return digests


def run_sphinx(stage_dir: Path, children: _Children) -> Path:
    """Build the staged book into a temporary folder; return the new html folder.

    The HTML is always written whole, into an empty folder; what Sphinx parsed in the last good
    run (doctrees, notebook outputs) is reused while :func:`sphinx_env_digest` is unchanged, so
    only the pages whose bytes changed are read again. A failed run keeps nothing (its pages are
    read again next time, and their warnings said again)."""
    out = BUILD_DIR / "site-new"
    if out.exists():
        shutil.rmtree(out)
    record, env_digest = read_record("_sphinx"), sphinx_env_digest()
    forget("_sphinx")
    kept = record.get("key") == env_digest and record.get("tree") == tree_digest(SPHINX_DIR)  # untouched
    (out / "_build").mkdir(parents=True)
    if kept:
        for name in SPHINX_KEPT:
            if (SPHINX_DIR / name).is_dir():
                os.replace(SPHINX_DIR / name, out / "_build" / name)
    shutil.rmtree(SPHINX_DIR, ignore_errors=True)
    files = _settle_mtimes(stage_dir, record.get("files", {}) if kept else {})
    args = ["build", str(stage_dir), "--path-output", str(out), "-W", "-n", "--keep-going"]
    proc, children.standby = children.standby, None
    if proc is None or proc.poll() is not None:
        proc = _start_sphinx_standby()
    children.procs["sphinx"] = proc
    if proc.stdin.fileno() in children.private_fds:
        children.private_fds.remove(proc.stdin.fileno())
    try:
        proc.stdin.write((json.dumps(args) + "\n").encode())  # go
        proc.stdin.close()
    except BrokenPipeError:  # it ended meanwhile: its exit code and log say why
        pass
    returncode = _wait(proc)
    del children.procs["sphinx"]
    log_file = BUILD_DIR / "sphinx.log"
    log = re.sub(r"\x1b\[[0-9;]*m", "", SPHINX_LOG_NEW.read_text(errors="replace"))  # no terminal colours
    log_file.write_text(log)
    SPHINX_LOG_NEW.unlink()
    if returncode != 0:
        problems = [ln for ln in log.splitlines() if _WARNING.search(ln) and str(stage_dir) in ln]
        problems = [ln.replace(str(stage_dir) + os.sep, "") for ln in problems] or log.splitlines()[-15:]
        shutil.rmtree(out, ignore_errors=True)
        raise BuildError(
            "jupyter-book failed (warnings are errors); the previous site is unchanged.\n  "
            + "\n  ".join(problems[:30])
            + f"\nFull log: {log_file.relative_to(ROOT)}"
        )
    SPHINX_DIR.mkdir(parents=True)
    for name in SPHINX_KEPT:
        if (out / "_build" / name).is_dir():
            os.replace(out / "_build" / name, SPHINX_DIR / name)
    write_record("_sphinx", {"key": env_digest, "files": files, "tree": tree_digest(SPHINX_DIR)})
    return out / "_build" / "html"


SPHINX_LOG_NEW = BUILD_DIR / "sphinx.log.new"  # the running jupyter-book's output (sphinx.log once it ends)


def _start_sphinx_standby() -> subprocess.Popen:
    """jupyter-book in a process that imports Sphinx and the book's extensions now and builds
    when :func:`run_sphinx` sends it the command (:mod:`analysis.sphinx_standby`). Its output goes
    to :data:`SPHINX_LOG_NEW`, so a build that stops before Sphinx keeps the last ``sphinx.log``."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    cmd = [sys.executable, "-m", "analysis.sphinx_standby"]
    return _spawn(cmd, SPHINX_LOG_NEW, env=env, sig=signal.SIGKILL, stdin=subprocess.PIPE)


def add_tables(new_html: Path) -> None:
    """Copy the chapters' CSV tables into the site (``tables/``) with an index page and
    ``PROVENANCE.csv`` (caption, chapter, corpus of each), both from the table registry."""
    import csv

    from . import registry

    source = TABLES_DIR
    target = new_html / "tables"
    target.mkdir(parents=True, exist_ok=True)
    rows = registry.index_rows(source) if source.exists() else []
    for row in rows:
        shutil.copy2(source / row["file"], target / row["file"])
    for folder in (source, target):
        if folder.exists():
            with open(folder / "PROVENANCE.csv", "w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=["name", "file", "caption", "chapter", "corpus",
                                                        "corpus_file"], lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
    (target / "index.html").write_text(registry.index_html(rows), encoding="utf-8")


def publish(new_html: Path) -> Path:
    """Swap the new site in; the old one stays until the new one is in place (a swap cut short
    is undone by :func:`recover`)."""
    add_tables(new_html)
    html = BUILD_DIR / "html"
    old = BUILD_DIR / "html-old"
    if old.exists():
        shutil.rmtree(old)
    with _Blocked():
        if html.exists():
            os.replace(html, old)
        os.replace(new_html, html)
    shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(BUILD_DIR / "site-new", ignore_errors=True)
    return html


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


def plan(params_file=None, overrides=None, book: Book | None = None):
    book = book or read_toc()
    notebooks = {c.name: read_chapter(c) for c in book.chapters}
    for chapter in book.chapters:
        chapter_code_digest(chapter, notebooks[chapter.name])
    declared = {name: declared_parameters(nb, name) for name, nb in notebooks.items()}
    params = load_parameters(params_file, overrides)
    checked = check_parameters(params, declared)
    # every chapter receives every parameter it declares, checked and complete
    declared_names = {k for names in declared.values() for k in names}
    params = normalise_parameters({k: v for k, v in checked.items() if k in declared_names})
    return book, declared, params


def check_corpus(params: dict[str, Any]) -> None:
    """The corpus check of ``analysis validate``, once, before any chapter starts; and the
    parameters that depend on the corpus (text in ``text_fields``, ``min_df`` within its size).
    Skipped when this corpus and these parameters already passed (recorded in the cache)."""
    if "corpus_path" not in params:
        return
    relevant = {k: params.get(k) for k in ("corpus_path", "website_snapshot", "text_fields", "min_df")}
    key = hashlib.sha256((json.dumps(relevant, sort_keys=True, default=str)
                          + inputs_digest(params.get("corpus_path") or None,
                                          params.get("website_snapshot") or None)).encode()).hexdigest()
    if cached_key("_corpus") == key:
        return
    from . import corpus as _corpus  # pandas and pandera: only when the check runs
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
    record_key("_corpus", key)


def build(params_file=None, overrides=None, jobs: int | None = None, only: list[str] | None = None,
          sphinx: bool = True, book: Book | None = None, pdf_link: bool = False) -> BuildReport:
    """Check everything, then (under the folder lock) run what changed and publish the site.
    ``pdf_link``: the site links the PDF edition (``make publish`` puts it beside the pages)."""
    from . import edition

    book = book or read_toc()
    if only:
        unknown = sorted(set(only) - {c.name for c in book.chapters})
        if unknown:
            raise BuildError(
                f"unknown chapter(s) {', '.join(unknown)}; chapters: {', '.join(c.name for c in book.chapters)}"
            )
    try:
        with FolderLock(BUILD_DIR / "build.lock") as lock, _Children() as children:
            children.private_fds.append(lock.fh.fileno())
            for note in recover():
                _log(note)
            # the zygote's imports overlap reading the chapters and their parameters, the corpus
            # check and the cache lookup; it is stopped at once when no chapter has to run.
            children.zygote = _start_zygote([c for c in book.chapters if not only or c.name in only], children)
            if sphinx:  # Sphinx's imports overlap everything before it; stopped unused if the site is unchanged
                children.standby = _start_sphinx_standby()
                children.private_fds.append(children.standby.stdin.fileno())  # not held by forked workers
            book, declared, params = plan(params_file, overrides, book)
            check_corpus(params)
            stamp = edition.build_stamp(params_file, params.get("corpus_path") or None, pdf_link=pdf_link)
            return _build_locked(book, declared, params, jobs, only, sphinx, children, stamp)
    except OSError as exc:  # a read-only or full disk, a file where a folder should be, ...
        where = exc.filename or BUILD_DIR
        raise BuildError(f"cannot write the build: {where}: {exc.strerror or exc}; the build needs "
                         f"a writable {BUILD_DIR}") from None


def _build_locked(book, declared, params, jobs, only, sphinx, children: _Children,
                  stamp: dict | None = None) -> BuildReport:
    shared = inputs_digest(params.get("corpus_path") or None, params.get("website_snapshot") or None)
    report = BuildReport()
    todo: dict[str, tuple[Chapter, dict, str]] = {}
    for chapter in book.chapters:
        if only and chapter.name not in only:
            continue
        mine = chapter_parameters(declared[chapter.name], params)
        key = cache_key(chapter, mine, shared)
        if chapter_is_current(chapter, key):
            if prose_is_current(chapter):
                report.skipped.append(chapter.name)
                continue
            if update_prose(chapter):
                report.prose_only.append(chapter.name)
                continue
        todo[chapter.name] = (chapter, mine, key)
    TABLES_DIR.mkdir(parents=True, exist_ok=True)
    if report.skipped:
        _log(f"unchanged, not re-run: {', '.join(report.skipped)}")
    if report.prose_only:
        _log(f"only the markdown changed, outputs kept (not re-run): {', '.join(report.prose_only)}")
    if not todo:
        _stop_helpers(children)
    failures = _run_chapters(todo, jobs, report, children) if todo else []
    if failures:
        raise BuildError("\n".join(failures) + "\nThe previous site is unchanged.")
    if not sphinx:
        return report
    missing = [c.name for c in book.chapters if not c.executed.exists()]
    if missing:
        raise BuildError(f"not yet executed: {', '.join(missing)} (run the whole build)")
    digest = site_digest(book, stamp)
    html = BUILD_DIR / "html"
    record = read_record("_site")
    if (html / "index.html").exists() and record.get("key") == digest \
            and record.get("html") == tree_digest(html):
        _log("site unchanged, Sphinx not run")
    else:
        t0 = time.perf_counter()
        _log("jupyter-book build (warnings are errors) ...")
        forget("_site")
        new_html = run_sphinx(stage(book, stamp), children)
        publish(new_html)
        write_record("_site", {"key": digest, "html": tree_digest(html)})
        report.sphinx_ran = True
        _log(f"site built in {time.perf_counter() - t0:.1f} s")
    report.index = html / "index.html"
    return report


def _run_chapters(todo: dict, jobs: int | None, report: BuildReport, children: _Children) -> list[str]:
    """Run chapters in worker processes, at most ``jobs`` at a time; commit each as it finishes."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    LOGS_DIR.mkdir(parents=True, exist_ok=True)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    _log(f"running {len(todo)} chapter(s) on {jobs} worker(s)")
    env = _worker_env()
    env[kernels.ENV_VAR] = children.zygote
    try:
        return _run_queue(todo, jobs, report, children, env)
    finally:
        _stop_helpers(children)
        memo.prune(MEMO_DIR)


def _worker_env() -> dict:
    return dict(os.environ, JUPYTER_RUNTIME_DIR=str(WORK_DIR / "runtime"),  # kernels' connection files
                **{memo.ENV_VAR: str(MEMO_DIR)})


def _stop_helpers(children: _Children) -> None:
    for proc in children.helpers:
        _kill(_tree(proc.pid))
        proc.wait()
    children.helpers.clear()


def _start_zygote(chapters: list[Chapter], children: _Children) -> str:
    """Start the process that imports what these chapters import, once, and forks their kernels
    (``analysis.kernels``); the name workers reach it by."""
    LOGS_DIR.mkdir(parents=True, exist_ok=True)
    env = _worker_env()
    address = f"analysis-kernels-{os.getpid()}-{time.monotonic_ns()}"
    with kernels.listen(address) as listener:
        code = ("import sys, json; from analysis.kernels import serve; "
                "serve(int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3])")
        cmd = [sys.executable, "-c", code, str(listener.fileno()), json.dumps([str(c.source) for c in chapters]),
               str(PACKAGE_DIR)]
        children.helpers.append(_spawn(cmd, LOGS_DIR / "kernels.log", env=env, sig=signal.SIGKILL,
                                       pass_fds=(listener.fileno(),)))
    return address


def _run_queue(todo: dict, jobs: int, report: BuildReport, children: _Children, env: dict) -> list[str]:
    queue = list(todo)
    failures: list[str] = []
    started: dict[str, float] = {}
    last_word = time.monotonic()
    while queue or children.procs:
        while queue and len(children.procs) < jobs:
            name = queue.pop(0)
            chapter, mine, _ = todo[name]
            work = WORK_DIR / name
            (work / "tables").mkdir(parents=True)
            if "tables_dir" in mine:
                mine = {**mine, "tables_dir": str(work / "tables")}
            job = {"name": name, "source": str(chapter.source), "params": mine,
                   "output": str(work / f"{name}.ipynb"), "result": str(work / "result.json")}
            (work / "job.json").write_text(json.dumps(job))
            children.procs[name] = _fork_worker(work / "job.json", LOGS_DIR / f"{name}.log", env, children)
            started[name] = time.monotonic()
        finished = [n for n, p in children.procs.items() if p.poll() is not None]
        if not finished:
            now = time.monotonic()
            if now - last_word >= PROGRESS_EVERY:  # a long chapter is not a hung build: say so
                running = ", ".join(f"{n} ({now - started[n]:.0f} s)" for n in children.procs)
                _log(f"  running {running}; {len(todo) - len(queue) - len(children.procs)} of {len(todo)} done")
                last_word = now
            time.sleep(0.1)
            continue
        last_word = time.monotonic()
        for name in finished:
            proc = children.procs.pop(name)
            chapter, _, key = todo[name]
            work = WORK_DIR / name
            try:
                result = json.loads((work / "result.json").read_text())
            except (OSError, ValueError):
                result = {"error": f"chapter {name}: its worker stopped (exit code {proc.returncode}) "
                                   f"without a result; log: {(LOGS_DIR / f'{name}.log').relative_to(ROOT)}"}
            if "error" in result:
                failures.append(result["error"])
                _log(f"  FAILED  {name}")
            else:
                commit(chapter, key, work / f"{name}.ipynb", work / "tables")
                report.executed.append(name)
                _log(f"  ran     {name:<18} {result['seconds']:6.1f} s")
            shutil.rmtree(work, ignore_errors=True)
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    return failures
