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
# (shenzhen)=
# # Shenzhen: crypto for private, global markets
#
# In the brief, Shenzhen, home of China's largest technology firms, has only 34 blockchain
# start-ups in the corpus {cite:p}`hai2022chinese`. The authors attribute this to the city's
# early specialisation in crypto (mining machines, computing-power networks, algorithm design,
# crypto investment), which the state discourages, and to the fact that slower, state-facing
# applications fit badly with the city's fast commercial cycle. Shenzhen firms serve private,
# global customers and are financed by domestic venture capital; the brief's example is a maker
# of cryptocurrency ATMs that support many languages and coins.

# %% tags=["parameters", "hide-input"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
corpus_path: str = ""  # CSV of firms (canonical or Crunchbase export); empty: the bundled simulated corpus
website_snapshot: str = ""  # website text collected by python -m analysis collect (its DIR or DIR/website_text.csv); empty: none
tables_dir: str = ""  # folder for the tables as CSV; filled in by the runner, empty: none written
text_fields: list[str] = ["description", "full_description", "website_text"]  # text columns analysed, joined (any of description, full_description, website_text)
coder: str = ""  # business-model coder of Table 1 and the convergence measures: dictionary or supervised; empty: the package default (analysis.classify.DEFAULT_CODER)
min_df: int = 1  # keep terms used by at least this many firms (at least 1)
top_n: int = 15  # key terms shown per city (at least 1)
seed: int = 20220804  # seed every random step derives from (an integer, 0 or more)

# %% tags=["remove-cell"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
from analysis.params import check as _check_parameters

globals().update(_check_parameters("06_shenzhen", corpus_path=corpus_path, website_snapshot=website_snapshot, tables_dir=tables_dir, text_fields=text_fields, coder=coder, min_df=min_df, top_n=top_n, seed=seed))

# %% tags=["remove-input"]
from IPython.display import Markdown
from myst_nb import glue

from analysis import corpus, figures, prose, tables
from analysis.params import as_list

CITY = "Shenzhen"
data = corpus.load(corpus_path, website_snapshot)
fields = as_list(text_fields, name="text_fields")
coded = tables.code(data.firms, fields, coder=coder)
keyness_tables = tables.city_keyness_tables(data.firms, fields, min_df=int(min_df))
report = tables.city_report(coded, CITY, keyness_tables, fields)
glue("city_n_firms", report.n_firms, display=False)
glue("city_n_key", int(((report.keyness["statistic"] > 0) & (report.keyness["p"] < 0.05)).sum()), display=False)
glue("city_fields", " and ".join(fields), display=False)
Markdown(prose.corpus_notice(data, short=True))

# %% [markdown]
# ## What this corpus shows
#
# This chapter reads the {glue:text}`city_n_firms` firms headquartered in Shenzhen, using
# their {glue:text}`city_fields` text, and compares them with the firms of the other two cities.
# In summary:

# %% tags=["remove-input"]
Markdown(prose.city_findings(report))

# %% [markdown]
# ### Key terms
#
# Keyness compares how often each term appears in Shenzhen's descriptions with how often it
# appears in the other two cities', using the chi-squared statistic with quanteda's
# conventions (signed, positive for terms Shenzhen over-uses). {glue:text}`city_n_key` terms
# are over-used at the 5% level. {numref}`fig-shenzhen-keyness` shows the strongest in both
# directions, {numref}`fig-shenzhen-cloud` draws the over-used ones as a cloud, and the table
# lists them with their counts.

# %% tags=["remove-input"]
fig = figures.keyness_bars(report.keyness, CITY, n=12)
glue("fig_keyness", fig, display=False)
figures.close(fig)
cloud_terms = report.keyness[report.keyness["statistic"] > 0].head(60)
fig = figures.city_wordcloud(dict(zip(cloud_terms["feature"], cloud_terms["statistic"])), CITY, seed=int(seed))
glue("fig_cloud", fig, display=False)
figures.close(fig)

# %% [markdown]
# ```{glue:figure} fig_keyness
# :name: fig-shenzhen-keyness
# :alt: Horizontal bar chart of signed keyness: terms over-used in Shenzhen in its colour at the top, terms over-used in the other two cities in grey at the bottom.
#
# The twelve terms most over-used in Shenzhen (coloured) and in the other two cities (grey),
# by signed chi-squared keyness.
# ```
#
# ```{glue:figure} fig_cloud
# :name: fig-shenzhen-cloud
# :alt: Word cloud of the terms Shenzhen over-uses, in blue, each sized by its keyness.
#
# Shenzhen's key terms, sized by keyness (up to 60 terms; colour as in the brief's Figure 1).
# ```

# %% tags=["hide-input"]
tables.html(tables.save(tables.keyness_display(report.keyness, int(top_n)), "keyness_shenzhen", tables_dir))

# %% [markdown]
# ### Business model, coded from the text
#
# The dictionary in `analysis/dictionaries/business_model.yml` counts, for each firm, terms
# that signal each application, customer type and customer geography, and gives the firm the
# category with most hits; firms with a tie or no hit are shown as such rather than guessed.
# The shares below are of each city's firms, so Shenzhen can be read against the other two.

# %% tags=["hide-input"]
for dim in ("application", "customer", "geography"):
    tables.save(report.shares[dim], f"shenzhen_{dim}_shares", tables_dir)
    display(tables.html((report.shares[dim] * 100).round(1), index=True, digits=1))

# %% [markdown]
# ### Investors
#
# The investor portrait takes each firm's investor types and keeps the most frequent one
# (shares of firms, in per cent).

# %% tags=["hide-input"]
tables.save(report.shares["investor"], "shenzhen_investor_shares", tables_dir)
tables.html((report.shares["investor"] * 100).round(1), index=True, digits=1)

# %% [markdown]
# ### Three typical firms
#
# The examples are chosen by a fixed rule, not by hand: among Shenzhen's firms, those whose coded
# application, customer and geography match the city's most common categories in as many of the
# three as possible, ranked by the summed keyness of the city's significant key terms their text
# contains (ties by company identifier).

# %% tags=["hide-input"]
tables.html(tables.save(report.examples, "shenzhen_examples", tables_dir))
