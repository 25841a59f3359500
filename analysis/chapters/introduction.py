"""The introduction (01): which corpus the book reads."""

from __future__ import annotations

from dataclasses import dataclass

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
    """

    corpus: corpus_io.Corpus
    n_firms: int


def chapter(*, corpus_path: str = "", website_snapshot: str = "") -> IntroductionChapter:
    """Compute the introduction from its checked parameters (:func:`analysis.params.check`).

    Parameters
    ----------
    corpus_path, website_snapshot : str
        The corpus and the website snapshot (README, "Parameters"); empty: the bundled corpus, no
        snapshot.

    Returns
    -------
    IntroductionChapter
        The corpus read and its number of firms.

    Raises
    ------
    analysis.data.corpus.CorpusError
        If the corpus or the website snapshot cannot be read or breaks the corpus contract.
    """
    data = corpus_io.load(corpus_path, website_snapshot)
    return IntroductionChapter(corpus=data, n_firms=len(data.firms))
