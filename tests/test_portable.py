"""Portable by default (issue 19): the analysis code runs where fcntl, termios, resource, os.fork
and the fork start method do not exist, with the same numbers.

* Every module of ``analysis`` (the runner's included) imports in an interpreter where
  ``fcntl``, ``termios`` and ``resource`` raise ImportError when the package imports them (a
  third-party library may: it takes another branch on another platform).
* ``tests/portable_site/sitecustomize.py`` makes an interpreter "portable-only" (no ``os.fork``,
  spawn the only start method); under it the dictionary coder and the simulation study run in
  worker processes and give what the default path gives.
"""

from __future__ import annotations

import ast
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import analysis

ROOT = Path(__file__).resolve().parent.parent
PORTABLE_SITE = Path(__file__).resolve().parent / "portable_site"
BLOCKED = ("fcntl", "termios", "resource")

#: The runner's modules, which the portable runner rewrites (memo.py, build.py) or deletes (kernels.py,
#: sphinx_standby.py, bench_build.py). Until then they may import BLOCKED modules; everything else may
#: not, also through them. Empty this list with the rewrite, and the test is strict.
EXEMPT: tuple[str, ...] = ()  # no module of analysis may need them

# Imports every module of analysis with BLOCKED made unimportable: a guard on import statements (by
# the importing module's name, so the pending modules' own imports go through) and a finder first on
# sys.meta_path (for importlib.import_module). Prints JSON: modules found, failures, a self-check.
_IMPORT_EVERY_MODULE = r'''
import builtins, importlib, json, pkgutil, sys, traceback

blocked, pending = set(sys.argv[1].split(",")), set(filter(None, sys.argv[2].split(",")))
for name in blocked:
    sys.modules.pop(name, None)
state = {"allowed": False}


class Block:
    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if fullname in blocked and not state["allowed"]:
            raise ModuleNotFoundError(f"No module named {fullname!r} (blocked: not on every platform)", name=fullname)
        return None


sys.meta_path.insert(0, Block)
real_import = builtins.__import__


def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level == 0 and name.partition(".")[0] in blocked:
        importer = (globals or {}).get("__name__", "")
        # the package's own imports are blocked; a library's are not: on Windows or macOS it takes
        # its own platform's branch (psutil's Linux module imports resource, its Windows one does not)
        if importer.partition(".")[0] == "analysis" and importer not in pending:
            raise ModuleNotFoundError(f"No module named {name!r} (blocked: not on every platform; "
                                      f"imported by {importer})", name=name)
        state["allowed"] = True
        try:
            return real_import(name, globals, locals, fromlist, level)
        finally:
            state["allowed"] = False
    return real_import(name, globals, locals, fromlist, level)


builtins.__import__ = guarded_import
checks = []
for probe in ("import fcntl", "from resource import getrusage", "import importlib; importlib.import_module('termios')"):
    try:
        exec(probe, {"__name__": "analysis.probe"})
        checks.append(f"{probe}: not blocked")
    except ImportError:
        pass
import analysis

names = [m.name for m in pkgutil.walk_packages(analysis.__path__, "analysis.")]
failed = {}
for name in names:
    if name not in pending:
        try:
            importlib.import_module(name)
        except Exception:
            failed[name] = traceback.format_exc(limit=-4)
print(json.dumps({"modules": names, "failed": failed, "checks": checks}))
'''


