"""Tests of analysis.method.convergence_rule: the slopes against independent fits, the rule's decisions
on tables whose answer is known, and its degenerate cases."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.method import convergence_rule as rule

T = np.arange(2014, 2023)
POOLED = "Beijing − Shanghai+Shenzhen"


def _firms(x, n, t=T):
    """Firm-level (year, code) rows of a city's table."""
    years, codes = [], []
    for year, xi, ni in zip(t, np.asarray(x, int), np.asarray(n, int)):
        years += [year] * ni
        codes += [1] * xi + [0] * (ni - xi)
    return np.array(years, float), np.array(codes, float)


def _table(shares, n):
    """A (K, Y) table with firms n per cell and round(share * n) coded."""
    n = np.broadcast_to(np.asarray(n), (3, len(T))).astype(int)
    return np.rint(np.asarray(shares) * n).astype(int), n


def test_lpm_slope_and_robust_se_equal_a_firm_level_fit():
    rng = np.random.default_rng(0)
    n = rng.integers(1, 9, size=(3, len(T)))
    x = rng.binomial(n, 0.4)
    level, slope, se = rule.lpm_slopes(x, n, T)
    for k in range(3):
        yr, f = _firms(x[k], n[k])
        X = np.column_stack([np.ones_like(yr), yr - yr.mean()])
        beta, *_ = np.linalg.lstsq(X, f, rcond=None)
        e = f - X @ beta
        bread = np.linalg.inv(X.T @ X)
        hc1 = bread @ (X.T * e ** 2) @ X @ bread * len(f) / (len(f) - 2)
        assert slope[k] == pytest.approx(beta[1], rel=1e-12)
        assert level[k] == pytest.approx(f.mean())
        assert se[k] == pytest.approx(np.sqrt(hc1[1, 1]), rel=1e-10)


def test_logodds_slope_equals_an_unpenalised_logistic_regression_with_the_pseudo_firms():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    n = rng.integers(2, 12, size=(3, len(T)))
    p = 1 / (1 + np.exp(-(-1 + 0.3 * (T - 2018))))
    x = rng.binomial(n, p)
    _, slope = rule.logodds_slopes(x, n, T)
    for k in range(3):
        yr, f = _firms(x[k], n[k])
        # half a coded and half an uncoded pseudo-firm, spread over the years like the firms
        share = n[k] / n[k].sum()
        X = np.concatenate([yr, T, T])[:, None] - 2018.0
        y = np.concatenate([f, np.ones(len(T)), np.zeros(len(T))])
        w = np.concatenate([np.ones_like(f), 0.5 * share, 0.5 * share])
        fit = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y, sample_weight=w)
        assert slope[k] == pytest.approx(fit.coef_[0, 0], abs=1e-6)


def test_logodds_slope_is_finite_when_every_firm_is_coded_or_years_separate_the_codes():
    n = np.full((3, len(T)), 5)
    x = np.where(T >= 2018, 5, 0)[None].repeat(3, axis=0)  # complete separation by year
    x[2] = 5  # every firm coded
    _, slope = rule.logodds_slopes(x, n, T)
    assert np.isfinite(slope).all()
    assert slope[0] > 0.5 and abs(slope[2]) < 1e-6


def test_standardised_pooling_ignores_the_mix_of_the_other_cities():
    """Shares exactly linear in year: each city's slope does not depend on how its firms spread
    over the years, so tilting Shanghai's firms late and Shenzhen's early changes no estimate of
    the rule, while a firm-weighted pooled share would move."""
    shares = np.array([np.full(len(T), 0.75), 0.30 + 0.02 * (T - 2014), 0.20 + 0.03 * (T - 2014)])
    n_even = np.full((3, len(T)), 40)
    tilt = np.linspace(0.5, 1.5, len(T))
    n_tilted = (n_even * np.array([np.ones(len(T)), tilt, tilt[::-1]])).astype(int) * 10
    x_even, x_tilted = shares * n_even, shares * n_tilted
    comps = rule.comparisons([360, 360, 360])  # the same fixed weights for both
    a = rule.decide(x_even, n_even, T, n_perm=0, comps=comps)[POOLED]
    b = rule.decide(x_tilted, n_tilted, T, n_perm=0, comps=comps)[POOLED]
    assert a["estimate"] == pytest.approx(b["estimate"], rel=1e-9)
    assert a["others"] == pytest.approx(100 * (0.02 + 0.03) / 2)
    pooled = lambda x, n: x[1:].sum(axis=0) / n[1:].sum(axis=0)  # noqa: E731  firm-weighted, for contrast
    assert np.polyfit(T, pooled(x_even, n_even), 1)[0] != pytest.approx(np.polyfit(T, pooled(x_tilted, n_tilted), 1)[0],
                                                                       rel=1e-3)


@pytest.mark.parametrize("world,expected", [
    ("convergence", rule.SUPPORTS),       # the others move towards Beijing, the gap closes
    ("flat", rule.RULES_OUT),             # nothing moves: a move of the margin's size is ruled out
    ("beijing_alone", rule.RULES_OUT),    # the gap closes, but only because Beijing moves
])
def test_large_tables_get_the_answer_of_their_world(world, expected):
    base = np.array([0.75, 0.30, 0.20])
    step = (T - 2014) / 8
    if world == "convergence":
        shares = np.array([np.full(len(T), 0.75), 0.30 + 0.45 * step, 0.20 + 0.55 * step])
    elif world == "flat":
        shares = np.repeat(base[:, None], len(T), axis=1)
    else:
        shares = np.array([0.75 - 0.40 * step, np.full(len(T), 0.30), np.full(len(T), 0.20)])
    x, n = _table(shares, 2000)
    out = rule.decide(x, n, T, n_perm=999, rng=np.random.default_rng(2))[POOLED]
    assert out["decision"] == expected, out
    assert out["reason"] == ""


