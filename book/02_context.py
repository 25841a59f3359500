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
# {cite:p}`hai2022chinese`. This page sets out that environment in four parts: how the central
# state came to treat blockchain as strategic, how it has restricted cryptocurrency, how the three
# cities have translated both, and what the brief takes to be at stake. Every dated event is in
# {numref}`tbl-policy-events` with its source.
#
# :::{admonition} Real data, not simulated
# :class: important
# Unlike the corpus chapters, this page holds no simulated number. The policy events and the
# published firm counts below are real: transcribed from official documents, the brief and press
# reports, each row with its source ({download}`data/policy_events.csv </files/data/policy_events.csv>`,
# {download}`data/external_counts.csv </files/data/external_counts.csv>`). The stance given to each
# event is this book's editorial reading.
# :::

# %% tags=["parameters", "hide-input"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
tables_dir: str = ""  # folder for the tables as CSV; filled in by the runner, empty: none written

# %% tags=["remove-cell"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
from analysis.params import check as _check_parameters

parameters = _check_parameters("02_context", tables_dir=tables_dir)
globals().update(parameters)

# %% tags=["remove-input"]
from myst_nb import glue

from analysis.chapters import context
from analysis.present import tables

page = context.chapter(**parameters)
glue("ctx_n_events", page.n_events, display=False)
glue("ctx_first_year", page.first_year, display=False)
glue("ctx_last_year", page.last_year, display=False)
glue("ctx_n_restrict", page.n_restrict, display=False)
glue("ctx_n_support", page.n_support, display=False)
glue("ctx_n_central", page.n_central, display=False)
glue("ctx_n_marked_dates", page.n_marked_dates, display=False)
glue("ctx_n_marked_rows", page.n_marked_rows, display=False)
glue("fig_policy_timeline", page.timeline, display=False)

