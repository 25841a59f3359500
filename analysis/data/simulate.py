"""A simulated corpus of blockchain firms whose truth is known (DESIGN §2, §4, §6).

The brief's corpus (a licensed Crunchbase export) cannot be shipped, so the book runs by
default on a corpus generated here, with planted city profiles and a planted convergence.

Model
-----
* Firm counts per city: ``n_per_city`` (default 110 / 53 / 34, as in the brief).
* Latent founding year ``y`` in ``years`` (default 2014–2022), drawn with the weights of
  ``data/city_profiles.yml`` (same in every city; uniform for any other year range).
* Convergence.  With ``X = convergence`` (0 to 1) and ``y_min, y_max = years``::

      w(y) = X * (y - y_min) / (y_max - y_min)          (w = 0 when y_max == y_min)

  A firm of city ``c`` founded in ``y`` draws all four labels from **Beijing's** profile with
  probability ``w(y)``, otherwise from its own city's profile.  At ``X = 0`` every cohort
  keeps its city's profile; at ``X = 1`` the last cohort draws entirely from Beijing's.
  ``truth_profile`` records the outcome ("beijing" or "own"; Beijing firms are always
  "own", their own profile being Beijing's).
* Labels (application, customer, geography, investor) are drawn independently per
  dimension from the chosen profile (``data/city_profiles.yml``, codes of
  ``data/labels.yml``).
* Text (description, full_description, website_text) is composed from a phrase bank
  (``analysis/resources/phrasebank_<a|b>.yml``) from the drawn labels and random filler
  only; it never depends on the city, so the planted convergence is the only source of
  change in city distinctiveness over cohorts.  No two firms share a description.
* ``missing_year_rate`` of firms get a blank ``founded_year`` (their latent year is kept in
  ``truth_year`` and was used for drawing).

Determinism: one ``numpy.random.Generator(PCG64(seed))``; only uniform doubles are drawn
and turned into choices by comparison with cumulative probabilities, so the same arguments
give the same bytes everywhere (``write_csv`` fixes the CSV format).

CLI: ``python -m analysis simulate --out PATH [--seed N] [--convergence X]
[--phrasebank a|b] [--n 110 53 34]`` (``main(argv)``).
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import yaml

from analysis import labels as _labels
from analysis.defaults import BRIEF_CITY_SIZES as DEFAULT_N
from analysis.defaults import DEFAULT_SEED
from analysis.defaults import CITIES
from analysis.paths import DATA_DIR, RESOURCES_DIR

DEFAULT_CONVERGENCE = 0.5
DEFAULT_YEARS = (2014, 2022)
DEFAULT_MISSING_YEAR_RATE = 0.08
DEFAULT_FULL_DESCRIPTION_RATE = 0.5
DEFAULT_WEBSITE_TEXT_RATE = 0.4
DEFAULT_WEBSITE_RATE = 0.85
PROFILES_FILE = DATA_DIR / "city_profiles.yml"
PHRASEBANKS = ("a", "b")
DIMENSIONS = ("application", "customer", "geography", "investor")

COLUMNS = [
    "company_id", "name", "city", "founded_year", "description", "full_description",
    "website_text", "industries", "investors", "investor_types", "website", "source",
    "truth_application", "truth_customer", "truth_geography", "truth_investor",
    "truth_profile", "truth_year",
]

# Description length in sentences (1, 2, 3) and full-description extra sentences (2, 3).
_DESC_SENTENCES = (0.2, 0.45, 0.35)
_DESC_CUM = (0.2, 0.65)
_N_TEXT_DRAWS = 160  # uniform draws reserved per firm for composing its text

_NAME_STEMS = [
    "Lumen", "Ferro", "Quill", "Aster", "Brio", "Cobalt", "Dune", "Ember", "Fable", "Glint",
    "Halo", "Indigo", "Kestrel", "Larch", "Mosaic", "Nimbus", "Onyx", "Pylon", "Quartz",
    "Rook", "Saffron", "Tundra", "Umber", "Vesper", "Willow", "Xenon", "Yarrow", "Zephyr",
    "Cinder", "Marble",
]
_NAME_ROOTS = ["chain", "ledger", "block", "hash", "node", "link", "mint", "trust", "grid", "vault"]
_NAME_TAILS = [
    "Ledgerworks", "Labs", "Systems", "Networks", "Technologies", "Data", "Digital", "Works",
    "Foundry", "Dynamics",
]
_INVESTOR_STEMS = [
    "Greyharbour", "Silverpine", "Redmoor", "Bluecrest", "Goldfen", "Stonebrook", "Ashvale",
    "Northmere", "Eastwick", "Westfold", "Brightwater", "Cloudridge", "Ironleaf", "Moonfield",
]
_INVESTOR_KINDS = {
    "state": ["State Guidance Fund", "Provincial Industry Fund", "Municipal Science Investment",
              "State Capital Holdings", "Public Innovation Fund"],
    "international_vc": ["Global Ventures", "Partners International", "Pacific Capital LP",
                         "Horizon Fund (Cayman)", "Crossborder Growth Partners"],
    "domestic_vc": ["Capital", "Venture Partners", "Angel Fund", "Chuangtou Investment",
                    "Seed Capital"],
    "corporate": ["Technology Group (corporate venture)", "Holdings Strategic Investment",
                  "Electronics Co. investment arm", "Internet Group Ventures"],
}

_SLOT = re.compile(r"\{([A-Za-z_][A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)?)\}")


# --------------------------------------------------------------------------- inputs
@lru_cache(maxsize=4)
def load_profiles(path: str | Path = PROFILES_FILE) -> dict:
    """City profiles, checked against data/labels.yml (codes, sums to 1, every city).

    Parameters
    ----------
    path : str or Path
        The profiles file (default ``data/city_profiles.yml``).

    Returns
    -------
    dict
        The file's content: ``profiles`` (city -> dimension -> category -> probability),
        ``founding_year_weights`` and ``investor_count_probabilities`` where the file has them.

    Raises
    ------
    ValueError
        A city without a profile, categories other than data/labels.yml's, or probabilities that
        do not sum to 1.
    """
    with open(path, encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    profiles = spec["profiles"]
    for city in CITIES:
        if city not in profiles:
            raise ValueError(f"{path}: no profile for {city}")
        for dim in DIMENSIONS:
            probs = profiles[city][dim]
            if set(probs) != set(_labels.categories(dim)):
                raise ValueError(f"{path}: {city}/{dim} categories {sorted(probs)} differ from "
                                 f"data/labels.yml {_labels.categories(dim)}")
            if abs(sum(probs.values()) - 1.0) > 1e-9:
                raise ValueError(f"{path}: {city}/{dim} probabilities sum to {sum(probs.values())}")
    return spec


def _compile(template: str) -> tuple:
    parts, pos = [], 0
    for m in _SLOT.finditer(template):
        if m.start() > pos:
            parts.append((0, template[pos:m.start()]))
        parts.append((1, m.group(1)))
        pos = m.end()
    if pos < len(template):
        parts.append((0, template[pos:]))
    return tuple(parts)


@lru_cache(maxsize=4)
def _load_phrasebank(name: str = "a") -> dict:
    """A phrase bank with its templates compiled; raises ValueError for unknown names or
    for a template slot that the bank does not define."""
    if name not in PHRASEBANKS:
        raise ValueError(f"unknown phrase bank {name!r}; choose one of {', '.join(PHRASEBANKS)}")
    path = RESOURCES_DIR / f"phrasebank_{name}.yml"
    with open(path, encoding="utf-8") as fh:
        bank = yaml.safe_load(fh)
    bank["compiled"] = {k: [_compile(t) for t in v] for k, v in bank["sentences"].items()}
    bank["zh_compiled"] = [_compile(t) for t in bank["zh"]["sentences"]]
    # every slot used must exist for every category of its dimension
    for group, slots, filler in (("sentences", bank["slots"], bank["filler"]),
                                 ("zh", bank["zh"]["slots"], bank["zh"]["filler"])):
        templates = (bank["sentences"].values() if group == "sentences"
                     else [bank["zh"]["sentences"]])
        for tlist in templates:
            for t in tlist:
                for slot in _SLOT.findall(t):
                    if "." in slot:
                        dim, key = slot.split(".")
                        for code in _labels.categories(dim):
                            if key not in slots[dim][code]:
                                raise ValueError(f"{path}: slot {slot} missing for {dim}={code}")
                    elif slot not in filler:
                        raise ValueError(f"{path}: filler slot {slot} undefined")
    return bank


# --------------------------------------------------------------------------- text
class _Draws:
    """Consumes one firm's row of pre-drawn uniforms; wraps around if exhausted."""

    __slots__ = ("u", "i")

    def __init__(self, u: list[float]):
        self.u = u
        self.i = 0

    def pick(self, seq):
        v = self.u[self.i % len(self.u)]
        self.i += 1
        return seq[min(int(v * len(seq)), len(seq) - 1)]

    def uniform(self) -> float:
        v = self.u[self.i % len(self.u)]
        self.i += 1
        return float(v)


