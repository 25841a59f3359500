"""The Reproduce chapter: a parameter table and papermill commands generated from the schema,
shown verbatim (straight quotes) and runnable as printed."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analysis import params as P
from analysis.present import reproduce, tables

ROOT = Path(__file__).resolve().parent.parent
CURLY = {"\u2018", "\u2019", "\u201c", "\u201d"}
VENV_BIN = Path(sys.executable).parent  # where papermill is installed beside this interpreter


# --------------------------------------------------------------------------- the parameter table
def test_parameter_table_lists_every_parameter_of_the_schema():
    values = dict(P.defaults(), n_perm_shares=123, keyness_adjust="none")
    table = reproduce.parameter_table(reproduce.build_values(values))
    assert list(table["parameter"]) == P.user_names()
    for name in ("keyness_adjust", "n_perm_shares", "text_replicates", "corpus_path", "alpha"):
        assert name in set(table["parameter"])
    assert {"parameter", "type", "default", "value", "meaning", "chapters"} <= set(table.columns)
    row = table.set_index("parameter")
    assert row.loc["n_perm_shares", "value"] == "123" and row.loc["n_perm_shares", "default"] == "10000"
    assert row.loc["keyness_adjust", "value"] == "none"
    assert row.loc["corpus_path", "value"] == "''" and row.loc["cohort_edges", "type"] == "list[int]"
    # the same rows as the README's generated table (one generator)
    for r in P.table_rows():
        assert row.loc[r["parameter"], "meaning"] == r["meaning"] == P.description(r["parameter"])
        assert row.loc[r["parameter"], "chapters"] == r["chapters"]
        assert f"| `{r['parameter']}` | `{r['type']}` |" in P.markdown_table()


def test_build_values_names_a_parameter_the_chapter_does_not_declare():
    values = P.defaults()
    del values["text_replicates"]
    with pytest.raises(KeyError, match="text_replicates"):
        reproduce.build_values(values)


def test_a_path_inside_the_repository_is_shown_relative_to_its_root(tmp_path):
    inside = str(ROOT / "data" / "companies.csv")
    assert reproduce.as_given("corpus_path", inside) == "data/companies.csv"
    assert reproduce.as_given("corpus_path", str(tmp_path / "x.csv")) == str(tmp_path / "x.csv")
    assert reproduce.as_given("coder", "") == ""


def test_code_columns_render_as_literals_even_with_a_pipe():
    from markdown_it import MarkdownIt

    df = tables.save(reproduce.parameter_table(reproduce.build_values(
        dict(P.defaults(), corpus_path="/x/a|b c.csv"))), "parameters", None)
    text = tables.table_markdown(df, "parameters", code=reproduce.PARAMETER_CODE_COLUMNS)
    body = "\n".join(line for line in text.splitlines() if line.startswith("|"))
    page = MarkdownIt("commonmark").enable("table").render(body)
    assert "<code>/x/a|b c.csv</code>" in page and "<code>''</code>" in page


# --------------------------------------------------------------------------- commands
FAKE_PAPERMILL = """\
import json, os, sys
import papermill.cli as cli

def capture(input_path, output_path, parameters=None, **kwargs):
    with open(os.environ["CAPTURE_FILE"], "w", encoding="utf-8") as fh:
        json.dump({"input": input_path, "output": output_path, "parameters": parameters}, fh)

cli.execute_notebook = capture
sys.exit(cli.papermill())
"""


def _fake_papermill(folder: Path) -> Path:
    """A ``papermill`` on PATH that parses its arguments with papermill's own CLI and writes the
    parameters it would inject, instead of running the notebook."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    script = bin_dir / "papermill"
    script.write_text(f"#!{sys.executable}\n{FAKE_PAPERMILL}", encoding="utf-8")
    script.chmod(0o755)
    return bin_dir


