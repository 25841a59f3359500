"""Results shared between chapters and between builds.

Several chapters ask the same question of the same corpus: every city chapter codes all firms and
computes the key terms of all three cities, and the convergence and validation chapters run the
same power study.  :func:`shared` lets the second chapter read the first one's answer instead of
computing it again, and lets a rebuild after an edit to one chapter's prose read what the last
build computed.  It is a plain cache on disk, and only an optimisation: a result read back is the
result the function returns for the same arguments, so a chapter gives the same numbers with or
without it.

It is active only while the environment variable ``ANALYSIS_MEMO_DIR`` names a folder (the book
runner sets it to ``_build/memo`` and, after running chapters, keeps the most recently used
results up to :data:`MAX_BYTES`).  Without it, in tests, in a notebook run by hand or by
papermill, every call computes.

The key of a result is a SHA-256 over the function's name, its arguments (bound to their names,
defaults filled in, lists as tuples; hashed by ``joblib.hash``, DataFrames and arrays by content),
the contents of the ``analysis`` package, of ``data/`` and of the lock file, and the Python
version, so a change to the code, the bundled data or a pinned library is never answered from an
old result.  Two chapters asking at once do not both compute: the second waits on a file lock for
the first.  A result is written to a temporary file and moved into place, so a chapter killed
mid-write leaves no half-written result.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import inspect
import os
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path

from .paths import DATA_DIR, LOCK_FILE, PACKAGE_DIR

ENV_VAR = "ANALYSIS_MEMO_DIR"
MAX_BYTES = 1 << 30  # what the runner keeps in the memo folder after a build (least recently used go)


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """SHA-256 over every file of the ``analysis`` package and ``data/`` (names and bytes), the
    lock file and the Python version."""
    h = hashlib.sha256(sys.version.encode())
    for root in (PACKAGE_DIR, DATA_DIR):
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            h.update(str(path.relative_to(root.parent)).encode())
            h.update(path.read_bytes())
    if LOCK_FILE.exists():
        h.update(LOCK_FILE.read_bytes())
    return h.hexdigest()


def prune(where: Path, max_bytes: int = MAX_BYTES) -> list[Path]:
    """Delete the least recently used results in ``where`` until they take at most ``max_bytes``,
    and any leftover temporary or lock file; return what was deleted."""
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
    """The memo folder of the running build, or None when sharing is off."""
    value = os.environ.get(ENV_VAR, "")
    return Path(value) if value else None


def _plain(value):
    """Lists as tuples, so that ``["a", "b"]`` and ``("a", "b")`` give one key."""
    return tuple(_plain(v) for v in value) if isinstance(value, (list, tuple)) else value


@contextlib.contextmanager
def unshared():
    """Inside this block every call computes: for throw-away inputs (a simulated replicate) that
    no other chapter will ask for again."""
    value = os.environ.pop(ENV_VAR, None)
    try:
        yield
    finally:
        if value is not None:
            os.environ[ENV_VAR] = value


def key(func, args: tuple, kwargs: dict) -> str:
    """The key of ``func(*args, **kwargs)``: arguments bound to their names, defaults filled in,
    so a positional and a keyword call, or a default left out and given, are one call."""
    import joblib

    bound = inspect.signature(func).bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = joblib.hash(sorted((k, _plain(v)) for k, v in bound.arguments.items()), hash_name="sha1")
    name = f"{func.__module__}.{func.__qualname__}"
    return hashlib.sha256(f"{name}\n{arguments}\n{code_digest()}".encode()).hexdigest()


def shared(func):
    """Decorate ``func`` so that, inside a build, equal calls from different chapters compute once."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        where = folder()
        if where is None or any(isinstance(a, Iterator) for a in (*args, *kwargs.values())):
            return func(*args, **kwargs)  # sharing off, or an argument that hashing would consume
        where.mkdir(parents=True, exist_ok=True)
        k = key(func, args, kwargs)
        result_path = where / f"{k}.pkl"
        with open(where / f"{k}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process dies
            if result_path.exists():
                os.utime(result_path)  # recently used: kept by prune()
                with open(result_path, "rb") as fh:
                    return pickle.load(fh)
            result = func(*args, **kwargs)
            tmp = result_path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, result_path)
            return result

    return wrapper
