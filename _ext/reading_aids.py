"""Sphinx extension of this book (loaded through _config.yml's local_extensions).

* Drops sphinx-thebe's scripts: the book has no live code (chapters are executed by papermill),
  thebe would load its code from the network, and jupyter-book 1 adds its configuration script
  twice, which makes every page log a SyntaxError (THEBE_JS_URL declared twice).
* Starts readers in the light colour mode (the theme logs an error for an empty mode).
* Looks up pybtex's output backends and styles once: pybtex scans every installed package's entry
  points on each lookup (8 ms), and sphinxcontrib-bibtex looks a backend up per citation and the
  styles per bibliography (73 scans in a full build, 20 in a one-page rebuild). The installed
  plugins of these groups are registered as pybtex runtime plugins (its public
  ``register_plugin``), which lookups find first; the first installed plugin of a name wins, as
  before. Only these groups: each registration costs a scan too, and the others (the
  bibliography file's reader) are looked up once.
* Keeps the HTML templates compiled between builds (Jinja's ``FileSystemBytecodeCache``, in
  ``jinja/`` beside Sphinx's doctrees): an incremental build then does not compile the theme's
  templates again (a third of a second). Jinja checks each template's source before using it.
"""

from __future__ import annotations


def _is_thebe(script) -> bool:
    name = str(getattr(script, "filename", script) or "")
    body = str(getattr(script, "attributes", {}).get("body", ""))
    return "thebe" in name.lower() or "THEBE_JS_URL" in body


def _drop_thebe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = [s for s in scripts if not _is_thebe(s)]


def _light_mode(app, config):
    # a colour mode the theme accepts on a reader's first visit (else it logs a console error)
    config.html_context = {**(config.html_context or {}), "default_mode": "light"}


#: the pybtex plugin groups sphinxcontrib-bibtex looks up per citation or bibliography
LOOKED_UP = ("pybtex.backends", "pybtex.style.formatting", "pybtex.style.labels", "pybtex.style.names",
             "pybtex.style.sorting")


def _register_pybtex_plugins() -> None:
    from importlib.metadata import distributions

    from pybtex.plugin import PluginGroupNotFound, register_plugin

    seen = set()
    for entry in (e for dist in distributions() for e in dist.entry_points):  # one scan
        if entry.group not in LOOKED_UP or (entry.group, entry.name) in seen:
            continue
        seen.add((entry.group, entry.name))
        try:
            register_plugin(entry.group, entry.name, entry.load(), force=True)
        except (PluginGroupNotFound, ImportError, ValueError):
            continue  # not a plugin group pybtex looks up, or a plugin that cannot load: as before


def _template_cache(app):
    templates = getattr(app.builder, "templates", None)  # HTML builders' template loader
    environment = getattr(templates, "environment", None)
    if environment is not None:
        from pathlib import Path

        from jinja2 import FileSystemBytecodeCache

        folder = Path(app.doctreedir).parent / "jinja"
        folder.mkdir(parents=True, exist_ok=True)
        environment.bytecode_cache = FileSystemBytecodeCache(str(folder))


def setup(app):
    _register_pybtex_plugins()
    app.connect("builder-inited", _template_cache)
    app.connect("config-inited", _light_mode)
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
