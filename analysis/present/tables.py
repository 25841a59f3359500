"""Tables (presentation layer): Table 1 rebuilt, city profiles, shares, example firms.

Functions here assemble results of ``text``, ``keyness`` and ``classify`` into the tables the
chapters show; every shown table can be written as CSV with :func:`save`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import re

import numpy as np
import pandas as pd

from analysis.data import facts
from analysis.text import classify, keyness as kn, preprocess
from analysis import labels
from analysis.present import catalogue
from analysis.present import markdown
from analysis.defaults import CITIES, DEFAULT_SEED, KEYNESS_ADJUST, MIN_DF
from analysis.paths import is_bundled

TEXT_DIMENSIONS = ("application", "customer", "geography")


def corpus_kind(corpus) -> tuple[str, str]:
    """Which corpus made a table, in words, and its file name (for provenance).

    Parameters
    ----------
    corpus : analysis.data.corpus.Corpus
        The loaded corpus.

    Returns
    -------
    tuple of (str, str)
        ``simulated (the bundled corpus)``, ``simulated`` or ``user export (not simulated)``;
        and the corpus file's name.
    """
    path = Path(corpus.path)
    if corpus.simulated:
        kind = "simulated (the bundled corpus)" if is_bundled(path) else "simulated"
    else:
        kind = "user export (not simulated)"
    return kind, path.name


def save(df: pd.DataFrame, name: str, tables_dir: str | Path | None, corpus=None) -> pd.DataFrame:
    """Write ``df`` as ``tables_dir/name.csv`` when a tables folder is given, noting which corpus
    made it (``corpus``: the loaded corpus, or None for tables that read no corpus); return
    ``df`` tagged with its name, so that :func:`html` finds its caption in the registry.

    Parameters
    ----------
    df : pandas.DataFrame
        The table; its CSV makes text cells inert as spreadsheet formulas, and keeps the index
        unless it is a plain range.
    name : str
        Its name in the registry, and the CSV's stem.
    tables_dir : str, pathlib.Path or None
        The tables folder (made when missing); None or empty: nothing is written.
    corpus : analysis.data.corpus.Corpus or None
        The corpus that made it.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself (not a copy), with ``df.attrs["table_name"]`` set to ``name``.
    """
    if tables_dir:
        folder = Path(tables_dir)
        folder.mkdir(parents=True, exist_ok=True)
        _csv_safe(df).to_csv(folder / f"{name}.csv", index=not isinstance(df.index, pd.RangeIndex),
                            lineterminator="\n")
        kind, file = corpus_kind(corpus) if corpus is not None else ("none (no corpus read)", "")
        catalogue.record(folder, name, kind, file)
    df.attrs["table_name"] = name
    return df


#: what makes a spreadsheet read a cell as a formula (OWASP "CSV injection")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _inert(value):
    if not isinstance(value, str) or not value.startswith(FORMULA_PREFIXES):
        return value
    try:
        float(value)  # "-0.25" written as text is a number, not a formula
        return value
    except ValueError:
        return "'" + value


def _csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """A copy for CSV export whose text cells cannot run as spreadsheet formulas: a text cell
    starting with = + - @ (or a tab or carriage return) gets a leading apostrophe. Numeric
    columns are left alone, so negative keyness and gaps stay numbers."""
    out = df.copy()
    for i in range(out.shape[1]):  # by position: column names may repeat
        column = out.iloc[:, i]
        if not pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
            out.isetitem(i, column.map(_inert))
    if not isinstance(out.index, pd.RangeIndex) and not pd.api.types.is_numeric_dtype(out.index):
        out.index = out.index.map(_inert)
    return out


def pct(x: float, digits: int = 0) -> str:
    """A share as a percentage, in words.

    Parameters
    ----------
    x : float or None
        The share, 0 to 1.
    digits : int
        Decimals shown.

    Returns
    -------
    str
        ``62%`` (with ``digits`` decimals), or ``n/a`` for None or NaN.
    """
    return "n/a" if x is None or pd.isna(x) else f"{100 * x:.{digits}f}%"


# ----------------------------------------------------------------------------- coding
@dataclass
class Coded:
    """Every firm with its dictionary codes and investor portrait (one row per firm)."""

    firms: pd.DataFrame
    codes: pd.DataFrame  # <dim>_label for application, customer, geography, investor

    def labels(self, dimension: str) -> pd.Series:
        return self.codes[f"{dimension}_label"]


def code(firms: pd.DataFrame, text_fields=preprocess.DEFAULT_TEXT_FIELDS, coder: str | None = None,
         seed: int = DEFAULT_SEED) -> Coded:
    """Every firm coded by ``coder`` (dictionary | supervised; empty: the package default).

    Parameters
    ----------
    firms : pandas.DataFrame
        The corpus's firms.
    text_fields : sequence of str
        The text columns read (parameter ``text_fields``).
    coder : str or None
        ``dictionary`` or ``supervised``; None or empty: the package default.
    seed : int
        Seed of the supervised coder's training (parameter ``seed``).

    Returns
    -------
    Coded
        The firms and their codes (a ``<dimension>_label`` column per text dimension, and
        ``investor_label``), both with a fresh range index.
    """
    codes = classify.code_with(firms, text_fields=text_fields, coder=coder, seed=seed).reset_index(drop=True)
    codes["investor_label"] = classify.investor_portrait(firms).reset_index(drop=True).to_numpy()
    return Coded(firms.reset_index(drop=True), codes)


def shares_by_city(coded: Coded, dimension: str) -> pd.DataFrame:
    """Share of each city's firms in each category (rows: display names incl. tie/none, columns:
    cities).

    Parameters
    ----------
    coded : Coded
        The coded firms (:func:`code`).
    dimension : str
        ``application``, ``customer``, ``geography`` or ``investor``.

    Returns
    -------
    pandas.DataFrame
        Shares of the city's firms, indexed by the categories' display names in label order, then
        ``tie`` and ``none`` where any firm has them; one column per city with firms, in
        :data:`~analysis.defaults.CITIES` order.
    """
    lab = coded.labels(dimension)
    cats = labels.categories(dimension)
    extra = [c for c in ("tie", "none") if (lab == c).any()]
    table = pd.crosstab(lab, coded.firms["city"], normalize="columns")
    table = table.reindex(index=cats + extra, columns=[c for c in CITIES if c in table.columns],
                          fill_value=0.0)
    names = {c: labels.display(dimension, c) for c in cats}
    names.update({"tie": "tie (coder cannot decide)", "none": "none (no dictionary term)"})
    table.index = [names[c] for c in table.index]
    table.index.name = labels.display(dimension)
    return table


def modal(coded: Coded, dimension: str) -> pd.DataFrame:
    """Per city: the modal category among coded firms (ties/none count in the base), its share.

    A tie for the top count is kept as a tie: ``code`` is ``"tie"`` and ``tied`` lists every
    category sharing the top count (in label order); with a unique mode ``tied`` holds just it.
    A city with no coded firm has ``code`` None.

    Parameters
    ----------
    coded : Coded
        The coded firms.
    dimension : str
        The dimension, as for :func:`shares_by_city`.

    Returns
    -------
    pandas.DataFrame
        Indexed by city (every one of :data:`~analysis.defaults.CITIES`): ``code``, ``tied``
        (a tuple of codes), ``share`` (of all the city's firms; NaN without a coded firm) and
        ``n`` (the city's firms).
    """
    lab, city = coded.labels(dimension), coded.firms["city"]
    order = labels.categories(dimension)
    rows = []
    for c in CITIES:
        mine = lab[city == c]
        counts = mine[mine.isin(order)].value_counts()
        if counts.empty:
            rows.append({"city": c, "code": None, "tied": (), "share": np.nan, "n": len(mine)})
            continue
        top = counts.max()
        tied = tuple(k for k in order if counts.get(k, 0) == top)
        rows.append({"city": c, "code": tied[0] if len(tied) == 1 else "tie", "tied": tied,
                     "share": top / len(mine), "n": len(mine)})
    return pd.DataFrame(rows).set_index("city")


def _modal_text(dimension: str, row) -> str:
    """A modal cell in words: ``Public``, or ``tie: Domestic / Global`` for a tie."""
    if row["code"] is None or pd.isna(row["code"]):
        return "no coded firm"
    names = [labels.display(dimension, k) for k in row["tied"]]
    return names[0] if len(names) == 1 else "tie: " + " / ".join(names)


def agreement(row, brief: str) -> str:
    """Score a modal cell against the brief's value: ``yes``, ``no``, or ``tie`` when the cell
    is a tie that includes the brief's value (neither agreement nor disagreement).

    Parameters
    ----------
    row : pandas.Series
        A city's row of :func:`modal`.
    brief : str
        The brief's category code for that cell.

    Returns
    -------
    str
        ``yes``, ``no`` or ``tie``; ``no`` for a city without a coded firm.
    """
    if row["code"] is None or pd.isna(row["code"]):
        return "no"
    if len(row["tied"]) > 1:
        return "tie" if brief in row["tied"] else "no"
    return "yes" if row["code"] == brief else "no"


# ----------------------------------------------------------------------------- keyness
KEY_ALPHA = 0.05  # level at which a term counts as key (on q, or on p with keyness_adjust none)
KEYNESS_COLUMNS = {  # the columns of a city's keyness table, with their dtypes (an empty table has them too)
    "feature": str, "firms_target": int, "firms_reference": int, "log_ratio": float, "p": float,
    "q": float, "p_under": float, "q_under": float, "chi2": float, "p_chi2": float, "q_chi2": float,
    "n_target": int, "n_reference": int,
}


def city_keyness_tables(firms: pd.DataFrame, text_fields=preprocess.DEFAULT_TEXT_FIELDS, min_df: int = MIN_DF,
                        adjust: str = KEYNESS_ADJUST) -> dict[str, pd.DataFrame]:
    """Keyness of each city against the other two, on one document-term matrix
    (:func:`analysis.text.keyness.keyness_table`): the firm-level Fisher test on the number of firms
    using each term, which decides what is key and orders the rows (over-use p ascending, then
    log ratio), with quanteda's token-level chi2 beside it for comparison with the brief
    (``adjust`` is the parameter ``keyness_adjust``: ``bh`` or ``none``, for both q columns).

    Parameters
    ----------
    firms : pandas.DataFrame
        The corpus's firms.
    text_fields : sequence of str
        The text columns read (parameter ``text_fields``).
    min_df : int
        The fewest firms whose text must hold a term for it to be kept.
    adjust : str
        ``bh`` or ``none``.

    Returns
    -------
    dict of str to pandas.DataFrame
        City -> its keyness table; an empty one with the columns of :data:`KEYNESS_COLUMNS` for a
        city with no firm or every firm, or when there is no term.

    Raises
    ------
    ValueError
        When ``adjust`` is not one of :data:`analysis.text.keyness.ADJUSTMENTS`.
    """
    lang = preprocess.text_language(text_fields)
    mat, feats = preprocess.document_term_matrix(preprocess.firm_texts(firms, text_fields), language=lang,
                                           min_df=min_df)
    city = firms["city"].to_numpy()
    if adjust not in kn.ADJUSTMENTS:  # checked even when every table is empty
        raise ValueError(f"keyness_adjust must be one of {kn.ADJUSTMENTS}, got {adjust!r}")
    out = {}
    for c in CITIES:
        target = city == c
        if target.any() and not target.all() and mat.shape[1] and mat.sum() > 0:
            out[c] = kn.keyness_table(mat, target, feats, adjust=adjust)
        else:  # no firm, every firm, or no term: nothing to compare, an empty table
            out[c] = pd.DataFrame({k: pd.Series(dtype=t) for k, t in KEYNESS_COLUMNS.items()})
    return out


def _over_used(table: pd.DataFrame) -> pd.DataFrame:
    """The rows whose term the target's firms use more often than the reference's (positive log
    ratio), surviving or not, in the table's order (strongest evidence of over-use first)."""
    return table[table["log_ratio"] > 0]


def survives(table: pd.DataFrame, alpha: float = KEY_ALPHA) -> pd.Series:
    """Per row, whether the firm-level over-use test survives: q < ``alpha`` (p without q).

    Parameters
    ----------
    table : pandas.DataFrame
        A keyness table.
    alpha : float
        The level.

    Returns
    -------
    pandas.Series of bool
        One value per row of ``table``.
    """
    return table["q" if "q" in table.columns else "p"] < alpha


def top_terms(table: pd.DataFrame, n: int = 5, alpha: float = KEY_ALPHA) -> list[str]:
    """The ``n`` most key terms of the target among those that survive (q < ``alpha``).

    Parameters
    ----------
    table : pandas.DataFrame
        A city's keyness table.
    n : int
        How many terms at most.
    alpha : float
        The level.

    Returns
    -------
    list of str
        The terms, in the table's order (strongest evidence first).
    """
    return kn.key_terms(table, alpha).head(n)["feature"].tolist()


def _focus_terms(table: pd.DataFrame, n: int = 4, alpha: float = KEY_ALPHA) -> pd.DataFrame:
    """The ``n`` terms with the strongest evidence that the target's firms over-use them
    (surviving or not), with a ``survives`` column: whether the firm-level q < ``alpha``."""
    top = _over_used(table).head(n)
    return pd.DataFrame({"term": top["feature"].to_numpy(), "survives": survives(top, alpha).to_numpy()})


def key_counts(table: pd.DataFrame, alpha: float = KEY_ALPHA) -> dict[str, int]:
    """How many terms the target's firms over-use at p < alpha before correction
    (``uncorrected``), how many survive the correction (``survive``), both by the firm-level
    test; and, for comparison, how many quanteda's token-level chi2 calls over-used at q <
    alpha (``chi2``) and how many of those the firm-level test keeps (``chi2_and_firm``).

    Parameters
    ----------
    table : pandas.DataFrame
        A city's keyness table.
    alpha : float
        The level.

    Returns
    -------
    dict of str to int
        ``uncorrected`` and ``survive``; ``chi2`` and ``chi2_and_firm`` too when the table has a
        ``chi2`` column.
    """
    key = kn.key_terms(table, alpha)
    out = {"uncorrected": int((table["p"] < alpha).sum()), "survive": int(len(key))}
    if "chi2" in table.columns:
        col = "q_chi2" if "q_chi2" in table.columns else "p_chi2"
        token = table[(table["chi2"] > 0) & (table[col] < alpha)]
        out["chi2"] = int(len(token))
        out["chi2_and_firm"] = int(token["feature"].isin(key["feature"]).sum())
    return out


def cloud_weights(table: pd.DataFrame, n: int = 40) -> dict[str, float]:
    """A city cloud's terms: the ``n`` over-used terms with the strongest evidence (the table's
    order), each sized by its log ratio (effect size).

    Parameters
    ----------
    table : pandas.DataFrame
        A city's keyness table.
    n : int
        How many terms at most.

    Returns
    -------
    dict of str to float
        Term -> log ratio, in the table's order.
    """
    top = _over_used(table).head(n)
    return dict(zip(top["feature"], top["log_ratio"]))


def _focus_cell(terms: pd.DataFrame) -> str:
    """Table 1's focus cell in words: surviving terms plain, the rest of the top terms after
    them in parentheses, so that no term is presented as key that is not."""
    kept = [preprocess.with_gloss(t) for t, ok in zip(terms["term"], terms["survives"]) if ok]
    rest = [preprocess.with_gloss(t) for t, ok in zip(terms["term"], terms["survives"]) if not ok]
    if not len(terms):
        return "no over-used term"
    text_ = "; ".join(kept) if kept else "no term survives the correction"
    if rest:
        text_ += " (top terms not surviving: " + "; ".join(rest) + ")"
    return text_


def comparison_weights(tables: dict[str, pd.DataFrame], n: int = 40,
                       alpha: float = KEY_ALPHA) -> pd.DataFrame:
    """For Figure 1: each term over-used somewhere goes to the city whose log ratio for it is
    largest (ties: the city first in CITIES); each city keeps its ``n`` terms with the strongest
    evidence of over-use (smallest firm-level p, then largest log ratio). Columns term, city,
    weight (the log ratio, the term's size in the cloud), p, q, survives (q < alpha for that
    city).

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        City -> keyness table (:func:`city_keyness_tables`).
    n : int
        How many terms each city keeps at most.
    alpha : float
        The level for ``survives``.

    Returns
    -------
    pandas.DataFrame
        One row per term, with the columns above (q is p for a table without q); cities in
        :data:`~analysis.defaults.CITIES` order, each city's terms in its table's order; no row
        (but the columns) without tables.
    """
    parts = []
    for c, t in tables.items():
        q = t["q"] if "q" in t.columns else t["p"]
        parts.append(pd.DataFrame({"feature": t["feature"], "log_ratio": t["log_ratio"], "p": t["p"], "q": q,
                                   "city": c, "rank": np.arange(len(t))}))
    cols = ["term", "city", "weight", "p", "q", "survives"]
    if not parts:
        return pd.DataFrame(columns=cols)
    order = {c: i for i, c in enumerate(CITIES)}
    long = pd.concat(parts, ignore_index=True)
    long = long[long["log_ratio"] > 0].assign(city_order=lambda d: d["city"].map(order))
    best = long.sort_values(["log_ratio", "city_order"], ascending=[False, True]).drop_duplicates("feature")
    best = best.sort_values(["city_order", "rank"]).groupby("city", sort=False).head(n)
    out = best.rename(columns={"feature": "term", "log_ratio": "weight"})
    out["survives"] = out["q"] < alpha
    return out[cols].reset_index(drop=True)


def group_similarity(firms: pd.DataFrame, text_fields=preprocess.DEFAULT_TEXT_FIELDS) -> pd.DataFrame:
    """Cosine similarity of the cities' term profiles: each firm's tf-idf row (idf over the
    firms, so that a term most firms use weighs little but a term shared by the cities still
    counts), summed per city. Two cities that use terms in the same proportions score 1; two
    that share no term score 0.

    Parameters
    ----------
    firms : pandas.DataFrame
        The corpus's firms.
    text_fields : sequence of str
        The text columns read (parameter ``text_fields``).

    Returns
    -------
    pandas.DataFrame
        City by city (all of :data:`~analysis.defaults.CITIES`), to 3 decimals; NaN in the row
        and the column of a city with no firm.
    """
    lang = preprocess.text_language(text_fields)
    mat, _ = preprocess.document_term_matrix(preprocess.firm_texts(firms, text_fields), language=lang)
    grouped, groups = preprocess.group_rows(preprocess.tfidf(mat), firms["city"].to_numpy(), order=list(CITIES))
    sim = kn.cosine_similarity(grouped)
    absent = ~firms["city"].value_counts().reindex(groups, fill_value=0).gt(0).to_numpy()
    sim[absent, :] = np.nan  # a city with no firm has no profile: not estimable, not 0
    sim[:, absent] = np.nan
    return pd.DataFrame(sim, index=groups, columns=groups).round(3)


# ----------------------------------------------------------------------------- Table 1
ROWS = ("application", "customer", "geography", "business_type", "firms", "focus", "investor")
ROW_NAMES = {
    "application": "Blockchain application",
    "customer": "Type of customer base",
    "geography": "Geography of customer base",
    "business_type": "Business type (from customer and geography)",
    "firms": "Number of firms",
    "focus": "Business focus (key terms)",
    "investor": "Investor portrait",
}
BRIEF_FOCUS = {
    "Beijing": "state project; public project; policy orientation",
    "Shanghai": "financial service; international market; software and platform provider",
    "Shenzhen": "commercial project; hardware and information platform; domestic market",
}


# Table 1's "Business type" row: the codebook's derived table (classify.business_type)
BUSINESS_TYPE_NAMES = {
    "public_procurement": "Domestic public procurement market",
    "domestic_commercial": "Domestic commercial market",
    "international_commercial": "International commercial market",
}
BRIEF_BUSINESS_TYPE = {"Beijing": "public_procurement", "Shanghai": "international_commercial",
                       "Shenzhen": "domestic_commercial"}


def _business_types(coded: Coded) -> pd.Series:
    """Each firm's derived business type code (None where customer or geography is none/tie)."""
    return pd.Series([classify.business_type(c, g) for c, g in
                      zip(coded.labels("customer"), coded.labels("geography"))],
                     index=coded.codes.index, dtype=object)


def _modal_business_type(coded: Coded, city: str):
    bt = _business_types(coded)[(coded.firms["city"] == city).to_numpy()]
    counts = bt.dropna().value_counts()
    if counts.empty:
        return None, np.nan
    order = list(classify.BUSINESS_TYPES)
    best = max(counts.index, key=lambda k: (counts[k], -order.index(k)))
    return best, counts[best] / len(bt)


def brief_business_type_check() -> pd.DataFrame:
    """The brief's own cells against each other: per city its customer and geography cells,
    the business type the codebook derives from them, the brief's business-type cell, and
    whether the two agree.

    Returns
    -------
    pandas.DataFrame
        One row per city: ``city``, ``brief customer``, ``brief geography``, ``derived business
        type``, ``brief business type`` and ``consistent`` (``yes`` or ``no``).
    """
    rows = []
    for city in CITIES:
        cust, geo = labels.brief_value("customer", city), labels.brief_value("geography", city)
        derived = classify.business_type(cust, geo)
        rows.append({"city": city, "brief customer": labels.display("customer", cust),
                     "brief geography": labels.display("geography", geo),
                     "derived business type": BUSINESS_TYPE_NAMES[derived],
                     "brief business type": BUSINESS_TYPE_NAMES[BRIEF_BUSINESS_TYPE[city]],
                     "consistent": "yes" if derived == BRIEF_BUSINESS_TYPE[city] else "no"})
    return pd.DataFrame(rows)


def table1(coded: Coded, keyness_tables: dict[str, pd.DataFrame], n_terms: int = 4) -> pd.DataFrame:
    """Table 1 rebuilt, long form: row, city, corpus (this corpus's value), share, brief, agree.

    Category rows give the modal dictionary code and its share of the city's firms (a tie is
    shown and scored as a tie); the firm count row compares counts; business focus lists the
    ``n_terms`` most key terms, those that survive the correction apart from those that do not
    (no agreement test, as the brief's focus is an interpretation, not a count).

    Parameters
    ----------
    coded : Coded
        The coded firms.
    keyness_tables : dict of str to pandas.DataFrame
        City -> keyness table (:func:`city_keyness_tables`); a city without one has no focus term.
    n_terms : int
        How many top terms the focus row lists.

    Returns
    -------
    pandas.DataFrame
        One row per Table 1 row (in :data:`ROWS` order) and city: ``row`` (its name in
        :data:`ROW_NAMES`), ``city``, ``corpus``, ``share`` (NaN where there is none), ``brief``
        and ``agree`` (``yes``, ``no``, ``tie`` or ``not tested``).
    """
    records = []
    counts = coded.firms["city"].value_counts()
    brief_counts = labels.brief_firm_counts()
    for row in ROWS:
        for city in CITIES:
            rec = {"row": ROW_NAMES[row], "city": city}
            if row in ("application", "customer", "geography", "investor"):
                m = modal(coded, row).loc[city]
                brief = labels.brief_value(row, city)
                rec.update(corpus=_modal_text(row, m), share=m["share"], brief=labels.display(row, brief),
                           agree=agreement(m, brief))
            elif row == "business_type":
                code, share = _modal_business_type(coded, city)
                brief = BRIEF_BUSINESS_TYPE[city]
                rec.update(corpus=BUSINESS_TYPE_NAMES[code] if code else "no coded firm", share=share,
                           brief=BUSINESS_TYPE_NAMES[brief], agree="yes" if code == brief else "no")
            elif row == "firms":
                n = int(counts.get(city, 0))
                rec.update(corpus=str(n), share=np.nan, brief=str(brief_counts[city]),
                           agree="yes" if n == brief_counts[city] else "no")
            else:
                terms = (_focus_terms(keyness_tables[city], n_terms) if city in keyness_tables
                         else pd.DataFrame({"term": [], "survives": []}))
                rec.update(corpus=_focus_cell(terms), share=np.nan, brief=BRIEF_FOCUS[city],
                           agree="not tested")
            records.append(rec)
    return pd.DataFrame(records)


#: how each scored Table 1 row is made: coded from the firms' text, from their investor lists, or counted
ROW_BASIS = {"application": "text", "customer": "text", "geography": "text", "business_type": "text",
             "investor": "investors", "firms": "count"}


@dataclass(frozen=True)
class AgreementCounts:
    """Table 1's scored cells counted apart by how they are made (:data:`ROW_BASIS`): per basis
    (``text``, ``investors``, ``count``) the cells scored, those that agree with the brief and
    those that are ties including the brief's value."""

    tested: dict
    agree: dict
    tie: dict


def agreement_counts(long: pd.DataFrame) -> AgreementCounts:
    """Count the agreement of Table 1's cells with the brief apart for the cells coded from the
    firms' text, the investor cells and the firm counts (:data:`ROW_BASIS`).

    Parameters
    ----------
    long : pandas.DataFrame
        :func:`table1`.

    Returns
    -------
    AgreementCounts
        Per basis, the cells scored, agreeing and tied.
    """
    basis = long["row"].map({ROW_NAMES[r]: b for r, b in ROW_BASIS.items()})
    tested, agree, tie = {}, {}, {}
    for b in ("text", "investors", "count"):
        cells = long.loc[(basis == b) & (long["agree"] != "not tested"), "agree"]
        tested[b], agree[b], tie[b] = len(cells), int((cells == "yes").sum()), int((cells == "tie").sum())
    return AgreementCounts(tested=tested, agree=agree, tie=tie)


def table1_display(long: pd.DataFrame) -> pd.DataFrame:
    """Wide form for the page: one row per Table 1 row, one column per city, cell text
    ``value (share)``.

    Parameters
    ----------
    long : pandas.DataFrame
        :func:`table1`.

    Returns
    -------
    pandas.DataFrame
        Indexed by the row names in :data:`ROWS` order, one column per city; a tie's share is
        marked ``each``.
    """
    def fmt(r):
        if pd.isna(r["share"]):
            return r["corpus"]
        each = " each" if str(r["corpus"]).startswith("tie:") else ""
        return f"{r['corpus']} ({pct(r['share'])}{each})"

    cell = long.apply(fmt, axis=1)
    wide = long.assign(cell=cell).pivot(index="row", columns="city", values="cell")
    wide = wide.reindex(index=[ROW_NAMES[r] for r in ROWS], columns=list(CITIES))
    wide.index.name = None
    wide.columns.name = None
    return wide


def agreement_display(long: pd.DataFrame) -> pd.DataFrame:
    """Table 1's cells beside the brief's, for the page, with headings in words.

    Parameters
    ----------
    long : pandas.DataFrame
        :func:`table1`.

    Returns
    -------
    pandas.DataFrame
        Columns ``Table 1 row``, ``city``, ``this corpus``, ``the brief`` and ``agree``.
    """
    shown = long[["row", "city", "corpus", "brief", "agree"]].copy()
    shown.columns = ["Table 1 row", "city", "this corpus", "the brief", "agree"]
    return shown


# ----------------------------------------------------------------------------- city chapters
@dataclass
class CityReport:
    city: str
    n_firms: int
    keyness: pd.DataFrame
    shares: dict[str, pd.DataFrame] = field(default_factory=dict)
    modal: dict[str, pd.Series] = field(default_factory=dict)
    examples: pd.DataFrame | None = None


def typical_firms(coded: Coded, city: str, keyness_table: pd.DataFrame, k: int = 3,
                  text_fields=preprocess.DEFAULT_TEXT_FIELDS) -> pd.DataFrame:
    """Example firms by a stated rule: among the city's firms whose dictionary codes match the
    city's modal application, customer and geography (as many of the three as possible; a tied
    mode matches any of its tied categories), those whose text carries the largest
    summed log ratio of the city's key terms (those that survive the firm-level correction);
    ties broken by company_id.

    Parameters
    ----------
    coded : Coded
        The coded firms.
    city : str
        The city.
    keyness_table : pandas.DataFrame
        The city's keyness table.
    k : int
        How many firms at most.
    text_fields : sequence of str
        The text columns read (parameter ``text_fields``).

    Returns
    -------
    pandas.DataFrame
        One row per chosen firm, best first: ``name``, ``founded`` (``unknown`` when missing),
        ``description`` and ``codes matching the city's modal profile`` (``2 of 3``).
    """
    in_city = (coded.firms["city"] == city).to_numpy()
    firms, codes = coded.firms[in_city], coded.codes[in_city]
    match = np.zeros(len(firms), dtype=int)
    for dim in TEXT_DIMENSIONS:
        tied = modal(coded, dim).loc[city, "tied"]
        match += codes[f"{dim}_label"].isin(list(tied)).to_numpy().astype(int)
    key = kn.key_terms(keyness_table, KEY_ALPHA)
    weight = dict(zip(key["feature"], key["log_ratio"]))
    # the matrix of every firm that the key terms came from (shared with the keyness tables)
    mat, feats = preprocess.document_term_matrix(preprocess.firm_texts(coded.firms, text_fields),
                                           language=preprocess.text_language(text_fields), min_df=1)
    w = np.array([weight.get(f, 0.0) for f in feats])
    score = (mat[np.flatnonzero(in_city)] > 0).astype(float) @ w if len(w) else np.zeros(len(firms))
    order = pd.DataFrame({"match": match, "score": score, "id": firms["company_id"].to_numpy()})
    order = order.sort_values(["match", "score", "id"], ascending=[False, False, True]).head(k)
    chosen = firms.iloc[order.index]
    return pd.DataFrame({
        "name": chosen["name"].to_numpy(),
        "founded": chosen["founded_year"].astype("string").fillna("unknown").to_numpy(),
        "description": chosen["description"].to_numpy(),
        "codes matching the city's modal profile": order["match"].map(lambda m: f"{m} of 3").to_numpy(),
    })


def city_report(coded: Coded, city: str, keyness_tables: dict[str, pd.DataFrame],
                text_fields=preprocess.DEFAULT_TEXT_FIELDS) -> CityReport:
    """What a city's chapter shows of it: its number of firms, keyness table, shares and modal
    category per dimension (the three text dimensions and the investor), example firms.

    Parameters
    ----------
    coded : Coded
        The coded firms.
    city : str
        The city.
    keyness_tables : dict of str to pandas.DataFrame
        City -> keyness table (:func:`city_keyness_tables`).
    text_fields : sequence of str
        The text columns read (parameter ``text_fields``).

    Returns
    -------
    CityReport
        The report; its ``shares`` are every city's (:func:`shares_by_city`), its ``modal`` the
        city's rows of :func:`modal`, its ``examples`` :func:`typical_firms`.
    """
    report = CityReport(city, int((coded.firms["city"] == city).sum()), keyness_tables[city])
    for dim in (*TEXT_DIMENSIONS, "investor"):
        report.shares[dim] = shares_by_city(coded, dim)
        report.modal[dim] = modal(coded, dim).loc[city]
    report.examples = typical_firms(coded, city, keyness_tables[city], text_fields=text_fields)
    return report


def keyness_display(table: pd.DataFrame, n: int = 15) -> pd.DataFrame:
    """The ``n`` terms with the strongest evidence that the target's firms over-use them (the
    table's order), for the page: firms using the term in the city and in the other two, the
    log ratio, the firm-level p and q and whether the term survives; then quanteda's token-level
    chi2 with its q, its counts and the term's rank by chi2 among all terms (the brief's order;
    the page's table sorts by any column).

    Parameters
    ----------
    table : pandas.DataFrame
        A city's keyness table.
    n : int
        How many terms at most.

    Returns
    -------
    pandas.DataFrame
        One row per term: ``term``, ``gloss``, ``firms in city``, ``firms in other two``,
        ``log2 ratio``, ``p (firms)`` (text), ``q (firms)``, ``key``, ``chi2 (tokens)``,
        ``q (chi2)``, ``count in city``, ``count in other two`` and ``rank by chi2``.
    """
    chi2_rank = table["chi2"].rank(ascending=False, method="min")
    top = _over_used(table).head(n)
    fmt_p = lambda p: "< 0.001" if p < 0.001 else f"{p:.3f}"  # noqa: E731
    shown = pd.DataFrame({
        "term": top["feature"].to_numpy(),
        "gloss": top["feature"].map(lambda t: preprocess.gloss(t) or "").to_numpy(),
        "firms in city": top["firms_target"].to_numpy(),
        "firms in other two": top["firms_reference"].to_numpy(),
        "log2 ratio": top["log_ratio"].round(2).to_numpy(),
        "p (firms)": top["p"].map(fmt_p).to_numpy(),
        "q (firms)": top["q"].round(3).to_numpy(),
        "key": survives(top).to_numpy(),
        "chi2 (tokens)": top["chi2"].round(2).to_numpy(),
        "q (chi2)": top["q_chi2"].round(3).to_numpy(),
        "count in city": top["n_target"].to_numpy(),
        "count in other two": top["n_reference"].to_numpy(),
        "rank by chi2": chi2_rank.loc[top.index].astype("Int64").to_numpy(),
    })
    return shown


# ----------------------------------------------------------------------------- the data chapter
FIRM_COLUMNS = ["company_id", "name", "city", "founded_year", "description", "industries", "investors"]


def firm_table(firms: pd.DataFrame, texts: bool = True) -> pd.DataFrame:
    """The data chapter's firm list: the columns of :data:`FIRM_COLUMNS` the firms have,
    missing cells empty.

    Parameters
    ----------
    firms : pandas.DataFrame
        The corpus's firms.
    texts : bool
        Whether the firms' descriptions are kept (False: ``withhold_texts``, a licensed export).

    Returns
    -------
    pandas.DataFrame
        A copy of those columns, the founding year as text.
    """
    cols = [c for c in FIRM_COLUMNS if c in firms.columns and (texts or c != "description")]
    out = firms[cols].copy()
    out["founded_year"] = out["founded_year"].astype("string").fillna("")
    return out.fillna("")


HEADINGS = {  # code names a reader should not see, in words
    "public_share": "public-customer share", "infrastructure_share": "infrastructure share",
    "cosine_to_beijing": "cosine similarity to Beijing", "state_investor": "mainly state-backed",
    "public": "public-customer share", "crypto": "crypto share", "founded_year": "founded",
    "n": "firms", "p": "p", "others_upper": "others' move, upper bound",
    "estimate_logodds": "estimate (log-odds)", "p_gap": "p (gap)", "p_gap_logodds": "p (gap, log-odds)",
    "p_others": "p (others)", "mde_bound": "MDE bound", "power_planted": "power at planted strength",
    "firms_for_80pct": "firms for 80% power", "q": "q (BH)", "p_mcse": "MCSE of p", "mcse": "MCSE",
    "company_id": "company id", "n_target": "count in city", "n_reference": "count in other two",
    "firms_target": "firms in city", "firms_reference": "firms in other two", "log_ratio": "log2 ratio",
    "p_under": "p (under-use)", "q_under": "q (under-use)", "p_chi2": "p (chi2)", "q_chi2": "q (chi2)",
    "distinctiveness": "distinctiveness", "overall_gap": "overall gap",
    "gap_slope": "gap change per year", "gap_lo": "gap change, 95% low", "gap_hi": "gap change, 95% high",
    "beijing_slope": "Beijing's change", "beijing_lo": "Beijing's, 95% low", "beijing_hi": "Beijing's, 95% high",
    "others_slope": "others' change", "others_lo": "others', 95% low", "others_hi": "others', 95% high",
    "others_move": "others moved", "beijing_move": "Beijing moved", "p_ok": "p estimable",
}
CODED_CELLS = {"measure"}  # text columns whose cells are code names, shown in words like headings


def heading(col) -> str:
    """A column's heading in words; a column of several levels (a pivot's) joins its non-empty
    levels: ("dictionary", "a") reads "dictionary, a".

    Parameters
    ----------
    col : object
        The column's name, or a tuple of its levels.

    Returns
    -------
    str
        Its heading in :data:`HEADINGS`, else the name with underscores as spaces.
    """
    if isinstance(col, tuple):
        return ", ".join(heading(c) for c in col if str(c) != "")
    col = str(col)
    return HEADINGS.get(col, col.replace("_", " "))


def _cell(x, digits) -> str:
    if x is None or (not isinstance(x, (str, bytes, tuple, list)) and pd.isna(x)):
        return "–"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (float, np.floating)) and digits is not None:
        if not np.isfinite(x):
            return str(x)
        text = f"{x:,.{digits}f}".rstrip("0").rstrip(".")
        return "0" if text == "-0" else text  # a small negative number rounds to 0, not to "-0"
    if isinstance(x, (int, np.integer)):
        return f"{x:,}" if abs(int(x)) >= 10000 else str(int(x))
    return str(x)


#: the columns that carry a table's conclusion, and how many columns make a table too wide for
#: them to be on screen where they are: a wider table shows them right after its row labels
KEY_COLUMNS = ("decision", "primary", "rate", "p", "p_mcse")
WIDE_TABLE_COLUMNS = 12


def _key_columns_first(frame: pd.DataFrame) -> pd.DataFrame:
    """A table of more than :data:`WIDE_TABLE_COLUMNS` columns with the :data:`KEY_COLUMNS` it
    has moved right after its leading text columns (the row labels); any other as it is."""
    keys = [c for c in KEY_COLUMNS if c in frame.columns]
    if frame.shape[1] <= WIDE_TABLE_COLUMNS or not keys:
        return frame
    rest = [c for c in frame.columns if c not in keys]
    labels = 0
    while labels < len(rest) and not pd.api.types.is_numeric_dtype(frame[rest[labels]]):
        labels += 1
    return frame[rest[:labels] + keys + rest[labels:]]


def display_frame(df: pd.DataFrame, index: bool = False, digits: int | None = 3):
    """The frame as a reader sees it: cells as text (booleans as yes/no, missing as a dash),
    human headings, and per column whether it is numeric (right-aligned) or text (left).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    index : bool
        Whether to show the index, as the first column(s).
    digits : int or None
        Decimals of float cells (trailing zeros dropped); None: as Python writes them.

    Returns
    -------
    tuple of (list of str, list of list of str, list of bool)
        The headings, the rows of cell texts, and per column whether it is numeric. In a table
        of more than :data:`WIDE_TABLE_COLUMNS` columns, the decision columns
        (:data:`KEY_COLUMNS`) come right after the row labels, so that they are on screen.
    """
    frame = _key_columns_first(df.reset_index() if index else df)
    if index and frame.columns[0] == "index":
        frame = frame.rename(columns={"index": ""})
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
               for c in frame.columns]
    cells = [[heading(v) if str(c) in CODED_CELLS and isinstance(v, str) else _cell(v, digits)
              for v in frame[c].tolist()] for c in frame.columns]
    rows = [list(r) for r in zip(*cells)] if cells else []
    return [heading(c) for c in frame.columns], rows, numeric


