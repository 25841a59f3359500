"""Tests of analysis.convergence: cohorts, exact LOO naive Bayes, the measures, the trend
test and the verdict (hand-computed values and planted effects)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from analysis import convergence as cv
from analysis.convergence import (
    ConvergenceResult,
    alignment_shares,
    analyse,
    assign_cohorts,
    centroid_cosine,
    cohort_codes,
    cohort_labels,
    distinctiveness,
    loo_multinomial_nb,
    ols_slope,
    permutation_p,
    percentile_interval,
    verdict,
)

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
    assert cv.balanced_accuracy(t, p) == pytest.approx(balanced_accuracy_score(t, p))


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
    res = analyse(firms, n_subsamples=2, n_boot=20, n_perm=20, measures=("distinctiveness", "cosine_to_beijing"),
                  primary="distinctiveness", seed=1)
    assert res.n_missing_year == 3 and res.n_outside_edges == 1
    assert list(res.cohort_table.columns[:7]) == ["measure", "city", "cohort", "estimate", "lo", "hi", "n"]
    assert {"measure", "city", "slope", "p", "direction"} <= set(res.trend_table.columns)
    assert res.n_per_cohort.loc["Shanghai", "2017–2019"] == 12
    assert res.n_per_cohort.loc["all", "no founding year"] == 3
    assert res.n_per_cohort.loc["Beijing", "outside cohorts"] == 1
    d = res.cohort_table[res.cohort_table["measure"] == "distinctiveness"]
    assert d["n"].tolist() == [36, 36, 36] and d["n_compared"].tolist() == [12, 12, 12]
    prim = res.trend_table[res.trend_table["primary"]]
    assert prim["measure"].tolist() == ["distinctiveness"] and prim["direction"].tolist() == ["decrease"]
    assert set(res.trend_table.loc[res.trend_table["measure"] == "cosine_to_beijing", "city"]) == {
        "Shanghai", "Shenzhen", "Shanghai+Shenzhen"}


def test_analyse_planted_trend_gives_small_p_and_supports():
    firms = _synthetic_firms(n_per_cell=12, converge=True, seed=3)
    res = analyse(firms, n_subsamples=3, n_boot=0, n_perm=99, measures=("distinctiveness", "cosine_to_beijing"),
                  primary="distinctiveness", seed=5)
    t = res.trend_table.set_index(["measure", "city"])
    assert t.loc[("distinctiveness", "all"), "slope"] < -0.15
    assert t.loc[("distinctiveness", "all"), "p"] <= 0.02
    assert t.loc[("cosine_to_beijing", "Shanghai+Shenzhen"), "p"] <= 0.02
    assert res.supports and "supports convergence" in res.verdict and "does not support" not in res.verdict


def test_analyse_no_trend_p_values_mostly_above_alpha():
    ps = []
    for seed in range(8):
        firms = _synthetic_firms(n_per_cell=10, converge=False, seed=100 + seed)
        res = analyse(firms, n_subsamples=2, n_boot=0, n_perm=49, measures=("distinctiveness",), primary="distinctiveness",
                      seed=seed)
        ps.append(res.primary_row()["p"])
    ps = np.array(ps)
    assert (ps > 0.05).sum() >= 6
    assert ps.max() > 0.4  # spread over (0, 1], not piled up at small values


def test_bootstrap_interval_contains_estimate_and_shrinks_with_n():
    widths = {}
    for n in (8, 40):
        firms = _synthetic_firms(n_per_cell=n, converge=True, seed=9)
        res = analyse(firms, n_subsamples=2, n_boot=100, n_perm=0, measures=("distinctiveness", "cosine_to_beijing"),
                      primary="distinctiveness", seed=2)
        ct = res.cohort_table.dropna(subset=["estimate"])
        assert ((ct["lo"] <= ct["estimate"] + 1e-9) & (ct["estimate"] <= ct["hi"] + 1e-9)).all()
        widths[n] = (ct["hi"] - ct["lo"]).groupby(ct["measure"]).mean()
    assert (widths[40] < widths[8]).all()


def test_analyse_never_reads_truth_columns():
    firms = _synthetic_firms(seed=4)
    kw = dict(n_subsamples=2, n_boot=10, n_perm=10, seed=3)
    plain = analyse(firms, **kw)
    poisoned = firms.copy()
    poisoned["truth_customer"] = "public"
    poisoned["truth_profile"] = np.where(np.arange(len(firms)) % 2, "beijing", "own")
    with_truth = analyse(poisoned, **kw)
    pd.testing.assert_frame_equal(plain.cohort_table, with_truth.cohort_table)
    pd.testing.assert_frame_equal(plain.trend_table, with_truth.trend_table)


def test_analyse_is_deterministic_for_a_seed():
    firms = _synthetic_firms(seed=6)
    kw = dict(n_subsamples=2, n_boot=10, n_perm=10, measures=("distinctiveness",), primary="distinctiveness")
    a, b = analyse(firms, seed=8, **kw), analyse(firms, seed=8, **kw)
    pd.testing.assert_frame_equal(a.cohort_table, b.cohort_table)
    assert a.verdict == b.verdict


def test_analyse_rejects_bad_arguments():
    firms = _synthetic_firms()
    with pytest.raises(ValueError, match="text_fields"):
        analyse(firms, text_fields=("website_text",), n_perm=0, n_boot=0)
    with pytest.raises(ValueError, match="unknown measures"):
        analyse(firms, measures=("vibes",), n_perm=0, n_boot=0)
    with pytest.raises(ValueError, match="founded_year"):
        analyse(firms.drop(columns="founded_year"), n_perm=0, n_boot=0)


# --------------------------------------------------------------------------- verdict
def _hand_result(slope, p, n_perm=999, measure="distinctiveness"):
    trend = pd.DataFrame([{"measure": measure, "city": "all", "slope": slope, "p": p, "direction": "decrease",
                           "n_perm": n_perm, "n_cohorts": 3, "primary": True}])
    npc = pd.DataFrame([[20, 30, 25, 1, 0], [9, 12, 10, 0, 0], [5, 8, 6, 2, 0]], index=list(CITIES),
                       columns=cohort_labels(EDGES) + ["no founding year", "outside cohorts"])
    return ConvergenceResult(cohort_table=pd.DataFrame(), trend_table=trend, verdict="", supports=False,
                             primary=measure, alpha=0.05, n_missing_year=3, n_outside_edges=0, n_per_cohort=npc,
                             cohorts=cohort_labels(EDGES))


def test_verdict_supports_branch():
    text = verdict(_hand_result(-0.1234, 0.004), 0.05)
    assert "supports convergence" in text and "does not support convergence" not in text
    assert "-0.123" in text and "p = 0.004" in text and "alpha = 0.05" in text and "999 permutations" in text
    assert "5 firms" in text  # the smallest city x cohort cell is stated


def test_verdict_does_not_support_branch_states_uncertainty():
    text = verdict(_hand_result(-0.02, 0.31), 0.05, power=0.27, power_note="at full planted convergence")
    assert "does not support convergence" in text
    assert "p = 0.310" in text and "alpha = 0.05" in text
    assert "not evidence that the cities are not converging" in text
    assert "27%" in text
    # the same numbers at a laxer alpha flip the verdict
    assert "supports convergence" in verdict(_hand_result(-0.02, 0.31), 0.4).split(":")[0]


def test_verdict_without_permutations_does_not_support():
    text = verdict(_hand_result(-0.3, float("nan"), n_perm=0), 0.05)
    assert "does not support convergence" in text and "no permutation test" in text.lower()
    assert "no evidence either way" in text


def test_verdict_without_a_trend_estimate():
    text = verdict(_hand_result(float("nan"), float("nan")), 0.05)
    assert "does not support convergence" in text and "no trend estimate" in text


def test_verdict_warns_when_too_few_permutations_to_reject():
    text = verdict(_hand_result(-0.2, 0.1, n_perm=9), 0.05)
    assert "does not support convergence" in text and "could not have rejected" in text


def test_verdict_for_the_public_share_names_the_coder_and_beijing():
    res = _hand_result(0.15, 0.01, measure="public_share")
    res.trend_table = pd.DataFrame([
        {"measure": "public_share", "city": "Beijing", "slope": -0.04, "p": np.nan, "direction": "reference",
         "n_perm": 0, "n_cohorts": 3, "primary": False},
        {"measure": "public_share", "city": "Shanghai+Shenzhen", "slope": 0.15, "p": 0.01, "direction": "increase",
         "n_perm": 999, "n_cohorts": 3, "primary": True},
    ])
    text = verdict(res, 0.05)
    assert "supports convergence" in text and "+0.150" in text and "public customers" in text
    assert "dictionary coder" in text and "Beijing's own share changes by -0.040" in text


# --------------------------------------------------------------------------- on simulated corpora
def test_default_primary_is_the_pooled_public_share():
    assert cv.PRIMARY_MEASURE == "public_share"
    firms = _synthetic_firms(seed=2)
    res = analyse(firms, n_subsamples=2, n_boot=0, n_perm=9, measures=("public_share",))
    row = res.primary_row()
    assert (row["measure"], row["city"], row["direction"]) == ("public_share", "Shanghai+Shenzhen", "increase")
    assert set(res.cohort_table["measure"]) == {"public_share"}


@pytest.mark.parametrize("strength,expected", [(1.0, "supports convergence"), (0.0, "does not support convergence")])
def test_planted_convergence_in_simulated_corpora(strength, expected):
    from analysis.simulate import simulate

    hits = 0
    for seed in range(5):
        firms = simulate(n_per_city=(330, 160, 100), seed=1000 + seed, convergence=strength)
        res = analyse(firms, n_subsamples=2, n_boot=0, n_perm=99, measures=("public_share",), seed=seed)
        assert ("does not support convergence" in res.verdict) == (not res.supports)
        hits += expected in res.verdict
    assert hits >= 4
