"""The label set (DESIGN §6), read from ``data/labels.yml``."""

from __future__ import annotations

from functools import lru_cache

import yaml

from analysis.paths import DATA_DIR

LABELS_FILE = DATA_DIR / "labels.yml"


@lru_cache(maxsize=1)
def _load() -> dict:
    with open(LABELS_FILE, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def dimensions() -> list[str]:
    """Dimension names in file order: application, customer, geography, investor."""
    return list(_load()["dimensions"])


def categories(dimension: str) -> list[str]:
    """Category codes of one dimension, in file order."""
    return list(_load()["dimensions"][dimension]["categories"])


def display(dimension: str, code: str | None = None) -> str:
    """Display name of a dimension, or of one of its categories."""
    dim = _load()["dimensions"][dimension]
    return dim["display"] if code is None else dim["categories"][code]


def brief_value(dimension: str, city: str) -> str:
    """The category the brief's Table 1 gives ``city`` on ``dimension``."""
    return _load()["dimensions"][dimension]["brief"][city]


def brief_firm_counts() -> dict[str, int]:
    return dict(_load()["brief_firm_counts"])
