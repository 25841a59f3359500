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
# (policy)=
# # Policy recommendations
#
# The brief ends with three recommendations to the Chinese state, meant to keep room for more
# than one model of blockchain entrepreneurship {cite:p}`hai2022chinese`. Below each is restated
# in our words and set beside the evidence from this build's corpus that bears on it, with what
# would have to be true for it to hold. The corpus can inform the premises of the
# recommendations (what kinds of firm exist, and whether they are becoming alike); it cannot
# test whether a policy would work.

# %% tags=["parameters", "hide-input"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
corpus_path: str = ""  # CSV of firms (canonical or Crunchbase export); empty: the bundled simulated corpus
website_snapshot: str = ""  # website text collected by python -m analysis collect (its DIR or DIR/website_text.csv); empty: none
tables_dir: str = ""  # folder for the tables as CSV; filled in by the runner, empty: none written
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

parameters = _check_parameters("10_policy", corpus_path=corpus_path, website_snapshot=website_snapshot, tables_dir=tables_dir, text_fields=text_fields, coder=coder, seed=seed, cohort_edges=cohort_edges, n_subsamples=n_subsamples, n_boot=n_boot, n_perm=n_perm, n_perm_shares=n_perm_shares, alpha=alpha, equivalence_margin=equivalence_margin, replicates=replicates, text_replicates=text_replicates)
globals().update(parameters)

# %% tags=["remove-input"]
from IPython.display import Markdown
from myst_nb import glue

from analysis.chapters import policy
from analysis.present import convergence_prose, prose, tables

page = policy.chapter(**parameters)  # its verdict is the convergence chapter's (one shared call)
glue("pol_public_Beijing", page.percentages.at["Beijing", "public"], display=False)
glue("pol_crypto_Beijing", page.percentages.at["Beijing", "crypto"], display=False)
glue("pol_state_Beijing", page.percentages.at["Beijing", "state_investor"], display=False)
glue("pol_public_Shanghai", page.percentages.at["Shanghai", "public"], display=False)
glue("pol_crypto_Shanghai", page.percentages.at["Shanghai", "crypto"], display=False)
glue("pol_state_Shanghai", page.percentages.at["Shanghai", "state_investor"], display=False)
glue("pol_public_Shenzhen", page.percentages.at["Shenzhen", "public"], display=False)
glue("pol_crypto_Shenzhen", page.percentages.at["Shenzhen", "crypto"], display=False)
glue("pol_state_Shenzhen", page.percentages.at["Shenzhen", "state_investor"], display=False)
glue("pol_public_trend", convergence_prose.policy_sentence(page.verdict.row), display=False)
glue("pol_frag_year", page.fragmentation_summary.year, display=False)
glue("pol_frag_bodies", page.fragmentation_summary.bodies, display=False)
glue("pol_frag_in_force", page.fragmentation_summary.in_force, display=False)
glue("pol_frag_busiest", page.fragmentation_summary.busiest_year, display=False)
glue("pol_frag_busiest_n", page.fragmentation_summary.busiest_measures, display=False)
Markdown(prose.corpus_notice(page.corpus, short=True))

# %% tags=["remove-input"]
Markdown(prose.evidence_notice(page.corpus))

# %% [markdown]
# ## 1. Put economic opportunity first
#
# **The recommendation.** The brief finds the state inconsistent and restrictive. On one side,
# the People's Bank of China and the National Development and Reform Commission see blockchain
# as a source of long-term growth, as in the planning of the 13th Five-Year Plan; on the other,
# the Central Cyberspace Administration treats it as a pillar of digital governance and of
# national security, and stresses its risks through online censorship, monitoring and
# campaign-style penalties {cite:p}`hai2022chinese`. Caught between the two, entrepreneurs
# mitigate the risk by selling to the one safe customer, the state. A clear statement that
# economic opportunity comes first would, the authors argue, let a more varied set of firms
# emerge.
#
# **What the evidence would look like.** Shares of firms coded as serving public customers:
# Beijing {glue:text}`pol_public_Beijing`, Shanghai {glue:text}`pol_public_Shanghai`, Shenzhen
# {glue:text}`pol_public_Shenzhen`. Over founding years, {glue:text}`pol_public_trend`; this is
# the primary measure of {doc}`08_convergence`, where the rule behind the verdict is set out
# (its {term}`power` is how often it detects convergence planted in simulated corpora of this size).
#
# **What would have to be true.** That dependence on public customers is a response to
# regulatory risk rather than to where the demand is; a corpus of descriptions cannot separate
# the two, but firm histories (pivots towards public clients after a restriction) could.
#
# ## 2. Coordinate policy, with the Shenzhen special economic zone as a template
#
# **The recommendation.** Shenzhen grew under a deliberately coordinated institutional design.
# A similar mechanism that joins up the agencies and actors involved in blockchain could give
# entrepreneurs more certainty and draw on China's habit of policy experimentation.
#
# **What the evidence would look like.** Firms coded as crypto: Beijing
# {glue:text}`pol_crypto_Beijing`, Shanghai {glue:text}`pol_crypto_Shanghai`, Shenzhen
# {glue:text}`pol_crypto_Shenzhen`. The fragmentation the recommendation addresses is a
# property of policy, not of firms, so it is measured on the policy timeline of
# {doc}`02_context` ({numref}`tbl-policy-fragmentation`): by {glue:text}`pol_frag_year`,
# {glue:text}`pol_frag_bodies` distinct central bodies had led blockchain or crypto measures
# (counting only the first-named issuer of each, so joint measures understate it), and
# {glue:text}`pol_frag_in_force` restrictive central measures were in force together. The
# busiest year was {glue:text}`pol_frag_busiest`, with {glue:text}`pol_frag_busiest_n` central
# measures. The timeline lists 45 selected events, not every document; the brief's own count
# is more than thirty central bodies by early 2022 {cite:p}`hai2022chinese`.

# %% tags=["remove-input"]
tables.html(page.fragmentation)

# %% [markdown]
# **What would have to be true.** That uncertainty from uncoordinated agencies, rather than the
# substance of the crypto bans, is what holds back non-state business models; and that a
# special-zone design can be transferred to a technology whose risks are framed as national.
#
# ## 3. Make accountability clear
#
# **The recommendation.** Entrepreneurs in all three cities found it hard to know to whom they
# answer when several authorities set requirements. Policy makers should say clearly who is
# responsible and make that path easy to follow.
#
# **What the evidence would look like.** Descriptions written for customers and investors say
# little about regulators, so a corpus like this one offers only indirect evidence: the share of
# firms backed mainly by state investors (Beijing {glue:text}`pol_state_Beijing`, Shanghai
# {glue:text}`pol_state_Shanghai`, Shenzhen {glue:text}`pol_state_Shenzhen`), for whom the line
# of accountability runs through the investor. {numref}`tbl-policy-evidence` gathers the three
# shares.
#
# **What would have to be true.** That unclear accountability is a binding constraint for
# entrepreneurs; interviews or surveys, not company descriptions, are the data that could show
# it.

# %% tags=["remove-input"]
tables.html(page.evidence, digits=3)
