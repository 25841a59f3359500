"""The coders scored on the check sets (:mod:`analysis.text.checkset`): the dictionary coder as
written, the supervised coder by cross-validation within a set and trained on the other sets; the
figures the validation chapter shows."""

from __future__ import annotations

import pandas as pd

from analysis.text import classify
from analysis.text.checkset import DIMENSIONS, Score, as_firms, available, held_out, load, score


def score_dictionary(check: pd.DataFrame, dictionary=None) -> Score:
    """The dictionary coder (:func:`analysis.text.classify.code_firms`) on a check set.

    Parameters
    ----------
    check : pandas.DataFrame
        A check set, as :func:`analysis.text.checkset.load` returns it.
    dictionary : Dictionary, str, Path or None
        The dictionary or its file (None: the packaged one).

    Returns
    -------
    Score
        The codes scored against the set's adjudicated codes (:func:`analysis.text.checkset.score`).

    Raises
    ------
    ValueError
        ``dictionary`` names a file that is not a valid dictionary.
    """
    coded = classify.code_firms(as_firms(check), text_fields=["text"], dictionary=dictionary)
    return score(check, coded.reset_index(drop=True))


def score_supervised_cv(check: pd.DataFrame, seed: int, folds: int = 5) -> Score:
    """The supervised coder on a check set by stratified k-fold cross-validation: every
    description is coded by a model that did not see it.

    Parameters
    ----------
    check : pandas.DataFrame
        A check set, as :func:`analysis.text.checkset.load` returns it.
    seed : int
        Seed of the fold split and of the classifier.
    folds : int
        Number of folds k (at most the number of descriptions).

    Returns
    -------
    Score
        The codes scored against the set's adjudicated codes.

    Raises
    ------
    ValueError
        The set has fewer than two descriptions.
    """
    predicted = pd.DataFrame(index=check.index)
    for dim in DIMENSIONS:
        predicted[f"{dim}_label"] = classify.cross_validated_codes(
            check["text"].tolist(), check[dim].tolist(), seed=seed, folds=folds)
    return score(check, predicted)


def _score_supervised_transfer(train: pd.DataFrame, test: pd.DataFrame, seed: int) -> Score:
    """The supervised coder trained on one set and scored on another."""
    predicted = pd.DataFrame(index=test.index)
    for dim in DIMENSIONS:
        model = classify.SupervisedCoder.fit(train["text"].tolist(), train[dim].tolist(), seed=seed)
        predicted[f"{dim}_label"] = model.predict(test["text"].tolist())
    return score(test, predicted)


def figures(seed: int, paths: dict | None = None, folds: int = 5) -> pd.DataFrame:
    """The check-set figures the validation chapter shows: per set, coder, language and
    dimension, n, accuracy, abstentions and their rate; column ``evaluation`` says how the
    figure was obtained (``codebook`` for the dictionary, ``<k>-fold cross-validation`` or
    ``trained on <sets>`` for the supervised coder), ``held_out`` whether the set is the held-out
    one.

    Parameters
    ----------
    seed : int
        Seed of the supervised coder's folds and classifier.
    paths : dict or None
        Set name -> path of the check sets (None: the shipped ones that exist).
    folds : int
        Number of cross-validation folds k.

    Returns
    -------
    pandas.DataFrame
        Columns set, coder, evaluation, held_out, language, dimension, n, correct, accuracy,
        abstained, abstention; no rows when no check set exists.

    Raises
    ------
    CheckSetError
        A file is not a valid check set (see :func:`analysis.text.checkset.load`).
    """
    sets = {name: load(p) for name, p in available(paths).items()}
    out = []
    hold = held_out(sets)
    for name, check in sets.items():
        parts = [("dictionary", "codebook", score_dictionary(check))]
        parts.append(("supervised", f"{folds}-fold cross-validation",
                      score_supervised_cv(check, seed=seed, folds=folds)))
        others = [o for o in sets if o != name]
        if name == hold and others:
            train = pd.concat([sets[o] for o in others], ignore_index=True)
            parts.append(("supervised", "trained on " + ", ".join(others),
                          _score_supervised_transfer(train, check, seed=seed)))
        for coder, how, sc in parts:
            out.append(sc.summary.assign(set=name, coder=coder, evaluation=how,
                                         held_out=(name == hold)))
    if not out:
        return pd.DataFrame(columns=["set", "coder", "evaluation", "held_out", "language",
                                     "dimension", "n", "correct", "accuracy", "abstained",
                                     "abstention"])
    df = pd.concat(out, ignore_index=True)
    return df[["set", "coder", "evaluation", "held_out", "language", "dimension", "n", "correct",
               "accuracy", "abstained", "abstention"]]


#: the rows of the accuracy and abstention tables: one per set, coder, evaluation and language
FIGURE_KEYS = ["set", "coder", "evaluation", "language"]


def accuracy_table(figures: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The accuracy of :func:`figures` as the validation page shows it: one row per set, coder,
    evaluation and language (in the order of ``figures``), its ``n`` and one column per
    dimension, rounded to ``digits``.

    Parameters
    ----------
    figures : pandas.DataFrame
        The table :func:`figures` returns.
    digits : int
        Decimal places kept.

    Returns
    -------
    pandas.DataFrame
        Indexed by set, coder, evaluation and language; columns n, application, customer,
        geography.
    """
    acc = figures.pivot_table(index=FIGURE_KEYS, columns="dimension", values="accuracy", sort=False)
    n = figures.pivot_table(index=FIGURE_KEYS, values="n", aggfunc="first", sort=False)
    return acc.join(n)[["n", *DIMENSIONS]].round(digits)


def abstention_table(figures: pd.DataFrame, digits: int = 3) -> pd.DataFrame:
    """The dictionary coder's abstention rate of :func:`figures`: one row per set and language
    (in the order of ``figures``), one column per dimension, rounded to ``digits``.

    Parameters
    ----------
    figures : pandas.DataFrame
        The table :func:`figures` returns.
    digits : int
        Decimal places kept.

    Returns
    -------
    pandas.DataFrame
        Indexed by set and language; one column per dimension.
    """
    dictionary = figures[figures["coder"] == "dictionary"]
    return dictionary.pivot_table(index=["set", "language"], columns="dimension", values="abstention",
                                  sort=False).round(digits)
