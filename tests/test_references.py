"""The bibliography is fit to publish: no entry reads like a working note, and every {cite} key
in the book has an entry."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIB = ROOT / "book" / "references.bib"

#: phrases that give away a compiler's note to self rather than a reference
WORKING_NOTE = re.compile(
    r"not (?:found|confirmed|located|verified)|verify|cite the one|if known|if available|"
    r"no formal citation|should follow|from the compiler|searched corpora|\bTODO\b|\bFIXME\b|\?\?",
    re.I)
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]+)`")


def entries(text: str) -> dict[str, dict[str, str]]:
    """Entries of a .bib file as {key: {field: value}}, read with pybtex (what Sphinx uses)."""
    from pybtex.database import parse_string

    data = parse_string(text, "bibtex")
    return {key: {**{k.lower(): v for k, v in e.fields.items()},
                  **{role: " ".join(str(p) for p in people) for role, people in e.persons.items()}}
            for key, e in data.entries.items()}


def working_notes(text: str) -> list[str]:
    return [f"{key}.{field}" for key, fields in entries(text).items()
            for field, value in fields.items() if WORKING_NOTE.search(value)]


def cited_keys(root: Path = ROOT) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    sources = [*root.glob("book/*.py"), *root.glob("book/*.md"), *root.glob("analysis/*.py")]
    for path in sources:
        for m in CITE.finditer(path.read_text(encoding="utf-8")):
            for key in m.group(1).split(","):
                found.setdefault(key.strip(), []).append(path.name)
    return found


def test_no_entry_reads_like_a_working_note():
    assert working_notes(BIB.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("note", [
    "DOI supplied from the compiler's knowledge and NOT confirmed by search; verify before publication.",
    "cite the one matching the installed version if known",
    "No formal citation or DOI found; year and version should follow the installed release.",
    "The URL of the page itself was not found in the searched corpora.",
])
def test_a_working_note_is_caught(note):
    bib = "@misc{x2020,\n  author = {A, B},\n  title = {T},\n  year = {2020},\n  note = {" + note + "}\n}\n"
    assert working_notes(bib) == ["x2020.note"]
    title = "@misc{y2020,\n  author = {A, B},\n  title = {T (verify)},\n  year = {2020}\n}\n"
    assert working_notes(title) == ["y2020.title"]


def test_every_cited_key_has_an_entry():
    keys = set(entries(BIB.read_text(encoding="utf-8")))
    missing = {k: v for k, v in cited_keys().items() if k not in keys}
    assert missing == {}


def test_an_unknown_cite_key_is_caught(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "x.md").write_text("As shown {cite:p}`hai2022chinese,nosuch2020`.")
    keys = set(entries(BIB.read_text(encoding="utf-8")))
    assert {k for k in cited_keys(tmp_path) if k not in keys} == {"nosuch2020"}


def test_the_brief_s_bibliography_is_in_the_book():
    bib = entries(BIB.read_text(encoding="utf-8"))
    brief = {k for k, f in bib.items() if "brief" in f.get("keywords", "")}
    assert {"breznitz2011run", "gruin2020not", "hou2017application", "klinglervidra2018venture",
            "klinglervidra2022jack", "liu2022dynamics", "economist2022xi", "statecouncil2017ai",
            "ccp2016fyp", "shanghai2021opinions", "beijing2020bluebook"} <= brief
    # software entries give the version actually used (the lock file's)
    lock = (ROOT / "requirements.lock").read_text()
    for key, package in (("executablebooks2020jupyterbook", "jupyter-book"), ("nteract_papermill", "papermill"),
                         ("mueller_wordcloud", "wordcloud")):
        version = re.search(rf"^{package}==([^\s;\\]+)", lock, re.M).group(1)
        assert version in bib[key]["title"], key


def test_no_latex_quotes_in_the_bibliography():
    text = BIB.read_text(encoding="utf-8")
    assert "``" not in text and "''" not in text


def test_every_work_of_the_brief_s_bibliography_is_cited():
    # references.md says so instead of listing "further works" (an empty list before)
    bib = entries(BIB.read_text(encoding="utf-8"))
    cited = cited_keys()
    assert [k for k, f in bib.items() if "brief" in f.get("keywords", "") and k not in cited] == []
    assert "Every work in the brief's own bibliography" in (ROOT / "book" / "references.md").read_text()