def _fill(parts, labels: dict, slots: dict, filler: dict, d: _Draws) -> str:
    out = []
    for kind, value in parts:
        if kind == 0:
            out.append(value)
        elif "." in value:
            dim, key = value.split(".")
            out.append(d.pick(slots[dim][labels[dim]][key]))
        else:
            out.append(d.pick(filler[value]))
    text = "".join(out)
    return text[:1].upper() + text[1:]


def _sentences(bank: dict, group: str, k: int, labels: dict, d: _Draws) -> list[str]:
    """k distinct templates of ``group``, filled."""
    templates = list(bank["compiled"][group])
    chosen = []
    for _ in range(min(k, len(templates))):
        t = templates.pop(min(int(d.uniform() * len(templates)), len(templates) - 1))
        chosen.append(_fill(t, labels, bank["slots"], bank["filler"], d))
    return chosen


def _description(bank, labels, d: _Draws) -> str:
    u = d.uniform()
    n = 1 + (u >= _DESC_CUM[0]) + (u >= _DESC_CUM[1])
    parts = _sentences(bank, "lead", 1, labels, d)
    if n >= 2:
        parts += _sentences(bank, "market", 1, labels, d)
    if n >= 3:
        parts += _sentences(bank, "detail", 1, labels, d)
    return " ".join(parts)


def _full_description(bank, labels, d: _Draws) -> str:
    parts = _sentences(bank, "lead", 1, labels, d)
    parts += _sentences(bank, "full", 1 + int(d.uniform() * 2), labels, d)
    parts += _sentences(bank, "market", 1, labels, d)
    parts += _sentences(bank, "detail", 1, labels, d)
    return " ".join(parts)


def _website_text(bank, labels, d: _Draws) -> str:
    zh = bank["zh"]
    templates = list(bank["zh_compiled"])
    k = 2 + int(d.uniform() * 2)
    out = []
    for _ in range(k):
        t = templates.pop(min(int(d.uniform() * len(templates)), len(templates) - 1))
        out.append(_fill(t, labels, zh["slots"], zh["filler"], d))
    return "".join(out)