def _links(cell: str) -> str:
    """A `` | ``-separated list of sources as markdown, official pages first
    (:func:`analysis.data.facts.source_parts`): URLs as links named by their host (``official``
    for a government page), ``cite:KEY`` as a citation of the work in the bibliography, the rest
    escaped."""
    out = []
    for part in facts.source_parts(cell):
        key = part.removeprefix(facts.CITE_PREFIX)
        if part.startswith(facts.CITE_PREFIX) and re.fullmatch(r"[A-Za-z0-9_:.-]+", key):
            out.append(f"{{cite:p}}`{key}`")
        elif part.startswith(("http://", "https://")) and not any(c in part for c in "<> "):
            host = part.split("/")[2].removeprefix("www.")
            label = f"{host} (official)" if facts.is_official(part) else host
            out.append(f"[{markdown.escape(label)}](<{part}>)")
        else:
            out.append(markdown.escape(part))
    return "; ".join(out)


# tables the page makes sortable by clicking a heading, and those it gives a box that filters
# their rows (_static/reading-aids.js)
SORTABLE = {"policy_events", "firms", *(f"keyness_{c.lower()}" for c in CITIES)}
FILTERABLE = {"firms"}
LINK_COLUMNS = {"source"}     # columns holding source URLs, shown as links


def _code_cell(value: str) -> str:
    """A table cell as an inline code span: shown verbatim (no smart quotes, no markup), with
    the cell's pipes escaped for the table parser (which removes the backslash again)."""
    return markdown.code(value).replace("|", "\\|")


