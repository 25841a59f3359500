"""A "portable-only" interpreter: Linux Python without what macOS or Windows lack for starting
processes, so that a test (or a whole build) run with it fails where the code would fail there.

Put this directory first on ``PYTHONPATH`` of a subprocess; Python imports ``sitecustomize`` at
start-up, in that process and in every Python process it starts with the same environment
(multiprocessing's spawned workers included). It then

* removes ``os.fork``, ``os.forkpty``, ``os.pidfd_open`` and ``socket.SOCK_SEQPACKET`` (where
  present), so code that calls them raises ``AttributeError``, and code that tests for them with
  ``hasattr`` takes its other branch;
* makes ``spawn`` the start method of ``multiprocessing`` (as on macOS and Windows), and makes
  asking for ``fork`` or ``forkserver`` (``get_context``, ``set_start_method``) raise
  ``ValueError``, as asking for an unknown method does; ``get_all_start_methods()`` is
  ``["spawn"]``.

``subprocess`` keeps working: on POSIX it starts children with ``_posixsubprocess.fork_exec``
(fork and exec in C), not ``os.fork``, and so do multiprocessing's spawn start method and its
resource tracker. Modules such as ``fcntl`` are left importable: third-party libraries import
them on POSIX because ``sys.platform`` says so, as they would not on Windows (tests that the
project's own modules do without them: ``tests/test_portable.py``).

Setting ``PORTABLE_SITE_OFF=1`` in the environment turns all of this off. A ``sitecustomize``
further along ``sys.path`` (a distribution's, say), which this one hides, is run afterwards.
"""

import os
import sys


def _remove_fork_apis() -> None:
    import socket

    for module, name in ((os, "fork"), (os, "forkpty"), (os, "pidfd_open"), (socket, "SOCK_SEQPACKET")):
        if hasattr(module, name):
            delattr(module, name)


def _spawn_only() -> None:
    import multiprocessing
    from multiprocessing import context

    refused = ("fork", "forkserver")

    def guard(get_context):
        def get_context_portable(self, method=None):
            if method in refused:
                raise ValueError(f"cannot find context for {method!r} (portable-only interpreter: spawn only)")
            return get_context(self, method)

        get_context_portable.__doc__ = get_context.__doc__
        return get_context_portable

    context.BaseContext.get_context = guard(context.BaseContext.get_context)
    context.DefaultContext.get_context = guard(context.DefaultContext.get_context)
    context.DefaultContext.get_all_start_methods = lambda self: ["spawn"]
    default = context._default_context
    default.set_start_method("spawn", force=True)
    # the package's functions are the default context's methods, bound when it was imported
    for name in ("get_context", "get_all_start_methods", "set_start_method", "get_start_method"):
        setattr(multiprocessing, name, getattr(default, name))


def _run_next_sitecustomize() -> None:
    import importlib.machinery
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    rest = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is not None and spec.loader is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


if os.environ.get("PORTABLE_SITE_OFF") != "1":
    _remove_fork_apis()
    _spawn_only()
_run_next_sitecustomize()
