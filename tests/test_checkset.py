"""Check-set plumbing (analysis/text/checkset.py) on a tiny fixture written for these tests."""

from pathlib import Path

import pandas as pd
import pytest

from analysis.text import checkset, checkset_scores, classify

FIX = Path(__file__).parent / "fixtures"
TINY = FIX / "check_set_tiny.csv"


def test_load_valid_fixture():
    df = checkset.load(TINY)
    assert list(df.columns) == checkset.COLUMNS
    assert len(df) == 6 and set(df["language"]) == {"en", "zh", "mixed"}


def test_bad_code_names_file_row_and_column():
    with pytest.raises(checkset.CheckSetError) as err:
        checkset.load(FIX / "check_set_bad_code.csv")
    msg = str(err.value)
    assert "check_set_bad_code.csv" in msg and "data row 2" in msg and "'b2'" in msg
    assert "column geography" in msg and "'national'" in msg


def test_bad_language_and_missing_column(tmp_path):
    with pytest.raises(checkset.CheckSetError, match=r"data row 1 .*column language: 'fr'"):
        checkset.load(FIX / "check_set_bad_language.csv")
    df = pd.read_csv(TINY, dtype=str).drop(columns=["customer_coder2"])
    p = tmp_path / "no_col.csv"
    df.to_csv(p, index=False)
    with pytest.raises(checkset.CheckSetError, match=r"no_col.csv: missing column\(s\) \['customer_coder2'\]"):
        checkset.load(p)


def test_duplicate_id_and_empty_text(tmp_path):
    df = pd.read_csv(TINY, dtype=str)
    df.loc[3, "id"] = "t01"
    p = tmp_path / "dup.csv"
    df.to_csv(p, index=False)
    with pytest.raises(checkset.CheckSetError, match="data row 4 .*duplicate of data row 1"):
        checkset.load(p)
    df = pd.read_csv(TINY, dtype=str)
    df.loc[1, "text"] = "  "
    df.to_csv(p, index=False)
    with pytest.raises(checkset.CheckSetError, match="data row 2 .*column text: empty text"):
        checkset.load(p)


def test_kappa_against_hand_computation():
    k = checkset.kappa(checkset.load(TINY)).set_index("dimension")
    # application: agreement 5/6, chance (2*3 + 2*2 + 2*1)/36 = 1/3 -> (5/6 - 1/3)/(2/3) = 0.75
    assert k.loc["application", "kappa"] == pytest.approx(0.75)
    # geography: agreement 5/6, chance (3*3 + 2*3 + 1*0)/36 = 15/36 -> 15/21
    assert k.loc["geography", "kappa"] == pytest.approx(15 / 21)
    assert k.loc["customer", "kappa"] == pytest.approx(1.0)
    assert k.loc["application", "disagreements"] == 1


def test_score_counts_none_and_tie_as_errors_per_language():
    check = checkset.load(TINY)
    pred = pd.DataFrame({
        "application_label": ["infrastructure", "tie", "finance", "none", "crypto", "finance"],
        "customer_label": check["customer"],
        "geography_label": ["domestic", "global", "global", "domestic", "global", "domestic"],
    })
    s = checkset.score(check, pred).summary.set_index(["language", "dimension"])
    assert s.loc[("all", "application"), "accuracy"] == pytest.approx(4 / 6)
    assert s.loc[("all", "application"), "abstained"] == 2
    assert s.loc[("all", "application"), "abstention"] == pytest.approx(2 / 6)
    assert s.loc[("en", "application"), "accuracy"] == pytest.approx(2 / 3)
    assert s.loc[("zh", "application"), "accuracy"] == pytest.approx(1 / 2)
    assert s.loc[("mixed", "application"), "n"] == 1
    assert s.loc[("all", "customer"), "accuracy"] == 1.0
    assert s.loc[("all", "geography"), "accuracy"] == pytest.approx(5 / 6)
    conf = checkset.score(check, pred).confusion["application"]
    assert conf.loc["crypto", "tie"] == 1 and conf.loc["infrastructure", "none"] == 1


def test_dictionary_score_is_the_coder_on_the_text():
    check = checkset.load(TINY)
    sc = checkset_scores.score_dictionary(check)
    coded = classify.code_firms(checkset.as_firms(check), ["text"])
    for dim in checkset.DIMENSIONS:
        want = (coded[f"{dim}_label"].to_numpy() == check[dim].to_numpy()).mean()
        got = sc.summary.query("language == 'all' and dimension == @dim")["accuracy"].iloc[0]
        assert got == pytest.approx(want)


def test_figures_mark_the_fresh_set_held_out(tmp_path):
    check = checkset.load(TINY)
    fresh = tmp_path / "fresh.csv"
    check.to_csv(fresh, index=False)
    fig = checkset_scores.figures(seed=1, paths={"check_set": TINY, "check_set_fresh": fresh}, folds=2)
    held = fig.groupby("set")["held_out"].first()
    assert not held["check_set"] and held["check_set_fresh"]
    hows = set(fig.loc[fig["set"] == "check_set_fresh", "evaluation"])
    assert "trained on check_set" in hows
    only = checkset_scores.figures(seed=1, paths={"check_set": TINY, "check_set_fresh": tmp_path / "x.csv"},
                            folds=2)
    assert only["held_out"].all() and set(only["set"]) == {"check_set"}
    assert checkset_scores.figures(seed=1, paths={"a": tmp_path / "none.csv"}).empty