# --------------------------------------------------------------------------- simulate
def _choice(u: np.ndarray, cum: np.ndarray) -> np.ndarray:
    """Index of the category for each uniform ``u`` given cumulative probabilities ``cum``
    (one row per firm, or one row for all)."""
    idx = (u[:, None] >= cum).sum(axis=1)
    return np.minimum(idx, cum.shape[-1] - 1)


def _unique_names(first: np.ndarray, rng: np.random.Generator) -> list[str]:
    names, seen = [], set()
    combos = len(_NAME_STEMS) * len(_NAME_ROOTS) * len(_NAME_TAILS)
    for code in first:
        code = int(code)
        tries = 0
        while True:
            s, rest = divmod(code, len(_NAME_ROOTS) * len(_NAME_TAILS))
            r, t = divmod(rest, len(_NAME_TAILS))
            base = f"{_NAME_STEMS[s]}{_NAME_ROOTS[r]} {_NAME_TAILS[t]}"
            if base not in seen:
                break
            tries += 1
            if tries < 8:
                code = int(rng.random() * combos) % combos
            else:  # space nearly exhausted: number the name
                k = 2
                while f"{base} {k}" in seen:
                    k += 1
                base = f"{base} {k}"
                break
        seen.add(base)
        names.append(base)
    return [f"{b} (simulated)" for b in names]


_RATE_NAMES = ("missing_year_rate", "full_description_rate", "website_text_rate", "website_rate")


def _city_counts(n_per_city) -> list[int]:
    """``n_per_city`` (a sequence, or a dict city -> count) as three checked counts in the order
    Beijing, Shanghai, Shenzhen."""
    if isinstance(n_per_city, dict):
        n_per_city = [int(n_per_city.get(c, 0)) for c in CITIES]
    n_per_city = [int(x) for x in n_per_city]
    if len(n_per_city) != 3 or min(n_per_city) < 0 or sum(n_per_city) == 0:
        raise ValueError("n_per_city: three non-negative counts (Beijing, Shanghai, Shenzhen), not all 0")
    return n_per_city


def _check_settings(convergence, years, rates) -> tuple[int, int]:
    """Check the convergence, the year range and the four rates (named in ``_RATE_NAMES``);
    the year range as two ints."""
    if not 0.0 <= float(convergence) <= 1.0:
        raise ValueError(f"convergence must lie in [0, 1], got {convergence}")
    y_min, y_max = int(years[0]), int(years[1])
    if y_max < y_min:
        raise ValueError(f"years: {y_min} > {y_max}")
    for name, rate in zip(_RATE_NAMES, rates):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must lie in [0, 1], got {rate}")
    return y_min, y_max


def _draw_years(rng: np.random.Generator, spec: dict, y_min: int, y_max: int, year_weights: dict | None,
                n: int) -> np.ndarray:
    """Step 1: each firm's latent founding year (one uniform per firm)."""
    year_values = np.arange(y_min, y_max + 1)
    p = _year_weights(spec, y_min, y_max, year_weights)
    cum_year = np.cumsum(p / p.sum())
    return year_values[_choice(rng.random(n), cum_year[None, :])]


def _draw_profiles(rng: np.random.Generator, latent_year: np.ndarray, city_idx: np.ndarray, convergence: float,
                   y_min: int, y_max: int) -> tuple[np.ndarray, np.ndarray]:
    """Step 2: which profile each firm draws from (one uniform per firm): Beijing's with
    probability w(y), else its own city's.  The profile index (0 = Beijing) and ``truth_profile``."""
    n = len(latent_year)
    span = y_max - y_min
    w = convergence * (latent_year - y_min) / span if span > 0 else np.zeros(n)
    switched = rng.random(n) < w
    profile_idx = np.where(switched, 0, city_idx)  # 0 = Beijing
    truth_profile = np.where(switched & (city_idx != 0), "beijing", "own")
    return profile_idx, truth_profile


def _draw_labels(rng: np.random.Generator, profiles: dict, profile_idx: np.ndarray, city_idx: np.ndarray,
                 latent_year: np.ndarray, years: tuple[int, int], national_drift: float,
                 beijing_drift: float) -> dict[str, np.ndarray]:
    """Step 3: the four labels from each firm's profile, one uniform per firm and dimension; the
    public-customer probability moved by the drifts."""
    n = len(profile_idx)
    y_min, y_max = years
    span = y_max - y_min
    u_lab = rng.random((n, len(DIMENSIONS)))
    drawn: dict[str, np.ndarray] = {}
    for j, dim in enumerate(DIMENSIONS):
        cats = _labels.categories(dim)
        cum = np.array([np.cumsum([profiles[c][dim][k] for k in cats]) for c in CITIES])
        cum_firm = cum[profile_idx]
        if dim == "customer" and (national_drift or beijing_drift):
            w0 = (latent_year - y_min) / span if span > 0 else np.zeros(n)
            p_pub = cum_firm[:, cats.index("public")] - (cum_firm[:, cats.index("public") - 1]
                                                         if cats.index("public") else 0.0)
            p_pub = _shifted_public(p_pub, w0, city_idx == 0, national_drift, beijing_drift)
            cum_firm = np.where(np.array(cats) == "public", p_pub[:, None], 1.0 - p_pub[:, None])
            cum_firm = np.cumsum(cum_firm, axis=1)
        drawn[dim] = np.array(cats, dtype=object)[_choice(u_lab[:, j], cum_firm)]
    return drawn


def _draw_optional(rng: np.random.Generator, n: int, rates) -> tuple[np.ndarray, ...]:
    """Step 4: missingness and optional fields, one uniform each per firm: blank founding year,
    full description, website text, website (the rates in ``_RATE_NAMES`` order)."""
    u_opt = rng.random((n, 4))
    missing_year = u_opt[:, 0] < rates[0]
    has_full = u_opt[:, 1] < rates[1]
    has_zh = u_opt[:, 2] < rates[2]
    has_site = u_opt[:, 3] < rates[3]
    return missing_year, has_full, has_zh, has_site


