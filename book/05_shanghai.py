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
# (shanghai)=
# # Shanghai: financial services for mixed markets
#
# In the brief, Shanghai's 53 firms are oriented towards financial services, sold to private
# customers in a market that mixes domestic and international clients {cite:p}`hai2022chinese`.
# The city's depth in international finance, its returnee talent and its incubators are the
# background; tightening regulation is the cost. The brief notes that Shanghai firms
# increasingly work in areas that match local policy goals (supply-chain transparency, the
# Internet of Things, health), and cites the city's 14th Five-Year Plan for digital
# transformation, issued in October 2021 {cite:p}`shanghai2021fyp`. Its investors are international or hybrid venture funds, and its
# example is a firm supplying blockchain services to banks, insurers and securities houses.

# %% tags=["parameters", "hide-input"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
corpus_path: str = ""  # CSV of firms (canonical or Crunchbase export); empty: the bundled simulated corpus
website_snapshot: str = ""  # website text collected by python -m analysis collect (its DIR or DIR/website_text.csv); empty: none
tables_dir: str = ""  # folder for the tables as CSV; filled in by the runner, empty: none written
text_fields: list[str] = ["description", "full_description", "website_text"]  # text columns analysed, joined (any of description, full_description, website_text)
coder: str = ""  # business-model coder of Table 1 and the convergence measures: dictionary or supervised; empty: the package default (analysis.defaults.CODER)
min_df: int = 1  # keep terms used by at least this many firms (at least 1)
top_n: int = 15  # key terms shown per city (at least 1)
keyness_adjust: str = "bh"  # multiplicity correction of the keyness p-values: bh (Benjamini-Hochberg q) or none
seed: int = 20220804  # seed every random step derives from (an integer, 0 or more)
withhold_texts: bool = False  # leave the corpus's raw texts out: the firm table and the typical firms without descriptions (true or false)

# %% tags=["remove-cell"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
from analysis.params import check as _check_parameters

parameters = _check_parameters("05_shanghai", corpus_path=corpus_path, website_snapshot=website_snapshot, tables_dir=tables_dir, text_fields=text_fields, coder=coder, min_df=min_df, top_n=top_n, keyness_adjust=keyness_adjust, seed=seed, withhold_texts=withhold_texts)
globals().update(parameters)

# %% tags=["remove-input"]
from IPython.display import Markdown
from myst_nb import glue

from analysis.chapters import city
from analysis.present import prose, tables

CITY = "Shanghai"
page = city.chapter(CITY, **parameters)
glue("city_n_firms", page.report.n_firms, display=False)
glue("city_n_key", page.key_counts["survive"], display=False)
glue("city_fields", " and ".join(page.fields), display=False)
Markdown(prose.corpus_notice(page.corpus, short=True))

# %% [markdown]
# ## What this corpus shows
#
# This chapter reads the {glue:text}`city_n_firms` firms headquartered in Shanghai, using
# their {glue:text}`city_fields` text, and compares them with the firms of the other two cities.
# In summary:

# %% tags=["remove-input"]
Markdown(prose.city_findings(page.report, adjust=keyness_adjust, simulated=page.corpus.simulated))

