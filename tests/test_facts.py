import pytest

from analysis.data import facts


def test_policy_events_load_and_marked_events():
    events = facts.policy_events()
    assert len(events) == 45
    marked = facts.marked_events(events)
    # the token-sale ban, the 1024 study session, and the two 24 Sept 2021 notices
    assert sorted(marked["date"]) == ["2017-09-04", "2019-10-24", "2021-09-24", "2021-09-24"]
    assert set(marked.loc[marked["date"] == "2021-09-24", "stance"]) == {"restrict"}
    table = facts.stance_by_level(events)
    assert table["total"].sum() == 45
    assert table.loc["central", "total"] == 25


def test_bad_policy_file_names_row_and_column(tmp_path):
    bad = tmp_path / "events.csv"
    bad.write_text("date,level,actor,kind,stance,summary,source\n"
                   "2019-10-24,central,x,speech,support,s,u\n"
                   "2019-11-01,provincial,x,plan,support,s,u\n")
    with pytest.raises(ValueError, match=r"events.csv: data row 2 \(line 3\), column 'level'"):
        facts.policy_events(bad)


def test_city_counts_put_the_brief_first_with_bases():
    wide = facts.city_counts(facts.external_counts())
    first = wide.iloc[0]
    assert first["basis"] == "Crunchbase firms (the brief)"
    assert (first["Beijing"], first["Shanghai"], first["Shenzhen"]) == (110, 53, 34)
    assert "business registry" in set(facts.external_counts()["basis"])
    assert facts.basis("registered blockchain firms (LongHash)") == "business registry"
    assert facts.basis("blockchain financing events, first half 2019") == "funding events"
    # a firm count quoted in coverage of a ranking is a count of firms, not an index score
    assert facts.basis("blockchain-related firms in city (as cited in ranking coverage)",
                       "firms (more than)") != "index score"
    assert facts.basis("China Blockchain Innovation Ranking score", "index points") == "index score"


def test_fragmentation_counts_lead_bodies_and_measures_in_force():
    import pandas as pd

    events = pd.DataFrame({
        "date": ["2017-09-04", "2017-10", "2019-01-10", "2021-09-24", "2021-09-24"],
        "level": ["central", "central", "central", "central", "Beijing"],
        "actor": ["PBOC with CAC, MIIT", "PBOC", "CAC", "NDRC with other departments", "Beijing government"],
        "stance": ["restrict", "support", "restrict", "restrict", "support"],
    })
    events["year"] = events["date"].str[:4].astype(int)
    frag = facts.fragmentation(events).set_index("year")
    assert frag.loc[2017, "central measures"] == 2 and frag.loc[2017, "distinct lead bodies so far"] == 1
    assert frag.loc[2018, "central measures"] == 0 and frag.loc[2018, "restrictive measures in force"] == 1
    assert frag.loc[2021, "distinct lead bodies so far"] == 3
    assert frag.loc[2021, "restrictive measures in force"] == 3
    assert facts.lead_body("CSRC (Science and Technology Regulation Bureau)") == "CSRC"


def test_brief_table1_is_read_and_checked(tmp_path):
    t = facts.brief_table1()
    assert t.loc["Number of firms"].tolist() == ["110", "53", "34"]
    assert t.loc["Blockchain application", "Shenzhen"] == "Crypto"
    bad = tmp_path / "t.csv"
    bad.write_text("row,Beijing,Shanghai\nx,1,2\n")
    with pytest.raises(ValueError, match="t.csv: columns must be row, Beijing, Shanghai, Shenzhen"):
        facts.brief_table1(bad)


def test_fact_tables_cite_works_not_files_and_put_official_pages_first():
    import re
    from pathlib import Path

    from analysis.paths import DATA_DIR

    for name in ("policy_events.csv", "external_counts.csv", "named_firms.csv"):
        text = (DATA_DIR / name).read_text(encoding="utf-8")
        assert not re.search(r"\b\d{3}_[0-9a-f]{6,}", text), name  # no internal seed file names
        assert "seed" not in text.lower(), name
    events = facts.policy_events()
    keys = facts.cited_keys(facts.events_table(events))
    assert "proteum2019offblocks" in keys and "hai2022chinese" in keys
    bib = (Path(__file__).resolve().parent.parent / "book" / "references.bib").read_text(encoding="utf-8")
    for frame in (events, facts.external_counts(), facts.named_firms(brief_only=False)):
        for key in facts.cited_keys(frame):
            assert re.search(r"@\w+\{" + re.escape(key) + ",", bib), key
    assert facts.source_parts("https://news.8btc.com/x | cite:hai2022chinese | http://english.beijing.gov.cn/y") == [
        "http://english.beijing.gov.cn/y", "https://news.8btc.com/x", "cite:hai2022chinese"]
    assert facts.is_official("https://shanghai.gov.cn/a") and not facts.is_official("https://notgov.cn.example/a")
    # the Beijing Blue Book row: the city's own page comes before the crypto-news report
    blue = facts.events_table(events).set_index("date").loc["2020-07-17", "source"]
    assert blue.startswith("http://english.beijing.gov.cn/")


def test_named_firms_read_the_source_column():
    sz = facts.named_firms("Shenzhen")
    assert "DOBI ATM" in set(sz["name"]) and set(sz["source"]) == {facts.BRIEF_SOURCE}
    assert len(facts.named_firms(brief_only=False)) == 30
