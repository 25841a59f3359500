"""Kernels forked from the build's zygote (analysis/kernels.py): a chapter executed in a forked
kernel gives the same notebook as in an ordinary one; the kernel really is the zygote's child; a
kernel dies when its worker or the zygote goes; without a reachable zygote chapters still run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest

from analysis import build, kernels

ROOT = Path(__file__).resolve().parent.parent

CHAPTER = textwrap.dedent('''\
    # %% [markdown]
    # # A chapter

    # %% tags=["parameters"]
    n = 3

    # %%
    import os

    import matplotlib.pyplot as plt
    from IPython.display import Markdown, display
    from myst_nb import glue

    print("kernel", os.getpid(), "parent", os.getppid(), flush=True)
    open("pid.txt", "w").write(str(os.getpid()))
    glue("total", sum(range(n)), display=False)
    display(Markdown(f"**{n}** items, in `{os.path.basename(os.getcwd())}`"))
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot(range(n))
    plt.show()

    # %%
    {"n": n, "squares": [i * i for i in range(n)]}
''')


def test_imported_modules_reads_top_level_imports():
    source = "import a.b, c\nfrom d import e, f\nfrom . import g\nfrom h import *\nx = 1\n"
    assert kernels.imported_modules(source) == ["a.b", "c", "d", "d.e", "d.f", "h"]
    assert kernels.imported_modules("%matplotlib inline\nimport a") == []  # a magic: not Python
    assert kernels._launcher_arguments(["py", "-Xfrozen_modules=off", "-m", "ipykernel_launcher", "-f",
                                        "k.json"]) == ["-f", "k.json"]
    assert kernels._launcher_arguments(["py", "-m", "other_kernel", "-f", "k.json"]) is None


@pytest.fixture
def chapter(tmp_path):
    folder = tmp_path / "book"
    folder.mkdir()
    source = folder / "01_chapter.py"
    source.write_text(CHAPTER)
    return build.Chapter("01_chapter", source)


@pytest.fixture
def zygote(chapter):
    address = f"test-kernels-{os.getpid()}-{time.monotonic_ns()}"
    with kernels.listen(address) as listener:
        proc = subprocess.Popen([sys.executable, "-c", "import sys, json; from analysis.kernels import serve; "
                                 "serve(int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3])", str(listener.fileno()),
                                 json.dumps([str(chapter.source)]), str(ROOT / "analysis")], cwd=ROOT, pass_fds=(listener.fileno(),),
                                env=dict(os.environ, PYTHONPATH=str(ROOT)))
    yield address, proc
    proc.kill()
    proc.wait()


def _outputs(path: Path) -> list:
    nb = json.loads(path.read_text())
    return [cell.get("outputs") for cell in nb["cells"]]


def _strip_pids(outputs: list) -> str:
    text = json.dumps(outputs)
    return "".join(ch for ch in text if not ch.isdigit())  # the pids printed differ, nothing else


def test_forked_kernel_gives_the_ordinary_notebook(chapter, zygote, tmp_path, monkeypatch):
    address, proc = zygote
    ordinary, forked = tmp_path / "ordinary.ipynb", tmp_path / "forked.ipynb"
    monkeypatch.delenv(kernels.ENV_VAR, raising=False)
    build.execute_chapter(chapter, {"n": 4}, ordinary)
    monkeypatch.setenv(kernels.ENV_VAR, address)
    build.execute_chapter(chapter, {"n": 4}, forked)
    out = _outputs(forked)
    assert _strip_pids(out) == _strip_pids(_outputs(ordinary))
    text = json.dumps(out)
    assert "**4** items, in `book`" in text  # ran in the chapter's folder with its parameters
    assert "image/png" in text  # the figure shown inline
    assert "'squares': [0, 1, 4, 9]" in text
    # the kernel was the zygote's child, not a process the worker started
    printed = "".join(next(o["text"] for o in out[3] if o.get("name") == "stdout"))
    assert f"parent {proc.pid}" in printed


def _start_kernel(address: str, tmp_path: Path):
    """A kernel forked by the zygote through the worker's side of the protocol, with its own
    connection file; the handle and the kernel's pid."""
    from jupyter_client.connect import write_connection_file

    conn_file, _ = write_connection_file(str(tmp_path / "kernel.json"))
    handle = kernels.ForkedKernel(address, ["-f", conn_file], dict(os.environ), str(tmp_path))
    return handle, handle.pid


