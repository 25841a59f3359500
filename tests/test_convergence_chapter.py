"""The convergence chapter on corpora where no convergence test can run: verdict.csv says
``inconclusive`` for every row, and the page says why (issue 8)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.parametrize("keep,why", [
    (("Shanghai", "Shenzhen"), "no Beijing firm"),
    (("Beijing",), "no Shanghai or Shenzhen firm"),
])
def test_chapter_without_beijing_or_without_other_cities(tmp_path, keep, why):
    firms = pd.read_csv(ROOT / "data" / "companies.csv", dtype=str, keep_default_na=False)
    corpus = tmp_path / "part.csv"
    firms[firms["city"].isin(keep)].to_csv(corpus, index=False)
    out, tables = tmp_path / "out.ipynb", tmp_path / "tables"
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", "-k", "python3", str(ROOT / "book" / "08_convergence.ipynb"), str(out),
         "-p", "corpus_path", str(corpus), "-p", "tables_dir", str(tables), "-p", "replicates", "20",
         "-p", "text_replicates", "0", "-p", "n_boot", "20", "-p", "n_perm", "20"],
        cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    verdict = pd.read_csv(tables / "verdict.csv")
    assert (verdict["decision"] == "inconclusive").all()
    assert verdict["primary"].sum() == 1
    text = "\n".join(json.dumps(c.get("outputs", []), ensure_ascii=False) for c in json.loads(out.read_text())["cells"])
    assert "Decision: inconclusive" in text and why in text
