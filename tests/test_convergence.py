"""Tests of analysis.convergence: cohorts, exact LOO naive Bayes, the measures, the trend
test and the verdict (hand-computed values and planted effects)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from analysis import convergence as cv
from analysis import convergence_prose as cprose
from analysis.convergence import (
    alignment_shares,
    analyse,
    assign_cohorts,
    centroid_cosine,
    cohort_codes,
    cohort_labels,
    distinctiveness,
    gap_statistics,
)
from analysis.naive_bayes import balanced_accuracy, loo_multinomial_nb
from analysis.resampling import (bootstrap_counts, decision_stable, ols_slope, p_mcse, percentile_interval,
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
    # the retired level test is kept in the trend table, outside the verdict
    old = res.trend_table[res.trend_table["role"] == "old test"]
    assert set(old["comparison"]) == {cv.OLD_TEST}


def test_analyse_planted_trend_gives_small_p_for_text_measures():
    firms = _synthetic_firms(n_per_cell=12, converge=True, seed=3)
    res = analyse(firms, n_subsamples=3, n_boot=0, n_perm=99, seed=5)
    v = res.verdict_table.set_index(["measure", "comparison"])
    assert v.loc[("distinctiveness", cv.ALL_CITIES), "estimate"] < -0.15
    assert v.loc[("distinctiveness", cv.ALL_CITIES), "p"] <= 0.02
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
    gaps = [0.8 - 0.1, 0.8 - 0.5, 0.8 - 0.95]
    assert row["estimate"] == pytest.approx(ols_slope(gaps))
    assert row["direction"] == "decrease" and row["decision"] == cv.SUPPORTS and row["stable"]
    d = res.decomposition.set_index(["measure", "comparison"]).loc[("public_share", cv.PRIMARY_COMPARISON)]
    assert d["others_move"] == "towards" and d["beijing_move"] == "unclear"
    assert d["beijing_slope"] == pytest.approx(0.0)
    assert bool(d["overshoot"])  # the others end above Beijing, interval clear of zero
    text = cprose.decomposition_sentence(d)
    assert "moved towards Beijing" in text and "overshoots" in text


def test_no_beijing_or_no_other_city_is_inconclusive_and_says_why():
    firms = _synthetic_firms(seed=1)
    for drop, reason in (("Beijing", "no_beijing"), ("Shanghai|Shenzhen", "no_other_city")):
        sub = firms[~firms["city"].str.fullmatch(drop)]
        res = analyse(sub, n_subsamples=2, n_boot=10, n_perm=10, n_perm_shares=99, seed=1)
        v = res.verdict_table
        assert (v["decision"] == cv.INCONCLUSIVE).all(), v[["measure", "comparison", "decision"]]
        assert v.loc[v["primary"], "reason"].iloc[0] == reason
        text = cprose.verdict_text(res)
        assert text.startswith("Inconclusive") and ("no Beijing firm" in text or "no Shanghai or Shenzhen firm" in text)


def test_unstable_and_too_few_permutations_are_inconclusive():
    assert cv._reason_and_decision(0.049, 0.002, 10000, 0.05, "")[0] == cv.INCONCLUSIVE  # |p - alpha| < 2 MCSE
    assert cv._reason_and_decision(0.02, 0.0014, 10000, 0.05, "")[0] == cv.SUPPORTS
    assert cv._reason_and_decision(0.30, 0.0046, 10000, 0.05, "")[0] == cv.NOT_SUPPORTED
    assert cv._reason_and_decision(0.09, 0.09, 10, 0.05, "")[1] == "too_few_permutations"
    assert cv._reason_and_decision(float("nan"), float("nan"), 0, 0.05, "")[1] == "no_permutations"
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
    from analysis import corpus

    firms = corpus.load("").firms
    decisions, ps = set(), []
    for seed in range(5):
        res = analyse(firms, n_boot=0, n_perm=0, measures=("public_share",), seed=seed)
        decisions.add(res.decision)
        ps.append(res.primary_row()["p"])
    assert len(decisions) == 1 and cv.INCONCLUSIVE not in decisions
    assert max(ps) - min(ps) < 0.02


# --------------------------------------------------------------------------- words from the tables
def test_verdict_words_follow_the_table():
    firms = _synthetic_firms(seed=2)
    res = analyse(firms, n_boot=50, n_perm=0, n_perm_shares=999, measures=("public_share",), seed=2)
    row = res.primary_row()
    text = cprose.verdict_text(res)
    assert text.split(":")[0] in ("The test supports convergence at alpha = 0.05",
                                  "The test does not support convergence at alpha = 0.05",
                                  "Inconclusive")
    assert (row["decision"] == cv.SUPPORTS) == text.startswith("The test supports")
    assert "power of this test is not known" in text  # no study given
    power = pd.DataFrame([{"measure": "public_share", "comparison": cv.PRIMARY_COMPARISON, "power": 0.31,
                           "power_mcse": 0.03, "power_replicates": 200, "mde": "not reached"}])
    cv.with_power(res, power)
    text = cprose.verdict_text(res)
    assert "0.31" in text and "not evidence that the cities do not converge" in text and "not reached" in text
    box = cprose.verdict_box(res, type("C", (), {"simulated": False, "path": "x.csv"})())
    assert ":class: note" in box  # neutral styling whatever the decision


@pytest.mark.parametrize("strength,expected", [(1.0, cv.SUPPORTS), (0.0, cv.NOT_SUPPORTED)])
def test_planted_convergence_in_simulated_corpora(strength, expected):
    from analysis.simulate import simulate

    hits = 0
    for seed in range(5):
        firms = simulate(n_per_city=(330, 160, 100), seed=1000 + seed, convergence=strength)
        res = analyse(firms, n_boot=0, n_perm=0, n_perm_shares=999, measures=("public_share",), seed=seed)
        hits += res.decision == expected
    assert hits >= 4


def test_beijing_drift_closes_the_gap_from_beijing_side():
    from analysis.simulate import simulate

    firms = simulate(n_per_city=(400, 300, 300), seed=7, convergence=0.0, beijing_drift=-0.5)
    res = analyse(firms, n_boot=300, n_perm=0, n_perm_shares=2000, measures=("public_share",), seed=1)
    d = res.decomposition.set_index(["measure", "comparison"]).loc[("public_share", cv.PRIMARY_COMPARISON)]
    assert d["beijing_move"] == "towards" and d["others_move"] == "unclear"
    assert res.decision == cv.SUPPORTS


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


def test_supervised_coder_joins_the_sensitivity_table_when_check_sets_ship():
    from analysis import checkset

    assert checkset.available(), "the check sets ship in data/"
    specs = cv.sensitivity_specs(("description",), (2014, 2017, 2020, 2023), coder="dictionary")
    assert [s["coder"] for s in specs if s["change"] == "coder"] == ["supervised"]
