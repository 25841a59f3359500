"""Investor types: the name rules (``dictionaries/investors.yml``) and the table of investor-type
words (``dictionaries/investor_types.yml``) that turn what a corpus says into the codes of
``data/labels.yml``.  Used by the loader (words -> codes) and the coders (names -> codes)."""

from __future__ import annotations

import fnmatch
import re
from functools import lru_cache
from pathlib import Path

import yaml

from analysis import labels as _labels
from analysis.paths import PACKAGE_DIR

NAMES_FILE = PACKAGE_DIR / "dictionaries" / "investors.yml"
WORDS_FILE = PACKAGE_DIR / "dictionaries" / "investor_types.yml"


def _glob_regex(pattern: str) -> re.Pattern:
    return re.compile(fnmatch.translate(pattern.lower()), re.IGNORECASE | re.DOTALL)


@lru_cache(maxsize=2)
def _name_rules(path: str | Path = NAMES_FILE) -> tuple:
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    valid = _labels.categories("investor")
    rules = []
    for rule in raw["rules"]:
        if rule["type"] not in valid:
            raise ValueError(f"{path}: unknown investor type {rule['type']!r} (valid: {valid})")
        for p in rule["patterns"]:
            rules.append((_glob_regex(str(p)), rule["type"]))
    return tuple(rules)


def investor_type_of_name(name: str) -> str | None:
    """Type of one investor name by the first matching rule, or None.

    Parameters
    ----------
    name : str
        An investor's name.

    Returns
    -------
    str or None
        The investor code (data/labels.yml) of the first rule of ``dictionaries/investors.yml``
        with a glob pattern matching the whole name, case-insensitively; None when none does.
    """
    name = str(name).strip()
    for rx, typ in _name_rules():
        if rx.fullmatch(name):
            return typ
    return None


def _key(word: str) -> str:
    key = re.sub(r"[\s\-_/]+", " ", str(word).casefold()).strip()
    return key[:-1] if key.endswith("s") and not key.endswith("ss") else key


@lru_cache(maxsize=2)
def _word_table(path: str | Path = WORDS_FILE) -> tuple[dict, frozenset]:
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    valid = set(_labels.categories("investor"))
    decides = {}
    for word, code in raw["decides"].items():
        if code not in valid:
            raise ValueError(f"{path}: {word!r} maps to unknown investor code {code!r} (valid: {sorted(valid)})")
        decides[_key(word)] = code
    decides.update({_key(code): code for code in valid})  # the codes themselves
    for code in valid:  # and their display names ("State sponsorship and investment")
        decides.setdefault(_key(_labels.display("investor", code)), code)
    return decides, frozenset(_key(w) for w in raw["by_name"])


def code_of_type(word: str, investor: str | None = None) -> tuple[str | None, str]:
    """The investor code for one investor-type word, and how it was decided:
    ``"code"``/``"word"`` (the word decides), ``"name"`` (the investor's name decided a word that
    does not), ``"undecided"`` (a known word, and the name does not decide), ``"unknown"``.

    Parameters
    ----------
    word : str
        An investor-type word as a corpus writes it (e.g. "Venture Capital"), or a code.
    investor : str or None
        The investor's name, read when the word alone does not decide.

    Returns
    -------
    str or None
        The investor code, None when undecided or unknown.
    str
        How it was decided (see above).
    """
    decides, by_name = _word_table()
    key = _key(word)
    if key in decides:
        return decides[key], ("code" if word.strip() in _labels.categories("investor") else "word")
    if key in by_name:
        code = investor_type_of_name(investor) if investor else None
        return (code, "name") if code else (None, "undecided")
    return None, "unknown"
