"""Presentation-layer assembly on small hand-made cases: Table 1, Figure 1 weights, shares,
the example-firm rule, the notices."""

from types import SimpleNamespace

import pandas as pd
import pytest

from analysis.present import prose, tables
from analysis.paths import DEFAULT_CORPUS


def _coded():
    # 4 Beijing firms, 2 Shanghai, 2 Shenzhen, with codes chosen by hand
    firms = pd.DataFrame({
        "company_id": [f"f{i}" for i in range(8)],
        "name": [f"Firm {i}" for i in range(8)],
        "city": ["Beijing"] * 4 + ["Shanghai"] * 2 + ["Shenzhen"] * 2,
        "founded_year": pd.array([2015, 2016, None, 2020, 2018, 2019, 2017, 2021], dtype="Int64"),
        "description": ["public ledger for bureaus", "government data platform", "public registry",
                        "bank settlement", "bank payments abroad", "insurance ledger",
                        "mining rigs worldwide", "token exchange"],
        "full_description": [None] * 8,
    })
    codes = pd.DataFrame({
        "application_label": ["infrastructure", "infrastructure", "infrastructure", "finance",
                              "finance", "finance", "crypto", "tie"],
        "customer_label": ["public", "public", "private", "public", "private", "private", "private", "none"],
        "geography_label": ["domestic", "domestic", "domestic", "mixed", "mixed", "global", "global", "global"],
        "investor_label": ["state", "state", "corporate", "state", "international_vc", "domestic_vc",
                           "domestic_vc", "domestic_vc"],
    })
    return tables.Coded(firms, codes)


def _keyness(terms):
    """A firm-level keyness table by hand (no q column: p decides)."""
    return pd.DataFrame({"feature": terms, "log_ratio": [2.0, 1.0, -1.0][: len(terms)],
                         "p": [0.001, 0.02, 0.3][: len(terms)], "firms_target": 1, "firms_reference": 1})


def test_modal_and_shares_by_hand():
    coded = _coded()
    modal = tables.modal(coded, "application")
    assert modal.loc["Beijing", "code"] == "infrastructure"
    assert modal.loc["Beijing", "share"] == pytest.approx(3 / 4)
    # Shenzhen: one crypto, one tie -> crypto with share 1/2 (the tie stays in the base)
    assert modal.loc["Shenzhen", "code"] == "crypto"
    assert modal.loc["Shenzhen", "share"] == pytest.approx(1 / 2)
    shares = tables.shares_by_city(coded, "application")
    assert shares.loc["tie (coder cannot decide)", "Shenzhen"] == pytest.approx(0.5)
    assert shares["Beijing"].sum() == pytest.approx(1.0)


def test_table1_compares_with_the_brief():
    coded = _coded()
    key = {"Beijing": _keyness(["public", "bureaus", "bank"]),
           "Shanghai": _keyness(["bank", "insurance"]), "Shenzhen": _keyness(["mining"])}
    t1 = tables.table1(coded, key, n_terms=2).set_index(["row", "city"])
    assert t1.loc[("Blockchain application", "Beijing"), "agree"] == "yes"
    assert t1.loc[("Type of customer base", "Beijing"), "corpus"] == "Public"
    assert t1.loc[("Type of customer base", "Beijing"), "share"] == pytest.approx(0.75)
    # Shanghai geography: mixed 1, global 1 -> a tie, shown and scored as a tie (the brief says mixed)
    assert t1.loc[("Geography of customer base", "Shanghai"), "corpus"] == "tie: Mixed / Global"
    assert t1.loc[("Geography of customer base", "Shanghai"), "agree"] == "tie"
    assert t1.loc[("Number of firms", "Beijing"), "corpus"] == "4"
    assert t1.loc[("Number of firms", "Beijing"), "agree"] == "no"  # 4 is not the brief's 110
    assert t1.loc[("Business focus (key terms)", "Beijing"), "corpus"] == "public; bureaus"
    assert t1.loc[("Business focus (key terms)", "Beijing"), "agree"] == "not tested"
    assert t1.loc[("Investor portrait", "Shenzhen"), "agree"] == "yes"
    wide = tables.table1_display(tables.table1(coded, key))
    assert wide.loc["Blockchain application", "Beijing"] == "Infrastructure and services (75%)"
    assert wide.loc["Geography of customer base", "Shanghai"] == "tie: Mixed / Global (50% each)"
    assert list(wide.columns) == ["Beijing", "Shanghai", "Shenzhen"]


