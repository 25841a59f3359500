"""The one table registry feeds the captions, the README's list, the tables index and the
provenance of _build/tables/."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.present import catalogue, tables

ROOT = Path(__file__).resolve().parent.parent


def test_names_are_unique_and_labels_valid():
    names = [e.name for e in catalogue.TABLES]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"tbl-[a-z0-9-]+", catalogue.label(n)) for n in names)
    assert all(e.caption.endswith(".") for e in catalogue.TABLES)


def test_readme_section_is_generated_from_the_registry(tmp_path):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert catalogue.README_BEGIN in text, "run: python -m analysis registry --write"
    section = text.split(catalogue.README_BEGIN, 1)[1].split(catalogue.README_END, 1)[0]
    assert section.strip() == catalogue.readme_section().strip(), "run: python -m analysis registry --write"
    readme = tmp_path / "README.md"
    readme.write_text("# x\n")
    assert catalogue.write_readme(readme) and not catalogue.write_readme(readme)
    assert "`table1.csv`" in readme.read_text()


def test_save_records_the_corpus_and_the_index_reads_it(tmp_path):
    from types import SimpleNamespace

    from analysis.paths import DEFAULT_CORPUS

    sim = SimpleNamespace(path=DEFAULT_CORPUS, simulated=True)
    real = SimpleNamespace(path=tmp_path / "export.csv", simulated=False)
    tables.save(pd.DataFrame({"a": [1]}), "table1", tmp_path, corpus=sim)
    tables.save(pd.DataFrame({"a": [1]}), "firms", tmp_path, corpus=real)
    tables.save(pd.DataFrame({"a": [1]}), "parameters", tmp_path)
    pd.DataFrame({"a": [1]}).to_csv(tmp_path / "stray.csv")
    rows = {r["name"]: r for r in catalogue.index_rows(tmp_path)}
    assert rows["table1"]["corpus"] == "simulated (the bundled corpus)"
    assert rows["table1"]["caption"] == catalogue.caption("table1")
    assert rows["firms"]["corpus"] == "user export (not simulated)" and rows["firms"]["corpus_file"] == "export.csv"
    assert rows["parameters"]["corpus"] == "none (no corpus read)"
    assert rows["stray"]["caption"] == "" and rows["stray"]["corpus"].startswith("not recorded")
    page = catalogue.index_html(list(rows.values()))
    assert catalogue.caption("table1").split(",")[0] in page


@pytest.mark.book
def test_every_built_table_is_registered_captioned_and_traced(built_book):
    repo, _ = built_book
    built = repo / "_build" / "tables"
    names = sorted(p.stem for p in built.glob("*.csv") if p.stem != "PROVENANCE")
    unregistered = [n for n in names if catalogue.get(n) is None]
    assert unregistered == [], f"tables written but not in analysis/present/catalogue.py: {unregistered}"
    with open(repo / "_build" / "html" / "tables" / "PROVENANCE.csv", encoding="utf-8") as fh:
        prov = {r["name"]: r for r in csv.DictReader(fh)}
    assert set(prov) == set(names)
    assert prov["table1"]["corpus"] == "simulated (the bundled corpus)"
    # every table shown in the book carries a number and a caption
    uncaptioned = []
    for page in sorted((repo / "_build" / "html" / "book").glob("*.html")):
        html = page.read_text(encoding="utf-8")
        for table in re.findall(r"<table\b[^>]*>.*?</table>", html, flags=re.S):
            if "<caption" not in table and 'class="citation' not in table:
                uncaptioned.append(f"{page.name}: {re.sub(r'<[^>]+>', ' ', table)[:80]!r}")
    assert uncaptioned == []


def test_the_runner_keeps_the_provenance_notes():
    from analysis.build import runner

    assert runner.PROVENANCE_DIR == catalogue.PROVENANCE_DIR


def test_every_table_and_figure_names_the_program_that_makes_it():
    import importlib

    from analysis.params import CHAPTERS

    assert set(catalogue.CHAPTER_FUNCTIONS) == set(CHAPTERS)
    for chapter, dotted in catalogue.CHAPTER_FUNCTIONS.items():
        module, function = dotted.rsplit(".", 1)
        assert callable(getattr(importlib.import_module(module), function)), dotted
        source = (ROOT / "book" / f"{chapter}.py").read_text(encoding="utf-8")
        assert f"page = {module.rsplit('.', 1)[1]}.{function}(" in source, chapter
    section = catalogue.readme_section()
    for e in catalogue.TABLES:
        assert f"| `{e.name}.csv` | `book/{e.chapter}.py`, `{catalogue.CHAPTER_FUNCTIONS[e.chapter]}` |" in section
    for label_, _, chapter in catalogue.FIGURES:
        assert f"| {label_} | `book/{chapter}.py`, `{catalogue.CHAPTER_FUNCTIONS[chapter]}` |" in section
