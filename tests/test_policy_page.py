"""What the policy page (10) quotes, computed by the package instead of its cells: the shares
per city as percentages and the few numbers of the fragmentation table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.data import facts
from analysis.present import tables


def test_policy_percentages_by_city():
    evidence = pd.DataFrame({"city": ["Beijing", "Shanghai", "Shenzhen"], "firms": [110, 53, 0],
                             "public": [0.7, 0.5094, np.nan], "crypto": [0.0818, 0.125, np.nan],
                             "state_investor": [0.6455, 0.0, np.nan]})
    shown = tables.policy_percentages(evidence)
    assert list(shown.index) == ["Beijing", "Shanghai", "Shenzhen"]
    assert list(shown.columns) == ["public", "crypto", "state_investor"]
    assert shown.loc["Beijing"].tolist() == ["70%", "8%", "65%"]
    assert shown.loc["Shanghai"].tolist() == ["51%", "12%", "0%"]  # 12.5 rounds to even
    assert shown.loc["Shenzhen"].tolist() == ["n/a", "n/a", "n/a"]  # no firm: no share


def test_fragmentation_summary_last_year_and_busiest_year():
    frag = pd.DataFrame({"year": [2019, 2020, 2021],
                         "central measures": [2, 5, 5],
                         "distinct lead bodies so far": [1, 3, 4],
                         "restrictive measures in force": [0, 2, 3]})
    summary = facts.fragmentation_summary(frag)
    assert summary == facts.FragmentationSummary(year=2021, bodies=4, in_force=3, busiest_year=2020,
                                                 busiest_measures=5)  # a tie: the first busiest year
    assert all(type(v) is int for v in vars(summary).values())


def test_fragmentation_summary_of_the_shipped_timeline():
    events = facts.policy_events()
    summary = facts.fragmentation_summary(facts.fragmentation(events))
    central = events[events["level"] == "central"]
    assert summary.year == int(events["year"].max())
    assert summary.busiest_measures == int(central["year"].value_counts().max())
    assert summary.in_force == int((central["stance"] == "restrict").sum())
