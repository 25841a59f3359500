"""Load a corpus of firms safely: the canonical CSV or a Crunchbase export (DESIGN §4).

``load(path)`` returns a :class:`Corpus` with ``.firms`` (one row per firm, canonical
schema, ``truth_*`` columns kept when present) and ``.exclusions`` (every record left out,
with its reason).  Nothing is dropped silently, and a broken file fails before anything
downstream runs, with one :class:`CorpusError` that names the file, what was expected, and
where the fault sits: ``data row N (line M)`` (data rows count records after the header,
from 1, skipping blank lines; lines are physical lines of the file, the header being line
1) and the column, by the name the file uses.

The contract is stated with pandera (three schemas: the raw columns of each input kind,
the mapped input before exclusions, and the final corpus); pandera's failure cases are
translated into CorpusError messages.

City names are normalised through ``data/city_aliases.csv`` (alias, city, kind, province):
English spellings and case, "Beijing Shi", Chinese names (北京, 上海市), and districts
(Haidian, Pudong, Nanshan, 海淀区 ...), where a district only counts when nothing else in
the location points to another province or country ("Chaoyang, Liaoning, China" is not
Beijing).
"""

from __future__ import annotations

import argparse
import codecs
import csv
import datetime as _dt
import hashlib
import io
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import pandas as pd

from analysis import labels as _labels
from analysis.defaults import CITIES
from analysis.paths import DATA_DIR, corpus_path
from analysis.data.investors import code_of_type
from analysis.data import snapshot

ALIASES_FILE = DATA_DIR / "city_aliases.csv"

CANONICAL_COLUMNS = [
    "company_id", "name", "city", "founded_year", "description", "full_description",
    "website_text", "industries", "investors", "investor_types", "website", "source",
]
CANONICAL_REQUIRED = ["company_id", "name", "city", "founded_year", "description"]
TRUTH_COLUMNS = ["truth_application", "truth_customer", "truth_geography", "truth_investor",
                 "truth_profile", "truth_year"]
TEXT_COLUMNS = ["description", "full_description", "website_text"]

# Crunchbase export column -> canonical column
CRUNCHBASE_COLUMNS = {
    "Organization Name": "name",
    "Organization Name URL": "_url",
    "Headquarters Location": "city",
    "Description": "description",
    "Full Description": "full_description",
    "Industries": "industries",
    "Founded Date": "founded_year",
    "Top 5 Investors": "investors",
    "Website": "website",
}
CRUNCHBASE_REQUIRED = ["Organization Name", "Headquarters Location", "Description"]

EARLIEST_YEAR = 1900
#: problems listed in one CorpusError before "... and N more"
MAX_PROBLEMS = 20
#: characters removed from every field: C0/C1 controls (NUL included; tab and line breaks kept)
#: and the bidirectional embedding, override and isolate controls (they reorder displayed text)
_CONTROL_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# a field may be as long as the file (Python's csv module stops at 131,072 characters by default)
csv.field_size_limit(2**31 - 1)
_DELIMITERS = [",", "\t", ";", "|"]
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}


class CorpusError(ValueError):
    """A corpus file that cannot be used; the message says which file, what was expected
    and where (data row and line, column)."""


@dataclass
class Corpus:
    firms: pd.DataFrame
    exclusions: pd.DataFrame
    path: Path
    source_kind: str  # "canonical" | "crunchbase"
    simulated: bool
    encoding: str = "utf-8"
    delimiter: str = ","
    n_records: int = 0
    column_names: dict = field(default_factory=dict)  # canonical -> name in the file
    #: what loading changed without excluding a firm (control characters removed, investor
    #: types mapped or left uncoded), one sentence each
    notices: list = field(default_factory=list)
    website_snapshot: object = None  # snapshot.SnapshotInfo when a snapshot was merged

    def city_counts(self) -> pd.Series:
        return self.firms["city"].value_counts().reindex(list(CITIES), fill_value=0)


def current_year() -> int:
    """The current year by the local date: the latest founding year a corpus may hold.

    Returns
    -------
    int
        This year.
    """
    return _dt.date.today().year


# --------------------------------------------------------------------------- bytes -> text
_SIGNATURES = [
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook, perhaps renamed)"),
    (b"\xd0\xcf\x11\xe0", "an old-style Office file (an Excel .xls workbook, perhaps renamed)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\x1f\x8b", "a gzip archive"),
]
_EXPECT_TEXT = ("expected CSV text (UTF-8 with or without BOM, UTF-16 with BOM, GB18030/GBK or "
                "Windows-1252); "
                "in Excel use 'Save As > CSV UTF-8'")


