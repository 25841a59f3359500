"""Sphinx, imported while the chapters run: ``python -m analysis.build.sphinx_ready MODULES_FILE MODULE...``.

Sphinx runs last in a build, alone, and first spends about two seconds importing itself and the
book's extensions (and what their ``setup`` imports). The runner starts this process as a build
begins (:func:`analysis.build.site.standby`): it imports ``sphinx.cmd.build``, the modules the last
Sphinx run had imported (listed in ``MODULES_FILE``, in the order they were first imported) and
the extension modules named on its command line, but for the book's own local extensions, which
the build imports from the staged copy. It then waits for one line on its standard input: the
arguments of Sphinx's command line, as a JSON list. It runs ``sphinx.cmd.build.main`` with them,
lists the modules now imported in ``MODULES_FILE`` for the next build, and exits with Sphinx's
code, exactly as ``python -m sphinx`` would (without the interpreter's slow teardown). End of input without a line: it exits having built
nothing. Only public interfaces: importing modules, ``sys.modules`` and Sphinx's command line.
A module that no longer imports is skipped; the build imports it again and reports what is wrong.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path


def _import(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - skipped; the build imports it again and reports what is wrong
            continue


def _imported(exclude: Path) -> list[str]:
    """The modules imported now, in the order they were first imported, without ``__main__`` and
    without modules loaded from ``exclude`` (the stage, whose extensions the build imports)."""
    names = []
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if name == "__main__" or (origin and Path(origin).resolve().is_relative_to(exclude)):
            continue
        names.append(name)
    return names


def main(modules_file: str, modules: list[str]) -> int:
    """Import Sphinx ahead, then run the build the line on standard input asks for.

    Parameters
    ----------
    modules_file : str
        The file listing the modules the last run imported (read, then rewritten after a
        successful run).
    modules : list of str
        Further modules to import ahead (the extensions of the last ``conf.py``).

    Returns
    -------
    int
        Sphinx's exit code, or 0 when standard input ended without a line.
    """
    listed = Path(modules_file)
    try:
        remembered = json.loads(listed.read_text(encoding="utf-8")) if listed.is_file() else []
    except (OSError, ValueError):
        remembered = []
    _import(["sphinx.cmd.build", "sphinx.application", "sphinx.builders.html",
             *(m for m in remembered if isinstance(m, str)), *modules])
    line = sys.stdin.readline()
    if not line.strip():
        return 0
    importlib.invalidate_caches()
    sys.path_importer_cache.clear()  # folders that did not exist at start (the stage) are looked at again
    from sphinx.cmd.build import main as sphinx_build

    argv = json.loads(line)
    code = sphinx_build(argv)
    if code == 0:
        tmp = listed.with_name(listed.name + ".tmp")
        tmp.write_text(json.dumps(_imported(Path(argv[2]).resolve())), encoding="utf-8")
        os.replace(tmp, listed)
    return code


if __name__ == "__main__":
    code = main(sys.argv[1], sys.argv[2:])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # without tearing down the 1,500 modules Sphinx imported: the runner is waiting