def _gone(pid: int, within: float = 10) -> bool:
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:  # gone, or reaped between two looks
            return True
        time.sleep(0.1)
    return False


def test_kernel_dies_with_its_worker_and_reports_its_exit(zygote, tmp_path):
    address, proc = zygote
    handle, pid = _start_kernel(address, tmp_path)
    assert psutil.Process(pid).ppid() == proc.pid and handle.poll() is None
    handle.kill()  # jupyter_client's kill: SIGKILL to the kernel
    assert handle.wait(timeout=10) == -signal.SIGKILL
    handle, pid = _start_kernel(address, tmp_path)
    handle.sock.close()  # the worker went away without a word
    assert _gone(pid), "the zygote did not kill the kernel of a worker that went away"


def test_kernels_die_with_the_zygote(zygote, tmp_path):
    address, proc = zygote
    handle, pid = _start_kernel(address, tmp_path)
    proc.kill()
    assert _gone(pid), "a forked kernel outlived its zygote"
    assert handle.wait(timeout=10) is not None


def test_without_a_zygote_chapters_run_the_ordinary_way(chapter, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv(kernels.ENV_VAR, f"no-such-zygote-{os.getpid()}")
    build.execute_chapter(chapter, {"n": 2}, tmp_path / "out.ipynb")
    assert "'squares': [0, 1]" in json.dumps(_outputs(tmp_path / "out.ipynb"))
    assert "kernel zygote unavailable" in capfd.readouterr().err


def test_deepen_follows_deferred_imports_and_warms_up(tmp_path):
    package = tmp_path / "proj"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("WARM = False\n\ndef f():\n    from . import b\n    import proj_c\n\n"
                                  "def kernel_warmup():\n    global WARM\n    WARM = True\n")
    (package / "b.py").write_text("def g():\n    from proj import d\n")  # followed in turn
    (package / "d.py").write_text("")
    (tmp_path / "proj_c.py").write_text("")  # outside the project: imported, not followed
    script = textwrap.dedent(f'''\
        import sys
        from pathlib import Path
        sys.path.insert(0, {str(tmp_path)!r})
        import proj.a
        from analysis.kernels import deepen
        steps = list(deepen(Path({str(package)!r})))
        assert steps == ["proj.b", "proj_c", "proj.d", "proj.a.kernel_warmup()"], steps
        assert proj.a.WARM
        ''')
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert proc.returncode == 0, proc.stderr


def test_a_request_waits_for_its_own_chapters_imports_only(tmp_path):
    """The zygote serves a chapter's kernel before it imports what only later chapters need."""
    import threading

    from jupyter_client.connect import write_connection_file

    (tmp_path / "slow_for_later.py").write_text(
        "import pathlib, time\ntime.sleep(3)\npathlib.Path(__file__).with_name('imported').write_text('')\n")
    later, first = tmp_path / "02_later.py", tmp_path / "01_first.py"
    later.write_text("# %%\nimport slow_for_later\n")
    first.write_text("# %%\nimport json\n")
    conn_file, _ = write_connection_file(str(tmp_path / "kernel.json"))
    env = dict(os.environ, **{kernels.CHAPTER_VAR: str(first)})
    address = f"test-kernels-{os.getpid()}-{time.monotonic_ns()}"
    with kernels.listen(address) as listener:
        asked: dict = {}  # the request is made first, and waits in the backlog
        thread = threading.Thread(target=lambda: asked.setdefault(
            "kernel", kernels.ForkedKernel(address, ["-f", conn_file], env, str(tmp_path))))
        thread.start()
        time.sleep(0.5)
        proc = subprocess.Popen([sys.executable, "-c", "import sys, json; from analysis.kernels import serve; "
                                 "serve(int(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3])", str(listener.fileno()),
                                 json.dumps([str(later), str(first)]), str(ROOT / "analysis")], cwd=ROOT,
                                pass_fds=(listener.fileno(),),
                                env=dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{tmp_path}"))
    try:
        thread.join(60)
        assert "kernel" in asked
        assert not (tmp_path / "imported").exists(), "the kernel waited for a later chapter's imports"
        asked["kernel"].kill()
        deadline = time.time() + 30
        while not (tmp_path / "imported").exists() and time.time() < deadline:
            time.sleep(0.1)
        assert (tmp_path / "imported").exists(), "the zygote did not go on importing once idle"
    finally:
        proc.kill()
        proc.wait()
