"""Tests of analysis.data.simulate: determinism, the committed corpus, planted truth recovered,
convergence acting only on late cohorts, and the two phrase banks kept apart."""

from __future__ import annotations

import re

import numpy as np
import pytest
import yaml

from analysis import labels
from analysis.data import simulate as S
from analysis.defaults import CITIES
from analysis.paths import DATA_DIR, DEFAULT_CORPUS


@pytest.fixture(scope="module")
def default():
    return S.simulate()


@pytest.fixture(scope="module")
def large():
    return S.simulate(n_per_city=(20000, 20000, 20000), seed=7, convergence=0.0)


def test_same_arguments_same_bytes(tmp_path):
    a = S.write_csv(S.simulate(seed=11), tmp_path / "a.csv").read_bytes()
    b = S.write_csv(S.simulate(seed=11), tmp_path / "b.csv").read_bytes()
    c = S.write_csv(S.simulate(seed=12), tmp_path / "c.csv").read_bytes()
    assert a == b and a != c


def test_committed_corpus_is_the_default_output(tmp_path):
    out = tmp_path / "companies.csv"
    assert S.main(["--out", str(out)]) == 0
    assert out.read_bytes() == DEFAULT_CORPUS.read_bytes()


def test_csv_format_is_fixed():
    raw = DEFAULT_CORPUS.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r\n" not in raw
    raw.decode("utf-8")
    header = raw.split(b"\n", 1)[0].decode()
    assert header.split(",") == S.COLUMNS
    assert not re.search(rb",\d{4}\.0,", raw)  # years written as integers


def test_defaults_match_the_brief(default):
    assert default["city"].value_counts().to_dict() == labels.brief_firm_counts()
    years = default["truth_year"]
    assert years.min() >= 2014 and years.max() <= 2022
    assert set(default.columns) == set(S.COLUMNS)
    assert (default["source"] == "simulated").all()
    assert default["company_id"].is_unique and default["name"].is_unique
    assert default["name"].str.endswith("(simulated)").all()
    # about 8% without a founding year; their latent year is kept
    missing = default["founded_year"].isna()
    assert 0.03 < missing.mean() < 0.15
    assert default.loc[~missing, "founded_year"].equals(default.loc[~missing, "truth_year"])
    assert default["truth_year"].notna().all()
    web = default["website"].dropna()
    assert web.str.match(r"^https://[a-z0-9-]+\.example\.com$").all()


def test_every_city_has_firms_of_every_kind(default, large):
    spec = S.load_profiles(str(S.PROFILES_FILE))
    for city in CITIES:
        for dim in ("application", "customer", "geography", "investor"):
            assert min(spec["profiles"][city][dim].values()) >= 0.1, (city, dim)
    for dim in ("application", "customer", "geography", "investor"):
        seen = large.groupby("city")[f"truth_{dim}"].nunique()
        assert (seen == len(labels.categories(dim))).all(), dim
    # in the 197-firm default corpus: every application, customer and geography kind in
    # every city, and every investor type among each city's investors (a 10% portrait can
    # be absent as a firm's dominant type in a city of 34 firms, as it is in Shenzhen)
    for dim in ("application", "customer", "geography"):
        seen = default.groupby("city")[f"truth_{dim}"].nunique()
        assert (seen == len(labels.categories(dim))).all(), dim
    for city in CITIES:
        types = set(";".join(default.loc[default["city"] == city, "investor_types"]).split(";"))
        assert types == set(labels.categories("investor")), city


def test_no_two_firms_share_a_description(default):
    assert not default["description"].duplicated().any()
    sentences = default["description"].str.count(r"[.!?](?:\s|$)")
    assert sentences.min() >= 1 and sentences.max() <= 3


def test_text_never_names_a_city(default):
    pattern = "|".join(list(CITIES) + ["北京", "上海", "深圳"])
    for col in ("description", "full_description", "website_text"):
        assert not default[col].dropna().str.contains(pattern, case=False).any(), col


def test_optional_fields_present_in_a_share(default):
    assert 0.3 < default["full_description"].notna().mean() < 0.7
    zh = default["website_text"].dropna()
    assert 0.2 < len(zh) / len(default) < 0.6
    assert zh.str.contains(r"[\u4e00-\u9fff]").all()


def test_investor_types_follow_the_portrait(default):
    codes = set(labels.categories("investor"))
    for names, types, truth in default[["investors", "investor_types",
                                        "truth_investor"]].itertuples(index=False):
        t = types.split(";")
        assert set(t) <= codes and len(t) == len(names.split(";"))
        assert t.count(truth) > len(t) / 2 or (len(t) == 2 and t.count(truth) == 2)


def test_planted_profiles_recovered_in_large_samples(large):
    spec = yaml.safe_load((DATA_DIR / "city_profiles.yml").read_text(encoding="utf-8"))
    for city in CITIES:
        sub = large[large["city"] == city]
        for dim in ("application", "customer", "geography", "investor"):
            share = sub[f"truth_{dim}"].value_counts(normalize=True)
            for code, p in spec["profiles"][city][dim].items():
                assert abs(share.get(code, 0.0) - p) < 0.02, (city, dim, code)
    assert (large["truth_profile"] == "own").all()  # convergence 0


def test_beijing_public_share_within_two_points():
    f = S.simulate(n_per_city=(20000, 10, 10), seed=3)
    share = (f.loc[f["city"] == "Beijing", "truth_customer"] == "public").mean()
    assert abs(share - 0.75) < 0.02


