"""The three city chapters (04 Beijing, 05 Shanghai, 06 Shenzhen): one function computes what each
shows, so that the three pages differ only in their city and their prose."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from analysis.defaults import DEFAULT_SEED, KEYNESS_ADJUST, MIN_DF, TEXT_FIELDS, TOP_N, WITHHOLD_TEXTS
from analysis.chapters import shared
from analysis.data import corpus as corpus_io
from analysis.data import facts
from analysis.present import figures, tables

#: the bars of the keyness figure and the words of the cloud
BARS, CLOUD_WORDS = 12, 40


@dataclass
class CityChapter:
    """What a city chapter shows.

    Attributes
    ----------
    city : str
    corpus : analysis.data.corpus.Corpus
        The corpus read (its notice says whether it is simulated).
    fields : list of str
        The text fields analysed.
    report : analysis.present.tables.CityReport
        Firms, key terms, shares, modal categories and typical firms of the city.
    key_counts : dict
        Key terms tested, over-used and surviving the correction (:func:`analysis.present.tables.key_counts`).
    keyness_figure, cloud_figure : matplotlib.figure.Figure
        The keyness bars and the word cloud, closed (shown only where the chapter glues them).
    keyness_table, examples : pandas.DataFrame
        The tables shown, as saved to ``keyness_CITY.csv`` and ``CITY_examples.csv``.
    named_firms : pandas.DataFrame
        The firms the brief names for the city (real firms, not of the corpus).
    """

    city: str
    corpus: corpus_io.Corpus
    fields: list[str]
    report: tables.CityReport
    key_counts: dict
    keyness_figure: Figure
    cloud_figure: Figure
    keyness_table: pd.DataFrame
    examples: pd.DataFrame
    named_firms: pd.DataFrame


def chapter(city: str, *, corpus_path: str = "", website_snapshot: str = "", tables_dir: str = "",
            text_fields: Sequence[str] = TEXT_FIELDS, coder: str = "", min_df: int = MIN_DF, top_n: int = TOP_N,
            keyness_adjust: str = KEYNESS_ADJUST, seed: int = DEFAULT_SEED,
            withhold_texts: bool = WITHHOLD_TEXTS) -> CityChapter:
    """Compute the chapter of ``city`` from its checked parameters (:func:`analysis.params.check`).

    Parameters
    ----------
    city : str
        Beijing, Shanghai or Shenzhen.
    corpus_path, website_snapshot, tables_dir, coder, keyness_adjust : str
        The chapter's parameters (README, "Parameters"): the corpus and the website snapshot,
        the tables' folder, the coder and the keyness correction.
    text_fields : list of str
        The text columns analysed.
    min_df, top_n, seed : int
        The least firms a term is used by, the key terms shown, the seed (of the word cloud).
    withhold_texts : bool
        Leave the typical firms' descriptions out of their table (a licensed export's texts).

    Returns
    -------
    CityChapter
        Its numbers, tables (written to ``tables_dir``) and figures.

    Raises
    ------
    analysis.data.corpus.CorpusError
        If the corpus or the website snapshot cannot be read or breaks the corpus contract.
    """
    data = corpus_io.load(corpus_path, website_snapshot)
    coded = shared.code(data.firms, text_fields, coder=coder, seed=seed)
    keyness_tables = shared.city_keyness_tables(data.firms, text_fields, min_df=min_df, adjust=keyness_adjust)
    report = tables.city_report(coded, city, keyness_tables, text_fields)
    bars = figures.keyness_bars(report.keyness, city, n=BARS, simulated=data.simulated)
    cloud = tables.cloud_weights(report.keyness, n=CLOUD_WORDS)
    survivors = tables.top_terms(report.keyness, n=len(cloud))
    word_cloud = figures.city_wordcloud(cloud, city, seed=seed, survivors=survivors, simulated=data.simulated)
    figures.close(bars)  # the notebook shows an open figure at the end of the cell that made it
    figures.close(word_cloud)
    slug = city.lower()
    if withhold_texts:
        report.examples = report.examples.drop(columns=["description"], errors="ignore")
    return CityChapter(
        city=city, corpus=data, fields=list(text_fields), report=report, key_counts=tables.key_counts(report.keyness),
        keyness_figure=bars, cloud_figure=word_cloud,
        keyness_table=tables.save(tables.keyness_display(report.keyness, top_n), f"keyness_{slug}", tables_dir,
                                  corpus=data),
        examples=tables.save(report.examples, f"{slug}_examples", tables_dir, corpus=data),
        named_firms=facts.named_firms(city))
