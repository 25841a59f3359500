"""Tests of analysis.validation: the simulation study's bookkeeping and determinism, and
label recovery against planted truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.validation import (binomial_interval, corpus_design, label_recovery, mcse, power_summary,
                                 replicate_seeds, scenarios, simulation_study)


def test_mcse_formula():
    assert mcse(0.25, 100) == pytest.approx(np.sqrt(0.25 * 0.75 / 100))
    assert mcse(0.0, 20) == 0.0
    assert mcse(np.array([0.5, 1.0]), 4) == pytest.approx([0.25, 0.0])


def test_replicate_seeds_are_fixed_and_prefix_stable():
    a = replicate_seeds(7, 3, 5)
    assert a.shape == (3, 5, 2)
    assert (a == replicate_seeds(7, 3, 5)).all()
    # adding replicates or strengths does not change the earlier seeds
    assert (replicate_seeds(7, 2, 3) == a[:2, :3]).all()
    assert len(np.unique(a.reshape(-1, 2), axis=0)) == 15
    assert not (replicate_seeds(8, 3, 5) == a).all()


@pytest.fixture(scope="module")
def small_study():
    return simulation_study(strengths=(1.0,), replicates=4, seed=3, n_perm=19, n_subsamples=2, text_replicates=2,
                            n_per_city=(40, 20, 15), details=True, workers=1)


def test_simulation_study_shape_and_formulas(small_study):
    out = small_study
    assert list(out.columns) == ["scenario", "kind", "strength", "national_drift", "planted_effect", "measure",
                                 "comparison", "role", "replicates", "rejections", "rate", "mcse", "lo", "hi"]
    assert list(dict.fromkeys(out["scenario"])) == ["no change", "national drift +0.25", "convergence 1"]
    shares = out[out["measure"] == "public_share"]
    assert (shares["replicates"] == 4).all()
    assert (out.loc[out["measure"] == "distinctiveness", "replicates"] == 2).all()  # text measures: fewer
    assert out["rate"].to_numpy() == pytest.approx(out["rejections"].to_numpy() / out["replicates"].to_numpy())
    assert out["mcse"].to_numpy() == pytest.approx(np.sqrt(out["rate"] * (1 - out["rate"]) / out["replicates"]))
    assert ((out["lo"] <= out["rate"]) & (out["rate"] <= out["hi"])).all()
    det = out.attrs["details"]
    # rejections are p < alpha, counted per scenario and test
    counts = det.assign(hit=det["p"] < 0.05).groupby(["scenario", "measure", "comparison"], sort=False)["hit"].sum()
    assert counts.tolist() == out["rejections"].tolist()
    # p-values are permutation p-values with 19 permutations: multiples of 1/20
    ok = det["p"].notna() & det["measure"].isin(["public_share", "infrastructure_share"])
    assert np.allclose(det.loc[ok, "p"] * 20, np.round(det.loc[ok, "p"] * 20))
    # both the new gap test and the old level test are there
    assert set(out["role"]) == {"test", "old test"}


def test_simulation_study_is_deterministic_and_parallel_equals_serial(small_study):
    again = simulation_study(strengths=(1.0,), replicates=4, seed=3, n_perm=19, n_subsamples=2, text_replicates=2,
                             n_per_city=(40, 20, 15), details=True, workers=2)
    pd.testing.assert_frame_equal(small_study.attrs["details"], again.attrs["details"])
    pd.testing.assert_frame_equal(small_study, again)


def test_planted_truth_of_scenarios():
    from analysis.simulate import planted_gap

    sc = scenarios((0.5, 1.0), 0.25).set_index("scenario")
    # a national drift leaves the planted gap where it was; convergence narrows it
    assert sc.loc["national drift +0.25", "planted_effect"] == pytest.approx(0.0, abs=1e-12)
    assert sc.loc["no change", "planted_effect"] == pytest.approx(0.0, abs=1e-12)
    assert 0 < sc.loc["convergence 0.5", "planted_effect"] < sc.loc["convergence 1", "planted_effect"]
    # gap of the first cohort at strength 0 is the profiles' gap: 0.75 - (53*0.30 + 34*0.20)/87
    assert planted_gap((2014, 2017), 0.0)[0] == pytest.approx(0.75 - (53 * 0.30 + 34 * 0.20) / 87)


def test_old_test_rejects_under_national_drift_and_new_test_does_not():
    """Strong shared drift: the retired level test calls it convergence, the gap test does not;
    the gap test still detects strong planted convergence."""
    R = 60
    out = simulation_study(strengths=(1.0,), replicates=R, seed=21, n_perm=199, text_replicates=0,
                           n_per_city=(300, 300, 300), drift=0.25)
    out = out[out["measure"] == "public_share"]
    drift = out[out["kind"] == "national drift"].set_index("comparison")
    old, new = drift.loc["Shanghai+Shenzhen level"], drift.loc["Beijing − Shanghai+Shenzhen"]
    old_lo, _ = binomial_interval(int(old["rejections"]), R)
    new_lo, new_hi = binomial_interval(int(new["rejections"]), R)
    assert old_lo > 0.5, old            # the old test rejects most corpora with no convergence
    assert new_lo <= 0.05, new          # the new one's false-positive rate is consistent with alpha
    assert new_hi < old_lo              # and clearly below the old one's
    conv = out[(out["kind"] == "convergence") & (out["comparison"] == "Beijing − Shanghai+Shenzhen")]
    conv_lo, _ = binomial_interval(int(conv["rejections"].iloc[0]), R)
    assert conv_lo > 0.6, conv


def test_power_summary_interpolates_mde():
    rows = []
    for kind, s, eff, rate in (("no change", 0.0, 0.0, 0.05), ("convergence", 0.5, 0.1, 0.6),
                               ("convergence", 1.0, 0.2, 1.0)):
        rows.append({"scenario": f"{kind} {s}", "kind": kind, "strength": s, "national_drift": 0.0,
                     "planted_effect": eff, "measure": "public_share", "comparison": "x", "role": "test",
                     "replicates": 100, "rejections": int(rate * 100), "rate": rate, "mcse": mcse(rate, 100),
                     "lo": 0, "hi": 1})
    ps = power_summary(pd.DataFrame(rows)).iloc[0]
    assert ps["power"] == 1.0 and ps["power_effect"] == 0.2
    assert ps["mde"] == pytest.approx(0.1 + (0.8 - 0.6) / (1.0 - 0.6) * 0.1)
    weak = pd.DataFrame(rows).assign(rate=[0.05, 0.2, 0.5])
    assert power_summary(weak).iloc[0]["mde"] == "not reached"


def test_binomial_interval_exact():
    lo, hi = binomial_interval(0, 20)
    assert lo == 0 and hi == pytest.approx(1 - 0.025 ** (1 / 20))
    lo, hi = binomial_interval(10, 20)
    assert lo == pytest.approx(0.2720, abs=1e-4) and hi == pytest.approx(0.7280, abs=1e-4)


def test_corpus_design_matches_the_corpus():
    from analysis import corpus

    firms = corpus.load("").firms
    d = corpus_design(firms, (2014, 2017, 2020, 2023))
    assert d["n_per_city"] == tuple(int((firms["city"] == c).sum()) for c in ("Beijing", "Shanghai", "Shenzhen"))
    assert d["years"] == (2014, 2022)
    assert sum(d["year_weights"].values()) == firms["founded_year"].notna().sum()


@pytest.fixture(scope="module")
def recovery():
    return label_recovery(phrasebanks=("a", "b"), n_per_city=(60, 30, 24), seed=5)


def test_label_recovery_tables(recovery):
    s = recovery.summary
    assert list(s.columns) == ["phrasebank", "dimension", "coder", "macro_f1", "accuracy", "n"]
    assert len(s) == 12
    assert set(s["coder"]) == {"dictionary", "supervised"}
    assert s["macro_f1"].between(0, 1).all()
    for (bank, dim, coder), cm in recovery.confusion.items():
        assert cm.to_numpy().sum() == 114
        # rows are the true categories of the label set
        from analysis.labels import categories

        assert list(cm.index) == categories(dim)


def test_label_recovery_recovers_planted_labels(recovery):
    s = recovery.summary.set_index(["phrasebank", "dimension", "coder"])["macro_f1"]
    # both coders recover application and customer well above chance on both banks
    for bank in ("a", "b"):
        for dim in ("application", "customer"):
            for coder in ("dictionary", "supervised"):
                assert s[(bank, dim, coder)] > 0.7, (bank, dim, coder)