def test_comparison_weights_give_each_term_to_its_strongest_city():
    key = {
        "Beijing": pd.DataFrame({"feature": ["ledger", "public"], "log_ratio": [0.5, 2.0], "p": [0.01, 0.02]}),
        "Shanghai": pd.DataFrame({"feature": ["ledger", "bank"], "log_ratio": [1.5, 1.0], "p": [0.01, 0.02]}),
        "Shenzhen": pd.DataFrame({"feature": ["ledger", "mining"], "log_ratio": [-1.0, 3.0], "p": 0.01}),
    }
    w = tables.comparison_weights(key).set_index("term")
    assert w.loc["ledger", "city"] == "Shanghai" and w.loc["ledger", "weight"] == 1.5  # the cloud sizes by log ratio
    assert w.loc["public", "city"] == "Beijing"
    assert len(w) == 4
    # each city keeps its n terms with the strongest evidence (its table's order), not the largest ratios
    one = tables.comparison_weights(key, n=1)
    assert dict(zip(one["city"], one["term"])) == {"Beijing": "public", "Shanghai": "ledger", "Shenzhen": "mining"}


def test_typical_firms_follow_the_stated_rule():
    coded = _coded()
    key = pd.DataFrame({"feature": ["public", "bureaus", "registry"], "log_ratio": [2.0, 1.0, 0.5],
                        "p": [0.001, 0.01, 0.5], "firms_target": 1, "firms_reference": 1})
    ex = tables.typical_firms(coded, "Beijing", key, k=2)
    # f0 matches all three modal codes and carries public+bureaus; f1 matches all three, no key term
    assert list(ex["name"]) == ["Firm 0", "Firm 1"]
    assert list(ex["codes matching the city's modal profile"]) == ["3 of 3", "3 of 3"]


def test_firms_per_city_and_coverage():
    coded = _coded()
    per_city = tables.firms_per_city(coded.firms).set_index("city")
    assert per_city.loc["all three", "firms"] == 8
    assert per_city.loc["Beijing", "brief (Crunchbase, May 2022)"] == 110
    cov = tables.text_coverage(coded.firms.assign(website_text=[None] * 7 + ["区块链 平台"])).set_index("city")
    assert cov.loc["Shenzhen", "with Chinese text"] == pytest.approx(0.5)
    assert cov.loc["Beijing", "words per description (median)"] == pytest.approx(2.5)  # 4, 3, 2, 2 words


def test_html_tables_escape_text_from_data():
    out = tables.html(pd.DataFrame({"name": ["<script>alert(1)</script>"]})).data
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_a_tie_that_excludes_the_brief_is_a_disagreement():
    coded = _coded()
    coded.codes.loc[6, "customer_label"] = "public"  # Shenzhen: public 1, private 0, none 1
    coded.codes.loc[7, "customer_label"] = "private"  # -> public 1, private 1: a tie with the brief's private
    m = tables.modal(coded, "customer").loc["Shenzhen"]
    assert m["code"] == "tie" and m["tied"] == ("public", "private")
    assert tables.agreement(m, "private") == "tie" and tables.agreement(m, "mixed") == "no"
    bj = tables.modal(coded, "customer").loc["Beijing"]
    assert tables.agreement(bj, "public") == "yes" and tables.agreement(bj, "private") == "no"


def test_prose_says_a_tie_is_a_tie():
    coded = _coded()
    key = {c: _keyness(["public", "bureaus", "bank"]) for c in ("Beijing", "Shanghai", "Shenzhen")}
    report = tables.city_report(coded, "Shanghai", key)
    text = prose.city_findings(report)
    assert "tied between *Mixed* and *Global* (50% each" in text
    assert "a tie that includes the brief's *Mixed*" in text
    assert "most often *Mixed*" not in text


