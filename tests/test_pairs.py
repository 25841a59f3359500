"""Every chapter is a jupytext pair: the .py (source of truth) and the committed .ipynb agree,
the notebook carries no outputs, a python3 kernelspec and exactly one `parameters` cell."""

from pathlib import Path

import jupytext
import pytest
from jupytext.compare import compare_notebooks

from analysis.build.runner import read_toc

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = read_toc().chapters


def check_pair(py: Path, ipynb: Path) -> None:
    """Raise if the two files of a pair differ in content (cells, sources, cell types, tags)."""
    nb_py = jupytext.read(py)
    nb_ipynb = jupytext.read(ipynb)
    compare_notebooks(nb_ipynb, nb_py, fmt="py:percent", allow_expected_differences=False)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_pair_in_sync(chapter):
    check_pair(chapter.source, chapter.source.with_suffix(".ipynb"))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda c: c.name)
def test_notebook_committed_clean(chapter):
    nb = jupytext.read(chapter.source.with_suffix(".ipynb"))
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{chapter.name}: committed with outputs"
            assert cell.execution_count is None
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1


def test_pair_check_catches_unsynced_edit(tmp_path):
    chapter = CHAPTERS[0]
    py = tmp_path / "x.py"
    ipynb = tmp_path / "x.ipynb"
    ipynb.write_bytes(chapter.source.with_suffix(".ipynb").read_bytes())
    py.write_text(chapter.source.read_text() + "\n# %%\nprint('an edit the notebook lacks')\n")
    with pytest.raises(Exception):
        check_pair(py, ipynb)
    # and the unedited pair passes
    py.write_text(chapter.source.read_text())
    check_pair(py, ipynb)


def test_every_book_py_is_in_the_toc():
    listed = {c.source.name for c in CHAPTERS}
    on_disk = {p.name for p in (ROOT / "book").glob("[0-9][0-9]_*.py")}
    assert on_disk == listed
