"""The policy chapter (10): one function computes the evidence the page sets beside the brief's
three recommendations (shares of firms per city, the convergence verdict, the fragmentation of
central policy), so that the page only narrates."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analysis.defaults import (
    ALPHA, COHORT_EDGES, DEFAULT_SEED, EQUIVALENCE_MARGIN, N_BOOT, N_PERM, N_PERM_SHARES, N_SUBSAMPLES,
    REPLICATES, TEXT_FIELDS, TEXT_REPLICATES,
)
from analysis.chapters import shared, verdict
from analysis.chapters.convergence import verdict_of
from analysis.data import corpus as corpus_io
from analysis.data import facts
from analysis.present import tables


@dataclass
class PolicyChapter:
    """What the policy chapter shows.

    Attributes
    ----------
    corpus : analysis.data.corpus.Corpus
        The corpus read (its notices say whether it is simulated and what it can show).
    evidence : pandas.DataFrame
        Per city, the shares of firms coded public-customer, crypto and mainly state-backed, as
        saved to ``policy_evidence.csv``.
    percentages : pandas.DataFrame
        The same shares as the text quotes them, by city (:func:`analysis.present.tables.policy_percentages`).
    verdict : analysis.chapters.verdict.Verdict
        The convergence verdict, the same as the convergence chapter's
        (:func:`analysis.chapters.convergence.verdict_of`).
    fragmentation : pandas.DataFrame
        Central measures by year, as saved to ``policy_fragmentation.csv``.
    fragmentation_summary : analysis.data.facts.FragmentationSummary
        What the text quotes of it.
    """

    corpus: corpus_io.Corpus
    evidence: pd.DataFrame
    percentages: pd.DataFrame
    verdict: verdict.Verdict
    fragmentation: pd.DataFrame
    fragmentation_summary: facts.FragmentationSummary


def chapter(*, corpus_path: str = "", website_snapshot: str = "", tables_dir: str = "",
            text_fields: Sequence[str] = TEXT_FIELDS, coder: str = "", seed: int = DEFAULT_SEED,
            cohort_edges: Sequence[int] = COHORT_EDGES, n_subsamples: int = N_SUBSAMPLES, n_boot: int = N_BOOT,
            n_perm: int = N_PERM, n_perm_shares: int = N_PERM_SHARES, alpha: float = ALPHA,
            equivalence_margin: float = EQUIVALENCE_MARGIN, replicates: int = REPLICATES,
            text_replicates: int = TEXT_REPLICATES) -> PolicyChapter:
    """Compute the policy chapter from its checked parameters (:func:`analysis.params.check`).

    Parameters
    ----------
    corpus_path, website_snapshot, tables_dir, coder : str
        The chapter's parameters (README, "Parameters"): the corpus and the website snapshot,
        the tables' folder and the coder.
    text_fields : list of str
        The text columns analysed.
    seed, n_subsamples, n_boot, n_perm, n_perm_shares, replicates, text_replicates : int
        The seed, and the subsamples, bootstrap draws, permutations and simulated corpora of the
        verdict (:func:`analysis.chapters.convergence.verdict_of`).
    cohort_edges : list of int
        The founding-year bin edges.
    alpha, equivalence_margin : float
        The tests' significance level, and the equivalence margin in share points a year.

    Returns
    -------
    PolicyChapter
        Its numbers and tables (written to ``tables_dir``).

    Raises
    ------
    analysis.data.corpus.CorpusError
        If the corpus or the website snapshot cannot be read or breaks the corpus contract.
    """
    data = corpus_io.load(corpus_path, website_snapshot)
    coded = shared.code(data.firms, text_fields, coder=coder, seed=seed)
    evidence = tables.save(tables.policy_evidence(coded), "policy_evidence", tables_dir, corpus=data)
    found = verdict_of(data, text_fields=text_fields, coder=coder, seed=seed, cohort_edges=cohort_edges,
                       n_subsamples=n_subsamples, n_boot=n_boot, n_perm=n_perm, n_perm_shares=n_perm_shares,
                       alpha=alpha, equivalence_margin=equivalence_margin, replicates=replicates,
                       text_replicates=text_replicates)
    fragmentation = tables.save(facts.fragmentation(facts.policy_events()), "policy_fragmentation", tables_dir)
    return PolicyChapter(corpus=data, evidence=evidence, percentages=tables.policy_percentages(evidence),
                         verdict=found, fragmentation=fragmentation,
                         fragmentation_summary=facts.fragmentation_summary(fragmentation))


__all__ = ["PolicyChapter", "chapter"]
