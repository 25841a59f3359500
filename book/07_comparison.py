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
# (comparison)=
# # The three cities compared
#
# The brief condenses its findings into a table and a figure {cite:p}`hai2022chinese`. Table 1
# gives each city a typical blockchain application, customer type, customer geography, firm
# count, business focus and investor portrait. Figure 1 is a comparison word cloud of the terms
# that set each city's firms apart, drawn in black for Beijing, purple for Shanghai and blue for
# Shenzhen. This chapter rebuilds both from the corpus of this build, with the same functions
# the city chapters use.

# %% tags=["parameters", "hide-input"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
corpus_path: str = ""  # CSV of firms (canonical or Crunchbase export); empty: the bundled simulated corpus
website_snapshot: str = ""  # website text collected by python -m analysis collect (its DIR or DIR/website_text.csv); empty: none
tables_dir: str = ""  # folder for the tables as CSV; filled in by the runner, empty: none written
text_fields: list[str] = ["description", "full_description", "website_text"]  # text columns analysed, joined (any of description, full_description, website_text)
coder: str = ""  # business-model coder of Table 1 and the convergence measures: dictionary or supervised; empty: the package default (analysis.defaults.CODER)
min_df: int = 1  # keep terms used by at least this many firms (at least 1)
keyness_adjust: str = "bh"  # multiplicity correction of the keyness p-values: bh (Benjamini-Hochberg q) or none
seed: int = 20220804  # seed every random step derives from (an integer, 0 or more)

# %% tags=["remove-cell"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
from analysis.params import check as _check_parameters

parameters = _check_parameters("07_comparison", corpus_path=corpus_path, website_snapshot=website_snapshot, tables_dir=tables_dir, text_fields=text_fields, coder=coder, min_df=min_df, keyness_adjust=keyness_adjust, seed=seed)
globals().update(parameters)

# %% tags=["remove-input"]
from IPython.display import Markdown
from myst_nb import glue

from analysis.chapters import comparison
from analysis.present import prose, tables

page = comparison.chapter(**parameters)
glue("cmp_n_agree", page.n_agree, display=False)
glue("cmp_n_tie", page.n_tie, display=False)
glue("cmp_n_tested", page.n_tested, display=False)
Markdown(prose.corpus_notice(page.corpus, short=True) + prose.absent_cities(page.corpus.firms))

# %% [markdown]
# ## Table 1, rebuilt
#
# Each cell of {numref}`tbl-table1` gives the category that the {term}`dictionary coder` (or,
# for investors, the investor types) assigns most often among the city's firms, with its share of
# the city's firms; where two categories share the top count the cell says *tie* and names both.
# The business-focus row lists the four terms with the strongest evidence that the city's firms
# over-use them ({term}`keyness` with the firm as the unit, the one-sided {term}`Fisher exact test`
# of the city chapters): those that survive the {term}`Benjamini–Hochberg correction` first, the
# others in parentheses as candidates. {numref}`tbl-table1-brief` is the brief's own Table 1,
# transcribed into {download}`data/brief_table1.csv </files/data/brief_table1.csv>`, to read beside it.

# %% tags=["remove-input"]
tables.html(page.table1_wide, index=True, name="table1")

# %% tags=["remove-input"]
tables.html(page.brief_table1, index=True, name="table1_brief")

# %% [markdown]
# The business-type row is not coded on its own: each firm's type is read off its customer and
# geography codes by the table in the codebook ({download}`data/codebook.md </files/data/codebook.md>`): a public customer makes a
# domestic public procurement market; a private customer at home a domestic commercial market;
# a private customer abroad (mixed or global) an international commercial market. The same
# table applied to the brief's own cells:

# %% tags=["remove-input"]
display(tables.html(page.business_type_check))
Markdown(prose.brief_business_type_note(page.business_type_check))

