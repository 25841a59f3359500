"""English glosses of Chinese terms (data/zh_glosses.csv) and where they show."""

import re

import pandas as pd
import pytest

from analysis.data import simulate
from analysis.present import tables
from analysis.text import preprocess

HAN = re.compile("[\u4e00-\u9fff]")


def test_with_gloss():
    assert preprocess.with_gloss("钱包") == "钱包 (wallet)"
    assert preprocess.with_gloss("wallet") == "wallet"
    assert preprocess.gloss("wallet") is None


@pytest.mark.parametrize("bank", ["a", "b"])
def test_every_chinese_term_the_simulator_writes_is_glossed(bank):
    firms = simulate.simulate(phrasebank=bank, n_per_city=(60, 60, 60))
    terms = {t for doc in firms["website_text"].dropna() for t in preprocess.tokenize(doc, "zh")
             if HAN.search(t)}
    missing = sorted(t for t in terms if preprocess.gloss(t) is None)
    assert terms and not missing


def test_bad_gloss_file_names_row_and_column(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("term,gloss\n钱包,wallet\n矿机,\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"g.csv: data row 2 \(矿机\), column gloss: empty gloss"):
        preprocess.zh_glosses(p)
    p.write_text("term,gloss\n钱包,wallet\n钱包,purse\n", encoding="utf-8")
    with pytest.raises(ValueError, match="data row 2, column term: '钱包' glossed twice"):
        preprocess.zh_glosses(p)
    p.write_text("word,meaning\n钱包,wallet\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header must be 'term,gloss'"):
        preprocess.zh_glosses(p)


def test_key_term_table_carries_glosses():
    table = pd.DataFrame({"feature": ["钱包", "wallet"], "firms_target": [3, 2], "firms_reference": [1, 1],
                          "log_ratio": [1.5, 1.0], "p": [0.01, 0.02], "q": [0.02, 0.02],
                          "chi2": [5.0, 3.0], "q_chi2": [0.02, 0.04], "n_target": [3, 2], "n_reference": [1, 1]})
    shown = tables.keyness_display(table)
    assert list(shown["gloss"]) == ["wallet", ""]


def test_dictionary_terms_are_in_jiebas_list_so_segmentation_does_not_depend_on_load_order():
    from analysis.text import classify

    d = classify.load_dictionary()
    han = {e.text for es in d.entries.values() for e in es
           if HAN.fullmatch(e.text[:1] or " ") and len(e.text) >= 2 and "*" not in e.text}
    assert han and not sorted(han - set(preprocess.zh_terms()))
