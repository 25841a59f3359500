"""The convergence chapter on corpora where no convergence test can run: verdict.csv says
``inconclusive`` for every row, and the page's verdict box opens with that decision in plain
words and says why (issues 8 and 20); without a coding sample the decision is provisional and
``coder_validated`` says no (issue 21)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
@pytest.mark.parametrize("keep,reason", [
    (("Shanghai", "Shenzhen"), "no_beijing"),
    (("Beijing",), "no_other_city"),
])
def test_chapter_without_beijing_or_without_other_cities(tmp_path, keep, reason):
    from analysis.present.convergence_prose import REASON_TEXT, plain_decision
    from analysis.method.convergence_rule import INCONCLUSIVE

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
    assert verdict.loc[verdict["primary"], "reason"].iloc[0] == reason
    row = verdict[verdict["primary"]].iloc[0]
    boxes = [md for md in _markdown_outputs(out) if md.startswith(":::{admonition} Verdict")]
    assert len(boxes) == 1, "the page shows one verdict box"
    box = boxes[0]
    # the plain decision comes first (the bundled corpus's firms are simulated ones)
    assert box.splitlines()[2] == f"**{plain_decision(row, simulated=True)}**"
    assert "cannot tell whether Shanghai and Shenzhen move towards Beijing" in box.splitlines()[2]
    assert f"Inconclusive: {REASON_TEXT[reason]}." in box
    # an export without a coding sample: the coder was never checked on its text, so the decision
    # is provisional, and the page says how to make a coding sample
    assert (verdict["coder_validated"] == "no").all()
    assert f"Decision (provisional): *{INCONCLUSIVE}*" in box
    assert "**Provisional.**" in box and "`data/coding_sample.csv`" in box


def _markdown_outputs(notebook: Path) -> list[str]:
    """The markdown a notebook's cells displayed, one string per output."""
    cells = json.loads(notebook.read_text())["cells"]
    return ["".join(o["data"]["text/markdown"]) for c in cells for o in c.get("outputs", [])
            if "text/markdown" in o.get("data", {})]
