"""Results shared between chapters and between builds.

Several chapters ask the same question of the same corpus: every city chapter codes all firms and
computes the key terms of all three cities, and the convergence and validation chapters run the
same power study.  :func:`shared` lets the second chapter read the first one's answer instead of
computing it again, and lets a rebuild after an edit to one chapter's prose read what the last
build computed.  The functions so shared are listed in one place, :mod:`analysis.chapters.shared`
(and the verdict, :mod:`analysis.chapters.verdict`); the science below computes without it.  It is a plain cache on disk, and only an optimisation: a result read back is the
result the function returns for the same arguments, so a chapter gives the same numbers with or
without it.

It is active only while the environment variable ``ANALYSIS_MEMO_DIR`` names a folder (the book
runner sets it to ``_build/memo`` and, after running chapters, keeps the most recently used
results up to :data:`MAX_BYTES`).  Without it, in tests, in a notebook run by hand or by
papermill, every call computes.

The key of a result is a SHA-256 over the function's name, its arguments (bound to their names,
defaults filled in, lists as tuples; hashed by ``joblib.hash``, DataFrames and arrays by content)
and the environment of :func:`analysis.build.inputs.environment_digest` (the ``analysis`` package, the
lock file, the Python version), so a change to the code or a pinned library is never answered
from an old result.  A result is stored with the input files its computation read
(:mod:`analysis.build.inputs`): a hit counts those files as read by the caller, so a chapter that reads
a shared result depends on the data it was made from; a result whose input files changed since
is computed again.  Two chapters asking at once do not both compute: the second waits on a file
lock (``filelock``, portable) for the first, and meanwhile shows the runner a file it was given
(``ANALYSIS_WAITING``), so that the runner starts another chapter on the idle core.  A result is written to a temporary file and moved
into place, so a chapter killed mid-write leaves no half-written result.

Why not ``joblib.Memory``: it keys on the decorated function's own code only (not on the code
it calls), does not keep two processes from computing the same call at once, and cannot carry
the input files a result was made from; this module is those three things around pickle files.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import os
import pickle
from collections.abc import Iterator
from pathlib import Path

from analysis.build import inputs

ENV_VAR = "ANALYSIS_MEMO_DIR"
#: a file the runner names for each chapter: present while the chapter waits for another's result
WAITING_VAR = "ANALYSIS_WAITING"
MAX_BYTES = 1 << 30  # what the runner keeps in the memo folder after a build (least recently used go)


def prune(where: Path, max_bytes: int = MAX_BYTES) -> list[Path]:
    """Delete the least recently used results in ``where`` until they take at most ``max_bytes``,
    and any leftover temporary or lock file.

    Parameters
    ----------
    where : pathlib.Path
        The memo folder.
    max_bytes : int
        The most the kept results (``.pkl``) may take.

    Returns
    -------
    list of pathlib.Path
        What was deleted; empty when ``where`` is not a folder.
    """
    if not where.is_dir():
        return []
    gone = [p for p in where.iterdir() if p.suffix in (".tmp", ".lock")]
    results = sorted(where.glob("*.pkl"), key=lambda p: p.stat().st_mtime, reverse=True)
    total = 0
    for path in results:
        total += path.stat().st_size
        if total > max_bytes:
            gone.append(path)
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


def folder() -> Path | None:
    """The memo folder of the running build, or None when sharing is off.

    Returns
    -------
    pathlib.Path or None
        The folder :data:`ENV_VAR` names, or None when it is unset or empty.
    """
    value = os.environ.get(ENV_VAR, "")
    return Path(value) if value else None


def _plain(value):
    """Lists as tuples, so that ``["a", "b"]`` and ``("a", "b")`` give one key."""
    return tuple(_plain(v) for v in value) if isinstance(value, (list, tuple)) else value


def key(func, args: tuple, kwargs: dict) -> str:
    """The key of ``func(*args, **kwargs)``: arguments bound to their names, defaults filled in,
    so a positional and a keyword call, or a default left out and given, are one call.

    Parameters
    ----------
    func : callable
        The function.
    args : tuple
        Its positional arguments.
    kwargs : dict
        Its keyword arguments.

    Returns
    -------
    str
        A SHA-256 hex digest of its qualified name, its arguments (lists as tuples) and the
        environment.

    Raises
    ------
    TypeError
        If the arguments do not fit ``func``'s signature.
    """
    import joblib

    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = joblib.hash(sorted((k, _plain(v)) for k, v in bound.arguments.items()), hash_name="sha1")
    name = f"{func.__module__}.{func.__qualname__}"
    return hashlib.sha256(f"{name}\n{arguments}\n{inputs.environment_digest()}".encode()).hexdigest()


def shared(func):
    """Decorate ``func`` so that, inside a build, equal calls from different chapters compute once.

    Parameters
    ----------
    func : callable
        A function whose result depends only on its arguments and the files it reads, and can be pickled.

    Returns
    -------
    callable
        The wrapper: the stored result when there is one whose input files are unchanged, else
        ``func``'s, stored; a plain call when sharing is off or an argument is an iterator.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        where = folder()
        if where is None or any(isinstance(a, Iterator) for a in (*args, *kwargs.values())):
            return func(*args, **kwargs)  # sharing off, or an argument that hashing would consume
        from filelock import FileLock

        inputs.install_recorder()  # a result carries the files it was made from (idempotent)
        where.mkdir(parents=True, exist_ok=True)
        k = key(func, args, kwargs)
        result_path = where / f"{k}.pkl"
        with _acquired(FileLock(where / f"{k}.lock")):  # released when the block ends, or the process dies
            stored = _read(result_path)
            if stored is not None:
                os.utime(result_path)  # recently used: kept by prune()
                result, reads = stored
                inputs.note(reads)
                return result
            with inputs.capture() as reads:
                result = func(*args, **kwargs)
            tmp = result_path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                pickle.dump((result, inputs.digests(reads)), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, result_path)
            return result

    return wrapper


@contextlib.contextmanager
def _acquired(lock):
    """Hold ``lock``; while another chapter holds it (computing the result), the file named by
    :data:`WAITING_VAR` exists."""
    from filelock import Timeout

    try:
        lock.acquire(timeout=0)
    except Timeout:
        marker = Path(os.environ[WAITING_VAR]) if os.environ.get(WAITING_VAR) else None
        if marker is not None:
            marker.touch()
        try:
            lock.acquire()
        finally:
            if marker is not None:
                marker.unlink(missing_ok=True)
    try:
        yield
    finally:
        lock.release()


def _read(path: Path):
    """A stored (result, reads) whose input files are unchanged, or None."""
    try:
        with open(path, "rb") as fh:
            result, reads = pickle.load(fh)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
        return None
    return None if inputs.changed(reads) else (result, reads)
