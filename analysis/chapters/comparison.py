"""The comparison chapter (07): the brief's Table 1 rebuilt, the shares behind it, the brief's
Figure 1 redrawn and the similarity of the cities' vocabularies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from analysis.defaults import DEFAULT_SEED, KEYNESS_ADJUST, MIN_DF, TEXT_FIELDS
from analysis.chapters import shared
from analysis.data import corpus as corpus_io
from analysis.data import facts
from analysis.present import figures, tables

#: the dimensions whose shares per city the chapter lists
SHARE_DIMENSIONS = ("application", "customer", "geography", "investor")
#: the words of the comparison cloud
CLOUD_WORDS = 40


@dataclass
class ComparisonChapter:
    """What the comparison chapter shows.

    Attributes
    ----------
    corpus : analysis.data.corpus.Corpus
    table1, table1_wide, brief_table1, business_type_check : pandas.DataFrame
        As saved: Table 1 rebuilt (one row per cell, with its agreement with the brief), the
        same as the brief lays it out, the brief's own Table 1, and the brief's business types
        checked against its codebook.
    n_agree, n_tie, n_tested : int
        Cells of the rebuilt Table 1 that agree with the brief, that are ties, and that were tested.
    agreement : analysis.present.tables.AgreementCounts
        The same counted apart for the text-coded cells, the investor cells and the firm counts.
    shares : dict
        Dimension -> shares per city (as saved to ``shares_DIMENSION.csv``).
    weights : pandas.DataFrame
        The terms of the comparison cloud (``figure1_terms.csv``).
    cloud : matplotlib.figure.Figure
        The comparison cloud, closed (shown where the chapter glues it).
    similarity : pandas.DataFrame
        Cosine similarity of the cities' tf-idf vocabularies (``city_similarity.csv``).
    """

    corpus: corpus_io.Corpus
    table1: pd.DataFrame
    table1_wide: pd.DataFrame
    brief_table1: pd.DataFrame
    business_type_check: pd.DataFrame
    n_agree: int
    n_tie: int
    n_tested: int
    agreement: tables.AgreementCounts
    shares: dict
    weights: pd.DataFrame
    cloud: Figure
    similarity: pd.DataFrame


def chapter(*, corpus_path: str = "", website_snapshot: str = "", tables_dir: str = "",
            text_fields: Sequence[str] = TEXT_FIELDS, coder: str = "", min_df: int = MIN_DF,
            keyness_adjust: str = KEYNESS_ADJUST, seed: int = DEFAULT_SEED) -> ComparisonChapter:
    """Compute the comparison chapter from its checked parameters (:func:`analysis.params.check`).

    Parameters
    ----------
    corpus_path, website_snapshot, tables_dir, coder, keyness_adjust : str
        The chapter's parameters (README, "Parameters"): the corpus and the website snapshot,
        the tables' folder, the coder and the keyness correction.
    text_fields : list of str
        The text columns analysed.
    min_df, seed : int
        The least firms a term is used by, and the seed (of the word cloud).

    Returns
    -------
    ComparisonChapter
        Its numbers, tables (written to ``tables_dir``) and word cloud.

    Raises
    ------
    analysis.data.corpus.CorpusError
        If the corpus or the website snapshot cannot be read or breaks the corpus contract.
    """
    data = corpus_io.load(corpus_path, website_snapshot)
    coded = shared.code(data.firms, text_fields, coder=coder, seed=seed)
    keyness_tables = shared.city_keyness_tables(data.firms, text_fields, min_df=min_df, adjust=keyness_adjust)
    t1 = tables.save(tables.table1(coded, keyness_tables), "table1_long", tables_dir, corpus=data)
    tested = t1[t1["agree"] != "not tested"]
    weights = tables.save(tables.comparison_weights(keyness_tables, n=CLOUD_WORDS), "figure1_terms", tables_dir,
                          corpus=data)
    cloud = figures.comparison_wordcloud(weights, seed=seed, simulated=data.simulated)
    figures.close(cloud)  # the notebook shows an open figure at the end of the cell that made it
    return ComparisonChapter(
        corpus=data, table1=t1,
        table1_wide=tables.save(tables.table1_display(t1), "table1", tables_dir, corpus=data),
        brief_table1=tables.save(facts.brief_table1(), "table1_brief", tables_dir),
        business_type_check=tables.save(tables.brief_business_type_check(), "brief_business_type_check",
                                        tables_dir),
        n_agree=int((tested["agree"] == "yes").sum()), n_tie=int((tested["agree"] == "tie").sum()),
        n_tested=len(tested), agreement=tables.agreement_counts(t1),
        shares={dim: tables.save(tables.shares_by_city(coded, dim), f"shares_{dim}", tables_dir, corpus=data)
                for dim in SHARE_DIMENSIONS},
        weights=weights, cloud=cloud,
        similarity=tables.save(tables.group_similarity(data.firms, text_fields), "city_similarity", tables_dir,
                               corpus=data))
