"""The small real fact tables in ``data/``: policy events and other published counts.

Transcribed, with sources per row, from the project's compiled fact sheets; see data/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.defaults import CITIES
from analysis.paths import DATA_DIR

POLICY_FILE = DATA_DIR / "policy_events.csv"
COUNTS_FILE = DATA_DIR / "external_counts.csv"
NAMED_FIRMS_FILE = DATA_DIR / "named_firms.csv"
BRIEF_TABLE1_FILE = DATA_DIR / "brief_table1.csv"
BRIEF_SOURCE = "cite:hai2022chinese"  # the brief itself, as a source field cites it
CITE_PREFIX = "cite:"  # a source field's citation of a work by its key in book/references.bib
#: hosts of official (government) pages: a source on one of them is listed before press reports
OFFICIAL_HOSTS = ("gov.cn",)
LEVELS = ("central", "Beijing", "Shanghai", "Shenzhen", "Guangdong", "other-local", "international")
STANCES = ("support", "restrict", "mixed")
#: the three events the context chapter marks on its timeline
MARKED = {
    "2017-09-04": "2017 token-sale ban",
    "2019-10-24": "1024 study session",
    "2021-09-24": "2021 crypto ban",
}


def policy_events(path=POLICY_FILE) -> pd.DataFrame:
    """Policy timeline, checked: known levels and stances, dates YYYY-MM or YYYY-MM-DD.

    Parameters
    ----------
    path : str or Path
        The timeline file (default ``data/policy_events.csv``).

    Returns
    -------
    pandas.DataFrame
        The file's columns as text (date, level, actor, kind, stance, summary, source) and
        ``year`` (int), sorted by date.

    Raises
    ------
    ValueError
        A level not in :data:`LEVELS`, a stance not in :data:`STANCES`, or a date of another
        form; the message names the data row and column.
    """
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
    """The events the context chapter marks on its timeline (:data:`MARKED`).

    Parameters
    ----------
    events : pandas.DataFrame
        The policy timeline, as :func:`policy_events` returns it.

    Returns
    -------
    pandas.DataFrame
        Columns marker (the event's short name), date, actor, stance, summary; in the order of
        ``events``.
    """
    rows = events[events["date"].isin(MARKED)].copy()
    rows.insert(0, "marker", rows["date"].map(MARKED))
    return rows[["marker", "date", "actor", "stance", "summary"]].reset_index(drop=True)


def stance_by_level(events: pd.DataFrame) -> pd.DataFrame:
    """The events counted by level and stance.

    Parameters
    ----------
    events : pandas.DataFrame
        The policy timeline, as :func:`policy_events` returns it.

    Returns
    -------
    pandas.DataFrame
        One row per level present, in :data:`LEVELS` order (index ``level``); columns support,
        restrict, mixed and total.
    """
    table = pd.crosstab(events["level"], events["stance"]).reindex(
        index=[lv for lv in LEVELS if lv in set(events["level"])], columns=list(STANCES), fill_value=0)
    table["total"] = table.sum(axis=1)
    table.index.name = "level"
    table.columns.name = None
    return table


def basis(measure: str, unit: str = "") -> str:
    """What a published count counts, from its description and unit: the bases are not
    comparable. A value in index points is an index score; a count of firms never is.

    Parameters
    ----------
    measure : str
        What the count counts, as the ``measure`` column describes it.
    unit : str
        Its unit (e.g. "firms", "index points").

    Returns
    -------
    str
        The basis, e.g. "business registry", "funding events", "index score"; "industry survey"
        when no rule applies.
    """
    m = measure.lower()
    if unit.lower().startswith("index"):
        return "index score"
    rules = [
        ("crunchbase, may 2022", "Crunchbase firms (the brief)"),
        ("blockchain-related firms", "registered firms (as reported)"),
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
    """Published counts, each with what it counts (:func:`basis`).

    Parameters
    ----------
    path : str or Path
        The counts file (default ``data/external_counts.csv``).

    Returns
    -------
    pandas.DataFrame
        The file's columns (source, year, measure, geography, value as float, unit, note) and
        ``basis``.
    """
    counts = pd.read_csv(path, dtype={"value": float}, keep_default_na=False)
    counts["basis"] = [basis(m, u) for m, u in zip(counts["measure"], counts["unit"])]
    return counts


def city_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Published per-city numbers for the three cities, one row per measure, with its basis,
    beside the brief's Crunchbase counts (first row).

    Parameters
    ----------
    counts : pandas.DataFrame
        Published counts, as :func:`external_counts` returns them.

    Returns
    -------
    pandas.DataFrame
        Columns year, measure, basis, unit, Beijing, Shanghai, Shenzhen (NaN where a city has no
        value); the brief's rows first, then the others by basis, year and measure.
    """
    part = counts[counts["geography"].isin(CITIES)]
    wide = part.pivot_table(index=["year", "measure", "basis", "unit"], columns="geography",
                            values="value", aggfunc="first")
    wide = wide.reindex(columns=list(CITIES)).reset_index()
    brief = wide["basis"] == "Crunchbase firms (the brief)"
    wide = pd.concat([wide[brief], wide[~brief].sort_values(["basis", "year", "measure"])])
    wide.columns.name = None
    return wide.reset_index(drop=True)


def named_firms(city: str | None = None, path=NAMED_FIRMS_FILE, brief_only: bool = True) -> pd.DataFrame:
    """Firms the brief (and the press pieces it is read with) name, from ``data/named_firms.csv``. With a
    ``city``, the rows whose location mentions it (e.g. "Caribbean (moved from Shenzhen)").

    Parameters
    ----------
    city : str or None
        Keep the rows whose ``city`` contains it (case-insensitive); None keeps all.
    path : str or Path
        The file (default ``data/named_firms.csv``).
    brief_only : bool
        Keep only the firms the brief names (``source`` citing :data:`BRIEF_SOURCE`).

    Returns
    -------
    pandas.DataFrame
        The rows kept, as text: name, city, description, source.

    Raises
    ------
    ValueError
        The file lacks one of those columns.
    """
    firms = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = {"name", "city", "description", "source"} - set(firms.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    if brief_only:
        firms = firms[firms["source"].map(lambda s: BRIEF_SOURCE in source_parts(s))]
    if city is not None:
        firms = firms[firms["city"].str.contains(city, case=False, regex=False)]
    return firms.reset_index(drop=True)


def brief_table1(path=BRIEF_TABLE1_FILE) -> pd.DataFrame:
    """The brief's Table 1 as published: one row per Table 1 row, one column per city.

    Parameters
    ----------
    path : str or Path
        The file (default ``data/brief_table1.csv``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``row`` (the Table 1 row); columns Beijing, Shanghai, Shenzhen, as text.

    Raises
    ------
    ValueError
        The columns are not row, Beijing, Shanghai, Shenzhen in that order.
    """
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    expected = ["row", *CITIES]
    if list(table.columns) != expected:
        raise ValueError(f"{path}: columns must be {', '.join(expected)}, found {', '.join(table.columns)}")
    return table.set_index("row")


def fragmentation(events: pd.DataFrame) -> pd.DataFrame:
    """Central measures by year: how many were issued, how many distinct bodies led them so far
    (the first actor named; co-issuers are not always listed), and how many restrictive
    measures were in force together (a restriction stays in force once issued; the data
    record no repeal).

    Parameters
    ----------
    events : pandas.DataFrame
        The policy timeline, as :func:`policy_events` returns it.

    Returns
    -------
    pandas.DataFrame
        One row per year from the first event's to the last's: year, central measures, distinct
        lead bodies so far, restrictive measures in force.
    """
    central = events[events["level"] == "central"].copy()
    lead = central["actor"].map(lead_body)
    rows = []
    for year in range(int(events["year"].min()), int(events["year"].max()) + 1):
        this = central["year"] == year
        rows.append({
            "year": year,
            "central measures": int(this.sum()),
            "distinct lead bodies so far": int(lead[central["year"] <= year].nunique()),
            "restrictive measures in force": int(((central["year"] <= year) & (central["stance"] == "restrict")).sum()),
        })
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class FragmentationSummary:
    """The fragmentation table (:func:`fragmentation`) in the few numbers the policy page quotes:
    its last year, the distinct lead bodies so far and the restrictive measures in force then,
    and the year with most central measures (the first such year) with their number."""

    year: int
    bodies: int
    in_force: int
    busiest_year: int
    busiest_measures: int


def fragmentation_summary(fragmentation: pd.DataFrame) -> FragmentationSummary:
    """What the policy page quotes of :func:`fragmentation` (see :class:`FragmentationSummary`).

    Parameters
    ----------
    fragmentation : pandas.DataFrame
        The table :func:`fragmentation` returns.

    Returns
    -------
    FragmentationSummary
        Its last year's figures and its busiest year.
    """
    last = fragmentation.iloc[-1]
    return FragmentationSummary(
        year=int(last["year"]), bodies=int(last["distinct lead bodies so far"]),
        in_force=int(last["restrictive measures in force"]),
        busiest_year=int(fragmentation.loc[fragmentation["central measures"].idxmax(), "year"]),
        busiest_measures=int(fragmentation["central measures"].max()))


def lead_body(actor: str) -> str:
    """The body that leads a measure: the first actor named ("PBOC with MIIT, CBRC" -> PBOC;
    "CSRC (Science and Technology Regulation Bureau)" -> CSRC).

    Parameters
    ----------
    actor : str
        An event's ``actor`` field.

    Returns
    -------
    str
        The text before the first bracket, comma, semicolon, slash, " with " or " and ",
        stripped.
    """
    import re

    return re.split(r"\(|,|;| with | and |/", actor, maxsplit=1)[0].strip()


def is_official(source: str) -> bool:
    """Whether a source is an official (government) web page: a URL on a host of
    :data:`OFFICIAL_HOSTS` or one of their subdomains.

    Parameters
    ----------
    source : str
        One source: a URL or a ``cite:KEY``.

    Returns
    -------
    bool
        True for a URL whose host is an official host or a subdomain of one.
    """
    if not source.startswith(("http://", "https://")):
        return False
    host = source.split("/")[2].lower()
    return any(host == h or host.endswith("." + h) for h in OFFICIAL_HOSTS)


def source_parts(source: str) -> list[str]:
    """A ``source`` field's sources, in the order the page lists them: official pages first
    (:func:`is_official`), then the rest in the file's order.

    Parameters
    ----------
    source : str
        The field: URLs and ``cite:KEY`` citations separated by ``|``.

    Returns
    -------
    list of str
        The sources, trimmed, official ones first.
    """
    parts = [p.strip() for p in str(source).split("|") if p.strip()]
    return sorted(parts, key=lambda p: not is_official(p))


def cited_keys(frame: pd.DataFrame, column: str = "source") -> list[str]:
    """The bibliography keys a table's source column cites (``cite:KEY``), each once.

    Parameters
    ----------
    frame : pandas.DataFrame
        A fact table.
    column : str
        Its source column.

    Returns
    -------
    list of str
        The keys (without ``cite:``), in order of first appearance.
    """
    keys = [p.removeprefix(CITE_PREFIX) for s in frame[column] for p in source_parts(s) if p.startswith(CITE_PREFIX)]
    return list(dict.fromkeys(keys))


def events_table(events: pd.DataFrame) -> pd.DataFrame:
    """Every event for the page: date, level, actor, stance, summary and its sources (the
    ``source`` field's `` | ``-separated URLs and ``cite:KEY`` citations, trimmed, official pages
    first (:func:`source_parts`), joined again by `` | ``).

    Parameters
    ----------
    events : pandas.DataFrame
        The policy timeline, as :func:`policy_events` returns it.

    Returns
    -------
    pandas.DataFrame
        Columns date, level, actor, stance, summary, source; in the order of ``events``.
    """
    out = events[["date", "level", "actor", "stance", "summary"]].copy()
    out["source"] = events["source"].map(lambda s: " | ".join(source_parts(s)))
    return out.reset_index(drop=True)
