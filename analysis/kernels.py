"""Chapter kernels forked from one process that has already imported what the chapters import.

A kernel started the ordinary way is a new Python that imports ipykernel, then, in the chapter's
first cells, pandas, matplotlib, scipy and the analysis package: about two seconds per chapter
before any work, eleven times in a cold build. During a build the runner instead starts one
*zygote* (:func:`serve`) that imports, once, every module the chapters' code cells import, and then
forks a kernel for each chapter. A forked kernel is a real ipykernel (the same messages, outputs
and display machinery) in a fresh process: what one chapter does never reaches another.

The worker asks for a kernel through the kernel manager of :func:`papermill_options`, given to
papermill while the environment variable ``ANALYSIS_KERNEL_ZYGOTE`` names the zygote; without it
(papermill by hand, tests) or when the zygote cannot be reached, kernels start the ordinary way.

Lifetimes: the zygote dies with the runner, every forked kernel with the zygote
(``PR_SET_PDEATHSIG``); a kernel whose worker goes away (its connection closes) is killed with its
process group. The worker manages its kernel by pid (signals, kill) and learns its exit from the
zygote, which reaps it.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import selectors
import signal
import socket
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

ENV_VAR = "ANALYSIS_KERNEL_ZYGOTE"  # the zygote's abstract socket name, set by the runner
CHAPTER_VAR = "ANALYSIS_CHAPTER"  # the chapter a worker runs (its .py), so its kernel waits for its imports only
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"  # what ipykernel sets for each kernel
LAUNCHER = ["-m", "ipykernel_launcher"]  # the kernelspec's command (after the interpreter and its -X options)
CONNECT_TIMEOUT = 120.0  # seconds a worker waits for its kernel (the zygote may still be importing)
REQUEST_TIMEOUT = 10.0  # seconds the zygote waits for the request of a connection it accepted
EXIT_REPORT_WAIT = 1.0  # seconds a worker that killed its kernel waits for the zygote to report the exit
MAX_MESSAGE = 1 << 20
PR_SET_PDEATHSIG = 1  # linux/prctl.h


# --------------------------------------------------------------------------- what to import first
def imported_modules(source: str) -> list[str]:
    """Modules a code cell imports at its top level: ``import a.b`` gives ``a.b``; ``from a
    import b`` gives ``a`` and ``a.b`` (``b`` may be a submodule). Cells that are not Python
    (magics) give none."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def chapter_modules(sources: list[Path]) -> list[str]:
    """Every module the chapters' code cells import, in first-seen order."""
    import jupytext

    seen: dict[str, None] = {}
    for source in sources:
        for cell in jupytext.read(source).cells:
            if cell.cell_type == "code":
                seen.update(dict.fromkeys(imported_modules(cell.source)))
    return list(seen)