# %% [markdown]
# The shares behind these lines, for all three cities side by side, are in the comparison
# chapter: {numref}`tbl-shares-application` (application), {numref}`tbl-shares-customer`
# (customers), {numref}`tbl-shares-geography` (their geography) and
# {numref}`tbl-shares-investor` (investors). The dictionary that codes the firms is
# {download}`business_model.yml </files/analysis/dictionaries/business_model.yml>`; it gives a firm the
# category with most hits, and a firm with a tie or no hit is shown as such rather than guessed.
#
# ## Key terms
#
# {term}`Keyness` here asks which terms more of Shanghai's firms use than the other two cities'
# firms. The unit is the firm: for each term the book counts how many of Shanghai's firms use it at
# least once and how many of the other firms do, and a one-sided {term}`Fisher exact test` on
# these counts decides whether Shanghai's firms over-use it. A firm that repeats a word (as long
# web pages do) is still one firm, so repetition alone cannot make a term look key. With several
# hundred terms tested at once, some pass p < 0.05 by chance alone, so each p-value is corrected
# by the {term}`Benjamini–Hochberg correction` {cite:p}`benjamini1995controlling`, and only
# terms whose corrected value q stays below 0.05 are called over-used. How large the difference
# is, the {term}`log ratio` says: 1 means twice the other cities' share of firms, −1 half.
#
# Beside this test the tables keep the statistic the brief used: quanteda's chi-squared on
# token counts, signed, positive for terms Shanghai over-uses {cite:p}`benoit2018quanteda`. It
# counts every occurrence of a word as a separate observation, so a few firms that repeat a word
# can make it look key on their own. It is shown for comparison with the brief; nothing in this
# book is called over-used because of it.

# %% tags=["remove-input"]
Markdown(prose.key_terms_sentence(page.report.keyness, CITY, keyness_adjust))

# %% tags=["remove-input"]
glue("fig_keyness", page.keyness_figure, display=False)
glue("fig_cloud", page.cloud_figure, display=False)

# %% [markdown]
# {numref}`fig-shanghai-keyness` shows the terms with the strongest evidence in each direction:
# read the length of each bar as the log ratio (how much more, or less, often Shanghai's firms use
# the term), and its fill as whether the firm-level test survives the correction (solid) or the
# contrast could be chance (hatched). {numref}`fig-shanghai-cloud` draws up to 40 terms that
# Shanghai's firms over-use, those with the strongest evidence, as a cloud with the same shading, and
# {numref}`tbl-keyness-shanghai` lists the top terms with both tests.
#
# ```{glue:figure} fig_keyness
# :name: fig-shanghai-keyness
# :alt: Horizontal bar chart of log ratios of the shares of firms using each term: terms Shanghai's firms over-use in its colour at the top, terms the other two cities' firms over-use in grey at the bottom; bars of terms that do not survive the correction are hatched.
#
# The twelve terms with the strongest evidence of over-use by Shanghai's firms (purple) and by the
# other two cities' firms (grey), each bar as long as the term's log2 ratio of the shares of
# firms using it. Hatched bars: the firm-level Fisher test does not survive the
# Benjamini–Hochberg correction.
# ```
#
# ```{glue:figure} fig_cloud
# :name: fig-shanghai-cloud
# :alt: Word cloud of up to 40 terms Shanghai's firms over-use, sized by log ratio; terms that survive the correction in full purple, the others in a pale tint.
#
# Up to 40 terms Shanghai's firms over-use, those with the strongest evidence, each sized by its
# log ratio. Full purple (the colour of the brief's Figure 1): the firm-level test survives the
# Benjamini–Hochberg correction (q < 0.05), so Shanghai's firms over-use the term; pale: among the
# strongest, but it could be chance.
# ```

# %% tags=["remove-input"]
display(tables.html(page.keyness_table))
Markdown(prose.chinese_terms_note(page.keyness_table))

# %% [markdown]
# ## The brief's own examples
#
# The brief names firms to illustrate Shanghai's model {cite:p}`hai2022chinese`. They are real firms
# described in the brief, **not** firms of this book's corpus, and no number in this book is
# computed from them:

# %% tags=["remove-input"]
Markdown(prose.named_firms(page.named_firms))

# %% [markdown]
# ## Three typical firms of this corpus
#
# The corpus's examples are chosen by a fixed rule, not by hand: among Shanghai's firms, those
# whose coded application, customer and geography match the city's most common categories in as
# many of the three as possible, ranked by the summed log ratio of the city's key terms (those
# that survive the correction of the firm-level test; ties by company identifier).
# {numref}`tbl-shanghai-examples` lists them.

# %% tags=["remove-input"]
tables.html(page.examples)
