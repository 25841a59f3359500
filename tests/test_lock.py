"""The lock files and the one installer that `make env`, binder/postBuild and this test use.

The slow test installs requirements-test.lock into a fresh venv (Python's own bundled pip, not
upgraded) from a folder that holds the locked files for this platform plus a newer lxml, with no
index at all, and checks that exactly the lock's versions were installed and `pip check` passed.
"""

import ensurepip
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import parse_wheel_filename
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "install_locked.py"
LOCKS = ("requirements.lock", "requirements-test.lock", "requirements-build.lock")

_spec = importlib.util.spec_from_file_location("install_locked", SCRIPT)
install_locked = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(install_locked)


# ------------------------------------------------------------------ parsing and consistency (fast)
SAMPLE = """\
# a header comment
Foo_Bar==1.2 \\
    --hash=sha256:bbb \\
    --hash=sha256:aaa
    # via baz
lxml[html-clean]==6.1.3 ; python_full_version == '3.12.*' \\
    --hash=sha256:ccc
    # via
    #   -c requirements.lock
    #   justext
"""


def test_parse_lock_reads_names_versions_markers_and_hashes():
    pins = install_locked.parse_lock(SAMPLE)
    assert [(p.name, p.version, p.marker, p.hashes, p.lineno) for p in pins] == [
        ("foo-bar", "1.2", "", ("sha256:aaa", "sha256:bbb"), 2),
        ("lxml", "6.1.3", "python_full_version == '3.12.*'", ("sha256:ccc",), 6),
    ]


@pytest.mark.parametrize("text, message", [
    ("foo>=1.2 \\\n    --hash=sha256:aaa\n", "not pinned with =="),
    ("foo==1.2\n", "carries no --hash"),
    ("-r requirements.lock\n", "an option"),
    ("-e .\n", "an option"),
])
def test_parse_lock_refuses_what_is_not_an_exact_hashed_pin(text, message):
    with pytest.raises(install_locked.LockError, match=message):
        install_locked.parse_lock(text)


@pytest.mark.parametrize("lock", LOCKS)
def test_every_requirement_of_every_lock_is_pinned_and_hashed(lock):
    text = (ROOT / lock).read_text(encoding="utf-8")
    pins = install_locked.read_lock(ROOT / lock)  # raises on an unpinned or unhashed line
    # one pin per requirement line of the file (a line that starts with a name), none missed
    starts = [n for n, line in enumerate(text.splitlines(), 1) if re.match(r"[A-Za-z0-9]", line)]
    assert [p.lineno for p in pins] == starts
    assert all(p.hashes and all(h.startswith("sha256:") for h in p.hashes) for p in pins)
    head = text.splitlines()[:2]
    assert head[0].startswith(f"# {lock}: made by `make lock`") and re.search(r"Python 3\.\d+\.\d+", head[1])


def test_build_lock_pins_the_build_backend_exactly_as_the_main_locks_do():
    build = install_locked.read_lock(ROOT / "requirements-build.lock")
    assert {"setuptools", "wheel"} <= {p.name for p in build}
    assert all(p.marker == "" for p in build)  # the backend is the same on every platform
    for lock in ("requirements.lock", "requirements-test.lock"):
        main = install_locked.read_lock(ROOT / lock)
        assert install_locked.inconsistencies(build, main) == []
        for pin in build:  # the same check, spelled out: same version, same hashes
            for other in (p for p in main if p.name == pin.name):
                assert (other.version, other.hashes, other.marker) == (pin.version, pin.hashes, ""), (lock, pin)
    assert {p.name for p in build} <= {p.name for p in install_locked.read_lock(ROOT / "requirements.lock")}
    # it satisfies what pyproject.toml says the package is built with
    versions = {p.name: p.version for p in build}
    with open(ROOT / "pyproject.toml", "rb") as f:
        for req in map(Requirement, tomllib.load(f)["build-system"]["requires"]):
            assert req.specifier.contains(versions[install_locked.normalise(req.name)]), req


def test_inconsistencies_names_a_version_or_hash_that_differs():
    build = install_locked.parse_lock("setuptools==80 \\\n --hash=sha256:a\nwheel==1 \\\n --hash=sha256:w\n")
    same = install_locked.parse_lock("setuptools==80 \\\n --hash=sha256:a\n")
    newer = install_locked.parse_lock("setuptools==81 \\\n --hash=sha256:b\n")
    other_hash = install_locked.parse_lock("setuptools==80 \\\n --hash=sha256:b\n")
    assert install_locked.inconsistencies(build, same) == []  # wheel absent from the lock: fine
    assert install_locked.inconsistencies(build, newer) == ["setuptools: 80 in the build lock, 81 in the lock"]
    assert install_locked.inconsistencies(build, other_hash) == ["setuptools==80: other hashes than in the lock"]


