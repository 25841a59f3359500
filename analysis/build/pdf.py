"""The PDF edition: the whole book as one PDF (``make pdf`` → ``_build/pdf/book.pdf``).

Route: Sphinx's ``singlehtml`` builder on the book the runner staged (so numbers, figures,
cross-references and the bibliography are those of the site), then WeasyPrint, an HTML-to-PDF
library from PyPI (no browser, no TeX). Tables stay HTML tables; the interactive firm table
prints as its static fallback. Chinese glyphs use the CJK font the project already installs
(Noto Sans CJK SC from the ``mplfonts`` wheel). With ``SOURCE_DATE_EPOCH`` set (the Makefile sets
it from the last commit) the PDF carries that date, and two builds give the same bytes.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from analysis.build.publication import PDF_NAME
from analysis.paths import BUILD_DIR, ROOT
from analysis.build.site import sphinx_command, sphinx_env, STAGE_DIR as stage_dir

PDF_FILE = BUILD_DIR / "pdf" / "book.pdf"

class PdfError(RuntimeError):
    """A PDF build failure with a message for the user."""


def _print_css(cjk_font: Path) -> str:
    """The print stylesheet: A4 pages, numbered; Latin text in DejaVu, CJK in Noto Sans CJK SC."""
    return f"""
@font-face {{ font-family: "Noto Sans CJK SC"; src: url("{cjk_font.as_uri()}"); }}
@page {{ size: A4; margin: 20mm 18mm 22mm 18mm;
        @bottom-center {{ content: counter(page) " / " counter(pages); font-size: 8pt; color: #555; }} }}
html {{ font-family: "DejaVu Serif", "Noto Sans CJK SC", serif; font-size: 10pt; line-height: 1.4; }}
h1, h2, h3, h4, caption, .caption, th {{ font-family: "DejaVu Sans", "Noto Sans CJK SC", sans-serif; }}
code, pre, kbd {{ font-family: "DejaVu Sans Mono", "Noto Sans CJK SC", monospace; font-size: 8.5pt; }}
pre {{ white-space: pre-wrap; background: #f5f5f5; padding: 4pt; }}
h1 {{ page-break-before: always; font-size: 18pt; }}
.title-page h1 {{ page-break-before: avoid; font-size: 22pt; margin-top: 60mm; }}
h2 {{ font-size: 13pt; page-break-after: avoid; }}  h3 {{ font-size: 11pt; page-break-after: avoid; }}
img {{ max-width: 100%; height: auto; }}
figure, .figure, img {{ page-break-inside: avoid; }}
figcaption, .caption {{ font-size: 8.5pt; }}
table {{ font-size: 7.5pt; border-collapse: collapse; max-width: 100%; margin: 4pt 0; }}
th, td {{ padding: 2px 4px; border-bottom: 0.5pt solid #bbb; vertical-align: top; text-align: left;
          overflow-wrap: break-word; }}
thead {{ display: table-header-group; }}  tr {{ page-break-inside: avoid; }}
a {{ color: inherit; text-decoration: none; }}
.admonition, aside, .sidebar {{ border-left: 2pt solid #888; padding: 2pt 6pt; margin: 6pt 0; }}
.admonition-title {{ font-weight: bold; }}
.build-stamp, .licence {{ font-size: 8pt; color: #333; }}
[hidden] {{ display: none; }}
"""


def _print_document(html_file: Path) -> str:
    """The book's content from the single-page HTML, without the site's navigation, scripts and
    theme: the article, then the footer's licence and build stamp, as one plain HTML document."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html_file.read_text(encoding="utf-8"), "html.parser")
    article = soup.select_one("article.bd-article") or soup.body
    if article is None:
        raise PdfError(f"{html_file}: no article to print")
    # the code behind the pages stays on the site (hidden inputs fold out there); the PDF shows outputs
    for tag in article.select("script, style, link, noscript, button, .headerlink, details.above-input, "
                              ".cell_input, .tag_parameters"):
        tag.decompose()
    footer = soup.select_one(".bd-footer-content .extra_footer")
    title = soup.title.get_text(" ", strip=True) if soup.title else "book"
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
             f"<title>{BeautifulSoup(title, 'html.parser').get_text()}</title></head><body>",
             str(article)]
    if footer is not None:
        for link in footer.select(".pdf-link"):
            link.decompose()
        parts.append(f'<div class="licence">{footer.decode_contents()}</div>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _singlehtml(stage_dir: Path, out_dir: Path) -> Path:
    """Sphinx's singlehtml build of the staged book (warnings are errors, as for the site)."""
    if out_dir.exists():
        shutil.rmtree(out_dir)

    cmd = sphinx_command(stage_dir, out_dir, builder="singlehtml")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=sphinx_env(stage_dir))
    log = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    (BUILD_DIR / "pdf-sphinx.log").write_text(log, encoding="utf-8")
    if proc.returncode != 0:
        tail = "\n  ".join(log.splitlines()[-15:])
        raise PdfError(f"the single-page HTML build for the PDF failed:\n  {tail}\nFull log: _build/pdf-sphinx.log")
    import yaml

    root = yaml.safe_load((stage_dir / "_toc.yml").read_text(encoding="utf-8"))["root"]
    index = out_dir / "singlehtml" / f"{root}.html"  # the root document holds the whole book
    if not index.exists():
        raise PdfError(f"the single-page HTML build wrote no {index}")
    return index


def _epoch() -> datetime:
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if value:
        return datetime.fromtimestamp(int(value), tz=UTC)
    return datetime(2026, 1, 1, tzinfo=UTC)  # a fixed date: the bytes never depend on the clock


def render_pdf(html_file: Path, output: Path) -> Path:
    """Write ``html_file`` as a PDF, atomically, with fixed metadata.

    Parameters
    ----------
    html_file : pathlib.Path
        The single-page HTML of the book (its article and footer are printed).
    output : pathlib.Path
        The PDF to write (its folder is created if need be).

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    PdfError
        If the HTML has no article to print.
    """
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    # deferred on purpose, like weasyprint: figures imports matplotlib and pandas (about a second),
    # which every build would pay, since the command line imports this module for PdfError
    from analysis.present.figures import cjk_font_path

    fonts = FontConfiguration()
    css = CSS(string=_print_css(cjk_font_path()), font_config=fonts)
    # Sphinx's singlehtml writes links relative to its top folder, even for a root document in book/
    top = html_file.resolve().parent
    while top.name != "singlehtml" and top != top.parent:
        top = top.parent
    base = top if top.name == "singlehtml" else html_file.resolve().parent
    document = HTML(string=_print_document(html_file), base_url=base.as_uri() + "/").render(
        stylesheets=[css], font_config=fonts)
    stamp = _epoch().strftime("%Y-%m-%dT%H:%M:%SZ")
    document.metadata.created = stamp
    document.metadata.modified = stamp
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".pdf.tmp")
    document.write_pdf(tmp, pdf_identifier=b"chinese-blockchain-rerun", uncompressed_pdf=False)
    os.replace(tmp, output)
    return output


def build_pdf(output: Path = PDF_FILE, site: bool = False) -> Path:
    """The PDF of the book the runner last built, from its stage; ``site``: copied into the site
    too (``make publish``; the site's record leaves it out, so the next build keeps it).

    Parameters
    ----------
    output : pathlib.Path
        The PDF to write.
    site : bool
        Whether to copy it into ``_build/html`` too (when that folder exists).

    Returns
    -------
    pathlib.Path
        ``output``.

    Raises
    ------
    PdfError
        If no book is staged, or the single-page HTML build fails or writes no root document.
    """
    if not (stage_dir / "_config.yml").exists():
        raise PdfError("no staged book in _build/stage: build the book first (`make book`)")
    t0 = time.perf_counter()
    index = _singlehtml(stage_dir, BUILD_DIR / "pdf-src")
    render_pdf(index, output)
    html = BUILD_DIR / "html"
    if site and html.exists():
        shutil.copy2(output, html / PDF_NAME)
    print(f"PDF written: {output.relative_to(ROOT)} ({output.stat().st_size / 1e6:.1f} MB) "
          f"in {time.perf_counter() - t0:.0f} s", flush=True)
    return output
