"""Tests of analysis.data.corpus: bad input fails with a message that says where; real exports
load in every supported encoding; cities are normalised; nothing is dropped silently."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pandas as pd
import pytest

from analysis.data import corpus as C
from analysis.data.corpus import CorpusError, load, normalise_city, parse_year
from analysis.paths import DATA_DIR, DEFAULT_CORPUS

FIX = Path(__file__).parent / "fixtures" / "corpus"
THIS_YEAR = C.current_year()

# (fixture, substrings the message must contain besides the file name)
BAD = [
    ("bad_missing_columns.csv", ["missing required column 'city'", "line 1", "expected columns"]),
    ("bad_crunchbase_columns.csv", ["missing required column 'Headquarters Location'"]),
    ("bad_unclosed_quote.csv", ["data row 2 (line 3)", "column 'description'", "unclosed quote"]),
    ("bad_stray_quote.csv", ["data row 2 (line 3)", "column 'name'", "stray quote"]),
    ("bad_xlsx_renamed.csv", ["xlsx", "not CSV text"]),
    ("bad_binary.csv", ["binary", "not CSV text"]),
    ("bad_empty.csv", ["empty"]),
    ("bad_header_only.csv", ["header but no data rows"]),
    ("bad_no_city.csv", ["no firm in Beijing, Shanghai or Shenzhen", "column 'city'", "Hangzhou"]),
    ("bad_id_two_cities.csv", ["company_id 'f1'", "two different cities", "column 'city'",
                               "data row 1 (line 2)", "data row 3 (line 4)"]),
    ("bad_id_two_records.csv", ["company_id 'f1'", "data row 1 (line 2)", "data row 2 (line 3)",
                                "different content"]),
    ("bad_year_text.csv", ["data row 2 (line 3)", "column 'founded_year'", "'soon' is not a year"]),
    ("bad_year_early.csv", ["data row 1 (line 2)", "column 'founded_year'", "1850", "impossible"]),
    ("bad_year_future.csv", ["data row 3 (line 4)", "column 'founded_year'", "2999",
                             f"from 1900 to {THIS_YEAR}"]),
    ("bad_truth_label.csv", ["data row 2 (line 3)", "column 'truth_customer'", "'government'",
                             "public, private"]),
    ("bad_field_count.csv", ["data row 2 (line 3)", "6 fields", "header has 5"]),
    ("bad_missing_name.csv", ["data row 2 (line 3)", "column 'name' is empty"]),
    ("bad_missing_id.csv", ["data row 2 (line 3)", "column 'company_id' is empty"]),
    ("bad_unrecognised_header.csv", ["none of the expected columns", "firm, town, year"]),
    ("bad_duplicate_header.csv", ["'city' twice"]),
    # the first record spans two lines, so data row 2 starts on line 4
    ("bad_multiline_year.csv", ["data row 2 (line 4)", "column 'founded_year'", "'20x9'"]),
    ("bad_no_text.csv", ["lacks text"]),
    ("bad_crunchbase_date.csv", ["data row 2 (line 3)", "column 'Founded Date'", "'sometime soon'"]),
    ("bad_html.csv", ["none of the expected columns"]),
]


@pytest.mark.parametrize("fixture,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_input_fails_with_a_located_message(fixture, expected):
    with pytest.raises(CorpusError) as info:
        load(FIX / fixture)
    message = str(info.value)
    assert fixture in message
    for part in expected:
        assert part in message, f"{part!r} not in {message!r}"
    assert "\n" not in message  # one message, one line


def test_every_bad_fixture_is_covered():
    on_disk = {p.name for p in FIX.glob("bad_*")}
    assert on_disk == {b[0] for b in BAD}
    assert len(on_disk) >= 15


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        load(tmp_path / "nope.csv")
    with pytest.raises(CorpusError, match="is a directory"):
        load(tmp_path)


def test_whitespace_only_and_bom_only_files_are_empty(tmp_path):
    for name, data in [("ws.csv", b"\n \n"), ("bom.csv", b"\xef\xbb\xbf")]:
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(CorpusError, match=f"{name}: the file is empty"):
            load(p)


def _canon(tmp_path, body: str, name="c.csv", header="company_id,name,city,founded_year,description"):
    p = tmp_path / name
    p.write_text(header + "\n" + body, encoding="utf-8")
    return p


def test_unknown_truth_profile_and_year(tmp_path):
    p = _canon(tmp_path, "f1,A,Beijing,2018,x,elsewhere\n",
               header="company_id,name,city,founded_year,description,truth_profile")
    with pytest.raises(CorpusError, match=r"data row 1 \(line 2\), column 'truth_profile'"):
        load(p)
    p = _canon(tmp_path, "f1,A,Beijing,2018,x,18\n",
               header="company_id,name,city,founded_year,description,truth_year")
    with pytest.raises(CorpusError, match=r"column 'truth_year': '18' is not a year"):
        load(p)


def test_several_faults_are_all_reported_with_row_and_column(tmp_path):
    p = _canon(tmp_path, "f1,A,Beijing,18,x\nf2,B,Beijing,19,y\nf3,C,Beijing,20,z\n")
    msg = str(pytest.raises(CorpusError, load, p).value)
    assert msg.splitlines()[0].endswith("3 problems; fix them and load again:")
    for row in (1, 2, 3):
        assert f"data row {row} (line {row + 1}), column 'founded_year': '{17 + row}' is not a year" in msg
    # problems of different kinds in one file, investor types in words masking none of them
    p = _canon(tmp_path, "f1,A,Beijing,soon,x,venture capital;Government Fund\n"
                         ",B,Shanghai,2019,y,Angel\nf3,C,Shenzhen,1850,z,Accelerator\n",
               header="company_id,name,city,founded_year,description,investor_types")
    lines = str(pytest.raises(CorpusError, load, p).value).splitlines()
    assert len(lines) == 4 and "investor" not in "".join(lines)
    assert "data row 1 (line 2), column 'founded_year': 'soon'" in lines[1]
    assert "data row 2 (line 3), column 'company_id' is empty" in lines[2]
    assert "data row 3 (line 4), column 'founded_year': year 1850 is impossible" in lines[3]


def test_problems_are_capped(tmp_path):
    body = "".join(f"f{i},A{i},Beijing,year{i},x\n" for i in range(C.MAX_PROBLEMS + 7))
    body += "g1,G,Beijing,2018\n"  # a short row: reported before the values are checked
    lines = str(pytest.raises(CorpusError, load, _canon(tmp_path, body)).value).splitlines()
    assert "has 4 fields but the header has 5" in lines[0]
    body = "".join(f"f{i},A{i},Beijing,year{i},x\n" for i in range(C.MAX_PROBLEMS + 7))
    lines = str(pytest.raises(CorpusError, load, _canon(tmp_path, body)).value).splitlines()
    assert lines[0].endswith(f"{C.MAX_PROBLEMS + 7} problems; fix them and load again:")
    assert len(lines) == 1 + C.MAX_PROBLEMS + 1 and lines[-1].strip() == "... and 7 more"


def test_field_count_problems_are_all_listed(tmp_path):
    p = _canon(tmp_path, "f1,A,Beijing,2018\nf2,B,Beijing,2019,y\nf3,C,Beijing,2020,z,extra\n")
    msg = str(pytest.raises(CorpusError, load, p).value)
    assert "data row 1 (line 2) has 4 fields" in msg and "data row 3 (line 4) has 6 fields" in msg


def test_a_two_megabyte_description_loads(tmp_path):
    long = "ledger " * 300_000  # 2.1 MB, above the csv module's default field limit
    p = _canon(tmp_path, f'f1,A,Beijing,2018,"{long}"\nf2,B,Shanghai,2019,short\n')
    firms = load(p).firms
    assert len(firms) == 2 and len(firms.loc[0, "description"]) == len(long.strip())


def test_control_characters_removed_counted_and_firm_kept(tmp_path):
    p = tmp_path / "c.csv"
    p.write_bytes("company_id,name,city,founded_year,description\n"
                  "f1,A\x00lpha,Beijing,2018,\"chain\x00 for\r\n the \x1b[31mstate\"\n"
                  "f2,Beta,Shanghai,2019,\"pay \u202emoc.evil\u202c rails\"\n"
                  "f3,Gamma,Shenzhen,2020,\"emoji \U0001F680 and zero\u200bwidth stay\"\n".encode())
    data = load(p)
    firms = data.firms.set_index("company_id")
    assert len(firms) == 3 and data.exclusions.empty
    assert firms.loc["f1", "name"] == "Alpha"
    assert firms.loc["f1", "description"] == "chain for\n the [31mstate"
    assert firms.loc["f2", "description"] == "pay moc.evil rails"
    assert firms.loc["f3", "description"] == "emoji \U0001F680 and zero\u200bwidth stay"
    notice = next(n for n in data.notices if "control character" in n)
    assert "removed 5 control characters" in notice and "from 3 fields" in notice
    assert "data row 1 (line 2), column 'name' (1)" in notice
    assert "data row 1 (line 2), column 'description' (2)" in notice
    assert "notices:" in C.report(data) and "removed 5 control characters" in C.report(data)


INVESTOR_WORDS = ("company_id,name,city,founded_year,description,investors,investor_types\n"
                  "f1,A,Beijing,2018,x,Beijing Municipal Guidance Fund;Sequoia Capital China,"
                  "government fund;venture capital\n"
                  "f2,B,Shanghai,2019,y,Tencent;Jane Doe;Unheard Of Partners Ltd,"
                  "Corporate Venture Capital;Angel;Accelerator\n"
                  "f3,C,Shenzhen,2020,z,,Venture Capital;Banana;domestic_vc\n")


def test_investor_types_in_words_are_coded(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text(INVESTOR_WORDS)
    data = load(p)
    types = data.firms.set_index("company_id")["investor_types"]
    assert types["f1"] == "state;international_vc"  # the word decides; the name decides
    assert types["f2"] == "corporate;domestic_vc"  # 'Jane Doe' decides nothing: Angel uncoded
    assert types["f3"] == "domestic_vc"  # no names: Venture Capital uncoded; Banana unknown
    coded = next(n for n in data.notices if "were coded" in n)
    assert "4 investor type(s)" in coded and "2 by the word, 2 by the investor's name" in coded
    left = next(n for n in data.notices if "left uncoded" in n)
    assert "3 investor type(s)" in left
    assert "data row 2 (line 3): 'Angel' (investor 'Jane Doe' not recognised)" in left
    assert "data row 3 (line 4): 'Venture Capital' (no investor name at the same position)" in left
    assert "'Banana' (unknown word)" in left


def test_investor_type_table_covers_crunchbase_vocabulary():
    from analysis.data.investors import code_of_type

    crunchbase = ["Accelerator", "Angel", "Angel Group", "Co-Working Space", "Corporate Venture Capital",
                  "Entrepreneurship Program", "Family Investment Office", "Fund Of Funds",
                  "Government Office", "Hedge Fund", "Incubator", "Individual/Angel", "Investment Bank",
                  "Investment Partner", "Legal", "Micro VC", "Pension Funds", "Private Equity Firm",
                  "Secondary Purchaser", "Startup Competition", "University Program", "Venture Capital",
                  "Venture Debt"]
    for word in crunchbase:
        assert code_of_type(word)[1] != "unknown", word
    assert code_of_type("Government Office") == ("state", "word")
    assert code_of_type("corporate venture capital") == ("corporate", "word")
    assert code_of_type("State sponsorship and investment") == ("state", "word")
    assert code_of_type("state") == ("state", "code")
    assert code_of_type("Venture Capital", "IDG Capital") == ("international_vc", "name")
    assert code_of_type("Venture Capital", "Someone") == (None, "undecided")


# --------------------------------------------------------------------------- Crunchbase
CB_EXPECTED_COUNTS = {"Beijing": 3, "Shanghai": 2, "Shenzhen": 4}
CB_EXPECTED_EXCLUSIONS = [
    ("outside the three cities", 10, "Asterlink Cloud (fixture)"),
    ("outside the three cities", 11, "Fablegrid Trust (fixture)"),
    ("outside the three cities", 12, "Haloblock Exchange (fixture)"),
    ("exact duplicate", 13, "Ledgerlight Labs (fixture)"),
    ("no text", 14, "Vesperhash Holdings (fixture)"),
]


@pytest.mark.parametrize("fixture,encoding,delimiter", [
    ("crunchbase_export.csv", "utf-8-sig", ","),
    ("crunchbase_export_utf16.txt", "utf-16", "\t"),
    ("crunchbase_export_gb18030.csv", "gb18030", ","),
])
def test_crunchbase_export_in_each_encoding(fixture, encoding, delimiter):
    raw = (FIX / fixture).read_bytes()
    if encoding == "utf-8-sig":
        assert raw.startswith(b"\xef\xbb\xbf")
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            raw.decode("utf-8")
    c = load(FIX / fixture)
    assert c.source_kind == "crunchbase" and not c.simulated
    assert c.encoding == encoding and c.delimiter == delimiter
    assert c.city_counts().to_dict() == CB_EXPECTED_COUNTS
    got = list(c.exclusions[["reason", "row", "name"]].itertuples(index=False, name=None))
    assert got == CB_EXPECTED_EXCLUSIONS
    assert c.exclusions.loc[c.exclusions["row"] == 13, "line"].item() == 14
    assert "same as data row 1" in c.exclusions.loc[3, "detail"]
    assert len(c.firms) + len(c.exclusions) == c.n_records == 14
    f = c.firms.set_index("company_id")
    # Chinese text survives every encoding
    assert f.loc["jadegrid-systems", "description"] == "一家为政府部门提供区块链政务平台的公司。"
    assert f.loc["jadegrid-systems", "city"] == "Beijing"
    assert f.loc["emberlink-tech", "city"] == "Shenzhen"
    # dates in Crunchbase forms
    assert f.loc["ledgerlight-labs", "founded_year"] == 2017
    assert f.loc["jadegrid-systems", "founded_year"] == 2019  # "Mar 2019"
    assert f.loc["onyxmint-mining", "founded_year"] == 2018  # "2018-05"
    assert pd.isna(f.loc["cinderbloc-finance", "founded_year"])
    # lists become ';'-joined, investor types left for the classifier
    assert f.loc["silverpine-pay", "investors"] == \
        "Bluecrest Global Ventures;Goldfen Partners International"
    assert f["investor_types"].isna().all()
    assert (f["source"] == "crunchbase").all()
    # no URL: a stable hash of the name
    hashed = [i for i in f.index if i.startswith("name-")]
    assert len(hashed) == 1 and f.loc[hashed[0], "name"] == "Quillnode Works (fixture)"
    assert str(f["founded_year"].dtype) == "Int64"
    assert "CB Rank (Company)" not in c.firms.columns


def test_crunchbase_ids_are_stable_across_loads():
    a = load(FIX / "crunchbase_export.csv").firms["company_id"].tolist()
    b = load(FIX / "crunchbase_export_utf16.txt").firms["company_id"].tolist()
    assert a == b


def test_validate_main_reports_counts_and_exclusions(capsys):
    assert C.validate_main([str(FIX / "crunchbase_export.csv")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Beijing\s+3", out) and re.search(r"Shenzhen\s+4", out)
    assert "data row 11 (line 12): Fablegrid Trust (fixture) -- outside the three cities" in out
    assert "exact duplicate: 1" in out


def test_validate_main_prints_error_without_traceback(capsys):
    assert C.validate_main([str(FIX / "bad_year_text.csv")]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and "Traceback" not in captured.err
    assert "data row 2 (line 3)" in captured.err


# --------------------------------------------------------------------------- cities, years
@pytest.mark.parametrize("location,city", [
    ("Beijing", "Beijing"), ("  beijing ", "Beijing"), ("Beijing Shi", "Beijing"),
    ("BEIJING SHI", "Beijing"), ("北京", "Beijing"), ("北京市海淀区", "Beijing"),
    ("Haidian, Beijing, China", "Beijing"), ("Chaoyang", "Beijing"),
    ("Dongcheng District, Beijing", "Beijing"), ("Fengtai, Beijing, China", "Beijing"),
    ("Pudong New Area, Shanghai, China", "Shanghai"), ("Jing'an, Shanghai", "Shanghai"),
    ("Jing’an, Shanghai, China", "Shanghai"), ("上海市", "Shanghai"), ("Minhang", "Shanghai"),
    ("Nanshan, Guangdong, China", "Shenzhen"), ("Bao'an, Guangdong, China", "Shenzhen"),
    ("Shekou", "Shenzhen"), ("Qianhai, Shenzhen", "Shenzhen"), ("深圳", "Shenzhen"),
    ("广东省深圳市南山区", "Shenzhen"), ("Shen Zhen", "Shenzhen"),
    # not one of the three cities
    ("Chaoyang, Liaoning, China", None), ("吉林省长春市朝阳区", None),
    ("Putuo, Zhejiang, China", None), ("Guangzhou, Guangdong, China", None),
    ("Huangpu, Guangzhou", None), ("Shanghai, United States", None),
    ("Beijing, Shanghai", None), ("Hong Kong", None), ("", None), (None, None),
])
def test_normalise_city(location, city):
    assert normalise_city(location) == city


def test_city_aliases_are_data_not_code():
    table = pd.read_csv(DATA_DIR / "city_aliases.csv", dtype=str, keep_default_na=False)
    assert list(table.columns) == ["alias", "city", "kind", "province"]
    assert not table["alias"].duplicated().any()
    assert set(table.loc[table["kind"].isin(["city", "district"]), "city"]) == \
        {"Beijing", "Shanghai", "Shenzhen"}
    for needed in ["haidian", "chaoyang", "dongcheng", "xicheng", "fengtai", "pudong", "xuhui",
                   "jingan", "huangpu", "minhang", "nanshan", "futian", "luohu", "baoan",
                   "longgang", "shekou", "qianhai", "北京", "上海", "深圳"]:
        assert needed in set(table["alias"]), needed


@pytest.mark.parametrize("value,year", [
    ("2017-03-01", "2017"), ("2017", "2017"), ("Mar 2017", "2017"), ("March 2017", "2017"),
    ("2017-03", "2017"), ("1 Mar 2017", "2017"), ("03/01/2017", "2017"), ("2017.0", "2017"),
    ("2017年3月", "2017"), ("", None), (None, None), ("soon", "soon"), ("Foo 2017", "Foo 2017"),
])
def test_parse_year(value, year):
    assert parse_year(value) == year


# --------------------------------------------------------------------------- canonical
def test_default_corpus_loads_as_simulated():
    c = load()
    assert c.path == DEFAULT_CORPUS and c.simulated and c.source_kind == "canonical"
    assert c.city_counts().to_dict() == {"Beijing": 110, "Shanghai": 53, "Shenzhen": 34}
    assert c.exclusions.empty and list(c.exclusions.columns)[:3] == ["reason", "row", "line"]
    for col in ["truth_application", "truth_customer", "truth_geography", "truth_investor",
                "truth_profile", "truth_year"]:
        assert col in c.firms.columns
    assert str(c.firms["founded_year"].dtype) == "Int64"


def test_default_corpus_round_trips_the_simulator():
    from analysis.data.simulate import simulate

    pd.testing.assert_frame_equal(load().firms, simulate())


def test_canonical_tab_separated_and_exclusions(tmp_path):
    text = ("company_id\tname\tcity\tfounded_year\tdescription\tnotes\n"
            "a\tA\tBeijing Shi\t2019\tLedger for agencies.\tkeep me\n"
            "b\tB\tHangzhou\t2019\tBaaS.\t\n"
            "a\tA\tBeijing Shi\t2019\tLedger for agencies.\tkeep me\n"
            "c\tC\t深圳\t\tMining rigs.\t\n"
            "d\tD\tShanghai\t2020\t\t\n")
    p = tmp_path / "tabs.tsv"
    p.write_text(text, encoding="utf-8")
    c = load(p)
    assert c.delimiter == "\t"
    assert c.firms["city"].tolist() == ["Beijing", "Shenzhen"]
    assert c.firms["notes"].tolist()[0] == "keep me"  # extra canonical columns kept
    assert (c.firms["source"] == "user").all() and not c.simulated
    assert c.exclusions["reason"].tolist() == ["outside the three cities", "exact duplicate",
                                               "no text"]
    assert c.exclusions["row"].tolist() == [2, 3, 5]


def test_crlf_and_utf16_canonical(tmp_path):
    text = "company_id,name,city,founded_year,description\r\nx,X,Shanghai,2018,Payments.\r\n"
    p = tmp_path / "u16.csv"
    p.write_bytes(text.encode("utf-16"))
    c = load(p)
    assert c.encoding == "utf-16" and c.firms["city"].tolist() == ["Shanghai"]


def test_western_excel_csv_is_read_as_cp1252(tmp_path):
    p = tmp_path / "west.csv"
    p.write_bytes("company_id,name,city,founded_year,description\n"
                  "f1,Zürich Labs,Beijing,2018,Café ledger tools for agencies.\n".encode("cp1252"))
    c = load(p)
    assert c.encoding == "cp1252"
    assert c.firms.loc[0, "name"] == "Zürich Labs"


def test_final_schema_is_pandera():
    import pandera.pandas as pa

    schema = C.final_schema()
    assert isinstance(schema, pa.DataFrameSchema)
    bad = load().firms.head(3).copy()
    bad.loc[0, "city"] = "Hangzhou"
    with pytest.raises(pa.errors.SchemaError):
        schema.validate(bad)


# --------------------------------------------------------------------------- datasheet
def _listed_hashes() -> dict[str, str]:
    text = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"`([\w./-]+)`\s*SHA-256:\s*`([0-9a-f]{64})`", text))


def test_datasheet_hashes_match_files():
    listed = _listed_hashes()
    assert {"companies.csv", "city_profiles.yml", "city_aliases.csv", "labels.yml"} <= set(listed)
    for name, digest in listed.items():
        actual = hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest()
        assert actual == digest, f"data/README.md lists a stale SHA-256 for {name}"