def table_markdown(df: pd.DataFrame, name: str, index: bool = False, digits: int | None = 3,
                   code: tuple[str, ...] = ()) -> str:
    """A numbered, captioned, referenceable MyST table (label ``tbl-NAME``) with its caption
    from the registry; text from data is escaped, source URLs become links, and the columns
    named in ``code`` are shown as code literals (values a reader copies: YAML, commands).

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    name : str
        Its name in the registry (sortable when in :data:`SORTABLE`, filterable when in
        :data:`FILTERABLE`).
    index : bool
        Whether to show the index (:func:`display_frame`).
    digits : int or None
        Decimals of float cells (:func:`display_frame`).
    code : tuple of str
        The columns shown as code literals.

    Returns
    -------
    str
        The ``{table}`` directive, ending in a newline.

    Raises
    ------
    KeyError
        When the registry has no table ``name``.
    """
    heads, rows, numeric = display_frame(df, index, digits)
    esc = lambda v: markdown.escape(str(v).replace("\n", " ").replace("\r", " "))  # noqa: E731
    cols = list(df.reset_index().columns if index else df.columns)
    link_at = {i for i, c in enumerate(cols) if str(c) in LINK_COLUMNS}
    code_at = {i for i, c in enumerate(cols) if str(c) in code}
    klass = " ".join(["table-data"] + ["sortable"] * (name in SORTABLE) + ["filterable"] * (name in FILTERABLE))
    out = [f":::{{table}} {markdown.escape(catalogue.caption(name))}", f":name: {catalogue.label(name)}",
           f":class: {klass}", "",
           "| " + " | ".join(esc(h) if h else " " for h in heads) + " |",
           "|" + "|".join("---:" if num else ":---" for num in numeric) + "|"]
    for r in rows:
        out.append("| " + " | ".join(_links(v) if i in link_at else _code_cell(v) if i in code_at else esc(v)
                                     for i, v in enumerate(r)) + " |")
    out.append(":::")
    return "\n".join(out) + "\n"