def test_convergence_moves_late_cohorts_only():
    kw = dict(n_per_city=(100, 8000, 8000), seed=5, years=(2014, 2022))
    off = S.simulate(convergence=0.0, **kw)
    on = S.simulate(convergence=1.0, **kw)
    # same latent years (drawn before the convergence coin), so cohorts are comparable
    assert off["truth_year"].equals(on["truth_year"])
    for f in (off, on):
        f["late"] = f["truth_year"] >= 2021
        f["early"] = f["truth_year"] == 2014

    def public(f, city, cohort):
        sub = f[(f["city"] == city) & f[cohort]]
        return (sub["truth_customer"] == "public").mean()

    for city in ("Shanghai", "Shenzhen"):
        # first year: w = 0 whatever the convergence, so the cohort is unchanged
        assert off[off["early"] & (off["city"] == city)]["truth_customer"].equals(
            on[on["early"] & (on["city"] == city)]["truth_customer"])
        assert (on.loc[on["early"] & (on["city"] == city), "truth_profile"] == "own").all()
        # last years: w = 7/8 and 1, so the public share moves most of the way to Beijing's .75
        assert public(off, city, "late") < 0.35
        assert public(on, city, "late") > 0.65
    # share switched in the last year equals the planted w(2022) = 1
    last = on[(on["truth_year"] == 2022) & (on["city"] != "Beijing")]
    assert (last["truth_profile"] == "beijing").all()


def test_convergence_formula_halfway():
    f = S.simulate(n_per_city=(0, 15000, 15000), seed=9, convergence=0.5)
    for year, w in [(2014, 0.0), (2018, 0.25), (2022, 0.5)]:
        share = (f.loc[f["truth_year"] == year, "truth_profile"] == "beijing").mean()
        assert abs(share - w) < 0.03, year


def test_text_depends_on_labels_not_city():
    """Same seed, cities swapped: the label draws differ, but a firm's text is a function of
    its labels and its own random filler only (checked on the dictionary cue words)."""
    f = S.simulate(n_per_city=(3000, 3000, 3000), seed=21, convergence=0.0)
    cue = f["description"].str.contains("government|state-owned|public|courts|municipal|regulators")
    by_label = cue.groupby(f["truth_customer"]).mean()
    assert by_label["public"] > 0.95 and by_label["private"] < 0.2
    # within a label, the city does not change the wording rate
    pub = f[f["truth_customer"] == "public"]
    rates = cue[pub.index].groupby(pub["city"]).mean()
    assert rates.max() - rates.min() < 0.03


def _templates(bank):
    spec = yaml.safe_load((S.RESOURCES_DIR / f"phrasebank_{bank}.yml").read_text(encoding="utf-8"))
    en = [t for group in spec["sentences"].values() for t in group]
    return en + list(spec["zh"]["sentences"]), spec


def test_phrase_banks_share_no_template():
    a, spec_a = _templates("a")
    b, spec_b = _templates("b")
    assert not set(a) & set(b)

    def skeleton(t):
        return re.sub(r"\{[^}]+\}", "{}", t).strip().lower()

    assert not {skeleton(t) for t in a} & {skeleton(t) for t in b}
    # label phrases differ too (same semantics, other wording)
    def phrases(spec):
        out = set()
        for dim in spec["slots"].values():
            for code in dim.values():
                for items in code.values():
                    out |= set(items)
        return out

    shared = phrases(spec_a) & phrases(spec_b)
    assert not shared, shared


def test_phrase_bank_b_describes_the_same_labels():
    f = S.simulate(n_per_city=(2000, 2000, 2000), seed=4, phrasebank="b", convergence=0.0)
    assert not f["description"].duplicated().any()
    cue = f["description"].str.contains("crypto|mining|ASIC|wallet|token|NFT|hash power|"
                                        "decentralised", case=False)
    by_label = cue.groupby(f["truth_application"]).mean()
    assert by_label["crypto"] > 0.9 and by_label["infrastructure"] < 0.25
    a = S.simulate(n_per_city=(2000, 2000, 2000), seed=4, phrasebank="a", convergence=0.0)
    assert not set(a["description"]) & set(f["description"])


def test_labels_do_not_depend_on_phrase_bank():
    a = S.simulate(seed=8, phrasebank="a")
    b = S.simulate(seed=8, phrasebank="b")
    for col in ["city", "truth_application", "truth_customer", "truth_geography",
                "truth_investor", "truth_year", "founded_year"]:
        assert a[col].equals(b[col]), col
    assert not (a["description"] == b["description"]).any()


def test_profiles_file_matches_labels():
    spec = S.load_profiles(str(S.PROFILES_FILE))
    for city in CITIES:
        for dim in ("application", "customer", "geography", "investor"):
            assert list(spec["profiles"][city][dim]) == labels.categories(dim) or \
                set(spec["profiles"][city][dim]) == set(labels.categories(dim))
            assert abs(sum(spec["profiles"][city][dim].values()) - 1) < 1e-9
    # each city's modal category is the brief's Table 1 value
    for dim in ("application", "customer", "geography", "investor"):
        for city in CITIES:
            probs = spec["profiles"][city][dim]
            assert max(probs, key=probs.get) == labels.brief_value(dim, city)


@pytest.mark.parametrize("kwargs,match", [
    (dict(convergence=1.5), "convergence"),
    (dict(phrasebank="c"), "phrase bank"),
    (dict(n_per_city=(0, 0, 0)), "n_per_city"),
    (dict(years=(2022, 2014)), "years"),
    (dict(missing_year_rate=2), "missing_year_rate"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        S.simulate(**kwargs)


def test_cli_rejects_bad_convergence(tmp_path, capsys):
    assert S.main(["--out", str(tmp_path / "x.csv"), "--convergence", "2"]) == 2
    assert "convergence" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_large_corpus_descriptions_unique():
    f = S.simulate(n_per_city=(10000, 5000, 5000), seed=1)
    assert f["description"].is_unique and f["name"].is_unique
    assert np.all(f["company_id"].str.len() == len("sim-00001"))
