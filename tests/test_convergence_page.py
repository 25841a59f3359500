"""What the convergence page (08) takes from the package instead of computing it in its cells:
the year window, the primary decomposition and its paragraph, the weights and notes in words, the
columns shown of each table, the cohort figures; and the chapter function itself."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from analysis.method import convergence
from analysis.present import convergence_prose, convergence_tables, figures, prose

PRIMARY = "Beijing − Shanghai+Shenzhen"


def _decomposition_row(measure, comparison, others, gap_slope, others_move="towards", beijing_move="unclear"):
    return {"measure": measure, "comparison": comparison, "overall_gap": 0.3, "gap_slope": gap_slope,
            "gap_lo": gap_slope - 5.0, "gap_hi": gap_slope + 5.0, "beijing_slope": -2.0, "beijing_lo": -5.0,
            "beijing_hi": 1.0, "others": others, "others_slope": 8.0, "others_lo": 4.0, "others_hi": 12.0,
            "others_move": others_move, "beijing_move": beijing_move, "overshoot": False}


@pytest.fixture
def decomposition():
    return pd.DataFrame([
        _decomposition_row("infrastructure_share", PRIMARY, "Shanghai+Shenzhen", -1.0),
        _decomposition_row("public_share", "Beijing − Shanghai", "Shanghai", -20.0),
        _decomposition_row("public_share", PRIMARY, "Shanghai+Shenzhen", -10.0),
    ])


def test_year_window_is_first_edge_to_last_edge_minus_one():
    assert convergence.year_window([2014, 2017, 2020, 2023]) == (2014, 2022)
    assert convergence.year_window((2015, 2016)) == (2015, 2015)
    assert all(isinstance(y, int) for y in convergence.year_window(["2014", "2020"]))
    with pytest.raises(ValueError, match="strictly increasing"):
        convergence.year_window([2020, 2014])


def test_primary_rows_are_the_public_share_against_the_two_cities_pooled(decomposition):
    main = convergence.primary_rows(decomposition)
    assert list(main.index) == [2]
    assert main.iloc[0]["gap_slope"] == -10.0
    assert convergence.primary_rows(decomposition.iloc[:2]).empty


def test_decomposition_paragraph_reads_the_primary_row(decomposition):
    row = pd.Series({"reason": "", "decision": "inconclusive"})
    assert convergence_prose.decomposition_paragraph(decomposition, row) == (
        "With founding year, the gap changed by -10.0 points a year (95% interval -15.0 to -5.0): "
        "Shanghai+Shenzhen's share by +8.0 points a year (95% interval +4.0 to +12.0) and Beijing's by "
        "-2.0 points a year (95% interval -5.0 to +1.0). Shanghai+Shenzhen moved towards Beijing; Beijing's "
        "own change is within noise.")


def test_decomposition_paragraph_says_why_there_is_none(decomposition):
    no_beijing = pd.Series({"reason": "no_beijing"})
    expected = ("No decomposition: the corpus has no Beijing firm with a founding year inside the cohorts, so "
                "there is no Beijing to converge on and no gap to measure.")
    assert convergence_prose.decomposition_paragraph(decomposition, no_beijing) == expected
    # no primary row: the reason of the primary decision, whatever it is
    few = pd.Series({"reason": "few_cohorts"})
    assert convergence_prose.decomposition_paragraph(decomposition.iloc[:2], few) == (
        "No decomposition: fewer than two cohorts have an estimate, so there is no trend to test.")


def test_weights_and_notes_in_words():
    assert convergence_prose.weights_text({"Shanghai": 0.6, "Shenzhen": 0.4}) == "Shanghai 0.60, Shenzhen 0.40"
    assert convergence_prose.weights_text({"Shanghai": 2 / 3}) == "Shanghai 0.67"
    assert convergence_prose.weights_text({}) == ""
    assert convergence_prose.notes_list(["3 firms lack a year.", "a_b"]) == "- 3 firms lack a year\\.\n- a\\_b"
    assert convergence_prose.notes_list([]) == ""


def test_shown_displays_only_a_text_there_is():
    assert prose.shown("") == []
    (only,) = prose.shown("- a note")
    assert only.data == "- a note"


def _named(df: pd.DataFrame, name: str) -> pd.DataFrame:
    df.attrs["table_name"] = name
    return df


def test_tables_shown_keep_the_listed_columns_and_the_name():
    cases = [
        (convergence_tables.decomposition_shown, convergence_tables.DECOMPOSITION_COLUMNS, "convergence_decomposition"),
        (convergence_tables.corrected_shown, convergence_tables.CORRECTED_COLUMNS, "convergence_corrected"),
        (convergence_tables.verdict_shown, convergence_tables.VERDICT_COLUMNS, "verdict"),
        (convergence_tables.misspecified_shown, convergence_tables.MISSPECIFIED_COLUMNS,
         "convergence_power_misspecified"),
    ]
    for shown, columns, name in cases:
        full = _named(pd.DataFrame([[i for i in range(len(columns) + 1)]], columns=["extra", *columns[::-1]]), name)
        out = shown(full)
        assert list(out.columns) == columns
        assert out.attrs["table_name"] == name
        values = list(range(len(columns), 0, -1))
        if name == "convergence_decomposition":  # the overshoot cell is words (overshoot_words)
            assert out["overshoot"].iloc[0] in ("yes", "no", "crosses zero, within noise")
            out, values = out.drop(columns="overshoot"), values[:-1]
        assert out.iloc[0].tolist() == values  # values follow their columns
    assert convergence_tables.DECOMPOSITION_COLUMNS[:3] == ["measure", "comparison", "gap_slope"]
    assert len(convergence_tables.VERDICT_COLUMNS) == 22


def test_rates_shown_drops_kind_and_no_convergence():
    rates = _named(pd.DataFrame({"world": ["no change", "full"], "kind": ["no change", "convergence"],
                                 "supports": [0.03, 0.24], "no convergence": [True, False]}), "convergence_rates")
    out = convergence_tables.rates_shown(rates)
    assert list(out.columns) == ["world", "supports"]
    assert out["supports"].tolist() == [0.03, 0.24]
    assert out.attrs["table_name"] == "convergence_rates"


def _gap_table():
    return pd.DataFrame({
        "measure": ["public_share", "public_share", "public_share", "infrastructure_share"],
        "comparison": [PRIMARY, PRIMARY, "Beijing − Shanghai", PRIMARY],
        "cohort": ["2014–2017", "2018–2022", "2014–2017", "2014–2017"],
        "estimate": [0.5, 0.1, 0.4, 0.2], "lo": [0.2, -0.2, 0.1, 0.0], "hi": [0.8, 0.3, 0.7, 0.4],
    })


def test_gap_lines_name_the_compared_city():
    lines = figures.gap_lines(_gap_table())
    assert lines["city"].tolist() == ["Shanghai+Shenzhen", "Shanghai+Shenzhen", "Shanghai"]
    assert set(lines["measure"]) == {"gap"}
    assert lines["estimate"].tolist() == [0.5, 0.1, 0.4]
    assert figures.gap_lines(_gap_table(), "infrastructure_share")["estimate"].tolist() == [0.2]


def test_cohort_figures_one_per_measure_with_its_axis():
    rows = []
    for measure in convergence.MEASURES:
        for city in ("Beijing", "Shanghai", "Shenzhen"):
            for k, cohort in enumerate(["2014–2017", "2018–2022"]):
                rows.append({"measure": measure, "city": city, "cohort": cohort, "estimate": 0.3 + 0.1 * k,
                             "lo": 0.2, "hi": 0.5, "n": 10, "n_compared": 10})
    made = figures.cohort_figures(pd.DataFrame(rows), _gap_table(), simulated=True)
    try:
        assert list(made) == ["public_share", "public_gap", "infrastructure_share", "cosine_to_beijing",
                              "distinctiveness"]
        assert all(isinstance(f, Figure) for f in made.values())
        gap = made["public_gap"].axes[0]
        assert gap.get_ylim() == (-1, 1)
        assert gap.get_ylabel() == "Beijing's share minus the city's"
        assert [t.get_text() for t in gap.get_legend().get_texts()] == ["Shanghai", "Shanghai+Shenzhen"]
        assert made["cosine_to_beijing"].axes[0].get_ylim() == (0, 1.6)
        public = made["public_share"].axes[0]
        assert [line.get_ydata().tolist() for line in public.get_lines()][:1] == [[0.3, 0.4]]
    finally:
        for f in made.values():
            figures.close(f)


@pytest.mark.slow
def test_chapter_returns_its_tables_and_closed_figures(tmp_path):
    """The chapter function at small settings: every table written, figures closed (a figure left
    open would show a second time at the end of the notebook's cell), the window from the edges,
    and the verdict the policy chapter states."""
    from analysis.chapters import convergence as chapter_convergence
    from analysis.chapters import policy

    params = dict(corpus_path="", website_snapshot="", tables_dir=str(tmp_path), text_fields=["description"],
                  coder="", seed=1, cohort_edges=[2014, 2018, 2023], n_subsamples=1, n_boot=0, n_perm=0,
                  n_perm_shares=0, alpha=0.05, equivalence_margin=3.0, replicates=2, text_replicates=0)
    before = set(plt.get_fignums())
    page = chapter_convergence.chapter(**params, n_perm_joint=100)
    assert set(plt.get_fignums()) == before
    assert list(page.figures) == [name for name, *_ in figures.COHORT_FIGURES] + ["curve_share"]
    assert len(page.curve.table) == 720 and page.curve.test["n_perm"].tolist() == [100, 100]
    assert (page.first_year, page.last_year) == (2014, 2022)
    assert page.row["primary"] and page.row.equals(page.result.primary_row())
    written = sorted(p.stem for p in tmp_path.glob("*.csv"))
    assert written == sorted(["convergence_power", "convergence_power_by_size", "convergence_rates", "verdict",
                              "convergence_by_cohort", "convergence_gaps", "convergence_trends",
                              "convergence_decomposition", "convergence_firms_per_cohort", "convergence_corrected",
                              "convergence_power_misspecified", "convergence_sensitivity", "specification_curve",
                              "specification_curve_test", "specification_curve_by_choice"])
    assert page.verdict_table.attrs["table_name"] == "verdict"
    assert page.sensitivity["change"].iloc[0] == "main specification"
    assert page.sensitivity["cohort_edges"].iloc[0] == "2014, 2018, 2023"
    assert isinstance(page.post_hoc, list)
    other = policy.chapter(**params)
    assert other.verdict.row["decision"] == page.row["decision"]
    assert math.isclose(other.verdict.row["estimate"], page.row["estimate"]) or (
        np.isnan(other.verdict.row["estimate"]) and np.isnan(page.row["estimate"]))