def html(df: pd.DataFrame, index: bool = False, digits: int | None = 3, name: str | None = None,
         code: tuple[str, ...] = ()):
    """A table for the page. A table the registry knows (by ``name``, or the name
    :func:`save` gave it) is shown numbered and captioned, the columns in ``code`` as code
    literals; any other as plain escaped HTML.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    index : bool
        Whether to show the index.
    digits : int or None
        Decimals of float cells (:func:`display_frame`).
    name : str or None
        Its name in the registry; None: the name :func:`save` gave it, if any.
    code : tuple of str
        The columns shown as code literals (in a registered table).

    Returns
    -------
    IPython.display.Markdown or IPython.display.HTML
        A registered table as MyST (:func:`table_markdown`), any other as an HTML table.
    """
    from IPython.display import HTML, Markdown

    name = name or df.attrs.get("table_name")
    if name and catalogue.get(name) is not None:
        return Markdown(table_markdown(df, name, index=index, digits=digits, code=code))
    heads, rows, numeric = display_frame(df, index, digits)
    shown = pd.DataFrame(rows, columns=heads)
    return HTML(shown.to_html(index=False, escape=True, border=0, classes="dataframe table-data"))


def firms_per_city(firms: pd.DataFrame) -> pd.DataFrame:
    """Firms per city beside the brief's counts (its Table 1 'Number of firms' row).

    Parameters
    ----------
    firms : pandas.DataFrame
        The corpus's firms.

    Returns
    -------
    pandas.DataFrame
        One row per city, then ``all three``: ``city``, ``firms``, ``share`` (of the three
        cities' firms, to 3 decimals) and ``brief (Crunchbase, May 2022)``.
    """
    brief = labels.brief_firm_counts()
    n = firms["city"].value_counts().reindex(list(CITIES), fill_value=0)
    out = pd.DataFrame({"city": list(CITIES), "firms": n.to_numpy(),
                        "share": (n / max(n.sum(), 1)).round(3).to_numpy(),
                        "brief (Crunchbase, May 2022)": [brief[c] for c in CITIES]})
    total = pd.DataFrame([{"city": "all three", "firms": int(n.sum()), "share": 1.0,
                           "brief (Crunchbase, May 2022)": sum(brief.values())}])
    return pd.concat([out, total], ignore_index=True)


