# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (introduction)=
# # Chinese blockchain, re-run
#
# This book re-runs, from company records to published tables, the text-as-data study of
# blockchain start-ups in Beijing, Shanghai and Shenzhen by Hai and Klingler-Vidra
# {cite:p}`hai2022chinese`. It is built so that every number on these pages is computed when
# the book is built, and so that anyone can run it again on other data or with other settings.

# %% tags=["parameters", "hide-input"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
corpus_path: str = ""  # CSV of firms (canonical or Crunchbase export); empty: the bundled simulated corpus
website_snapshot: str = ""  # website text collected by python -m analysis collect (its DIR or DIR/website_text.csv); empty: none
text_fields: list[str] = ["description", "full_description", "website_text"]  # text columns analysed, joined (any of description, full_description, website_text)
coder: str = ""  # business-model coder of Table 1 and the convergence measures: dictionary or supervised; empty: the package default (analysis.defaults.CODER)
seed: int = 20220804  # seed every random step derives from (an integer, 0 or more)
cohort_edges: list[int] = [2014, 2017, 2020, 2023]  # founding-year bin edges, half-open, strictly increasing years
n_subsamples: int = 5  # equal-size subsamples per cohort for distinctiveness (at least 1)
n_boot: int = 200  # bootstrap draws per cohort (0 or more; 0: no intervals)
n_perm: int = 200  # permutations for the text-measure trend tests and for each simulated corpus of the power study, at most 200 there (0 or more; 0: no test)
n_perm_shares: int = 10000  # permutations for the share measures' decision rule, the primary decision included (0 or more; 0: no test)
alpha: float = 0.05  # significance level of the tests, in (0, 1)
equivalence_margin: float = 3.0  # share points per year below which the others' move towards Beijing counts as no convergence (the rule's equivalence test; more than 0)
replicates: int = 400  # simulated corpora per world of the power study, label level (at least 1; 400 or more keep every rate's Monte Carlo SE at or below 0.025)
text_replicates: int = 5  # full-text simulated corpora per scenario for the text measures in the power study (0 or more)

# %% tags=["remove-cell"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
from analysis.params import check as _check_parameters

parameters = _check_parameters("01_introduction", corpus_path=corpus_path, website_snapshot=website_snapshot, text_fields=text_fields, coder=coder, seed=seed, cohort_edges=cohort_edges, n_subsamples=n_subsamples, n_boot=n_boot, n_perm=n_perm, n_perm_shares=n_perm_shares, alpha=alpha, equivalence_margin=equivalence_margin, replicates=replicates, text_replicates=text_replicates)
globals().update(parameters)

# %% tags=["remove-input"]
from IPython.display import Markdown
from myst_nb import glue

from analysis.chapters import introduction
from analysis.present import convergence_prose, prose

page = introduction.chapter(**parameters)
glue("intro_n_firms", page.n_firms, display=False)
glue("intro_decision", page.decision, display=False)
display(Markdown(prose.corpus_notice(page.corpus)))
Markdown(convergence_prose.landing_summary(page.verdict.row, page.corpus.simulated, page.verdict.planted_strength))

# %% [markdown]
# ## The question
#
# Research on Chinese innovation has long stressed that the country is not one system but
# several. Breznitz and Murphree {cite:p}`breznitz2011run` describe Beijing, Shanghai and
# Shenzhen as regions with their own political economies of innovation, each with its own
# relationship between local officials and firms. The brief asks whether this variety survives
# in one technology that the central state treats as strategic: blockchain. If the central
# government increasingly decides what kinds of blockchain business are welcome, do start-ups in
# the three cities still build different kinds of firm, or do they all drift towards one model?
#
# The brief's name for what might be lost is *contextual rationality*
# {cite:p}`hai2022chinese`: each hub has its own way of deciding what is worth building, rooted in
# local norms (the habits of its officials, investors, customers and workers) rather than in one
# national calculus. Its worry is that, as the central state comes closer, these local logics
# give way to a single one, Beijing's, in which firms build infrastructure and the public sector
# is the customer. The brief borrows a saying from the Yuan dynasty to frame this: heaven is high
# and the emperor far away, so local actors have room to choose; as the emperor draws nearer, that
# room shrinks, and innovators either serve the state or leave the country.
#
# ## The brief's answer, in brief
#
# Hai and Klingler-Vidra read the company descriptions of the 197 blockchain firms that
# Crunchbase listed in the three cities in May 2022 (110 in Beijing, 53 in Shanghai, 34 in
# Shenzhen), together with text taken from the firms' websites, using the R package quanteda
# {cite:p}`benoit2018quanteda`. Their Table 1 sketches three profiles: Beijing firms provide
# infrastructure and services to public-sector, domestic customers and are backed by state
# money; Shanghai firms sell financial services to a mix of domestic and foreign private clients
# with international venture capital behind them; Shenzhen firms lean towards crypto for private,
# global markets, financed by domestic venture capital. The authors argue that the three
# profiles are converging on Beijing's, in which the state is the customer, because crypto has
# been banned and because regulation framed around national security leaves little room for
# other business models {cite:p}`hai2022chinese`. They close with three recommendations, which
# {doc}`10_policy` sets beside this corpus's evidence.
#
# ## How this book is built
#
# The chain runs in one direction. A corpus of firms (one row per firm, with its city,
# founding year, descriptions and investors) is loaded and checked ({doc}`03_data`). The text is
# tokenised and counted, and each city's vocabulary is compared with the other two cities':
# how many of the city's firms use each term against how many of the other firms do, with
# quanteda's keyness statistic, which the brief used, beside it. A reviewable dictionary,
# written from the brief's category definitions, codes each firm's application, customer type
# and customer geography; investor types give the investor portrait. These pieces rebuild the brief's Table 1
# and Figure 1 ({doc}`04_beijing`, {doc}`05_shanghai`, {doc}`06_shenzhen`, {doc}`07_comparison`).
# The convergence claim becomes a decision rule on every dated firm, with founding year as a number
# and three possible answers: the data support convergence, rule it out, or cannot tell
# ({doc}`08_convergence`); how often the rule gives each answer is checked on simulated corpora
# where the truth is known ({doc}`09_validation`).
#
# Each chapter is a notebook executed with papermill {cite:p}`nteract_papermill` and assembled by
# Jupyter Book {cite:p}`executablebooks2020jupyterbook`; all computation lives in a tested
# Python package, `analysis`, which uses scikit-learn {cite:p}`pedregosa2011scikit` for the
# supervised checks. {doc}`11_reproduce` lists the parameters, input hashes and package
# versions of this build and the commands to re-run any chapter.
#
# ## How to read it
#
# Statements about China are the brief's and are cited as such. Numbers are this corpus's, and
# the box at the top of each chapter says which corpus that is: in the default build, a
# simulated one of {glue:text}`intro_n_firms` invented firms whose city profiles follow the
# brief's Table 1 by design. On that corpus the book demonstrates the method and tests whether it
# recovers what was planted; it cannot confirm or refute the brief. Run on a real Crunchbase
# export, the same chapters produce real findings. Code cells are folded; open them to see
# which function of `analysis` produced a number.