def _all_imports(module) -> list[str]:
    """Every module a module's source imports anywhere, functions included (relative imports
    resolved)."""
    try:
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    except (OSError, SyntaxError, TypeError, ValueError):
        return []
    package = module.__name__ if hasattr(module, "__path__") else module.__name__.rpartition(".")[0]
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            try:
                base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) \
                    if node.level else node.module
            except (ImportError, ValueError):
                continue
            names.append(base)
            names.extend(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def preload(modules: list[str]) -> list[str]:
    """Import what can be imported (a name that is an attribute, not a module, or a module that
    fails, is left for the chapter, which reports its own errors); the modules imported."""
    done = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the chapter imports it again and says what is wrong
            continue
        done.append(name)
    return done


def _in_project(module, project: Path) -> bool:
    file = getattr(module, "__file__", None)
    return bool(file) and Path(file).resolve().is_relative_to(project)


def deepen(project: Path) -> Iterator[str]:
    """Further preparation, one small step per item: the imports the project's modules (those
    under ``project``) defer into their functions to spare chapters that do not need them
    (scikit-learn, pandera, ...), then each such module's ``kernel_warmup()`` (e.g. jieba's
    dictionary). A forked kernel inherits whatever was done before it was forked."""
    seen: set[str] = set()
    project_modules = [m for m in list(sys.modules.values()) if _in_project(m, project)]
    queue = [name for m in project_modules for name in _all_imports(m)]
    while queue:
        name = queue.pop(0)
        if name in seen:
            continue
        seen.add(name)
        fresh = name not in sys.modules
        if not preload([name]):
            continue
        module = sys.modules[name]
        if fresh and _in_project(module, project):
            project_modules.append(module)
            queue.extend(_all_imports(module))
        if fresh:
            yield name
    for module in project_modules:
        warmup = getattr(module, "kernel_warmup", None)
        if callable(warmup):
            try:
                warmup()
            except Exception:  # noqa: BLE001 - a kernel that needs it builds it and reports
                continue
            yield f"{module.__name__}.kernel_warmup()"


# --------------------------------------------------------------------------- the zygote
def die_with_parent(sig: int) -> None:
    """Ask Linux to send this process ``sig`` when its parent dies (even by SIGKILL); a no-op
    elsewhere."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def fork_child(body) -> int:
    """Fork; in the child run ``body`` (which returns an exit code) and end the child with that
    code, printing any exception to its stderr, never returning to the parent's code. Returns the
    child's pid in the parent."""
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        code = body()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - printed to the child's log, then it ends
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def listen(address: str) -> socket.socket:
    """The zygote's socket, bound to the abstract name ``address`` and listening. The runner makes
    it before any worker starts and hands it to the zygote, so that a worker never finds nobody
    there; requests wait in the backlog while the zygote imports."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind("\0" + address)
    listener.listen(64)
    return listener


def serve(fd: int, sources: list[str], project: str) -> None:
    """On the listening socket ``fd`` (from :func:`listen`), fork a kernel for each request until
    killed, importing first what the chapters import, then (following the modules under the
    folder ``project`` into their functions) what they may import.

    A request is served as soon as the modules of its chapter (``CHAPTER_VAR`` in the kernel's
    environment; every chapter's when absent) are imported, so the first chapters do not wait
    for the imports of the last; between requests the zygote goes on importing, one module at
    a time."""
    # as `python -m ipykernel_launcher` would: no working directory on the path, the inline backend
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    os.environ.setdefault("MPLBACKEND", INLINE_BACKEND)
    listener = socket.socket(fileno=fd)
    first = ["ipykernel.kernelapp"]
    per_chapter = {str(Path(s)): first + chapter_modules([Path(s)]) for s in sources}
    everything = list(dict.fromkeys(first + [m for names in per_chapter.values() for m in names]))
    tried: set[str] = set()
    steps: Iterator[str] | None = None  # deepen(), once every chapter's own imports are done
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    waiting: list[tuple] = []  # requests not yet served: (conn, request, fds)
    kernels: dict[int, socket.socket] = {}  # kernel pid -> the connection of the worker that asked
    exits: dict[int, int] = {}  # kernel pid -> a descriptor readable once it has ended (Linux)
    prepared = False
    while True:
        busy = bool(waiting) or not prepared
        for key, _ in selector.select(timeout=0 if busy else 0.1):
            if key.fileobj is listener:
                conn, _ = listener.accept()
                request = _read_request(conn)
                if request is None:
                    conn.close()
                else:
                    waiting.append((conn, *request))
            elif key.data is _ENDED:  # a kernel ended: reaped below, its worker told at once
                continue
            else:  # the worker closed its end (it finished or died): its kernel goes with it
                try:
                    os.killpg(key.data, signal.SIGKILL)
                except OSError:
                    pass
                selector.unregister(key.fileobj)
        _reap(kernels, selector, exits)
        if waiting:
            conn, request, fds = waiting[0]
            if _import_next(per_chapter.get(request["env"].get(CHAPTER_VAR, ""), everything), tried):
                continue
            waiting.pop(0)
            pid = _fork_kernel(conn, request, fds, listener, [c for c, *_ in waiting] + list(kernels.values()),
                               [fd for *_, more in waiting for fd in more] + list(exits.values()))
            kernels[pid] = conn
            selector.register(conn, selectors.EVENT_READ, pid)
            watch = _exit_watch(pid)
            if watch is not None:
                exits[pid] = watch
                selector.register(watch, selectors.EVENT_READ, _ENDED)
        elif not prepared:
            if _import_next(everything, tried):
                continue
            if steps is None:
                print(f"kernel zygote {os.getpid()}: the chapters' imports done", flush=True)
                steps = deepen(Path(project))
            if next(steps, None) is None:
                prepared = True
                print(f"kernel zygote {os.getpid()}: prepared ({len(sys.modules)} modules)", flush=True)


def _import_next(names: list[str], tried: set[str]) -> bool:
    """Import the first of ``names`` not tried yet; False when all were."""
    for name in names:
        if name not in tried:
            tried.add(name)
            preload([name])
            return True
    return False


_ENDED = object()  # selector data of a kernel's exit descriptor


def _exit_watch(pid: int) -> int | None:
    """A descriptor that becomes readable when child ``pid`` ends (a Linux pidfd), so that the
    zygote reaps it and tells its worker at once; None where there is none (the zygote then
    notices within its 0.1 s polling)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _reap(kernels: dict, selector: selectors.BaseSelector, exits: dict) -> None:
    """Reap ended kernels and tell each worker how its kernel ended."""
    while kernels:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        watch = exits.pop(pid, None)
        if watch is not None:
            selector.unregister(watch)
            os.close(watch)
        conn = kernels.pop(pid, None)
        if conn is not None:
            try:
                conn.send(json.dumps({"exit": os.waitstatus_to_exitcode(status)}).encode())
            except OSError:
                pass
            if _registered(selector, conn):
                selector.unregister(conn)
            conn.close()


def _registered(selector: selectors.BaseSelector, conn: socket.socket) -> bool:
    try:
        selector.get_key(conn)
    except KeyError:
        return False
    return True


def _read_request(conn: socket.socket) -> tuple[dict, list[int]] | None:
    """One request: the kernel's arguments, environment and working directory, and the worker's
    stdin, stdout and stderr as file descriptors; None when it is not one."""
    try:
        conn.settimeout(REQUEST_TIMEOUT)  # a worker sends its request as soon as it connects
        data, fds, _, _ = socket.recv_fds(conn, MAX_MESSAGE, 3)
        conn.settimeout(None)
        request = json.loads(data)
        request = {"argv": list(request["argv"]), "env": dict(request["env"]), "cwd": str(request["cwd"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if len(fds) != 3:
        for fd in fds:
            os.close(fd)
        return None
    return request, fds


def _fork_kernel(conn: socket.socket, request: dict, fds: list[int], listener: socket.socket,
                 others: list[socket.socket], other_fds: list[int]) -> int:
    """Fork the kernel of one request; its pid. The child keeps none of the zygote's sockets and
    descriptors but its own connection, which it closes once it has said its pid."""
    def kernel() -> int:
        argv = request["argv"]
        os.setsid()  # its own process group, as jupyter_client starts kernels
        die_with_parent(signal.SIGKILL)
        if os.getppid() == 1:
            return 1
        listener.close()
        for other in others:
            other.close()
        for other_fd in other_fds:
            os.close(other_fd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        conn.send(json.dumps({"pid": os.getpid()}).encode())
        conn.close()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        parent = request["env"].get("JPY_PARENT_PID", "")
        if parent.isdigit():  # read from the environment at import time, so given here
            argv = [*argv, f"--IPKernelApp.parent_handle={parent}"]
        sys.argv = [sys.executable, *argv]
        from ipykernel.kernelapp import launch_new_instance

        launch_new_instance(argv=argv)
        return 0

    pid = fork_child(kernel)
    for fd in fds:
        os.close(fd)
    return pid


# --------------------------------------------------------------------------- the worker's side
class ForkedKernel:
    """A kernel forked by the zygote, with the part of ``subprocess.Popen`` jupyter_client uses."""

    stdin = stdout = stderr = None

    def __init__(self, address: str, argv: list[str], env: dict[str, str], cwd: str):
        self.returncode: int | None = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(CONNECT_TIMEOUT)
        try:
            self.sock.connect("\0" + address)
            message = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode()
            socket.send_fds(self.sock, [message], [0, 1, 2])
            reply = json.loads(self.sock.recv(MAX_MESSAGE) or b"{}")
        except (OSError, ValueError):
            self.sock.close()
            raise
        if "pid" not in reply:
            self.sock.close()
            raise OSError(f"the kernel zygote did not start a kernel ({reply})")
        self.pid = int(reply["pid"])

    def _read_exit(self, timeout: float | None) -> int | None:
        if self.returncode is None:
            self.sock.settimeout(timeout)
            try:
                data = self.sock.recv(MAX_MESSAGE)
            except (TimeoutError, BlockingIOError):
                return None
            except OSError:
                data = b""
            # no message but a closed connection: the zygote is gone, and the kernel with it
            killed = -int(signal.SIGKILL)
            self.returncode = int(json.loads(data).get("exit", killed)) if data else killed
            self.sock.close()
        return self.returncode

    def poll(self) -> int | None:
        return self._read_exit(0.0)

    def wait(self, timeout: float | None = None) -> int:
        code = self._read_exit(timeout)
        if code is None:
            import subprocess

            raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
        return code

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _launcher_arguments(kernel_cmd: list[str]) -> list[str] | None:
    """The arguments ipykernel's launcher gets in a kernelspec command such as ``python
    -Xfrozen_modules=off -m ipykernel_launcher -f FILE``; None for any other command."""
    i = 1
    while i < len(kernel_cmd) and kernel_cmd[i].startswith("-X"):  # interpreter options (debugger)
        i += 1
    return kernel_cmd[i + 2:] if kernel_cmd[i:i + 2] == LAUNCHER else None


def _kernel_manager_class():
    import subprocess
    import time
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient
    from jupyter_client.manager import AsyncKernelManager

    class ReadyKernelClient(AsyncKernelClient):
        """jupyter_client's client, with a shorter wait for a new kernel."""

        async def wait_for_ready(self, timeout: float | None = None) -> None:
            """Ready once the kernel has answered a kernel_info request on the shell channel and
            said on IOPub that it is idle again after it, the last message the request causes.
            jupyter_client's own wait ends by listening to IOPub until 0.2 s pass without a
            message, 0.2 s per chapter. Requests are sent again while IOPub is still silent (its
            subscription may not be connected yet); a message of the kernel's start that comes
            later has another parent, and nbclient ignores it."""
            deadline = time.monotonic() + (float("inf") if timeout is None else float(timeout))
            asked: set[str] = set()
            reply = None
            while True:
                asked.add(self.kernel_info())
                try:
                    while reply is None:
                        msg = await self.shell_channel.get_msg(timeout=1)
                        if msg["msg_type"] == "kernel_info_reply":
                            reply = msg
                    while True:
                        msg = await self.iopub_channel.get_msg(timeout=0.2)
                        if (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                                and msg["parent_header"].get("msg_id") in asked):
                            self._handle_kernel_info_reply(reply)
                            return
                except Empty:
                    pass
                if not await self.is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")

    class ForkKernelManager(AsyncKernelManager):
        """Starts its kernel by asking the zygote to fork one (the ordinary way when the
        kernelspec is not ipykernel's launcher or the zygote cannot be reached)."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.client_factory = ReadyKernelClient

        async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
            """A forked kernel shut down ``now`` is killed and its end awaited from the zygote,
            which reports it at once; jupyter_client then finds it gone at its first look
            instead of looking again every 0.1 s."""
            process = getattr(self.provisioner, "process", None)
            if now and not restart and isinstance(process, ForkedKernel) and process.poll() is None:
                await self.provisioner.kill()
                try:
                    process.wait(EXIT_REPORT_WAIT)
                except subprocess.TimeoutExpired:
                    pass  # jupyter_client looks again, as it would have
            await super().shutdown_kernel(now=now, restart=restart)

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw):
            address = os.environ.get(ENV_VAR, "")
            argv = _launcher_arguments(kernel_cmd)
            if address and argv is not None:
                env = dict(kw.get("env") or os.environ)
                env["JPY_PARENT_PID"] = str(os.getpid())
                cwd = str(kw.get("cwd") or os.getcwd())
                try:
                    process = ForkedKernel(address, argv, env, cwd)
                except OSError as exc:
                    print(f"kernel zygote unavailable ({exc}); starting the kernel the ordinary way",
                          file=sys.stderr, flush=True)
                else:
                    provisioner = self.provisioner
                    provisioner.process, provisioner.pid, provisioner.pgid = process, process.pid, process.pid
                    provisioner.cwd = cwd
                    self._reconcile_connection_info(provisioner.connection_info)
                    return
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return ForkKernelManager


def papermill_options() -> dict:
    """Keyword arguments for ``papermill.execute_notebook`` while a zygote serves this build,
    nothing otherwise: the forking kernel manager, and a kernel killed once its last cell has run
    (nbclient's ``shutdown_kernel="immediate"``) instead of asked to shut down and watched until it
    exits. The notebook is complete by then; a forked kernel has nothing to save at exit."""
    if not os.environ.get(ENV_VAR):
        return {}
    return {"kernel_manager_class": _kernel_manager_class(), "shutdown_kernel": "immediate"}
