"""The published edition: citation file, licences, launch configuration, locks, lint, the plain
`jupyter-book build .` guard and the build stamp."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from analysis.build import publication
from conftest import copy_repo, run_analysis

ROOT = Path(__file__).resolve().parent.parent
# The Citation File Format 1.2.0 schema, as shipped in the cffconvert 2.0.0 wheel
# (cffconvert/schemas/1.2.0/schema.json), so validation needs no network.
CFF_SCHEMA = Path(__file__).parent / "fixtures" / "cff-schema-1.2.0.json"


class _StringDates(yaml.SafeLoader):
    """YAML without the timestamp resolver: CFF dates are strings for the schema."""


_StringDates.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}


def _cff() -> dict:
    return yaml.load((ROOT / "CITATION.cff").read_text(encoding="utf-8"), Loader=_StringDates)


def _config() -> dict:
    return yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ citation and licences
def test_citation_cff_is_valid_and_cites_the_brief_as_the_briefs():
    schema = json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))
    cff = _cff()
    jsonschema.validate(cff, schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    assert cff["authors"] == [{"name": "Chinese blockchain re-run contributors"}]
    assert set(cff["license"]) == {"MIT", "CC-BY-4.0"}
    refs = {r["title"]: r for r in cff["references"]}
    brief = next(r for t, r in refs.items() if t.startswith("Chinese Blockchain"))
    assert {a["family-names"] for a in brief["authors"]} == {"Hai", "Klingler-Vidra"}
    assert brief["year"] == 2022
    assert any(r["type"] == "database" and "Crunchbase" in r["title"] for r in refs.values())
    # the version and title agree with the package and the book
    assert str(cff["version"]) == _pyproject()["project"]["version"]
    assert cff["title"] == _config()["title"]


def test_a_broken_citation_file_fails_validation():
    schema = json.loads(CFF_SCHEMA.read_text(encoding="utf-8"))
    bad = _cff()
    bad["authors"] = [{"nickname": "x"}]  # an author needs a name or family-names
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


def test_licences_exist_and_the_footer_says_which_covers_what():
    assert "MIT License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    content = (ROOT / "LICENSE-CONTENT.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in content and "creativecommons.org/licenses/by/4.0/legalcode" in content
    footer = _config()["html"]["extra_footer"]
    assert "MIT" in footer and "CC BY 4.0" in footer and "Code" in footer and "figures" in footer
    assert _pyproject()["project"]["license"] == "MIT"
    bib = (ROOT / "book" / "references.bib").read_text(encoding="utf-8")
    assert "@misc{crunchbase2022," in bib
    assert "crunchbase2022" in (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    cite_page = (ROOT / "book" / "cite.md").read_text(encoding="utf-8")
    assert "{cite:t}`hai2022chinese`" in cite_page and "Chinese blockchain re-run contributors" in cite_page


# ------------------------------------------------------------------ running online
def test_one_repository_url_drives_buttons_and_citation():
    config = _config()
    url = config["repository"]["url"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url), url
    assert "PLACEHOLDER" in url  # until a publisher sets it (README says where)
    assert _cff()["repository-code"] == url
    html = config["html"]
    assert html["use_repository_button"] and html["use_issues_button"] and html["use_edit_page_button"]
    launch = config["launch_buttons"]
    assert launch["binderhub_url"].startswith("https://") and launch["jupyterhub_url"].startswith("https://")
    assert "analysis.build.publication" in config["sphinx"]["extra_extensions"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "repository.url" in readme


def test_repo2docker_configuration_is_consistent():
    # repo2docker reads binder/ only (so it does not `pip install .` the root pyproject.toml);
    # runtime.txt there (`python-X.Y`) picks its Python build pack and version, and postBuild
    # installs requirements.lock with the shared never-resolving installer. No requirements.txt:
    # repo2docker would install it with a resolving pip.
    binder = ROOT / "binder"
    for name in ("requirements.txt", "runtime.txt", "postBuild"):
        assert not (ROOT / name).exists(), f"{name} at the root is ignored next to binder/"
    assert not (binder / "requirements.txt").exists() and not (ROOT / ".binder").exists()
    runtime = (binder / "runtime.txt").read_text(encoding="utf-8").strip()
    m = re.fullmatch(r"python-3\.(\d+)", runtime)
    assert m, runtime
    requires = _pyproject()["project"]["requires-python"]
    assert requires == ">=3.11" and int(m.group(1)) >= 11
    post = binder / "postBuild"
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    assert "scripts/install_locked.py requirements.lock" in post.read_text(encoding="utf-8")
    # no second environment file that repo2docker would prefer over runtime.txt
    for other in ("environment.yml", "Pipfile", "Project.toml", "install.R", "apt.txt", "Dockerfile"):
        assert not (ROOT / other).exists() and not (binder / other).exists(), other
    # every chapter notebook names the kernel repo2docker provides
    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        meta = json.loads(nb.read_text(encoding="utf-8"))["metadata"]
        assert meta["kernelspec"]["name"] == "python3", nb.name


# ------------------------------------------------------------------ locks and hygiene
def _pins(path: Path) -> dict[tuple[str, str], str]:
    """(name, marker) -> version for every requirement; asserts each carries a hash."""
    text = path.read_text(encoding="utf-8")
    pins = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        first = block.split("\n", 1)[0]
        if not re.match(r"[A-Za-z0-9]", first):
            continue
        m = re.match(r"([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", first)
        assert m, f"{path.name}: not an exact pin: {first}"
        assert "--hash=sha256:" in block, f"{path.name}: {m.group(1)} has no hash"
        pins[(m.group(1).lower().replace("_", "-"), (m.group(3) or "").strip())] = m.group(2)
    return pins


def test_locks_are_hashed_record_python_and_test_deps_stay_out_of_runtime():
    runtime, test = _pins(ROOT / "requirements.lock"), _pins(ROOT / "requirements-test.lock")
    assert len(runtime) > 50
    for lock in ("requirements.lock", "requirements-test.lock"):
        head = (ROOT / lock).read_text(encoding="utf-8").splitlines()[:2]
        assert any(re.search(r"Python 3\.\d+\.\d+", ln) for ln in head), head
        assert any("Python >=3.11" in ln for ln in head), head
    # the test lock is the runtime lock plus the test extra, at the same versions
    for key, version in runtime.items():
        assert test.get(key) == version, key
    names = {name for name, _ in runtime}
    assert "pytest" not in names and "ruff" not in names
    assert {"pytest", "ruff", "jsonschema"} <= {name for name, _ in test}
    deps = " ".join(_pyproject()["project"]["dependencies"])
    assert "pytest" not in deps and "pytest" in " ".join(_pyproject()["project"]["optional-dependencies"]["test"])
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "--generate-hashes" in makefile and "scripts/install_locked.py --quiet requirements-test.lock" in makefile


def test_ruff_passes():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_pre_commit_hooks_are_local_and_cover_lint_pairs_and_outputs():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    repos = config["repos"]
    assert all(r["repo"] == "local" for r in repos)
    hooks = {h["id"]: h for r in repos for h in r["hooks"]}
    assert {"ruff", "jupytext-sync", "strip-outputs"} <= set(hooks)
    for hook in hooks.values():
        assert hook["language"] == "system"
        tool = hook["entry"].split()[0]
        assert tool.startswith(".venv/bin/"), hook["entry"]
        assert (ROOT / tool).exists() or not (ROOT / ".venv").exists(), tool


# ------------------------------------------------------------------ plain jupyter-book build
def test_plain_jupyter_book_build_stops_at_once_naming_make_book(tmp_path):
    repo = copy_repo(tmp_path / "repo")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
                           "build", "."], cwd=repo, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    assert proc.returncode != 0
    assert "make book" in proc.stdout + proc.stderr
    # it stopped before reading any page: no HTML was written
    assert not list((repo / "_build").rglob("*.html")), "a plain build wrote pages"
    assert seconds < 120


# ------------------------------------------------------------------ build stamp
def test_corpus_identity_names_the_bundled_corpus_or_hashes_the_users(tmp_path):
    assert "bundled simulated" in publication.corpus_identity("")
    assert "bundled simulated" in publication.corpus_identity(ROOT / "data" / "companies.csv")
    export = tmp_path / "export.csv"
    export.write_bytes(b"Organization Name,Headquarters Location\nA,Beijing\n")
    ident = publication.corpus_identity(export)
    assert hashlib.sha256(export.read_bytes()).hexdigest() in ident and "export.csv" in ident


def test_stamp_names_params_and_commit(tmp_path):
    stamp = publication.build_stamp(ROOT / "params" / "full.yml", "")
    assert stamp["params_file"] == "params/full.yml"
    commit = publication.git_commit(ROOT)
    if (ROOT / ".git").exists():
        assert commit and re.match(r"[0-9a-f]{12}", commit)
    assert publication.git_commit(tmp_path) is None  # not a git checkout
    assert "not available" in publication.stamp_text({**stamp, "commit": None})


@pytest.mark.book
def test_every_page_carries_stamp_licence_and_edit_link_to_the_py(built_book):
    repo, _ = built_book
    html = repo / "_build" / "html"
    pages = sorted((html / "book").glob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert 'class="build-stamp"' in text and "params/default.yml" in text, page.name
        assert "bundled simulated corpus" in text and "CC BY 4.0" in text, page.name
        if page.name != "cite.html":  # the footer's link, relative to the page
            assert 'href="cite.html"' in text, page.name
    # the repository address is still the placeholder: no button leads to it (issue 24)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "PLACEHOLDER" not in text and "example.org" not in text, page.name
    assert (html / "book" / "cite.html").exists()
    refs = (html / "book" / "references.html").read_text(encoding="utf-8")
    assert "Crunchbase" in refs and "Klingler-Vidra" in refs


@pytest.mark.book
def test_buttons_appear_once_a_publisher_sets_the_addresses(built_book, tmp_path):
    """With a real repository and JupyterHub address in _config.yml, the edit button (on the
    .py), the repository and issue buttons and the Binder and JupyterHub launch buttons appear."""
    repo, _ = built_book
    copy = tmp_path / "repo"
    shutil.copytree(repo, copy, symlinks=True, ignore=shutil.ignore_patterns(".venv", "node_modules"))
    config = copy / "_config.yml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("https://github.com/PLACEHOLDER-OWNER/chinese-blockchain-rerun",
                        "https://github.com/an-owner/chinese-blockchain-rerun")
    text = text.replace("https://hub.example.org", "https://hub.an-owner.org")
    config.write_text(text, encoding="utf-8")
    proc = run_analysis(copy, "build")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "running" not in proc.stdout  # only the site is made again
    data = (copy / "_build" / "html" / "book" / "03_data.html").read_text(encoding="utf-8")
    assert "github.com/an-owner/chinese-blockchain-rerun/edit/main/book/03_data.py" in data
    assert "mybinder.org/v2/gh/an-owner/chinese-blockchain-rerun/main?urlpath=lab/tree/book/03_data.ipynb" in data
    assert "hub.an-owner.org/hub/user-redirect/git-pull" in data
    assert "github.com/an-owner/chinese-blockchain-rerun/issues" in data


def test_only_working_buttons_are_kept():
    options = {"repository_url": "https://github.com/PLACEHOLDER-OWNER/x", "use_repository_button": True,
               "use_issues_button": True, "use_edit_page_button": True,
               "launch_buttons": {"binderhub_url": "https://mybinder.org", "jupyterhub_url": "https://hub.example.org"}}
    kept = publication.working_buttons(options)
    assert not any(kept[k] for k in publication.REPOSITORY_BUTTONS)
    assert kept["launch_buttons"] == {"binderhub_url": "", "jupyterhub_url": ""}
    real = publication.working_buttons({**options, "repository_url": "https://github.com/o/x"})
    assert all(real[k] for k in publication.REPOSITORY_BUTTONS)
    assert real["launch_buttons"] == {"binderhub_url": "https://mybinder.org", "jupyterhub_url": ""}


def test_footer_links_the_cite_page_relative_to_each_page_and_the_pdf_when_published():
    from types import SimpleNamespace

    def footer_for(pagename: str, pdf: bool) -> str:
        app = SimpleNamespace(edition_stamp={"pdf": pdf}, builder=SimpleNamespace(name="html"))
        depth = pagename.count("/")
        context = {"theme_extra_footer": f'<a href="{publication.CITE_LINK_MARK}">cite</a>',
                   "pathto": lambda target, *_: "../" * depth + target + ("" if _ else ".html")}
        publication._page_context(app, pagename, "page.html", context, None)
        return context["theme_extra_footer"]

    assert 'href="../book/cite.html"' in footer_for("book/03_data", pdf=False)
    assert "book.pdf" not in footer_for("book/03_data", pdf=False)
    published = footer_for("book/03_data", pdf=True)
    assert 'href="../book.pdf"' in published and "PDF" in published