def _draw_names(rng: np.random.Generator, n: int) -> list[str]:
    """Step 5a: unique firm names (one uniform per firm, and more for a name already taken)."""
    return _unique_names((rng.random(n) * len(_NAME_STEMS) * len(_NAME_ROOTS)
                          * len(_NAME_TAILS)).astype(np.int64), rng)


def _firm_investors(k: int, dominant: str, inv_cats: list, u: np.ndarray) -> tuple[list[str], list[str]]:
    """One firm's ``k`` investor names and types: ``dominant`` (its investor label) for all
    but one when ``k`` > 2, the rest other types; names and types picked by the uniforms ``u``."""
    n_dom = k if k <= 2 else k - 1
    others = [c for c in inv_cats if c != dominant]
    types = [dominant] * n_dom + [others[min(int(u[1 + j] * 3), 2)] for j in range(k - n_dom)]
    inv_names = []
    for j, t in enumerate(types):
        stem = _INVESTOR_STEMS[min(int(u[5 + j % 4] * len(_INVESTOR_STEMS)), len(_INVESTOR_STEMS) - 1)]
        kinds = _INVESTOR_KINDS[t]
        kind = kinds[min(int(u[1 + (j + 2) % 4] * len(kinds)), len(kinds) - 1)]
        nm = f"{stem} {kind}"
        while nm in inv_names:
            nm += " II"
        inv_names.append(nm)
    return inv_names, types


def _investor_columns(spec: dict, investor: np.ndarray, u_inv: np.ndarray) -> tuple[list[str], list[str]]:
    """Step 5b: the ``investors`` and ``investor_types`` columns (';'-joined) from the investor
    labels and the firms' rows of 9 uniforms ``u_inv`` (the first draws the number of investors)."""
    inv_cats = _labels.categories("investor")
    count_p = spec.get("investor_count_probabilities") or {1: 1.0}
    count_vals = np.array(sorted(int(k) for k in count_p))
    cum_count = np.cumsum([float(count_p[k]) for k in sorted(count_p, key=int)])
    n_inv = count_vals[_choice(u_inv[:, 0], cum_count[None, :])]
    investors_col, types_col = [], []
    for i in range(len(u_inv)):
        inv_names, types = _firm_investors(int(n_inv[i]), investor[i], inv_cats, u_inv[i])
        investors_col.append(";".join(inv_names))
        types_col.append(";".join(types))
    return investors_col, types_col


def _industry_tags(ind: dict, application: str, row: list[float]) -> str:
    """A firm's ``industries``: the bank's tags for every firm plus one or two of its
    application's, picked by the first and last of its text uniforms."""
    pool = ind[application]
    a = pool[min(int(row[0] * len(pool)), len(pool) - 1)]
    b = pool[min(int(row[-1] * len(pool)), len(pool) - 1)]
    tags = list(ind["always"]) + [a] + ([b] if b != a else [])
    return ";".join(tags)


