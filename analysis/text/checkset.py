"""Hand-coded check sets: loading, scoring the coders on them, agreement between coders.

A check set (``data/check_set.csv``, and a second, fresh one ``data/check_set_fresh.csv``)
holds invented firm descriptions written and hand-coded blind to the dictionary, from
``data/codebook.md`` alone.  One row per description::

    id, text, language (en|zh|mixed), style,
    application, customer, geography                 the adjudicated codes
    <dimension>_coder1, <dimension>_coder2           each coder's code, per dimension

Codes are category codes of ``data/labels.yml``.  This module reads such a file (rejecting
a bad one with a message naming the file, the row and the column), scores the dictionary
coder on it (accuracy with ``none``/``tie`` counted as errors, abstention rate, per language,
confusion matrices), gives Cohen's kappa between the two coders per dimension, and scores
the supervised coder by cross-validation (and, when both sets exist, trained on the first
and tested on the fresh one).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import labels as _labels
from analysis.paths import DATA_DIR

CHECK_SET = DATA_DIR / "check_set.csv"
CHECK_SET_FRESH = DATA_DIR / "check_set_fresh.csv"
CHECK_SETS = {"check_set": CHECK_SET, "check_set_fresh": CHECK_SET_FRESH}
DIMENSIONS = ("application", "customer", "geography")
LANGUAGES = ("en", "zh", "mixed")
COLUMNS = (["id", "text", "language", "style"] + list(DIMENSIONS)
           + [f"{d}_coder{k}" for d in DIMENSIONS for k in (1, 2)])
ABSTAIN = ("none", "tie")


class CheckSetError(ValueError):
    """A check-set file that does not follow the format."""


def load(path: str | Path) -> pd.DataFrame:
    """Read and validate one check-set file; the rows in file order, all columns as text.

    Parameters
    ----------
    path : str or Path
        The check-set file (UTF-8 CSV).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS` (others dropped), values stripped, indexed 0..n-1.

    Raises
    ------
    CheckSetError
        No such file, not a readable UTF-8 CSV file, a column missing, no data rows, an empty
        or repeated id, an empty text, an unknown language, or a code not of data/labels.yml;
        the message names the file, and where it applies the data row (1-based, with the row's
        id) and the column.
    """
    path = Path(path)
    if not path.exists():
        raise CheckSetError(f"{path}: no such file")
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CheckSetError(f"{path}: not a readable UTF-8 CSV file ({exc})") from exc
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise CheckSetError(f"{path}: missing column(s) {missing}; a check set has the columns "
                            f"{', '.join(COLUMNS)}")
    if df.empty:
        raise CheckSetError(f"{path}: the file has no data rows")
    df = df[COLUMNS].apply(lambda s: s.str.strip())
    seen: dict[str, int] = {}
    for i, row in enumerate(df.itertuples(index=False), start=1):
        where = f"{path}: data row {i} (id {row.id!r})"
        if not row.id:
            raise CheckSetError(f"{path}: data row {i}, column id: empty id")
        if row.id in seen:
            raise CheckSetError(f"{where}, column id: duplicate of data row {seen[row.id]}")
        seen[row.id] = i
        if not row.text:
            raise CheckSetError(f"{where}, column text: empty text")
        if row.language not in LANGUAGES:
            raise CheckSetError(f"{where}, column language: {row.language!r} is not one of "
                                f"{', '.join(LANGUAGES)}")
        for dim in DIMENSIONS:
            valid = _labels.categories(dim)
            for col in (dim, f"{dim}_coder1", f"{dim}_coder2"):
                value = getattr(row, col)
                if value not in valid:
                    raise CheckSetError(f"{where}, column {col}: {value!r} is not a {dim} code "
                                        f"({', '.join(valid)})")
    return df.reset_index(drop=True)


def available(paths: dict | None = None) -> dict[str, Path]:
    """The shipped check sets that exist, name -> path, first set first.

    Parameters
    ----------
    paths : dict or None
        Set name -> path of the sets to look for (None: :data:`CHECK_SETS`, the shipped ones).

    Returns
    -------
    dict of str to Path
        The sets whose file exists, in the order of ``paths``.
    """
    paths = CHECK_SETS if paths is None else paths
    return {name: Path(p) for name, p in paths.items() if Path(p).exists()}


def held_out(names) -> str | None:
    """Which set is held out: the fresh set when it exists (the coder may have been changed
    after the first set was measured, so the first set's figure is a training figure),
    else the first set (the coder was written from the codebook before it existed).

    Parameters
    ----------
    names : iterable of str
        The names of the sets there are, first set first.

    Returns
    -------
    str or None
        ``"check_set_fresh"`` when among ``names``, else the first name; None when there is none.
    """
    names = list(names)
    if "check_set_fresh" in names:
        return "check_set_fresh"
    return names[0] if names else None


# ----------------------------------------------------------------------------- agreement


def kappa(check: pd.DataFrame) -> pd.DataFrame:
    """Per dimension: Cohen's kappa between coder 1 and coder 2 (scikit-learn's
    ``cohen_kappa_score``), their raw agreement, and how often they disagree.

    Parameters
    ----------
    check : pandas.DataFrame
        A check set, as :func:`load` returns it.

    Returns
    -------
    pandas.DataFrame
        One row per dimension (application, customer, geography): dimension, n (rows), kappa,
        agreement (share of rows where the coders agree), disagreements (rows where they do not).
    """
    from sklearn.metrics import cohen_kappa_score

    rows = []
    for dim in DIMENSIONS:
        a, b = check[f"{dim}_coder1"], check[f"{dim}_coder2"]
        k = cohen_kappa_score(a, b, labels=_labels.categories(dim))
        rows.append({"dimension": dim, "n": int(len(check)), "kappa": float(k),
                     "agreement": float((a == b).mean()),
                     "disagreements": int((a != b).sum())})
    return pd.DataFrame(rows)


def kappas(paths: dict) -> dict[str, pd.DataFrame]:
    """Set name -> :func:`kappa` of the check set at its path (``paths``: as :func:`available`).

    Parameters
    ----------
    paths : dict
        Set name -> path of its check-set file.

    Returns
    -------
    dict of str to pandas.DataFrame
        Set name -> its :func:`kappa` table, in the order of ``paths``.

    Raises
    ------
    CheckSetError
        A file is not a valid check set (see :func:`load`).
    """
    return {name: kappa(load(path)) for name, path in paths.items()}


def kappa_table(kappa_by_set: dict) -> pd.DataFrame:
    """The :func:`kappa` tables of several sets (set name -> table) in one, set by set: set,
    dimension, n, kappa, agreement, disagreements.

    Parameters
    ----------
    kappa_by_set : dict of str to pandas.DataFrame
        Set name -> its :func:`kappa` table, as :func:`kappas` returns them.

    Returns
    -------
    pandas.DataFrame
        Those columns, the sets' rows one after the other, indexed 0..n-1.
    """
    table = pd.concat([k.assign(set=name) for name, k in kappa_by_set.items()], ignore_index=True)
    return table[["set", "dimension", "n", "kappa", "agreement", "disagreements"]]


# ----------------------------------------------------------------------------- scoring


@dataclass
class Score:
    """A coder's codes scored against a check set's adjudicated codes."""

    summary: pd.DataFrame  # language, dimension, n, correct, accuracy, abstained, abstention
    confusion: dict = field(default_factory=dict)  # dimension -> DataFrame (rows true)
    predictions: pd.DataFrame = field(default_factory=pd.DataFrame)


def score(check: pd.DataFrame, predicted: pd.DataFrame) -> Score:
    """Score predicted codes (``<dimension>_label`` columns, rows as ``check``): accuracy with
    ``none`` and ``tie`` counted as errors, abstentions (``none``/``tie``) and their rate, for
    all rows and per language (languages absent from the set are left out).

    Parameters
    ----------
    check : pandas.DataFrame
        A check set, as :func:`load` returns it.
    predicted : pandas.DataFrame
        A ``<dimension>_label`` column per dimension, one row per row of ``check``, in its order.

    Returns
    -------
    Score
        ``summary``: per dimension, a row for all rows ("all") and one per language present,
        with n, correct, accuracy, abstained, abstention; ``confusion``: dimension -> hand code
        x coder counts; ``predictions``: id, language, and per dimension the hand code and the
        ``<dimension>_label``.
    """
    rows, confusion = [], {}
    groups = [("all", np.ones(len(check), dtype=bool))]
    groups += [(lang, (check["language"] == lang).to_numpy()) for lang in LANGUAGES
               if (check["language"] == lang).any()]
    for dim in DIMENSIONS:
        truth = check[dim].to_numpy()
        pred = predicted[f"{dim}_label"].astype(str).to_numpy()
        for lang, mask in groups:
            n = int(mask.sum())
            correct = int((truth[mask] == pred[mask]).sum())
            abstained = int(np.isin(pred[mask], ABSTAIN).sum())
            rows.append({"language": lang, "dimension": dim, "n": n, "correct": correct,
                         "accuracy": correct / n, "abstained": abstained,
                         "abstention": abstained / n})
        cats = _labels.categories(dim)
        cols = cats + [x for x in ABSTAIN if (pred == x).any()]
        cols += sorted(set(pred) - set(cols))
        confusion[dim] = pd.crosstab(pd.Categorical(truth, categories=cats),
                                     pd.Categorical(pred, categories=cols),
                                     rownames=["hand code"], colnames=["coder"], dropna=False)
    preds = pd.DataFrame({"id": check["id"], "language": check["language"]})
    for dim in DIMENSIONS:
        preds[dim] = check[dim]
        preds[f"{dim}_label"] = predicted[f"{dim}_label"].to_numpy()
    return Score(pd.DataFrame(rows), confusion, preds)


def as_firms(check: pd.DataFrame) -> pd.DataFrame:
    """A check set as a firm table the coders read: its text as the one text field.

    Parameters
    ----------
    check : pandas.DataFrame
        A check set, as :func:`load` returns it.

    Returns
    -------
    pandas.DataFrame
        Columns company_id (the row's id) and text, indexed 0..n-1.
    """
    return pd.DataFrame({"company_id": check["id"].to_numpy(), "text": check["text"].to_numpy()})


def training_data(paths: dict | None = None) -> pd.DataFrame:
    """All shipped check sets stacked (each with every column of :data:`COLUMNS`), the set
    named in column ``set``; empty when none exists.

    Parameters
    ----------
    paths : dict or None
        Set name -> path of the sets to look for (None: the shipped ones; see :func:`available`).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS` and ``set``, the sets one after the other, indexed 0..n-1.

    Raises
    ------
    CheckSetError
        A file is not a valid check set (see :func:`load`).
    """
    frames = []
    for name, path in available(paths).items():
        df = load(path)
        frames.append(df.assign(set=name))
    if not frames:
        return pd.DataFrame(columns=COLUMNS + ["set"])
    return pd.concat(frames, ignore_index=True)