# %% [markdown]
# ## A strategic technology
#
# The central state first named blockchain in a national plan in December 2016, in the 13th
# Five-Year National Informatization Plan {cite:p}`statecouncil2016informatization`; the
# brief itself points to the 13th Five-Year Plan for economic and social development
# {cite:p}`ccp2016fyp`. In mid-2017 the State Council's development plan for a new generation
# of artificial intelligence tied emerging technologies of this kind to China's long-run
# competitiveness, with 2030 as the horizon for becoming a leading innovative country
# {cite:p}`statecouncil2017ai`. The brief reads these documents as making blockchain a critical
# infrastructure technology, valued for what it could add to growth and watched for the risks
# a transparent, decentralised technology poses {cite:p}`hai2022chinese`. A 2020 blue book on
# blockchain in Beijing's government services carried the same message to the city level: the
# technology as a tool of digital governance {cite:p}`beijing2020bluebook`. The Politburo's
# study session on blockchain of 24 October 2019 gave the policy its widest echo.
#
# By the brief's count, by early 2022 more than thirty central bodies (bureaus, committees,
# departments, groups and ministries) had issued blockchain policies, led by the State Council,
# the Ministry of Industry and Information Technology, the Cyberspace Administration, the
# National Development and Reform Commission and the People's Bank of China; and every one of
# the 32 provincial-level regions had issued its own {cite:p}`hai2022chinese`. The central state
# also backs infrastructure directly: the Blockchain-based Service Network (BSN), which links
# different blockchains, is the brief's example of a state-sponsored firm that is growing and
# expanding abroad.
#
# ## Restrictions on crypto
#
# The same state has moved repeatedly against cryptocurrency. In 2013 five agencies barred banks
# and payment firms from bitcoin services {cite:p}`pboc2013bitcoin`. In September 2017 the
# central bank and six other bodies declared token sales illegal and halted the related banking,
# fund-raising, promotion and development activity {cite:p}`pboc2017ico`; the brief cites this
# as an example of quick, often incoherent policy action driven at once by hopes for growth and
# fears for security {cite:p}`hai2022chinese`. Blockchain information services were made subject
# to registration with the Cyberspace Administration in 2019 {cite:p}`cac2019blockchain`, and
# in September 2021 all virtual-currency business was declared illegal and mining was ordered
# to wind down {cite:p}`pboc2021virtual,ndrc2021mining`. The brief places the crackdown on
# crypto-related fields under a campaign against internet financial fraud and money laundering.
#
# ## Three cities, one direction
#
# On the brief's reading, the cities translated central policy differently: Beijing follows and
# adapts it directly; Shanghai tries to balance it against the vitality of its local economy
# and its mixed domestic and international market; Shenzhen has the strongest incentive to
# experiment locally within the central rules, and leans more on economic sanctions
# {cite:p}`hai2022chinese`. Shanghai's two 2021 documents on the digital transformation of the
# city show the balance: the *Opinions* of January 2021 {cite:p}`shanghai2021opinions`, which set the goal, and the
# 14th Five-Year Plan of October 2021 {cite:p}`shanghai2021fyp`, which the brief quotes for
# blockchain as a tool for upgrading financial services. All three, the brief argues, have been moving
# closer to the centre.
#
# ## What is at stake
#
# The brief appeared in a special section of *Global Policy* on governance and development in
# the Global South {cite:p}`liu2022dynamics`, and it frames its question as one about export: as
# China sets out to export its model of technology governance, what model would that be
# {cite:p}`hai2022chinese`? Earlier work had shown the financial system adopting blockchain to
# build political legitimacy {cite:p}`gruin2020not` and blockchain at work in e-government
# {cite:p}`hou2017application`; the brief builds on research into the state's role in Chinese
# innovation {cite:p}`breznitz2011run,klinglervidra2018venture,klinglervidra2022jack` and on
# *The Economist*'s account of a state taking firmer hold of markets
# {cite:p}`economist2022xi`. Its answer is that the model may narrow to one: state-friendly
# infrastructure at home, with firms whose models fall out of favour moving offshore. It names
# two: a crypto-mining services firm in Quebec whose whole team came from Shenzhen, and an NFT
# platform that moved from Shenzhen to the Caribbean.
#
# ## A timeline
#
# {numref}`fig-policy-timeline` places {glue:text}`ctx_n_events` dated policy documents and
# events from {glue:text}`ctx_first_year` to {glue:text}`ctx_last_year`, transcribed with
# their sources into {download}`data/policy_events.csv </files/data/policy_events.csv>`.
# {glue:text}`ctx_n_central` of them are central; {glue:text}`ctx_n_support` are coded as
# supporting the technology and {glue:text}`ctx_n_restrict` as restricting it (the coding of
# stance is an editorial reading, explained in
# {download}`data/README.md </files/data/README.md>`). Read the chart lane by lane: upward
# green triangles are supporting measures, downward red ones restrictions. Support for
# blockchain as infrastructure thickens after the study session of 24 October 2019, while the
# restrictions cluster on cryptocurrency, in 2017 and again in 2021.
#
# ```{glue:figure} fig_policy_timeline
# :name: fig-policy-timeline
# :alt: Scatter of policy events from 2013 to 2022 in five lanes (central, Beijing, Shanghai, Shenzhen, other), upward green triangles for support and downward red triangles for restriction, with dashed lines at the 2017 token-sale ban, the 24 October 2019 study session and the September 2021 crypto ban.
#
# Blockchain and crypto policy events by level and stance. "Other" holds Guangdong, other
# provinces and one international event. Dashed lines mark the three dates the text discusses.
# Every event is listed in {numref}`tbl-policy-events`.
# ```
#
# {numref}`tbl-policy-events-by-level` counts the events by level and stance.

# %% tags=["remove-input"]
tables.html(page.by_level, index=True)

# %% [markdown]
# The events on the {glue:text}`ctx_n_marked_dates` marked dates ({glue:text}`ctx_n_marked_rows`
# events, as two notices were issued on 24 September 2021) are in
# {numref}`tbl-policy-events-marked`.

# %% tags=["remove-input"]
tables.html(page.marked)

# %% [markdown]
# ## Every event
#
# {numref}`tbl-policy-events` lists every event. On a wide screen it can be sorted by any column
# (click a heading); to look for a word, use the browser's find in page. On a phone the table
# scrolls sideways inside its box. Each source is a link: an official government page first, where
# there is one, then press reports; a source cited by author and year is a work in the
# {doc}`references`.

# %% tags=["remove-input"]
tables.html(page.full, name="policy_events")

# %% [markdown]
# ## How many blockchain firms are there?
#
# The brief's counts (110, 53 and 34 firms) come from one commercial database on one date. Other
# published counts differ by orders of magnitude, because they count different things: business
# registries include every company with blockchain in its registered scope, shell firms and
# coin-related registrations among them; funding databases count deals, not firms; rankings
# publish index scores. {numref}`tbl-published-counts` sets the per-city figures side by side
# with the basis of each.
#
# :::{warning}
# These numbers are **not comparable** with one another or with the brief's. They are shown
# to locate the brief's 197 firms: a narrow, funded, English-language slice of a much larger
# registered population (Shenzhen alone is reported to have more than 5,000 registered
# blockchain-related firms).
# :::

# %% tags=["remove-input"]
tables.html(page.counts, digits=2)