def _tfidf_firms(texts_by_city):
    rows = [(c, t) for c, ts in texts_by_city.items() for t in ts]
    return pd.DataFrame({"company_id": [f"f{i}" for i in range(len(rows))], "city": [c for c, _ in rows],
                         "description": [t for _, t in rows], "full_description": [None] * len(rows)})


def test_group_similarity_is_one_for_identical_proportions_and_zero_for_disjoint():
    # Beijing and Shanghai use the shared vocabulary in the same proportions (Shanghai twice
    # as much); Shenzhen shares no term with either.
    firms = _tfidf_firms({
        "Beijing": ["ledger ledger platform", "registry platform"],
        "Shanghai": ["ledger ledger platform", "registry platform", "ledger ledger platform",
                     "registry platform"],
        "Shenzhen": ["mining rigs", "token exchange"],
    })
    sim = tables.group_similarity(firms, ["description"])
    assert sim.loc["Beijing", "Shanghai"] == pytest.approx(1.0)
    assert sim.loc["Beijing", "Shenzhen"] == pytest.approx(0.0)
    assert sim.loc["Shanghai", "Shenzhen"] == pytest.approx(0.0)
    # a term all three cities use still counts: partial overlap gives a value strictly between
    firms = _tfidf_firms({"Beijing": ["ledger platform", "ledger"], "Shanghai": ["ledger bank", "bank"],
                          "Shenzhen": ["mining", "rigs"]})
    sim = tables.group_similarity(firms, ["description"])
    assert 0 < sim.loc["Beijing", "Shanghai"] < 1


def test_focus_row_sets_apart_terms_that_do_not_survive():
    coded = _coded()
    k = pd.DataFrame({"feature": ["public", "bureaus", "ledger", "bank"], "log_ratio": [2.0, 1.5, 1.0, -1.0],
                      "p": [0.001, 0.02, 0.03, 0.3], "q": [0.004, 0.04, 0.06, 0.4],
                      "firms_target": 1, "firms_reference": 1})
    key = {"Beijing": k, "Shanghai": k.assign(q=0.5), "Shenzhen": k}
    t1 = tables.table1(coded, key, n_terms=3).set_index(["row", "city"])
    assert t1.loc[("Business focus (key terms)", "Beijing"), "corpus"] == (
        "public; bureaus (top terms not surviving: ledger)")
    assert t1.loc[("Business focus (key terms)", "Shanghai"), "corpus"].startswith(
        "no term survives the correction (top terms not surviving: public; bureaus; ledger)")
    assert tables.top_terms(k, 5) == ["public", "bureaus"]
    assert tables.key_counts(k) == {"uncorrected": 3, "survive": 2}
    w = tables.comparison_weights({"Beijing": k, "Shanghai": k.assign(log_ratio=-k["log_ratio"]),
                                   "Shenzhen": k.assign(log_ratio=-k["log_ratio"])}).set_index("term")
    assert w.loc["public", "survives"] and not w.loc["ledger", "survives"]


def test_key_terms_sentences_say_how_many_survive():
    k = pd.DataFrame({"feature": ["a", "b", "c"], "log_ratio": [2.0, 1.0, 0.5], "p": [0.001, 0.02, 0.03],
                      "q": [0.003, 0.03, 0.06]})
    firm_test = "by the one-sided Fisher test on the number of firms using each term"
    assert prose.key_terms_sentence(k, "Beijing").startswith(
        f"2 of the 3 terms with p < 0.05 in Beijing {firm_test} survive")
    none = prose.key_terms_sentence(k.assign(q=0.2), "Shenzhen")
    assert "**No term survives**" in none and "3 terms would pass" in none
    raw = prose.key_terms_sentence(k.assign(q=k["p"]), "Shanghai", adjust="none")
    assert raw.startswith(f"3 terms are over-used by Shanghai's firms at p < 0.05 {firm_test}, with no correction")
    assert "chi-squared" not in raw  # a table without the token columns gets no comparison