def _decode(data: bytes, path: Path) -> tuple[str, str]:
    if len(data.strip()) == 0 or data in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise CorpusError(f"{path}: the file is empty; expected a header line and one row per firm")
    for sig, what in _SIGNATURES:
        if data.startswith(sig):
            raise CorpusError(f"{path}: this is {what}, not CSV text; {_EXPECT_TEXT}")
    if data.startswith(codecs.BOM_UTF8):
        enc = "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        enc = "utf-16"
    elif b"\x00" in data[:4096]:
        # UTF-16 without BOM: every other byte of ASCII text is zero
        head = data[:4096]
        if head[1::2].count(0) > 0.4 * len(head[1::2]):
            enc = "utf-16-le"
        elif head[0::2].count(0) > 0.4 * len(head[0::2]):
            enc = "utf-16-be"
        elif data.count(0) <= max(8, 0.001 * len(data)) and _is_utf8(data):
            enc = "utf-8"  # UTF-8 text with a stray NUL in a field (removed from the field later)
        else:
            raise CorpusError(f"{path}: the file holds binary data (NUL bytes), not CSV text; {_EXPECT_TEXT}")
    else:
        enc = None
        try:
            data.decode("utf-8")
            enc = "utf-8"
        except UnicodeDecodeError:
            enc = _guess_legacy_encoding(data)
        if enc is None:
            raise CorpusError(f"{path}: could not read the file as text in any supported encoding; "
                              f"{_EXPECT_TEXT}")
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as exc:
        raise CorpusError(f"{path}: the file is not valid {enc} text (byte {exc.start}); "
                          f"{_EXPECT_TEXT}") from None
    controls = sum(1 for ch in text[:20000] if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n")
    if controls > max(8, 0.02 * min(len(text), 20000)):  # a few stray ones are removed from fields
        raise CorpusError(f"{path}: the file holds binary data, not CSV text; {_EXPECT_TEXT}")
    return text, enc


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _guess_legacy_encoding(data: bytes) -> str | None:
    """Non-UTF-8 bytes.  GB18030 (a superset of GBK/GB2312, what Excel writes on Chinese
    Windows) when the bytes decode as such and charset-normalizer finds a Chinese encoding
    or nothing; otherwise Windows-1252 (Excel on Western Windows) when it decodes;
    otherwise charset-normalizer's guess."""
    from charset_normalizer import from_bytes

    def decodes(enc):
        try:
            data.decode(enc)
            return True
        except UnicodeDecodeError:
            return False

    best = from_bytes(data).best()
    guess = best.encoding.lower().replace("-", "_") if best is not None else None
    chinese = {"gb2312", "gbk", "gb18030", "hz", "hz_gb_2312", "big5", "cp936", "euc_cn"}
    if decodes("gb18030") and (guess is None or guess in chinese):
        return "gb18030"
    if decodes("cp1252"):
        return "cp1252"
    return guess


# --------------------------------------------------------------------------- text -> records
def _norm_header(name: str) -> str:
    return re.sub(r"\s+", " ", name.replace("\ufeff", "")).strip()


def _header_score(names: list[str]) -> int:
    known = {c.casefold() for c in CANONICAL_COLUMNS + TRUTH_COLUMNS} | \
            {c.casefold() for c in CRUNCHBASE_COLUMNS}
    return sum(1 for n in names if _norm_header(n).casefold() in known)


def _detect_delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    scores = {}
    for d in _DELIMITERS:
        try:
            names = next(csv.reader([first], delimiter=d))
        except (csv.Error, StopIteration):
            continue
        scores[d] = (_header_score(names), len(names))
    best = max(scores.items(), key=lambda kv: kv[1]) if scores else (",", (0, 0))
    if best[1][0] > 0:
        return best[0]
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        return ","


def _locate_quote_fault(text: str, start_line: int, delim: str) -> tuple[int, str]:
    """Field index (0-based) where quoting goes wrong in the record starting at
    ``start_line`` (1-based), and a description of the fault."""
    lines = text.splitlines(keepends=True)
    chunk = "".join(lines[start_line - 1:])
    field_idx, at_start, in_quotes, quote_field = 0, True, False, 0
    i = 0
    while i < len(chunk):
        ch = chunk[i]
        if in_quotes:
            if ch == '"':
                if i + 1 < len(chunk) and chunk[i + 1] == '"':
                    i += 2
                    continue
                in_quotes = False
                nxt = chunk[i + 1] if i + 1 < len(chunk) else "\n"
                if nxt not in (delim, "\r", "\n"):
                    return field_idx, ("a quoted field is closed and followed by more text "
                                       "(a stray quote inside the field?)")
        elif ch == '"' and at_start:
            in_quotes, quote_field = True, field_idx
        elif ch == delim:
            field_idx += 1
            at_start = True
            i += 1
            continue
        elif ch in "\r\n":
            return field_idx, "malformed quoting"
        at_start = False
        i += 1
    if in_quotes:
        return quote_field, "a quote opens here and is never closed (unclosed quote)"
    return field_idx, "malformed quoting"


def _read_records(text: str, path: Path, delim: str):
    """Header and data records (each with its data-row number and first line)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    header = None
    records: list[tuple[int, int, list[str]]] = []
    prev_line = 0
    row_no = 0
    while True:
        start = prev_line + 1
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error:
            names = header or []
            idx, what = _locate_quote_fault(text, start, delim)
            col = names[idx] if idx < len(names) else f"field {idx + 1}"
            where = (f"data row {row_no + 1} (line {start})" if header is not None
                     else f"the header (line {start})")
            raise CorpusError(f"{path}: {where}, column '{col}': {what}; expected every "
                              f"quoted field to end with a closing \" (write a quote inside a "
                              f"field as \"\")") from None
        prev_line = reader.line_num
        if not rec or all(not f.strip() for f in rec):
            continue
        if header is None:
            header = [_norm_header(h) for h in rec]
            continue
        row_no += 1
        records.append((row_no, start, rec))
    return header, records


# --------------------------------------------------------------------------- cities
def _norm_place(s: str) -> str:
    s = unicodedata.normalize("NFKC", s).casefold()
    s = re.sub(r"[\u2018\u2019'`\u00b4.]", "", s)
    s = re.sub(r"[-_]", " ", s)
    return re.sub(r"\s+", " ", s).strip()


@lru_cache(maxsize=2)
def _aliases(path: str = str(ALIASES_FILE)) -> tuple[dict, list]:
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    expected = {"alias", "city", "kind", "province"}
    if set(table.columns) != expected:
        raise ValueError(f"{path}: columns must be {sorted(expected)}")
    lookup = {}
    for alias, city, kind, prov in table.itertuples(index=False):
        lookup[_norm_place(alias)] = (city or None, kind, prov)
    cjk = sorted((a for a in lookup if re.search(r"[\u4e00-\u9fff]", a)), key=len, reverse=True)
    return lookup, cjk


def normalise_city(location) -> str | None:
    """One of Beijing/Shanghai/Shenzhen, or None when the location is elsewhere or
    cannot be placed.  Uses data/city_aliases.csv.

    Parameters
    ----------
    location : str or None
        A location as written, e.g. "Haidian, Beijing, China" or "深圳市" (NaN as None).

    Returns
    -------
    str or None
        The city; None for a place elsewhere, two cities, or a location it cannot place.
    """
    if location is None or (isinstance(location, float) and location != location):
        return None
    lookup, cjk = _aliases()
    parts = [p for p in (_norm_place(x) for x in re.split(r"[,，;；/|、]", str(location))) if p]
    hits, unknown = [], 0
    for p in parts:
        if p in lookup:
            hits.append(lookup[p])
            continue
        if re.search(r"[\u4e00-\u9fff]", p):
            rest, found = p, False
            for a in cjk:
                if a in rest:
                    hits.append(lookup[a])
                    rest = rest.replace(a, " ")
                    found = True
            if found and not rest.strip():
                continue
            if found:
                continue  # leftover characters (street names etc.) are harmless for CJK
        unknown += 1
    cities = {c for c, k, _ in hits if k == "city"}
    districts = {c for c, k, _ in hits if k == "district"}
    if len(cities) > 1:
        return None
    if cities:
        city = next(iter(cities))
    elif len(districts) == 1:
        if unknown:
            return None  # a district name with something we cannot place: do not guess
        city = next(iter(districts))
    else:
        return None
    province = {"Beijing": "Beijing", "Shanghai": "Shanghai", "Shenzhen": "Guangdong"}[city]
    for c, kind, prov in hits:
        if kind == "other_city":
            return None
        if kind == "region" and prov != province:
            return None
        if kind == "country" and prov != "China":
            return None
        if kind == "district" and c != city and not cities:
            return None
    return city


# --------------------------------------------------------------------------- years
def parse_year(value) -> str | None:
    """A founded date as Crunchbase writes it -> "YYYY"; empty -> None; anything else is
    returned unchanged (the schema then reports it).

    Parameters
    ----------
    value : object
        A founded-date cell: a year (2017, "2017.0"), a date ("2017-03-01", "Mar 2017",
        "1 March 2017", "03/01/2017", "2017年3月"), empty or NaN.

    Returns
    -------
    str or None
        The four-digit year; None for an empty cell; else the value as text, stripped.
    """
    if value is None or (isinstance(value, float) and value != value) or value is pd.NA:
        return None
    s = str(value).strip()
    if s == "":
        return None
    m = (re.fullmatch(r"(\d{4})(?:\.0+)?", s)
         or re.fullmatch(r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?(?:[ T].*)?", s)
         or re.fullmatch(r"(\d{4})\s*年.*", s))
    if m:
        return m.group(1)
    m = re.fullmatch(r"([A-Za-z]{3,9})\.?,?\s+(\d{4})", s) or \
        re.fullmatch(r"\d{1,2}[ -]([A-Za-z]{3,9})\.?,?[ -](\d{4})", s) or \
        re.fullmatch(r"([A-Za-z]{3,9})\.? \d{1,2},? (\d{4})", s)
    if m and m.group(1)[:3].lower() in _MONTHS:
        return m.group(2)
    m = re.fullmatch(r"\d{1,2}/\d{1,2}/(\d{4})", s)
    if m:
        return m.group(1)
    return s


# --------------------------------------------------------------------------- schemas
def _pa():
    import pandera.pandas as pa  # imported lazily: pandera takes ~0.5 s to import

    return pa


def _raw_schema(kind: str):
    pa = _pa()
    if kind == "crunchbase":
        cols = {c: pa.Column(str, nullable=True, required=c in CRUNCHBASE_REQUIRED)
                for c in CRUNCHBASE_COLUMNS}
    else:
        cols = {c: pa.Column(str, nullable=True, required=c in CANONICAL_REQUIRED)
                for c in CANONICAL_COLUMNS + TRUTH_COLUMNS}
    return pa.DataFrameSchema(cols, strict=False, name=f"{kind} file")


def _codes_check(pa, dim):
    codes = set(_labels.categories(dim))
    return pa.Check(lambda s: s.isin(codes), name="label_code",
                    error=f"label_code:{dim}")


def _year_checks(pa, name):
    this_year = current_year()

    def year_within_bounds(s):
        v = pd.to_numeric(s, errors="coerce")
        return v.isna() | ((v >= EARLIEST_YEAR) & (v <= this_year))

    return [pa.Check.str_matches(r"^\d{4}$", error=f"year_form:{name}"),
            pa.Check(year_within_bounds, name="year_within_bounds", error=f"year_range:{name}")]


def _input_schema():
    """The mapped corpus before exclusions (every record of the file)."""
    pa = _pa()
    def one_city_per_id(df):
        n = df.groupby("company_id")["_place"].transform("nunique")
        return (n <= 1) | df["company_id"].isna()

    def one_record_per_id(df):
        return ~df["company_id"].duplicated(keep=False) | df["company_id"].isna()

    cols = {
        "company_id": pa.Column(str, nullable=False),
        "name": pa.Column(str, nullable=False),
        "founded_year": pa.Column(str, checks=_year_checks(pa, "founded_year"), nullable=True),
        "truth_application": pa.Column(str, _codes_check(pa, "application"), required=False),
        "truth_customer": pa.Column(str, _codes_check(pa, "customer"), required=False),
        "truth_geography": pa.Column(str, _codes_check(pa, "geography"), required=False),
        "truth_investor": pa.Column(str, _codes_check(pa, "investor"), required=False),
        "truth_profile": pa.Column(str, pa.Check.isin(["own", "beijing"], error="profile_code"),
                                   required=False),
        "truth_year": pa.Column(str, checks=_year_checks(pa, "truth_year"), required=False),
    }
    return pa.DataFrameSchema(
        cols, strict=False, name="corpus records",
        checks=[pa.Check(one_city_per_id, name="one_city_per_id", error="one_city_per_id"),
                pa.Check(one_record_per_id, name="one_record_per_id", error="one_record_per_id")])


def final_schema():
    """The contract of ``Corpus.firms``.

    Returns
    -------
    pandera.pandas.DataFrameSchema
        A unique ``company_id``, a ``name``, ``city`` one of the three, ``founded_year`` (Int64)
        from :data:`EARLIEST_YEAR` to this year or missing, the text and list columns (empty
        allowed), a ``source``, codes of data/labels.yml in the optional ``truth_*`` columns, and
        some text (description, full description or website text) for every firm.
    """
    pa = _pa()
    this_year = current_year()
    text = {c: pa.Column(str, nullable=True) for c in
            ["full_description", "website_text", "industries", "investors", "investor_types",
             "website"]}
    truth = {f"truth_{d}": pa.Column(str, pa.Check.isin(_labels.categories(d)), required=False)
             for d in ("application", "customer", "geography", "investor")}
    return pa.DataFrameSchema(
        {
            "company_id": pa.Column(str, unique=True, nullable=False),
            "name": pa.Column(str, nullable=False),
            "city": pa.Column(str, pa.Check.isin(list(CITIES)), nullable=False),
            "founded_year": pa.Column("Int64", pa.Check.in_range(EARLIEST_YEAR, this_year),
                                      nullable=True),
            "description": pa.Column(str, nullable=True),
            **text,
            "source": pa.Column(str, nullable=False),
            **truth,
            "truth_profile": pa.Column(str, pa.Check.isin(["own", "beijing"]), required=False),
            "truth_year": pa.Column("Int64", required=False),
        },
        checks=[pa.Check(lambda df: df[TEXT_COLUMNS].notna().any(axis=1), name="has_text",
                          error="has_text")],
        strict=False, name="corpus",
    )


# --------------------------------------------------------------------------- messages
def _where(row, lines) -> str:
    return f"data row {int(row)} (line {lines.get(int(row), '?')})"


_ID_CHECKS = ("one_city_per_id", "one_record_per_id")


def _missing_columns_error(missing: pd.DataFrame, path: Path, frame: pd.DataFrame | None,
                           expected_columns: list[str] | None) -> CorpusError:
    """The error for required columns absent from the header (pandera's column_in_dataframe)."""
    cols = [str(c) for c in missing["failure_case"]]
    found = list(frame.columns) if frame is not None else []
    return CorpusError(
        f"{path}: missing required column{'s' if len(cols) > 1 else ''} "
        f"{', '.join(repr(c) for c in cols)} in the header (line 1); expected columns "
        f"{', '.join(expected_columns or cols)}; found {', '.join(found) or 'none'}")


def _failures_in_row_order(fc: pd.DataFrame) -> pd.DataFrame:
    """pandera's failure cases by data row, a row's cell checks before its frame-level checks."""
    fc["row_number"] = pd.to_numeric(fc["index"], errors="coerce")
    fc["frame_level"] = (fc["schema_context"].astype(str) == "DataFrameSchema").astype(int)
    return fc.sort_values(["row_number", "frame_level", "check_number"], kind="stable", na_position="last")


def _id_problem(check: str, cid, frame: pd.DataFrame, lines: dict, names: dict) -> str:
    """The problem of a firm id on two cities (``one_city_per_id``) or two different records."""
    rows = frame.index[frame["company_id"] == cid].tolist()
    if check == "one_city_per_id":
        detail = "; ".join(f"'{frame.loc[r, '_place']}' in {_where(r, lines)}" for r in rows)
        label = "company_id" + (f" (from '{names.get('company_id', 'company_id')}')" if "company_id" in names else "")
        return (f"{label} '{cid}' has two different cities in column "
                f"'{names.get('city', 'city')}': {detail}; expected one city per firm")
    return (f"company_id '{cid}' appears in "
            f"{' and '.join(_where(r, lines) for r in rows[:3])} with different "
            f"content (column '{names.get('company_id', 'company_id')}'); expected one record "
            f"per firm (exact duplicates are excluded, not errors)")


def _cell_problem(check: str, where: str, column, value, names: dict) -> str:
    """The problem of one cell that fails ``check``, with what was expected."""
    if check.startswith("year_form"):
        return (f"{where}, column '{names.get(column, column)}': '{value}' is not a year; expected "
                f"a year such as 2017, a date such as 2017-03-01 or Mar 2017, or an empty cell")
    if check.startswith("year_range"):
        return (f"{where}, column '{names.get(column, column)}': year {value} is impossible; "
                f"expected a year from {EARLIEST_YEAR} to {current_year()}")
    if check.startswith("label_code"):
        dim = check.split(":", 1)[1]
        return (f"{where}, column '{column}': unknown label code '{value}'; expected one "
                f"of {', '.join(_labels.categories(dim))} (data/labels.yml)")
    if check == "profile_code":
        return f"{where}, column '{column}': '{value}'; expected own or beijing"
    if check == "not_nullable":
        return f"{where}, column '{names.get(column, column)}' is empty; expected a value in every row"
    return f"{where}, column '{names.get(column, column)}': value '{value}' fails the check {check}"


def _translate(err, path: Path, lines: dict, names: dict, frame: pd.DataFrame | None,
               expected_columns: list[str] | None = None) -> CorpusError:
    """pandera's failure cases as one CorpusError: every problem (up to MAX_PROBLEMS) with its
    row and column, in row order."""
    fc = err.failure_cases.copy()
    missing = fc[fc["check"].astype(str) == "column_in_dataframe"]
    if len(missing):
        return _missing_columns_error(missing, path, frame, expected_columns)
    problems: list[str] = []
    seen_ids: set = set()
    seen_cells: set = set()
    for case in _failures_in_row_order(fc).itertuples(index=False):
        check, column, row, value = str(case.check), case.column, case.row_number, case.failure_case
        if check in _ID_CHECKS:
            cid = frame.loc[int(row), "company_id"]
            if cid in seen_ids:  # one problem per firm id (two cities implies two records)
                continue
            seen_ids.add(cid)
            problems.append(_id_problem(check, cid, frame, lines, names))
            continue
        if (row, column) in seen_cells:  # one problem per cell ('18': not a year, and too early)
            continue
        seen_cells.add((row, column))
        where = _where(row, lines) if pd.notna(row) else "all rows"
        problems.append(_cell_problem(check, where, column, value, names))
    try:
        _raise_problems(path, list(dict.fromkeys(problems)))
    except CorpusError as exc:
        return exc
    return CorpusError(f"{path}: the file fails the corpus contract")


def _validate(schema, frame, path, lines, names, expected_columns=None):
    pa = _pa()
    try:
        return schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as err:
        raise _translate(err, path, lines, names, frame, expected_columns) from None


# --------------------------------------------------------------------------- load
def _slug(url, name) -> str:
    if isinstance(url, str) and url.strip():
        m = re.search(r"/organization/([^/?#\s]+)", url.strip())
        if m:
            return m.group(1).lower()
        tail = url.strip().rstrip("/").rsplit("/", 1)[-1]
        if tail:
            return tail.lower()
    digest = hashlib.sha1(_norm_place(str(name)).encode("utf-8")).hexdigest()[:12]
    return f"name-{digest}"


def _split_list(v):
    if v is None or (isinstance(v, float) and v != v):
        return None
    parts = [p.strip() for p in re.split(r"[;,]", str(v)) if p.strip()]
    return ";".join(parts) if parts else None


def _clean_field(value: str) -> tuple[str | None, int]:
    """A field stripped, with control characters removed (and CRLF inside it made LF); the
    number of characters removed."""
    value = value.replace("\r\n", "\n")
    cleaned, n = _CONTROL_CHARS.subn("", value)
    cleaned = cleaned.strip()
    return (cleaned or None), n


def _control_notice(removed: list, lines: dict) -> list[str]:
    if not removed:
        return []
    total = sum(n for _, _, n in removed)
    shown = "; ".join(f"{_where(r, lines)}, column '{c}' ({n})" for r, c, n in removed[:5])
    more = f"; and {len(removed) - 5} more field(s)" if len(removed) > 5 else ""
    return [f"removed {total} control character{'s' if total != 1 else ''} (NUL, escape codes, "
            f"text-direction overrides) from {len(removed)} field{'s' if len(removed) != 1 else ''}; "
            f"the firms are kept: {shown}{more}"]


def _code_investor_types(frame: pd.DataFrame, lines: dict, names: dict) -> tuple[pd.Series, list[str]]:
    """``investor_types`` as ';'-joined codes: codes kept, words mapped by
    dictionaries/investor_types.yml, undecided words by the name of the investor at the same
    position in ``investors``; what cannot be coded is left out and listed in a notice."""
    column = names.get("investor_types", "investor_types")
    mapped, uncoded, by_word, by_name = [], [], 0, 0
    for row, types, investors in zip(frame.index, frame["investor_types"], frame["investors"]):
        words = [w.strip() for w in str(types).split(";") if w.strip()] if isinstance(types, str) else []
        people = [w.strip() for w in str(investors).split(";") if w.strip()] \
            if isinstance(investors, str) else []
        codes = []
        for i, word in enumerate(words):
            name = people[i] if len(people) == len(words) else None
            code, how = code_of_type(word, name)
            if code:
                codes.append(code)
                by_word += how == "word"
                by_name += how == "name"
            else:
                uncoded.append(f"{_where(row, lines)}: '{word}'"
                               + (" (unknown word)" if how == "unknown" else
                                  f" (investor '{name}' not recognised)" if name else
                                  " (no investor name at the same position)"))
        mapped.append(";".join(codes) if codes else None)
    notices = []
    if by_word or by_name:
        notices.append(f"column '{column}': {by_word + by_name} investor type(s) written in words "
                       f"were coded ({by_word} by the word, {by_name} by the investor's name; "
                       f"table: analysis/dictionaries/investor_types.yml)")
    if uncoded:
        shown = "; ".join(uncoded[:MAX_PROBLEMS])
        more = f"; and {len(uncoded) - MAX_PROBLEMS} more" if len(uncoded) > MAX_PROBLEMS else ""
        notices.append(f"column '{column}': {len(uncoded)} investor type(s) left uncoded (neither "
                       f"the word nor the investor's name decides the code): {shown}{more}")
    return pd.Series(mapped, index=frame.index, dtype="str"), notices


def _raise_problems(path: Path, problems: list[str]) -> None:
    """One CorpusError listing every problem (up to MAX_PROBLEMS), each with row and column."""
    if not problems:
        return
    if len(problems) == 1:
        raise CorpusError(f"{path}: {problems[0]}")
    shown = problems[:MAX_PROBLEMS]
    more = (f"\n  ... and {len(problems) - MAX_PROBLEMS} more"
            if len(problems) > MAX_PROBLEMS else "")
    raise CorpusError(f"{path}: {len(problems)} problems; fix them and load again:\n  "
                      + "\n  ".join(shown) + more)


def _read_file(path: str | Path | None) -> tuple[Path, bytes]:
    """The corpus file's path and bytes, or a CorpusError saying why it cannot be read."""
    import errno

    shown = path
    try:
        path = corpus_path(path)
    except (OSError, RuntimeError) as exc:  # a symlink loop, on Python < 3.13
        raise CorpusError(f"{shown}: the path cannot be resolved ({exc}); expected a CSV file of "
                          f"firms") from None
    expected = "expected a CSV file of firms (canonical columns or a Crunchbase export)"
    try:
        return path, path.read_bytes()
    except FileNotFoundError:
        raise CorpusError(f"{path}: no such file; {expected}") from None
    except IsADirectoryError:
        raise CorpusError(f"{path}: is a directory; {expected}") from None
    except PermissionError:
        raise CorpusError(f"{path}: permission denied, the file cannot be read; {expected}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise CorpusError(f"{path}: a symbolic link that points to itself (a loop); "
                              f"{expected}") from None
        raise CorpusError(f"{path}: cannot be read ({exc.strerror or exc}); {expected}") from None


def _read_header(header: list[str], path: Path, encoding: str, delim: str) -> tuple[str, list[str], list[str]]:
    """The file's kind ("crunchbase" or "canonical"), its columns under canonical spellings and
    the columns its kind requires; a CorpusError for a column named twice or a header of
    neither kind."""
    folded = [h.casefold() for h in header]
    dupes = sorted({h for h in header if folded.count(h.casefold()) > 1})
    if dupes:
        raise CorpusError(f"{path}: the header (line 1) names column '{dupes[0]}' twice; "
                          f"expected each column once")
    cb_names = {c.casefold(): c for c in CRUNCHBASE_COLUMNS}
    canon_names = {c.casefold(): c for c in CANONICAL_COLUMNS + TRUTH_COLUMNS}
    if "organization name" in folded or "headquarters location" in folded:
        return "crunchbase", [cb_names.get(h.casefold(), h) for h in header], CRUNCHBASE_REQUIRED
    if any(h in canon_names for h in folded):
        return "canonical", [canon_names.get(h.casefold(), h) for h in header], CANONICAL_REQUIRED
    shown = ", ".join(header[:8]) + (" ..." if len(header) > 8 else "")
    raise CorpusError(
        f"{path}: the header (line 1) has none of the expected columns (found: {shown}); "
        f"expected the canonical columns {', '.join(CANONICAL_REQUIRED)} or a Crunchbase "
        f"export with {', '.join(CRUNCHBASE_REQUIRED)} (read as "
        f"{encoding}, delimiter {delim!r})")


def _raw_frame(records: list, columns: list[str], path: Path, delim: str) -> tuple[pd.DataFrame, list]:
    """The records as a frame of cleaned strings indexed by data row, and the control characters
    removed (data row, column, count); a CorpusError listing every row whose field count differs
    from the header's (empty trailing fields are dropped first)."""
    width = len(columns)
    rows, index, problems, removed = [], [], [], []
    for row, line, rec in records:
        if len(rec) > width and not any(f.strip() for f in rec[width:]):
            rec = rec[:width]
        if len(rec) != width:
            problems.append(
                f"data row {row} (line {line}) has {len(rec)} fields but the header has "
                f"{width}; expected one field per column (a missing or extra "
                f"{'tab' if delim == chr(9) else repr(delim)}, or a line break outside quotes?)")
            continue
        fields = []
        for col, value in zip(columns, rec):
            value, n = _clean_field(value)
            if n:
                removed.append((row, col, n))
            fields.append(value)
        rows.append(fields)
        index.append(row)
    _raise_problems(path, problems)
    raw = pd.DataFrame(rows, columns=columns, index=pd.Index(index, name="row"), dtype="str")
    return raw, removed


def _from_crunchbase(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """A Crunchbase export mapped onto the canonical columns (id from the organisation URL, lists
    ';'-joined), and the file's name of each canonical column."""
    names = {v: k for k, v in CRUNCHBASE_COLUMNS.items()}
    frame = pd.DataFrame(index=raw.index)
    url = raw["Organization Name URL"] if "Organization Name URL" in raw else \
        pd.Series(None, index=raw.index, dtype="str")
    frame["company_id"] = [_slug(u, n) for u, n in zip(url, raw["Organization Name"])]
    frame["name"] = raw["Organization Name"]
    frame["_place"] = raw["Headquarters Location"]
    frame["city"] = raw["Headquarters Location"]
    for cb, canon in CRUNCHBASE_COLUMNS.items():
        if canon in ("name", "city", "_url"):
            continue
        frame[canon] = raw[cb] if cb in raw else None
    frame["investors"] = frame["investors"].map(_split_list)
    frame["industries"] = frame["industries"].map(_split_list)
    frame["website_text"] = None
    frame["investor_types"] = None
    frame["source"] = "crunchbase"
    names["company_id"] = "Organization Name URL"
    return frame, names


def _from_canonical(raw: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """A canonical file with every canonical column (absent ones empty) and ``source`` "user"
    where blank; no column renamed."""
    frame = raw.copy()
    frame["_place"] = raw["city"]
    for c in CANONICAL_COLUMNS:
        if c not in frame:
            frame[c] = None
    frame["source"] = frame["source"].fillna("user")
    return frame, {}


def _normalise_columns(frame: pd.DataFrame, kind: str) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The frame in column order (canonical, truth, a canonical file's extra columns, ``_place``)
    as strings, cities normalised; and its truth and extra columns."""
    extra = [c for c in frame.columns if c not in CANONICAL_COLUMNS + TRUTH_COLUMNS + ["_place"]]
    if kind == "crunchbase":
        extra = []
    truth = [c for c in TRUTH_COLUMNS if c in frame.columns]
    frame = frame[CANONICAL_COLUMNS + truth + extra + ["_place"]].astype("str")
    frame["city"] = frame["_place"].map(normalise_city).astype("str")
    # place key for the id/city check: the normalised city, else the raw location
    frame["_place"] = frame["city"].fillna(frame["_place"]).astype("str")
    return frame, truth, extra


def _exact_duplicates(frame: pd.DataFrame, compare: list[str]) -> dict:
    """Data row -> the earlier data row it repeats exactly in the ``compare`` columns."""
    key = frame[compare].astype(object).where(frame[compare].notna(), "\x00")
    dup_of = {}
    first_seen: dict = {}
    for row, values in zip(frame.index, map(tuple, key.to_numpy())):
        if values in first_seen:
            dup_of[row] = first_seen[values]
        else:
            first_seen[values] = row
    return dup_of


def _exclude(frame: pd.DataFrame, unique: pd.DataFrame, dup_of: dict, path: Path, names: dict,
             kind: str) -> tuple[pd.DataFrame, list[tuple]]:
    """The firms kept, and the records left out (reason, data row, name, id, detail): exact
    duplicates, firms outside the three cities, firms without text.  A CorpusError when no firm
    is in the three cities, or none of them has text."""
    excl = []
    loc_col = names.get("city", "city")
    for row, orig in dup_of.items():
        excl.append(("exact duplicate", row, frame.loc[row, "name"], frame.loc[row, "company_id"],
                     f"same as data row {orig}"))
    out_scope = unique["city"].isna()
    for row in unique.index[out_scope]:
        place = unique.loc[row, "_place"]
        excl.append(("outside the three cities", row, unique.loc[row, "name"],
                     unique.loc[row, "company_id"],
                     f"{loc_col} '{place}'" if isinstance(place, str) else f"{loc_col} empty"))
    in_scope = unique[~out_scope]
    if in_scope.empty:
        places = unique["_place"].fillna("(empty)").value_counts().head(5)
        listing = ", ".join(f"{p} ({n})" for p, n in places.items())
        raise CorpusError(f"{path}: no firm in Beijing, Shanghai or Shenzhen (column "
                          f"'{loc_col}'); expected locations such as 'Beijing', 'Haidian, "
                          f"Beijing, China' or '深圳'; most common values: {listing}")
    no_text = in_scope[TEXT_COLUMNS].isna().all(axis=1)
    for row in in_scope.index[no_text]:
        excl.append(("no text", row, in_scope.loc[row, "name"], in_scope.loc[row, "company_id"],
                     "description, full description and website text all empty"))
    firms = in_scope[~no_text]
    if firms.empty:
        raise CorpusError(f"{path}: every firm in the three cities lacks text (columns "
                          f"{', '.join(names.get(c, c) for c in TEXT_COLUMNS if c in names or kind == 'canonical')}); "
                          f"expected a description for at least one firm")
    return firms, excl


def _exclusion_report(excl: list[tuple], lines: dict) -> pd.DataFrame:
    """The exclusions as a table in data-row order, with each record's line."""
    exclusions = pd.DataFrame(excl, columns=["reason", "row", "name", "company_id", "detail"])
    exclusions["line"] = exclusions["row"].map(lines)
    exclusions = exclusions.sort_values("row", kind="stable").reset_index(drop=True)
    return exclusions[["reason", "row", "line", "name", "company_id", "detail"]]


def _final_firms(firms: pd.DataFrame, path: Path, lines: dict, names: dict) -> pd.DataFrame:
    """The firms kept, with years as Int64, checked against :func:`final_schema`, indexed 0..n-1."""
    firms = firms.drop(columns=["_place"]).copy()
    firms["founded_year"] = pd.array(pd.to_numeric(firms["founded_year"]), dtype="Int64")
    if "truth_year" in firms:
        firms["truth_year"] = pd.array(pd.to_numeric(firms["truth_year"]), dtype="Int64")
    firms = _validate(final_schema(), firms, path, lines, names)
    return firms.reset_index(drop=True)


def load(path: str | Path | None = None, website_snapshot: str | Path | None = None) -> Corpus:
    """Read, check and normalise a corpus file (canonical CSV or Crunchbase export).

    ``website_snapshot`` (a ``website_text.csv`` written by ``python -m analysis collect``, or
    its folder; empty for none) fills ``website_text`` per firm before firms without text are
    excluded; see :func:`analysis.data.snapshot.merge` for the order.

    Parameters
    ----------
    path : str, Path or None
        The corpus file; None or empty for the bundled corpus (``data/companies.csv``).
    website_snapshot : str, Path or None
        A collected snapshot (``website_text.csv`` or its folder); None or empty for none.

    Returns
    -------
    Corpus
        The firms kept, every record left out with its reason, and how the file was read.

    Raises
    ------
    CorpusError
        The file cannot be read or decoded, breaks the corpus contract (the message names the
        file, data row, line and column), or leaves no firm with text in the three cities.
    """
    path, data = _read_file(path)
    text, encoding = _decode(data, path)
    delim = _detect_delimiter(text)
    header, records = _read_records(text, path, delim)
    if header is None:
        raise CorpusError(f"{path}: the file is empty; expected a header line and one row per firm")
    kind, columns, expected = _read_header(header, path, encoding, delim)
    if not records:
        raise CorpusError(f"{path}: the file has a header but no data rows; expected one row "
                          f"per firm after the header")
    lines = {row: line for row, line, _ in records}
    raw, removed = _raw_frame(records, columns, path, delim)
    _validate(_raw_schema(kind), raw, path, lines, {}, expected)
    notices = _control_notice(removed, lines)

    frame, names = _from_crunchbase(raw) if kind == "crunchbase" else _from_canonical(raw)
    frame["founded_year"] = frame["founded_year"].map(parse_year)
    frame, snapshot_info = _merge_snapshot(frame, website_snapshot)
    frame, truth, extra = _normalise_columns(frame, kind)

    # exact duplicates first (they are excluded, not errors)
    dup_of = _exact_duplicates(frame, CANONICAL_COLUMNS + truth + extra)
    unique = frame.drop(index=list(dup_of)).copy()
    unique["investor_types"], investor_notices = _code_investor_types(unique, lines, names)
    notices += investor_notices
    _validate(_input_schema(), unique, path, lines, names)

    firms, excl = _exclude(frame, unique, dup_of, path, names, kind)
    exclusions = _exclusion_report(excl, lines)
    firms = _final_firms(firms, path, lines, names)
    simulated = bool(truth) or bool((firms["source"] == "simulated").all())
    return Corpus(firms=firms, exclusions=exclusions, path=path, source_kind=kind,
                  simulated=simulated, encoding=encoding, delimiter=delim,
                  n_records=len(records), column_names=names, notices=notices,
                  website_snapshot=snapshot_info)


def _merge_snapshot(frame: pd.DataFrame, website_snapshot):
    """The frame with a collected snapshot's website text merged in (nothing when empty)."""
    if website_snapshot is None or str(website_snapshot).strip() == "":
        return frame, None

    try:
        return snapshot.merge(frame, website_snapshot)
    except snapshot.SnapshotError as exc:
        raise CorpusError(str(exc)) from None


# --------------------------------------------------------------------------- CLI
def report(corpus: Corpus) -> str:
    """What ``python -m analysis validate`` prints about a loaded corpus.

    Parameters
    ----------
    corpus : Corpus
        A corpus from :func:`load`.

    Returns
    -------
    str
        Lines: the file, its kind, encoding and delimiter, records read, firms kept and
        excluded, firms per city, founding years missing, the exclusions (by reason, then
        record by record) and the notices.
    """
    firms = corpus.firms
    lines = [f"corpus: {corpus.path}",
             f"kind: {corpus.source_kind}{' (simulated)' if corpus.simulated else ''}; "
             f"encoding {corpus.encoding}; delimiter {corpus.delimiter!r}",
             f"records read: {corpus.n_records}; firms kept: {len(firms)}; "
             f"excluded: {len(corpus.exclusions)}",
             "firms per city:"]
    for city, n in corpus.city_counts().items():
        lines.append(f"  {city:<9} {n:>6}")
    lines.append(f"founding year missing: {int(firms['founded_year'].isna().sum())}")
    if len(corpus.exclusions):
        lines.append("exclusions:")
        for reason, n in corpus.exclusions["reason"].value_counts().items():
            lines.append(f"  {reason}: {n}")
        for r in corpus.exclusions.itertuples(index=False):
            lines.append(f"  data row {r.row} (line {r.line}): {r.name} -- {r.reason} ({r.detail})")
    else:
        lines.append("exclusions: none")
    if corpus.notices:
        lines.append("notices:")
        lines.extend(f"  {n}" for n in corpus.notices)
    return "\n".join(lines)


def validate_main(argv: Sequence[str] | None = None) -> int:
    """``python -m analysis validate PATH``: counts and exclusions, or the error (exit 1).

    Parameters
    ----------
    argv : sequence of str or None
        The command-line arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 the corpus loads (its :func:`report` printed), 1 it does not (the error
        printed on standard error).

    Raises
    ------
    SystemExit
        Bad arguments (argparse's message, status 2), or ``--help``.
    """
    p = argparse.ArgumentParser(prog="python -m analysis validate",
                                description="Check a corpus file and report firms per city and "
                                            "exclusions.")
    p.add_argument("path", nargs="?", default="", help="corpus CSV (default: the bundled corpus)")
    args = p.parse_args(argv)
    try:
        corpus = load(args.path or None)
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report(corpus))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(validate_main())
