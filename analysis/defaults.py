"""Defaults shared across the package, in one place: the three cities in the brief's order, the
seed every random step derives from (the simulator's, the book's and the analyses'), the brief's
firm counts per city, and the book's analysis settings.

The settings below are the defaults of the book's parameters (``analysis/params.py`` reads them
for its schema) and of every function that takes the same setting, so that a function called
with its defaults computes what a default build shows (``tests/test_defaults.py``)."""

from __future__ import annotations

CITIES = ("Beijing", "Shanghai", "Shenzhen")  # the order of every table and figure
DEFAULT_SEED = 20220804
# Firms per city in the brief's Table 1 (Beijing, Shanghai, Shenzhen); also data/labels.yml.
BRIEF_CITY_SIZES = (110, 53, 34)

# ----------------------------------------------------------------- the book's analysis settings
TEXT_FIELDS = ("description", "full_description", "website_text")  # the brief's sources, joined
CODER = "dictionary"  # the business-model coder (or "supervised")
MIN_DF = 1  # key terms: kept when at least this many firms use them
TOP_N = 15  # key terms shown per city
KEYNESS_ADJUST = "bh"  # multiplicity correction of the keyness p-values (Benjamini-Hochberg)
COHORT_EDGES = (2014, 2017, 2020, 2023)  # founding-year bins, half-open
N_SUBSAMPLES = 5  # equal-size subsamples per cohort (distinctiveness)
N_BOOT = 200  # bootstrap draws
N_PERM = 200  # permutations of the text measures' tests and of each simulated corpus
N_PERM_SHARES = 10_000  # permutations of the share measures' decision rule
N_PERM_JOINT = 1_000  # joint permutations of the specification curve (every specification at once)
ALPHA = 0.05  # significance level
EQUIVALENCE_MARGIN = 3.0  # share points per year: the rule's equivalence bound
REPLICATES = 400  # simulated corpora per world, label level
TEXT_REPLICATES = 5  # full-text simulated corpora per world
# ----------------------------------------------------------------- a user's licensed corpus
WITHHOLD_TEXTS = False  # leave the corpus's raw texts out of the site (firm table, examples, notebooks)
CORPUS_REDISTRIBUTABLE = False  # the user declares their corpus's texts may be passed on (make publish)
