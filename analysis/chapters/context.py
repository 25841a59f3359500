"""The policy context (02): the sourced policy events and the published firm counts (real facts
from ``data/``, not the simulated corpus)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from analysis.data import facts
from analysis.present import figures, tables


@dataclass
class ContextChapter:
    """What the context chapter shows.

    Attributes
    ----------
    events : pandas.DataFrame
        The policy events (:func:`analysis.data.facts.policy_events`).
    by_level, marked, full, counts : pandas.DataFrame
        The tables shown, as saved: stances per level of government, the events the timeline
        marks, every event, and the published firm counts per city.
    timeline : matplotlib.figure.Figure
        The policy timeline, closed (shown where the chapter glues it).
    n_events, first_year, last_year, n_restrict, n_support, n_central : int
        Events in all; the years of the first and the last; events that restrict, that support,
        and that the central government issued.
    n_marked_dates, n_marked_rows : int
        Dates the timeline marks, and the events on them.
    """

    events: pd.DataFrame
    by_level: pd.DataFrame
    marked: pd.DataFrame
    full: pd.DataFrame
    counts: pd.DataFrame
    timeline: Figure
    n_events: int
    first_year: int
    last_year: int
    n_restrict: int
    n_support: int
    n_central: int
    n_marked_dates: int
    n_marked_rows: int


def chapter(*, tables_dir: str = "") -> ContextChapter:
    """Compute the context chapter.

    Parameters
    ----------
    tables_dir : str
        Where its tables are written (filled in by the runner; empty: nowhere).

    Returns
    -------
    ContextChapter
        Its counts, tables (written to ``tables_dir``) and timeline.
    """
    events = facts.policy_events()
    marked = tables.save(facts.marked_events(events), "policy_events_marked", tables_dir)
    timeline = figures.policy_timeline(events, facts.MARKED)
    figures.close(timeline)  # the notebook shows an open figure at the end of the cell that made it
    return ContextChapter(
        events=events,
        by_level=tables.save(facts.stance_by_level(events), "policy_events_by_level", tables_dir),
        marked=marked,
        full=tables.save(facts.events_table(events), "policy_events", tables_dir),
        counts=tables.save(facts.city_counts(facts.external_counts()), "published_counts", tables_dir),
        timeline=timeline,
        n_events=len(events),
        first_year=int(events["year"].min()),
        last_year=int(events["year"].max()),
        n_restrict=int((events["stance"] == "restrict").sum()),
        n_support=int((events["stance"] == "support").sum()),
        n_central=int((events["level"] == "central").sum()),
        n_marked_dates=int(marked["date"].nunique()),
        n_marked_rows=len(marked))
