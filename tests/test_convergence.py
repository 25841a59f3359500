"""Tests of analysis.method.convergence and its decision rule (analysis.method.convergence_rule): cohorts,
exact LOO naive Bayes, the measures, per-year slopes, the rule's three answers and the verdict
words (hand-computed values and planted effects)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from analysis.method import convergence as cv
from analysis.present import convergence_prose as cprose
from analysis.method import convergence_rule as rule
from analysis.method.convergence import (
    alignment_shares,
    analyse,
    assign_cohorts,
    centroid_cosine,
    cohort_codes,
    cohort_labels,
    distinctiveness,
    gap_statistics,
)
from analysis.text.naive_bayes import balanced_accuracy, loo_multinomial_nb
from analysis.method.resampling import (bootstrap_counts, decision_stable, ols_slope, p_mcse, percentile_interval,
                                 permutation_p, permuted_counts)

EDGES = (2014, 2017, 2020, 2023)
CITIES = ("Beijing", "Shanghai", "Shenzhen")


# --------------------------------------------------------------------------- cohorts
def test_cohort_labels_half_open_with_en_dash():
    assert cohort_labels(EDGES) == ["2014\u20132016", "2017\u20132019", "2020\u20132022"]
    assert cohort_labels([2014, 2015, 2018]) == ["2014", "2015\u20132017"]


def test_assign_cohorts_half_open_missing_and_outside():
    years = pd.array([2013, 2014, 2016, 2017, 2019, 2020, 2022, 2023, None], dtype="Int64")
    codes = cohort_codes(years, EDGES)
    assert codes.tolist() == [-2, 0, 0, 1, 1, 2, 2, -2, -1]
    cats = assign_cohorts(years, EDGES)
    assert list(cats.categories) == cohort_labels(EDGES)
    assert cats.ordered
    got = [None if pd.isna(c) else c for c in cats]
    assert got == [None, "2014–2016", "2014–2016", "2017–2019", "2017–2019", "2020–2022", "2020–2022", None, None]


def test_cohort_codes_accepts_floats_strings_and_none():
    assert cohort_codes([2016.0, "2017", None, np.nan, "n/a"], EDGES).tolist() == [0, 1, -1, -1, -1]


@pytest.mark.parametrize("edges", [(2014,), (2017, 2014), (2014, 2014, 2020), ("a", "b")])
def test_bad_edges_are_rejected(edges):
    with pytest.raises(ValueError, match="cohort_edges"):
        cohort_codes([2015], edges)


# --------------------------------------------------------------------------- LOO naive Bayes
def _poisson_counts(rng, n, V, K=3, sep=1.0):
    y = rng.integers(0, K, n)
    lam = rng.gamma(0.5, 1.0, (K, V))
    base = rng.gamma(0.5, 1.0, V)
    rates = sep * lam + (1 - sep) * base
    X = np.vstack([rng.poisson(rates[c] * rng.uniform(0.3, 2.0)) for c in y])
    return X, y


@pytest.mark.parametrize("seed,alpha", [(0, 1.0), (1, 0.5), (2, 0.1), (3, 1.0)])
def test_loo_nb_equals_sklearn_leave_one_out(seed, alpha):
    from sklearn.model_selection import LeaveOneOut, cross_val_predict
    from sklearn.naive_bayes import MultinomialNB

    rng = np.random.default_rng(seed)
    X, y = _poisson_counts(rng, 45, 30, sep=0.4)
    labels = np.array(CITIES)[y]
    ours = loo_multinomial_nb(sparse.csr_matrix(X), labels, alpha=alpha)
    ref = cross_val_predict(MultinomialNB(alpha=alpha), X, labels, cv=LeaveOneOut())
    assert (ours == ref).all()
    # the case is not trivial: some rows are misclassified
    assert 0 < (ref != labels).sum() < len(labels)


def test_loo_nb_weights_hold_out_all_copies_like_leave_one_group_out():
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
    from sklearn.naive_bayes import MultinomialNB

    rng = np.random.default_rng(7)
    X, y = _poisson_counts(rng, 30, 20, sep=0.4)
    w = rng.integers(1, 4, len(y))
    Xe, ye, groups = np.repeat(X, w, axis=0), np.repeat(y, w), np.repeat(np.arange(len(y)), w)
    ref = cross_val_predict(MultinomialNB(), Xe, ye, groups=groups, cv=LeaveOneGroupOut())
    ours = loo_multinomial_nb(X, y, weights=w)
    assert (np.repeat(ours, w) == ref).all()


def test_balanced_accuracy_matches_sklearn():
    from sklearn.metrics import balanced_accuracy_score

    rng = np.random.default_rng(3)
    t, p = rng.integers(0, 3, 50), rng.integers(0, 3, 50)
    assert balanced_accuracy(t, p) == pytest.approx(balanced_accuracy_score(t, p))


# --------------------------------------------------------------------------- distinctiveness
def _cells(n_per_cell, n_cohorts=3):
    cities = np.repeat(np.tile(np.arange(3), n_cohorts), n_per_cell)
    cohorts = np.repeat(np.repeat(np.arange(n_cohorts), 3), n_per_cell)
    return np.array(CITIES)[cities], cohorts


def test_distinctiveness_is_two_thirds_for_disjoint_vocabularies():
    cities, cohorts = _cells(6)
    rng = np.random.default_rng(0)
    col = {c: np.arange(10) + 10 * i for i, c in enumerate(CITIES)}
    X = np.zeros((len(cities), 30))
    for r, c in enumerate(cities):
        X[r, rng.choice(col[c], 4)] += 1
    out = distinctiveness(sparse.csr_matrix(X), cities, cohorts, n_subsamples=3, seed=1, city_order=CITIES)
    assert out["estimate"].to_numpy() == pytest.approx([2 / 3] * 3)
    assert out["n_per_city"].tolist() == [6, 6, 6]


def test_distinctiveness_is_near_zero_for_identical_distributions():
    cities, cohorts = _cells(40)
    rng = np.random.default_rng(1)
    p = rng.dirichlet(np.ones(50))
    X = rng.multinomial(30, p, size=len(cities))
    out = distinctiveness(sparse.csr_matrix(X), cities, cohorts, n_subsamples=5, seed=2, city_order=CITIES)
    assert np.abs(out["estimate"].to_numpy()).max() < 0.12
    # ... and clearly positive when the cities differ
    X2 = X.copy()
    X2[cities == "Shenzhen", :5] += 3
    out2 = distinctiveness(sparse.csr_matrix(X2), cities, cohorts, n_subsamples=5, seed=2, city_order=CITIES)
    assert out2["estimate"].min() > 0.2


def test_distinctiveness_subsamples_to_smallest_city_and_skips_thin_cohorts():
    cities = np.array(["Beijing"] * 9 + ["Shanghai"] * 5 + ["Shenzhen"] * 4 + ["Beijing", "Shanghai", "Shenzhen"] * 2)
    cohorts = np.array([0] * 18 + [1] * 6)
    rng = np.random.default_rng(0)
    X = rng.poisson(1.0, (len(cities), 12))
    out = distinctiveness(X, cities, cohorts, min_per_city=3, city_order=CITIES)
    assert out["n_per_city"].tolist() == [4, 0]
    assert out["n"].tolist() == [18, 6]
    assert np.isfinite(out["estimate"][0]) and np.isnan(out["estimate"][1])


def test_distinctiveness_is_reproducible_for_a_seed():
    cities, cohorts = _cells(8)
    X = np.random.default_rng(4).poisson(0.7, (len(cities), 25))
    a = distinctiveness(X, cities, cohorts, seed=11, city_order=CITIES)
    b = distinctiveness(X, cities, cohorts, seed=11, city_order=CITIES)
    pd.testing.assert_frame_equal(a, b)


# --------------------------------------------------------------------------- alignment
def test_alignment_shares_on_hand_made_table():
    cities = ["Beijing", "Beijing", "Beijing", "Shanghai", "Shanghai", "Shenzhen", "Shenzhen", "Shenzhen", "Shanghai"]
    cohorts = [0, 0, 1, 0, 1, 1, 1, 1, -1]  # the last firm has no cohort
    public = [1, 0, 1, 1, 0, 1, 0, 0, 1]
    out = alignment_shares(public, cities, cohorts, city_order=CITIES).set_index(["city", "cohort"])
    assert out.loc[("Beijing", "0"), "estimate"] == pytest.approx(0.5)
    assert out.loc[("Beijing", "1"), "estimate"] == pytest.approx(1.0)
    assert out.loc[("Shanghai", "0"), "estimate"] == pytest.approx(1.0)
    assert out.loc[("Shanghai", "1"), "estimate"] == pytest.approx(0.0)
    assert np.isnan(out.loc[("Shenzhen", "0"), "estimate"]) and out.loc[("Shenzhen", "0"), "n"] == 0
    assert out.loc[("Shenzhen", "1"), "estimate"] == pytest.approx(1 / 3)
    assert out["n"].sum() == 8


def test_centroid_cosine_hand_computed():
    s = 1 / np.sqrt(2)
    Z = np.array([[1, 0], [1, 0], [s, s], [s, s], [0, 1], [0, 1]])
    cities = ["Beijing", "Beijing", "Shanghai", "Shanghai", "Shenzhen", "Shenzhen"]
    out = centroid_cosine(Z, cities, [0] * 6, city_order=CITIES).set_index("city")["estimate"]
    assert out["Shanghai"] == pytest.approx(s)
    assert out["Shenzhen"] == pytest.approx(0.0)
    # scale of a row does not matter (rows are normalised); a firm's self-similarity is left out
    Z2 = np.array([[3, 0], [1, 0], [1, 1], [2, 2], [0, 1], [0, 5]])
    out2 = centroid_cosine(Z2, cities, [0] * 6, city_order=CITIES).set_index("city")["estimate"]
    assert out2["Shanghai"] == pytest.approx(s)


def test_centroid_cosine_does_not_grow_with_cell_size():
    """The plain centroid cosine rises with n; the measure here should not."""
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(200) * 0.3)

    def cell(n):
        return rng.multinomial(15, p, size=n).astype(float)

    vals = {}
    for n in (4, 40):
        reps = []
        for _ in range(40):
            Z = np.vstack([cell(40), cell(n)])
            cities = ["Beijing"] * 40 + ["Shanghai"] * n
            reps.append(centroid_cosine(Z, cities, [0] * (40 + n), city_order=("Beijing", "Shanghai"))["estimate"][0])
        vals[n] = np.mean(reps)
    assert vals[4] == pytest.approx(1.0, abs=0.06)
    assert vals[40] == pytest.approx(1.0, abs=0.03)


# --------------------------------------------------------------------------- trend and tests
def test_ols_slope_known_values():
    assert ols_slope([3.0, 2.0, 1.0]) == pytest.approx(-1.0)
    assert ols_slope([1.0, np.nan, 5.0]) == pytest.approx(2.0)
    assert ols_slope([0.0, 1.0, 4.0]) == pytest.approx(2.0)
    assert np.isnan(ols_slope([1.0, np.nan, np.nan]))
    rows = ols_slope(np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]]))
    assert rows == pytest.approx([1.0, 0.0])


def test_permutation_p_counts_ties_and_direction():
    perms = [-2.0, -1.0, 0.0, 1.0]
    assert permutation_p(-1.0, perms, "decrease") == pytest.approx(3 / 5)
    assert permutation_p(-1.0, perms, "increase") == pytest.approx(4 / 5)
    assert permutation_p(5.0, perms, "increase") == pytest.approx(1 / 5)
    with pytest.raises(ValueError):
        permutation_p(0.0, perms, "up")


def test_percentile_interval():
    lo, hi = percentile_interval(np.arange(101.0), 0.9)
    assert (lo, hi) == pytest.approx((5.0, 95.0))


# --------------------------------------------------------------------------- analyse on synthetic firms
WORDS = {
    "Beijing": "government platform public service governance municipal agency ministry".split(),
    "Shanghai": "bank payment finance securities insurance settlement clearing credit".split(),
    "Shenzhen": "mining token bitcoin exchange wallet coin miner hash".split(),
}
FILLER = [f"filler{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(150)]


def _synthetic_firms(n_per_cell=12, converge=True, seed=0, shared_share=(0.0, 0.5, 1.0)):
    """Firms whose own-city words give way to Beijing's words cohort by cohort (when
    ``converge``), plus filler.  Years 2014–2022; a few firms without a year."""
    rng = np.random.default_rng(seed)
    rows = []
    for q, first in enumerate((2014, 2017, 2020)):
        share = shared_share[q] if converge else 0.3
        for city in CITIES:
            for i in range(n_per_cell):
                own = WORDS["Beijing"] if rng.random() < share else WORDS[city]
                words = list(rng.choice(own, 3)) + list(rng.choice(FILLER, 8))
                rows.append({"company_id": f"{city}-{q}-{i}", "city": city, "founded_year": first + int(rng.integers(0, 3)),
                             "description": " ".join(words[:5]), "full_description": " ".join(words[5:])})
    for city in CITIES:
        rows.append({"company_id": f"{city}-x", "city": city, "founded_year": None, "description": "filleraa", "full_description": None})
    rows.append({"company_id": "old", "city": "Beijing", "founded_year": 2009, "description": "fillerab", "full_description": None})
    df = pd.DataFrame(rows)
    df["founded_year"] = df["founded_year"].astype("Int64")
    return df


def test_analyse_tables_and_counts():
    firms = _synthetic_firms()
    res = analyse(firms, n_subsamples=2, n_boot=20, n_perm=20, n_perm_shares=99, seed=1)
    assert res.n_missing_year == 3 and res.n_outside_edges == 1
    assert list(res.cohort_table.columns[:7]) == ["measure", "city", "cohort", "estimate", "lo", "hi", "n"]
    assert res.n_per_cohort.loc["Shanghai", "2017–2019"] == 12
    assert res.n_per_cohort.loc["all", "no founding year"] == 3
    assert res.n_per_cohort.loc["Beijing", "outside cohorts"] == 1
    d = res.cohort_table[res.cohort_table["measure"] == "distinctiveness"]
    assert d["n"].tolist() == [36, 36, 36] and d["n_compared"].tolist() == [36, 36, 36]
    v = res.verdict_table
    assert list(v.columns) == cv.VERDICT_COLUMNS
    assert v["primary"].sum() == 1
    prim = res.primary_row()
    assert (prim["measure"], prim["comparison"], prim["statistic"]) == ("public_share", "Beijing − Shanghai+Shenzhen", "gap")
    assert set(v["decision"]) <= set(cv.DECISIONS)
    assert set(v.loc[v["measure"] == "cosine_to_beijing", "comparison"]) == {"Shanghai", "Shenzhen", "Shanghai+Shenzhen"}
    assert set(v.loc[v["measure"] == "public_share", "comparison"]) == {
        "Beijing − Shanghai+Shenzhen", "Beijing − Shanghai", "Beijing − Shenzhen"}
    # the share tests use n_perm_shares, the text tests n_perm; every p carries its MCSE
    assert v.loc[v["measure"] == "public_share", "n_perm"].eq(99).all()
    assert v.loc[v["measure"] == "distinctiveness", "n_perm"].eq(20).all()
    ok = v["p"].notna()
    assert v.loc[ok, "p_mcse"].to_numpy() == pytest.approx(np.sqrt(v.loc[ok, "p"] * (1 - v.loc[ok, "p"]) / v.loc[ok, "n_perm"]))
    # share estimates are slopes per year in share points; every share row carries the margin
    shares = v[v["measure"].isin(cv.SHARE_MEASURES)]
    assert shares["unit"].eq(rule.UNIT).all() and shares["margin"].eq(rule.DEFAULT_MARGIN).all()
    assert shares["n_years"].eq(9).all()  # founding years 2014..2022 all occur
    # the trend table describes (slopes with intervals); it neither tests nor decides
    tt = res.trend_table
    assert list(tt.columns) == ["measure", "comparison", "statistic", "unit", "slope", "lo", "hi"]
    ps = tt[tt["measure"] == "public_share"]
    assert set(ps["statistic"]) == {"level", "level (standardised)", "gap"}
    assert set(ps.loc[ps["statistic"] == "level", "comparison"]) == set(CITIES)
    assert set(ps.loc[ps["statistic"] == "gap", "comparison"]) == set(v.loc[v["measure"] == "public_share", "comparison"])
    assert cv.OLD_TEST not in set(tt["comparison"])  # the retired level test is gone from the page's tables


def test_analyse_planted_trend_gives_small_p_for_text_measures():
    firms = _synthetic_firms(n_per_cell=12, converge=True, seed=3)
    res = analyse(firms, n_subsamples=3, n_boot=0, n_perm=99, seed=5)
    v = res.verdict_table.set_index(["measure", "comparison"])
    # text measures: the slope per year over the cohorts' middle years (2015, 2018, 2021)
    ct = res.cohort_table[res.cohort_table["measure"] == "distinctiveness"]
    by_cohort = ct["estimate"].to_numpy()
    est = v.loc[("distinctiveness", cv.ALL_CITIES), "estimate"]
    assert est == pytest.approx(ols_slope(by_cohort, np.array([2015.0, 2018.0, 2021.0])))
    assert est < -0.05  # falls by more than 0.15 a cohort
    assert v.loc[("distinctiveness", cv.ALL_CITIES), "unit"] == "balanced accuracy per year"
    assert v.loc[("distinctiveness", cv.ALL_CITIES), "p"] <= 0.02
    assert v.loc[("distinctiveness", cv.ALL_CITIES), "decision"] == cv.SUPPORTS
    assert v.loc[("cosine_to_beijing", "Shanghai+Shenzhen"), "p"] <= 0.02


def test_analyse_no_trend_p_values_mostly_above_alpha():
    ps = []
    for seed in range(8):
        firms = _synthetic_firms(n_per_cell=10, converge=False, seed=100 + seed)
        res = analyse(firms, n_subsamples=2, n_boot=0, n_perm=49, measures=("distinctiveness",), seed=seed)
        v = res.verdict_table
        ps.append(v.loc[v["measure"] == "distinctiveness", "p"].iloc[0])
    ps = np.array(ps)
    assert (ps > 0.05).sum() >= 6
    assert ps.max() > 0.4  # spread over (0, 1], not piled up at small values


def test_bootstrap_interval_contains_estimate_and_shrinks_with_n():
    widths = {}
    for n in (8, 40):
        firms = _synthetic_firms(n_per_cell=n, converge=True, seed=9)
        res = analyse(firms, n_subsamples=2, n_boot=100, n_perm=0, n_perm_shares=0,
                      measures=("distinctiveness", "cosine_to_beijing"), seed=2)
        ct = res.cohort_table.dropna(subset=["estimate", "lo"])
        ct = ct[ct["measure"] != "public_share"]
        assert ((ct["lo"] <= ct["estimate"] + 1e-9) & (ct["estimate"] <= ct["hi"] + 1e-9)).all()
        widths[n] = (ct["hi"] - ct["lo"]).groupby(ct["measure"]).mean()
    assert (widths[40] < widths[8]).all()


def test_analyse_never_reads_truth_columns():
    firms = _synthetic_firms(seed=4)
    kw = dict(n_subsamples=2, n_boot=10, n_perm=10, n_perm_shares=50, seed=3)
    plain = analyse(firms, **kw)
    poisoned = firms.copy()
    poisoned["truth_customer"] = "public"
    poisoned["truth_profile"] = np.where(np.arange(len(firms)) % 2, "beijing", "own")
    with_truth = analyse(poisoned, **kw)
    pd.testing.assert_frame_equal(plain.cohort_table, with_truth.cohort_table)
    pd.testing.assert_frame_equal(plain.verdict_table, with_truth.verdict_table)


def test_analyse_is_deterministic_for_a_seed():
    firms = _synthetic_firms(seed=6)
    kw = dict(n_subsamples=2, n_boot=10, n_perm=10, n_perm_shares=100)
    a, b = analyse(firms, seed=8, **kw), analyse(firms, seed=8, **kw)
    pd.testing.assert_frame_equal(a.cohort_table, b.cohort_table)
    pd.testing.assert_frame_equal(a.verdict_table, b.verdict_table)


def test_analyse_rejects_bad_arguments():
    firms = _synthetic_firms()
    with pytest.raises(ValueError, match="text_fields"):
        analyse(firms, text_fields=("website_text",), n_perm=0, n_boot=0)
    with pytest.raises(ValueError, match="unknown measures"):
        analyse(firms, measures=("vibes",), n_perm=0, n_boot=0)
    with pytest.raises(ValueError, match="founded_year"):
        analyse(firms.drop(columns="founded_year"), n_perm=0, n_boot=0)


# --------------------------------------------------------------------------- the gap statistic
def _flag_firms(cells):
    """Firms from {(city, cohort_start): (n, n_flagged)}; flags returned separately."""
    rows, flags = [], []
    for (city, year), (n, k) in cells.items():
        for i in range(n):
            rows.append({"company_id": f"{city}{year}{i}", "city": city, "founded_year": year,
                         "description": "a firm", "full_description": None})
            flags.append(1.0 if i < k else 0.0)
    df = pd.DataFrame(rows)
    df["founded_year"] = df["founded_year"].astype("Int64")
    return df, np.array(flags)


def test_gap_statistics_hand_computed():
    cells = {("Beijing", 2014): (10, 8), ("Beijing", 2017): (10, 8), ("Beijing", 2020): (10, 7),
             ("Shanghai", 2014): (4, 1), ("Shanghai", 2017): (4, 2), ("Shanghai", 2020): (4, 3),
             ("Shenzhen", 2014): (6, 0), ("Shenzhen", 2017): (6, 3), ("Shenzhen", 2020): (6, 6)}
    firms, flags = _flag_firms(cells)
    cohorts = assign_cohorts(firms["founded_year"], EDGES)
    g = gap_statistics(flags, firms["city"], cohorts).set_index(["comparison", "cohort"])["gap"]
    # pooled firm-weighted: first cohort 1/10 of the others, Beijing 0.8
    assert g[("Beijing − Shanghai+Shenzhen", "2014–2016")] == pytest.approx(0.8 - 1 / 10)
    assert g[("Beijing − Shanghai+Shenzhen", "2020–2022")] == pytest.approx(0.7 - 9 / 10)
    assert g[("Beijing − Shenzhen", "2017–2019")] == pytest.approx(0.8 - 0.5)
    allg = gap_statistics(flags, firms["city"], cohorts)
    # overall gap 23/30 - 15/30 > 0: closing means the gap decreases
    assert allg["overall_gap"].iloc[0] == pytest.approx(23 / 30 - 15 / 30)
    assert set(allg.loc[allg["comparison"] == "Beijing − Shanghai+Shenzhen", "direction"]) == {"decrease"}


def test_analyse_gap_estimate_decomposition_and_overshoot():
    cells = {("Beijing", 2014): (60, 48), ("Beijing", 2017): (60, 48), ("Beijing", 2020): (60, 48),
             ("Shanghai", 2014): (60, 6), ("Shanghai", 2017): (60, 30), ("Shanghai", 2020): (60, 57),
             ("Shenzhen", 2014): (60, 6), ("Shenzhen", 2017): (60, 30), ("Shenzhen", 2020): (60, 57)}
    firms, flags = _flag_firms(cells)
    res = analyse(firms, n_boot=300, n_perm_shares=2000, measures=("public_share",), seed=1,
                  flags={"public_share": flags, "infrastructure_share": flags})
    row = res.primary_row()
    # per year, in share points: Beijing flat at 0.8; both others 0.10 -> 0.50 -> 0.95 over
    # 2014, 2017, 2020 with equal firms per year, i.e. (0.95 - 0.10) / 6 a year
    move = 100 * 0.85 / 6
    assert row["estimate"] == pytest.approx(-move)
    assert row["others_slope"] == pytest.approx(move)  # positive: towards Beijing
    assert row["estimate_logodds"] < 0
    assert row["direction"] == "decrease" and row["decision"] == cv.SUPPORTS and row["stable"]
    assert row["reason"] == "" and max(row["p_gap"], row["p_gap_logodds"], row["p_others"]) == row["p"] < 0.05
    assert row["n_years"] == 3
    d = res.decomposition.set_index(["measure", "comparison"]).loc[("public_share", cv.PRIMARY_COMPARISON)]
    assert d["others_move"] == "towards" and d["beijing_move"] == "unclear"
    assert d["beijing_slope"] == pytest.approx(0.0)
    assert d["gap_slope"] == pytest.approx(-move) and d["others_slope"] == pytest.approx(move)
    assert d["overall_gap"] == pytest.approx(0.8 - (0.1 + 0.5 + 0.95) / 3)
    assert bool(d["overshoot"])  # the others end above Beijing, interval clear of zero
    assert bool(d["crosses_zero"])  # and the last cohort's estimated gap has the other sign
    text = cprose.decomposition_sentence(d)
    assert "moved towards Beijing" in text and "overshoots" in text


UNEVEN = {("Beijing", 2014): (20, 16), ("Beijing", 2016): (10, 7), ("Beijing", 2019): (30, 21), ("Beijing", 2022): (15, 9),
          ("Shanghai", 2014): (8, 1), ("Shanghai", 2015): (12, 3), ("Shanghai", 2019): (10, 5), ("Shanghai", 2021): (10, 7),
          ("Shenzhen", 2014): (30, 3), ("Shenzhen", 2017): (40, 8), ("Shenzhen", 2020): (20, 6), ("Shenzhen", 2022): (30, 12)}


def _firm_level_ols(years, coded):
    """Slope of coded (0/1) on founding year, firm by firm, with its HC1 standard error, floored
    at the binomial one at the smoothed share (x + 0.5) / (n + 1)."""
    X = np.column_stack([np.ones(len(years)), years])
    beta = np.linalg.lstsq(X, coded, rcond=None)[0]
    e = coded - X @ beta
    bread = np.linalg.inv(X.T @ X)
    V = bread @ (X.T * e ** 2) @ X @ bread * len(years) / (len(years) - 2)
    smooth = (coded.sum() + 0.5) / (len(coded) + 1)
    floor = smooth * (1 - smooth) / ((years - years.mean()) ** 2).sum()
    return beta[1], np.sqrt(max(V[1, 1], floor))


def test_analyse_per_year_slopes_and_standardised_pooling_hand_computed():
    """Uneven years and city sizes: every slope is the firm-level OLS slope (share points per
    year), the others are pooled with fixed weights (Shanghai 40 : Shenzhen 120 dated firms),
    and the equivalence bound uses the HC1 standard errors (never below the binomial ones)."""
    firms, flags = _flag_firms(UNEVEN)
    res = analyse(firms, n_boot=200, n_perm_shares=999, measures=("public_share",), seed=4,
                  flags={"public_share": flags, "infrastructure_share": flags})
    years = firms["founded_year"].to_numpy(dtype=float)
    ref = {c: _firm_level_ols(years[firms["city"] == c], flags[firms["city"] == c]) for c in CITIES}
    slope = {c: 100 * ref[c][0] for c in CITIES}
    se = {c: 100 * ref[c][1] for c in CITIES}
    assert res.weights == pytest.approx({"Shanghai": 0.25, "Shenzhen": 0.75})
    others = 0.25 * slope["Shanghai"] + 0.75 * slope["Shenzhen"]
    v = res.verdict_table.set_index(["measure", "comparison"]).loc["public_share"]
    assert v.loc[cv.PRIMARY_COMPARISON, "estimate"] == pytest.approx(slope["Beijing"] - others)
    assert v.loc[cv.PRIMARY_COMPARISON, "others_slope"] == pytest.approx(others)  # Beijing is above: + is towards
    for c in CITIES[1:]:
        assert v.loc[f"Beijing − {c}", "estimate"] == pytest.approx(slope["Beijing"] - slope[c])
        assert v.loc[f"Beijing − {c}", "others_slope"] == pytest.approx(slope[c])
        assert v.loc[f"Beijing − {c}", "others_upper"] == pytest.approx(slope[c] + 1.6448536269514722 * se[c])
    pooled_se = np.hypot(0.25 * se["Shanghai"], 0.75 * se["Shenzhen"])
    assert v.loc[cv.PRIMARY_COMPARISON, "others_upper"] == pytest.approx(others + 1.6448536269514722 * pooled_se)
    assert v.loc[cv.PRIMARY_COMPARISON, "n_years"] == 8  # distinct founding years among the compared firms
    assert v.loc["Beijing − Shanghai", "n_years"] == 6
    tt = res.trend_table[res.trend_table["measure"] == "public_share"].set_index(["comparison", "statistic"])
    for c in CITIES:
        assert tt.loc[(c, "level"), "slope"] == pytest.approx(slope[c])
        assert tt.loc[(c, "level"), "lo"] <= tt.loc[(c, "level"), "hi"]
    assert tt.loc[("Shanghai+Shenzhen", "level (standardised)"), "slope"] == pytest.approx(others)
    assert tt.loc[(cv.PRIMARY_COMPARISON, "gap"), "slope"] == pytest.approx(slope["Beijing"] - others)
    d = res.decomposition.set_index(["measure", "comparison"]).loc[("public_share", cv.PRIMARY_COMPARISON)]
    assert d["beijing_slope"] == pytest.approx(slope["Beijing"]) and d["others_slope"] == pytest.approx(others)
    b_level = (16 + 7 + 21 + 9) / 75
    o_level = 0.25 * (1 + 3 + 5 + 7) / 40 + 0.75 * (3 + 8 + 6 + 12) / 120
    assert d["overall_gap"] == pytest.approx(b_level - o_level)  # standardised level gap


def test_no_beijing_or_no_other_city_is_inconclusive_and_says_why():
    firms = _synthetic_firms(seed=1)
    for drop, reason in (("Beijing", "no_beijing"), ("Shanghai|Shenzhen", "no_other_city")):
        sub = firms[~firms["city"].str.fullmatch(drop)]
        res = analyse(sub, n_subsamples=2, n_boot=10, n_perm=10, n_perm_shares=99, seed=1)
        v = res.verdict_table
        assert (v["decision"] == cv.INCONCLUSIVE).all(), v[["measure", "comparison", "decision"]]
        row = res.primary_row()
        assert row["reason"] == reason
        text = cprose.rule_sentence(row, res.alpha)
        assert text == f"Inconclusive: {cprose.REASON_TEXT[reason]}."
        assert ("no Beijing firm" in text) == (reason == "no_beijing")
        assert ("no Shanghai or Shenzhen firm" in text) == (reason == "no_other_city")
        plain = cprose.plain_decision(row, simulated=False)
        assert plain.startswith("In this corpus: ") and "cannot tell whether Shanghai and Shenzhen move" in plain


@pytest.mark.parametrize("case,reason", [("two_years", "few_years"), ("all_public", "no_variation"),
                                         ("none_public", "no_variation"), ("no_beijing", "no_beijing"),
                                         ("equal_shares", "no_gap")])
def test_degenerate_corpora_are_inconclusive_with_the_reason(case, reason):
    """Inputs on which the rule cannot run give ``inconclusive`` and the reason, never a verdict."""
    cells = {(c, y): (10, k) for c, k in zip(CITIES, (8, 3, 2)) for y in (2014, 2017, 2020)}
    if case == "two_years":  # fewer than three distinct founding years
        cells = {(c, y): v for (c, y), v in cells.items() if y != 2017}
    elif case == "no_beijing":
        cells = {(c, y): v for (c, y), v in cells.items() if c != "Beijing"}
    elif case == "equal_shares":  # every city 0.2, 0.5, 0.8: the shares move, the gap is 0 throughout
        cells = {(c, y): (10, k) for c in CITIES for y, k in zip((2014, 2017, 2020), (2, 5, 8))}
    firms, flags = _flag_firms(cells)
    if case == "all_public":
        flags = np.ones_like(flags)
    elif case == "none_public":
        flags = np.zeros_like(flags)
    res = analyse(firms, n_boot=20, n_perm_shares=999, measures=("public_share",), seed=1,
                  flags={"public_share": flags, "infrastructure_share": flags})
    v = res.verdict_table
    assert (v["decision"] == cv.INCONCLUSIVE).all()
    assert v.loc[v["primary"], "reason"].iloc[0] == reason
    assert cprose.rule_sentence(res.primary_row(), res.alpha) == f"Inconclusive: {cprose.REASON_TEXT[reason]}."


# --------------------------------------------------------------------------- the decision rule
# (the slopes against independent fits and the degenerate tables: tests/test_convergence_rule.py;
# here the worlds that only one part of the rule tells apart from convergence, the margin and
# the Monte Carlo stability of the decision)
YEARS = np.arange(2014, 2023)


def _primary(out):
    return out[cv.PRIMARY_COMPARISON]


def test_year_table_counts_firms_and_coded_per_city_and_year():
    city = [0, 0, 1, 2, 2, 2, -1, 1, 0, 1]
    years = [2014, 2014, 2015, 2016, 2016, 2013, 2015, np.nan, 2016, 2017]
    flags = [1, 0, 1, 1, 1, 1, 1, 1, 0, 0]
    n, x, t = rule.year_table(city, years, flags, 2014, 2016)
    assert t.tolist() == [2014, 2015, 2016]
    # left out: a year before the range (2013), outside the cities (-1), no year, after the range (2017)
    assert n.tolist() == [[2, 0, 1], [0, 1, 0], [0, 0, 2]]
    assert x.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 2]]


def test_comparisons_weight_the_others_by_their_dated_firms():
    pooled, sh, sz = rule.comparisons([50, 30, 10])
    assert pooled.name == cv.PRIMARY_COMPARISON and pooled.others == (1, 2)
    assert pooled.weights == pytest.approx((0.75, 0.25))
    assert (sh.name, sh.others, sh.weights) == ("Beijing − Shanghai", (1,), (1.0,))
    assert (sz.name, sz.others, sz.weights) == ("Beijing − Shenzhen", (2,), (1.0,))
    assert rule.comparisons([5, 0, 0])[0].weights == pytest.approx((0.5, 0.5))  # no other firm: equal weights
    gap, others = rule.standardised(np.array([0.7, 0.2, 0.6]), pooled)
    assert (gap, others) == pytest.approx((0.7 - 0.3, 0.75 * 0.2 + 0.25 * 0.6))


def test_a_shifting_city_mix_is_not_convergence():
    """No city changes, but Shanghai (high share) founds ever more firms and Shenzhen (low share)
    ever fewer: the firm-weighted pooled share rises, the standardised one does not move, and the
    rule rules convergence out."""
    n = np.stack([np.full(9, 100), 20 * np.arange(1, 10), 20 * np.arange(9, 0, -1)])
    x = np.stack([np.full(9, 75), n[1] // 2, n[2] // 10])  # 0.75, 0.5, 0.1 every year
    pooled_share = (x[1] + x[2]) / (n[1] + n[2])
    assert np.polyfit(YEARS, pooled_share, 1)[0] > 0.03  # a naive pooled gap would close
    r = _primary(rule.decide(x, n, YEARS, n_perm=999, rng=np.random.default_rng(0)))
    assert r["estimate"] == pytest.approx(0.0, abs=1e-9) and r["others"] == pytest.approx(0.0, abs=1e-9)
    assert r["estimate_logodds"] == pytest.approx(0.0, abs=1e-6)
    assert r["p_gap"] > 0.3 and r["p_others"] > 0.3
    assert r["decision"] == rule.RULES_OUT  # the others' move is shown to be below the margin


def test_a_common_drift_on_the_logodds_scale_is_not_convergence():
    """All three cities' log-odds rise alike: on the share scale the gap closes and the others
    move towards Beijing's level, but the log-odds gap does not move, so the rule does not
    support convergence."""
    from scipy.special import expit, logit

    n = np.full((3, 9), 1000)
    base = logit(np.array([0.75, 0.30, 0.20]))
    x = np.rint(n * expit(base[:, None] + 1.5 * (YEARS - 2014) / 8))
    r = _primary(rule.decide(x, n, YEARS, n_perm=999, rng=np.random.default_rng(1)))
    assert r["estimate"] < -1.5 and r["others"] > 3  # share points per year
    assert r["p_gap"] < 0.01 and r["p_others"] < 0.01  # the share scale alone would say "converges"
    assert abs(r["estimate_logodds"]) < 0.005 and r["p_gap_logodds"] > 0.1
    assert r["p"] == r["p_gap_logodds"]
    assert r["decision"] == rule.INCONCLUSIVE and r["reason"] == ""  # the others' move is above the margin


def test_the_equivalence_margin_decides_between_rules_out_and_inconclusive():
    """No city changes: the others' move is 0 with a one-sided bound z * SE above it; below the
    margin convergence is ruled out, above it the answer is inconclusive."""
    n = np.full((3, 9), 200)
    x = np.stack([np.full(9, 150), np.full(9, 60), np.full(9, 40)])  # 0.75, 0.30, 0.20
    _, _, se = rule.lpm_slopes(x, n, YEARS)
    upper = 100 * 1.6448536269514722 * np.hypot(0.5 * se[1], 0.5 * se[2])  # equal weights (equal sizes)
    assert 0 < upper < rule.DEFAULT_MARGIN
    r = _primary(rule.decide(x, n, YEARS, n_perm=999, rng=np.random.default_rng(2)))
    assert r["others"] == pytest.approx(0.0, abs=1e-9) and r["others_upper"] == pytest.approx(upper)
    assert r["decision"] == rule.RULES_OUT and r["reason"] == ""
    tight = _primary(rule.decide(x, n, YEARS, margin=0.9 * upper, n_perm=999, rng=np.random.default_rng(2)))
    assert tight["decision"] == rule.INCONCLUSIVE and tight["reason"] == ""


def test_unstable_and_too_few_permutations_are_inconclusive():
    n = np.full((3, 9), 20)
    x = np.stack([np.full(9, 15), [6, 6, 7, 7, 8, 8, 8, 9, 9], [4, 4, 4, 5, 5, 5, 6, 6, 6]])
    first = _primary(rule.decide(x, n, YEARS, n_perm=2000, rng=np.random.default_rng(3)))
    p = float(first["p"])
    assert 0.05 < p < 0.5 and first["p"] == max(first["p_gap"], first["p_gap_logodds"], first["p_others"])
    assert first["p_mcse"] == pytest.approx(np.sqrt(p * (1 - p) / 2000))
    # alpha just above p: the same permutations reject, but alpha lies within 2 Monte Carlo SE of p
    alpha = p + 1e-9
    on_edge = _primary(rule.decide(x, n, YEARS, alpha=alpha, n_perm=2000, rng=np.random.default_rng(3)))
    assert (on_edge["decision"], on_edge["reason"]) == (rule.INCONCLUSIVE, "unstable")
    plain = _primary(rule.decide(x, n, YEARS, alpha=alpha, n_perm=2000, rng=np.random.default_rng(3), stability=False))
    assert (plain["decision"], plain["reason"]) == (rule.SUPPORTS, "")
    few = _primary(rule.decide(x, n, YEARS, n_perm=10, rng=np.random.default_rng(3)))  # smallest p 1/11 > alpha
    assert (few["decision"], few["reason"]) == (rule.INCONCLUSIVE, "too_few_permutations")
    none = _primary(rule.decide(x, n, YEARS, n_perm=0))
    assert (none["decision"], none["reason"]) == (rule.INCONCLUSIVE, "no_permutations") and np.isnan(none["p"])
    assert none["estimate"] == pytest.approx(first["estimate"])  # the estimates need no permutation
    assert not decision_stable(0.05, 0.01, 0.05) and decision_stable(0.2, 0.01, 0.05)


def test_p_mcse_formula():
    assert p_mcse(0.04, 10000) == pytest.approx(np.sqrt(0.04 * 0.96 / 10000))
    assert np.isnan(p_mcse(float("nan"), 100)) and np.isnan(p_mcse(0.5, 0))


def test_count_level_permutation_matches_firm_shuffle():
    rng = np.random.default_rng(0)
    sizes = np.array([[5, 7, 3], [2, 4, 6]])
    flagged = np.array([6, 5])
    draws = permuted_counts(flagged, sizes, 20000, rng)
    assert (draws.sum(axis=2) == flagged).all()  # every flagged firm lands in some cohort
    assert (draws <= sizes).all()
    # expected count per cell: flagged * size / city total (hypergeometric mean)
    expected = flagged[:, None] * sizes / sizes.sum(axis=1, keepdims=True)
    assert draws.mean(axis=0) == pytest.approx(expected, abs=0.05)
    # the same by shuffling firms one by one
    firm_flags = np.array([1] * 6 + [0] * 9)
    cohort = np.repeat([0, 1, 2], [5, 7, 3])
    shuffled = np.array([np.bincount(cohort, weights=firm_flags[rng.permutation(15)], minlength=3) for _ in range(4000)])
    assert shuffled.var(axis=0) == pytest.approx(draws[:, 0].var(axis=0), rel=0.1)


def test_bootstrap_counts_are_binomial():
    rng = np.random.default_rng(1)
    b = bootstrap_counts(np.array([[3, 0]]), np.array([[10, 0]]), 20000, rng)
    assert b[:, 0, 0].mean() == pytest.approx(3, abs=0.05)
    assert b[:, 0, 0].var() == pytest.approx(10 * 0.3 * 0.7, rel=0.05)
    assert (b[:, 0, 1] == 0).all()


def test_primary_decision_is_seed_stable_on_the_default_corpus():
    from analysis.data import corpus

    firms = corpus.load("").firms
    decisions, ps = set(), []
    for seed in range(5):
        res = analyse(firms, n_boot=0, n_perm=0, measures=("public_share",), seed=seed)
        decisions.add(res.decision)
        ps.append(res.primary_row()["p"])
    assert len(decisions) == 1 and cv.INCONCLUSIVE not in decisions
    assert max(ps) - min(ps) < 0.02


# --------------------------------------------------------------------------- words from the tables
class _Corpus:
    def __init__(self, simulated):
        self.simulated, self.path = simulated, "x.csv"


def _verdict(res, study_attrs=None, source="check sets"):
    from analysis.method import coder_error as ce
    from analysis.chapters.verdict import Verdict

    study = pd.DataFrame()
    study.attrs.update(study_attrs or {})
    error = ce.CoderError(source, "dictionary", tuple((m, ce.Rates(9, 10, 1, 20)) for m in ce.MEASURE_CATEGORIES))
    return Verdict(result=res, study=study, power=pd.DataFrame(), design=pd.DataFrame(), planted_strength=None,
                   planted={}, error=error, power_misspecified=pd.DataFrame())


def _one_corpus_per_decision():
    """Flagged firms, 2014-2022, on which the rule supports (the others climb to Beijing), rules
    out (no city changes, many firms) and is inconclusive (no Beijing firm)."""
    years = range(2014, 2023)
    climb = {("Beijing", y): (40, 30) for y in years}
    climb.update({(c, y): (40, 4 + 3 * i) for c in CITIES[1:] for i, y in enumerate(years)})
    flat = {(c, y): (60, k) for c, k in zip(CITIES, (45, 18, 12)) for y in years}
    no_bj = {k: v for k, v in flat.items() if k[0] != "Beijing"}
    return {cv.SUPPORTS: climb, cv.RULES_OUT: flat, cv.INCONCLUSIVE: no_bj}


@pytest.mark.parametrize("decision", cv.DECISIONS)
def test_verdict_box_opens_with_the_plain_decision(decision):
    firms, flags = _flag_firms(_one_corpus_per_decision()[decision])
    res = analyse(firms, n_boot=50, n_perm_shares=999, measures=("public_share",), seed=2,
                  flags={"public_share": flags, "infrastructure_share": flags})
    row = res.primary_row()
    assert row["decision"] == decision
    for simulated in (False, True):
        box = cprose.verdict_box(_verdict(res), _Corpus(simulated))
        lines = box.splitlines()
        assert lines[:2] == [":::{admonition} Verdict", ":class: note"]  # neutral styling whatever the decision
        assert lines[2] == f"**{cprose.plain_decision(row, simulated)}**"
        assert lines[2].startswith("**In this simulated corpus: " if simulated else "**In this corpus: ")
        assert lines[-1] == ":::"
        # rates from the check sets: provisional, with how to make a coding sample
        assert f"Decision (provisional): *{decision}*" in box and "**Provisional.**" in box
        validated = cprose.verdict_box(_verdict(res, source="coding sample"), _Corpus(simulated))
        assert f"Decision: *{decision}*" in validated and "Provisional" not in validated
        assert "**Coder validated on this corpus.**" in validated
    first = cprose.plain_decision(row, False)
    assert ("as the brief claims" in first) == (decision == cv.SUPPORTS)
    assert ("by as much as 3 share points a year" in first) == (decision == cv.RULES_OUT)  # the margin, from the row
    assert ("cannot tell" in first) == (decision == cv.INCONCLUSIVE)
    if decision == cv.INCONCLUSIVE:
        assert f"Inconclusive: {cprose.REASON_TEXT['no_beijing']}." in box
    else:  # the estimate, its interval, the three p-values and the bound, as in the table
        for number in (f"{row['estimate']:+.1f} points a year", f"{row['lo']:+.1f} to {row['hi']:+.1f}",
                       f"{row['others_upper']:+.1f} points a year", cprose.fmt_p(row["p_others"]),
                       cprose.fmt_p(row["p"], row["p_mcse"])):
            assert number in box, number
    assert "No simulation study was run, so the power of this rule is not known." in box
    assert "planted value" not in box  # no truth given


def test_verdict_box_shows_power_and_the_planted_value_from_the_table():
    firms, flags = _flag_firms(_one_corpus_per_decision()[cv.SUPPORTS])
    res = analyse(firms, n_boot=50, n_perm_shares=999, measures=("public_share",), seed=2,
                  flags={"public_share": flags, "infrastructure_share": flags})
    power = pd.DataFrame([{"measure": "public_share", "comparison": cv.PRIMARY_COMPARISON, "power": 0.31,
                           "power_mcse": 0.03, "power_replicates": 200, "power_planted": 0.12, "mde": 9.87,
                           "mde_bound": "lower", "exaggeration": 2.4, "firms_for_80pct": 1234.0}])
    cv.with_power(res, power, {cv.PRIMARY_COMPARISON: -6.25})
    row = res.primary_row()
    assert row["planted"] == -6.25 and row["power"] == 0.31
    assert res.verdict_table.loc[~res.verdict_table["primary"], "planted"].isna().all()
    assert list(res.verdict_table.columns) == cv.VERDICT_COLUMNS
    box = cprose.verdict_box(_verdict(res, {"replicates": 200}), _Corpus(True))
    assert (f"The estimate, {row['estimate']:+.1f} points a year, stands beside the planted value, "
            "-6.2 points a year") in box
    assert "(200 corpora per world)" in box and "in 0.31 of corpora" in box and "0.12 at the strength planted" in box
    assert "more than 9.9 points a year" in box and "about 1,234 firms" in box and "2.4 times" in box
    assert "Convergence was planted" not in box  # only when the verdict knows the planted strength
    # no power table: the columns are emptied again
    cv.with_power(res, None)
    assert res.primary_row()[cv.POWER_COLUMNS].drop("mde_bound").isna().all()
    assert "power of this rule is not known" in cprose.verdict_box(_verdict(res), _Corpus(True))


def test_verdict_of_a_simulated_corpus_stands_beside_its_planted_truth():
    """The shared call on a simulated corpus whose strength is known: the planted slope is the
    simulator's, and the box shows the estimate beside it with the power at that strength."""
    from analysis.chapters import verdict
    from analysis.method import validation
    from analysis.data.simulate import simulate

    firms = simulate(n_per_city=(330, 160, 100), seed=5, convergence=1.0)
    found = verdict.convergence_verdict(
        firms, text_fields=["description", "full_description"], coder="dictionary", cohort_edges=list(EDGES),
        n_subsamples=2, n_boot=20, n_perm=20, n_perm_shares=999, alpha=0.05, margin=3.0, seed=1, replicates=20,
        text_replicates=0, strength=1.0)
    planted = validation.planted_values(1.0, validation.corpus_design(firms, EDGES))
    assert found.planted == pytest.approx(planted)
    row = found.row
    assert row["planted"] == pytest.approx(planted[cv.PRIMARY_COMPARISON]) and row["planted"] < -4
    assert 0 <= row["power_planted"] <= 1 and row["power_replicates"] == 20
    box = cprose.verdict_box(found, _Corpus(True), [15])
    assert box.splitlines()[2] == f"**{cprose.plain_decision(row, True)}**"
    assert (f"The estimate, {row['estimate']:+.1f} points a year, stands beside the planted value, "
            f"{row['planted']:+.1f} points a year") in box
    assert "Convergence was planted in this simulated corpus at strength 1" in box
    assert "entry 15 of {download}`data/analysis_plan.md" in box
    assert f"*{row['decision']}*" in cprose.policy_sentence(row)


