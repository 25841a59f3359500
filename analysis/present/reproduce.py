"""What the Reproduce chapter lists: parameters, input hashes, versions, papermill commands."""

from __future__ import annotations

import platform
import re
import shlex
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from analysis import params as _params
from analysis.paths import DATA_DIR, ROOT, corpus_path as resolve_corpus
from analysis.present.prose import code, sha256
from analysis.data.snapshot import snapshot_path

PACKAGES = ("analysis", "numpy", "pandas", "scipy", "scikit-learn", "pandera", "jieba", "matplotlib",
            "wordcloud", "mplfonts", "papermill", "jupytext", "jupyter-book", "myst-nb",
            "sphinx", "sphinxcontrib-bibtex")

#: where the printed commands write, relative to the repository root (inside the ignored _build/)
RERUN_DIR = "_build/rerun"
RERUN_TABLES = f"{RERUN_DIR}/tables"
#: parameters holding a file path (the runner makes them absolute)
PATH_PARAMS = ("corpus_path", "website_snapshot")


def build_values(namespace: dict) -> dict[str, Any]:
    """Every parameter a user may set (the whole schema, in its order) with the value this run
    received, read from the chapter's namespace. The Reproduce chapter declares them all, so a
    missing one is an error here, not a silent gap in the page.

    Parameters
    ----------
    namespace : dict
        The chapter's namespace (its ``globals()``).

    Returns
    -------
    dict of str to object
        Parameter name -> value, in schema order.

    Raises
    ------
    KeyError
        When the namespace lacks a parameter a user may set.
    """
    missing = [n for n in _params.user_names() if n not in namespace]
    if missing:
        raise KeyError(f"the Reproduce chapter does not declare {', '.join(missing)}; "
                       "run python -m analysis params --write")
    return {n: namespace[n] for n in _params.user_names()}


def as_given(name: str, value: Any) -> Any:
    """A value as the page and the commands show it: a path parameter that points inside the
    repository is written relative to its root (where the commands run; the runner had made it
    absolute), any other value as it is.

    Parameters
    ----------
    name : str
        The parameter's name.
    value : object
        Its value.

    Returns
    -------
    object
        ``value``; for a path parameter (:data:`PATH_PARAMS`) inside the repository, its path
        relative to the root as POSIX text.
    """
    if name in PATH_PARAMS and isinstance(value, str) and value.strip():
        path = Path(value)
        if path.is_absolute():
            for candidate in (path, path.resolve()):
                if candidate.is_relative_to(ROOT):
                    return candidate.relative_to(ROOT).as_posix()
    return value


def parameter_table(values: dict) -> pd.DataFrame:
    """Every parameter of the schema: its type, default, the value this build used, its range
    and meaning, and the chapters that declare it (the rows of the README's generated table,
    from :func:`analysis.params.table_rows`, with this build's value added). Values and
    defaults are flow YAML, as a parameter file takes them.

    Parameters
    ----------
    values : dict
        Parameter name -> this build's value (:func:`build_values`).

    Returns
    -------
    pandas.DataFrame
        One row per parameter; columns parameter, type, default, value, meaning, chapters.
    """
    rows = []
    for row in _params.table_rows():
        name = row["parameter"]
        rows.append({"parameter": name, "type": row["type"], "default": row["default"],
                     "value": _params.yaml_text(as_given(name, values[name])),
                     "meaning": row["meaning"], "chapters": row["chapters"]})
    return pd.DataFrame(rows, columns=["parameter", "type", "default", "value", "meaning", "chapters"])


#: columns of the parameter table shown as code literals (copied as typed, never smart-quoted)
PARAMETER_CODE_COLUMNS = ("parameter", "type", "default", "value")


def input_hashes(corpus_path: str = "", website_snapshot: str = "") -> pd.DataFrame:
    """SHA-256 of every file in data/, the corpus (if outside data/), the website-text
    snapshot (when one is given) and the lock file.

    Parameters
    ----------
    corpus_path : str
        The parameter ``corpus_path`` (empty: the bundled corpus).
    website_snapshot : str
        The parameter ``website_snapshot`` (empty: none).

    Returns
    -------
    pandas.DataFrame
        One row per file, in the order above (data/ sorted): ``file`` (relative to the repository
        root, or its name alone outside it), ``bytes`` and ``sha256``.
    """
    files = sorted(p for p in DATA_DIR.rglob("*") if p.is_file())
    corpus = resolve_corpus(corpus_path)
    if corpus not in files:
        files.append(corpus)
    if str(website_snapshot or "").strip():
        files.append(snapshot_path(website_snapshot))
    files.append(ROOT / "requirements.lock")
    rows = []
    for p in files:
        shown = p.relative_to(ROOT).as_posix() if p.is_relative_to(ROOT) else p.name
        rows.append({"file": shown, "bytes": p.stat().st_size, "sha256": sha256(p)})
    return pd.DataFrame(rows)


