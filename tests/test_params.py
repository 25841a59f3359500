"""The typed parameter schema: ranges and types, one message per bad parameter, checks before any
kernel starts, the same check under plain papermill, and generated cells/README that cannot drift."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from analysis.build import runner as B
from analysis.data import corpus
from analysis import params

ROOT = Path(__file__).resolve().parent.parent


def _problems(values: dict) -> list[str]:
    with pytest.raises(params.ParameterError) as err:
        params.validate(values)
    return err.value.problems


@pytest.mark.parametrize("name, value, words", [
    ("alpha", 2, "less than 1"),
    ("alpha", 0, "greater than 0"),
    ("alpha", True, "true/false"),
    ("seed", 1.5, "fractional"),
    ("seed", None, "integer"),
    ("seed", -1, "greater than or equal to 0"),
    ("n_perm", True, "true/false"),
    ("n_perm", "abc", "integer"),
    ("n_boot", -5, "greater than or equal to 0"),
    ("min_df", 0, "greater than or equal to 1"),
    ("text_fields", [], "at least 1"),
    ("text_fields", ["nonexistent_column"], "description"),
    ("text_fields", ["description", "description"], "each field once"),
    ("cohort_edges", "abc", "integer"),
    ("cohort_edges", [2020, 2014], "strictly increasing"),
    ("cohort_edges", [2014, 2014, 2020], "strictly increasing"),
    ("cohort_edges", [2014], "at least 2"),
    ("cohort_edges", [14, 17], "greater than or equal to 1900"),
    ("corpus_path", 123, "string"),
    ("replicates", 0, "greater than or equal to 1"),
])
def test_bad_values_are_refused_with_their_name_and_description(name, value, words):
    problems = _problems({name: value})
    assert len(problems) == 1
    assert problems[0].startswith(f"{name}=")
    assert words in problems[0], problems[0]
    assert params.description(name) in problems[0]


def test_one_message_per_bad_parameter_and_good_values_normalised():
    problems = _problems({"alpha": 2, "seed": 1.5, "n_perm": True, "min_df": 0, "text_fields": [],
                          "cohort_edges": [2014, "x", 2010]})
    assert [p.split("=")[0] for p in problems] == ["text_fields", "min_df", "seed", "cohort_edges",
                                                  "n_perm", "alpha"]
    ok = params.validate({"text_fields": "description,website_text", "cohort_edges": "[2014, 2018, 2023]",
                          "seed": 2.0, "alpha": "0.01"})
    assert ok["text_fields"] == ["description", "website_text"]
    assert ok["cohort_edges"] == [2014, 2018, 2023]
    assert ok["seed"] == 2 and isinstance(ok["seed"], int) and ok["alpha"] == 0.01
    assert ok["n_perm"] == params.defaults()["n_perm"]  # defaults filled in


def test_schema_matches_the_corpus_and_the_parameter_files():
    assert list(params.TEXT_COLUMNS) == corpus.TEXT_COLUMNS
    for name in ("default.yml", "full.yml"):
        values = yaml.safe_load((ROOT / "params" / name).read_text())
        params.validate(values)  # every shipped file passes the schema (a key left out: its default)
        assert set(values) <= set(params.user_names()), name
    defaults = yaml.safe_load((ROOT / "params" / "default.yml").read_text())
    # the fast file states the schema's defaults (chapters run alone get the same values)
    assert {k: params.defaults()[k] for k in defaults} == defaults


def test_chapters_declare_what_the_schema_says():
    book = B.read_toc()
    for chapter in book.chapters:
        declared = B.declared_in(B.parameters_cell(B.read_chapter(chapter), chapter.name))
        assert list(declared) == params.declared_by(chapter.name), chapter.name
        for name, value in declared.items():
            assert value == params.defaults()[name], (chapter.name, name)


def test_generated_cells_and_readme_do_not_drift(tmp_path):
    assert params.drift(ROOT) == []
    # an edit to a chapter's parameters cell is caught, and --write would put it back
    for name in ("book", "README.md"):
        src = ROOT / name
        (tmp_path / name).parent.mkdir(exist_ok=True)
        if src.is_dir():
            import shutil
            shutil.copytree(src, tmp_path / name)
        else:
            (tmp_path / name).write_text(src.read_text())
    py = tmp_path / "book" / "08_convergence.py"
    py.write_text(py.read_text().replace("alpha: float = 0.05", "alpha = 0.05"))
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text().replace("`n_perm`", "`n_permutations`"))
    assert params.drift(tmp_path) == sorted([str(py), str(readme)])
    generated = params.generated_files(tmp_path)
    assert "alpha: float = 0.05  # significance level" in generated[py]


def test_papermill_help_describes_every_parameter():
    proc = subprocess.run([sys.executable, "-m", "papermill", "--help-notebook",
                           str(ROOT / "book" / "08_convergence.ipynb")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for name in params.declared_by("08_convergence"):
        line = next(ln for ln in proc.stdout.splitlines() if ln.strip().startswith(name + ":"))
        assert params.type_name(name) in line and params.description(name)[:30] in proc.stdout, line


def test_papermill_run_checks_in_the_first_cell(tmp_path):
    out = tmp_path / "x.ipynb"
    proc = subprocess.run(
        [sys.executable, "-m", "papermill", str(ROOT / "book" / "10_policy.ipynb"), str(out),
         "-p", "alpha", "2", "-p", "n_perm", "True", "-y", "cohort_edges: abc"],
        cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode != 0
    assert "ParameterError" in proc.stderr
    for name in ("alpha=2", "n_perm=true", "cohort_edges=abc"):
        assert name in proc.stderr, name
    nb = json.loads(out.read_text())
    failed = [c for c in nb["cells"] if c["cell_type"] == "code"
              and any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert len(failed) == 1 and "_check_parameters" in "".join(failed[0]["source"])


def _cli(*args, cwd=ROOT):
    env = dict(os.environ)
    return subprocess.run([sys.executable, "-m", "analysis", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_runner_refuses_bad_values_before_any_kernel(tmp_path):
    proc = _cli("build", "-p", "alpha=2", "-p", "seed=1.5", "-p", "n_perm=true", "-p", "min_df=0",
                "-p", "text_fields=[]", "-p", "corpus_path=123", "-p", "nope=1")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "running" not in proc.stdout
    lines = [ln.strip() for ln in proc.stderr.splitlines()]
    for start in ("alpha=2:", "seed=1.5:", "n_perm=true:", "min_df=0:", "text_fields=[]:",
                  "corpus_path=123:", "unknown parameter(s) nope"):
        assert sum(ln.startswith(start) for ln in lines) == 1, (start, proc.stderr)


def test_runner_checks_corpus_dependent_values_once(tmp_path):
    proc = _cli("build", "-p", "min_df=10000")
    assert proc.returncode == 1 and "min_df=10000" in proc.stderr and "firms" in proc.stderr
    assert "Traceback" not in proc.stderr and "running" not in proc.stdout
    proc = _cli("build", "-p", "text_fields=[website_text]", "-p", f"corpus_path={_export(tmp_path)}")
    assert proc.returncode == 1 and "text_fields" in proc.stderr and "no text" in proc.stderr


def _export(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_text("Organization Name,Headquarters Location,Description,Founded Date\n"
                    "A,Beijing,chain for the state,2016\nB,Shanghai,finance chain,2018\n"
                    "C,Shenzhen,token exchange,2019\n")
    return path


@pytest.mark.parametrize("case", ["missing", "directory", "loop", "unreadable", "bad_csv"])
def test_bad_corpus_fails_once_up_front(tmp_path, case):
    target = tmp_path / "c.csv"
    if case == "directory":
        target.mkdir()
    elif case == "loop":
        target.symlink_to(tmp_path / "c.csv")
    elif case == "unreadable":
        target.write_text("a,b\n1,2\n")
        target.chmod(0)
        if os.access(target, os.R_OK):
            pytest.skip("running as root: permissions are not enforced")
    elif case == "bad_csv":
        target.write_text("a,b\n1,2\n")
    proc = _cli("build", "-p", f"corpus_path={target}")
    assert proc.returncode == 1, proc.stdout
    assert "Traceback" not in proc.stderr and "running" not in proc.stdout
    assert proc.stderr.count("corpus check failed") == 1 and str(target) in proc.stderr
    words = {"missing": "no such file", "directory": "is a directory", "loop": "loop",
             "unreadable": "permission denied", "bad_csv": "expected columns"}[case]
    assert words in proc.stderr, proc.stderr


@pytest.mark.parametrize("content, words", [
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not UTF-8"),
    (b"alpha: [1, 2\n", "not valid YAML at line"),
    (b"- alpha\n- seed\n", "expected a mapping"),
    (b"just a string", "expected a mapping"),
])
def test_bad_params_file_is_a_message(tmp_path, content, words):
    pfile = tmp_path / "p.yml"
    pfile.write_bytes(content)
    proc = _cli("build", "--params", str(pfile))
    assert proc.returncode == 1 and words in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