def test_planted_convergence_in_simulated_corpora():
    """Full planted convergence mostly supports; none planted rarely does (the rule then says
    "rules out" or "inconclusive"), and the estimates sit near the planted gap slope."""
    from analysis.method import validation
    from analysis.data.simulate import simulate

    runs = {}
    for strength in (1.0, 0.0):
        rows = []
        for seed in range(5):
            firms = simulate(n_per_city=(330, 160, 100), seed=1000 + seed, convergence=strength)
            res = analyse(firms, n_boot=0, n_perm=0, n_perm_shares=999, measures=("public_share",), seed=seed)
            rows.append(res.primary_row())
        runs[strength] = pd.DataFrame(rows)
        planted = validation.planted_values(strength, validation.corpus_design(firms, EDGES))
        runs[strength].attrs["planted"] = planted[cv.PRIMARY_COMPARISON]
    full, none = runs[1.0], runs[0.0]
    assert (full["decision"] == cv.SUPPORTS).sum() >= 4
    assert (none["decision"] == cv.SUPPORTS).sum() <= 1
    assert set(none["decision"]) <= set(cv.DECISIONS)
    assert (none["decision"] != cv.SUPPORTS).sum() >= 4 and (none["reason"] == "").all()
    # planted truth (in planted labels; the coder's errors blur it a little): about -6 points a year
    # at full convergence, none without
    assert full.attrs["planted"] < -4 and none.attrs["planted"] == pytest.approx(0.0, abs=1e-9)
    assert 0.5 * full.attrs["planted"] > full["estimate"].mean() > 1.5 * full.attrs["planted"]
    assert abs(none["estimate"].mean()) < 2.0
    assert (full["others_slope"] > 0).all()  # the others move towards Beijing, as planted


