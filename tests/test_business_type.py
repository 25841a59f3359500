"""Table 1's business-type row, derived from the customer and geography codes by the
codebook's table (data/codebook.md, "Derived: business type")."""

import pandas as pd
import pytest

from analysis.text import classify
from analysis.present import prose, tables


@pytest.mark.parametrize("customer,geography,expected", [
    ("public", "domestic", "public_procurement"),
    ("public", "global", "public_procurement"),
    ("private", "domestic", "domestic_commercial"),
    ("private", "mixed", "international_commercial"),
    ("private", "global", "international_commercial"),
    ("none", "global", None),
    ("private", "tie", None),
])
def test_derived_table(customer, geography, expected):
    assert classify.business_type(customer, geography) == expected


def _coded():
    firms = pd.DataFrame({"company_id": [f"f{i}" for i in range(8)],
                          "city": ["Beijing"] * 4 + ["Shanghai"] * 2 + ["Shenzhen"] * 2})
    codes = pd.DataFrame({
        "application_label": ["infrastructure"] * 8,
        "customer_label": ["public", "public", "private", "public", "private", "private", "private", "none"],
        "geography_label": ["domestic", "domestic", "domestic", "mixed", "mixed", "global", "global", "global"],
        "investor_label": ["state"] * 8,
    })
    return tables.Coded(firms, codes)


def test_business_type_row_by_hand():
    key = {c: pd.DataFrame({"feature": ["x"], "log_ratio": [1.0], "p": [0.01]})
           for c in ("Beijing", "Shanghai", "Shenzhen")}
    t1 = tables.table1(_coded(), key).set_index(["row", "city"])
    row = "Business type (from customer and geography)"
    assert t1.loc[(row, "Beijing"), "corpus"] == "Domestic public procurement market"
    assert t1.loc[(row, "Beijing"), "share"] == pytest.approx(3 / 4)
    assert t1.loc[(row, "Beijing"), "agree"] == "yes"
    assert t1.loc[(row, "Shanghai"), "corpus"] == "International commercial market"
    assert t1.loc[(row, "Shanghai"), "share"] == pytest.approx(1.0)
    # Shenzhen: one international commercial, one with customer "none" (kept in the base)
    assert t1.loc[(row, "Shenzhen"), "share"] == pytest.approx(1 / 2)
    assert t1.loc[(row, "Shenzhen"), "brief"] == "Domestic commercial market"
    assert t1.loc[(row, "Shenzhen"), "agree"] == "no"


def test_the_brief_disagrees_with_itself_on_shenzhen_and_the_page_says_so():
    check = tables.brief_business_type_check().set_index("city")
    assert list(check["consistent"]) == ["yes", "yes", "no"]
    assert check.loc["Shenzhen", "derived business type"] == "International commercial market"
    note = prose.brief_business_type_note(check.reset_index())
    assert "Shenzhen" in note and "do not agree" in note and "Beijing" not in note
