"""The edition as archives expect it (issue 24): metadata generated from CITATION.cff, a CHANGELOG
entry per edition, the edition on every page's stamp, the RO-Crate of the published site, and a
licensed export kept out of anything `make publish` packages."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from analysis.build import edition, publication
from conftest import copy_repo

ROOT = Path(__file__).resolve().parent.parent
EXPORT = ROOT / "tests" / "fixtures" / "corpus" / "crunchbase_export.csv"


# ------------------------------------------------------------------ metadata and changelog
def test_committed_metadata_files_are_the_generated_ones():
    for name, text in edition.metadata_files().items():
        assert (ROOT / name).read_text(encoding="utf-8") == text, f"{name}: run python -m analysis metadata --write"
    cff = edition.citation()
    zenodo = json.loads((ROOT / ".zenodo.json").read_text(encoding="utf-8"))
    codemeta = json.loads((ROOT / "codemeta.json").read_text(encoding="utf-8"))
    assert zenodo["version"] == codemeta["version"] == str(cff["version"])
    assert zenodo["publication_date"] == codemeta["datePublished"] == cff["date-released"]
    assert zenodo["title"] == codemeta["name"] == cff["title"]
    assert zenodo["license"] == "MIT" and "https://spdx.org/licenses/CC-BY-4.0" in codemeta["license"]
    assert any("Klingler-Vidra" in ref for ref in zenodo["references"])
    # a placeholder repository address is not archived
    assert "PLACEHOLDER" not in json.dumps(zenodo) + json.dumps(codemeta)


def test_metadata_follow_a_changed_citation_file(tmp_path):
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    changed = tmp_path / "CITATION.cff"
    changed.write_text(cff.replace("version: 0.1.0", "version: 9.9.9").replace(
        "PLACEHOLDER-OWNER", "an-owner"), encoding="utf-8")
    files = edition.metadata_files(changed)
    zenodo, codemeta = json.loads(files[".zenodo.json"]), json.loads(files["codemeta.json"])
    assert zenodo["version"] == codemeta["version"] == "9.9.9"
    assert codemeta["codeRepository"] == "https://github.com/an-owner/chinese-blockchain-rerun"
    assert zenodo["related_identifiers"][0]["identifier"] == codemeta["codeRepository"]


def test_the_metadata_command_reports_drift(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("CITATION.cff", "pyproject.toml", ".zenodo.json", "codemeta.json"):
        shutil.copy2(ROOT / name, repo / name)
    shutil.copytree(ROOT / "analysis", repo / "analysis", ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(os.environ, PYTHONPATH=str(repo))
    run = lambda *a: subprocess.run([sys.executable, "-m", "analysis", "metadata", *a], cwd=repo, env=env,  # noqa: E731
                                    capture_output=True, text=True)
    assert run().returncode == 0
    (repo / "codemeta.json").write_text("{}\n", encoding="utf-8")
    stale = run()
    assert stale.returncode == 1 and "codemeta.json differs" in stale.stdout
    assert run("--write").returncode == 0 and run().returncode == 0
    assert (repo / "codemeta.json").read_text(encoding="utf-8") == (ROOT / "codemeta.json").read_text(encoding="utf-8")


def test_the_citation_version_has_a_changelog_entry_of_its_date():
    ed = edition.edition()
    assert ed["version"] in edition.changelog_versions()
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{ed['version']}] - {ed['date']}" in text


def test_every_stamp_names_the_edition():
    stamp = publication.build_stamp(ROOT / "params" / "default.yml", "")
    ed = edition.edition()
    assert stamp["edition"] == ed
    assert publication.stamp_text(stamp).startswith(f"Edition {ed['version']} ({ed['date']}). Built with")


# ------------------------------------------------------------------ licensed corpora
def test_publish_refuses_a_licensed_export_unless_declared_or_withheld():
    values = {"corpus_path": str(EXPORT), "withhold_texts": False, "corpus_redistributable": False}
    assert edition.corpus_is_licensed(EXPORT) and not edition.corpus_is_licensed("")
    refusal = edition.publish_refusal(values, licensed=True)
    assert refusal and "crunchbase_export.csv" in refusal
    assert "withhold_texts" in refusal and "corpus_redistributable" in refusal
    assert edition.publish_refusal({**values, "withhold_texts": True}, licensed=True) is None
    assert edition.publish_refusal({**values, "corpus_redistributable": True}, licensed=True) is None
    assert edition.publish_refusal({**values, "corpus_path": ""}, licensed=False) is None


def test_make_publish_on_a_licensed_export_stops_before_building(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    env = dict(os.environ, PYTHONPATH=str(repo))
    proc = subprocess.run([sys.executable, "-m", "analysis", "publish", "-p", f"corpus_path={EXPORT}"],
                          cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "make publish refused" in proc.stderr and "Crunchbase's terms" in proc.stderr
    assert not (repo / "_build").exists()  # nothing built, nothing packaged


def _configure(tmp_path: Path, stamp: dict) -> dict:
    """The theme options the publication extension leaves for a build with this stamp."""
    (tmp_path / publication.STAMP_FILE).write_text(json.dumps(stamp), encoding="utf-8")
    config = SimpleNamespace(html_theme_options={"repository_url": "https://github.com/PLACEHOLDER-OWNER/x"},
                             html_context={})
    publication._config_inited(SimpleNamespace(srcdir=str(tmp_path)), config)
    return config.html_theme_options


def test_every_page_of_a_licensed_build_announces_the_licensed_text(tmp_path):
    stamp = publication.build_stamp(None, EXPORT, licensed=True)
    options = _configure(tmp_path, stamp)
    assert "contains your licensed text" in options["announcement"]
    assert "corpus_redistributable" in options["announcement"]
    withheld = _configure(tmp_path, {**stamp, "withheld": True})["announcement"]
    assert "withheld" in withheld and "contains your licensed text" not in withheld
    assert "announcement" not in _configure(tmp_path, publication.build_stamp(None, ""))


def test_withheld_texts_leave_the_descriptions_out_of_the_firm_table():
    from analysis.chapters import dataset

    page = dataset.chapter(corpus_path=str(EXPORT), withhold_texts=True)
    assert "description" not in page.firm_table.columns and "description" not in page.shown.columns
    assert {"name", "city"} <= set(page.firm_table.columns) and len(page.firm_table) == page.n_firms
    kept = dataset.chapter(corpus_path=str(EXPORT))
    assert "description" in kept.firm_table.columns


# ------------------------------------------------------------------ RO-Crate
def _fake_site(site: Path) -> None:
    """A small published site: two chapters, a notebook, a table, a shipped input file and the
    Reproduce chapter's hash and version tables."""
    (site / "book").mkdir(parents=True)
    (site / "tables").mkdir()
    (site / "_sources" / "book").mkdir(parents=True)
    for name in ("01_introduction", "03_data"):
        (site / "book" / f"{name}.html").write_text(f"<html><title>{name} page</title></html>", encoding="utf-8")
    (site / "_sources" / "book" / "03_data.ipynb").write_text("{}", encoding="utf-8")
    shipped = site / "_downloads" / "abc" / "companies.csv"
    shipped.parent.mkdir(parents=True)
    shipped.write_text("company_id,name\n1,A\n", encoding="utf-8")
    digest = hashlib.sha256(shipped.read_bytes()).hexdigest()
    (site / "tables" / "firms.csv").write_text("name\nA\n", encoding="utf-8")
    (site / "tables" / "input_hashes.csv").write_text(
        f"file,bytes,sha256\ndata/companies.csv,20,{digest}\nexport.csv,99,{'0' * 64}\n", encoding="utf-8")
    (site / "tables" / "package_versions.csv").write_text("package,version\npython,3.11.7\npandas,2.2.0\n",
                                                          encoding="utf-8")


