"""Real builds of the whole book on small, lopsided and hostile corpora (fast parameters, two
workers, one repository copy shared by all cases): every chapter renders for any corpus the loader
accepts, says what it cannot show, and treats text from data as inert."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import corpora

ROOT = Path(__file__).resolve().parent.parent
FAST = ["-p", "n_boot=20", "-p", "n_perm=20", "-p", "replicates=2", "-p", "n_subsamples=2", "-p", "text_replicates=0"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("lopsided") / "repo"
    ignore = shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__", ".pytest_cache", "*.egg-info")
    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def _build(repo: Path, corpus: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(repo))
    return subprocess.run([sys.executable, "-m", "analysis", "build", "--jobs", "2",
                           "-p", f"corpus_path={corpus}", *FAST], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=900)


def _page(repo: Path, chapter: str) -> str:
    return (repo / "_build" / "html" / "book" / f"{chapter}.html").read_text(encoding="utf-8")


def _text(html: str) -> str:
    """The page's visible text, roughly (tags dropped, whitespace collapsed)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def _no_errors(repo: Path) -> None:
    for nb in sorted((repo / "_build" / "executed").glob("*.ipynb")):
        for cell in json.loads(nb.read_text())["cells"]:
            for out in cell.get("outputs", []):
                assert out.get("output_type") != "error", nb.name
                if out.get("name") == "stderr":
                    assert "Traceback" not in "".join(out.get("text", "")), nb.name


@pytest.mark.slow
@pytest.mark.parametrize("case", corpora.CASES)
def test_book_builds_on_small_and_lopsided_corpora(repo, case, tmp_path):
    corpus = corpora.write(case, tmp_path)
    proc = _build(repo, corpus)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    _no_errors(repo)
    for chapter in corpora.CHAPTERS:
        assert "Traceback" not in _page(repo, chapter), chapter
    firms = corpora.lopsided(case)
    absent = [c for c in ("Beijing", "Shanghai", "Shenzhen") if c not in set(firms["city"])]
    for city in absent:
        chapter = {"Beijing": "04_beijing", "Shanghai": "05_shanghai", "Shenzhen": "06_shenzhen"}[city]
        assert f"This corpus has no firm in {city}" in _text(_page(repo, chapter)), (case, city)
    if case == "no_founding_years":
        assert "No firm in this corpus has a founding year" in _text(_page(repo, "03_data"))


@pytest.mark.slow
def test_hostile_text_is_inert(repo, tmp_path):
    corpus = corpora.write_hostile(tmp_path)
    proc = _build(repo, corpus)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    _no_errors(repo)
    pages = {p.relative_to(repo / "_build" / "html").as_posix(): p.read_text(encoding="utf-8")
             for p in (repo / "_build" / "html").rglob("*.html")}
    everything = "\n".join(pages.values())
    # nothing from the data became markup: no script that sets the title, no handler, no link
    assert "pwned" in everything  # the strings are shown ...
    for name, page in pages.items():
        assert "<script>document.title" not in page, name  # ... but never as markup
        assert not re.search(r"<img[^>]*onerror", page, flags=re.I), name
        assert not re.search(r"href=[\"']?\s*javascript:", page, flags=re.I), name
        assert not re.search(r'admonition-title">\s*Pwned', page), name  # no ::: block made
        assert not re.search(r"<div[^>]*class=\"[^\"]*math[^\"]*\"[^>]*>[^<]*int_0\^1", page), name
        title = re.search(r"<title>(.*?)</title>", page, flags=re.S)
        assert title is None or "pwned" not in title.group(1), name
    # the data chapter lists the hostile names as text
    data_page = _text(pages["book/03_data.html"])
    assert "&lt;script&gt;document.title" in pages["book/03_data.html"] or "document.title" in data_page
    # CSV exports: formula prefixes neutralised in text cells, numbers left as numbers
    tables = repo / "_build" / "tables"
    firms = pd.read_csv(tables / "firms.csv", keep_default_na=False)
    names = set(firms["name"])
    for key in ("eq", "plus", "minus", "at"):
        assert "'" + corpora.HOSTILE[key] in names, key
        assert corpora.HOSTILE[key] not in names, key
    exported = [p for p in sorted(tables.glob("*.csv")) if p.read_text(encoding="utf-8").strip()]
    for path in exported:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in frame.columns:
            cells = frame[column]
            bad = cells[cells.str.match(r"^[=+\-@\t\r]") & pd.to_numeric(cells, errors="coerce").isna()]
            assert bad.empty, (path.name, column, bad.tolist()[:3])
    # negative numbers (gaps, slopes) are written as numbers, never with an apostrophe
    negatives = 0
    for path in exported:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in frame.columns:
            numbers = pd.to_numeric(frame[column].str.lstrip("'"), errors="coerce")
            assert not frame[column][numbers.notna()].str.startswith("'").any(), (path.name, column)
            negatives += int((numbers < 0).sum())
    assert negatives > 0


def test_csv_export_neutralises_formulas_in_text_cells_only(tmp_path):
    from analysis.present import tables

    df = pd.DataFrame({"term": ["=1+1", "-cmd", "+86 10", "@SUM(A1)", "-0.5", "plain", None],
                       "keyness": [-3.5, 2.0, -0.25, 1.0, 4.0, 0.0, -1.0],
                       "n": [1, 2, 3, 4, 5, 6, 7]})
    tables.save(df, "t", tmp_path)
    back = pd.read_csv(tmp_path / "t.csv", keep_default_na=False)
    assert back["term"].tolist() == ["'=1+1", "'-cmd", "'+86 10", "'@SUM(A1)", "-0.5", "plain", ""]
    assert back["keyness"].tolist() == [-3.5, 2.0, -0.25, 1.0, 4.0, 0.0, -1.0]
    assert pd.api.types.is_integer_dtype(back["n"])
    assert df["term"].iloc[0] == "=1+1"  # the table shown on the page is untouched