# %% tags=["remove-input"]
display(Markdown(prose.agreement_summary(page.agreement, page.corpus.simulated)))
Markdown(prose.agreement_note(page.corpus, page.table1))

# %% [markdown]
# {numref}`tbl-table1-long` scores every cell.

# %% tags=["remove-input"]
tables.html(tables.agreement_display(page.table1), name="table1_long")

# %% [markdown]
# ## The coded profiles, city by city
#
# The tables below give the full distribution behind Table 1's category rows, the three cities
# side by side: per cent of each city's firms in each category, with the firms the coder finds
# tied or cannot code shown as such. The city chapters link here rather than repeat them.

# %% tags=["remove-input"]
for dim, shares in page.shares.items():
    display(tables.html(tables.as_percent(shares), index=True, digits=1, name=f"shares_{dim}"))

# %% [markdown]
# ## Figure 1, rebuilt
#
# The brief's Figure 1 cannot be reproduced here: it was drawn from the 197 firms' Crunchbase
# descriptions and website text, which are licensed and not part of this book. As the brief
# describes it, it is a word cloud of the products and services the firms say they offer, one
# colour per city (black for Beijing, purple for Shanghai, blue for Shenzhen), made by the
# authors' text-as-data analysis of company websites and Crunchbase descriptions. The brief reads
# it as showing the variety of business descriptions increasingly dominated by one type, Beijing's
# public-service variety {cite:p}`hai2022chinese`. A single cloud has no time axis, so it shows
# which city's words are most prominent, not a change.
# {numref}`fig-comparison-cloud` rebuilds the idea from this corpus. Every term that more of one
# city's firms use than the other two cities' firms is given to the city for which its
# {term}`log ratio` is largest, sized by that log ratio and coloured by that city; per city the 40
# terms with the strongest evidence of over-use (the firm-level test's p) are drawn. Terms whose
# firm-level test survives the Benjamini–Hochberg correction are in full colour, the rest in a
# pale tint of the same colour. Quanteda's chi-squared on token counts, the keyness statistic
# of the brief's tool, is listed beside the firm-level test in each city chapter's key-term
# table.

# %% tags=["remove-input"]
glue("fig_comparison_cloud", page.cloud, display=False)
glue("cmp_n_terms", len(page.weights), display=False)
Markdown(prose.figure1_reading(page.weights))

# %% [markdown]
# ```{glue:figure} fig_comparison_cloud
# :name: fig-comparison-cloud
# :alt: Comparison word cloud: terms key for Beijing in black, for Shanghai in purple, for Shenzhen in blue, each sized by its log ratio; terms that do not survive the correction in pale tints; a legend names the colours.
#
# Comparison word cloud of {glue:text}`cmp_n_terms` terms (up to 40 per city): Beijing black,
# Shanghai purple, Shenzhen blue, as in the brief's Figure 1. Size is the term's log ratio (the
# share of the city's firms using it over the other two cities' share) for the city where it is
# largest. Full colour: the firm-level test survives the Benjamini–Hochberg correction
# (q < 0.05); pale: a top term that could be chance.
# ```
#
# The terms, their cities, log ratios, p and q are listed in
# <a href="../tables/figure1_terms.csv"><code>figure1_terms.csv</code></a> among the build's
# tables ({doc}`11_reproduce`).
#
# ## How similar are the cities' vocabularies?
#
# Each firm's term counts are weighted by {term}`tf-idf` (a term most firms use weighs little),
# and the weighted rows are summed per city into one profile. The {term}`cosine similarity` of
# two profiles is 1 when they use terms in the same proportions and 0 when they share none
# ({numref}`tbl-city-similarity`).

# %% tags=["remove-input"]
tables.html(page.similarity, index=True, digits=2, name="city_similarity")

# %% tags=["remove-input"]
Markdown(prose.similarity_sentence(page.similarity))

# %% [markdown]
# These are whole-corpus figures; whether the cities grow more alike over time is the subject of
# {doc}`08_convergence`.
