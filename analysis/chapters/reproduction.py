"""The Reproduce chapter (11): the parameters this build received, the hashes of its inputs, the
versions of the packages, and the papermill command that re-runs each chapter."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from analysis.present import reproduce, tables


@dataclass
class ReproduceChapter:
    """What the Reproduce chapter shows.

    Attributes
    ----------
    values : dict
        Every parameter a user may set, with the value this build received.
    interpreter : str
        The Python that ran the build.
    parameter_table, input_hashes, package_versions, papermill_commands : pandas.DataFrame
        The tables, as saved.
    commands : list of analysis.present.reproduce.Command
        One papermill command per chapter, as the page prints them.
    """

    values: dict[str, Any]
    interpreter: str
    parameter_table: pd.DataFrame
    input_hashes: pd.DataFrame
    package_versions: pd.DataFrame
    papermill_commands: pd.DataFrame
    commands: list


def chapter(**parameters: Any) -> ReproduceChapter:
    """Compute the Reproduce chapter from its checked parameters (it declares every parameter).

    Parameters
    ----------
    **parameters : Any
        The chapter's parameters (:func:`analysis.params.check`), ``tables_dir`` among them.

    Returns
    -------
    ReproduceChapter
        The values received, the interpreter, the tables (written to ``tables_dir``) and the
        papermill commands.

    Raises
    ------
    KeyError
        When the chapter does not declare a parameter of the schema.
    """
    values = reproduce.build_values(parameters)
    tables_dir = parameters["tables_dir"]
    return ReproduceChapter(
        values=values, interpreter=reproduce.interpreter(),
        parameter_table=tables.save(reproduce.parameter_table(values), "parameters", tables_dir),
        input_hashes=tables.save(reproduce.input_hashes(parameters["corpus_path"], parameters["website_snapshot"]),
                                 "input_hashes", tables_dir),
        package_versions=tables.save(reproduce.package_versions(), "package_versions", tables_dir),
        papermill_commands=tables.save(reproduce.papermill_commands(values), "papermill_commands", tables_dir),
        commands=reproduce.chapter_commands(values))
