"""What the built site says (issue 24, findings 4-8): the landing page states the verdict's decision
and that the data are simulated; no page names an internal source file or says "seed"; the
documents the pages name are linked and shipped; the policy table cites works, not files.

The checks are functions of a built site, run on the shared ``built_book``."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from bs4 import BeautifulSoup

#: an internal source file name (NNN_ and hex digits, as the compiled fact sheets' sources were)
SEED_FILE = re.compile(r"\b\d{3}_[0-9a-f]{6,}")
SEED_WORDING = re.compile(r"\bseed (?:report|file|text)s?\b|\(seed", re.I)
#: documents a page names, each of which must be linked from it and shipped in _downloads
DOCUMENTS = {"data/analysis_plan.md": "08_convergence", "data/codebook.md": "07_comparison",
             "data/check_set.csv": "09_validation", "data/check_set_fresh.csv": "09_validation",
             "data/companies.csv": "03_data"}


def page_text(path: Path) -> str:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    main = soup.find("main") or soup
    for tag in main.find_all(["script", "style"]):
        tag.decompose()
    return " ".join(main.get_text(" ").split())


def primary_decision(tables: Path) -> str:
    with open(tables / "verdict.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["primary"] == "True"]
    assert len(rows) == 1
    return rows[0]["decision"]


def landing_problems(html: Path, tables: Path) -> list[str]:
    text = page_text(html / "book" / "01_introduction.html")
    problems = []
    decision = primary_decision(tables)
    if f"Decision on convergence: {decision}" not in text:
        problems.append(f"the landing page does not state the decision {decision!r}")
    if "The data are simulated" not in text:
        problems.append("the landing page does not say the data are simulated")
    return problems


def seed_problems(html: Path) -> list[str]:
    problems = []
    for page in sorted(html.rglob("*.html")):
        text = page_text(page)
        for pattern in (SEED_FILE, SEED_WORDING):
            if m := pattern.search(text):
                problems.append(f"{page.relative_to(html)}: {m.group(0)!r}")
    return problems


def download_problems(html: Path) -> list[str]:
    problems = []
    for doc, chapter in DOCUMENTS.items():
        soup = BeautifulSoup((html / "book" / f"{chapter}.html").read_text(encoding="utf-8"), "html.parser")
        name = doc.rsplit("/", 1)[1]
        links = [a["href"] for a in soup.find_all("a", href=True) if a["href"].endswith("/" + name)]
        if not links:
            problems.append(f"{chapter} names {doc} without a link")
        elif not all((html / "book" / href).resolve().is_file() for href in links):
            problems.append(f"{chapter}: a link to {doc} leads to no file in the site")
    return problems


def policy_table_problems(html: Path) -> list[str]:
    soup = BeautifulSoup((html / "book" / "02_context.html").read_text(encoding="utf-8"), "html.parser")
    problems = []
    if "Real data, not simulated" not in page_text(html / "book" / "02_context.html"):
        problems.append("the policy page does not say its data are real")
    table = soup.find(id="tbl-policy-events") or soup.find("table", id=re.compile("policy-events$"))
    cells = " ".join(a.get_text() for a in soup.find_all("a", href=re.compile(r"references\.html#")))
    if "Proteum" not in cells:
        problems.append("the press pieces of the policy table are not cited to the bibliography")
    if table is not None and "searched" in page_text(html / "book" / "02_context.html"):
        problems.append("the policy page promises a search box")
    return problems


def test_the_site_states_the_verdict_cites_works_and_ships_its_documents(built_book):
    repo, _ = built_book
    html, tables = repo / "_build" / "html", repo / "_build" / "tables"
    assert landing_problems(html, tables) == []
    assert seed_problems(html) == []
    assert download_problems(html) == []
    assert policy_table_problems(html) == []


def test_the_checks_catch_a_seed_file_name_and_an_unlinked_document(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "x.html").write_text("<main><p>see 002_748b3c6948177c4c.txt (seed report only)</p></main>")
    assert len(seed_problems(tmp_path)) == 2
    for chapter in set(DOCUMENTS.values()):
        (tmp_path / "book" / f"{chapter}.html").write_text("<main><code>data/codebook.md</code></main>")
    assert len(download_problems(tmp_path)) == len(DOCUMENTS)


def stream_problems(executed: Path) -> list[str]:
    """Every stderr output and every warning text that an executed chapter shows a reader."""
    import json

    out = []
    for nb in sorted(executed.glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            for o in cell.get("outputs", []):
                text = "".join(o.get("text", [])) if o.get("output_type") == "stream" else ""
                if o.get("name") == "stderr" or "Warning:" in text:
                    out.append(f"{nb.name}: {text[:120]!r}")
    return out


def test_no_chapter_shows_a_warning_or_stderr(built_book):
    repo, _ = built_book
    assert stream_problems(repo / "_build" / "executed") == []


def test_the_stream_check_catches_a_warning(tmp_path):
    import json

    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "stream", "name": "stderr", "text": ["TqdmWarning: IProgress not found\n"]}]}]}
    (tmp_path / "08_convergence.ipynb").write_text(json.dumps(nb), encoding="utf-8")
    assert len(stream_problems(tmp_path)) == 1


def chinese_search_problems(html: Path) -> list[str]:
    """Chinese terms shown on a page's text that the site's search index does not hold."""
    import json

    raw = (html / "searchindex.js").read_text(encoding="utf-8")
    index = json.loads(raw[raw.index("(") + 1:raw.rindex(")")])["terms"]
    out = []
    for page in sorted((html / "book").glob("0[4-6]_*.html")):
        text = page_text(page)
        note = re.search(r"Chinese terms in this table, with their glosses: ([^.]*)\.", text)
        terms = re.findall(r"[\u4e00-\u9fff]+", note.group(1)) if note else []
        out += [f"{page.name}: {t}" for t in terms if t not in index]
    return out


def test_a_chinese_query_finds_the_pages_that_use_the_term(built_book):
    repo, _ = built_book
    html = repo / "_build" / "html"
    assert chinese_search_problems(html) == []
    assert any(re.search(r"[\u4e00-\u9fff]", line) for line in
               (html / "book" / "06_shenzhen.html").read_text(encoding="utf-8").splitlines())
