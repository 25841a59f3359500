"""Tests of analysis.validation: the simulation study's bookkeeping and determinism, and
label recovery against planted truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.validation import label_recovery, mcse, replicate_seeds, simulation_study


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
    return simulation_study(strengths=(0.0, 1.0), replicates=4, seed=3, n_perm=19, n_subsamples=2,
                            n_per_city=(40, 20, 15), details=True)


def test_simulation_study_shape_and_formulas(small_study):
    out = small_study
    assert list(out.columns) == ["strength", "replicates", "detections", "rate", "mcse"]
    assert out["strength"].tolist() == [0.0, 1.0]
    assert (out["replicates"] == 4).all()
    assert out["rate"].to_numpy() == pytest.approx(out["detections"].to_numpy() / 4)
    assert out["mcse"].to_numpy() == pytest.approx(np.sqrt(out["rate"] * (1 - out["rate"]) / 4))
    det = out.attrs["details"]
    assert len(det) == 8
    # detections are p < alpha, counted per strength
    counts = det.assign(hit=det["p"] < 0.05).groupby("strength")["hit"].sum()
    assert counts.tolist() == out["detections"].tolist()
    # p-values are permutation p-values with 19 permutations: multiples of 1/20
    assert np.allclose(det["p"] * 20, np.round(det["p"] * 20))


def test_simulation_study_is_deterministic_and_parallel_equals_serial(small_study):
    again = simulation_study(strengths=(0.0, 1.0), replicates=4, seed=3, n_perm=19, n_subsamples=2,
                             n_per_city=(40, 20, 15), details=True, workers=2)
    pd.testing.assert_frame_equal(small_study.attrs["details"], again.attrs["details"])
    pd.testing.assert_frame_equal(small_study, again)


def test_simulation_study_detects_strong_convergence_in_large_corpora():
    out = simulation_study(strengths=(0.0, 1.0), replicates=6, seed=11, n_perm=49, n_subsamples=3,
                           n_per_city=(400, 200, 140))
    rate = dict(zip(out["strength"], out["rate"]))
    assert rate[1.0] >= 5 / 6
    assert rate[0.0] <= 1 / 6


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