def test_key_terms_sentence_compares_the_token_test_from_the_numbers():
    k = pd.DataFrame({"feature": ["a", "b", "c", "d"], "log_ratio": [2.0, 1.0, 0.5, -1.0],
                      "p": [0.001, 0.02, 0.03, 0.9], "q": [0.003, 0.06, 0.06, 0.9],
                      "chi2": [12.0, 9.0, -8.0, 7.0], "q_chi2": [0.01, 0.02, 0.01, 0.04]})
    assert tables.key_counts(k) == {"uncorrected": 3, "survive": 1, "chi2": 3, "chi2_and_firm": 1}
    text = prose.key_terms_sentence(k, "Beijing")
    assert "quanteda's token-level chi-squared" in text
    assert "would call 3 terms over-used at q < 0.05; 1 of them also passes the firm-level test." in text
    one = prose.key_terms_sentence(k.assign(chi2=[-1.0, -1.0, -1.0, 7.0]), "Beijing")
    assert "would call 1 term over-used at q < 0.05; it does not pass the firm-level test." in one
    zero = prose.key_terms_sentence(k.assign(q_chi2=0.5), "Beijing")
    assert zero.endswith("would call 0 terms over-used at q < 0.05.")


def test_notices_say_which_corpus(tmp_path):
    firms = pd.DataFrame({"city": ["Beijing"] * 3})
    simulated = SimpleNamespace(firms=firms, path=DEFAULT_CORPUS, simulated=True)
    assert "not a finding about China" in prose.corpus_notice(simulated)
    mine = tmp_path / "export <1>.csv"
    mine.write_text("x\n")
    real = SimpleNamespace(firms=firms, path=mine, simulated=False, source_kind="crunchbase")
    note = prose.corpus_notice(real)
    assert "Simulated" not in note and "3 firms" in note and "`export <1>.csv`" in note
    t1 = pd.DataFrame({"row": ["Blockchain application"], "city": ["Shenzhen"], "agree": ["no"]})
    assert "by construction" in prose.agreement_note(simulated, t1)
    assert "by construction" not in prose.agreement_note(real, t1)
    assert "Shenzhen, blockchain application" in prose.agreement_note(real, t1)


def test_code_names_in_headings_and_measure_cells_read_as_words():
    df = pd.DataFrame({"measure": ["public_share", "cosine_to_beijing"], "gap_slope": [-0.25, 0.1],
                       "beijing_lo": [-0.2, 0.0]})
    heads, rows, numeric = tables.display_frame(df)
    assert heads == ["measure", "gap change per year", "Beijing's, 95% low"]
    assert [r[0] for r in rows] == ["public-customer share", "cosine similarity to Beijing"]
    assert numeric == [False, True, True] and rows[0][1] == "-0.25"


def test_pivot_headings_read_as_words_not_tuples():
    wide = pd.DataFrame({"dimension": ["customer"], "coder": ["dictionary"], "phrasebank": ["a"],
                         "macro_f1": [0.9]}).pivot_table(index="dimension", columns=["coder", "phrasebank"],
                                                         values="macro_f1")
    heads, rows, _ = tables.display_frame(wide, index=True)
    assert heads == ["dimension", "dictionary, a"]
    assert rows == [["customer", "0.9"]]


def test_keyness_display_and_bars_show_the_firm_level_test_with_chi2_beside_it():
    import numpy as np

    from analysis.present import figures
    from analysis.text import keyness as kn

    counts = np.array([[3, 0, 1, 0], [2, 1, 1, 0], [1, 0, 0, 1], [0, 1, 1, 1], [0, 1, 0, 1], [0, 0, 1, 1]])
    target = np.array([True, True, True, False, False, False])
    table = kn.keyness_table(counts, target, ["state", "bank", "ledger", "token"])
    shown = tables.keyness_display(table, n=10)
    assert list(shown.columns) == ["term", "gloss", "firms in city", "firms in other two", "log2 ratio",
                                   "p (firms)", "q (firms)", "key", "chi2 (tokens)", "q (chi2)",
                                   "count in city", "count in other two", "rank by chi2"]
    assert list(shown["term"]) == list(table.loc[table["log_ratio"] > 0, "feature"])  # firm-level order
    ranks = dict(zip(shown["term"], shown["rank by chi2"]))
    assert ranks["state"] == 1  # the largest chi2 of all terms
    fig = figures.keyness_bars(table, "Beijing", n=3)
    ax = fig.axes[0]
    assert "log2 ratio" in ax.get_xlabel()
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    assert widths == sorted(round(x, 6) for x in table["log_ratio"] if x != 0)
    figures.close(fig)