_CJK = r"[\u4e00-\u9fff]"


def text_coverage(firms: pd.DataFrame) -> pd.DataFrame:
    """Per city: words per short description (median and range), and the share of firms with a
    full description, with website text, and with any Chinese characters in their text.

    Parameters
    ----------
    firms : pandas.DataFrame
        The corpus's firms (``description``, ``full_description`` and ``website_text``).

    Returns
    -------
    pandas.DataFrame
        One row per city: ``city``, ``firms``, ``words per description (median)``, ``min``,
        ``max``, and the shares ``with full description``, ``with website text`` and
        ``with Chinese text`` (NaN for a city without firms).
    """
    rows = []
    for c in CITIES:
        f = firms[firms["city"] == c]
        words = f["description"].fillna("").str.split().str.len()
        has_full = f["full_description"].fillna("").str.strip().ne("")
        has_web = f["website_text"].fillna("").str.strip().ne("")
        all_text = f[["description", "full_description", "website_text"]].fillna("").agg(" ".join, axis=1)
        rows.append({
            "city": c, "firms": len(f),
            "words per description (median)": float(words.median()) if len(f) else np.nan,
            "min": int(words.min()) if len(f) else 0, "max": int(words.max()) if len(f) else 0,
            "with full description": has_full.mean() if len(f) else np.nan,
            "with website text": has_web.mean() if len(f) else np.nan,
            "with Chinese text": all_text.str.contains(_CJK).mean() if len(f) else np.nan,
        })
    return pd.DataFrame(rows)


