"""The dictionary coder applies the decision rules of data/codebook.md.

Each sentence below was written for this test from the rule it exercises (English and
Chinese); none comes from the simulator's phrase banks or from any check set."""

import pandas as pd
import pytest

from analysis.text.classify import code_firms, code_text


def label(text, dim):
    return code_text(text)[dim]["label"]


# ------------------------------------------------------------------ none: no text at all

@pytest.mark.parametrize("text", ["", "   ", None])
def test_no_text_is_none_on_every_dimension(text):
    firms = pd.DataFrame({"company_id": ["x"], "description": [text], "full_description": [None]})
    row = code_firms(firms, ["description", "full_description"]).iloc[0]
    assert [row["application_label"], row["customer_label"], row["geography_label"]] == ["none"] * 3


# ------------------------------------------------------------------ silence (A1, C1, G1)

@pytest.mark.parametrize("text", [
    "We develop blockchain technology.",
    "A blockchain solutions company.",
    "我们是一家区块链技术公司。",
])
def test_silence_decides(text):
    assert label(text, "application") == "infrastructure"  # A1
    assert label(text, "customer") == "private"  # C1
    assert label(text, "geography") == "domestic"  # G1


# ------------------------------------------------------------------ application

@pytest.mark.parametrize("text,expected", [
    ("Traceability software for banks, insurers and food manufacturers.", "infrastructure"),  # A2
    ("Blockchain solutions built for banks.", "finance"),  # A2: sold to financial institutions
    ("A platform that settles interbank payments on a shared ledger.", "finance"),  # A2
    ("We build wallets and point-of-sale systems for the digital renminbi.", "finance"),  # A3
    ("我们为商业银行开发数字人民币钱包。", "finance"),  # A3 in Chinese
    ("We sell bitcoin mining machines and run a mining pool.", "crypto"),  # A4
    ("公司研发比特币矿机。", "crypto"),
])
def test_application_rules(text, expected):
    assert label(text, "application") == expected


def test_headline_decides_between_competing_readings():
    # rule 2: the first sentence names the main business; the side remark does not outweigh it
    text = ("We run a cryptocurrency exchange. We also offer a small traceability service "
            "for tea growers, with provenance records and anti-counterfeit labels.")
    assert label(text, "application") == "crypto"
    zh = "公司主营加密货币交易所。此外，我们还为茶农提供溯源、防伪和存证服务。"
    assert label(zh, "application") == "crypto"


def test_headline_joining_two_takes_the_first_named_and_generic_words_yield():
    # A5
    assert label("Blockchain payments and supply chain traceability.", "application") == "finance"
    assert label("Supply chain traceability and blockchain payments.", "application") == "infrastructure"
    # A2: calling it infrastructure or a platform does not outweigh the financial purpose
    assert label("Blockchain infrastructure for supply chain finance.", "application") == "finance"
    assert label("区块链基础设施，服务于跨境支付。", "application") == "finance"


def test_generic_headline_then_most_space_and_tie_when_space_is_equal():
    generic = "Founded in 2017, the team has twenty engineers. "
    assert label(generic + "It runs a crypto exchange and a crypto wallet. It offers "
                 "traceability.", "application") == "crypto"
    assert label(generic + "It runs a crypto wallet. It offers traceability and provenance.",
                 "application") == "tie"


@pytest.mark.parametrize("text,expected", [
    ("We do not issue tokens; we build identity systems.", "infrastructure"),
    ("Not a trading platform: a data-sharing network for hospitals.", "infrastructure"),
    ("We left mining in 2018 and now build supply chain software.", "infrastructure"),
    ("The firm pivoted from crypto trading to copyright registration.", "infrastructure"),
    ("Evidence storage rather than cryptocurrency.", "infrastructure"),
    ("Instead of coins, the company offers notarisation.", "infrastructure"),
    ("我们不发行代币，专注于司法存证。", "infrastructure"),
    ("公司从矿机业务转型为供应链溯源服务。", "infrastructure"),
    ("提供数据共享服务而非加密货币交易。", "infrastructure"),
])
def test_negation_and_contrast_application(text, expected):
    assert label(text, "application") == expected


