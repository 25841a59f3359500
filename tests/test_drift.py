"""The simulator's national and Beijing drift (issue 8): planted truth, bounds, the
label-level simulator used by the power study agreeing with the full simulator, and the
decision rule of issue 20 not reading Beijing's own drift as convergence."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.method import convergence_rule as rule
from analysis.data.simulate import planted_gap, planted_public_table, simulate, simulate_labels

CITIES = ("Beijing", "Shanghai", "Shenzhen")


def _public_by_half(firms):
    late = firms["truth_year"].astype(int) >= 2019
    pub = firms["truth_customer"] == "public"
    return {c: (pub[(firms["city"] == c) & ~late].mean(), pub[(firms["city"] == c) & late].mean()) for c in CITIES}


def test_national_drift_moves_every_city_alike_and_is_recorded():
    firms = simulate(n_per_city=(1500, 1500, 1500), seed=3, convergence=0.0, national_drift=0.25)
    assert firms.attrs["truth"]["national_drift"] == 0.25 and firms.attrs["truth"]["convergence"] == 0.0
    halves = _public_by_half(firms)
    rises = [late - early for early, late in halves.values()]
    # each city's public share rises by about the same amount (years 2014-2018 vs 2019-2022)
    assert min(rises) > 0.04
    assert max(rises) - min(rises) < 0.09
    # the planted gap does not move
    assert np.ptp(planted_gap((2014, 2017, 2020, 2023), convergence=0.0, national_drift=0.25)) == pytest.approx(0, abs=1e-12)


def test_beijing_drift_moves_beijing_alone():
    firms = simulate(n_per_city=(1500, 1500, 1500), seed=4, convergence=0.0, beijing_drift=-0.5)
    halves = _public_by_half(firms)
    assert halves["Beijing"][1] - halves["Beijing"][0] < -0.15
    for c in CITIES[1:]:
        assert abs(halves[c][1] - halves[c][0]) < 0.09
    gap = planted_gap((2014, 2017, 2020, 2023), convergence=0.0, beijing_drift=-0.5)
    assert gap[0] > gap[1] > gap[2]


def test_drift_outside_the_profiles_is_refused():
    with pytest.raises(ValueError, match="public-customer probability"):
        simulate(n_per_city=(5, 5, 5), national_drift=0.3)  # Beijing 0.75 + 0.3 > 1
    with pytest.raises(ValueError, match="public-customer probability"):
        simulate(n_per_city=(5, 5, 5), national_drift=-0.25)  # Shenzhen 0.20 - 0.25 < 0


def test_no_drift_keeps_the_default_draws():
    a = simulate(n_per_city=(30, 20, 10), seed=9)
    b = simulate(n_per_city=(30, 20, 10), seed=9, national_drift=0.0, beijing_drift=0.0)
    assert a.equals(b)


def _expected_public(city_idx, year, convergence, national, beijing=0.0):
    p = {0: 0.75, 1: 0.30, 2: 0.20}[city_idx]  # data/city_profiles.yml
    w0 = (year - 2014) / 8
    w = convergence * w0
    return (1 - w) * p + w * 0.75 + w0 * (national + (beijing if city_idx == 0 else 0.0))


@pytest.mark.parametrize("which", ["labels", "full"])
def test_both_simulators_draw_the_planted_public_probability(which):
    kw = dict(n_per_city=(2500, 2500, 2500), convergence=0.8, national_drift=-0.1, beijing_drift=-0.2)
    if which == "labels":
        labs = simulate_labels(8, np.random.default_rng(0), **kw)
        city, year, public = labs["city"].ravel(), labs["year"].ravel(), labs["customer"].ravel() == 0
    else:
        x = simulate(seed=5, **kw)
        city = x["city"].map({c: i for i, c in enumerate(CITIES)}).to_numpy()
        year = x["truth_year"].astype(int).to_numpy()
        public = (x["truth_customer"] == "public").to_numpy()
    for c in range(3):
        for y in (2014, 2018, 2022):
            sel = (city == c) & (year == y)
            exp = _expected_public(c, y, 0.8, -0.1, -0.2)
            se = np.sqrt(exp * (1 - exp) / sel.sum())
            assert abs(public[sel].mean() - exp) < 4 * se, (which, c, y)


def test_planted_gap_matches_simulated_labels():
    edges = (2014, 2017, 2020, 2023)
    gap = planted_gap(edges, convergence=1.0, n_per_city=(110, 53, 34))
    labs = simulate_labels(400, np.random.default_rng(1), n_per_city=(110, 53, 34), convergence=1.0)
    q = np.searchsorted(np.array(edges), labs["year"], side="right") - 1
    pub = labs["customer"] == 0
    for k in range(3):
        bj = pub[(labs["city"] == 0) & (q == k)].mean()
        oth = pub[(labs["city"] > 0) & (q == k)].mean()
        assert bj - oth == pytest.approx(gap[k], abs=0.02)


def test_planted_public_table_is_the_simulators_probability():
    """The planted truth the rule is judged against (per city and founding year) is the
    probability both simulators draw from."""
    firms, prob, years = planted_public_table(convergence=0.8, national_drift=-0.1, beijing_drift=-0.2,
                                              n_per_city=(110, 53, 34))
    assert years.tolist() == list(range(2014, 2023))
    for c in range(3):
        assert prob[c] == pytest.approx([_expected_public(c, y, 0.8, -0.1, -0.2) for y in years])
    assert firms.sum(axis=1) == pytest.approx([110, 53, 34])


def _year_tables(labs):
    """Firms and public-coded firms per city and founding year (R, 3, Y) of label-level corpora,
    founding years blanked where the simulator left them out."""
    pub = (labs["customer"] == 0).astype(float)
    years = np.where(labs["observed"], labs["year"], np.nan)
    tabs = [rule.year_table(labs["city"][r], years[r], pub[r], 2014, 2022) for r in range(len(pub))]
    return np.stack([t[0] for t in tabs]), np.stack([t[1] for t in tabs]), tabs[0][2]


def test_the_rule_does_not_read_beijings_own_drift_as_convergence():
    """Beijing's share falls towards the others' while the others stay put: the gap closes in
    nearly every corpus (the gap test alone would call it convergence), but the rule supports
    convergence only at about the rate alpha allows and mostly rules it out."""
    labs = simulate_labels(200, np.random.default_rng(0), n_per_city=(400, 300, 300), convergence=0.0,
                           beijing_drift=-0.5)
    n, x, t = _year_tables(labs)
    out = rule.decide(x, n, t, n_perm=200, rng=np.random.default_rng(1), stability=False)
    r = out[rule.comparisons(n.sum(axis=(0, 2)))[0].name]
    assert (r["reason"] == "").all()
    assert (r["p_gap"] < 0.05).mean() >= 0.9  # the gap closes, from Beijing's side
    assert np.median(r["beijing"]) < -4  # planted: -0.5 over 8 years = -6.25 points a year
    assert abs(np.median(r["others"])) < 1  # the others do not move
    assert (r["decision"] == rule.SUPPORTS).mean() <= 0.1
    assert (r["decision"] == rule.RULES_OUT).mean() >= 0.8