def coder_checks(firms: pd.DataFrame, text_fields=preprocess.DEFAULT_TEXT_FIELDS, seed: int = DEFAULT_SEED):
    """Both coders scored on this build's corpus, against its simulated truth or the hand-coded
    sample: the dictionary, and the supervised coder trained on the hand-coded check sets
    (which share no text with the corpus); without check sets, the supervised coder
    cross-validated on the corpus's own labels. Returns (summary table, reasons when
    unavailable).

    Parameters
    ----------
    firms : pandas.DataFrame
        The corpus's firms.
    text_fields : sequence of str
        The text columns read (parameter ``text_fields``).
    seed : int
        Seed of the supervised coder.

    Returns
    -------
    tuple of (pandas.DataFrame, list of str)
        One row per dimension and coder scored (``dimension``, ``coder``, ``reference``,
        ``firms``, ``macro-F1``, ``accuracy``), and the distinct reasons of the checks that were
        unavailable, sorted.
    """
    rows, reasons = [], []
    trained = None
    coded = classify.code_with(firms, text_fields, coder="dictionary")  # once, not once per dimension
    if len(classify.supervised_training()):
        trained = classify.code_with(firms, text_fields, coder="supervised", seed=seed)
    for dim in TEXT_DIMENSIONS:
        if trained is not None:
            sup = classify.dictionary_check(firms, dim, text_fields, coded=trained)
            sup.coder = "supervised (trained on the check sets)"
        else:
            sup = classify.supervised_check(firms, dim, text_fields, seed=seed)
            sup.coder = "supervised (cross-validated on this corpus)"
        for check in (classify.dictionary_check(firms, dim, text_fields, coded=coded), sup):
            if not check.available:
                reasons.append(check.reason)
                continue
            rows.append({"dimension": dim, "coder": check.coder, "reference": check.source,
                         "firms": check.n, "macro-F1": round(check.macro_f1, 3),
                         "accuracy": round(check.accuracy, 3)})
    return pd.DataFrame(rows), sorted(set(reasons))