def _through_a_shell(command: str, folder: Path, bin_dir: Path) -> dict:
    capture = folder / "capture.json"
    capture.unlink(missing_ok=True)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", CAPTURE_FILE=str(capture))
    proc = subprocess.run(command, shell=True, cwd=folder, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(capture.read_text(encoding="utf-8"))


@pytest.mark.skipif(os.name == "nt", reason="the printed commands are for a POSIX shell")
def test_commands_pass_the_builds_values_unchanged_through_a_shell(tmp_path):
    awkward = "/data/my export's \"v2\" $HOME `id` ; a|b & *.csv"
    values = dict(P.defaults(), corpus_path=awkward, website_snapshot="2020", coder="",
                  cohort_edges=[2015, 2019, 2023], text_fields=["description"], alpha=0.01)
    declared = {**dict.fromkeys(P.FIELDS), "tables_dir": ""}
    command = reproduce.chapter_command("08_convergence", declared, values)
    bin_dir = _fake_papermill(tmp_path)
    for text in (command.line(), command.block()):
        got = _through_a_shell(text, tmp_path, bin_dir)
        assert got["input"] == "book/08_convergence.ipynb"
        assert got["output"] == "_build/rerun/08_convergence.ipynb"
        expected = {**values, "tables_dir": "_build/rerun/tables"}
        assert got["parameters"] == expected
        assert type(got["parameters"]["alpha"]) is float and got["parameters"]["website_snapshot"] == "2020"
        assert (tmp_path / "_build" / "rerun").is_dir()
    assert "\n" not in command.line() and command.block().count(" \\\n    ") == len(command.groups) - 1


def test_each_chapter_gets_the_parameters_it_declares_in_schema_order():
    commands = {c.chapter: c for c in reproduce.chapter_commands(P.defaults())}
    assert list(commands) == list(P.CHAPTERS)
    for chapter, command in commands.items():
        names = [g[1] if g[0] in ("-p", "-r") else g[1].split(":", 1)[0] for g in command.groups[1:]]
        expected = (["tables_dir"] if "tables_dir" in P.declared_by(chapter) else []) + \
            [n for n in P.declared_by(chapter) if n != "tables_dir"]
        assert names == expected, chapter
    assert "-p n_perm_shares 10000" in commands["08_convergence"].line()
    assert "-p text_replicates 5" in commands["09_validation"].line()
    assert "-r keyness_adjust bh" in commands["04_beijing"].line()
    assert commands["03_data"].line().endswith("-r corpus_path '' -r website_snapshot '' -y 'withhold_texts: false'")


def test_commands_markdown_puts_each_command_in_a_fenced_block():
    commands = reproduce.chapter_commands(P.defaults())
    text = reproduce.commands_markdown(commands)
    assert text.count("```bash\n") == len(commands)
    assert commands[2].block() in text and "`book/03_data.ipynb`:" in text


# --------------------------------------------------------------------------- the built page
class _Literals(HTMLParser):
    """The text of every <pre> and <code> element of a page, and of the table with a given id."""

    def __init__(self, table_id: str):
        super().__init__(convert_charrefs=True)
        self.table_id, self.pre, self.code, self.table = table_id, [], [], []
        self._pre = self._code = None
        self._in_table = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "pre":
            self._pre = []
        elif tag == "code":
            self._code = []
        elif tag == "table" and (attrs.get("id") == self.table_id or self._in_table):
            self._in_table += 1
        elif tag == "tr" and self._in_table:
            self.table.append([])
        elif tag in ("td", "th") and self._in_table:
            self.table[-1].append("")

    def handle_endtag(self, tag):
        if tag == "pre" and self._pre is not None:
            self.pre.append("".join(self._pre))
            self._pre = None
        elif tag == "code" and self._code is not None:
            self.code.append("".join(self._code))
            self._code = None
        elif tag == "table" and self._in_table:
            self._in_table -= 1

    def handle_data(self, data):
        if self._pre is not None:
            self._pre.append(data)
        if self._code is not None:
            self._code.append(data)
        if self._in_table and self.table and self.table[-1]:
            self.table[-1][-1] += data


def _page(repo: Path) -> _Literals:
    parser = _Literals("tbl-parameters")
    parser.feed((repo / "_build" / "html" / "book" / "11_reproduce.html").read_text(encoding="utf-8"))
    return parser


@pytest.mark.book
def test_the_page_shows_every_parameter_and_command_with_straight_quotes(built_book):
    repo, _ = built_book
    page = _page(repo)
    commands = [t for t in page.pre if "papermill book/" in t]
    assert len(commands) == len(P.CHAPTERS)
    for text in commands + page.code:
        assert not CURLY & set(text), text
    head, *rows = [[cell.strip() for cell in r] for r in page.table if r]
    assert head[:4] == ["parameter", "type", "default", "value"]
    assert [r[0] for r in rows] == P.user_names()
    assert {r[0]: r[3] for r in rows}["corpus_path"] == "''"
    # the page shows what the CSV holds
    with open(repo / "_build" / "tables" / "papermill_commands.csv", encoding="utf-8") as fh:
        lines = {r["chapter"]: r["command"] for r in csv.DictReader(fh)}
    for text in commands:
        chapter = text.split("papermill book/", 1)[1].split(".ipynb", 1)[0]
        assert " ".join(text.replace(" \\\n", " ").split()) == " ".join(lines[chapter].split())


@pytest.mark.book
def test_a_printed_command_runs_as_printed_and_writes_the_builds_tables(built_book):
    """The 03_data command as the page shows it, pasted into a shell at the repository root."""
    repo, _ = built_book
    command = next(t for t in _page(repo).pre if "papermill book/03_data.ipynb" in t)
    assert "-r corpus_path ''" in command
    rerun = repo / "_build" / "rerun"
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", PYTHONPATH=str(repo))
    try:
        proc = subprocess.run(command, shell=True, cwd=repo, env=env, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert (rerun / "03_data.ipynb").exists()
        built = repo / "_build" / "tables"
        names = ["firms_per_city", "text_coverage", "exclusions", "firms"]
        for name in names:
            assert (rerun / "tables" / f"{name}.csv").read_bytes() == (built / f"{name}.csv").read_bytes(), name
    finally:
        shutil.rmtree(rerun, ignore_errors=True)
