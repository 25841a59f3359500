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
    """Dimension names in file order: application, customer, geography, investor.

    Returns
    -------
    list of str
        The dimensions' names.
    """
    return list(_load()["dimensions"])


def categories(dimension: str) -> list[str]:
    """Category codes of one dimension, in file order.

    Parameters
    ----------
    dimension : str
        A dimension's name, as :func:`dimensions` gives it.

    Returns
    -------
    list of str
        The codes of its categories.

    Raises
    ------
    KeyError
        If ``dimension`` is not in the label file.
    """
    return list(_load()["dimensions"][dimension]["categories"])


def display(dimension: str, code: str | None = None) -> str:
    """Display name of a dimension, or of one of its categories.

    Parameters
    ----------
    dimension : str
        A dimension's name.
    code : str, optional
        A category code of that dimension; None for the dimension itself.

    Returns
    -------
    str
        The display name of the category, or of the dimension when ``code`` is None.

    Raises
    ------
    KeyError
        If the dimension or the code is not in the label file.
    """
    dim = _load()["dimensions"][dimension]
    return dim["display"] if code is None else dim["categories"][code]


def brief_value(dimension: str, city: str) -> str:
    """The category the brief's Table 1 gives ``city`` on ``dimension``.

    Parameters
    ----------
    dimension : str
        A dimension's name.
    city : str
        One of the three cities, as in :data:`analysis.defaults.CITIES`.

    Returns
    -------
    str
        The category code the brief gives.

    Raises
    ------
    KeyError
        If the dimension or the city is not in the label file.
    """
    return _load()["dimensions"][dimension]["brief"][city]


def brief_firm_counts() -> dict[str, int]:
    """The firms per city in the brief's Table 1.

    Returns
    -------
    dict of str to int
        City -> number of firms, as in the label file.
    """
    return dict(_load()["brief_firm_counts"])
