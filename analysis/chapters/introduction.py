"""The introduction (01): which corpus the book reads, and the book's decision on convergence (the
shared verdict of :mod:`analysis.chapters.verdict`, the one the convergence page states)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analysis.defaults import (
    ALPHA, COHORT_EDGES, DEFAULT_SEED, EQUIVALENCE_MARGIN, N_BOOT, N_PERM, N_PERM_SHARES, N_SUBSAMPLES,
    REPLICATES, TEXT_FIELDS, TEXT_REPLICATES,
)
from analysis.chapters import verdict
from analysis.chapters.convergence import verdict_of
from analysis.data import corpus as corpus_io


@dataclass
class IntroductionChapter:
    """What the introduction shows.

    Attributes
    ----------
    corpus : analysis.data.corpus.Corpus
        The corpus the book reads (its notice says whether it is simulated).
    n_firms : int
        Its firms.
    verdict : analysis.chapters.verdict.Verdict
        The convergence verdict, the same as the convergence chapter's
        (:func:`analysis.chapters.convergence.verdict_of`).
    """

    corpus: corpus_io.Corpus
    n_firms: int
    verdict: verdict.Verdict

    @property
    def decision(self) -> str:
        """The primary decision (``verdict.csv``'s primary row)."""
        return str(self.verdict.row["decision"])


def chapter(*, corpus_path: str = "", website_snapshot: str = "", text_fields: Sequence[str] = TEXT_FIELDS,
            coder: str = "", seed: int = DEFAULT_SEED, cohort_edges: Sequence[int] = COHORT_EDGES,
            n_subsamples: int = N_SUBSAMPLES, n_boot: int = N_BOOT, n_perm: int = N_PERM,
            n_perm_shares: int = N_PERM_SHARES, alpha: float = ALPHA, equivalence_margin: float = EQUIVALENCE_MARGIN,
            replicates: int = REPLICATES, text_replicates: int = TEXT_REPLICATES) -> IntroductionChapter:
    """Compute the introduction from its checked parameters (:func:`analysis.params.check`).

    Parameters
    ----------
    corpus_path, website_snapshot, coder : str
        The corpus and the website snapshot (README, "Parameters"; empty: the bundled corpus, no
        snapshot), and the coder.
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
    IntroductionChapter
        The corpus read, its number of firms and the verdict.

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
    return IntroductionChapter(corpus=data, n_firms=len(data.firms), verdict=found)


__all__ = ["IntroductionChapter", "chapter"]
