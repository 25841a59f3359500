"""The site: stage the book, run jupyter-book on it, publish the result whole.

* :func:`stage` keeps ``_build/stage/`` in step with the book: the configuration, the pages, the
  executed chapters and the files the text links. A file is rewritten only when its bytes
  changed, so its modification time tells Sphinx which pages to read again.
* :func:`run_sphinx` runs Sphinx (``python -m sphinx -W -n --keep-going``, in a child process) on
  the stage with the ``conf.py`` that ``jupyter-book config sphinx`` makes of ``_config.yml``
  (:func:`sphinx_conf`; the site is byte for byte what ``jupyter-book build`` writes, without its
  command line's half-second start), into ``_build/sphinx/``, which it keeps between builds: Sphinx then reads
  and writes only the pages that changed. Such a site is the one a fresh build writes but for
  two marks of Sphinx's incremental mode: a rewritten page links myst-nb's stylesheet with a
  cache-busting ``?v=`` suffix (the file exists by then), and the search index keeps a word no
  page holds any more as an empty entry. The kept state is dropped when the environment
  (:func:`analysis.build.inputs.environment_digest`), ``_ext/`` or the configuration changed, and after
  any failed run (whose warnings must be said again next time).
* :func:`publish` copies the new HTML, with the tables, beside the old site and swaps it in; the
  old one stays until the new one is complete (a swap cut short is undone by :func:`recover`).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from analysis.build import inputs, processes
from analysis.paths import BUILD_DIR, CONFIG_FILE, ROOT, TOC_FILE
from analysis.build.edition import RO_CRATE_FILE
from analysis.build.publication import PDF_NAME, STAMP_FILE
from analysis.present import catalogue

STAGE_DIR = BUILD_DIR / "stage"  # the book as Sphinx reads it (kept: make pdf builds from it)
SPHINX_DIR = BUILD_DIR / "sphinx"  # jupyter-book's output folder, kept between builds
HTML_DIR = BUILD_DIR / "html"  # the published site
TABLES_DIR = BUILD_DIR / "tables"  # every table of the published build, as CSV
SPHINX_LOG = BUILD_DIR / "sphinx.log"
#: repository files the book's text names; staged under files/ so that pages can link them
SHIPPED_FILES = ("data", "analysis/dictionaries", "params", "requirements.lock")
_WARNING = re.compile(r"(WARNING|ERROR|CRITICAL)", re.I)


class SiteError(RuntimeError):
    """Sphinx failed; the message names the problems (the previous site is unchanged)."""


def _staged_files(book, stamp: dict, conf: bytes) -> dict[str, Path | bytes]:
    """What the stage holds: its relative path → the file it is copied from (or its bytes)."""
    import json

    files: dict[str, Path | bytes] = {
        CONFIG_FILE.name: CONFIG_FILE, TOC_FILE.name: TOC_FILE, "conf.py": conf,
        "book/references.bib": ROOT / "book" / "references.bib",
    }

    files[STAMP_FILE] = (json.dumps(stamp, indent=1, sort_keys=True) + "\n").encode()
    for folder in ("_static", "_ext"):  # the book's CSS, JS and Sphinx extension
        for path in inputs.tree_files(ROOT / folder):
            files[path.relative_to(ROOT).as_posix()] = path
    for page in book.pages:
        files[f"book/{page.name}"] = page
    for chapter in book.chapters:
        files[f"book/{chapter.name}.ipynb"] = chapter.executed
    for rel in SHIPPED_FILES:  # linked with {download}`/files/...`
        src = ROOT / rel
        for path in ([src] if src.is_file() else inputs.tree_files(src)):
            if not any(part.startswith(".") for part in path.relative_to(ROOT).parts):
                files[f"files/{path.relative_to(ROOT).as_posix()}"] = path
    return files


def stage(book, stamp: dict, conf: bytes) -> Path:
    """Bring :data:`STAGE_DIR` in step with the book, touching only files whose bytes changed.

    Parameters
    ----------
    book : analysis.build.runner.Book
        The book: its pages and its chapters' executed notebooks are staged.
    stamp : dict
        The build stamp (:func:`analysis.build.publication.build_stamp`), written as :data:`STAMP_FILE`.
    conf : bytes
        The ``conf.py`` to stage (:func:`sphinx_conf`).

    Returns
    -------
    pathlib.Path
        :data:`STAGE_DIR`; files it held that the book no longer has are deleted.
    """
    wanted = _staged_files(book, stamp, conf)
    STAGE_DIR.mkdir(parents=True, exist_ok=True)
    for path in inputs.tree_files(STAGE_DIR):
        if path.relative_to(STAGE_DIR).as_posix() not in wanted:
            path.unlink()
    for rel, source in wanted.items():
        dest = STAGE_DIR / rel
        data = source if isinstance(source, bytes) else source.read_bytes()
        if dest.is_file() and dest.stat().st_size == len(data) and dest.read_bytes() == data:
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(dest.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
    return STAGE_DIR


def _sphinx_key() -> str:
    """What decides whether Sphinx's kept state can be reused: the environment, the book's
    extension and stylesheets, the configuration and the table of contents."""
    return inputs.key(inputs.environment_digest(), inputs.tree_digest(ROOT / "_ext"),
                      inputs.file_digest(CONFIG_FILE), inputs.file_digest(TOC_FILE), str(ROOT))


def jupyter_book_command(source: Path, output: Path, builder: str = "html") -> list[str]:
    """``jupyter-book build`` through its command-line entry point, with warnings as errors.

    Parameters
    ----------
    source : pathlib.Path
        The book's folder.
    output : pathlib.Path
        The folder jupyter-book writes its ``_build/`` into.
    builder : str
        The Sphinx builder.

    Returns
    -------
    list of str
        The command, run with this interpreter.
    """
    return [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build", str(source),
            "--builder", builder, "--path-output", str(output), "-W", "-n", "--keep-going"]


def sphinx_conf(record: dict) -> tuple[bytes, dict]:
    """The ``conf.py`` that ``jupyter-book config sphinx`` writes for ``_config.yml``, ``_toc.yml``
    and ``_static/`` (whose stylesheets and scripts it lists): jupyter-book's documented way to run
    Sphinx on a book. Made again only when they or the environment changed.

    Parameters
    ----------
    record : dict
        The record of the last call (``key`` and ``conf``); empty when there is none.

    Returns
    -------
    conf : bytes
        The ``conf.py``.
    record : dict
        The record to keep for the next call.

    Raises
    ------
    SiteError
        If ``jupyter-book config sphinx`` fails or writes no ``conf.py``.
    """
    import tempfile

    static = ROOT / "_static"
    key = inputs.key(inputs.environment_digest(), inputs.file_digest(CONFIG_FILE), inputs.file_digest(TOC_FILE),
                     inputs.tree_digest(static))
    if record.get("key") == key and isinstance(record.get("conf"), str):
        return record["conf"].encode(), record
    with tempfile.TemporaryDirectory(prefix="jb-config-") as tmp:
        for path in (CONFIG_FILE, TOC_FILE):
            shutil.copy2(path, Path(tmp) / path.name)
        if static.is_dir():
            shutil.copytree(static, Path(tmp) / static.name)
        cmd = [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "config", "sphinx", tmp]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
        conf = Path(tmp) / "conf.py"
        if proc.returncode != 0 or not conf.exists():
            raise SiteError(f"jupyter-book could not translate {CONFIG_FILE.name} into Sphinx's configuration:\n  "
                            + "\n  ".join((proc.stdout + proc.stderr).splitlines()[-15:]))
        text = conf.read_text(encoding="utf-8")
    return text.encode(), {"key": key, "conf": text}


def sphinx_command(source: Path, output: Path, builder: str = "html") -> list[str]:
    """Sphinx's own command line on a staged book (with its ``conf.py``), warnings as errors;
    the pages go to ``output/builder``, what Sphinx parsed to ``output/doctrees``.

    Parameters
    ----------
    source : pathlib.Path
        The staged book (with its ``conf.py``).
    output : pathlib.Path
        Sphinx's output folder.
    builder : str
        The Sphinx builder (``html``, ``singlehtml``, ...).

    Returns
    -------
    list of str
        The command, ``python -m sphinx`` with this interpreter.
    """
    return [sys.executable, "-m", "sphinx", "-b", builder, str(source), str(output / builder),
            "-d", str(output / "doctrees"), "-W", "-n", "--keep-going"]


def sphinx_env(source: Path) -> dict[str, str]:
    """The environment Sphinx runs in: fixed hash seed, and the book's local extensions
    (``sphinx.local_extensions`` of ``_config.yml``, folders relative to the book) importable.

    Parameters
    ----------
    source : pathlib.Path
        The book's folder, which the extensions' folders are relative to.

    Returns
    -------
    dict of str to str
        This process's environment with ``PYTHONHASHSEED=0`` and the extensions' folders put
        before any ``PYTHONPATH``.
    """
    local = ((_yaml_config().get("sphinx") or {}).get("local_extensions") or {}).values()
    path = [str((source / folder).resolve()) for folder in dict.fromkeys(local)]
    if os.environ.get("PYTHONPATH"):
        path.append(os.environ["PYTHONPATH"])
    return dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=os.pathsep.join(path))


SPHINX_LOG_NEW = BUILD_DIR / "sphinx.log.new"  # the running Sphinx's output (sphinx.log once it ends)
#: the modules the last Sphinx run imported, which the next one imports while the chapters run
SPHINX_MODULES = BUILD_DIR / "cache" / "_sphinx_modules.json"


def standby(conf_record: dict) -> subprocess.Popen:
    """Start Sphinx now, importing itself and the extensions of the last build's ``conf.py``
    (:mod:`analysis.build.sphinx_ready`) while the chapters run; :func:`run_sphinx` hands it the build.
    The book's local extensions are left to the build, which imports the staged copy.

    Parameters
    ----------
    conf_record : dict
        The record of :func:`sphinx_conf` (its ``conf`` names the extensions); empty: none.

    Returns
    -------
    subprocess.Popen
        The waiting process (:mod:`analysis.build.sphinx_ready`), its standard input a pipe.
    """
    extensions: list[str] = []
    conf = conf_record.get("conf")
    if isinstance(conf, str):
        namespace: dict = {}
        try:
            exec(compile(conf, "conf.py", "exec"), namespace)  # jupyter-book's generated settings
        except Exception:  # noqa: BLE001 - then nothing is imported ahead; the build reports it
            namespace = {}
        local = set(((_yaml_config().get("sphinx") or {}).get("local_extensions") or {}))
        extensions = [e for e in namespace.get("extensions", []) if isinstance(e, str) and e not in local]
        if isinstance(namespace.get("html_theme"), str):
            extensions.append(namespace["html_theme"])
    SPHINX_MODULES.parent.mkdir(parents=True, exist_ok=True)
    return processes.spawn([sys.executable, "-m", "analysis.build.sphinx_ready", str(SPHINX_MODULES), *extensions],
                           SPHINX_LOG_NEW,
                           env=sphinx_env(STAGE_DIR), cwd=ROOT, stdin=subprocess.PIPE)


def _yaml_config() -> dict:
    import yaml

    return yaml.safe_load(CONFIG_FILE.read_text(encoding="utf-8")) or {}


def stop_standby(children: processes.ChildProcesses) -> None:
    """The site is unchanged: the waiting Sphinx ends without building, its output goes.

    Parameters
    ----------
    children : processes.ChildProcesses
        The runner's children; their ``sphinx`` entry, if any, is killed and removed.
    """
    proc = children.procs.pop("sphinx", None)
    if proc is not None:
        processes.kill(processes.tree(proc.pid))  # no need to wait for its imports
        proc.wait()
        proc.stdin.close()
        SPHINX_LOG_NEW.unlink(missing_ok=True)


def run_sphinx(children: processes.ChildProcesses, record: dict) -> tuple[Path, dict]:
    """Build the stage into :data:`SPHINX_DIR` with the waiting Sphinx (started anew if there is
    none, or it ended).

    Parameters
    ----------
    children : processes.ChildProcesses
        The runner's children, holding the waiting Sphinx as ``sphinx``.
    record : dict
        The record of the last run; Sphinx's kept state is dropped when it does not match.

    Returns
    -------
    html : pathlib.Path
        The built HTML folder.
    record : dict
        The record to keep for the next run.

    Raises
    ------
    SiteError
        If Sphinx fails (a warning included); the message lists the problems.
    """
    key = _sphinx_key()
    if record.get("key") != key or record.get("tree") != inputs.tree_digest(SPHINX_DIR):
        shutil.rmtree(SPHINX_DIR, ignore_errors=True)  # another environment, or touched since
    SPHINX_DIR.mkdir(parents=True, exist_ok=True)
    new_log = SPHINX_LOG_NEW
    proc = children.procs.get("sphinx")
    if proc is None or proc.poll() is not None:
        proc = children.procs["sphinx"] = standby({})
    try:
        proc.stdin.write((json.dumps(sphinx_command(STAGE_DIR, SPHINX_DIR)[3:]) + "\n").encode())
        proc.stdin.close()
    except BrokenPipeError:  # it ended meanwhile: its exit code and log say why
        pass
    returncode = _wait(children.procs["sphinx"], children)
    del children.procs["sphinx"]
    log = re.sub(r"\x1b\[[0-9;]*m", "", new_log.read_text(errors="replace"))  # no terminal colours
    SPHINX_LOG.write_text(log)
    new_log.unlink()
    if returncode != 0:
        shutil.rmtree(SPHINX_DIR, ignore_errors=True)  # its warnings must be said again next time
        problems = [ln for ln in log.splitlines() if _WARNING.search(ln) and str(STAGE_DIR) in ln]
        problems = [ln.replace(str(STAGE_DIR) + os.sep, "") for ln in problems] or log.splitlines()[-15:]
        raise SiteError("Sphinx failed (warnings are errors); the previous site is unchanged.\n  "
                        + "\n  ".join(problems[:30]) + f"\nFull log: {SPHINX_LOG.relative_to(ROOT)}")
    return SPHINX_DIR / "html", {"key": key, "tree": inputs.tree_digest(SPHINX_DIR)}


def _wait(proc: subprocess.Popen, children: processes.ChildProcesses) -> int:
    """Wait for a child in short steps, so that a signal to the runner acts at once."""
    while True:
        try:
            return proc.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            children.remember()


def _add_tables(new_html: Path) -> None:
    """Copy the chapters' CSV tables into the site (``tables/``) with an index page and
    ``PROVENANCE.csv`` (caption, chapter, corpus of each), both from the table registry."""
    target = new_html / "tables"
    target.mkdir(parents=True, exist_ok=True)
    rows = catalogue.index_rows(TABLES_DIR) if TABLES_DIR.exists() else []
    for row in rows:
        shutil.copy2(TABLES_DIR / row["file"], target / row["file"])
    for folder in (TABLES_DIR, target):
        if folder.exists():
            with open(folder / "PROVENANCE.csv", "w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=["name", "file", "caption", "chapter", "corpus",
                                                        "corpus_file"], lineterminator="\n")
                writer.writeheader()
                writer.writerows(rows)
    (target / "index.html").write_text(catalogue.index_html(rows), encoding="utf-8")


def publish(built_html: Path, children: processes.ChildProcesses) -> Path:
    """Copy the built site and the tables next to the published one, then swap it in.

    Parameters
    ----------
    built_html : pathlib.Path
        The HTML Sphinx built.
    children : processes.ChildProcesses
        The runner's children (a first signal waits until the swap is done).

    Returns
    -------
    pathlib.Path
        :data:`HTML_DIR`.
    """
    new = BUILD_DIR / "site-new"
    old = BUILD_DIR / "html-old"
    for leftover in (new, old):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.copytree(built_html, new)
    _add_tables(new)
    with children.critical():
        if HTML_DIR.exists():
            os.replace(HTML_DIR, old)
        os.replace(new, HTML_DIR)
    shutil.rmtree(old, ignore_errors=True)
    return HTML_DIR


def html_digest() -> str | None:
    """The published site's digest (the PDF and RO-Crate that ``make publish`` adds left out).

    Returns
    -------
    str or None
        The digest of :data:`HTML_DIR`, or None when there is no site.
    """
    return inputs.tree_digest(HTML_DIR, skip=frozenset({PDF_NAME, RO_CRATE_FILE}))


def recover() -> list[str]:
    """Undo what an interrupted build left behind: a site swap cut between its two renames,
    a half-copied site, Sphinx's output of a run that was cut short.

    Returns
    -------
    list of str
        A note if the previous site was restored; else empty.
    """
    notes = []
    old = BUILD_DIR / "html-old"
    if old.exists():
        if not HTML_DIR.exists():
            os.replace(old, HTML_DIR)
            notes.append("restored the previous site after an interrupted swap")
        else:
            shutil.rmtree(old)
    shutil.rmtree(BUILD_DIR / "site-new", ignore_errors=True)
    SPHINX_LOG_NEW.unlink(missing_ok=True)
    return notes

