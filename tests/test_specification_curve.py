"""Tests of the specification curve and its joint test (analysis.method.specification_curve,
analysis.method.curve_validation): the estimates against hand-computed values, every specification
listed (those that cannot be decided with their reason), the joint test's size on data with no
effect, and its rates on simulated corpora with Clopper–Pearson bounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.data import corpus as corpus_io
from analysis.method import convergence_rule as rule
from analysis.method import curve_validation as cv
from analysis.method import specification_curve as sc

T = np.arange(2014, 2023)
POOLED = "Beijing − Shanghai+Shenzhen"


@pytest.fixture(scope="module")
def bundled():
    return corpus_io.load("", "").firms


@pytest.fixture(scope="module")
def curve(bundled):
    return sc.curve(bundled, n_perm_joint=300)


def test_logodds_standard_error_is_the_inverse_fisher_information_of_a_firm_level_fit():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(4)
    n = rng.integers(3, 12, size=(3, len(T)))
    x = rng.binomial(n, 1 / (1 + np.exp(-(0.2 * (T - 2018)))))
    _, slope, se = rule.logodds_fit(x, n, T)
    for k in range(3):
        yr = np.repeat(T, n[k]).astype(float)
        f = np.concatenate([[1.0] * xi + [0.0] * (ni - xi) for xi, ni in zip(x[k], n[k])])
        share = n[k] / n[k].sum()  # the pseudo-firms, as the fit spreads them
        X = np.concatenate([yr, T, T]) - 2018.0
        y = np.concatenate([f, np.ones(len(T)), np.zeros(len(T))])
        w = np.concatenate([np.ones_like(f), 0.5 * share, 0.5 * share])
        fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X[:, None], y, sample_weight=w)
        p = fit.predict_proba(X[:, None])[:, 1]
        design = np.column_stack([np.ones_like(X), X])
        info = design.T @ (design * (w * p * (1 - p))[:, None])
        assert slope[k] == pytest.approx(fit.coef_[0, 0], abs=1e-6)
        assert se[k] == pytest.approx(np.sqrt(np.linalg.inv(info)[1, 1]), rel=1e-5)


def _linear_corpus(per_cell: int = 10) -> pd.DataFrame:
    """Beijing's public share 0.8 in every year; Shanghai's and Shenzhen's rise by exactly 0.05 a
    year from 0.2: the gap closes by 5 share points a year, in every specification on the share scale."""
    rows = []
    for city, share0, step in (("Beijing", 0.8, 0.0), ("Shanghai", 0.2, 0.05), ("Shenzhen", 0.2, 0.05)):
        for year in T:
            public = int(round((share0 + step * (year - 2014)) * per_cell))
            for i in range(per_cell):
                text = ("We sell our blockchain platform to government agencies and state-owned banks."
                        if i < public else "We build consumer apps for private shoppers and small businesses.")
                rows.append({"company_id": f"{city}-{year}-{i}", "name": f"{city} {year} {i}", "city": city,
                             "founded_year": int(year), "description": text})
    return pd.DataFrame(rows)


def test_the_estimate_on_the_share_scale_is_the_hand_computed_closing_of_the_gap():
    firms = _linear_corpus()
    flags = sc.conv.share_flags(firms, ["description"], "dictionary")["public_share"]
    by_cell = pd.Series(flags).groupby([firms["city"], firms["founded_year"]]).mean().unstack()
    assert by_cell.loc["Beijing"].round(6).nunique() == 1  # the dictionary reads the two texts as meant
    assert np.allclose(np.diff(by_cell.loc["Shanghai"].to_numpy()), 0.05, atol=0.051)
    result = sc.curve(firms, text_fields=["description"], n_perm_joint=200)
    table = result.table
    row = table[(table["time"] == sc.YEAR) & (table["comparison"] == POOLED) & (table["scale"] == "share")
                & (table["text_fields"] == "description") & (table["coder"] == "dictionary")
                & (table["outcome"] == "public_share") & (table["correction"] == "off")].iloc[0]
    # hand-computed: OLS slope of Beijing's share minus the others' standardised share, per year
    gap = by_cell.loc["Beijing"] - 0.5 * (by_cell.loc["Shanghai"] + by_cell.loc["Shenzhen"])
    hand = -np.polyfit(T, gap.to_numpy(), 1)[0] * 100
    assert row["estimate"] == pytest.approx(hand, rel=1e-9)
    assert row["lo"] < row["estimate"] < row["hi"]
    assert row["decision"] == rule.SUPPORTS and row["p"] < 0.05


def test_every_specification_is_listed_the_primary_first_and_none_dropped(curve):
    table = curve.table
    assert len(table) == 720 and not table[list(sc.CHOICES)].duplicated().any()
    assert table["primary"].sum() == 1 and bool(table["primary"].iloc[0])
    primary = table.iloc[0]
    assert (primary["time"], primary["comparison"], primary["scale"], primary["coder"], primary["outcome"],
            primary["correction"]) == (sc.YEAR, POOLED, "share", "dictionary", "public_share", "on")
    assert set(table["decision"]) <= set(rule.DECISIONS)
    # two cohorts cannot show a trend: every such specification is kept with the rule's reason
    two_bins = table[table["time"] == "2014, 2018, 2023"]
    assert len(two_bins) == 144 and (two_bins["reason"] == "few_years").all() and two_bins["estimate"].isna().all()
    decided = table[table["reason"] == ""]
    assert decided["estimate"].notna().all() and decided["p"].between(0, 1).all()
    assert ((decided["lo"] <= decided["estimate"]) & (decided["estimate"] <= decided["hi"])).all()


def test_correction_divides_share_estimates_by_the_coders_separation(curve, bundled):
    table = curve.table.set_index(list(sc.CHOICES))
    on = table.xs(("share", "on"), level=("scale", "correction"))["estimate"]
    off = table.xs(("share", "off"), level=("scale", "correction"))["estimate"]
    ratio = (on / off).dropna()
    dictionary = ratio.xs("dictionary", level="coder").xs("public_share", level="outcome")
    from analysis.method import coder_error

    error = coder_error.check_set_error("dictionary")
    expected = 1 / rule.separation(error.candidates("public_share")[0])
    assert np.allclose(dictionary.to_numpy(), expected)


def test_a_missing_text_field_and_an_untrained_coder_are_listed_with_their_reasons(bundled):
    no_web = bundled.drop(columns=["website_text"])
    codes = sc.codings(no_web, [("description",), ("description", "website_text")], ["dictionary", "supervised"],
                       available=("dictionary",))
    reasons = {(c.text_fields, c.coder): c.reason for c in codes}
    assert reasons[(("description",), "dictionary")] == ""
    assert reasons[(("description",), "supervised")] == "no_training_data"
    assert reasons[(("description", "website_text"), "dictionary")] == "fields_absent"
    assert all(c.flags is None for c in codes if c.reason)
    table = sc.curve(no_web, text_fields=["description", "full_description"], n_perm_joint=100).table
    assert len(table) == 720
    absent = table[table["text_fields"].str.contains("website_text")]
    assert len(absent) and (absent["reason"] == "fields_absent").all() and absent["estimate"].isna().all()


def test_rank_p_values_of_the_joint_test_have_their_size_under_exchangeability():
    """With statistics exchangeable across data sets (no effect), each statistic's permutation
    p-value is below alpha in at most alpha of the batches (up to Monte Carlo error)."""
    rng = np.random.default_rng(11)
    batches, S, n_spec = 2000, 101, 12
    common = rng.normal(size=(batches, S, 1))
    closing = common + rng.normal(size=(batches, S, n_spec))  # correlated specifications, like a curve
    towards = rng.normal(size=(batches, S, n_spec))
    joint = sc.joint_statistics(closing, towards, closing, np.ones(n_spec, bool), np.ones(n_spec, bool), 0.05)
    for key in ("p_median", "p_share"):
        rate = float((joint[key] < 0.05).mean())
        assert rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / batches), key
    assert float((joint["p_median"] < 0.05).mean()) > 0.02  # not a test that never rejects


def test_joint_test_false_positive_rate_and_power_on_simulated_corpora():
    """Reduced replicates: with no change (at least 1,000 corpora) the exact 95% interval of each
    statistic's rate reaches down to alpha and its upper end stays at or below 0.08; with full
    convergence at three times the brief's sizes (200 corpora) the lower end lies above alpha."""
    rates = cv.joint_rates(strengths=(1.0,), replicates=200, n_per_city=(330, 159, 102), seed=5)
    null = rates[rates["strength"] == 0].set_index("statistic")
    full = rates[rates["strength"] == 1.0].set_index("statistic")
    for statistic in cv.JOINT_STATISTICS:
        assert null.loc[statistic, "replicates"] == cv.NULL_REPLICATES
        assert null.loc[statistic, "lo"] <= 0.05 and null.loc[statistic, "hi"] <= 0.08
        assert full.loc[statistic, "replicates"] == 200 and full.loc[statistic, "lo"] > 0.05
