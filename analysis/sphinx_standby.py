"""A jupyter-book process made ready while the chapters run.

Sphinx runs last in a build, alone on the critical path, and a fresh ``jupyter-book build`` first
spends a second and a half importing Sphinx, the theme and the book's extensions. The runner
starts this process when a build begins (:func:`analysis.build.run_sphinx` later hands it the
build): it imports all that, then waits for one line on its standard input, the command-line arguments
of ``jupyter-book`` as a JSON list, and runs that command as ``jupyter-book`` itself would. End of
input without a line (the build failed or needs no Sphinx): it exits, having built nothing.

Only modules are imported ahead; the configuration, the pages and the book's own extensions
(``local_extensions``, staged with the pages) are read by the build itself, so the site is the
one a fresh ``jupyter-book build`` writes.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import sys
from pathlib import Path

from .paths import CONFIG_FILE


def extension_modules(config_file: Path = CONFIG_FILE) -> list[str]:
    """The Sphinx extensions and theme jupyter-book loads for this configuration, but for the
    book's local extensions (those are imported from the staged copy by the build)."""
    import yaml
    from jupyter_book.config import get_default_sphinx_config, yaml_to_sphinx

    defaults = get_default_sphinx_config()
    user = yaml.safe_load(config_file.read_text(encoding="utf-8")) or {}
    translated, _, _ = yaml_to_sphinx(user)
    local = set((user.get("sphinx") or {}).get("local_extensions") or {})
    names = [*defaults.get("extensions", []), *translated.get("extensions", []),
             translated.get("html_theme") or defaults.get("html_theme") or ""]
    return [n for n in dict.fromkeys(names) if n and n not in local]


def prepare(config_file: Path = CONFIG_FILE) -> list[str]:
    """Import jupyter-book, Sphinx's HTML builder and :func:`extension_modules`; a module that
    fails is left to the build, which reports it. Returns the modules imported."""
    done = []
    for name in ["jupyter_book.cli.main", "sphinx.application", "sphinx.builders.html",
                 *extension_modules(config_file)]:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the build imports it again and says what is wrong
            continue
        done.append(name)
    importlib.metadata.entry_points()  # reads every package's metadata once (Sphinx and pybtex look there)
    return done


def main() -> int:
    try:
        prepare()
    except Exception:  # noqa: BLE001 - a standby that cannot prepare still builds, as a fresh process would
        pass
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    from jupyter_book.cli.main import main as jupyter_book

    jupyter_book(args=json.loads(line), prog_name="jupyter-book")  # exits with the build's code
    return 0


if __name__ == "__main__":
    sys.exit(main())
