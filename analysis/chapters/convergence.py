"""The convergence chapter (08): one function computes what it shows, the book's verdict (shared
with the policy chapter, :func:`verdict_of`), its tables, the sensitivity of the primary
decision and the cohort figures, so that the page only narrates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from analysis.defaults import (
    ALPHA, COHORT_EDGES, DEFAULT_SEED, EQUIVALENCE_MARGIN, N_BOOT, N_PERM, N_PERM_JOINT, N_PERM_SHARES, N_SUBSAMPLES,
    REPLICATES, TEXT_FIELDS, TEXT_REPLICATES,
)
from analysis.chapters import verdict
from analysis.data import corpus as corpus_io
from analysis.method import convergence, specification_curve, validation
from analysis.present import figures, tables


@dataclass
class ConvergenceChapter:
    """What the convergence chapter shows.

    Attributes
    ----------
    corpus : analysis.data.corpus.Corpus
        The corpus read (its notice says whether it is simulated).
    verdict : analysis.chapters.verdict.Verdict
        The book's verdict (:func:`verdict_of`): the analysis, the simulation study, power and the
        coder's error.
    result : analysis.method.convergence.ConvergenceResult
        ``verdict.result``: the cohorts, weights, notes and firms left out, the corrected shares
        and the tipping point.
    row : pandas.Series
        The primary row of the verdict table.
    first_year, last_year : int
        The window of founding years the rule reads (:func:`analysis.method.convergence.year_window`).
    per_cohort : pandas.DataFrame
        Firms per city and cohort, as saved to ``convergence_firms_per_cohort.csv``.
    cohort_table, gap_table, trend_table : pandas.DataFrame
        The measures by cohort, the gaps to Beijing by cohort and the slopes per year, as saved to
        ``convergence_by_cohort.csv``, ``convergence_gaps.csv`` and ``convergence_trends.csv``.
    decomposition, corrected, verdict_table : pandas.DataFrame
        As saved to ``convergence_decomposition.csv``, ``convergence_corrected.csv`` and ``verdict.csv``
        (the page shows the columns of :mod:`analysis.present.convergence_tables`).
    rates, power, by_size, power_misspecified : pandas.DataFrame
        The simulation study's rates world by world, power and the minimum detectable effect, power
        by corpus size, and power with a coder worse than measured, as saved to
        ``convergence_rates.csv``, ``convergence_power.csv``, ``convergence_power_by_size.csv`` and
        ``convergence_power_misspecified.csv``.
    sensitivity : pandas.DataFrame
        The primary decision under other analytic choices, as saved to ``convergence_sensitivity.csv``.
    curve : analysis.method.specification_curve.CurveResult
        The specification curve and its joint test; its tables saved as ``specification_curve.csv``
        and ``specification_curve_test.csv``.
    curve_by_choice : pandas.DataFrame
        How the specifications decided per value of each choice (``specification_curve_by_choice.csv``).
    figures : dict of str to matplotlib.figure.Figure
        The cohort figures by name (:data:`analysis.present.figures.COHORT_FIGURES`) and the curve's
        (``curve_share``), closed; the chapter glues each as ``fig_NAME``.
    post_hoc : list of int
        The entries of ``data/analysis_plan.md`` chosen after results had been seen.
    """

    corpus: corpus_io.Corpus
    verdict: verdict.Verdict
    result: convergence.ConvergenceResult
    row: pd.Series
    first_year: int
    last_year: int
    per_cohort: pd.DataFrame
    cohort_table: pd.DataFrame
    gap_table: pd.DataFrame
    trend_table: pd.DataFrame
    decomposition: pd.DataFrame
    corrected: pd.DataFrame
    verdict_table: pd.DataFrame
    rates: pd.DataFrame
    power: pd.DataFrame
    by_size: pd.DataFrame
    power_misspecified: pd.DataFrame
    sensitivity: pd.DataFrame
    curve: specification_curve.CurveResult
    curve_by_choice: pd.DataFrame
    figures: dict[str, Figure]
    post_hoc: list[int]


def verdict_of(data: corpus_io.Corpus, *, text_fields: list[str], coder: str, seed: int, cohort_edges: list[int],
               n_subsamples: int, n_boot: int, n_perm: int, n_perm_shares: int, alpha: float,
               equivalence_margin: float, replicates: int, text_replicates: int) -> verdict.Verdict:
    """The book's verdict on the corpus ``data`` under the chapters' parameters: one shared call
    (:func:`analysis.chapters.verdict.convergence_verdict`), so that the convergence and the policy
    pages state the same verdict; the planted strength is known only for the bundled corpus.

    Parameters
    ----------
    data : analysis.data.corpus.Corpus
        The corpus.
    text_fields : list of str
        The text columns analysed.
    coder : str
        The business-model coder; empty: the package default.
    cohort_edges : list of int
        The founding-year bin edges.
    seed, n_subsamples, n_boot, n_perm, n_perm_shares, replicates, text_replicates : int
        The seed, and the subsamples, bootstrap draws, permutations and simulated corpora (README,
        "Parameters").
    alpha, equivalence_margin : float
        The tests' significance level, and the equivalence margin in share points a year.

    Returns
    -------
    analysis.chapters.verdict.Verdict
        The analysis with its power, the simulation study, power by size and the coder's error.
    """
    return verdict.convergence_verdict(
        data.firms, text_fields=text_fields, coder=coder, cohort_edges=cohort_edges, n_subsamples=n_subsamples,
        n_boot=n_boot, n_perm=n_perm, n_perm_shares=n_perm_shares, alpha=alpha, margin=equivalence_margin, seed=seed,
        replicates=replicates, text_replicates=text_replicates, strength=verdict.planted_strength(data))


def chapter(*, corpus_path: str = "", website_snapshot: str = "", tables_dir: str = "",
            text_fields: Sequence[str] = TEXT_FIELDS, coder: str = "", seed: int = DEFAULT_SEED,
            cohort_edges: Sequence[int] = COHORT_EDGES, n_subsamples: int = N_SUBSAMPLES, n_boot: int = N_BOOT,
            n_perm: int = N_PERM, n_perm_shares: int = N_PERM_SHARES, alpha: float = ALPHA,
            equivalence_margin: float = EQUIVALENCE_MARGIN, replicates: int = REPLICATES,
            text_replicates: int = TEXT_REPLICATES, n_perm_joint: int = N_PERM_JOINT) -> ConvergenceChapter:
    """Compute the convergence chapter from its checked parameters (:func:`analysis.params.check`).

    Parameters
    ----------
    corpus_path, website_snapshot, tables_dir, coder : str
        The chapter's parameters (README, "Parameters"): the corpus, the snapshot, the tables' folder, the coder.
    text_fields, cohort_edges : list
        The text columns analysed (str) and the founding-year bin edges (int).
    seed, n_subsamples, n_boot, n_perm, n_perm_shares, replicates, text_replicates, n_perm_joint : int
        The seed, and the subsamples, bootstrap draws, permutations and simulated corpora.
    alpha, equivalence_margin : float
        The tests' significance level, and the equivalence margin in share points a year.

    Returns
    -------
    ConvergenceChapter
        Its numbers, tables (written to ``tables_dir``) and figures.

    Raises
    ------
    analysis.data.corpus.CorpusError
        If the corpus or the website snapshot cannot be read or breaks the corpus contract.
    """
    data = corpus_io.load(corpus_path, website_snapshot)
    found = verdict_of(data, text_fields=text_fields, coder=coder, seed=seed, cohort_edges=cohort_edges,
                       n_subsamples=n_subsamples, n_boot=n_boot, n_perm=n_perm, n_perm_shares=n_perm_shares,
                       alpha=alpha, equivalence_margin=equivalence_margin, replicates=replicates,
                       text_replicates=text_replicates)
    result = found.result
    saved = _saved_tables(found, data, tables_dir)
    cohort_figures = figures.cohort_figures(saved["cohort_table"], saved["gap_table"], simulated=data.simulated)
    for figure in cohort_figures.values():
        figures.close(figure)  # the notebook shows an open figure at the end of the cell that made it
    sensitivity = tables.save(convergence.sensitivity(data.firms, text_fields, cohort_edges, alpha=alpha, seed=seed,
                                                      n_perm_shares=n_perm_shares, coder=coder,
                                                      margin=equivalence_margin),
                              "convergence_sensitivity", tables_dir, corpus=data)
    curve, by_choice, curve_figures = _curve(data, tables_dir, text_fields=text_fields, coder=coder,
                                             cohort_edges=cohort_edges, seed=seed, alpha=alpha,
                                             margin=equivalence_margin, n_perm_joint=n_perm_joint)
    first_year, last_year = convergence.year_window(cohort_edges)
    return ConvergenceChapter(
        corpus=data, verdict=found, result=result, row=result.primary_row(), first_year=first_year,
        last_year=last_year, sensitivity=sensitivity, curve=curve, curve_by_choice=by_choice,
        figures={**cohort_figures, **curve_figures}, post_hoc=verdict.post_hoc_entries(), **saved)


def _curve(data, tables_dir: str, **settings):
    """The specification curve (:func:`analysis.method.specification_curve.curve`) with its tables
    saved and its figure (the share-scale specifications) drawn and closed."""
    curve = specification_curve.curve(data.firms, **settings)
    curve.table = tables.save(curve.table, "specification_curve", tables_dir, corpus=data)
    curve.test = tables.save(curve.test, "specification_curve_test", tables_dir, corpus=data)
    by_choice = tables.save(specification_curve.by_choice(curve.table), "specification_curve_by_choice", tables_dir,
                            corpus=data)
    # the share scale only: the log-odds specifications are in the tables, and a second 700-point
    # figure would take the page over its weight budget (issue 24)
    drawn = {"curve_share": figures.specification_curve(curve.table, "share", simulated=data.simulated)}
    for figure in drawn.values():
        figures.close(figure)
    return curve, by_choice, drawn


def _saved_tables(found, data, tables_dir: str) -> dict[str, pd.DataFrame]:
    """The verdict's tables, each saved under its name, keyed by the chapter's attribute names."""
    result = found.result
    names = {"power": (found.power, "convergence_power"),
             "by_size": (found.design, "convergence_power_by_size"),
             "rates": (validation.rates_table(found.study), "convergence_rates"),
             "verdict_table": (result.verdict_table, "verdict"),
             "cohort_table": (result.cohort_table, "convergence_by_cohort"),
             "gap_table": (result.gap_table, "convergence_gaps"),
             "trend_table": (result.trend_table, "convergence_trends"),
             "decomposition": (result.decomposition, "convergence_decomposition"),
             "per_cohort": (result.n_per_cohort, "convergence_firms_per_cohort"),
             "corrected": (result.corrected, "convergence_corrected"),
             "power_misspecified": (found.power_misspecified, "convergence_power_misspecified")}
    return {key: tables.save(table, name, tables_dir, corpus=data) for key, (table, name) in names.items()}


__all__ = ["ConvergenceChapter", "chapter", "verdict_of"]
