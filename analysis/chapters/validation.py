"""The validation chapter (09): the convergence rule's error rates on simulated corpora, the
coders' recovery of planted labels, the coders on the check sets and on this build's corpus.
One function computes what the page shows; the page narrates it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from analysis.defaults import (
    ALPHA, COHORT_EDGES, DEFAULT_SEED, EQUIVALENCE_MARGIN, N_PERM, N_SUBSAMPLES, REPLICATES, TEXT_FIELDS,
    TEXT_REPLICATES,
)
from analysis.chapters import verdict
from analysis.data import corpus as corpus_io
from analysis.method import coder_error, curve_validation, validation
from analysis.present import figures, tables
from analysis.text import checkset, checkset_scores, classify

#: the phrase banks label recovery writes corpora with, and the one the dictionary was not developed alongside
PHRASEBANKS, NEW_BANK = ("a", "b"), "b"
#: the coder whose confusion matrices the page shows
CONFUSION_CODER = "dictionary"


@dataclass
class ValidationChapter:
    """What the validation chapter shows.

    Attributes
    ----------
    corpus : analysis.data.corpus.Corpus
        The corpus read (its notice says whether it is simulated).
    sizes : tuple of int
        Firms per city of the corpus, at which the simulated corpora are drawn.
    study : pandas.DataFrame
        The simulation study at the corpus's design (:func:`analysis.chapters.verdict.study_for`),
        as saved to ``validation_power.csv``.
    rates : pandas.DataFrame
        Its rates per world, primary measure and comparison (:func:`analysis.method.validation.rates_table`),
        as saved to ``validation_rates.csv``.
    power : pandas.DataFrame
        Its power summary (:func:`analysis.method.validation.power_summary`), as saved to
        ``validation_power_summary.csv``.
    primary : pandas.Series
        The power summary's row of the primary measure and comparison.
    n_null : int
        The worlds without convergence in the brief's sense.
    rates_shown : pandas.DataFrame
        ``rates`` as shown (:func:`analysis.method.validation.rates_shown`).
    power_figure : matplotlib.figure.Figure
        The rates of the rule and of the earlier gap test per world, closed (shown only where the chapter
        glues it).
    threats : pandas.DataFrame
        The rates in the threat worlds, as saved to ``validation_threats.csv``.
    joint : pandas.DataFrame
        The specification curve's joint test on simulated corpora with no change and at each planted
        strength (:func:`analysis.method.curve_validation.joint_rates`), as saved to ``validation_joint_test.csv``.
    text_sizes : tuple of int or None
        Firms per city of the study's full-text corpora; None when it ran none.
    text_scaled : bool
        Whether those are scaled down from ``sizes``.
    recovery : analysis.method.validation.LabelRecovery
        Both coders against the planted labels, per phrase bank; its summary as saved to
        ``validation_label_recovery.csv``.
    macro_f1 : pandas.DataFrame
        Macro-F1 per dimension, coder and phrase bank, as shown.
    min_dictionary_new_bank, min_supervised : float
        The lowest macro-F1 of the dictionary on phrase bank ``b``, and of the supervised coder on either bank.
    recovery_confusion : dict
        Dimension -> confusion matrix of the dictionary on bank ``b``, as saved to ``confusion_b_DIM_dictionary.csv``.
    check_sets : dict
        Check-set name -> path, of the sets this build found.
    held_out : str or None
        The held-out check set.
    kappas : dict
        Check-set name -> agreement between its two model coders (:func:`analysis.text.checkset.kappa`).
    check_set_figures : pandas.DataFrame
        Both coders scored on the check sets, as saved to ``validation_check_sets.csv``.
    kappa_table, accuracy, abstention : pandas.DataFrame or None
        The kappas of all sets, the coders' accuracy and the dictionary's abstention rate, as saved to
        ``validation_check_set_kappa.csv``, ``validation_check_set_accuracy.csv`` and
        ``validation_check_set_abstention.csv``; None (and not saved) without check sets.
    coder_error : pandas.DataFrame
        Sensitivity and false-positive rate of the build's coder per share measure, as saved to
        ``validation_coder_error.csv``.
    held_out_confusion : dict
        Dimension -> confusion matrix of the dictionary on the held-out set, as saved to
        ``confusion_SET_DIM_dictionary.csv``; empty without a held-out set.
    this_corpus : pandas.DataFrame
        Both coders scored on this build's corpus (:func:`analysis.present.tables.coder_checks`), as saved to
        ``validation_this_corpus.csv``; empty when it has no known labels.
    this_corpus_reasons : list of str
        Why they could not be scored on it.
    """

    corpus: corpus_io.Corpus
    sizes: tuple
    study: pd.DataFrame
    rates: pd.DataFrame
    power: pd.DataFrame
    primary: pd.Series
    n_null: int
    rates_shown: pd.DataFrame
    power_figure: Figure
    threats: pd.DataFrame
    joint: pd.DataFrame
    text_sizes: tuple | None
    text_scaled: bool
    recovery: validation.LabelRecovery
    macro_f1: pd.DataFrame
    min_dictionary_new_bank: float
    min_supervised: float
    recovery_confusion: dict
    check_sets: dict
    held_out: str | None
    kappas: dict
    check_set_figures: pd.DataFrame
    kappa_table: pd.DataFrame | None
    accuracy: pd.DataFrame | None
    abstention: pd.DataFrame | None
    coder_error: pd.DataFrame
    held_out_confusion: dict
    this_corpus: pd.DataFrame
    this_corpus_reasons: list


def save_confusions(matrices: dict, source: str, coder: str, tables_dir: str | None) -> dict:
    """Save each confusion matrix of ``matrices`` (dimension -> matrix) as
    ``confusion_SOURCE_DIMENSION_CODER.csv`` in ``tables_dir`` (no corpus read); return them, named.

    Parameters
    ----------
    matrices : dict
        Dimension -> confusion matrix (pandas.DataFrame).
    source, coder : str
        What was scored (a phrase bank or a check set) and by which coder, for the file names.
    tables_dir : str or None
        The tables' folder; empty or None: nothing written.

    Returns
    -------
    dict
        Dimension -> the same matrix, tagged with its table name.
    """
    return {dim: tables.save(matrix, f"confusion_{source}_{dim}_{coder}", tables_dir)
            for dim, matrix in matrices.items()}


def chapter(*, corpus_path: str = "", website_snapshot: str = "", tables_dir: str = "",
            text_fields: Sequence[str] = TEXT_FIELDS, coder: str = "", seed: int = DEFAULT_SEED,
            cohort_edges: Sequence[int] = COHORT_EDGES, n_subsamples: int = N_SUBSAMPLES, n_perm: int = N_PERM,
            alpha: float = ALPHA, equivalence_margin: float = EQUIVALENCE_MARGIN, replicates: int = REPLICATES,
            text_replicates: int = TEXT_REPLICATES) -> ValidationChapter:
    """Compute the validation chapter from its checked parameters (:func:`analysis.params.check`).

    Parameters
    ----------
    corpus_path, website_snapshot, tables_dir, coder : str
        The chapter's parameters (README, "Parameters"): the corpus and the website snapshot,
        the tables' folder and the coder.
    text_fields : list of str
        The text columns analysed.
    seed, n_subsamples, n_perm, replicates, text_replicates : int
        The seed, and the subsamples, permutations and simulated corpora of the simulation study.
    cohort_edges : list of int
        The founding-year bin edges.
    alpha, equivalence_margin : float
        The tests' significance level, and the equivalence margin in share points a year.

    Returns
    -------
    ValidationChapter
        Its numbers, tables (written to ``tables_dir``) and figure.

    Raises
    ------
    analysis.data.corpus.CorpusError
        If the corpus or the website snapshot cannot be read or breaks the corpus contract.
    """
    data = corpus_io.load(corpus_path, website_snapshot)
    sizes = validation.corpus_design(data.firms, cohort_edges)["n_per_city"]
    study = verdict.study_for(data.firms, text_fields=text_fields, coder=coder, cohort_edges=cohort_edges,
                              n_subsamples=n_subsamples, n_perm=n_perm, alpha=alpha, margin=equivalence_margin,
                              seed=seed, replicates=replicates, text_replicates=text_replicates)
    joint = curve_validation.joint_rates(replicates=replicates, seed=seed, n_perm=n_perm, alpha=alpha,
                                         cohort_edges=cohort_edges, coder_error=study.attrs["coder_error"],
                                         **validation.corpus_design(data.firms, cohort_edges))
    return ValidationChapter(corpus=data, sizes=sizes, **_power_study(study, data, alpha, tables_dir),
                             joint=tables.save(joint, "validation_joint_test", tables_dir, corpus=data),
                             **_label_recovery(sizes, seed, text_fields, tables_dir),
                             **_check_sets(coder, seed, tables_dir),
                             **_this_corpus(data, text_fields, seed, tables_dir))


def _power_study(study: pd.DataFrame, data, alpha: float, tables_dir: str) -> dict:
    """The simulation study at the corpus's design, its rates, power and threats, and the power figure."""
    study = tables.save(study, "validation_power", tables_dir, corpus=data)
    rates = tables.save(validation.rates_table(study), "validation_rates", tables_dir, corpus=data)
    power = tables.save(validation.power_summary(study), "validation_power_summary", tables_dir, corpus=data)
    power_figure = figures.power_plot(rates, alpha)
    figures.close(power_figure)  # the notebook shows an open figure at the end of the cell that made it
    threats = tables.save(validation.threats_table(rates), "validation_threats", tables_dir, corpus=data)
    return dict(study=study, rates=rates, power=power, primary=validation.primary_power(power),
                n_null=len(validation.null_worlds(rates)), rates_shown=validation.rates_shown(rates),
                power_figure=power_figure, threats=threats,
                text_sizes=study.attrs["text_n_per_city"] if study.attrs["text_replicates"] else None,
                text_scaled=study.attrs["scaled"])