def _text_columns(bank: dict, drawn: dict, u_text: np.ndarray, has_full: np.ndarray,
                  has_zh: np.ndarray) -> tuple[list, list, list, list]:
    """Step 5c: description, full description (where ``has_full``), website text (where
    ``has_zh``) and industries of every firm, from its labels and its row of ``u_text`` (read
    forwards, backwards and rotated by half for the three texts)."""
    drawn_lists = {dim: drawn[dim].tolist() for dim in DIMENSIONS}
    descriptions, fulls, zh_texts, industries = [], [], [], []
    for i in range(len(u_text)):
        lab = {dim: drawn_lists[dim][i] for dim in DIMENSIONS}
        row = u_text[i].tolist()
        d = _Draws(row)
        descriptions.append(_description(bank, lab, d))
        d2 = _Draws(row[::-1])
        fulls.append(_full_description(bank, lab, d2) if has_full[i] else None)
        d3 = _Draws(row[_N_TEXT_DRAWS // 2:] + row[:_N_TEXT_DRAWS // 2])
        zh_texts.append(_website_text(bank, lab, d3) if has_zh[i] else None)
        industries.append(_industry_tags(bank["industries"], lab["application"], row))
    return descriptions, fulls, zh_texts, industries


def _unique_descriptions(descriptions: list[str], drawn: dict, bank: dict, rng: np.random.Generator) -> None:
    """Step 6: no two firms share a description: redraw later duplicates (deterministic order),
    in place."""
    seen: dict[str, int] = {}
    for i in range(len(descriptions)):
        tries = 0
        while descriptions[i] in seen and tries < 50:
            lab = {dim: drawn[dim][i] for dim in DIMENSIONS}
            descriptions[i] = _description(bank, lab, _Draws(rng.random(_N_TEXT_DRAWS).tolist()))
            tries += 1
        if descriptions[i] in seen:  # combinatorial space exhausted (huge n): add filler
            k = 2
            base = descriptions[i]
            while descriptions[i] in seen:
                descriptions[i] = f"{base} Product line {k}."
                k += 1
        seen[descriptions[i]] = i


def _draw_columns(rng: np.random.Generator, spec: dict, bank: dict, n_per_city: list[int],
                  years: tuple[int, int], convergence: float, rates: tuple, drifts: tuple[float, float],
                  year_weights: dict | None) -> dict:
    """The corpus's columns, drawn from ``rng``: steps 1 to 6 consume the generator one after
    the other, so their order is part of the output."""
    y_min, y_max = years
    n = sum(n_per_city)
    city_idx = np.repeat(np.arange(3), n_per_city)
    latent_year = _draw_years(rng, spec, y_min, y_max, year_weights, n)
    profile_idx, truth_profile = _draw_profiles(rng, latent_year, city_idx, convergence, y_min, y_max)
    drawn = _draw_labels(rng, spec["profiles"], profile_idx, city_idx, latent_year, years, *drifts)
    missing_year, has_full, has_zh, has_site = _draw_optional(rng, n, rates)
    names = _draw_names(rng, n)
    u_inv = rng.random((n, 9))
    u_text = rng.random((n, _N_TEXT_DRAWS))
    investors_col, types_col = _investor_columns(spec, drawn["investor"], u_inv)
    descriptions, fulls, zh_texts, industries = _text_columns(bank, drawn, u_text, has_full, has_zh)
    _unique_descriptions(descriptions, drawn, bank, rng)

    width = max(4, len(str(n)))
    slugs = [re.sub(r"[^a-z0-9]+", "-", nm.replace(" (simulated)", "").lower()).strip("-")
             for nm in names]
    founded = pd.array(np.where(missing_year, 0, latent_year), dtype="Int64")
    founded[missing_year] = pd.NA
    return {
        "company_id": [f"sim-{i + 1:0{width}d}" for i in range(n)],
        "name": names,
        "city": np.array(CITIES, dtype=object)[city_idx],
        "founded_year": founded,
        "description": descriptions,
        "full_description": fulls,
        "website_text": zh_texts,
        "industries": industries,
        "investors": investors_col,
        "investor_types": types_col,
        "website": [f"https://{s}.example.com" if has_site[i] else None
                    for i, s in enumerate(slugs)],
        "source": "simulated",
        "truth_application": drawn["application"],
        "truth_customer": drawn["customer"],
        "truth_geography": drawn["geography"],
        "truth_investor": drawn["investor"],
        "truth_profile": truth_profile,
        "truth_year": pd.array(latent_year, dtype="Int64"),
    }


def _corpus_frame(columns: dict) -> pd.DataFrame:
    """The drawn columns as a frame in :data:`COLUMNS` order, text columns of dtype str."""
    frame = pd.DataFrame(columns)
    for col in COLUMNS:
        if col not in ("founded_year", "truth_year"):
            frame[col] = pd.Series(list(frame[col]), index=frame.index, dtype="str")
    return frame[COLUMNS]


def _planted_settings(convergence, national_drift, beijing_drift, years: tuple[int, int],
                      year_weights: dict | None, n_per_city: list[int]) -> dict:
    """The settings a simulated corpus was drawn with (its ``attrs["truth"]``)."""
    return {"convergence": float(convergence), "national_drift": float(national_drift),
            "beijing_drift": float(beijing_drift), "years": years,
            "year_weights": dict(year_weights) if year_weights else None,
            "n_per_city": tuple(n_per_city)}


def simulate(n_per_city: Sequence[int] = DEFAULT_N, seed: int = DEFAULT_SEED,
             convergence: float = DEFAULT_CONVERGENCE, phrasebank: str = "a",
             years: Sequence[int] = DEFAULT_YEARS, missing_year_rate: float = DEFAULT_MISSING_YEAR_RATE,
             full_description_rate: float = DEFAULT_FULL_DESCRIPTION_RATE,
             website_text_rate: float = DEFAULT_WEBSITE_TEXT_RATE, website_rate: float = DEFAULT_WEBSITE_RATE,
             profiles_path: str | Path = PROFILES_FILE, national_drift: float = 0.0, beijing_drift: float = 0.0,
             year_weights: dict | None = None) -> pd.DataFrame:
    """Generate a corpus in the canonical schema with ``truth_*`` columns (see module doc).

    ``n_per_city`` gives Beijing, Shanghai, Shenzhen counts (or a dict city -> count).
    ``national_drift`` / ``beijing_drift``: see :func:`_shifted_public`; the planted
    settings are kept in ``frame.attrs["truth"]`` (and :func:`planted_gap` gives the expected
    public-share gap they imply).  ``year_weights`` (year -> relative weight) replaces the
    founding-year distribution, e.g. to match a real export's cohorts.

    Parameters
    ----------
    n_per_city : sequence of three int, or dict
        Firms in Beijing, Shanghai and Shenzhen (or city -> count).
    seed : int
        Seed of the one PCG64 generator all draws come from.
    convergence : float
        Planted convergence X in [0, 1].
    phrasebank : {"a", "b"}
        Phrase bank of the text.
    years : (int, int)
        First and last founding year.
    missing_year_rate, full_description_rate, website_text_rate, website_rate : float
        Shares of firms (each in [0, 1]) with a blank founding year, a full description,
        website text, a website.
    profiles_path : str or Path
        The city profiles (``data/city_profiles.yml``).
    national_drift, beijing_drift : float
        Change over the year range of every city's (Beijing's alone) public-customer probability.
    year_weights : dict or None
        Year -> relative weight of the founding years (None: the profiles' or uniform).

    Returns
    -------
    pandas.DataFrame
        One row per firm, columns :data:`COLUMNS`; the settings in ``attrs["truth"]``.

    Raises
    ------
    ValueError
        A count, convergence, year range, rate, drift or year weights out of range; a phrase bank unknown.
    """
    n_per_city = _city_counts(n_per_city)
    rates = (missing_year_rate, full_description_rate, website_text_rate, website_rate)
    y_min, y_max = _check_settings(convergence, years, rates)
    spec = load_profiles(str(profiles_path))
    bank = _load_phrasebank(phrasebank)
    _check_drift(spec["profiles"], float(national_drift), float(beijing_drift))
    rng = np.random.default_rng(np.random.PCG64(int(seed)))
    columns = _draw_columns(rng, spec, bank, n_per_city, (y_min, y_max), float(convergence), rates,
                            (national_drift, beijing_drift), year_weights)
    frame = _corpus_frame(columns)
    frame.attrs["truth"] = _planted_settings(convergence, national_drift, beijing_drift, (y_min, y_max),
                                             year_weights, n_per_city)
    return frame


# --------------------------------------------------------------------------- drift truth
def _year_weights(spec: dict, y_min: int, y_max: int, year_weights: dict | None = None) -> np.ndarray:
    """Relative weight of each year y_min..y_max: ``year_weights`` if given, else the profile
    file's weights for the default range, else uniform."""
    year_values = np.arange(y_min, y_max + 1)
    if year_weights:
        p = np.array([float(year_weights.get(int(y), 0.0)) for y in year_values])
        if p.sum() <= 0 or (p < 0).any():
            raise ValueError("year_weights must be non-negative with a positive total over the year range")
        return p
    weights = spec.get("founding_year_weights") or {}
    if (y_min, y_max) == tuple(DEFAULT_YEARS) and weights:
        return np.array([float(weights[int(y)]) for y in year_values])
    return np.ones(len(year_values))


def _check_drift(profiles: dict, national: float, beijing: float) -> None:
    """Every firm's public-customer probability must stay in [0, 1] over the year range."""
    for city in CITIES:
        p = float(profiles[city]["customer"]["public"])
        for shift in (national, national + (beijing if city == "Beijing" else 0.0)):
            if not 0.0 <= p + shift <= 1.0:
                raise ValueError(
                    f"national_drift {national:+g} and beijing_drift {beijing:+g} would take {city}'s "
                    f"public-customer probability {p:g} outside [0, 1]")


def planted_gap(cohort_edges: Sequence[int], convergence: float = DEFAULT_CONVERGENCE,
                national_drift: float = 0.0, beijing_drift: float = 0.0,
                n_per_city: Sequence[int] = DEFAULT_N, years: Sequence[int] = DEFAULT_YEARS,
                profiles_path: str | Path = PROFILES_FILE, year_weights: dict | None = None) -> np.ndarray:
    """Expected public-customer share of Beijing minus that of Shanghai and Shenzhen pooled
    (weighted by their firms), per cohort ``[a, b)`` of ``cohort_edges``: the planted truth in
    planted labels (before any coder error), from :func:`planted_public_table`.  NaN for a
    cohort outside the simulated years.

    Parameters
    ----------
    cohort_edges : sequence of int
        Cohort boundaries: cohort k holds the founding years from ``cohort_edges[k]`` up to, not
        including, ``cohort_edges[k + 1]``.
    convergence, national_drift, beijing_drift : float
        As in :func:`simulate`.
    n_per_city, years : sequence of int
        Firms in Beijing, Shanghai and Shenzhen; first and last founding year.
    profiles_path : str or Path
        The city profiles (``data/city_profiles.yml``).
    year_weights : dict or None
        Year -> relative weight of the founding years (None: the profiles' or uniform).

    Returns
    -------
    numpy.ndarray
        The expected gap per cohort (``len(cohort_edges) - 1`` values), each year weighted by
        its founding-year weight.

    Raises
    ------
    ValueError
        ``year_weights`` negative, or not positive in total over the years.
    """
    _, prob, yrs = planted_public_table(convergence, national_drift, beijing_drift, n_per_city=n_per_city,
                                        years=years, year_weights=year_weights, profiles_path=profiles_path)
    wy = _year_weights(load_profiles(str(profiles_path)), int(years[0]), int(years[1]), year_weights)
    n = np.asarray(n_per_city, dtype=float)
    wts = n[1:] if n[1:].sum() else np.ones(len(CITIES) - 1)  # no other city: the model's gap
    gap = prob[0] - wts @ prob[1:] / wts.sum()
    edges = [int(e) for e in cohort_edges]
    out = []
    for a, b in zip(edges, edges[1:]):
        sel = (yrs >= a) & (yrs < b)
        out.append(float(np.average(gap[sel], weights=wy[sel])) if sel.any() and wy[sel].sum() > 0 else np.nan)
    return np.array(out)


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a corpus with a fixed format: UTF-8 without BOM, "\\n" line ends, minimal
    quoting, missing values as empty fields, integers without decimals.

    Parameters
    ----------
    frame : pandas.DataFrame
        The corpus (e.g. from :func:`simulate`), written with its header, without the index.
    path : str or Path
        The file; missing folders are created, an existing file is replaced.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = list(frame.columns)
    values = [frame[c].tolist() for c in cols]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(cols)
        for row in zip(*values):
            w.writerow(["" if (v is None or v is pd.NA or (isinstance(v, float) and v != v))
                        else str(v) for v in row])
    return path


# --------------------------------------------------------------------------- CLI
def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m analysis simulate``.

    Returns
    -------
    argparse.ArgumentParser
        Options --out (required), --seed, --convergence, --phrasebank, --n, --years,
        --missing-year-rate, --national-drift, --beijing-drift, with :func:`simulate`'s defaults.
    """
    p = argparse.ArgumentParser(
        prog="python -m analysis simulate",
        description="Write a simulated corpus (canonical schema + truth_* columns).")
    p.add_argument("--out", required=True, help="output CSV path")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    p.add_argument("--convergence", type=float, default=DEFAULT_CONVERGENCE,
                   help="planted convergence X in [0, 1]: a firm founded in year y draws from "
                        "Beijing's profile with probability X*(y-y_min)/(y_max-y_min) "
                        f"(default {DEFAULT_CONVERGENCE})")
    p.add_argument("--phrasebank", choices=PHRASEBANKS, default="a",
                   help="phrase bank for the text (default a)")
    p.add_argument("--n", type=int, nargs=3, metavar=("BEIJING", "SHANGHAI", "SHENZHEN"),
                   default=list(DEFAULT_N), help="firms per city (default 110 53 34)")
    p.add_argument("--years", type=int, nargs=2, metavar=("FIRST", "LAST"),
                   default=list(DEFAULT_YEARS), help="founding-year range (default 2014 2022)")
    p.add_argument("--missing-year-rate", type=float, default=DEFAULT_MISSING_YEAR_RATE)
    p.add_argument("--national-drift", type=float, default=0.0,
                   help="change of every city's public-customer probability over the year range (default 0)")
    p.add_argument("--beijing-drift", type=float, default=0.0,
                   help="extra change of Beijing's public-customer probability over the year range (default 0)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m analysis simulate --out PATH ...``: write a simulated corpus, say what was written.

    Parameters
    ----------
    argv : sequence of str or None
        The command-line arguments (None: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 written, 2 a setting out of range (the message on standard error).

    Raises
    ------
    SystemExit
        Bad arguments (argparse's message, status 2), or ``--help``.
    """
    args = build_parser().parse_args(argv)
    try:
        frame = simulate(n_per_city=args.n, seed=args.seed, convergence=args.convergence,
                         phrasebank=args.phrasebank, years=args.years,
                         missing_year_rate=args.missing_year_rate, national_drift=args.national_drift,
                         beijing_drift=args.beijing_drift)
    except ValueError as exc:
        print(f"simulate: {exc}", file=sys.stderr)
        return 2
    path = write_csv(frame, args.out)
    counts = frame["city"].value_counts()
    print(f"wrote {len(frame)} simulated firms to {path} "
          f"({', '.join(f'{c} {int(counts.get(c, 0))}' for c in CITIES)}; seed {args.seed}, "
          f"convergence {args.convergence}, phrase bank {args.phrasebank})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def simulate_labels(replicates: int, rng: np.random.Generator, n_per_city: Sequence[int] = DEFAULT_N,
                    convergence: float = DEFAULT_CONVERGENCE, national_drift: float = 0.0,
                    beijing_drift: float = 0.0, years: Sequence[int] = DEFAULT_YEARS,
                    year_weights: dict | None = None, missing_year_rate: float = DEFAULT_MISSING_YEAR_RATE,
                    profiles_path: str | Path = PROFILES_FILE, logit_drift: float = 0.0,
                    mix_shift: float = 0.0) -> dict[str, np.ndarray]:
    """The label part of :func:`simulate` for many corpora at once, without text: the same
    model (founding years, convergence switch, drift, application and customer labels,
    missing years), drawn independently for ``replicates`` corpora with ``rng`` (not the same
    draws as :func:`simulate`, the same distribution).

    Parameters
    ----------
    replicates : int
        Corpora drawn.
    rng : numpy.random.Generator
        The source of every draw.
    n_per_city, years : sequence of int
        Firms in Beijing, Shanghai and Shenzhen; first and last founding year.
    convergence, national_drift, beijing_drift, missing_year_rate : float
        As in :func:`simulate`.
    year_weights : dict or None
        Year -> relative weight of the founding years (None: the profiles' or uniform).
    profiles_path : str or Path
        The city profiles (``data/city_profiles.yml``).
    logit_drift, mix_shift : float
        Two worlds that exist only here (the validation study's threats, no convergence in either):
        ``logit_drift`` adds ``w0 * logit_drift`` to every firm's public-customer log-odds (a drift common
        to the three cities on the log-odds scale: the odds ratios between them stay fixed), and
        ``mix_shift`` (in [0, 1)) tilts the founding years of Shanghai's firms towards the last years and
        Shenzhen's towards the first (see :func:`_city_year_weights`), so the two cities' mix changes
        over cohorts while no city changes.

    Returns
    -------
    dict of str to numpy.ndarray
        Arrays of shape (replicates, n): ``city`` (index into CITIES), ``year`` (latent founding year),
        ``observed`` (False where the year is blank), ``application`` and ``customer`` (category indices).

    Raises
    ------
    ValueError
        Drifts taking a public-customer probability outside [0, 1]; mix_shift or year_weights out of range.
    """
    spec = load_profiles(str(profiles_path))
    profiles = spec["profiles"]
    _check_drift(profiles, float(national_drift), float(beijing_drift))
    n_per_city = [int(x) for x in n_per_city]
    n, R = sum(n_per_city), int(replicates)
    y_min, y_max = int(years[0]), int(years[1])
    span = y_max - y_min
    city = np.broadcast_to(np.repeat(np.arange(3), n_per_city), (R, n))
    wy = _city_year_weights(_year_weights(spec, y_min, y_max, year_weights), mix_shift)  # (3, Y)
    cum_year = np.cumsum(wy / wy.sum(axis=1, keepdims=True), axis=1)[city]  # (R, n, Y)
    year = y_min + np.minimum((rng.random((R, n))[..., None] >= cum_year).sum(axis=-1), wy.shape[1] - 1)
    w0 = (year - y_min) / span if span > 0 else np.zeros((R, n))
    switched = rng.random((R, n)) < float(convergence) * w0
    profile = np.where(switched, 0, city)
    return {"city": np.array(city), "year": year, "observed": rng.random((R, n)) >= missing_year_rate,
            **_label_indices(rng, profiles, profile, city, w0, national_drift, beijing_drift, logit_drift)}


def _label_indices(rng: np.random.Generator, profiles: dict, profile: np.ndarray, city: np.ndarray,
                   w0: np.ndarray, national_drift: float, beijing_drift: float,
                   logit_drift: float) -> dict[str, np.ndarray]:
    """The application and customer labels of :func:`simulate_labels` (indices into the
    categories), one uniform per firm and dimension, from the profile each firm draws from
    (``profile``, 0 = Beijing, shape (R, n)); the public-customer probability moved by the drifts."""
    R, n = profile.shape
    out = {}
    for dim in ("application", "customer"):
        cats = _labels.categories(dim)
        probs = np.array([[float(profiles[c][dim][k]) for k in cats] for c in CITIES])[profile]  # (R, n, C)
        if dim == "customer" and (national_drift or beijing_drift or logit_drift):
            j = cats.index("public")
            pub = _shifted_public(probs[..., j], w0, city == 0, national_drift, beijing_drift, logit_drift)
            probs = np.stack([pub if k == j else 1.0 - pub for k in range(len(cats))], axis=-1)
        cum = np.cumsum(probs, axis=-1)
        out[dim] = np.minimum((rng.random((R, n))[..., None] >= cum).sum(axis=-1), len(cats) - 1)
    return out


def _shifted_public(p, w0, is_beijing, national_drift: float = 0.0, beijing_drift: float = 0.0,
                   logit_drift: float = 0.0):
    """Public-customer probability after the drifts, for a firm whose profile gives ``p``,
    founded at relative year ``w0`` = (y - y_min) / (y_max - y_min): ``w0 * logit_drift`` added
    on the log-odds scale, then ``w0 * national_drift`` (every firm) and ``w0 * beijing_drift``
    (Beijing's firms) on the probability scale, so a national drift moves all three cities the same way
    (gap to Beijing unchanged) and Beijing's drift moves Beijing alone."""
    p = np.asarray(p, dtype=float)
    if logit_drift:
        z = np.log(p) - np.log1p(-p) + np.asarray(w0) * float(logit_drift)
        p = 1.0 / (1.0 + np.exp(-z))
    return np.clip(p + np.asarray(w0) * (float(national_drift) + float(beijing_drift) * np.asarray(is_beijing)), 0, 1)


def _city_year_weights(weights, mix_shift: float = 0.0) -> np.ndarray:
    """Founding-year weights per city (3, Y) from the common ``weights`` (Y,): the same for
    every city unless ``mix_shift`` m is set, which multiplies Shanghai's by 1 + m (2 u - 1) and
    Shenzhen's by 1 - m (2 u - 1), u the relative year from 0 (first) to 1 (last)."""
    w = np.asarray(weights, dtype=float)
    m = float(mix_shift)
    if not 0.0 <= m < 1.0:
        raise ValueError(f"mix_shift must lie in [0, 1), got {mix_shift}")
    u = np.linspace(0.0, 1.0, len(w)) if len(w) > 1 else np.zeros(1)
    tilt = np.stack([np.ones_like(u), 1 + m * (2 * u - 1), 1 - m * (2 * u - 1)])
    return w[None, :] * tilt


def planted_public_table(convergence: float = DEFAULT_CONVERGENCE, national_drift: float = 0.0,
                         beijing_drift: float = 0.0, logit_drift: float = 0.0, mix_shift: float = 0.0,
                         n_per_city: Sequence[int] = DEFAULT_N, years: Sequence[int] = DEFAULT_YEARS,
                         year_weights: dict | None = None,
                         profiles_path: str | Path = PROFILES_FILE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The planted truth of a world as expected tables: ``(expected firms (3, Y), public-customer
    probability (3, Y), years (Y,))`` per city and founding year, in planted labels (before any
    coder error and before years go missing).  :mod:`analysis.method.convergence_rule` turns them
    into the planted slopes per year.

    Parameters
    ----------
    convergence, national_drift, beijing_drift : float
        As in :func:`simulate`.
    logit_drift, mix_shift : float
        As in :func:`simulate_labels`.
    n_per_city, years : sequence of int
        Firms in Beijing, Shanghai and Shenzhen; first and last founding year.
    year_weights : dict or None
        Year -> relative weight of the founding years (None: the profiles' or uniform).
    profiles_path : str or Path
        The city profiles (``data/city_profiles.yml``).

    Returns
    -------
    firms : numpy.ndarray
        Expected firms per city (Beijing, Shanghai, Shenzhen) and founding year, shape (3, Y).
    prob : numpy.ndarray
        Public-customer probability per city and founding year, shape (3, Y).
    years : numpy.ndarray
        The founding years, first to last, shape (Y,).

    Raises
    ------
    ValueError
        ``mix_shift`` outside [0, 1), or ``year_weights`` negative or not positive in total.
    """
    spec = load_profiles(str(profiles_path))
    profiles = spec["profiles"]
    y_min, y_max = int(years[0]), int(years[1])
    yrs = np.arange(y_min, y_max + 1)
    span = y_max - y_min
    w0 = (yrs - y_min) / span if span > 0 else np.zeros(len(yrs))
    wy = _city_year_weights(_year_weights(spec, y_min, y_max, year_weights), mix_shift)
    firms = np.asarray(n_per_city, dtype=float)[:, None] * wy / wy.sum(axis=1, keepdims=True)
    prob = np.zeros((len(CITIES), len(yrs)))
    for k, city in enumerate(CITIES):
        own = _shifted_public(float(profiles[city]["customer"]["public"]), w0, k == 0, national_drift,
                             beijing_drift, logit_drift)
        bj = _shifted_public(float(profiles["Beijing"]["customer"]["public"]), w0, k == 0, national_drift,
                            beijing_drift, logit_drift)
        switch = float(convergence) * w0
        prob[k] = (1 - switch) * own + switch * bj
    return firms, prob, yrs