def _python(*argv: str, portable: bool = False) -> subprocess.CompletedProcess:
    """This interpreter with ``argv`` in a fresh process; ``portable``: the portable-only one. The BLAS
    thread variables are left out, as in a user's shell: importing analysis there sets them."""
    path = [str(PORTABLE_SITE)] if portable else []
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([*path, str(ROOT)]))
    for name in ("PORTABLE_SITE_OFF", *analysis.BLAS_THREAD_VARS):
        env.pop(name, None)
    return subprocess.run([sys.executable, *argv], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_every_module_imports_without_fcntl_termios_resource():
    proc = _python("-c", _IMPORT_EVERY_MODULE, ",".join(BLOCKED), ",".join(EXEMPT))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not out["checks"], out["checks"]  # the blocking itself works
    assert {"analysis.text.classify", "analysis.method.validation", "analysis.build.bench_text"} <= set(out["modules"])
    assert not out["failed"], "modules that need " + "/".join(BLOCKED) + ":\n" + "\n".join(
        f"--- {name}\n{tb}" for name, tb in out["failed"].items())


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            yield node, func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def test_worker_pools_ask_for_spawn():
    """What ruff's banned-api cannot see (a string argument): no analysis module asks for the fork or
    forkserver start method, and every process pool names its start method (the platform default
    differs: fork on Linux before Python 3.14, spawn on macOS and Windows)."""
    pending = {name.rpartition(".")[2] + ".py" for name in EXEMPT}
    problems = []
    for path in sorted((ROOT / "analysis").glob("*.py")):
        if path.name in pending:
            continue
        for node, name in _calls(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.name}:{node.lineno}"
            if name in ("get_context", "set_start_method") and node.args and isinstance(node.args[0], ast.Constant) \
                    and node.args[0].value in ("fork", "forkserver"):
                problems.append(f"{where}: {name}({node.args[0].value!r})")
            if name == "ProcessPoolExecutor" and not any(k.arg == "mp_context" for k in node.keywords):
                problems.append(f"{where}: ProcessPoolExecutor without mp_context")
            if name == "Pool" and isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") \
                    == "multiprocessing":
                problems.append(f"{where}: multiprocessing.Pool with the platform's default start method")
    assert not problems, problems


_SITE_CHECK = r'''
import json, multiprocessing, os, socket, subprocess, sys
from concurrent.futures import ProcessPoolExecutor


def view(_=None):
    import multiprocessing, os, socket
    return {"apis": [n for n in ("fork", "forkpty", "pidfd_open") if hasattr(os, n)]
                    + (["SOCK_SEQPACKET"] if hasattr(socket, "SOCK_SEQPACKET") else []),
            "method": multiprocessing.get_start_method(), "methods": multiprocessing.get_all_start_methods()}


if __name__ == "__main__":
    refused = []
    for method in ("fork", "forkserver"):
        for ask in (multiprocessing.get_context, multiprocessing.get_context("spawn").get_context,
                    lambda m: multiprocessing.set_start_method(m, force=True)):
            try:
                ask(method)
            except ValueError:
                refused.append(method)
    child = subprocess.run([sys.executable, "-c", "import os; print(hasattr(os, 'fork'))"], capture_output=True,
                           text=True, check=True).stdout.strip()
    with ProcessPoolExecutor(1) as pool:  # the default start method: spawn
        worker = pool.submit(view).result()
    print(json.dumps({"here": view(), "refused": refused, "subprocess_child_has_fork": child, "worker": worker}))
'''


def test_portable_site_removes_fork_and_keeps_subprocess(tmp_path):
    script = tmp_path / "check.py"  # a file, so that the spawned worker can import view()
    script.write_text(_SITE_CHECK, encoding="utf-8")
    proc = _python(str(script), portable=True)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    portable = {"apis": [], "method": "spawn", "methods": ["spawn"]}
    assert out["here"] == portable
    assert out["worker"] == portable  # the site reaches spawned workers too
    assert out["refused"] == ["fork"] * 3 + ["forkserver"] * 3
    assert out["subprocess_child_has_fork"] == "False"  # subprocess works, and its Python child is portable-only


# The pools the analysis starts, with their start methods (a portable-only interpreter refuses any
# other than spawn; this shows the work went to worker processes at all).
_RECORD_POOLS = r'''
import concurrent.futures as cf

pools = []


class RecordingPool(cf.ProcessPoolExecutor):
    def __init__(self, *args, **kwargs):
        pools.append(kwargs["mp_context"].get_start_method())
        super().__init__(*args, **kwargs)


cf.ProcessPoolExecutor = RecordingPool
'''

SIMULATED_FIRMS = (2400, 2100, 1500)  # 6,000 firms


@pytest.mark.slow
def test_coder_in_spawned_workers_equals_default_path(tmp_path):
    from analysis.text import classify
    from analysis.data.simulate import simulate

    script = _RECORD_POOLS + r'''
import pickle, sys
from analysis.text import classify
from analysis.data.simulate import simulate

firms = simulate(n_per_city=%r, seed=11)
classify.PARALLEL_MIN_FIRMS = 1_000  # these 6,000 firms go to the worker processes
coded = classify.code_firms(firms, workers=2)
with open(sys.argv[1], "wb") as fh:
    pickle.dump({"coded": coded, "pools": pools}, fh)
''' % (SIMULATED_FIRMS,)
    out = tmp_path / "coded.pkl"
    proc = _python("-c", script, str(out), portable=True)
    assert proc.returncode == 0, proc.stderr
    portable = pickle.loads(out.read_bytes())
    assert portable["pools"] == ["spawn"]
    default = classify.code_firms(simulate(n_per_city=SIMULATED_FIRMS, seed=11))  # one process, below the threshold
    pd.testing.assert_frame_equal(portable["coded"], default)
    assert len(default) == 6000 and (default["customer_label"] == "public").sum() > 0


SMALL_STUDY = dict(strengths=(1.0,), replicates=4, seed=3, n_perm=19, n_subsamples=2, text_replicates=2,
                   n_per_city=(40, 20, 15), details=True)


@pytest.mark.slow
def test_simulation_study_in_spawned_workers_equals_default_path(tmp_path):
    from analysis.method.validation import simulation_study

    script = _RECORD_POOLS + r'''
import pickle, sys
from analysis.method.validation import simulation_study

study = simulation_study(workers=2, **%r)
with open(sys.argv[1], "wb") as fh:
    pickle.dump({"study": study, "details": study.attrs["details"], "pools": pools}, fh)
''' % (SMALL_STUDY,)
    out = tmp_path / "study.pkl"
    proc = _python("-c", script, str(out), portable=True)
    assert proc.returncode == 0, proc.stderr
    portable = pickle.loads(out.read_bytes())
    assert portable["pools"] == ["spawn"]
    default = simulation_study(workers=1, **SMALL_STUDY)
    pd.testing.assert_frame_equal(portable["details"], default.attrs["details"])
    pd.testing.assert_frame_equal(portable["study"], default)


def test_dictionary_pickles_and_codes_the_same():
    """The coder's workers receive the dictionary by pickle: its quick tests (closures) and caches
    are rebuilt, and it codes as the original does."""
    from analysis.text import classify
    from analysis.data.simulate import simulate

    d = classify.load_dictionary()
    copy = pickle.loads(pickle.dumps(d))
    assert copy is not d and copy.path == d.path and copy.categories == d.categories
    texts = classify._text.firm_texts(simulate(n_per_city=(30, 20, 10), seed=4),
                                      ("description", "full_description", "website_text"), sep="\n")
    assert classify._code_rows(texts, copy) == classify._code_rows(texts, d)


_REPLAY = r'''
import json, multiprocessing
from concurrent.futures import ProcessPoolExecutor
import threadpoolctl
from analysis.text import preprocess as text

run = "链改票据通平台"
before = text._segment(run)
text.add_zh_terms(["链改票据通"])  # as a dictionary with a term beyond the packaged list does
after = text._segment(run)
spawn = multiprocessing.get_context("spawn")
with ProcessPoolExecutor(1, mp_context=spawn, initializer=text.add_zh_terms,
                         initargs=(text.added_zh_terms(),)) as pool:
    replayed = pool.submit(text._segment, run).result()
with ProcessPoolExecutor(1, mp_context=spawn) as pool:
    fresh = pool.submit(text._segment, run).result()
    blas = [i["num_threads"] for i in pool.submit(threadpoolctl.threadpool_info).result() if i["user_api"] == "blas"]
print(json.dumps({"before": before, "after": after, "replayed": replayed, "fresh": fresh,
                  "added": list(text.added_zh_terms()), "worker_blas_threads": blas}, ensure_ascii=False))
'''


@pytest.mark.slow
def test_spawned_worker_tokenizes_as_its_parent():
    """A spawned worker's jieba is a fresh one; given the terms the parent added (as the coder's and
    the study's pools do), it segments Chinese as the parent does.  Its BLAS has one thread, as
    importing analysis set for the parent."""
    proc = _python("-c", _REPLAY)  # a process of its own: the added term would change this one's tokenizer
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["added"] == ["链改票据通"]
    assert "链改票据通" in out["after"] and out["after"] != out["before"]
    assert out["replayed"] == out["after"]
    assert out["fresh"] == out["before"]  # what a worker without the terms would do
    assert out["worker_blas_threads"] and set(out["worker_blas_threads"]) == {1}  # analysis' setting, inherited
