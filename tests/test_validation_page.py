"""What the validation chapter (book/09_validation.py) shows, computed by named functions of the
package: the rows and tables it picks from the simulation study and label recovery, the check-set
tables, and the confusion matrices it saves. Each on a tiny frame, against values by hand."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from analysis.chapters.validation import save_confusions
from analysis.method import validation
from analysis.method.convergence import PRIMARY_COMPARISON, PRIMARY_MEASURE
from analysis.present import prose
from analysis.text import checkset, checkset_scores

# --------------------------------------------------------------------- the simulation study


def test_primary_power_is_the_row_of_the_primary_measure_and_comparison():
    power = pd.DataFrame({"measure": ["centroid", PRIMARY_MEASURE, PRIMARY_MEASURE],
                          "comparison": [PRIMARY_COMPARISON, "Beijing − Shanghai", PRIMARY_COMPARISON],
                          "power": [0.1, 0.2, 0.9]})
    row = validation.primary_power(power)
    assert row.name == 2 and row["power"] == 0.9


def rates_frame():
    """Five worlds of rates_table: two without convergence, two threats, one convergence."""
    return pd.DataFrame({
        "world": ["no change", "national drift +0.25", "early firms die (0.5)", "incumbents pivot to the state (0.3)",
                  "convergence 1"],
        "kind": [validation.NO_CHANGE, validation.NATIONAL_DRIFT, validation.DEATHS, validation.PIVOT,
                 validation.CONVERGENCE],
        "planted gap slope": [0.0, 0.0, 0.0, 0.0, -2.5],
        "gap test": [0.05, 0.04, 0.10, 0.30, 0.80], "gap test MCSE": [0.011, 0.010, 0.015, 0.023, 0.020],
        "supports": [0.02, 0.03, 0.01, 0.20, 0.70], "supports MCSE": [0.007, 0.009, 0.005, 0.020, 0.023],
        "supports 95% upper": [0.04, 0.05, 0.03, 0.24, 0.74],
        "rules out": [0.50, 0.40, 0.60, 0.10, 0.00], "rules out MCSE": [0.025, 0.024, 0.024, 0.015, 0.0],
        "no convergence": [True, True, True, True, False]})


def test_null_worlds_are_the_worlds_without_convergence_but_not_the_threats():
    nulls = validation.null_worlds(rates_frame())
    assert list(nulls["world"]) == ["no change", "national drift +0.25"]
    assert list(nulls.index) == [0, 1]


def test_threats_table_keeps_the_threat_worlds_and_their_rates_renumbered():
    t = validation.threats_table(rates_frame())
    assert list(t.columns) == ["world", "gap test", "gap test MCSE", "supports", "supports MCSE", "rules out",
                               "rules out MCSE"]
    assert list(t.index) == [0, 1]
    assert list(t["world"]) == ["early firms die (0.5)", "incumbents pivot to the state (0.3)"]
    assert list(t["supports"]) == [0.01, 0.20] and list(t["rules out MCSE"]) == [0.024, 0.015]


def test_rates_shown_drop_the_sorting_columns_and_keep_the_table_name():
    rates = rates_frame()
    rates.attrs["table_name"] = "validation_rates"  # as tables.save leaves it: the caption is found by it
    shown = validation.rates_shown(rates)
    assert "kind" not in shown.columns and "no convergence" not in shown.columns
    assert list(shown.columns) == ["world", "planted gap slope", "gap test", "gap test MCSE", "supports",
                                   "supports MCSE", "supports 95% upper", "rules out", "rules out MCSE"]
    assert shown.attrs["table_name"] == "validation_rates"
    assert "kind" in rates.columns  # the table itself is left as it was

# --------------------------------------------------------------------- label recovery


def recovery_summary():
    rows = []
    f1 = {("a", "dictionary"): (0.91234, 0.88), ("b", "dictionary"): (0.8714, 0.9),
          ("a", "supervised"): (0.79444, 0.95), ("b", "supervised"): (0.8, 0.81)}
    for (bank, coder), (app, cust) in f1.items():
        rows += [{"phrasebank": bank, "dimension": "customer", "coder": coder, "macro_f1": cust},
                 {"phrasebank": bank, "dimension": "application", "coder": coder, "macro_f1": app}]
    return pd.DataFrame(rows)


def test_macro_f1_table_one_row_per_dimension_one_column_per_coder_and_bank():
    wide = validation.macro_f1_table(recovery_summary())
    assert list(wide.index) == ["application", "customer"]
    assert list(wide.columns) == [("dictionary", "a"), ("dictionary", "b"), ("supervised", "a"), ("supervised", "b")]
    assert wide.loc["application", ("dictionary", "a")] == 0.912  # rounded to 3 digits
    assert wide.loc["application", ("supervised", "a")] == 0.794
    assert wide.loc["customer", ("supervised", "b")] == 0.81


def test_lowest_macro_f1_of_a_coder_on_a_bank_or_on_all():
    s = recovery_summary()
    assert validation.lowest_macro_f1(s, "dictionary", "b") == 0.8714
    assert validation.lowest_macro_f1(s, "dictionary") == 0.8714
    assert validation.lowest_macro_f1(s, "supervised") == 0.79444
    assert validation.lowest_macro_f1(s, "supervised", "b") == 0.8


def test_confusion_matrices_of_a_bank_and_coder_in_dimension_order():
    m = {key: pd.DataFrame({"x": [i]}) for i, key in enumerate(
        [("b", "geography", "dictionary"), ("b", "application", "dictionary"), ("a", "application", "dictionary"),
         ("b", "customer", "dictionary"), ("b", "customer", "supervised")])}
    recovery = validation.LabelRecovery(summary=pd.DataFrame(), confusion=m)
    got = validation.confusion_matrices(recovery, "b", "dictionary")
    assert list(got) == ["application", "customer", "geography"]
    assert [int(v["x"].iloc[0]) for v in got.values()] == [1, 3, 0]
    assert got["customer"] is m[("b", "customer", "dictionary")]
    assert list(validation.confusion_matrices(recovery, "b", "dictionary", dimensions=("customer",))) == ["customer"]


def test_save_confusions_names_and_writes_each_matrix(tmp_path):
    matrix = pd.DataFrame({"public": [3, 1], "private": [0, 2]}, index=["public", "private"])
    saved = save_confusions({"customer": matrix}, "check_set_fresh", "dictionary", tmp_path)
    assert saved["customer"] is matrix and matrix.attrs["table_name"] == "confusion_check_set_fresh_customer_dictionary"
    assert (tmp_path / "confusion_check_set_fresh_customer_dictionary.csv").read_text() == (
        ",public,private\npublic,3,0\nprivate,1,2\n")
    assert save_confusions({}, "b", "dictionary", tmp_path) == {}

# --------------------------------------------------------------------- the check sets


def test_kappa_table_stacks_the_sets_with_their_name_first():
    k1 = pd.DataFrame({"dimension": ["application", "customer"], "n": [6, 6], "kappa": [0.75, 1.0],
                       "agreement": [5 / 6, 1.0], "disagreements": [1, 0]})
    k2 = pd.DataFrame({"dimension": ["application"], "n": [4], "kappa": [0.5], "agreement": [0.75],
                       "disagreements": [1]})
    t = checkset.kappa_table({"check_set": k1, "check_set_fresh": k2})
    assert list(t.columns) == ["set", "dimension", "n", "kappa", "agreement", "disagreements"]
    assert list(t.index) == [0, 1, 2]
    assert list(t["set"]) == ["check_set", "check_set", "check_set_fresh"]
    assert list(t["kappa"]) == [0.75, 1.0, 0.5] and list(t["n"]) == [6, 6, 4]


def test_kappas_of_the_sets_found():
    tiny = Path(__file__).parent / "fixtures" / "check_set_tiny.csv"
    got = checkset.kappas({"tiny": tiny})
    assert list(got) == ["tiny"]
    assert got["tiny"].set_index("dimension").loc["application", "kappa"] == pytest.approx(0.75)  # as test_checkset
    assert checkset.kappas({}) == {}


def check_set_figures():
    """Figures of checkset_scores.figures: one set, the dictionary and the supervised coder, two
    languages (zh before all, to see the order kept), three dimensions."""
    rows = []
    acc = {("dictionary", "zh"): (0.66666, 0.5, 1.0), ("dictionary", "all"): (0.83333, 0.75, 0.91666),
           ("supervised", "zh"): (0.33333, 1.0, 0.5), ("supervised", "all"): (0.5, 0.5, 0.5)}
    n = {"zh": 3, "all": 12}
    for (coder, lang), values in acc.items():
        how = "codebook" if coder == "dictionary" else "5-fold cross-validation"
        for dim, a in zip(("geography", "application", "customer"), values):
            rows.append({"set": "s", "coder": coder, "evaluation": how, "held_out": False, "language": lang,
                         "dimension": dim, "n": n[lang], "accuracy": a,
                         "abstention": round(1 - a, 5) if coder == "dictionary" else 0.0})
    return pd.DataFrame(rows)


def test_accuracy_table_per_set_coder_evaluation_and_language_in_order():
    t = checkset_scores.accuracy_table(check_set_figures())
    assert list(t.index.names) == ["set", "coder", "evaluation", "language"]
    assert [i[1:] for i in t.index] == [("dictionary", "codebook", "zh"), ("dictionary", "codebook", "all"),
                                        ("supervised", "5-fold cross-validation", "zh"),
                                        ("supervised", "5-fold cross-validation", "all")]
    assert list(t.columns) == ["n", "application", "customer", "geography"]
    assert list(t["n"]) == [3, 12, 3, 12]
    assert list(t.loc[("s", "dictionary", "codebook", "all")]) == [12, 0.75, 0.917, 0.833]
    assert list(t["geography"]) == [0.667, 0.833, 0.333, 0.5]


def test_abstention_table_of_the_dictionary_only():
    t = checkset_scores.abstention_table(check_set_figures())
    assert list(t.index) == [("s", "zh"), ("s", "all")]
    assert list(t.columns) == ["geography", "application", "customer"]  # as the figures list them
    assert list(t.loc[("s", "zh")]) == [0.333, 0.5, 0.0]
    assert list(t.loc[("s", "all")]) == [0.167, 0.25, 0.083]

# --------------------------------------------------------------------- this corpus


def test_coder_checks_note_names_the_reasons_escaped():
    note = prose.coder_checks_note(["no truth_* columns", "no data/coding_sample.csv"])
    assert note.startswith(":::{note}\nLabel recovery on this corpus needs truth columns or a hand-coded sample")
    assert note.endswith("). The simulation study above does not depend on it.\n:::")
    assert "(no truth\\_\\* columns; no data\\/coding\\_sample\\.csv)" in note