def test_beijing_alone_moving_is_not_convergence():
    """Beijing drifting towards the others closes the gap, and the gap test of issue 8 rejects;
    the rule does not read that as convergence because the others do not move."""
    from analysis.data.simulate import simulate

    firms = simulate(n_per_city=(400, 300, 300), seed=7, convergence=0.0, beijing_drift=-0.5)
    res = analyse(firms, n_boot=300, n_perm=0, n_perm_shares=2000, measures=("public_share",), seed=1)
    d = res.decomposition.set_index(["measure", "comparison"]).loc[("public_share", cv.PRIMARY_COMPARISON)]
    assert d["beijing_move"] == "towards" and d["others_move"] == "unclear"
    assert d["beijing_slope"] < -3  # planted: -0.5 over 8 years = -6.25 points a year (before coder error)
    row = res.primary_row()
    assert row["p_gap"] < 0.05 and row["p_gap_logodds"] < 0.05  # the gap does close ...
    assert row["p_others"] > 0.05  # ... but not from the others' side
    assert row["decision"] != cv.SUPPORTS and row["reason"] == ""


def test_text_measures_cap_firms_per_cell_and_say_so():
    firms = _synthetic_firms(n_per_cell=12, seed=3)
    res = analyse(firms, n_subsamples=2, n_boot=0, n_perm=0, n_perm_shares=0, seed=1,
                  measures=("cosine_to_beijing", "distinctiveness"), max_text_per_cell=5)
    ct = res.cohort_table
    cos = ct[(ct["measure"] == "cosine_to_beijing") & (ct["city"] == "Shanghai")]
    assert (cos["n"] == 12).all() and (cos["n_compared"] == 5).all()
    d = ct[ct["measure"] == "distinctiveness"]
    assert (d["n_compared"] == 15).all()  # 5 per city after the cap
    assert any("at most 5 firms per city and cohort" in n for n in res.notes)
    # no cap reached: the same result as without the option
    a = analyse(firms, n_subsamples=2, n_boot=0, n_perm=0, n_perm_shares=0, seed=1, measures=("cosine_to_beijing",))
    b = analyse(firms, n_subsamples=2, n_boot=0, n_perm=0, n_perm_shares=0, seed=1, measures=("cosine_to_beijing",),
                max_text_per_cell=100)
    pd.testing.assert_frame_equal(a.cohort_table, b.cohort_table)


