"""What a result depends on: the one definition the runner, the memo and the site share.

A result (an executed chapter, the corpus check, a shared computation of :mod:`analysis.build.shared_results`,
the site) depends on two things:

* its **environment**, :func:`environment_digest`: the Python version and platform, the lock
  file, and every file of the ``analysis`` package (its code, dictionaries and resources). Any
  change re-runs everything that depends on it.
* the **files it read**. While a chapter's kernel runs, an audit hook (:pep:`578`) sees every
  ``open`` and directory listing and writes the paths to a log (:func:`install_recorder`, switched
  on by :data:`LOG_VAR`); the runner then stores each file's SHA-256 (:func:`digests`). A file
  that did not exist when it was looked for is recorded as missing, so creating it later counts
  as a change. Only files under the repository (outside ``_build/``, the package, ``.git`` and
  virtual environments) or under a folder a parameter names (:data:`ROOTS_VAR`, for a corpus
  or website-text snapshot outside the repository) are recorded: the Python installation is
  covered by the lock file and the interpreter version.

A result is current when its environment and its own key (its code and parameters) are the
ones recorded, and every recorded file still has its recorded digest (:func:`changed`).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from analysis.paths import BUILD_DIR, LOCK_FILE, PACKAGE_DIR, ROOT

FORMAT = 2  # version of what the runner keeps in _build/; an older or unknown one is discarded
LOG_VAR = "ANALYSIS_READS_LOG"  # file the recorder appends the paths it sees to, one per line
ROOTS_VAR = "ANALYSIS_READS_ROOTS"  # further folders whose files count as inputs (os.pathsep-separated)
MISSING = "missing"  # the digest of a path that did not exist
_SKIPPED_PARTS = frozenset({".git", ".venv", "venv", "__pycache__", "node_modules", ".pytest_cache"})


# --------------------------------------------------------------------------- digests
def file_digest(path: Path) -> str | None:
    """SHA-256 of a file's bytes; None when it cannot be read.

    Parameters
    ----------
    path : pathlib.Path
        The file.

    Returns
    -------
    str or None
        The hex digest, or None if opening or reading raised :class:`OSError`.
    """
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError:
        return None


def tree_files(folder: Path) -> list[Path]:
    """Every file under ``folder``, sorted, without caches of Python's.

    Parameters
    ----------
    folder : pathlib.Path
        The folder to walk, recursively.

    Returns
    -------
    list of pathlib.Path
        The files, sorted, but those in ``__pycache__`` and ``.pyc`` files; empty when
        ``folder`` is not a directory.
    """
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def tree_digest(folder: Path, skip: frozenset[str] = frozenset()) -> str | None:
    """Digest of every file under ``folder`` (relative path and bytes), but for those whose
    relative path is in ``skip``; None when the folder does not exist.

    Parameters
    ----------
    folder : pathlib.Path
        The folder, walked as :func:`tree_files` does.
    skip : frozenset of str
        Relative POSIX paths left out of the digest.

    Returns
    -------
    str or None
        The SHA-256 hex digest, or None if ``folder`` is not a directory.
    """
    if not folder.is_dir():
        return None
    h = hashlib.sha256()
    for path in tree_files(folder):
        rel = path.relative_to(folder).as_posix()
        if rel not in skip:
            h.update(f"{rel}\0{file_digest(path)}\0".encode())
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def environment_digest() -> str:
    """The Python version and platform, the lock file and every file of the ``analysis`` package.

    Returns
    -------
    str
        A SHA-256 hex digest over those (and :data:`FORMAT`), computed once per process.
    """
    h = hashlib.sha256(f"{sys.version}\0{sys.platform}\0format {FORMAT}\0".encode())
    h.update(f"lock\0{file_digest(LOCK_FILE)}\0".encode())
    h.update(f"analysis\0{tree_digest(PACKAGE_DIR)}\0".encode())
    return h.hexdigest()


def key(*parts: object) -> str:
    """SHA-256 over parts given as text (``repr`` of anything else, so give plain data).

    Parameters
    ----------
    *parts : object
        The parts, in order: strings as they are, anything else by its ``repr``.

    Returns
    -------
    str
        The hex digest.
    """
    h = hashlib.sha256()
    for part in parts:
        h.update((part if isinstance(part, str) else repr(part)).encode() + b"\0")
    return h.hexdigest()


def shown(path: str | Path) -> str:
    """How a recorded path is stored: relative to the repository (POSIX) when inside it.

    Parameters
    ----------
    path : str or pathlib.Path
        The path; an absolute one inside the repository is made relative.

    Returns
    -------
    str
        The POSIX path relative to the repository root, or the path unchanged outside it.
    """
    p = Path(path)
    try:
        return p.relative_to(ROOT).as_posix()
    except ValueError:
        return str(p)


def _absolute(stored: str) -> Path:
    p = Path(stored)
    return p if p.is_absolute() else ROOT / p


def _digest_of(stored: str) -> str:
    """The digest of a recorded path now: a file's SHA-256, a folder's sorted listing, or
    :data:`MISSING`."""
    path = _absolute(stored)
    if path.is_dir():
        return "dir:" + key(*sorted(os.listdir(path)))
    return file_digest(path) or MISSING


def digests(paths: Iterable[str]) -> dict[str, str]:
    """Recorded paths (as :func:`shown` gives them) with their digests now.

    Parameters
    ----------
    paths : iterable of str
        The recorded paths; repeats count once.

    Returns
    -------
    dict of str to str
        Path -> its digest now, sorted by path: a file's SHA-256, a folder's listing
        (``dir:`` and a digest), or :data:`MISSING`.
    """
    return {p: _digest_of(p) for p in sorted(set(paths))}


def changed(recorded: dict[str, str]) -> list[str]:
    """The recorded paths whose digest is no longer the recorded one.

    Parameters
    ----------
    recorded : dict of str to str
        Path -> digest, as :func:`digests` gave them.

    Returns
    -------
    list of str
        The paths whose digest now differs, sorted.
    """
    return [p for p, d in sorted(recorded.items()) if _digest_of(p) != d]


# --------------------------------------------------------------------------- recording reads
_captures: list[set[str]] = []  # open capture() blocks of this process, innermost last
_seen: set[str] = set()
_log_file = None
_roots: tuple[str, ...] = ()  # folders whose files are inputs (each ending in a separator)
_root_files: frozenset[str] = frozenset()  # single files that are inputs (a corpus outside the repository)
_excluded: tuple[str, ...] = ()


def counts(path: str) -> bool:
    """Whether an opened path is an input worth recording (see the module's docstring). The
    entries of the import path are not: the import system and ``importlib.metadata`` list and
    probe them whenever a module or a package's metadata is looked up.

    Parameters
    ----------
    path : str
        An absolute path.

    Returns
    -------
    bool
        True for a file a parameter names, or a path under a recorded root that is outside
        ``_build/`` and the package, not an import-path entry and not in a skipped folder
        (``.git``, virtual environments, caches).
    """
    if path in _root_files:
        return True
    if not path.startswith(_roots) or path.startswith(_excluded) or path == str(PACKAGE_DIR):
        return False
    if path in {os.path.abspath(entry) for entry in sys.path if isinstance(entry, str)}:
        return False
    return not _SKIPPED_PARTS.intersection(Path(path).parts)


def _record(raw) -> None:
    if isinstance(raw, int):  # a file descriptor: its file was recorded when opened
        return
    path = os.path.abspath(os.fsdecode(raw))
    if path in _seen or not counts(path):
        return
    _seen.add(path)
    stored = shown(path)
    for capture in _captures:
        capture.add(stored)
    if _log_file is not None:
        _log_file.write(stored + "\n")
        _log_file.flush()


def _hook(event: str, args: tuple) -> None:
    if event == "open":
        if args[0] is not None and not any(c in (args[1] or "r") for c in "wax+"):
            _record(args[0])
    elif event in ("os.listdir", "os.scandir", "glob.glob"):
        if args and args[0] not in (None, ""):
            _record(args[0])


_installed = False


def install_recorder(log: str | None = None, roots: str | None = None) -> None:
    """Record the inputs this process reads from now on: into the file named by :data:`LOG_VAR`
    (appended, one path per line) and into any open :func:`capture` block. Idempotent; an audit
    hook cannot be removed, so call it only in a process that runs a chapter or a build.

    Parameters
    ----------
    log : str, optional
        The log file to append to; None reads :data:`LOG_VAR` (empty: no log).
    roots : str, optional
        Further folders or files whose reads count, :data:`os.pathsep`-separated; None reads
        :data:`ROOTS_VAR`.
    """
    global _installed, _log_file, _roots, _root_files, _excluded
    if _installed and log is None and roots is None:
        return  # already recording as asked when it was installed
    log = log if log is not None else os.environ.get(LOG_VAR, "")
    if log and _log_file is None:
        _log_file = open(log, "a", encoding="utf-8")  # noqa: SIM115 - kept open for the process
    extra = [r for r in (roots if roots is not None else os.environ.get(ROOTS_VAR, "")).split(os.pathsep) if r]
    resolved = [os.path.realpath(r) for r in [str(ROOT), *extra]]  # never raises (a symlink loop stays)
    _roots = tuple(os.path.join(r, "") for r in resolved if not os.path.isfile(r))
    _root_files = frozenset(r for r in resolved if os.path.isfile(r))
    _excluded = tuple(os.path.join(str(p), "") for p in (BUILD_DIR, PACKAGE_DIR))
    if not _installed:
        sys.addaudithook(_hook)
        _installed = True


@contextlib.contextmanager
def capture() -> Iterator[set[str]]:
    """Collect the inputs read inside the block (the recorder must be installed to see any).

    Yields
    ------
    set of str
        The paths read inside the block, as :func:`shown` gives them; filled as the block runs.
    """
    found: set[str] = set()
    _captures.append(found)
    before = set(_seen)
    _seen.clear()  # a path already logged is still an input of this block
    try:
        yield found
    finally:
        # by identity: a nested block's set may equal this one's (list.remove would take the outer)
        del _captures[next(i for i, c in enumerate(_captures) if c is found)]
        _seen.update(before)


def note(paths: Iterable[str]) -> None:
    """Count paths as read now (a shared result read back counts the inputs it was made from).

    Parameters
    ----------
    paths : iterable of str
        Recorded paths, as :func:`shown` gives them; each is recorded as if it were opened.
    """
    for stored in paths:
        _record(str(_absolute(stored)))


def roots_for(params: dict) -> str:
    """:data:`ROOTS_VAR` for these parameters: every path a parameter names outside the
    repository (a corpus file, a website-text snapshot's folder). A file counts alone, not its
    folder: a corpus in ``/tmp`` does not make every temporary file an input.

    Parameters
    ----------
    params : dict
        Parameter name -> value; only absolute path strings are looked at.

    Returns
    -------
    str
        The existing paths outside the repository (symlinks resolved, each once),
        :data:`os.pathsep`-separated; empty when there are none.
    """
    paths = []
    for value in params.values():
        if isinstance(value, str) and value.strip() and os.path.isabs(value):
            path = Path(os.path.realpath(value))  # a symlink loop or a missing file: the corpus check says so
            if path.exists() and not path.is_relative_to(ROOT):
                paths.append(str(path))
    return os.pathsep.join(dict.fromkeys(paths))
