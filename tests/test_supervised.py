"""The supervised coder and the coder choice (analysis/text/classify.py)."""

from pathlib import Path

import pandas as pd
import pytest

from analysis.text import classify

FIX = Path(__file__).parent / "fixtures"


def _texts():
    crypto = [f"bitcoin wallet number {w}" for w in ("one", "two", "three", "four", "five", "six")]
    infra = [f"court evidence ledger for {w}" for w in ("judges", "clerks", "notaries", "archives",
                                                         "registries", "lawyers")]
    return crypto + infra, ["crypto"] * 6 + ["infrastructure"] * 6


def test_supervised_coder_learns_separable_texts():
    texts, labels = _texts()
    model = classify.SupervisedCoder.fit(texts, labels, seed=3)
    assert model.predict(["a bitcoin wallet", "an evidence ledger", "比特币"])[:2] == ["crypto", "infrastructure"]


def test_cross_validated_codes_are_out_of_fold_and_deterministic():
    texts, labels = _texts()
    a = classify.cross_validated_codes(texts, labels, seed=3, folds=3)
    assert a == labels  # the shared words separate the classes in every fold
    assert classify.cross_validated_codes(texts, labels, seed=3, folds=3) == a


def test_one_class_predicts_it():
    assert classify.SupervisedCoder.fit(["x", "y"], ["public", "public"]).predict(["z"]) == ["public"]


def test_code_with_supervised_needs_training_data(tmp_path):
    firms = pd.DataFrame({"company_id": ["a"], "description": ["wallets"], "full_description": [None]})
    with pytest.raises(ValueError, match="coder 'supervised' needs hand-coded texts"):
        classify.code_with(firms, ["description"], coder="supervised",
                           check_paths={"check_set": tmp_path / "none.csv"},
                           sample_path=tmp_path / "none_sample.csv")
    with pytest.raises(ValueError, match="coder must be one of dictionary, supervised"):
        classify.code_with(firms, ["description"], coder="magic")


def test_code_with_supervised_from_check_set_and_coding_sample(tmp_path):
    firms = pd.DataFrame({"company_id": ["f1", "f2", "f3"],
                          "description": ["A crypto wallet for users in forty countries.",
                                          "Court evidence software for judges.", ""],
                          "full_description": [None, None, None]})
    sample = tmp_path / "coding_sample.csv"
    sample.write_text("company_id,dimension,label,coder\nf1,application,crypto,x\n"
                      "f1,application,crypto,y\nf2,customer,public,x\n", encoding="utf-8")
    train = classify.supervised_training(firms, ["description"],
                                         check_paths={"check_set": FIX / "check_set_tiny.csv"},
                                         sample_path=sample)
    assert list(train["source"].value_counts().sort_index().items()) == [("check_set", 6), ("coding sample", 2)]
    got = classify.code_with(firms, ["description"], coder="supervised",
                             check_paths={"check_set": FIX / "check_set_tiny.csv"}, sample_path=sample)
    assert list(got.columns) == ["company_id", "application_label", "customer_label", "geography_label"]
    assert got.loc[2, "application_label"] == "none"  # no text at all
    assert set(got["customer_label"][:2]) <= {"public", "private"}


def test_default_coder_is_the_dictionary():
    firms = pd.DataFrame({"company_id": ["a"], "description": ["wallets"], "full_description": [None]})
    assert classify.DEFAULT_CODER == "dictionary"
    pd.testing.assert_frame_equal(classify.code_with(firms, ["description"]),
                                  classify.code_firms(firms, ["description"]))
