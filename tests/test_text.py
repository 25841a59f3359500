"""Tokens, document-term matrix, grouping and tf-idf (analysis/text/preprocess.py)."""

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from analysis.text import preprocess
from analysis.paths import ROOT


def test_stopword_list_is_the_175_word_snowball_list():
    sw = preprocess.stopwords("en")
    assert len(sw) == 175
    for w in ("i", "ought", "don't", "let's", "cannot", "will", "very", "the"):
        assert w in sw
    assert "blockchain" not in sw


def test_english_rules_like_quanteda():
    toks = preprocess.tokenize(
        "The firm\u2019s peer-to-peer ledger, founded in 2017, serves 1,000 banks (3.5% of them) "
        "and 5G, B2B and Web3.0 clients for $100. It's state-owned."
    )
    assert toks == ["firm's", "peer-to-peer", "ledger", "founded", "serves", "banks",
                    "5g", "b2b", "web3.0", "clients", "state-owned"]


def test_urls_and_emails_go_tags_stay():
    toks = preprocess.tokenize("Visit https://example.com/a?b=1 or www.example.cn, write to info@example.com "
                         "#DeFi @alice")
    assert toks == ["visit", "write", "#defi", "@alice"]


def test_dashes_between_words_separate_but_hyphens_join():
    assert preprocess.tokenize("Beijing\u2014Shanghai cross-border 2014\u20132016") == [
        "beijing", "shanghai", "cross-border"]


def test_stopwords_are_removed_as_whole_tokens_only():
    # "is" goes, but a word containing a stopword ("island", "is-land") stays
    assert preprocess.tokenize("Island is-land is") == ["island", "is-land"]


def test_domain_stoplist_is_optional():
    s = "Blockchain company offering ledger technology"
    assert preprocess.tokenize(s) == ["blockchain", "company", "offering", "ledger", "technology"]
    assert preprocess.tokenize(s, domain_stoplist=True) == ["offering", "ledger"]


def test_chinese_field_terms_stay_whole_and_stopwords_go():
    toks = preprocess.tokenize("我们为政府提供供应链金融和数字人民币服务以及智慧城市平台", "zh")
    for term in ("供应链金融", "数字人民币", "智慧城市", "政府"):
        assert term in toks
    assert "的" not in toks and "我们" not in toks and "和" not in toks


def test_auto_mixes_scripts_and_english_only_text_is_unchanged():
    mixed = preprocess.tokenize("区块链 platform for the 智慧城市, since 2019", "auto")
    assert mixed == ["区块链", "platform", "智慧城市", "since"]
    assert preprocess.tokenize("ledger for banks", "auto") == preprocess.tokenize("ledger for banks", "en")


def test_jieba_is_quiet_and_deterministic():
    code = ("from analysis.text.preprocess import tokenize; "
            "print('|'.join(tokenize('北京区块链公司服务政府和国有企业', 'zh')))")
    runs = [subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
            for _ in range(2)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stderr == ""
    assert runs[0].stdout == runs[1].stdout
    assert "区块链" in runs[0].stdout.split("|")


def test_bad_language_is_an_error():
    with pytest.raises(ValueError, match="language"):
        preprocess.tokenize("x", "fr")


def test_dtm_counts_and_first_occurrence_order():
    m, feats = preprocess.document_term_matrix(["Zeta alpha zeta", "beta ALPHA the", "", None])
    assert feats == ["zeta", "alpha", "beta"]
    assert sp.isspmatrix_csr(m)
    np.testing.assert_array_equal(m.toarray(), [[2, 1, 0], [0, 1, 1], [0, 0, 0], [0, 0, 0]])


def test_dtm_min_df_trims_by_document_frequency():
    m, feats = preprocess.document_term_matrix(["a1 a1 a1 b1", "b1 c1", "b1 c1"], min_df=2)
    assert feats == ["b1", "c1"]
    np.testing.assert_array_equal(m.toarray(), [[1, 0], [1, 1], [1, 1]])


def test_dtm_matches_tokenize():
    docs = ["Smart city services for government, 2020", "Crypto wallet and crypto exchange"]
    m, feats = preprocess.document_term_matrix(docs)
    for i, d in enumerate(docs):
        toks = preprocess.tokenize(d)
        row = m[i].toarray().ravel()
        assert {f: c for f, c in zip(feats, row) if c} == {t: toks.count(t) for t in toks}


def test_group_rows_sums_like_dfm_group():
    m = sp.csr_matrix(np.array([[1, 0], [2, 3], [0, 4], [5, 5]]))
    g, levels = preprocess.group_rows(m, ["S", "B", "S", None])
    assert levels == ["B", "S"]
    np.testing.assert_array_equal(g.toarray(), [[2, 3], [1, 4]])
    g2, levels2 = preprocess.group_rows(m, ["S", "B", "S", "B"], order=["S", "B"])
    np.testing.assert_array_equal(g2.toarray(), [[1, 4], [7, 8]])


def test_tfidf_is_count_times_log10_n_over_df():
    m = sp.csr_matrix(np.array([[2, 1], [0, 1], [0, 3], [1, 0]]))
    w = preprocess.tfidf(m).toarray()
    assert w[0, 0] == pytest.approx(2 * math.log10(4 / 2))
    assert w[2, 1] == pytest.approx(3 * math.log10(4 / 3))
    assert w[1, 0] == 0


def test_firm_texts_and_language():
    firms = pd.DataFrame({"description": ["A ledger", None, "Wallet"],
                          "full_description": ["for banks", "Mining rigs", None],
                          "website_text": ["区块链", None, None]})
    # the default fields are the brief's sources, website text included
    assert preprocess.firm_texts(firms) == ["A ledger for banks 区块链", "Mining rigs", "Wallet"]
    assert preprocess.firm_texts(firms, "description,full_description") == ["A ledger for banks", "Mining rigs", "Wallet"]
    assert preprocess.firm_texts(firms, "website_text") == ["区块链", "", ""]
    # nullable canonical text columns may be absent from a table; other fields may not
    assert preprocess.firm_texts(firms[["description"]]) == ["A ledger", "", "Wallet"]
    assert preprocess.text_language("description,full_description") == "en"
    assert preprocess.text_language(["description", "website_text"]) == "auto"
    with pytest.raises(ValueError, match="nonexistent"):
        preprocess.firm_texts(firms, ["nonexistent"])


def test_blocked_counting_equals_one_block(monkeypatch):
    docs = ["Ledger ledger for banks", "", "区块链溯源 and wallets", "wallets, wallets; 钱包", "banks"] * 7
    one, feats_one = preprocess.document_term_matrix(docs, language="auto", min_df=2)
    monkeypatch.setattr(preprocess, "_DTM_CHUNK", 3)
    many, feats_many = preprocess.document_term_matrix(iter(docs), language="auto", min_df=2)
    assert feats_one == feats_many and (one != many).nnz == 0
    assert many[3, feats_many.index("wallets")] == 2 and many.dtype == "int64"
