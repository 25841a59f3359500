"""Generated prose as a reader sees it: the markdown the chapters emit is rendered the way the
book renders it (MyST's markdown-it parser with the book's extensions, to HTML), and the text
of the HTML is compared with the data it came from."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from analysis.present import prose, tables

TRICKY = [
    "china's", "#defi", "*star* and **bold**", "snake_case_name", "<b>not bold</b> & <script>x</script>",
    "back\\slash \\\\ twice", "data/my_file_v2.csv", "$5 and $6", "a | b", "[link](http://x)",
    "{glue:text}`x`", "1. not a list", "- not a bullet", "> not a quote", "~~no strike~~",
    "`tick`", "::: not a fence", "plain text", "100% & \"quoted\"", "line\nbreak",
]


@pytest.fixture(scope="module")
def render():
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    config = MdParserConfig(enable_extensions={"colon_fence", "dollarmath", "deflist", "substitution"})
    md = create_md_parser(config, RendererHTML)
    return md.render


def seen(rendered_html: str) -> str:
    """What a reader sees: the HTML's text, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered_html)).strip()


@pytest.mark.parametrize("value", TRICKY)
def test_escaped_text_reads_as_written(render, value):
    out = render(prose.escape(value))
    assert seen(out) == value.replace("\n", " ")
    # nothing from data turns into markup: one paragraph, no tag the data did not ask for
    assert re.findall(r"<(\w+)", out) == ["p"]


@pytest.mark.parametrize("value", ["data/my_file_v2.csv", "C:\\exports\\cb_2022.csv", "a`b.csv", "`x`"])
def test_file_names_in_code_spans_read_as_written(render, value):
    out = render(prose.code(value))
    assert re.findall(r"<(\w+)", out) == ["p", "code"]
    assert seen(out) == value


def test_emphasised_terms_keep_their_apostrophes(render):
    out = render("Key terms: " + ", ".join(f"*{prose.escape(t)}*" for t in ["china's", "#defi", "web_3"]))
    assert seen(out) == "Key terms: china's, #defi, web_3"
    assert out.count("<em>") == 3


def test_table_cells_read_as_written(render):
    df = pd.DataFrame({"name": ["O'Neil | Co", "<i>x</i>", "#1_firm"], "share": [0.5, None, 0.25],
                       "primary": [True, False, True]})
    md = tables.table_markdown(df, "firms_per_city")
    body = "\n".join(line for line in md.splitlines() if line.startswith("|"))
    out = render(body)
    cells = [seen(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", out)]
    assert cells == ["O'Neil | Co", "0.5", "yes", "<i>x</i>", "–", "no", "#1_firm", "0.25", "yes"]
    # text columns left-aligned, numbers right-aligned
    heads = re.findall(r"<th( [^>]*)?>", out)
    assert "left" in heads[0] and "right" in heads[1]
    assert md.startswith(":::{table} ") and ":name: tbl-firms-per-city" in md


def test_unknown_table_name_is_an_error():
    with pytest.raises(KeyError, match="not in analysis/present/catalogue.py"):
        tables.table_markdown(pd.DataFrame({"a": [1]}), "no_such_table")


def test_named_firms_are_set_apart_from_the_corpus(render):
    from analysis.data import facts

    sz = facts.named_firms("Shenzhen")
    assert {"DOBI ATM", "Unnamed NFT platform"} <= set(sz["name"])
    md = prose.named_firms(sz)
    assert md.startswith(":::{admonition} Named in the brief, not in this book's corpus")
    bullets = "\n".join(line for line in md.splitlines() if line.startswith("- "))
    text = seen(render(bullets))
    assert "DOBI ATM (Shenzhen): Cryptocurrency ATM maker; machines support 20 languages" in text
    assert "\\" not in text


def test_landing_summary_states_the_decision_and_what_the_data_are():
    from analysis.present import convergence_prose

    row = pd.Series({"decision": "supports convergence", "margin": 3.0})
    sim = convergence_prose.landing_summary(row, simulated=True, planted_strength=0.5)
    assert "**Decision on convergence: *supports convergence*.**" in sim
    assert "**The data are simulated.**" in sim and "strength 0.5" in sim and "not a finding" in sim
    real = convergence_prose.landing_summary(row.replace("supports convergence", "inconclusive"), simulated=False)
    assert "*inconclusive*" in real and "simulated." not in real


def test_a_gap_that_crosses_zero_within_noise_is_said_so():
    from analysis.present import convergence_prose, convergence_tables

    base = {"overall_gap": 0.2, "gap_slope": -5.0, "gap_lo": -9.0, "gap_hi": -1.0, "others": "Shanghai",
            "others_slope": 4.0, "others_lo": 1.0, "others_hi": 7.0, "beijing_slope": -1.0, "beijing_lo": -3.0,
            "beijing_hi": 1.0, "others_move": "towards", "beijing_move": "unclear"}
    crossed = pd.Series({**base, "overshoot": False, "crosses_zero": True})
    assert convergence_tables.overshoot_words(crossed) == "crosses zero, within noise"
    assert "its interval includes zero" in convergence_prose.decomposition_sentence(crossed)
    assert convergence_tables.overshoot_words(pd.Series({**base, "overshoot": True, "crosses_zero": True})) == "yes"
    assert convergence_tables.overshoot_words(pd.Series({**base, "overshoot": False, "crosses_zero": False})) == "no"


def test_chinese_terms_note_glosses_every_chinese_term_and_says_nothing_without_one():
    import pandas as pd

    table = pd.DataFrame({"term": ["wallet", "钱包", "遍布", "地区"], "gloss": [None, "wallet", "spread across", None]})
    note = prose.chinese_terms_note(table)
    assert note == "Chinese terms in this table, with their glosses: 钱包 (wallet), 遍布 (spread across), 地区."
    assert prose.chinese_terms_note(table[table["term"] == "wallet"]) == ""
