"""Where things live.  The repository root comes from this file's location (editable
install), never from the working directory, so chapters run from anywhere."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
BOOK_DIR = ROOT / "book"
PARAMS_DIR = ROOT / "params"
BUILD_DIR = ROOT / "_build"
PACKAGE_DIR = Path(__file__).resolve().parent
RESOURCES_DIR = PACKAGE_DIR / "resources"
DEFAULT_CORPUS = DATA_DIR / "companies.csv"
LOCK_FILE = ROOT / "requirements.lock"  # the pinned runtime environment
CONFIG_FILE = ROOT / "_config.yml"  # jupyter-book's configuration
TOC_FILE = ROOT / "_toc.yml"  # and its table of contents


def corpus_path(value: str | Path | None) -> Path:
    """The corpus a chapter reads: empty means the bundled simulated corpus.

    A relative path is taken relative to the working directory of the process (the
    runner makes paths absolute before passing them on, so chapters see absolute ones).

    Parameters
    ----------
    value : str, pathlib.Path or None
        The ``corpus_path`` parameter; None or blank means the bundled corpus.

    Returns
    -------
    pathlib.Path
        :data:`DEFAULT_CORPUS`, or ``value`` with ``~`` expanded, made absolute and resolved.
    """
    if value is None or str(value).strip() == "":
        return DEFAULT_CORPUS
    return Path(value).expanduser().resolve()


def is_bundled(path: str | Path | None) -> bool:
    """Whether a ``corpus_path`` value names the bundled simulated corpus.

    Parameters
    ----------
    path : str, pathlib.Path or None
        A ``corpus_path`` value, as :func:`corpus_path` takes it.

    Returns
    -------
    bool
        True if it resolves to :data:`DEFAULT_CORPUS` (empty and None included).
    """
    return corpus_path(path) == DEFAULT_CORPUS.resolve()
