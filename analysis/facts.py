"""The small real fact tables in ``data/``: policy events and other published counts.

Transcribed, with sources per row, from the project's compiled fact sheets; see data/README.md.
"""

from __future__ import annotations

import pandas as pd

from .palette import CITIES
from .paths import DATA_DIR

POLICY_FILE = DATA_DIR / "policy_events.csv"
COUNTS_FILE = DATA_DIR / "external_counts.csv"
LEVELS = ("central", "Beijing", "Shanghai", "Shenzhen", "Guangdong", "other-local", "international")
STANCES = ("support", "restrict", "mixed")
#: the three events the context chapter marks on its timeline
MARKED = {
    "2017-09-04": "2017 token-sale ban",
    "2019-10-24": "1024 study session",
    "2021-09-24": "2021 crypto ban",
}


def policy_events(path=POLICY_FILE) -> pd.DataFrame:
    """Policy timeline, checked: known levels and stances, dates YYYY-MM or YYYY-MM-DD."""
    events = pd.read_csv(path, dtype=str, keep_default_na=False)
    bad = ~events["date"].str.fullmatch(r"\d{4}-\d{2}(-\d{2})?")
    for column, allowed in (("level", LEVELS), ("stance", STANCES)):
        wrong = ~events[column].isin(allowed)
        if wrong.any():
            i = int(wrong.to_numpy().argmax())
            raise ValueError(f"{path}: data row {i + 1} (line {i + 2}), column '{column}': "
                             f"{events[column].iloc[i]!r} is not one of {', '.join(allowed)}")
    if bad.any():
        i = int(bad.to_numpy().argmax())
        raise ValueError(f"{path}: data row {i + 1} (line {i + 2}), column 'date': "
                         f"{events['date'].iloc[i]!r} is not YYYY-MM or YYYY-MM-DD")
    events["year"] = events["date"].str[:4].astype(int)
    return events.sort_values("date", kind="stable").reset_index(drop=True)


def marked_events(events: pd.DataFrame) -> pd.DataFrame:
    rows = events[events["date"].isin(MARKED)].copy()
    rows.insert(0, "marker", rows["date"].map(MARKED))
    return rows[["marker", "date", "actor", "stance", "summary"]].reset_index(drop=True)


def stance_by_level(events: pd.DataFrame) -> pd.DataFrame:
    table = pd.crosstab(events["level"], events["stance"]).reindex(
        index=[lv for lv in LEVELS if lv in set(events["level"])], columns=list(STANCES), fill_value=0)
    table["total"] = table.sum(axis=1)
    table.index.name = "level"
    table.columns.name = None
    return table


def basis(measure: str) -> str:
    """What a published count counts, from its description: the bases are not comparable."""
    m = measure.lower()
    rules = [
        ("crunchbase, may 2022", "Crunchbase firms (the brief)"),
        ("ranking", "index score"),
        ("evaluation score", "index score"),
        ("registered", "business registry"),
        ("qichacha", "business registry"),
        ("in operation", "business registry"),
        ("cac", "service filings"),
        ("financing", "funding events"),
        ("funding", "funding events"),
        ("deals", "funding events"),
        ("projects", "projects"),
        ("hurun", "ranked list"),
    ]
    for key, label in rules:
        if key in m:
            return label
    return "industry survey"


def external_counts(path=COUNTS_FILE) -> pd.DataFrame:
    counts = pd.read_csv(path, dtype={"value": float}, keep_default_na=False)
    counts["basis"] = counts["measure"].map(basis)
    return counts


def city_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Published per-city numbers for the three cities, one row per measure, with its basis,
    beside the brief's Crunchbase counts (first row)."""
    part = counts[counts["geography"].isin(CITIES)]
    wide = part.pivot_table(index=["year", "measure", "basis", "unit"], columns="geography",
                            values="value", aggfunc="first")
    wide = wide.reindex(columns=list(CITIES)).reset_index()
    brief = wide["basis"] == "Crunchbase firms (the brief)"
    wide = pd.concat([wide[brief], wide[~brief].sort_values(["basis", "year", "measure"])])
    wide.columns.name = None
    return wide.reset_index(drop=True)
