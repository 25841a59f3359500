"""The simulator's national and Beijing drift (issue 8): planted truth, bounds, and the
label-level simulator used by the power study agreeing with the full simulator."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.simulate import planted_gap, simulate, simulate_labels

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
    kw = dict(n_per_city=(2500, 2500, 2500), convergence=0.8, national_drift=-0.1)
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
            exp = _expected_public(c, y, 0.8, -0.1)
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
