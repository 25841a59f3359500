"""Sphinx, imported while the chapters run: ``python -m analysis.sphinx_ready MODULE...``.

Sphinx runs last in a build, alone, and first spends about two seconds importing itself and the
book's extensions. The runner starts this process as a build begins (:func:`analysis.site.standby`):
it imports ``sphinx.cmd.build`` and the extension modules named on its command line (those of
the ``conf.py`` the last build used, but for the book's own local extensions, which the build
imports from the staged copy), then waits for one line on its standard input: the arguments of
Sphinx's command line, as a JSON list. It then runs ``sphinx.cmd.build.main`` with them and exits
with its code, exactly as ``python -m sphinx`` would. End of input without a line: it exits
having built nothing. Only public interfaces: importing modules, and Sphinx's command line.
"""

from __future__ import annotations

import importlib
import json
import sys


def main(modules: list[str]) -> int:
    for name in ["sphinx.cmd.build", "sphinx.application", "sphinx.builders.html", *modules]:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the build imports it again and reports what is wrong
            continue
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    importlib.invalidate_caches()
    sys.path_importer_cache.clear()  # folders that did not exist at start (the stage) are looked at again
    from sphinx.cmd.build import main as sphinx_build

    return sphinx_build(json.loads(line))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
