"""One chapter in its own process: ``python -m analysis.worker JOB.json``.

The runner (:mod:`analysis.build`) writes the job (chapter, parameters, where its notebook,
tables and read-log go) and starts this module with ``subprocess``; it runs the chapter with
papermill in a fresh ipykernel, writes the cleaned notebook, and writes ``result.json`` last:
``{"seconds": ...}`` or ``{"error": "..."}``. Its kernel records the input files it reads into the
job's read-log (:mod:`analysis.inputs`). If the runner dies, the worker kills its kernel and exits
(:func:`analysis.processes.watch_parent`).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from . import inputs, processes


def _stop_kernel_and_exit(signum, frame) -> None:
    import psutil

    processes.kill(psutil.Process().children(recursive=True))
    os._exit(128 + signum)


def main(argv: list[str]) -> int:
    from .build import Chapter, ChapterFailed, execute_chapter

    processes.watch_parent()
    signal.signal(signal.SIGTERM, _stop_kernel_and_exit)
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    os.environ[inputs.LOG_VAR] = job["reads"]  # inherited by the kernel papermill starts
    os.environ[inputs.ROOTS_VAR] = job["roots"]
    chapter = Chapter(job["name"], Path(job["source"]))
    try:
        result = {"seconds": execute_chapter(chapter, job["params"], Path(job["output"]))}
    except ChapterFailed as exc:
        result = {"error": str(exc)}
    tmp = Path(job["result"] + ".tmp")
    tmp.write_text(json.dumps(result), encoding="utf-8")
    os.replace(tmp, job["result"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
