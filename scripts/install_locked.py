#!/usr/bin/env python3
"""Install a hashed lock file into this interpreter's environment without resolving anything.

    python scripts/install_locked.py [--quiet] [LOCK]      (LOCK: requirements-test.lock)

`make env` (with requirements-test.lock), binder/postBuild (with requirements.lock) and
tests/test_lock.py all call this one file, so every install of the project takes the same steps:

1. the build backend from requirements-build.lock (setuptools, wheel and what they need; wheels
   only, hashes required). The lock's sdists (today jieba and fontmeta) are built with it in
   step 2, not with a setuptools that an isolated build environment would fetch from the index;
2. `pip install --no-deps --require-hashes --no-build-isolation -r LOCK`: exactly the lines of
   the lock that apply to this platform and Python. With --no-deps pip reads no dependency
   metadata, so it cannot pick a release the lock does not name (pip 23.2.1, the one Python
   3.11's venv brings, did: justext asks for `lxml[html_clean]`, pip resolved it to a newer lxml
   and then refused it for lacking a hash);
3. `pip install --no-deps --no-build-isolation -e .`: the `analysis` package itself;
4. `pip check`: the install fails if a locked package's requirements are not met.

Before step 1 it checks that every package requirements-build.lock shares with LOCK has the same
version and hashes there (`make lock` writes the build lock with the main lock as a constraint).

Why a Python script and not Makefile lines or a shell script: it must run in a fresh venv before
anything is installed (so it uses the standard library only), it installs into the environment of
whichever interpreter runs it (`sys.executable -m pip`: .venv's python for make, the kernel
environment's python under repo2docker, a throwaway venv in the test), the consistency check
needs the lock parsed, and the tests import its parser instead of keeping a second one.
It uses only pip options that pip 23.2.1 already has, and never upgrades pip.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
BUILD_LOCK = ROOT / "requirements-build.lock"
DEFAULT_LOCK = ROOT / "requirements-test.lock"

# `name[extras]==version ; marker` (what uv writes); the --hash options are taken off first.
_PIN = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;]+)\s*(?:;\s*(.*?))?\s*")
_HASH = re.compile(r"--hash[=\s]+(\S+)")


class LockError(ValueError):
    """A lock line that is not an exact, hashed pin."""


class Pin(NamedTuple):
    name: str  # normalised as in PEP 503: lower case, runs of -_. as one -
    version: str
    marker: str  # the environment marker after `;`, "" when the line has none
    hashes: tuple[str, ...]  # sorted, as written: "sha256:..."
    lineno: int  # where the requirement starts in the file


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(text: str) -> list[Pin]:
    """Every requirement of a pip requirements file written by `uv pip compile --generate-hashes`.

    Raises LockError for a requirement that is not pinned with `==`, has no hash, or for an
    option line (-r, -e, --index-url, ...): a lock here holds nothing but hashed pins.
    """
    pins: list[Pin] = []
    logical, start = "", 0
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not logical:
            start = lineno
        if line.endswith("\\"):
            logical += line[:-1] + " "
            continue
        logical += line
        if logical.strip():
            pins.append(_parse_requirement(logical.strip(), start))
        logical = ""
    if logical.strip():
        pins.append(_parse_requirement(logical.strip(), start))
    return pins


def _parse_requirement(text: str, lineno: int) -> Pin:
    hashes = tuple(sorted(_HASH.findall(text)))
    spec = _HASH.sub("", text).strip()
    if spec.startswith("-"):
        raise LockError(f"line {lineno}: an option, not a pinned requirement: {spec}")
    m = _PIN.fullmatch(spec)
    if not m:
        raise LockError(f"line {lineno}: not pinned with ==: {spec}")
    if not hashes:
        raise LockError(f"line {lineno}: {m.group(1)}=={m.group(2)} carries no --hash")
    return Pin(normalise(m.group(1)), m.group(2), (m.group(3) or "").strip(), hashes, lineno)


def read_lock(path: Path) -> list[Pin]:
    try:
        return parse_lock(path.read_text(encoding="utf-8"))
    except LockError as err:
        raise LockError(f"{path.name}: {err}") from None


def inconsistencies(build: list[Pin], lock: list[Pin]) -> list[str]:
    """What the build lock pins differently from the main lock (empty when they agree).

    A package of the build lock that the main lock also names must be there with the same
    version and the same hashes; one the main lock lacks is fine (step 2 leaves it alone).
    """
    problems = []
    for pin in build:
        same = [p for p in lock if p.name == pin.name]
        if not same or any((p.version, p.hashes) == (pin.version, pin.hashes) for p in same):
            continue
        theirs = sorted({p.version for p in same})
        if pin.version in theirs:
            problems.append(f"{pin.name}=={pin.version}: other hashes than in the lock")
        else:
            problems.append(f"{pin.name}: {pin.version} in the build lock, {', '.join(theirs)} in the lock")
    return problems


def _pip(*args: str, step: str) -> None:
    cmd = [sys.executable, "-m", "pip", *args]
    print(f"install_locked: {step}: {' '.join(cmd[2:])}", flush=True)
    code = subprocess.run(cmd).returncode
    if code:
        sys.exit(f"install_locked: {step} failed (pip exited with {code})")


def install(lock: Path, build_lock: Path = BUILD_LOCK, project: Path = ROOT, quiet: bool = False) -> None:
    problems = inconsistencies(read_lock(build_lock), read_lock(lock))
    if problems:
        sys.exit(f"install_locked: {build_lock.name} disagrees with {lock.name} (run `make lock`):\n  "
                 + "\n  ".join(problems))
    q = ["--quiet"] if quiet else []
    _pip("install", *q, "--no-deps", "--require-hashes", "--only-binary=:all:", "-r", str(build_lock),
         step="1/4 build backend")
    _pip("install", *q, "--no-deps", "--require-hashes", "--no-build-isolation", "-r", str(lock),
         step="2/4 locked packages")
    _pip("install", *q, "--no-deps", "--no-build-isolation", "-e", str(project), step="3/4 the project")
    _pip("check", step="4/4 pip check")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("lock", nargs="?", type=Path, default=DEFAULT_LOCK,
                        help="the hashed lock to install (default: requirements-test.lock)")
    parser.add_argument("--build-lock", type=Path, default=BUILD_LOCK,
                        help="the hashed build backend lock (default: requirements-build.lock)")
    parser.add_argument("-q", "--quiet", action="store_true", help="pass --quiet to pip install")
    args = parser.parse_args(argv)
    try:
        install(args.lock, args.build_lock, ROOT, args.quiet)
    except (LockError, OSError) as err:
        sys.exit(f"install_locked: {err}")


if __name__ == "__main__":
    main()
