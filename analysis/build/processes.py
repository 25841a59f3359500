"""The runner's child processes, its signals and its folder lock, on Linux, macOS and Windows.

Only portable primitives: ``subprocess`` for every child, ``psutil`` to find and stop a child's
descendants, ``filelock`` for the one-build-per-folder lock, and ``signal.signal`` for
SIGINT/SIGTERM. A child runs in its own session (POSIX) or process group (Windows), so a
terminal's Ctrl-C reaches only the runner, which then stops every child and its descendants
itself. The chapters' kernels are started by jupyter_client, in their own sessions too, and exit
by themselves when the runner has gone (ipykernel watches ``JPY_PARENT_PID``).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

STOP_WITHIN = 5.0  # seconds a stopped process is given before the next is looked at
REMEMBER_EVERY = 1.0  # seconds between two looks at the runner's descendants while they run


class Interrupted(BaseException):
    """SIGINT or SIGTERM reached the runner; the build stops and publishes nothing."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class LockHeld(RuntimeError):
    """Another build holds this folder's lock (the message says which)."""


def spawn(cmd: list[str], log: Path, *, env: dict | None = None, cwd: Path | None = None,
          stdin: int | None = subprocess.DEVNULL) -> subprocess.Popen:
    """Start ``cmd`` with its output in ``log``, in its own session or process group.

    Parameters
    ----------
    cmd : list of str
        The command and its arguments.
    log : pathlib.Path
        The file its stdout and stderr go to (overwritten).
    env : dict, optional
        Its environment; None inherits the runner's.
    cwd : pathlib.Path, optional
        Its working directory; None inherits the runner's.
    stdin : int, optional
        Its standard input (default: ``subprocess.DEVNULL``).

    Returns
    -------
    subprocess.Popen
        The started process.
    """
    options: dict[str, Any] = {}
    if sys.platform == "win32":
        options["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        options["start_new_session"] = True
    with open(log, "wb") as fh:
        return subprocess.Popen(cmd, stdin=stdin, stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                **options)


def tree(pid: int) -> list[psutil.Process]:
    """A process and all its descendants (an empty list when it has gone).

    Parameters
    ----------
    pid : int
        The process's id.

    Returns
    -------
    list of psutil.Process
        The process first, then its descendants, recursively.
    """
    try:
        proc = psutil.Process(pid)
        return [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return []


def kill(processes: list[psutil.Process]) -> None:
    """Kill every process given and wait (at most :data:`STOP_WITHIN`) until they have gone.

    Parameters
    ----------
    processes : list of psutil.Process
        The processes; those already gone are skipped.
    """
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(processes, timeout=STOP_WITHIN)


class ChildProcesses:
    """The runner's children and the signals that stop them.

    The first SIGINT/SIGTERM raises :class:`Interrupted` in the runner (deferred while a
    :meth:`critical` block commits a result), which kills every child and its descendants; a
    second one while that cleanup runs kills them at once and exits, so it never waits.
    Descendants are looked up while the children run (:meth:`remember`), so a kernel whose
    worker died first is still found and stopped."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen] = {}
        self.stopping = False
        self._known: dict[int, psutil.Process] = {}
        self._looked = -REMEMBER_EVERY
        self._previous: dict[int, Any] = {}
        self._critical = 0
        self._pending: int | None = None

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(ValueError):  # not the main thread: no handlers
                self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def _handler(self, signum, frame) -> None:
        if self.stopping:  # a second signal: no more waiting
            self.kill_all()
            os._exit(128 + signum)
        if self._critical:
            self._pending = signum
            return
        self.stopping = True
        raise Interrupted(signum)

    @contextlib.contextmanager
    def critical(self):
        """A block a first signal does not cut (a result and its record are committed together)."""
        self._critical += 1
        try:
            yield
        finally:
            self._critical -= 1
            if not self._critical and self._pending is not None and not self.stopping:
                signum, self._pending = self._pending, None
                self.stopping = True
                raise Interrupted(signum)

    def remember(self, every: float = REMEMBER_EVERY) -> None:
        """Note every descendant of the runner (kernels, Sphinx and what they started): they are
        stopped with the build, even one whose parent has gone meanwhile. Looks at most once
        every ``every`` seconds (a look lists every process of the machine)."""
        now = time.monotonic()
        if now - self._looked < every:
            return
        self._looked = now
        for p in tree(os.getpid())[1:]:
            self._known.setdefault(p.pid, p)

    def kill_all(self) -> None:
        self.remember(every=0)
        kill(list(self._known.values()))
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=STOP_WITHIN)
        self.procs.clear()
        self._known.clear()

    def __exit__(self, exc_type, exc, tb):
        self.stopping = True
        try:
            self.kill_all()
        finally:
            for sig, handler in self._previous.items():
                signal.signal(sig, handler)
        return False


@contextlib.contextmanager
def folder_lock(path: Path):
    """One build per folder: an exclusive lock on ``path`` (``filelock``; the operating system
    releases it when its holder exits, however it exits, so a killed build never blocks the
    next). The holder's pid and start time are in ``path`` + ``.owner``.

    Parameters
    ----------
    path : pathlib.Path
        The lock file (its folder is created if need be).

    Yields
    ------
    filelock.FileLock
        The lock, held until the block ends.

    Raises
    ------
    LockHeld
        If another process holds the lock.
    """
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    owner = path.with_name(path.name + ".owner")
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        try:
            holder = owner.read_text().strip()
        except OSError:
            holder = ""
        raise LockHeld(f"another build is running in this folder ({holder or 'another process'}); wait "
                       f"for it to finish or stop it, then build again. Lock: {path}") from None
    try:
        owner.write_text(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        yield lock
    finally:
        owner.unlink(missing_ok=True)
        lock.release()
