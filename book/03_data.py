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
# (data)=
# # The data
#
# The brief's corpus was an export from Crunchbase, a commercial database of companies: every
# firm tagged as blockchain and headquartered in Beijing, Shanghai or Shenzhen in May 2022,
# with its short and long descriptions, industries, founding date, investors and website
# {cite:p}`hai2022chinese`. The licence of that export does not allow it to be shared, so this
# book runs by default on a simulated corpus in the same format and loads a real export when
# given one. This chapter describes the corpus of this build and shows every firm in it.

# %% tags=["parameters", "hide-input"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
corpus_path: str = ""  # CSV of firms (canonical or Crunchbase export); empty: the bundled simulated corpus
website_snapshot: str = ""  # website text collected by python -m analysis collect (its DIR or DIR/website_text.csv); empty: none
tables_dir: str = ""  # folder for the tables as CSV; filled in by the runner, empty: none written
withhold_texts: bool = False  # leave the corpus's raw texts out: the firm table and the typical firms without descriptions (true or false)

# %% tags=["remove-cell"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
from analysis.params import check as _check_parameters

parameters = _check_parameters("03_data", corpus_path=corpus_path, website_snapshot=website_snapshot, tables_dir=tables_dir, withhold_texts=withhold_texts)
globals().update(parameters)

# %% tags=["remove-input"]
from IPython.display import Markdown
from myst_nb import glue

from analysis.chapters import dataset
from analysis.present import prose, tables

page = dataset.chapter(**parameters)
Markdown(prose.corpus_notice(page.corpus))

# %% tags=["remove-input"]
glue("data_n_firms", page.n_firms, display=False)
glue("data_n_excluded", len(page.exclusions), display=False)
for name, n in page.n_per_city.items():
    glue(f"data_n_{name}", n, display=False)
glue("data_share_web", tables.pct(page.share_with_website), display=False)
Markdown(prose.provenance(page.corpus))

# %% [markdown]
# ## Firms per city
#
# The corpus holds {glue:text}`data_n_firms` firms: {glue:text}`data_n_Beijing` in Beijing,
# {glue:text}`data_n_Shanghai` in Shanghai and {glue:text}`data_n_Shenzhen` in Shenzhen. The
# brief's Table 1 reports 110, 53 and 34 {cite:p}`hai2022chinese`; the simulated corpus copies
# those sizes on purpose, so that every test in this book runs on samples as small as the
# brief's ({numref}`tbl-firms-per-city`).

# %% tags=["remove-input"]
tables.html(page.per_city)

# %% [markdown]
# ## Founding years
#
# The convergence chapter compares firms by the year they were founded.

# %% tags=["remove-input"]
Markdown(prose.founding_years(page.corpus.firms))

# %% tags=["remove-input"]
glue("fig_years", page.years_figure, display=False)

# %% [markdown]
# ```{glue:figure} fig_years
# :name: fig-years
# :alt: Stacked histogram of founding years, one colour per city (Beijing black, Shanghai purple, Shenzhen blue).
#
# Firms by founding year and city (firms without a founding year are not shown).
# ```
#
# Read {numref}`fig-years` for the spread of founding years: the convergence rule estimates each
# city's change per founding year, so a city whose firms were founded in few years, or a cohort
# with few firms in one city, gives that city's estimate a wide interval.
#
# ## The text
#
# The analysis reads each firm's short description and, where there is one, its long
# description. The brief also scraped the firms' websites with the R package rvest
# {cite:p}`wickham_rvest`, and most of that text was Chinese;
# {glue:text}`data_share_web` of firms here have website text, which chapters read when the
# parameter `text_fields` includes `website_text` (Chinese is segmented with jieba).
# {numref}`tbl-text-coverage` gives the amount of text per city.

# %% tags=["remove-input"]
tables.html(page.coverage, digits=2)

# %% [markdown]
# ### Collecting website text
#
# A Crunchbase export gives each firm's website address, not its text. The command
# `python -m analysis collect export.csv --out web/` fetches it, as a separate step that needs
# the network; building the book never fetches anything. For each firm it reads the home page
# and, by default, at most three further pages of the same site that describe the business, picked from the
# home page's links by their wording and address in Chinese or English (关于我们 about us,
# 产品 products, 解决方案 solutions). It decodes each page in the encoding the site uses (GBK
# and GB2312 as well as UTF-8, even when the server declares the wrong one), keeps the main
# text with the trafilatura library, honours each site's robots.txt, waits between requests
# to the same site and gives up on pages that are too large or too slow. Every answer is kept
# on disk, so running the command again fetches nothing and an interrupted run resumes; every
# failure (a dead address, a timeout, an error page, a refusal in robots.txt, a PDF, a page
# whose text only JavaScript adds) is listed per firm in `web/failures.csv`.
#
# The result, `web/website_text.csv`, holds one row per fetched page with its address, time,
# status and SHA-256. The build reads it through the parameter `website_snapshot`
# (`-p website_snapshot=web/`): the loader joins each firm's page texts in the order they were
# fetched, home page first, drops any line already seen on an earlier page of the same firm, and
# uses the result as the firm's `website_text`; firms with no text in the snapshot keep the
# corpus file's own. A new snapshot re-runs every chapter.

# %% tags=["remove-input"]
Markdown(prose.website_snapshot_note(page.corpus))

# %% [markdown]
# ## Firms left out
#
# Loading keeps only firms headquartered in the three cities, drops exact duplicates and firms
# with no text at all, and lists every one it leaves out. In this build
# {glue:text}`data_n_excluded` rows were left out.

# %% tags=["remove-input"]
tables.html(page.exclusions) if len(page.exclusions) else Markdown("*No row was left out.*")

# %% [markdown]
# ## Every firm
#
# The table below lists every firm of the corpus; it can be searched and sorted, and text is
# shown as plain text. The same rows, with industries and investors, are in
# <a href="../tables/firms.csv"><code>firms.csv</code></a> among the build's tables (see
# {doc}`11_reproduce`).

# %% tags=["remove-input"]
if note := prose.firm_list_note(page.n_firms, len(page.shown)):
    display(Markdown(note))
tables.html(page.shown, name="firms")
