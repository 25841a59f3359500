"""The PDF edition (`make pdf`): one PDF with every figure, tables as tables, no raw markup or
unresolved references, CJK glyphs embedded, the same bytes on a rebuild. Pages are rendered with
poppler's pdftoppm; the test skips where poppler is missing, and fails so under CI=true."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from conftest import require_tool, run_analysis

POPPLER = ("pdftoppm", "pdfinfo", "pdftotext", "pdfimages", "pdffonts")
#: what must never reach a reader: unresolved references and MyST/LaTeX/IPython markup
RAW = ["??", "\\begin{", "\\end{", "$$", "{cite", "{glue", "{ref}", "{numref}", "{doc}", ":::", "```",
       "<IPython", "HTML object>", "Loading ITables", "Traceback"]


@pytest.fixture(scope="module")
def pdf_book(built_book):
    require_tool(*POPPLER)
    repo, _ = built_book
    env_epoch = {"SOURCE_DATE_EPOCH": "1767225600"}
    noop = run_analysis(repo, "build")  # make book twice, then make pdf: the stage is still there
    assert noop.returncode == 0 and "Sphinx not run" in noop.stdout, noop.stdout + noop.stderr
    proc = _pdf(repo, env_epoch)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    pdf = repo / "_build" / "pdf" / "book.pdf"
    return repo, pdf, pdf.read_bytes(), env_epoch


def _pdf(repo: Path, env: dict) -> subprocess.CompletedProcess:
    full = dict(os.environ, PYTHONPATH=str(repo), **env)
    return subprocess.run([sys.executable, "-m", "analysis", "pdf"], cwd=repo, env=full,
                          capture_output=True, text=True)


def _singlehtml(repo: Path) -> Path:
    return repo / "_build" / "pdf-src" / "singlehtml" / "book" / "01_introduction.html"


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


@pytest.mark.book
def test_pdf_pages_render_and_count_is_sane(pdf_book, tmp_path):
    repo, pdf, _, _ = pdf_book
    pages = _pages(pdf)
    assert 30 <= pages <= 400, pages
    subprocess.run(["pdftoppm", "-r", "24", "-png", str(pdf), str(tmp_path / "p")], check=True)
    pngs = sorted(tmp_path.glob("p-*.png"))
    assert len(pngs) == pages
    blank = [p.name for p in pngs if Image.open(p).convert("L").getextrema()[0] > 200]
    assert not blank, f"pages with nothing on them: {blank}"
    # make pdf leaves the site as it was (make publish puts the PDF beside the pages), and the next
    # build has nothing to do
    assert not (repo / "_build" / "html" / "book.pdf").exists()
    again = run_analysis(repo, "build")
    assert again.returncode == 0 and "Sphinx not run" in again.stdout and "running" not in again.stdout


@pytest.mark.book
def test_pdf_has_every_figure(pdf_book):
    repo, pdf, _, _ = pdf_book
    html = _singlehtml(repo)
    images_dir = html.parent.parent  # singlehtml links are relative to its top folder
    srcs = re.findall(r'<img[^>]+src="([^"]+\.png)"', html.read_text(encoding="utf-8"))
    assert len(srcs) >= 5, srcs
    wanted = Counter(Image.open(images_dir / s).size for s in srcs)
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    found = Counter()
    for line in listing.splitlines()[2:]:
        cols = line.split()
        if len(cols) > 4 and cols[2] == "image":
            found[(int(cols[3]), int(cols[4]))] += 1
    missing = wanted - found
    assert not missing, f"figures missing from the PDF (pixel sizes): {dict(missing)}"


@pytest.mark.book
def test_pdf_text_has_no_raw_markup_and_keeps_tables_and_references(pdf_book, tmp_path):
    repo, pdf, _, _ = pdf_book
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    found = [token for token in RAW if token in text]
    assert not found, f"raw markup or unresolved references in the PDF: {found}"
    assert re.search(r"Table \d+", text) and re.search(r"Fig(ure|\.) ?\d+", text)
    assert "Klingler-Vidra" in text and "Crunchbase" in text  # the bibliography
    assert "Built with params/default.yml" in text  # the build stamp
    # HTML tables arrive as tables: the firm table's first firm and a keyness table's header
    import pandas as pd

    firms = pd.read_csv(repo / "_build" / "tables" / "firms.csv")
    assert firms["name"].iloc[0].split()[0] in text
    assert "description" in text and "founded" in text
    # Chinese glyphs: where the book shows Chinese text, a CJK font is embedded and the text extracts
    html = _singlehtml(repo).read_text(encoding="utf-8")
    cjk = re.findall(r"[\u4e00-\u9fff]{2,}", re.sub(r"<script.*?</script>", "", html, flags=re.S))
    if cjk:
        fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        assert "CJK" in fonts, fonts
        assert any(word in text for word in cjk[:20])


@pytest.mark.book
def test_pdf_bytes_are_stable_across_rebuilds(pdf_book):
    repo, pdf, first, env = pdf_book
    proc = _pdf(repo, env)
    assert proc.returncode == 0, proc.stderr
    second = pdf.read_bytes()
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    # the date is SOURCE_DATE_EPOCH's (1 January 2026), not the clock's
    info = subprocess.run(["pdfinfo", "-isodates", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^CreationDate:\s+2026-01-01T00:00:00", info, re.M), info


def test_chinese_text_reaches_the_pdf_in_the_bundled_cjk_font(tmp_path):
    require_tool("pdftotext", "pdffonts")
    from analysis.build.pdf import render_pdf

    top = tmp_path / "singlehtml"
    (top / "book").mkdir(parents=True)
    page = top / "book" / "index.html"
    page.write_text('<html><body><article class="bd-article"><h1>Key terms</h1><table><tr><th>term</th>'
                    '<th>gloss</th></tr><tr><td>区块链</td><td>blockchain</td></tr><tr><td>北京</td>'
                    '<td>Beijing</td></tr></table></article></body></html>', encoding="utf-8")
    pdf = render_pdf(page, tmp_path / "x.pdf")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    assert "区块链" in text and "北京" in text and "blockchain" in text
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Noto-Sans-CJK-SC" in fonts


def test_pdf_on_a_fresh_clone_builds_what_it_needs(tmp_path):
    """``make pdf`` before any build: it builds the book first, then prints it."""
    from test_runner import _small_book

    repo = _small_book(tmp_path / "repo")
    env = dict(os.environ, PYTHONPATH=str(repo), SOURCE_DATE_EPOCH="1767225600")
    proc = subprocess.run([sys.executable, "-m", "analysis", "pdf", "--params", "params/small.yml"], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "running 2 chapter(s)" in proc.stdout and (repo / "_build" / "html" / "index.html").exists()
    assert (repo / "_build" / "pdf" / "book.pdf").read_bytes().startswith(b"%PDF")
    again = subprocess.run([sys.executable, "-m", "analysis", "pdf", "--params", "params/small.yml"], cwd=repo,
                           env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and "running" not in again.stdout, again.stdout + again.stderr
