"""The layers of ``analysis/`` (ARCHITECTURE.md), checked by import-linter with the contracts in
pyproject.toml: each layer imports only the layers below it, the science (data, text, method)
imports no build, cache or presentation module, and no two modules import each other. Imports
made inside functions count (import-linter reads every import statement)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LINT = "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(no_cache=True))"


def _lint(where: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(where)}  # the package of ``where``, not the installed one
    return subprocess.run([sys.executable, "-c", LINT], cwd=where, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_package_keeps_its_layers():
    proc = _lint(ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "3 kept, 0 broken" in proc.stdout


def _copy(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "analysis", tmp_path / "analysis", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + line, encoding="utf-8")


def test_an_import_up_the_layers_is_caught(tmp_path):
    """A function of the text layer that imports the presentation layer breaks all three contracts,
    although the import sits inside the function."""
    where = _copy(tmp_path)
    _append(where / "analysis" / "text" / "keyness.py",
            "\n\ndef _shown():\n    from analysis.present import tables\n\n    return tables\n")
    proc = _lint(where)
    assert proc.returncode != 0
    assert "analysis.text.keyness -> analysis.present.tables" in proc.stdout
    assert "0 kept, 3 broken" in proc.stdout  # layers, science, and a cycle text <-> present


def test_two_modules_importing_each_other_are_caught(tmp_path):
    where = _copy(tmp_path)
    _append(where / "analysis" / "data" / "snapshot.py", "\n\ndef _load():\n    from analysis.data import collect\n\n"
                                                        "    return collect\n")
    proc = _lint(where)
    assert proc.returncode != 0
    assert "No cycles are allowed in analysis.data" in proc.stdout