def test_sensitivity_specs_change_one_choice_at_a_time():
    fields = ("description", "full_description", "website_text")
    specs = cv.sensitivity_specs(fields, (2014, 2017, 2020, 2023), coder="dictionary")
    main = specs[0]
    assert main["change"] == "main specification" and main["coder"] == "dictionary"
    changes = [s["change"] for s in specs[1:]]
    assert changes.count("cohort edges") == 3 and changes.count("text fields") == 2
    for s in specs[1:]:  # exactly one choice differs from the main specification
        diff = [k for k in ("cohort_edges", "text_fields", "coder") if s[k] != main[k]]
        assert len(diff) == 1
    assert {s["text_fields"] for s in specs if s["change"] == "text fields"} == {
        ("description",), ("description", "full_description")}
    other = cv.sensitivity_specs(fields, (2014, 2017, 2020, 2023), coder="supervised")
    assert other[0]["coder"] == "supervised"


def test_sensitivity_main_row_is_the_primary_decision_and_edges_only_set_the_window():
    from analysis.data import corpus

    firms = corpus.load("").firms
    fields = ["description", "full_description"]
    specs = [s for s in cv.sensitivity_specs(fields, EDGES, coder="dictionary") if s["change"] != "coder"]
    table = cv.sensitivity(firms, fields, EDGES, n_perm_shares=999, seed=3, specs=specs)
    main = analyse(firms, text_fields=fields, coder="dictionary", n_boot=0, n_perm=0, n_perm_shares=999,
                   measures=("public_share",), seed=3).primary_row()
    first = table.iloc[0]
    assert first["change"] == "main specification"
    assert (first["estimate"], first["p"], first["decision"]) == (main["estimate"], main["p"], main["decision"])
    assert table["agrees"].tolist() == (table["decision"] == main["decision"]).tolist()
    # the rule reads founding years as numbers: other bins over the same years change nothing,
    # a window that starts a year later does
    edges = table[table["change"] == "cohort edges"].set_index("cohort_edges")["estimate"]
    assert edges["2014, 2016, 2018, 2020, 2023"] == pytest.approx(main["estimate"])
    assert edges["2015, 2018, 2021, 2023"] != pytest.approx(main["estimate"])


def test_supervised_coder_joins_the_sensitivity_table_when_check_sets_ship():
    from analysis.text import checkset

    assert checkset.available(), "the check sets ship in data/"
    specs = cv.sensitivity_specs(("description",), (2014, 2017, 2020, 2023), coder="dictionary")
    assert [s["coder"] for s in specs if s["change"] == "coder"] == ["supervised"]
