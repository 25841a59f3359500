"""The book runner: papermill for the chapters, jupyter-book for the site, a content-hash cache.

It knows chapters and parameters, never the analysis (DESIGN §5, §8):

1. read ``_toc.yml``; every entry with a ``book/NAME.py`` is a chapter, every ``book/NAME.md`` a page;
2. read each chapter's ``.py`` with jupytext and the names its ``parameters`` cell declares;
3. merge the parameter file with ``-p`` overrides (values parsed as YAML); a key that no chapter
   declares is an error that lists the valid keys;
4. execute each chapter whose cache key changed with papermill into ``_build/executed/``, in
   parallel, passing it only the parameters it declares;
5. stage the executed notebooks with the pages into a fresh ``_build/stage/`` and run
   ``jupyter-book build -W -n --keep-going``; only a clean build replaces ``_build/html``.

The cache key of a chapter is a SHA-256 over its ``.py``, its effective parameters, every file in
``data/``, the corpus file, the ``analysis`` source and the lock file.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import params as _params
from .paths import BUILD_DIR, DATA_DIR, PACKAGE_DIR, PARAMS_DIR, ROOT

LOCK_FILE = ROOT / "requirements.lock"
TOC_FILE = ROOT / "_toc.yml"
CONFIG_FILE = ROOT / "_config.yml"
DEFAULT_PARAMS = PARAMS_DIR / "default.yml"
KERNEL = "python3"
RUNNER_PARAMS = _params.RUNNER_PARAMS


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
    value = out.get("corpus_path")
    if isinstance(value, str) and value.strip():
        out["corpus_path"] = str(Path(value).expanduser().absolute())
    return out


def chapter_parameters(declared: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The parameters one chapter receives: only those it declares (plus ``tables_dir``)."""
    mine = {k: v for k, v in params.items() if k in declared}
    if "tables_dir" in declared:
        mine["tables_dir"] = str(BUILD_DIR / "tables")
    return mine


# --------------------------------------------------------------------------- cache keys
def _hash_file(h, path: Path, label: str) -> None:
    h.update(label.encode() + b"\0")
    h.update(path.read_bytes())
    h.update(b"\0")


def _tree_files(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and not p.name.endswith(".pyc")
    )


def inputs_digest(corpus: str | None = None) -> str:
    """Digest of everything every chapter depends on besides itself: data/, corpus, analysis/, lock."""
    h = hashlib.sha256()
    for path in _tree_files(DATA_DIR):
        _hash_file(h, path, "data/" + path.relative_to(DATA_DIR).as_posix())
    if corpus:
        corpus_file = Path(corpus)
        if corpus_file.is_file():
            _hash_file(h, corpus_file, "corpus")
        else:
            h.update(f"missing corpus {corpus}".encode())
    for path in _tree_files(PACKAGE_DIR):
        _hash_file(h, path, "analysis/" + path.relative_to(PACKAGE_DIR).as_posix())
    if LOCK_FILE.exists():
        _hash_file(h, LOCK_FILE, "lock")
    return h.hexdigest()


def cache_key(chapter: Chapter, params: dict[str, Any], shared_digest: str) -> str:
    h = hashlib.sha256()
    _hash_file(h, chapter.source, "chapter")
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    h.update(shared_digest.encode())
    return h.hexdigest()


def _cache_file(name: str) -> Path:
    return BUILD_DIR / "cache" / f"{name}.json"


def cached_key(name: str) -> str | None:
    try:
        return json.loads(_cache_file(name).read_text())["key"]
    except (OSError, ValueError, KeyError):
        return None


def record_key(name: str, key: str) -> None:
    path = _cache_file(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"key": key}, indent=1) + "\n")


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
        )
    except PapermillExecutionError as exc:
        # papermill's counts include its injected parameters cell; name the cell as the author
        # sees it: its position among the chapter's own code cells, and its first line
        own = [c.source for c in read_chapter(chapter).cells if c.cell_type == "code"]
        number = own.index(exc.source) + 1 if exc.source in own else exc.exec_count
        first_line = next((ln for ln in (exc.source or "").splitlines() if ln.strip()), "")
        raise ChapterFailed(
            f"chapter {chapter.name} ({chapter.source.relative_to(ROOT)}) failed in code cell "
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


def _worker(chapter: Chapter, params: dict[str, Any], output: str) -> tuple[str, float | None, str | None]:
    # kernels inherit this process's stderr and print transport notices there: keep them in a log
    log = BUILD_DIR / "cache" / "kernels.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a") as fh:
        os.dup2(fh.fileno(), 2)
    try:
        return chapter.name, execute_chapter(chapter, params, Path(output)), None
    except ChapterFailed as exc:
        return chapter.name, None, str(exc)


# --------------------------------------------------------------------------- the site
def site_digest(book: Book, stamp: dict | None = None) -> str:
    h = hashlib.sha256()
    h.update(json.dumps(stamp or {}, sort_keys=True).encode())  # a new commit re-runs Sphinx only
    for path in [CONFIG_FILE, TOC_FILE, ROOT / "book" / "references.bib", *book.pages]:
        _hash_file(h, path, path.relative_to(ROOT).as_posix())
    for chapter in book.chapters:
        _hash_file(h, chapter.executed, chapter.name)
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
    shutil.copy2(ROOT / "book" / "references.bib", stage_dir / "book" / "references.bib")
    for page in book.pages:
        shutil.copy2(page, stage_dir / "book" / page.name)
    for chapter in book.chapters:
        shutil.copy2(chapter.executed, stage_dir / "book" / f"{chapter.name}.ipynb")
    return stage_dir


_WARNING = re.compile(r"(WARNING|ERROR|CRITICAL)", re.I)


