# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# (reproduce)=
# # Reproduce this book
#
# Everything on these pages was computed by the commands below from the files listed here.
# Two builds from the same inputs give the same tables and numbers: every random step takes its
# seed from the parameters.

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
cohort_edges: list[int] = [2014, 2017, 2020, 2023]  # founding-year bin edges, half-open, strictly increasing years
n_subsamples: int = 5  # equal-size subsamples per cohort for distinctiveness (at least 1)
n_boot: int = 200  # bootstrap draws per cohort (0 or more; 0: no intervals)
n_perm: int = 200  # permutations for the text-measure trend tests and for each simulated corpus of the power study, at most 200 there (0 or more; 0: no test)
n_perm_shares: int = 10000  # permutations for the share measures' decision rule, the primary decision included (0 or more; 0: no test)
n_perm_joint: int = 1000  # joint permutations of the specification curve: every specification on the same shuffles of founding years (0 or more; 0: no test)
alpha: float = 0.05  # significance level of the tests, in (0, 1)
equivalence_margin: float = 3.0  # share points per year below which the others' move towards Beijing counts as no convergence (the rule's equivalence test; more than 0)
replicates: int = 400  # simulated corpora per world of the power study, label level (at least 1; 400 or more keep every rate's Monte Carlo SE at or below 0.025)
text_replicates: int = 5  # full-text simulated corpora per scenario for the text measures in the power study (0 or more)
withhold_texts: bool = False  # leave the corpus's raw texts out: the firm table and the typical firms without descriptions (true or false)
corpus_redistributable: bool = False  # you declare that your corpus's texts may be redistributed; make publish packages a build on your own export only then or with withhold_texts (true or false)

# %% tags=["remove-cell"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
from analysis.params import check as _check_parameters

parameters = _check_parameters("11_reproduce", corpus_path=corpus_path, website_snapshot=website_snapshot, tables_dir=tables_dir, text_fields=text_fields, coder=coder, min_df=min_df, top_n=top_n, keyness_adjust=keyness_adjust, seed=seed, cohort_edges=cohort_edges, n_subsamples=n_subsamples, n_boot=n_boot, n_perm=n_perm, n_perm_shares=n_perm_shares, n_perm_joint=n_perm_joint, alpha=alpha, equivalence_margin=equivalence_margin, replicates=replicates, text_replicates=text_replicates, withhold_texts=withhold_texts, corpus_redistributable=corpus_redistributable)
globals().update(parameters)

# %% tags=["remove-input"]
from IPython.display import HTML, Markdown
from myst_nb import glue

from analysis.chapters import reproduction
from analysis.present import reproduce, tables

page = reproduction.chapter(**parameters)  # every parameter of the schema, as this build received it
glue("repro_python", page.interpreter, display=False)

# %% [markdown]
# ## Parameters of this build
#
# The whole book is built with `make book` (parameters from `params/default.yml`), `make book
# PARAMS=params/full.yml`, or `python -m analysis build --params FILE -p key=value`. Each
# chapter receives only the parameters its first code cell declares (the chapters column gives
# their numbers). The table lists every parameter there is, with its default and the value this
# build used, both written as YAML, the way a parameter file takes them (`''` is the empty
# string). The same table, without this build's values, is in the README.

# %% tags=["remove-input"]
tables.html(page.parameter_table, code=reproduce.PARAMETER_CODE_COLUMNS)

# %% [markdown]
# ## Inputs
#
# Every chapter is re-run when any of these files changes (together with the chapter itself,
# its parameters and the `analysis` source). SHA-256 of each:

# %% tags=["remove-input"]
tables.html(page.input_hashes)

# %% [markdown]
# ## Software
#
# The build ran on {glue:text}`repro_python`. Exact versions of every dependency are pinned
# in `requirements.lock`, which `make` installs; the main ones:

# %% tags=["remove-input"]
tables.html(page.package_versions)

# %% [markdown]
# ## Re-running one chapter
#
# Each chapter is a notebook that plain papermill runs. The commands below re-run one chapter
# each with exactly the parameters this build gave it, defaults included. Paste one into a
# POSIX shell (bash, zsh; Git Bash on Windows) at the root of a checkout with the environment
# installed (`make env`). It writes the executed notebook to `_build/rerun/` and the chapter's
# tables as CSV to `_build/rerun/tables/`, beside this build's own `_build/tables/`, so the two
# can be compared file by file. Strings are passed raw with `-r` (so an empty value is `''` and
# a path stays a string), numbers with `-p`, lists as YAML with `-y`; values are quoted for the
# shell where they need it. A corpus or snapshot inside the repository is given relative to its
# root; one outside it keeps the absolute path it had on the machine that built this book. The
# same commands, one per line, are in the table `papermill_commands.csv`.

# %% tags=["remove-input"]
Markdown(reproduce.commands_markdown(page.commands))

# %% [markdown]
# The heavy, repetitive parts (the simulated corpora of the power study and of the joint test,
# the specification curve's permutations) run in the chapter's own process by default. With the
# environment variable `DASK_SCHEDULER_ADDRESS` set to a Dask scheduler (`tcp://HOST:PORT`), or
# `python -m analysis build --scheduler tcp://HOST:PORT`, they run on that cluster instead; the
# tables are the same to the byte either way, since every task's seed comes from `seed`. The
# README's section on clusters says how to start one.

# %% [markdown]
# ## Running the book on your own export
#
# Export the firms from Crunchbase (or prepare a CSV with the canonical columns described in
# `data/README.md`), check it, and build:
#
# ```bash
# .venv/bin/python -m analysis validate export.csv
# .venv/bin/python -m analysis build -p corpus_path=export.csv
# ```
#
# or write the parameters into a file, say `params/mine.yml` with `corpus_path: export.csv`,
# and run `make book PARAMS=params/mine.yml`. A relative path is read relative to the directory
# the command is started in. A file that cannot be read stops the build with a message naming
# the file, row and column; the previous site stays in place.
#
# ## Tables as CSV
#
# Every table shown in the book is also written as a CSV file:

# %% tags=["remove-input"]
HTML('<p><a href="../tables/index.html">All tables of this build (CSV)</a></p>')