def test_make_env_postbuild_and_make_lock_use_the_installer_and_the_build_lock():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "requirements-build.lock" in recipe.split("\n", 1)[0]  # a prerequisite of the stamp
    assert "$(BIN)/python scripts/install_locked.py --quiet requirements-test.lock" in recipe
    assert "pip install" not in recipe and "ipykernel install" in recipe and "touch $(STAMP)" in recipe
    lock = makefile.split("\nlock:", 1)[1].split("\n\n", 1)[0]
    assert "-o requirements-build.lock.tmp" in lock and "requirements-build.lock; do" in lock
    post = (ROOT / "binder" / "postBuild").read_text(encoding="utf-8")
    commands = [line for line in post.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1].endswith(" scripts/install_locked.py requirements.lock")
    assert not any(re.search(r"\bpip\b", line.split("#")[0]) for line in commands)  # no pip of its own


# ------------------------------------------------------------------ a real install, no index (slow)
def _applicable(pins, env):
    return {p.name: p.version for p in pins if not p.marker or Marker(p.marker).evaluate(env)}


@pytest.fixture(scope="session")
def locked_files(tmp_path_factory):
    """A folder with the locked files for this platform and Python, plus a release of lxml newer
    than the locked one. Returns (folder, newer lxml version)."""
    folder = tmp_path_factory.mktemp("locked-files")
    for lock in ("requirements-test.lock", "requirements-build.lock"):
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--require-hashes",
                               "-r", str(ROOT / lock), "-d", str(folder)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    locked = _applicable(install_locked.read_lock(ROOT / "requirements-test.lock"),
                         None)["lxml"]  # None: this interpreter's environment
    newer_dir = tmp_path_factory.mktemp("newer")
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                           f"lxml>{locked}", "-d", str(newer_dir)], capture_output=True, text=True)
    if proc.returncode:
        pytest.skip(f"no lxml release newer than the locked {locked} to tempt a resolver: {proc.stderr[-500:]}")
    (wheel,) = newer_dir.iterdir()
    newer = str(parse_wheel_filename(wheel.name)[1])
    assert Version(newer) > Version(locked)
    shutil.copy2(wheel, folder)
    return folder, newer


@pytest.mark.slow
def test_fresh_venv_gets_exactly_the_lock_from_a_folder_without_index(locked_files, tmp_path):
    folder, newer = locked_files
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_FIND_LINKS=str(folder),
               # no wheel cache: the locked sdists are built here, with the locked setuptools
               PIP_NO_CACHE_DIR="1", PIP_DISABLE_PIP_VERSION_CHECK="1")

    def run(*args):
        return subprocess.run([python, *args], env=env, cwd=tmp_path, capture_output=True, text=True)

    def pip_version():
        return run("-c", "import pip; print(pip.__version__)").stdout.strip()

    bundled = ensurepip.version()
    assert pip_version() == bundled
    proc = run(str(SCRIPT), str(ROOT / "requirements-test.lock"))
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-6000:]
    assert "4/4 pip check" in log and "No broken requirements found." in log, log[-3000:]
    assert "Building wheel for jieba" in log  # the sdist was built, with the build lock's setuptools

    probe = run("-c", "import importlib.metadata as m, importlib.util as u, json; "
                      "from packaging.markers import default_environment as e; "
                      "print(json.dumps([e(), {d.metadata['Name']: d.version for d in m.distributions()}, "
                      "u.find_spec('analysis').origin]))")
    assert probe.returncode == 0, probe.stderr
    marker_env, installed, origin = json.loads(probe.stdout)
    installed = {install_locked.normalise(name): version for name, version in installed.items()}
    expected = _applicable(install_locked.read_lock(ROOT / "requirements-test.lock"), marker_env)
    expected |= _applicable(install_locked.read_lock(ROOT / "requirements-build.lock"), marker_env)
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    expected |= {"analysis": project["version"], "pip": bundled}  # the package, and pip as bundled
    assert installed == expected, {k: (installed.get(k), expected.get(k))
                                   for k in installed.keys() | expected.keys() if installed.get(k) != expected.get(k)}
    assert installed["lxml"] != newer
    assert Path(origin).resolve() == ROOT / "analysis" / "__init__.py"  # editable, from this tree
    assert pip_version() == bundled
    check = run("-m", "pip", "check")
    assert check.returncode == 0, check.stdout + check.stderr
