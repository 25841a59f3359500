"""The coder's error (analysis/method/coder_error.py): counted from confusion matrices, drawn into the
simulation study, corrected for in the estimate (the correction's interval covers the truth at
its nominal rate), the tipping point, and where the rates come from (check sets or a coding
sample of the corpus)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.defaults import TEXT_FIELDS
from analysis.text import checkset, classify
from analysis.method import coder_error as ce
from analysis.method import convergence_rule as rule
from analysis.method.validation import binomial_interval


def test_rates_from_a_confusion_matrix_count_abstentions_as_not_coded():
    confusion = pd.DataFrame([[8, 1, 1], [2, 20, 3]], index=["public", "private"],
                             columns=["public", "private", "none"])
    r = ce.from_confusion(confusion, "public")
    assert (r.hits, r.positives, r.false_hits, r.negatives) == (8, 10, 2, 25)
    assert r.sensitivity == 0.8 and r.false_positive_rate == 2 / 25
    absent = ce.from_confusion(confusion, "mixed")  # a category nobody used
    assert (absent.hits, absent.positives, absent.false_hits, absent.negatives) == (0, 0, 0, 35)


def test_check_set_error_counts_what_the_dictionary_codes_on_the_check_sets():
    """Recount by hand: code every check-set description with the dictionary, compare with the
    adjudicated codes (an abstention is not "public")."""
    error = ce.check_set_error("dictionary")
    assert error.source == ce.CHECK_SETS and not error.validated
    truth, coded = [], []
    for path in checkset.available().values():
        check = checkset.load(path)
        codes = classify.code_firms(checkset.as_firms(check), text_fields=["text"])
        truth += list(check["customer"])
        coded += list(codes["customer_label"].astype(str))
    truth, coded = np.array(truth) == "public", np.array(coded) == "public"
    r = error["public_share"]
    assert (r.hits, r.positives) == (int((truth & coded).sum()), int(truth.sum()))
    assert (r.false_hits, r.negatives) == (int((~truth & coded).sum()), int((~truth).sum()))
    assert r.positives > 0 and r.negatives > 0


def test_rogan_gladen_by_hand():
    assert ce.corrected(0.3, 0.9, 0.1) == pytest.approx(0.25)
    assert ce.corrected(0.05, 0.9, 0.1) == 0.0  # below the false-positive rate: clipped
    assert ce.corrected(0.95, 0.9, 0.1) == 1.0
    assert np.isnan(ce.corrected(0.3, 0.5, 0.48))  # the coder barely separates the classes
    # the rule's log-odds part sees the same correction, cell by cell
    x, n = np.array([[3.0, 10.0]]), np.array([[10, 20]])
    assert rule.corrected_counts(x, n, (0.9, 0.1)) == pytest.approx(np.array([[2.5, 10.0]]))
    assert rule.corrected_counts(x, n, None) is x


def test_tipping_point_by_hand():
    # a gap slope of 2 points a year over 5 years, with half the firms outside the category:
    # the false-positive rate must move by 2 * 5 / 0.5 = 20 points
    assert ce.tipping_point(0.02, 0.5, 5.0) == pytest.approx(0.20)
    assert ce.tipping_point(-0.02, 0.5, 5.0) == pytest.approx(0.20)
    assert np.isnan(ce.tipping_point(0.02, 1.0, 5.0)) and np.isnan(ce.tipping_point(0.02, 0.5, 0.0))


def test_draws_follow_the_counts_and_a_perfect_coder_reproduces_the_truth():
    rng = np.random.default_rng(1)
    sens, fpr = ce.Rates(82, 90, 19, 370).draw(rng, 20_000)
    assert sens.mean() == pytest.approx(82.5 / 91, abs=0.003) and fpr.mean() == pytest.approx(19.5 / 371, abs=0.002)
    from analysis.method.validation import coder_flags
    from analysis import labels as lab

    labs = {"customer": rng.integers(0, len(lab.categories("customer")), size=(3, 50)),
            "application": rng.integers(0, len(lab.categories("application")), size=(3, 50))}
    perfect = ce.CoderError("test", "dictionary", tuple((m, ce.Fixed(1.0, 0.0)) for m in ce.MEASURE_CATEGORIES))
    flags = coder_flags(labs, perfect, rng, 3)
    assert (flags["public_share"] == (labs["customer"] == lab.categories("customer").index("public"))).all()
    assert (flags["infrastructure_share"]
            == (labs["application"] == lab.categories("application").index("infrastructure"))).all()


def test_the_corrected_interval_covers_the_true_shares_at_its_nominal_rate():
    """400 simulated corpora (three cities of 150 firms, founding years 2014-2022, true public
    shares 0.70 / 0.40 / 0.25 in every year), coded with sensitivity 0.90 and false-positive
    rate 0.05; each corpus's rates measured on its own check set of 90 public and 370 other
    items. Measured: the 95% intervals of the corrected shares cover the true shares in 0.953
    of 1,200 city-corpora (1,144; exact 95% interval 0.940-0.965), and the corrected gap slope's
    interval covers the true 0 in 0.940 of 400 corpora (0.912-0.961)."""
    rng = np.random.default_rng(20221206)
    truth, sens, fpr, n = np.array([0.70, 0.40, 0.25]), 0.90, 0.05, 150
    covered, covered_slope, trials = 0, 0, 400
    city = np.repeat(np.arange(3), n)
    for _ in range(trials):
        years = rng.integers(2014, 2023, size=3 * n)
        true = rng.random(3 * n) < truth[city]
        flags = rng.random(3 * n) < np.where(true, sens, fpr)
        rates = ce.Rates(int(rng.binomial(90, sens)), 90, int(rng.binomial(370, fpr)), 370)
        comps = rule.comparisons(np.bincount(city, minlength=3))
        table = ce.correction(city, years, flags, 2014, 2022, comps[:1], rates, 400, rng)
        shares = table[table["kind"] == "share"]
        covered += int(((shares["lo"].to_numpy() <= truth) & (truth <= shares["hi"].to_numpy())).sum())
        est = table[table["kind"] == "estimate"].iloc[0]
        covered_slope += int(est["lo"] <= 0 <= est["hi"])
    lo, hi = binomial_interval(covered, 3 * trials)
    assert lo <= 0.95 <= hi, (covered / (3 * trials), lo, hi)
    lo, hi = binomial_interval(covered_slope, trials)
    assert lo <= 0.95 <= hi, (covered_slope / trials, lo, hi)


def test_a_coding_sample_of_the_corpus_validates_the_coder(tmp_path, monkeypatch):
    """Without a coding sample the verdict's rates come from the check sets (not validated);
    with one that codes firms of this corpus they come from it, counted on those firms."""
    firms = pd.read_csv(classify.DATA_DIR / "companies.csv", dtype=str, keep_default_na=False).head(60)
    firms["founded_year"] = pd.to_numeric(firms["founded_year"], errors="coerce")
    monkeypatch.setattr(classify, "CODING_SAMPLE", tmp_path / "coding_sample.csv")
    assert ce.for_corpus(firms).source == ce.CHECK_SETS
    coded = classify.code_firms(firms, text_fields=TEXT_FIELDS)  # what for_corpus reads by default
    sample = firms[["company_id"]].head(40).copy()
    # the sample's coder disagrees with the dictionary on the first 5 firms
    predicted = coded["customer_label"].astype(str).head(40).to_numpy()
    labels = np.where(predicted == "public", "private", "public")
    labels[5:] = np.where(predicted[5:] == "public", "public", "private")
    sample = sample.assign(dimension="customer", label=labels, coder="AB")
    sample.to_csv(tmp_path / "coding_sample.csv", index=False)
    error = ce.for_corpus(firms)
    assert error.source == ce.CODING_SAMPLE and error.validated
    r = error["public_share"]
    truth_public, coded_public = labels == "public", predicted == "public"
    assert (r.hits, r.positives) == (int((truth_public & coded_public).sum()), int(truth_public.sum()))
    assert (r.false_hits, r.negatives) == (int((~truth_public & coded_public).sum()), int((~truth_public).sum()))


def test_sample_size_grows_as_the_category_gets_rare():
    # sensitivity to +-0.10 at 0.90 needs 1.96^2 * 0.09 / 0.01 = 34.6 positives; the false-positive
    # rate to +-0.05 at 0.05 needs 1.96^2 * 0.0475 / 0.0025 = 73.0 negatives
    assert ce.sample_size(0.5) == 146  # max(34.6 / 0.5, 73.0 / 0.5) = 145.9
    assert ce.sample_size(0.2) == 173  # 34.6 / 0.2 = 172.9
    assert ce.sample_size(0.5, strata=9) == 153


def test_the_log_odds_part_must_hold_under_every_correction():
    """With the rates' interval ends as further corrections, the log-odds p-value is the largest
    over them (never below the measured rates' alone), and the estimate does not move."""
    rng = np.random.default_rng(4)
    t = np.arange(2014, 2023)
    n = rng.integers(8, 15, size=(20, 3, len(t)))
    p = np.array([0.7, 0.3, 0.2])[None, :, None] + np.array([0.0, 0.03, 0.03])[None, :, None] * (t - 2014)
    x = rng.binomial(n, np.clip(p, 0, 1)).astype(float)
    rates = ce.Rates(82, 90, 19, 370)
    point = rule.decide(x, n, t, n_perm=199, rng=np.random.default_rng(1), error=rates.candidates()[0])
    every = rule.decide(x, n, t, n_perm=199, rng=np.random.default_rng(1), error=rates.candidates())
    for comp in point:
        assert np.array_equal(point[comp]["estimate"], every[comp]["estimate"])
        assert (every[comp]["p_gap_logodds"] >= point[comp]["p_gap_logodds"]).all()
    assert any((every[c]["p_gap_logodds"] > point[c]["p_gap_logodds"]).any() for c in point)
    assert len(rates.candidates()) == 5 and rates.candidates()[0] == (rates.sensitivity, rates.false_positive_rate)


def test_rates_per_language_add_up_to_the_pooled_counts_the_study_draws_from():
    table = ce.check_set_rates("dictionary")
    error = ce.check_set_error("dictionary")
    cols = ["hits", "positives", "false_hits", "negatives"]
    for measure in ce.MEASURE_CATEGORIES:
        part = table[table["measure"] == measure].set_index("language")
        r = error[measure]
        assert part.loc["all", cols].tolist() == [r.hits, r.positives, r.false_hits, r.negatives]
        assert part.drop(index="all")[cols].sum().tolist() == part.loc["all", cols].tolist()
        assert set(part.index) == {"all", "en", "zh", "mixed"}
