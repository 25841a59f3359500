"""Reproducible re-run of Hai & Klingler-Vidra (2022): Chinese blockchain start-ups as text data.

Dependency direction (DESIGN §5): corpus/simulate -> text -> keyness/classify/convergence
-> tables/figures -> book chapters.  ``build`` knows chapters and parameters only.

Importing the package sets one BLAS thread per process (unless the environment already says how
many): the analysis does its parallel work in processes (a chapter per core, the power study's
replicates), and a multi-threaded BLAS on top of that oversubscribes the cores (the supervised
coder's L-BFGS fits ran twice as long in a build) and makes floating-point sums depend on the
machine's core count.

Inside a build (the runner sets ``ANALYSIS_READS_LOG``), importing the package also starts
recording the input files the process reads (:mod:`analysis.build.inputs`), so that a chapter is run
again exactly when a file it read has changed.
"""

import os as _os

__version__ = "0.1.0"

BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

if not any(_var in _os.environ for _var in BLAS_THREAD_VARS):
    for _var in BLAS_THREAD_VARS:
        _os.environ[_var] = "1"  # libraries loaded from now on, in this process and its children
    from threadpoolctl import threadpool_limits as _threadpool_limits

    _threadpool_limits(1, user_api="blas")  # those already loaded (numpy imported first)

if _os.environ.get("ANALYSIS_READS_LOG"):  # analysis.build.inputs.LOG_VAR: a chapter run by the build
    from analysis.build.inputs import install_recorder as _install_recorder

    _install_recorder()