def policy_evidence(coded: Coded) -> pd.DataFrame:
    """Per city: share of firms coded public-customer, crypto, and mainly state-backed.

    Parameters
    ----------
    coded : Coded
        The coded firms.

    Returns
    -------
    pandas.DataFrame
        One row per city: ``city``, ``firms``, and the shares ``public``, ``crypto`` and
        ``state_investor`` (0 to 1; NaN for a city without firms).
    """
    rows = []
    for c in CITIES:
        mine = (coded.firms["city"] == c).to_numpy()
        rows.append({
            "city": c, "firms": int(mine.sum()),
            "public": float((coded.labels("customer")[mine] == "public").mean()) if mine.any() else np.nan,
            "crypto": float((coded.labels("application")[mine] == "crypto").mean()) if mine.any() else np.nan,
            "state_investor": float((coded.labels("investor")[mine] == "state").mean()) if mine.any() else np.nan,
        })
    return pd.DataFrame(rows)


def as_percent(shares: pd.DataFrame, digits: int = 1) -> pd.DataFrame:
    """Shares (0 to 1) as percentages rounded to ``digits``, as the comparison chapter lists them.

    Parameters
    ----------
    shares : pandas.DataFrame
        Shares, 0 to 1.
    digits : int
        Decimals kept.

    Returns
    -------
    pandas.DataFrame
        The shares times 100, rounded.
    """
    return (shares * 100).round(digits)


def policy_percentages(evidence: pd.DataFrame) -> pd.DataFrame:
    """The shares of :func:`policy_evidence` as the policy page quotes them: one row per city,
    the public, crypto and state_investor shares as percentages (:func:`pct`).

    Parameters
    ----------
    evidence : pandas.DataFrame
        :func:`policy_evidence`.

    Returns
    -------
    pandas.DataFrame
        Indexed by city; ``public``, ``crypto`` and ``state_investor`` as text (``62%``; ``n/a``
        for NaN).
    """
    return evidence.set_index("city")[["public", "crypto", "state_investor"]].map(pct)
