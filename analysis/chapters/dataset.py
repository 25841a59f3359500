"""The data chapter (03): the corpus, its coverage, what was left out, and every firm."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from analysis.data import corpus as corpus_io
from analysis.defaults import WITHHOLD_TEXTS
from analysis.present import figures, tables

#: a page lists at most this many firms; ``firms.csv`` has them all
MAX_SHOWN = 2000
#: the firm table's columns on the page, with their headings
SHOWN_COLUMNS = {"name": "name", "city": "city", "founded_year": "founded", "description": "description"}


@dataclass
class DataChapter:
    """What the data chapter shows.

    Attributes
    ----------
    corpus : analysis.data.corpus.Corpus
    per_city, coverage, exclusions, firm_table : pandas.DataFrame
        The tables, as saved: firms per city beside the brief's counts, text coverage, the rows
        left out with their reasons, and every firm (``firms.csv``).
    n_per_city : dict
        Firms per city, and ``all_three`` (the keys of the glued ``data_n_*`` values).
    share_with_website : float
        Share of firms with website text.
    years_figure : matplotlib.figure.Figure
        Founding years per city, closed (shown where the chapter glues it).
    shown : pandas.DataFrame
        The firms listed on the page: every firm, or the first :data:`MAX_SHOWN` by city and name.
    n_firms : int
        Firms in the corpus (more than ``len(shown)`` when the list is cut).
    """

    corpus: corpus_io.Corpus
    per_city: pd.DataFrame
    coverage: pd.DataFrame
    exclusions: pd.DataFrame
    firm_table: pd.DataFrame
    n_per_city: dict
    share_with_website: float
    years_figure: Figure
    shown: pd.DataFrame
    n_firms: int


def shown_firms(firm_table: pd.DataFrame, max_shown: int = MAX_SHOWN) -> pd.DataFrame:
    """The firms a page lists: name, city, founding year (as ``founded``) and description; all of
    them when there are at most ``max_shown``, else the first ``max_shown`` by city and name.

    Parameters
    ----------
    firm_table : pandas.DataFrame
        Every firm, with the columns ``name``, ``city``, ``founded_year`` and (unless the texts
        are withheld) ``description``.
    max_shown : int
        The most firms listed.

    Returns
    -------
    pandas.DataFrame
        Those four columns (``founded_year`` renamed ``founded``), in the table's order when
        not cut.

    Raises
    ------
    KeyError
        If ``firm_table`` lacks one of the first three columns.
    """
    shown = firm_table[[c for c in SHOWN_COLUMNS if c != "description" or c in firm_table]].rename(columns=SHOWN_COLUMNS)
    if len(shown) > max_shown:
        shown = shown.sort_values(["city", "name"], kind="stable").head(max_shown)
    return shown


def chapter(*, corpus_path: str = "", website_snapshot: str = "", tables_dir: str = "",
            withhold_texts: bool = WITHHOLD_TEXTS) -> DataChapter:
    """Compute the data chapter from its checked parameters (:func:`analysis.params.check`).

    Parameters
    ----------
    corpus_path, website_snapshot, tables_dir : str
        The chapter's parameters (README, "Parameters").
    withhold_texts : bool
        Leave the firms' descriptions out of the firm table, ``firms.csv`` and the page.

    Returns
    -------
    DataChapter
        Its numbers, tables (written to ``tables_dir``) and figure.

    Raises
    ------
    analysis.data.corpus.CorpusError
        If the corpus or the website snapshot cannot be read or breaks the corpus contract.
    """
    data = corpus_io.load(corpus_path, website_snapshot)
    firms = data.firms
    per_city = tables.save(tables.firms_per_city(firms), "firms_per_city", tables_dir, corpus=data)
    years = figures.year_histogram(firms, simulated=data.simulated)
    figures.close(years)  # the notebook shows an open figure at the end of the cell that made it
    firm_table = tables.save(tables.firm_table(firms, texts=not withhold_texts), "firms", tables_dir, corpus=data)
    return DataChapter(
        corpus=data, per_city=per_city,
        coverage=tables.save(tables.text_coverage(firms), "text_coverage", tables_dir, corpus=data),
        exclusions=tables.save(data.exclusions, "exclusions", tables_dir, corpus=data),
        firm_table=firm_table,
        n_per_city={row.city.replace(" ", "_"): int(row.firms) for row in per_city.itertuples()},
        share_with_website=float(firms["website_text"].fillna("").str.strip().ne("").mean()),
        years_figure=years, shown=shown_firms(firm_table), n_firms=len(firms))
