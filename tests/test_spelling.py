"""Habits of the edition (issue 24): codespell over the prose, chapters and docs, with the
project's short word list in pyproject.toml ([tool.codespell]); the pre-commit configuration
valid for the pre-commit of the test lock, its hooks the project's own tools."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
#: what codespell reads: the chapters, the pages, the docs and the package
PROSE = ["book", "README.md", "ARCHITECTURE.md", "CHANGELOG.md", "data", "analysis"]


def _codespell(*paths: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "codespell_lib", "--toml", str(ROOT / "pyproject.toml"), *paths],
                          cwd=cwd, capture_output=True, text=True)


def test_prose_chapters_and_docs_are_spelled_right():
    targets = [str(p) for name in PROSE for p in ([ROOT / name] if (ROOT / name).is_file() else
                                                   sorted((ROOT / name).rglob("*.py")) + sorted((ROOT / name).rglob("*.md"))
                                                   + sorted((ROOT / name).rglob("*.yml")))]
    assert any(t.endswith("08_convergence.py") for t in targets) and any(t.endswith("codebook.md") for t in targets)
    proc = _codespell(*targets)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_codespell_finds_a_misspelling_and_the_word_list_is_short(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("The firms recieve public contracts.\n", encoding="utf-8")
    proc = _codespell(str(page), cwd=tmp_path)
    assert proc.returncode != 0 and "recieve" in proc.stdout
    import tomllib

    words = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["codespell"]["ignore-words-list"]
    assert len(words.split(",")) <= 10


def test_pre_commit_configuration_is_valid_and_needs_no_download():
    proc = subprocess.run([sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [h for r in config["repos"] for h in r["hooks"]]
    assert all(r["repo"] == "local" for r in config["repos"]) and all(h["language"] == "system" for h in hooks)
    assert "codespell" in {h["id"] for h in hooks}
