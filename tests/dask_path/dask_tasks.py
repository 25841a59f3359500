"""A slow task for tests/test_dask_cluster.py, in a folder of its own that the test puts on its
Dask workers' (and scheduler's) PYTHONPATH: they import a task's function by name, and they have
the ``analysis`` package but not the tests.  (Dask pickles a task graph with the standard
pickle, so cloudpickle's ``register_pickle_by_value`` does not ship a module to them.)"""

from __future__ import annotations

import time

import numpy as np


def slow_draw(task: tuple[int, float]) -> list[float]:
    """Three numbers drawn from the seed ``task[0]``, after sleeping ``task[1]`` seconds (long
    enough for a test to kill a worker while tasks run)."""
    seed, seconds = task
    time.sleep(seconds)
    return np.random.default_rng(seed).random(3).tolist()
