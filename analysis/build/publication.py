"""The published edition's Sphinx side: the build stamp, the edit button, the plain-build guard.

The runner (``analysis.build.runner``) writes a build stamp, :data:`STAMP_FILE`, into the staged book
it hands to jupyter-book. ``_config.yml`` loads this module as a Sphinx extension, which

* stops a plain ``jupyter-book build .`` at once, with a message naming ``make book``: without
  the runner the chapters have not been executed, and the pages would have no numbers;
* adds the stamp (parameter file, corpus identity, commit) to the footer of every HTML page and
  so to the PDF (made from the single-page HTML);
* points the edit button at the chapter's ``.py`` (the file authors edit), not the ``.ipynb``
  (pydata-sphinx-theme's ``edit_page_url_template``).

The stamp is part of the site's cache key, not the chapters': a new commit re-runs Sphinx only.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import subprocess
from pathlib import Path
from typing import Any

from analysis.build.edition import edition, is_placeholder
from analysis.paths import ROOT, is_bundled

STAMP_FILE = "_edition.json"

PLAIN_BUILD_MESSAGE = (
    "This book is not built with a plain `jupyter-book build .`: its chapters are executed by the "
    "project's runner first, and without it every page would lack its numbers and figures. "
    "Run `make book` (or `python -m analysis build`; `make publish` for the published edition)."
)


class PlainBuildError(Exception):
    """Raised when Sphinx runs on a source folder that the runner did not stage."""


# --------------------------------------------------------------------------- the stamp
def corpus_identity(corpus_path: str | Path | None) -> str:
    """``bundled simulated corpus`` or the SHA-256 of the user's file.

    Parameters
    ----------
    corpus_path : str, pathlib.Path or None
        The ``corpus_path`` parameter; empty or None is the bundled corpus.

    Returns
    -------
    str
        ``bundled simulated corpus (data/companies.csv)``, or ``user export NAME, SHA-256 HEX``.

    Raises
    ------
    OSError
        If the user's file cannot be read.
    """
    if is_bundled(corpus_path):
        return "bundled simulated corpus (data/companies.csv)"
    path = Path(str(corpus_path)).expanduser()
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return f"user export {path.name}, SHA-256 {h.hexdigest()}"


def git_commit(root: Path = ROOT) -> str | None:
    """The checked-out commit (short), marked when the tree has uncommitted changes; None without git.

    Parameters
    ----------
    root : pathlib.Path
        The repository's folder.

    Returns
    -------
    str or None
        The 12-digit commit, with `` (with uncommitted changes)`` when tracked files changed; None
        when git is missing, fails or times out.
    """
    try:
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=20)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = head.stdout.strip()
    return commit + (" (with uncommitted changes)" if dirty.stdout.strip() else "")


def build_stamp(params_file: str | Path | None, corpus_path: str | Path | None, root: Path = ROOT,
                pdf_link: bool = False, licensed: bool = False, withheld: bool = False) -> dict[str, Any]:
    """What this build was made from: the edition, the parameter file, the corpus and the commit
    (and whether the site links the PDF edition, which ``make publish`` puts beside it, and whether
    it holds a user's licensed text).

    Parameters
    ----------
    params_file : str, pathlib.Path or None
        The parameter file; empty or None is ``params/default.yml``.
    corpus_path : str, pathlib.Path or None
        The ``corpus_path`` parameter, as :func:`corpus_identity` takes it.
    root : pathlib.Path
        The repository's folder (paths inside it are shown relative to it).
    pdf_link : bool
        Whether the site links the PDF edition.
    licensed : bool
        Whether the corpus is a user's own (not simulated) file, whose text may be licensed.
    withheld : bool
        Whether its raw texts are left out of the site (``withhold_texts``).

    Returns
    -------
    dict
        ``edition`` (version and date, :func:`analysis.build.edition.edition`), ``params_file``
        (relative to ``root``, or the file's name outside it), ``corpus`` (:func:`corpus_identity`),
        ``commit`` (:func:`git_commit`), ``pdf``, ``licensed`` and ``withheld`` (bools).
    """
    if params_file:
        p = Path(params_file)
        try:
            shown = p.resolve().relative_to(root).as_posix()
        except ValueError:
            shown = p.name
    else:
        shown = "params/default.yml"
    return {"edition": edition(root / "CITATION.cff"), "params_file": shown, "corpus": corpus_identity(corpus_path),
            "commit": git_commit(root), "pdf": bool(pdf_link), "licensed": bool(licensed),
            "withheld": bool(withheld)}


def stamp_text(stamp: dict[str, Any]) -> str:
    """The build stamp as the footer's sentence.

    Parameters
    ----------
    stamp : dict
        A stamp as :func:`build_stamp` makes it (``params_file``, ``corpus``, optional ``commit``).

    Returns
    -------
    str
        ``Edition X (DATE). Built with ...; corpus: ...; commit: ....``, the commit "not available
        (no git)" when unset; without an edition in the stamp, no first sentence.
    """
    commit = stamp.get("commit") or "not available (no git)"
    ed = stamp.get("edition")
    head = f"Edition {ed['version']} ({ed['date']}). " if ed else ""
    return f"{head}Built with {stamp['params_file']}; corpus: {stamp['corpus']}; commit: {commit}."


def _stamp_html(stamp: dict[str, Any]) -> str:
    return f'<p class="build-stamp">{html.escape(stamp_text(stamp))}</p>'


def licensed_notice(stamp: dict[str, Any]) -> str:
    """The notice every page of a build on a user's own corpus opens with (empty otherwise).

    Parameters
    ----------
    stamp : dict
        A stamp as :func:`build_stamp` makes it (``licensed``, ``withheld``).

    Returns
    -------
    str
        For a licensed corpus whose texts are in the site: that the site holds the user's licensed
        text, where, that it may not be passed on and what ``make publish`` asks for; with its
        texts withheld: that they are; for a simulated corpus: the empty string.
    """
    if not stamp.get("licensed"):
        return ""
    if stamp.get("withheld"):
        return ("Built on your own corpus file; its firm descriptions are withheld from this site "
                "(withhold_texts): the firm table, firms.csv and the notebooks carry no raw text.")
    return ("This site contains your licensed text: the firm descriptions of your own corpus file are in "
            "firms.csv, the firm table and the downloadable notebooks. Crunchbase's terms forbid "
            "redistributing them, so keep this build to yourself; make publish packages it only with "
            "corpus_redistributable: true, or withhold_texts: true to publish everything but the texts.")


# --------------------------------------------------------------------------- Sphinx extension
def _read_stamp(srcdir: str | Path) -> dict[str, Any]:
    path = Path(srcdir) / STAMP_FILE
    if not path.exists():
        raise PlainBuildError(PLAIN_BUILD_MESSAGE)
    return json.loads(path.read_text(encoding="utf-8"))


REPOSITORY_BUTTONS = ("use_repository_button", "use_issues_button", "use_edit_page_button")


def working_buttons(options: dict) -> dict:
    """The theme options with only the buttons that lead somewhere: without a real repository
    address no repository, issue, edit, Binder or JupyterHub button; without a real JupyterHub
    address no JupyterHub button.

    Parameters
    ----------
    options : dict
        The theme's options (``html_theme_options``); not modified.

    Returns
    -------
    dict
        A copy with the repository buttons switched off and the Binder/JupyterHub addresses
        emptied as above, and ``launch_buttons`` always a dict.
    """
    options = dict(options)
    launch = dict(options.get("launch_buttons") or {})
    if is_placeholder(str(options.get("repository_url") or "")):
        options.update({key: False for key in REPOSITORY_BUTTONS})
        launch.update(binderhub_url="", jupyterhub_url="")
    if is_placeholder(launch.get("jupyterhub_url")):
        launch["jupyterhub_url"] = ""
    options["launch_buttons"] = launch
    return options


def _config_inited(app, config) -> None:
    stamp = _read_stamp(app.srcdir)
    app.edition_stamp = stamp  # type: ignore[attr-defined]
    options = working_buttons(config.html_theme_options or {})
    options["extra_footer"] = (options.get("extra_footer") or "") + _stamp_html(stamp)
    notice = licensed_notice(stamp)
    if notice:  # the theme's announcement banner, at the top of every page
        options["announcement"] = f'<span class="licensed-text-notice">{html.escape(notice)}</span>'
    config.html_theme_options = options
    _search_terms(app, config)
    # the edit button opens book/NAME.py (the jupytext source authors edit), not the notebook
    repo = str(options.get("repository_url") or "").rstrip("/")
    if repo and options.get("use_edit_page_button"):
        branch = options.get("repository_branch") or "main"
        context = dict(config.html_context or {})
        context["edit_page_url_template"] = (
            f"{repo}/edit/{branch}/" + "{{ doc_path }}{{ file_name | replace('.ipynb', '.py') }}")
        context["edit_page_provider_name"] = "GitHub" if "github.com" in repo else "Repository"
        config.html_context = context


def _search_terms(app, config) -> None:
    """With Sphinx's Chinese search (``html_search_language: zh``), jieba splits the pages' Chinese
    text for the search index: its default tokenizer (the one Sphinx uses) learns the field's terms
    (``resources/zh_terms.txt``), as the analysis's own tokenizer does, so that a key term (各级政府)
    is one searchable word, not two. Nothing enters the configuration, so the build's
    ``.buildinfo`` does not depend on where the book is built."""
    if str(getattr(config, "html_search_language", "") or "").lower() != "zh":
        return
    import jieba

    from analysis.text.preprocess import zh_terms

    jieba.setLogLevel(logging.WARNING)
    for term in zh_terms():
        jieba.add_word(term, freq=max(jieba.suggest_freq(term, tune=False), 10**6))


#: written in the footer of _config.yml where the link to the citation page goes
CITE_LINK_MARK = "HOW-TO-CITE-PAGE"
CITE_PAGE = "book/cite"
#: the PDF edition's name inside the site (analysis.build.pdf copies it there)
PDF_NAME = "book.pdf"


def _page_context(app, pagename, templatename, context, doctree) -> None:
    # the footer's link to the citation page, relative to this page
    footer = context.get("theme_extra_footer")
    if footer and CITE_LINK_MARK in footer and "pathto" in context:
        footer = footer.replace(CITE_LINK_MARK, context["pathto"](CITE_PAGE))
        stamp = getattr(app, "edition_stamp", {})
        if stamp.get("pdf") and app.builder.name == "html":
            footer += f'<p class="pdf-link"><a href="{context["pathto"](PDF_NAME, 1)}">The book as a PDF</a></p>'
        context["theme_extra_footer"] = footer


def setup(app):
    """Register the extension with Sphinx: the stamp, the buttons and the plain-build guard.

    Parameters
    ----------
    app : sphinx.application.Sphinx
        The Sphinx application.

    Returns
    -------
    dict
        The extension's metadata: safe for parallel reading and writing.
    """
    # config-inited runs before any document is read: a plain build stops here
    app.connect("config-inited", _config_inited)
    app.connect("html-page-context", _page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
