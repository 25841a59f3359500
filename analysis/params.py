"""Parameter helpers shared by chapters and the runner."""

from __future__ import annotations

from typing import Any

import yaml


def as_list(value: Any, *, name: str = "parameter") -> list:
    """Accept a list, or a YAML string holding one (``"[2014, 2018, 2023]"``), or a
    comma-separated string (``"description,full_description"``).

    papermill's ``-y`` passes real lists; ``-p`` passes strings; both work.
    """
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return []
        parsed = yaml.safe_load(text)
        if isinstance(parsed, list):
            return parsed
        if isinstance(parsed, str) and "," in parsed:
            return [part.strip() for part in parsed.split(",") if part.strip()]
        return [parsed]
    raise TypeError(f"{name}: expected a list or a YAML string, got {type(value).__name__}")
