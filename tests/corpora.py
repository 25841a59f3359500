"""Small and lopsided corpora in the canonical format, for builds of the whole book (each a
corpus the loader accepts, drawn from the simulator so the text reads like the default corpus)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.params import CHAPTERS  # noqa: F401 (the chapters a build must render)
from analysis.data.simulate import simulate

COLUMNS = ["company_id", "name", "city", "founded_year", "description", "full_description",
           "industries", "investors", "investor_types", "website", "source"]


def _base(seed: int = 7) -> pd.DataFrame:
    firms = simulate(seed=seed)[COLUMNS].copy()
    firms["source"] = "test"
    return firms


def _take(firms: pd.DataFrame, per_city: dict[str, int]) -> pd.DataFrame:
    parts = [firms[firms["city"] == city].head(n) for city, n in per_city.items()]
    return pd.concat(parts, ignore_index=True)


def lopsided(case: str) -> pd.DataFrame:
    firms = _base()
    if case == "five_per_city":
        return _take(firms, {"Beijing": 5, "Shanghai": 5, "Shenzhen": 5})
    if case == "three_firms":
        return _take(firms, {"Beijing": 1, "Shanghai": 1, "Shenzhen": 1})
    if case == "one_city":
        return _take(firms, {"Beijing": 25})
    if case == "no_shenzhen":
        return _take(firms, {"Beijing": 15, "Shanghai": 10})
    if case == "no_founding_years":
        out = _take(firms, {"Beijing": 10, "Shanghai": 8, "Shenzhen": 6})
        out["founded_year"] = None
        return out
    if case == "one_cohort":
        out = _take(firms, {"Beijing": 10, "Shanghai": 8, "Shenzhen": 6})
        out["founded_year"] = 2018
        return out
    if case == "single_firm_city":
        return _take(firms, {"Beijing": 12, "Shanghai": 8, "Shenzhen": 1})
    if case == "identical_descriptions":
        out = _take(firms, {"Beijing": 8, "Shanghai": 6, "Shenzhen": 5})
        out["description"] = "A blockchain platform for supply chain finance."
        out["full_description"] = None
        return out
    if case == "almost_no_text":
        out = _take(firms, {"Beijing": 8, "Shanghai": 6, "Shenzhen": 5})
        out["description"] = ["chain" if i % 3 else "x" for i in range(len(out))]
        out["full_description"] = None
        return out
    raise ValueError(case)


CASES = ["five_per_city", "three_firms", "one_city", "no_shenzhen", "no_founding_years",
         "one_cohort", "single_firm_city", "identical_descriptions", "almost_no_text"]


def write(case: str, folder: Path) -> Path:
    path = Path(folder) / f"{case}.csv"
    lopsided(case).to_csv(path, index=False)
    return path


#: strings that would act if any layer interpreted them (HTML, Markdown, MyST, Sphinx, spreadsheets)
HOSTILE = {
    "script": "<script>document.title='pwned-script'</script>",
    "img": "<img src=x onerror=\"document.title='pwned-img'\">",
    "js_link": "[click me](javascript:document.title='pwned-link')",
    "glue": "{glue:text}`data_n_firms` and {ref}`convergence`",
    "raw": "```{raw} html\n<script>document.title='pwned-raw'</script>\n```",
    "colon": ":::{admonition} Pwned\n:class: danger\nInjected block\n:::",
    "math": "$$\\int_0^1 x\\,dx$$ and $x^2$",
    "controls": "zero\u200bwidth \u202eevil\u202c \u2066iso\u2069 emoji \U0001F680\U0001F1E8\U0001F1F3 nul\x00here",
    "crlf": "first line\r\nsecond line\r\nthird",
    "eq": "=HYPERLINK(\"http://evil.example\",\"x\")",
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)*cmd|' /C calc'!A0",
}


def hostile() -> pd.DataFrame:
    """Every hostile string as a firm name and inside a description, in all three cities, plus a
    60,000-character description; the rest of each row from the simulator."""
    firms = _take(_base(), {"Beijing": 12, "Shanghai": 10, "Shenzhen": 9})
    keys = list(HOSTILE)
    for i, key in enumerate(keys):
        firms.loc[i, "name"] = HOSTILE[key]
        firms.loc[i + len(keys), "description"] = (firms.loc[i + len(keys), "description"] + " "
                                                  + HOSTILE[key])
    firms.loc[len(firms) - 1, "description"] = ("blockchain ledger platform " * 2400)[:60_000]
    firms.loc[len(firms) - 2, "industries"] = "=1+1;@import"
    return firms


def write_hostile(folder: Path) -> Path:
    path = Path(folder) / "hostile.csv"
    # CRLF row ends and CRLF inside quoted fields, as Excel writes them
    hostile().to_csv(path, index=False, lineterminator="\r\n")
    return path