def test_a_simulated_cell_that_takes_beijing_s_value_is_called_the_planted_convergence():
    coded = _coded()
    coded.codes.loc[[6, 7], "customer_label"] = "public"  # Shenzhen's firms coded public, as Beijing's
    key = {c: _keyness(["public", "bureaus", "bank"]) for c in ("Beijing", "Shanghai", "Shenzhen")}
    report = tables.city_report(coded, "Shenzhen", key)
    m = report.modal["customer"]
    assert tables.agreement(m, "private") == "no" and m["code"] == "public"
    planted = prose.city_findings(report, simulated=True)
    assert "Beijing's value in the brief: the planted convergence (†)" in planted
    assert planted.count("This is the convergence planted in this simulated corpus") == 1
    assert "planted" not in prose.city_findings(report, simulated=False)
    assert "planted" not in prose.city_findings(tables.city_report(coded, "Beijing", key), simulated=True)


def test_agreement_is_counted_apart_for_text_investor_and_count_cells():
    long = pd.DataFrame({
        "row": [tables.ROW_NAMES[r] for r in ("application", "customer", "geography", "business_type",
                                              "firms", "focus", "investor") for _ in range(3)],
        "agree": ["yes", "no", "tie", "yes", "yes", "no", "no", "no", "yes", "yes", "no", "no",
                  "yes", "yes", "yes", "not tested", "not tested", "not tested", "yes", "yes", "yes"]})
    counts = tables.agreement_counts(long)
    assert counts.tested == {"text": 12, "investors": 3, "count": 3}
    assert counts.agree == {"text": 5, "investors": 3, "count": 3} and counts.tie["text"] == 1
    sim = prose.agreement_summary(counts, simulated=True)
    assert sim.startswith("Of the 12 cells coded from the firms' text")
    assert "5 agree with the brief and 1 is a tie that includes the brief's value" in sim
    assert "the 3 firm counts are the brief's" in sim and "the 3 investor cells are planted" in sim
    real = prose.agreement_summary(counts, simulated=False)
    assert "planted" not in real and "3 of the 3 investor cells agree" in real


def test_numbers_rounding_to_zero_show_no_sign_and_sources_cite_works():
    assert tables._cell(-0.0001, 3) == "0" and tables._cell(-0.5, 3) == "-0.5"
    cell = tables._links("https://news.8btc.com/x | cite:proteum2019offblocks | http://www.gov.cn/y")
    assert cell.startswith(r"[gov\.cn \(official\)](<http://www.gov.cn/y>)")
    assert "{cite:p}`proteum2019offblocks`" in cell and "8btc" in cell


def test_one_surviving_term_is_singular():
    k = pd.DataFrame({"feature": ["a", "b"], "log_ratio": [2.0, 1.0], "p": [0.001, 0.02], "q": [0.002, 0.06]})
    text = prose.key_terms_sentence(k, "Beijing")
    assert "1 of the 2 terms" in text and "survives the Benjamini" in text and "is called over-used" in text


def test_a_wide_table_shows_its_decision_columns_after_its_row_labels():
    """Issue 24: in a table of more than WIDE_TABLE_COLUMNS columns, decision, primary and p
    follow the leading text columns (so they are on screen); a narrower table keeps its order."""
    row = {"measure": "public_share", "comparison": "Beijing", **{f"x{i}": 0.5 for i in range(10)},
           "p": 0.01, "primary": True, "decision": "inconclusive", "reason": ""}
    heads, rows, _ = tables.display_frame(pd.DataFrame([row]))
    assert heads[:5] == ["measure", "comparison", "decision", "primary", "p"]
    assert rows[0][2:5] == ["inconclusive", "yes", "0.01"] and heads[-1] == "reason"
    narrow = pd.DataFrame([{"change": "none", "estimate": 1.0, "p": 0.5, "decision": "inconclusive"}])
    assert tables.display_frame(narrow)[0] == ["change", "estimate", "p", "decision"]