def test_not_only_but_also_counts_both():
    coded = code_text("We serve not only banks with payment systems but also miners with crypto wallets.")
    assert coded["application"]["counts"]["finance"] >= 1
    assert coded["application"]["counts"]["crypto"] >= 1


def test_financing_round_is_not_a_financial_service():
    assert label("A traceability start-up that closed its Series A financing round.",
                 "application") == "infrastructure"


# ------------------------------------------------------------------ customer

@pytest.mark.parametrize("text,expected", [
    ("Identity software for governments and enterprises.", "public"),  # C2
    ("我们为各级政府和企业提供服务。", "public"),  # C2
    ("Wallet app for retail users.", "private"),  # C4
    ("Backed by state-owned investors, it sells invoicing tools to small shops.", "private"),  # C3
    ("Regulated by the central bank's sandbox, the firm serves private merchants.", "private"),  # C3
    ("The company answers the national strategy on digital infrastructure.", "private"),  # C3
    ("获得国有资本投资，为中小企业提供区块链服务。", "private"),  # C3
    ("We do not work for government agencies.", "private"),  # rule 3
    ("Its clients are courts and public hospitals.", "public"),
    ("客户包括法院和公安机关。", "public"),
])
def test_customer_rules(text, expected):
    assert label(text, "customer") == expected


# ------------------------------------------------------------------ geography

@pytest.mark.parametrize("text,expected", [
    ("Its clients are mostly outside China.", "global"),  # rule 3, G3
    ("Users everywhere except mainland China.", "global"),  # G3
    ("客户主要分布在中国大陆以外的地区。", "global"),  # rule 3 in Chinese
    ("We serve banks at home and abroad.", "mixed"),  # G2
    ("We serve clients not only in China but also overseas.", "mixed"),  # rule 3 / G2
    ("业务覆盖国内和东南亚市场。", "mixed"),  # G2
    ("An international crypto exchange.", "global"),  # G3
    ("面向全球用户的数字资产钱包。", "global"),
    ("The wallet is offered in twelve languages.", "global"),  # G4
    ("Headquartered in Shenzhen, it sells to users in Europe.", "global"),  # G5
    ("A world-leading provider of traceability for Chinese food companies.", "domestic"),  # G5
    ("Backed by international investors, it serves Chinese banks.", "domestic"),  # G5
    ("我们拥有国际化团队，为国内企业提供服务。", "domestic"),  # G5
    ("It has global partners and sells to provincial governments.", "domestic"),  # G5
    ("We do not serve overseas markets.", "domestic"),  # rule 3
    ("Clients are Chinese banks, with offices in Singapore and London.", "mixed"),  # G2
])
def test_geography_rules(text, expected):
    assert label(text, "geography") == expected


def test_language_does_not_change_the_code():
    en = code_text("We build consortium chains for local governments across China.")
    zh = code_text("我们为全国各地的地方政府建设联盟链。")
    assert [en[d]["label"] for d in en] == [zh[d]["label"] for d in zh] == [
        "infrastructure", "public", "domestic"]


def test_mixed_english_chinese_text():
    text = "Crypto wallet 钱包 for 全球用户."
    coded = code_text(text)
    assert (coded["application"]["label"], coded["geography"]["label"]) == ("crypto", "global")


def test_chinese_cues_inside_jieba_compounds():
    # jieba keeps compounds whole; a cue of two or more characters still matches inside them
    assert label("我们为地方政府部门提供服务。", "customer") == "public"
    assert label("为证券公司提供结算系统。", "application") == "finance"
    # a one-character cue matches only as a whole token: 人民币 is not a coin
    assert label("公司为人民币跨境结算提供系统。", "application") == "finance"
    # an entry written as the token wins over a pattern inside it (数据交易所 is not a crypto exchange)
    assert label("公司建设数据交易所。", "application") == "infrastructure"
