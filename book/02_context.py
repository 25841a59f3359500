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
# (context)=
# # Policy context
#
# The brief places the three cities' start-ups in a policy environment that pulls two ways
# {cite:p}`hai2022chinese`. The central state has treated blockchain as a strategic
# infrastructure technology since the 13th Five-Year National Informatization Plan named it in
# December 2016 {cite:p}`statecouncil2016informatization`, and has also moved repeatedly against
# its best-known use, cryptocurrency: token sales were declared illegal in September 2017
# {cite:p}`pboc2017ico`, blockchain information services were made subject to registration with
# the Cyberspace Administration in 2019 {cite:p}`cac2019blockchain`, and in September 2021 all
# virtual-currency business was declared illegal and mining was ordered to wind down
# {cite:p}`pboc2021virtual,ndrc2021mining`. On the brief's reading, Beijing tends to take over
# central policy directly, Shanghai tries to balance it against its market, and Shenzhen is more
# willing to experiment locally, but all three have been moving closer to the centre.

# %% tags=["parameters", "hide-input"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
tables_dir: str = ""  # folder for the tables as CSV; filled in by the runner, empty: none written

# %% tags=["remove-cell"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
from analysis.params import check as _check_parameters

globals().update(_check_parameters("02_context", tables_dir=tables_dir))

# %% tags=["hide-input"]
from myst_nb import glue

from analysis import facts, figures, tables

events = facts.policy_events()
by_level = tables.save(facts.stance_by_level(events), "policy_events_by_level", tables_dir)
marked = tables.save(facts.marked_events(events), "policy_events_marked", tables_dir)
glue("ctx_n_events", len(events), display=False)
glue("ctx_first_year", int(events["year"].min()), display=False)
glue("ctx_last_year", int(events["year"].max()), display=False)
glue("ctx_n_restrict", int((events["stance"] == "restrict").sum()), display=False)
glue("ctx_n_support", int((events["stance"] == "support").sum()), display=False)
glue("ctx_n_central", int((events["level"] == "central").sum()), display=False)
fig = figures.policy_timeline(events, facts.MARKED)
glue("fig_policy_timeline", fig, display=False)
figures.close(fig)

# %% [markdown]
# ## A timeline
#
# {numref}`fig-policy-timeline` places {glue:text}`ctx_n_events` dated policy documents and
# events from {glue:text}`ctx_first_year` to {glue:text}`ctx_last_year`, transcribed with
# their sources into `data/policy_events.csv`. {glue:text}`ctx_n_central` of them are central;
# {glue:text}`ctx_n_support` are coded as supporting the technology and
# {glue:text}`ctx_n_restrict` as restricting it (the coding of stance is an editorial reading,
# explained in `data/README.md`). The pattern the brief describes is visible: support for
# blockchain as infrastructure thickens after the Politburo study session of 24 October 2019,
# while the restrictions cluster on cryptocurrency, in 2017 and again in 2021.
#
# ```{glue:figure} fig_policy_timeline
# :name: fig-policy-timeline
# :alt: Scatter of policy events from 2013 to 2022 in five lanes (central, Beijing, Shanghai, Shenzhen, other), upward green triangles for support and downward red triangles for restriction, with dashed lines at the 2017 token-sale ban, the 24 October 2019 study session and the September 2021 crypto ban.
#
# Blockchain and crypto policy events by level and stance. "Other" holds Guangdong,
# other provinces and one international event. Dashed lines mark the three events the text
# discusses. Source: `data/policy_events.csv`.
# ```

# %% tags=["hide-input"]
tables.html(by_level, index=True)

# %% [markdown]
# The three marked events:

# %% tags=["hide-input"]
tables.html(marked)

# %% [markdown]
# ## How many blockchain firms are there?
#
# The brief's counts (110, 53 and 34 firms) come from one commercial database on one date. Other
# published counts differ by orders of magnitude, because they count different things: business
# registries include every company with blockchain in its registered scope, shell firms and
# coin-related registrations among them; funding databases count deals, not firms; rankings
# publish index scores. The table below sets the per-city figures side by side with the basis of
# each.
#
# :::{warning}
# These numbers are **not comparable** with one another or with the brief's. They are shown
# to locate the brief's 197 firms: a narrow, funded, English-language slice of a much larger
# registered population (Shenzhen alone is reported to have more than 5,000 registered
# blockchain-related firms).
# :::

# %% tags=["hide-input"]
counts = tables.save(facts.city_counts(facts.external_counts()), "published_counts", tables_dir)
tables.html(counts, digits=2)
