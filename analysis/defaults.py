"""Defaults shared across the package, in one place: the three cities in the brief's order, the
seed every random step derives from (the simulator's, the book's and the analyses'), and the
brief's firm counts per city."""

from __future__ import annotations

CITIES = ("Beijing", "Shanghai", "Shenzhen")  # the order of every table and figure
DEFAULT_SEED = 20220804
# Firms per city in the brief's Table 1 (Beijing, Shanghai, Shenzhen); also data/labels.yml.
BRIEF_CITY_SIZES = (110, 53, 34)