def run_sphinx(stage_dir: Path) -> Path:
    """Build the staged book into a temporary folder; return the new html folder."""
    out = BUILD_DIR / "site-new"
    if out.exists():
        shutil.rmtree(out)
    cmd = [
        sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(stage_dir),
        "--path-output", str(out), "-W", "-n", "--keep-going",
    ]
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    log = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)  # no terminal colours
    (BUILD_DIR / "sphinx.log").write_text(log)
    if proc.returncode != 0:
        problems = [ln for ln in log.splitlines() if _WARNING.search(ln) and str(stage_dir) in ln]
        problems = [ln.replace(str(stage_dir) + os.sep, "") for ln in problems] or log.splitlines()[-15:]
        shutil.rmtree(out, ignore_errors=True)
        raise BuildError(
            "jupyter-book failed (warnings are errors); the previous site is unchanged.\n  "
            + "\n  ".join(problems[:30])
            + f"\nFull log: {(BUILD_DIR / 'sphinx.log').relative_to(ROOT)}"
        )
    return out / "_build" / "html"


def add_tables(new_html: Path) -> None:
    """Copy the chapters' CSV tables into the site (``tables/``) with a plain index page."""
    import html as _html

    source = BUILD_DIR / "tables"
    target = new_html / "tables"
    target.mkdir(parents=True, exist_ok=True)
    names = sorted(p.name for p in source.glob("*.csv")) if source.exists() else []
    for name in names:
        shutil.copy2(source / name, target / name)
    items = "\n".join(f'<li><a href="{_html.escape(n)}">{_html.escape(n)}</a></li>' for n in names)
    (target / "index.html").write_text(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Tables of this build</title></head>"
        f"<body><h1>Tables of this build (CSV)</h1><ul>\n{items}\n</ul></body></html>\n", encoding="utf-8")


def publish(new_html: Path) -> Path:
    """Swap the new site in; the old one stays until the new one is in place."""
    add_tables(new_html)
    html = BUILD_DIR / "html"
    old = BUILD_DIR / "html-old"
    if old.exists():
        shutil.rmtree(old)
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
    sphinx_ran: bool = False
    index: Path | None = None


def _log(msg: str) -> None:
    print(msg, flush=True)


def plan(params_file=None, overrides=None, book: Book | None = None):
    book = book or read_toc()
    notebooks = {c.name: read_chapter(c) for c in book.chapters}
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
    from . import corpus as _corpus

    if "corpus_path" not in params:
        return
    relevant = {k: params.get(k) for k in ("corpus_path", "text_fields", "min_df")}
    key = hashlib.sha256((json.dumps(relevant, sort_keys=True, default=str)
                          + inputs_digest(params.get("corpus_path") or None)).encode()).hexdigest()
    if cached_key("_corpus") == key:
        return
    try:
        data = _corpus.load(params.get("corpus_path") or None)
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
    from tqdm import tqdm

    book, declared, params = plan(params_file, overrides, book)
    check_corpus(params)
    if only:
        unknown = sorted(set(only) - {c.name for c in book.chapters})
        if unknown:
            raise BuildError(
                f"unknown chapter(s) {', '.join(unknown)}; chapters: {', '.join(c.name for c in book.chapters)}"
            )
    shared = inputs_digest(params.get("corpus_path") or None)
    report = BuildReport()
    todo: dict[str, tuple[Chapter, dict, str]] = {}
    for chapter in book.chapters:
        if only and chapter.name not in only:
            continue
        mine = chapter_parameters(declared[chapter.name], params)
        key = cache_key(chapter, mine, shared)
        if chapter.executed.exists() and cached_key(chapter.name) == key:
            report.skipped.append(chapter.name)
        else:
            todo[chapter.name] = (chapter, mine, key)
    (BUILD_DIR / "tables").mkdir(parents=True, exist_ok=True)
    if report.skipped:
        _log(f"unchanged, not re-run: {', '.join(report.skipped)}")
    failures: list[str] = []
    if todo:
        jobs = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
        _log(f"running {len(todo)} chapter(s) on {jobs} worker(s)")
        bar = tqdm(total=len(todo), desc="chapters", unit="ch", file=sys.stdout, leave=False,
                   disable=not sys.stdout.isatty())
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [
                pool.submit(_worker, chapter, mine, str(chapter.executed))
                for chapter, mine, _ in todo.values()
            ]
            for future in as_completed(futures):
                name, seconds, error = future.result()
                if error:
                    failures.append(error)
                    bar.write(f"  FAILED  {name}", file=sys.stdout)
                else:
                    record_key(name, todo[name][2])
                    report.executed.append(name)
                    bar.write(f"  ran     {name:<18} {seconds:6.1f} s", file=sys.stdout)
                bar.update(1)
        bar.close()
    if failures:
        raise BuildError("\n".join(failures) + "\nThe previous site is unchanged.")
    if not sphinx:
        return report
    missing = [c.name for c in book.chapters if not c.executed.exists()]
    if missing:
        raise BuildError(f"not yet executed: {', '.join(missing)} (run the whole build)")
    from . import edition

    stamp = edition.build_stamp(params_file, params.get("corpus_path") or None, pdf_link=pdf_link)
    digest = site_digest(book, stamp)
    html_index = BUILD_DIR / "html" / "index.html"
    if html_index.exists() and cached_key("_site") == digest:
        _log("site unchanged, Sphinx not run")
    else:
        t0 = time.perf_counter()
        _log("jupyter-book build (warnings are errors) ...")
        new_html = run_sphinx(stage(book, stamp))
        publish(new_html)
        record_key("_site", digest)
        report.sphinx_ran = True
        _log(f"site built in {time.perf_counter() - t0:.1f} s")
    report.index = html_index
    return report