def _label_recovery(sizes, seed: int, text_fields: list[str], tables_dir: str) -> dict:
    """Label recovery on simulated corpora written from both phrase banks, and its confusion matrices."""
    recovery = validation.label_recovery(PHRASEBANKS, n_per_city=sizes, seed=seed, text_fields=text_fields)
    summary = tables.save(recovery.summary, "validation_label_recovery", tables_dir)
    recovery_confusion = save_confusions(validation.confusion_matrices(recovery, NEW_BANK, CONFUSION_CODER), NEW_BANK,
                                         CONFUSION_CODER, tables_dir)
    return dict(recovery=recovery, macro_f1=validation.macro_f1_table(summary),
                min_dictionary_new_bank=validation.lowest_macro_f1(summary, "dictionary", NEW_BANK),
                min_supervised=validation.lowest_macro_f1(summary, "supervised"),
                recovery_confusion=recovery_confusion)


def _check_sets(coder: str, seed: int, tables_dir: str) -> dict:
    """The coders on the check sets: agreement of the two model coders, accuracy, abstentions, the
    coder's error rates and the held-out set's confusion matrices."""
    found = checkset.available()
    held = checkset.held_out(found)
    kappas = checkset.kappas(found)
    check_set_figures = tables.save(checkset_scores.figures(seed=seed), "validation_check_sets", tables_dir)
    kappa_table = accuracy = abstention = None
    if kappas:
        kappa_table = tables.save(checkset.kappa_table(kappas), "validation_check_set_kappa", tables_dir)
    if len(check_set_figures):
        accuracy = tables.save(checkset_scores.accuracy_table(check_set_figures), "validation_check_set_accuracy",
                               tables_dir)
        abstention = tables.save(checkset_scores.abstention_table(check_set_figures),
                                 "validation_check_set_abstention", tables_dir)
    error_rates = tables.save(coder_error.check_set_rates(coder or classify.DEFAULT_CODER, seed=seed),
                              "validation_coder_error", tables_dir)
    held_out_confusion = {}
    if held:
        held_out_confusion = save_confusions(checkset_scores.score_dictionary(checkset.load(found[held])).confusion,
                                             held, CONFUSION_CODER, tables_dir)
    return dict(check_sets=found, held_out=held, kappas=kappas, check_set_figures=check_set_figures,
                kappa_table=kappa_table, accuracy=accuracy, abstention=abstention, coder_error=error_rates,
                held_out_confusion=held_out_confusion)


def _this_corpus(data, text_fields: list[str], seed: int, tables_dir: str) -> dict:
    """Label recovery on the corpus itself, where it carries truth columns or a coding sample."""
    checks, reasons = tables.coder_checks(data.firms, text_fields, seed=seed)
    tables.save(checks, "validation_this_corpus", tables_dir, corpus=data)
    return dict(this_corpus=checks, this_corpus_reasons=reasons)

__all__ = ["ValidationChapter", "chapter", "save_confusions"]
