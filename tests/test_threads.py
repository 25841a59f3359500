"""One BLAS thread per process once ``analysis`` is imported (analysis/__init__.py), unless the
environment already says how many."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import analysis

PROBE = ("import numpy, json; import analysis; import scipy.linalg; from threadpoolctl import threadpool_info; "
         "print(json.dumps([i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']))")


def _blas_threads(env: dict) -> list[int]:
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_blas_is_single_threaded_even_when_numpy_came_first():
    env = {k: v for k, v in os.environ.items() if k not in analysis.BLAS_THREAD_VARS}
    threads = _blas_threads(env)
    assert threads and set(threads) == {1}  # numpy's OpenBLAS (loaded first) and scipy's


def test_a_thread_count_the_user_set_is_kept():
    env = {k: v for k, v in os.environ.items() if k not in analysis.BLAS_THREAD_VARS}
    assert set(_blas_threads({**env, "OPENBLAS_NUM_THREADS": "2"})) == {2}
