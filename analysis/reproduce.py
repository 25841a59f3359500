"""What the Reproduce chapter lists: parameters, input hashes, versions, papermill commands."""

from __future__ import annotations

import platform
import shlex
import sys
from importlib import metadata

import pandas as pd
import yaml

from .paths import DATA_DIR, ROOT, corpus_path as resolve_corpus
from .prose import sha256

PACKAGES = ("analysis", "numpy", "pandas", "scipy", "scikit-learn", "pandera", "jieba", "matplotlib",
            "wordcloud", "itables", "mplfonts", "papermill", "jupytext", "jupyter-book", "myst-nb",
            "sphinx", "sphinxcontrib-bibtex")


def parameter_table(params: dict) -> pd.DataFrame:
    rows = [{"parameter": k, "value": yaml.safe_dump(v, default_flow_style=True).strip().removesuffix("...").strip()}
            for k, v in params.items()]
    return pd.DataFrame(rows)


def input_hashes(corpus_path: str = "", website_snapshot: str = "") -> pd.DataFrame:
    """SHA-256 of every file in data/, the corpus (if outside data/), the website-text
    snapshot (when one is given) and the lock file."""
    from .snapshot import snapshot_path

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
    rows = [{"package": "python", "version": platform.python_version()}]
    for name in PACKAGES:
        try:
            rows.append({"package": name, "version": metadata.version(name)})
        except metadata.PackageNotFoundError:
            rows.append({"package": name, "version": "not installed"})
    return pd.DataFrame(rows)


def papermill_command(chapter: str, declared: dict, params: dict) -> str:
    """The plain papermill call that re-runs one chapter with this build's parameters; list
    values go through ``-y`` (YAML), scalars through ``-p``. Run from the repository root."""
    parts = ["papermill", f"book/{chapter}.ipynb", f"/tmp/{chapter}.ipynb"]
    for key in declared:
        if key == "tables_dir" or key not in params:
            continue
        value = params[key]
        if isinstance(value, (list, tuple, dict)):
            parts += ["-y", shlex.quote(f"{key}: {yaml.safe_dump(value if isinstance(value, dict) else list(value), default_flow_style=True).strip()}")]
        else:
            parts += ["-p", key, shlex.quote(str(value)) if str(value) != "" else "''"]
    return " ".join(parts)


def papermill_commands(params: dict) -> pd.DataFrame:
    from .build import declared_parameters, read_chapter, read_toc

    rows = []
    for chapter in read_toc().chapters:
        declared = declared_parameters(read_chapter(chapter), chapter.name)
        rows.append({"chapter": chapter.name, "command": papermill_command(chapter.name, declared, params)})
    return pd.DataFrame(rows)


def interpreter() -> str:
    return f"{platform.python_implementation()} {platform.python_version()} on {sys.platform}"
