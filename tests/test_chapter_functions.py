"""The functions the chapters call (analysis/chapters/): what they return is what they wrote, and
the small helpers they use."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from analysis.chapters import city, context, dataset
from analysis.data import corpus as corpus_io
from analysis.present import prose, tables


def test_shown_firms_lists_every_firm_up_to_the_limit_then_the_first_by_city_and_name():
    firms = pd.DataFrame({"company_id": ["1", "2", "3"], "name": ["Zed", "Alpha", "Beta"],
                          "city": ["Shenzhen", "Shanghai", "Beijing"], "founded_year": ["2018", "", "2015"],
                          "description": ["z", "a", "b"]})
    all_of_them = dataset.shown_firms(firms, max_shown=3)
    assert list(all_of_them.columns) == ["name", "city", "founded", "description"]
    assert list(all_of_them["name"]) == ["Zed", "Alpha", "Beta"]  # the table's own order
    cut = dataset.shown_firms(firms, max_shown=2)
    assert list(cut["name"]) == ["Beta", "Alpha"]  # Beijing before Shanghai


def test_the_firm_list_note_speaks_only_when_the_list_is_cut():
    assert prose.firm_list_note(197, 197) == ""
    note = prose.firm_list_note(30000, 2000)
    assert "30,000 firms" in note and "first 2,000" in note and "`firms.csv`" in note


def test_shares_as_percentages():
    shares = pd.DataFrame({"public": [0.12345, 1.0]}, index=["Beijing", "Shanghai"])
    assert tables.as_percent(shares)["public"].tolist() == [12.3, 100.0]


def _city_parameters(tmp_path, **over):
    return {"corpus_path": "", "website_snapshot": "", "tables_dir": str(tmp_path), "text_fields":
            ["description", "full_description", "website_text"], "coder": "", "min_df": 1, "top_n": 15,
            "keyness_adjust": "bh", "seed": 20220804, **over}


def test_a_city_chapter_returns_what_it_wrote_and_leaves_no_figure_open(tmp_path):
    plt.close("all")
    page = city.chapter("Shanghai", **_city_parameters(tmp_path, top_n=5))
    firms = corpus_io.load("").firms
    assert page.report.n_firms == int((firms["city"] == "Shanghai").sum())
    written = pd.read_csv(tmp_path / "keyness_shanghai.csv")
    assert len(written) == len(page.keyness_table) <= 2 * 5
    assert (tmp_path / "shanghai_examples.csv").exists()
    assert page.key_counts == tables.key_counts(page.report.keyness)
    assert plt.get_fignums() == []  # closed: the notebook shows them only where they are glued
    assert page.keyness_figure.axes and page.cloud_figure.axes


def test_a_city_chapter_takes_exactly_its_declared_parameters(tmp_path):
    with pytest.raises(TypeError):
        city.chapter("Beijing", **_city_parameters(tmp_path), alpha=0.05)


def test_the_context_chapter_counts_the_events_it_shows(tmp_path):
    page = context.chapter(tables_dir=str(tmp_path))
    events = page.events
    assert page.n_events == len(events) == len(page.full)
    assert page.n_restrict + page.n_support <= page.n_events
    assert page.first_year <= page.last_year
    assert page.n_marked_rows == len(pd.read_csv(tmp_path / "policy_events_marked.csv"))