def check_crate(site: Path) -> dict:
    """Validate the site's RO-Crate: it parses, every data entity's file is in the site with its
    SHA-256, and it lists every chapter page, every table and the Reproduce chapter's software."""
    graph = {e["@id"]: e for e in json.loads((site / edition.RO_CRATE_FILE).read_text(encoding="utf-8"))["@graph"]}
    root = graph["./"]
    assert root["version"] == edition.edition()["version"] and root["datePublished"] == edition.edition()["date"]
    files = [graph[part["@id"]] for part in root["hasPart"]]
    assert files and all(f["@type"] == "File" for f in files)
    for f in files:
        path = site / f["@id"]
        assert path.is_file(), f["@id"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == f["sha256"], f["@id"]
    ids = {f["@id"] for f in files}
    assert {p.relative_to(site).as_posix() for p in (site / "book").glob("[0-9][0-9]_*.html")} <= ids
    assert {p.relative_to(site).as_posix() for p in (site / "tables").glob("*.csv")} <= ids
    action = graph["#build"]
    software = {graph[i["@id"]]["name"]: graph[i["@id"]]["softwareVersion"] for i in action["instrument"]}
    versions = (site / "tables" / "package_versions.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert software == dict(line.split(",", 1) for line in versions)
    return graph


def test_the_ro_crate_describes_chapters_inputs_tables_and_software(tmp_path):
    site = tmp_path / "html"
    _fake_site(site)
    edition.write_ro_crate(site)
    graph = check_crate(site)
    inputs = {graph[i["@id"]]["name"]: graph[i["@id"]] for i in graph["#build"]["object"]}
    assert inputs["data/companies.csv"]["@id"] == "_downloads/abc/companies.csv"  # the copy the site ships
    assert inputs["export.csv"]["@type"] == "CreativeWork"  # not shipped: described with its hash only
    assert inputs["export.csv"]["sha256"] == "0" * 64
    assert graph["book/03_data.html"]["name"] == "03_data page"
    # a file changed after the crate was written no longer matches it
    (site / "tables" / "firms.csv").write_text("name\nB\n", encoding="utf-8")
    with pytest.raises(AssertionError):
        check_crate(site)


@pytest.mark.book
def test_the_ro_crate_of_the_real_site_is_valid(built_book, tmp_path):
    repo, _ = built_book
    site = tmp_path / "html"
    shutil.copytree(repo / "_build" / "html", site)
    edition.write_ro_crate(site)
    graph = check_crate(site)
    assert len([i for i in graph if i.startswith("book/")]) == 11
    assert "#software-analysis" in graph and "#software-sphinx" in graph
