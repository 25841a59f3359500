import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def copy_repo(dest: Path) -> Path:
    ignore = shutil.ignore_patterns(".venv", "_build", ".git", "__pycache__", ".pytest_cache", "*.egg-info",
                                    "node_modules")
    shutil.copytree(ROOT, dest, ignore=ignore)
    return dest


def run_analysis(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(repo))  # kernels import this copy's analysis
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=repo, env=env,
                          capture_output=True, text=True)


def require_tool(*names: str) -> None:
    """Skip (with the reason) where a system tool is missing; under CI=true fail instead,
    because .ci/run installs these tools."""
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        message = f"needs {', '.join(missing)} (Debian packages; .ci/run installs them)"
        if IN_CI:
            pytest.fail(message + " but CI=true and it is missing")
        pytest.skip(message)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory):
    """The real book, built once per test session in a copy of the repository with the default
    parameters; tests that only read the site share it."""
    repo = copy_repo(tmp_path_factory.mktemp("book") / "repo")
    proc = run_analysis(repo, "build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return repo, proc
