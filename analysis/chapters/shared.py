"""The results several chapters ask for, in one place: each is the package's own function,
memoised with :func:`analysis.build.shared_results.shared`, so that inside a build equal calls
from different chapters compute once (the city chapters code the firms and compute the key
terms of all three cities; the convergence and validation pages run the same simulation study).
Outside a build (tests, papermill by hand) each call computes. The key of a result names the
wrapped function (``analysis.present.tables.code``, ...), so a call here and a call of the
function itself give the same numbers.

The functions below them (text, method) are plain computations: a result they need from a
shared one is passed to them as an argument (the verdict hands its coder's error to the
simulation study), never looked up in a cache.
"""

from __future__ import annotations

from analysis.build.shared_results import shared
from analysis.method import validation
from analysis.present import tables

#: every firm coded by the chosen coder, with its investor portrait (04–07, 10)
code = shared(tables.code)
#: the key terms of every city (04–07)
city_keyness_tables = shared(tables.city_keyness_tables)
#: the simulation study at a corpus's design (08 through the verdict, 09)
simulation_study = shared(validation.simulation_study)
#: power by corpus size (08 through the verdict)
design_power = shared(validation.design_power)

__all__ = ["code", "city_keyness_tables", "design_power", "simulation_study"]