def test_a_batch_decides_as_its_tables_one_by_one():
    rng = np.random.default_rng(3)
    n = rng.integers(1, 15, size=(4, 3, len(T)))
    x = rng.binomial(n, 0.4)
    comps = rule.comparisons(n.sum(axis=(0, 2)))
    batch = rule.decide(x, n, T, n_perm=0, comps=comps)
    for b in range(4):
        one = rule.decide(x[b], n[b], T, n_perm=0, comps=comps)
        for name in one:
            assert batch[name]["estimate"][b] == pytest.approx(one[name]["estimate"])
            assert batch[name]["others_upper"][b] == pytest.approx(one[name]["others_upper"])
            assert batch[name]["decision"][b] == one[name]["decision"]


def test_permuted_tables_keep_each_citys_years_and_codes():
    from analysis.method.resampling import permuted_counts_batch

    rng = np.random.default_rng(4)
    n = rng.integers(0, 6, size=(2, 3, len(T)))
    x = rng.binomial(n, 0.5)
    px = permuted_counts_batch(x.sum(axis=-1), n, 50, rng)
    assert (px.sum(axis=-1) == x.sum(axis=-1)[:, None]).all()  # coded firms per city kept
    assert ((px >= 0) & (px <= n[:, None])).all()  # never more coded firms than firms in a year


@pytest.mark.parametrize("case,reason", [
    ("two_years", "few_years"), ("no_beijing", "no_beijing"), ("all_public", "no_variation"),
    ("no_others", "no_other_city"), ("empty", "no_dated_firms")])
def test_degenerate_tables_are_inconclusive_and_say_why(case, reason):
    x, n = _table(np.full((3, len(T)), 0.5), 10)
    x, n = x.copy(), n.copy()
    if case == "two_years":
        n[:, 2:] = x[:, 2:] = 0
    elif case == "no_beijing":
        n[0] = x[0] = 0
    elif case == "all_public":
        x = n.copy()
    elif case == "no_others":
        n[1:] = x[1:] = 0
    else:
        n[:] = x[:] = 0
    out = rule.decide(x, n, T, n_perm=99, rng=np.random.default_rng(5))[POOLED]
    assert out["decision"] == rule.INCONCLUSIVE
    assert out["reason"] == reason


def test_too_few_permutations_and_an_unstable_p_are_inconclusive():
    x, n = _table(np.array([np.full(len(T), 0.75), 0.3 + 0.05 * (T - 2014), 0.2 + 0.05 * (T - 2014)]), 200)
    few = rule.decide(x, n, T, n_perm=9, rng=np.random.default_rng(6))[POOLED]
    assert few["reason"] == "too_few_permutations" and few["decision"] == rule.INCONCLUSIVE
    none = rule.decide(x, n, T, n_perm=0)[POOLED]
    assert none["reason"] == "no_permutations"


def test_planted_slopes_of_full_convergence():
    from analysis.data.simulate import planted_public_table

    firms, prob, t = planted_public_table(convergence=1.0)
    out = rule.planted_slopes(firms, prob, t)
    assert out["Beijing − Shanghai"]["others"] == pytest.approx(100 * 0.45 / 8)
    assert out["Beijing − Shenzhen"]["estimate"] == pytest.approx(-100 * 0.55 / 8)
    assert out[POOLED]["others"] == pytest.approx(100 * (53 * 0.45 + 34 * 0.55) / 87 / 8)


def test_a_handful_of_firms_coded_alike_does_not_rule_convergence_out():
    """All of a few Shanghai and Shenzhen firms uncoded: their robust variance is 0, but the
    bound keeps the binomial floor, so five firms cannot rule a move out."""
    n = np.zeros((3, len(T)), int)
    x = np.zeros((3, len(T)), int)
    for j, year in enumerate((2014, 2017, 2020)):
        n[:, year - 2014] = (5, 2, 1)
        x[0, year - 2014] = (2, 3, 2)[j]
    out = rule.decide(x, n, T, n_perm=999, rng=np.random.default_rng(7))
    for name, row in out.items():
        assert row["decision"] != rule.RULES_OUT, (name, row)
        assert row["others_upper"] > 3.0


def test_a_city_comparison_counts_only_its_own_cities_years():
    n = np.zeros((3, len(T)), int)
    x = np.zeros((3, len(T)), int)
    n[0, [0, 6]], x[0, [0, 6]] = 50, (40, 38)
    n[1, [0, 6]], x[1, [0, 6]] = 50, (5, 30)
    n[2, 3], x[2, 3] = 50, 10
    out = rule.decide(x, n, T, n_perm=999, rng=np.random.default_rng(8))
    assert out["Beijing − Shanghai"]["reason"] == "few_years"
    assert out["Beijing − Shanghai"]["decision"] == rule.INCONCLUSIVE


def test_a_city_founded_in_a_single_year_is_named_as_the_reason():
    n = np.full((3, len(T)), 20)
    n[2] = 0
    n[2, 4] = 30
    x = np.rint(n * np.array([[0.7], [0.4], [0.3]])).astype(int)
    out = rule.decide(x, n, T, n_perm=99, rng=np.random.default_rng(9))
    assert out[POOLED]["reason"] == "one_year_city"
    assert out["Beijing − Shanghai"]["reason"] == ""  # Beijing and Shanghai span nine years