def package_versions() -> pd.DataFrame:
    """The installed version of Python and of each package in :data:`PACKAGES`.

    Returns
    -------
    pandas.DataFrame
        Columns ``package`` and ``version``: ``python`` first, then :data:`PACKAGES` in order,
        ``not installed`` for a missing one.
    """
    rows = [{"package": "python", "version": platform.python_version()}]
    for name in PACKAGES:
        try:
            rows.append({"package": name, "version": metadata.version(name)})
        except metadata.PackageNotFoundError:
            rows.append({"package": name, "version": "not installed"})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Command:
    """The shell command that re-runs one chapter: ``mkdir`` of the output folder, then papermill
    with the notebook, the output notebook and one option group per parameter."""

    chapter: str
    groups: tuple[tuple[str, ...], ...]  # (notebook, output), then ("-p"|"-r", name, value) or ("-y", yaml)

    def _parts(self) -> list[str]:
        return [shlex.join(group) for group in self.groups]

    def line(self) -> str:
        """On one line (the CSV)."""
        return f"mkdir -p {RERUN_DIR} && papermill " + " ".join(self._parts())

    def block(self) -> str:
        """One option per line, joined by backslash-newline (the page); the same words to a shell."""
        head, *options = self._parts()
        return f"mkdir -p {RERUN_DIR} && papermill {head}" + "".join(f" \\\n    {o}" for o in options)


def option(name: str, value: Any) -> tuple[str, ...]:
    """The papermill option that passes ``value`` unchanged: a list (or any other structure) as
    YAML with ``-y``, a string raw with ``-r`` (so ``''``, ``True`` or ``2020`` stay strings), a
    number with ``-p`` (which papermill reads back as int or float).

    Parameters
    ----------
    name : str
        The parameter's name.
    value : object
        Its value.

    Returns
    -------
    tuple of str
        ``("-r", name, value)``, ``("-p", name, repr(value))`` or ``("-y", "NAME: YAML")``.
    """
    if isinstance(value, str):
        return ("-r", name, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ("-p", name, repr(value))
    if isinstance(value, tuple):
        value = list(value)
    return ("-y", f"{name}: {_params.yaml_text(value)}")


def chapter_command(chapter: str, declared, values: dict) -> Command:
    """The command that re-runs ``chapter`` from the repository root with this build's values of
    the parameters it declares (all of them, defaults included, as the runner passes them),
    writing the executed notebook to ``_build/rerun/`` and its tables to ``_build/rerun/tables/``
    (beside the build's ``_build/tables/``, to compare).

    Parameters
    ----------
    chapter : str
        The chapter's file stem (``08_convergence``).
    declared : collection of str
        The parameters the chapter declares.
    values : dict
        Parameter name -> this build's value.

    Returns
    -------
    Command
        The command; ``tables_dir`` is :data:`RERUN_TABLES` when the chapter declares it.
    """
    groups: list[tuple[str, ...]] = [(f"book/{chapter}.ipynb", f"{RERUN_DIR}/{chapter}.ipynb")]
    if "tables_dir" in declared:
        groups.append(("-r", "tables_dir", RERUN_TABLES))
    for name in _params.user_names():
        if name in declared and name in values:
            groups.append(option(name, as_given(name, values[name])))
    return Command(chapter, tuple(groups))


def chapter_commands(values: dict) -> list[Command]:
    """One command per chapter, in book order, each with the parameters the schema gives it (the
    chapters' parameter cells are generated from the schema, and a test holds them to it). The
    chapters' files are not read: this chapter does not depend on the others' text.

    Parameters
    ----------
    values : dict
        Parameter name -> this build's value.

    Returns
    -------
    list of Command
        One per chapter of :data:`analysis.params.CHAPTERS`.
    """
    return [chapter_command(name, _params.declared_by(name), values) for name in _params.CHAPTERS]


def papermill_commands(values: dict) -> pd.DataFrame:
    """The table ``papermill_commands``: ``chapter`` and ``command`` (one line, as a shell reads it).

    Parameters
    ----------
    values : dict
        Parameter name -> this build's value.

    Returns
    -------
    pandas.DataFrame
        One row per chapter (:func:`chapter_commands`).
    """
    return pd.DataFrame([{"chapter": c.chapter, "command": c.line()} for c in chapter_commands(values)],
                        columns=["chapter", "command"])


def commands_markdown(commands: list[Command]) -> str:
    """The commands for the page: per chapter its file, then the command in a fenced
    code block, which the site shows verbatim (Sphinx's smart quotes skip literal blocks, so
    ``''`` stays two straight quotes) and which a copy button copies whole.

    Parameters
    ----------
    commands : list of Command
        :func:`chapter_commands`.

    Returns
    -------
    str
        Markdown: per command its notebook as a code span, then a ``bash`` fenced block.
    """
    out = []
    for c in commands:
        text = c.block()
        fence = "`" * max(3, max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
        name = code(f"book/{c.chapter}.ipynb")
        out.append(f"{name}:")
        out += ["", f"{fence}bash", text, fence, ""]
    return "\n".join(out)


def interpreter() -> str:
    """The Python that runs this build, in words.

    Returns
    -------
    str
        Implementation, version and platform, e.g. ``CPython 3.11.9 on linux``.
    """
    return f"{platform.python_implementation()} {platform.python_version()} on {sys.platform}"
