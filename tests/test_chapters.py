"""Chapters run as reviewers run them: plain papermill from another directory, and the whole
book on a Crunchbase-format export with no simulated truth."""

from __future__ import annotations

import json
import re
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.data.simulate import simulate

ROOT = Path(__file__).resolve().parent.parent
PAPERMILL = [sys.executable, "-m", "papermill"]
DISTRICTS = {"Beijing": "Haidian, Beijing, China", "Shanghai": "Pudong, Shanghai, China",
             "Shenzhen": "Nanshan, Guangdong, China"}


def crunchbase_export(path: Path, seed: int = 11) -> Path:
    """A simulated corpus written as a Crunchbase export: Crunchbase headers, district-level
    locations, no truth columns, a duplicate row and two firms outside the three cities."""
    firms = simulate(seed=seed)
    export = firms.rename(columns={"name": "Organization Name", "description": "Description",
                                   "full_description": "Full Description", "industries": "Industries",
                                   "website": "Website"})
    export["Organization Name URL"] = "https://www.crunchbase.com/organization/" + firms["company_id"]
    export["Headquarters Location"] = firms["city"].map(DISTRICTS)
    export["Founded Date"] = firms["founded_year"].astype("string").fillna("")
    export["Top 5 Investors"] = firms["investors"].fillna("").str.replace(";", ", ")
    cols = ["Organization Name", "Organization Name URL", "Industries", "Headquarters Location",
            "Description", "Founded Date", "Top 5 Investors", "Website", "Full Description"]
    export = export[cols]
    extra = export.iloc[[0, 1, 2]].copy()
    extra.iloc[1, extra.columns.get_loc("Headquarters Location")] = "Chaoyang, Liaoning, China"
    extra.iloc[2, extra.columns.get_loc("Headquarters Location")] = "Hangzhou, Zhejiang, China"
    extra.iloc[1, extra.columns.get_loc("Organization Name URL")] += "-liaoning"
    extra.iloc[2, extra.columns.get_loc("Organization Name URL")] += "-hangzhou"
    import pandas as pd

    pd.concat([export, extra]).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _outputs_text(nb_path: Path) -> str:
    """The outputs' text, with markdown backslash escapes removed (tables are shown as MyST
    markdown, where text from data is escaped) so that values can be looked up as written."""
    nb = json.loads(nb_path.read_text())
    text = "\n".join(json.dumps(c.get("outputs", []), ensure_ascii=False) for c in nb["cells"])
    return re.sub(r"\\\\(?=[!-/:-@\[-`{-~])", "", text)


def test_papermill_runs_a_chapter_from_another_directory(tmp_path):
    out = tmp_path / "x.ipynb"
    proc = subprocess.run(
        [*PAPERMILL, str(ROOT / "book" / "08_convergence.ipynb"), str(out),
         "-y", "cohort_edges: [2014, 2018, 2023]", "-p", "n_perm", "50", "-p", "n_boot", "20"],
        cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = _outputs_text(out)
    assert "2014–2017" in text and "2018–2022" in text  # the two cohorts asked for
    assert "2020–2022" not in text
    # the bundled corpus ships no coding sample: the decision is provisional
    assert "Decision (provisional): " in text and ("support convergence" in text or "inconclusive" in text)


def test_list_parameters_also_accepted_as_yaml_strings(tmp_path):
    out = tmp_path / "y.ipynb"
    proc = subprocess.run(
        [*PAPERMILL, str(ROOT / "book" / "11_reproduce.ipynb"), str(out),
         "-p", "cohort_edges", "[2015, 2019, 2023]", "-p", "text_fields", "description"],
        cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = _outputs_text(out)
    assert "[2015, 2019, 2023]" in text and "[description]" in text


def test_data_chapter_reads_a_relative_corpus_path(tmp_path):
    crunchbase_export(tmp_path / "export.csv")
    out = tmp_path / "data.ipynb"
    proc = subprocess.run([*PAPERMILL, str(ROOT / "book" / "03_data.ipynb"), str(out),
                           "-p", "corpus_path", "export.csv"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = _outputs_text(out)
    assert "export.csv" in text and "Simulated corpus" not in text
    assert "outside the three cities" in text or "Liaoning" in text


@pytest.mark.book
def test_whole_book_builds_on_a_crunchbase_export_without_truth(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__",
                                                                "*.egg-info", ".pytest_cache"))
    export = crunchbase_export(tmp_path / "export.csv")
    env = dict(os.environ, PYTHONPATH=str(repo))
    proc = subprocess.run(
        [sys.executable, "-m", "analysis", "build", "-p", f"corpus_path={export}",
         "-p", "replicates=2", "-p", "n_perm=20", "-p", "n_boot=20", "-p", "n_subsamples=2"],
        cwd=repo, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    html = repo / "_build" / "html" / "book"
    intro = (html / "01_introduction.html").read_text(encoding="utf-8")
    assert "export.csv" in intro and "Simulated corpus" not in intro
    validation = (html / "09_validation.html").read_text(encoding="utf-8")
    assert "needs truth columns or a hand-coded" in validation
    comparison = (html / "07_comparison.html").read_text(encoding="utf-8")
    assert "by construction" not in comparison
    # the export is the user's licensed text: every page says so (issue 24)
    pages = sorted(html.glob("*.html"))
    assert len(pages) > 11
    for page in pages:
        assert "contains your licensed text" in page.read_text(encoding="utf-8"), page.name
