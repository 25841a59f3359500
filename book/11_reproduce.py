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
# (reproduce)=
# # Reproduce this book
#
# Everything on these pages was computed by the commands below from the files listed here.
# Two builds from the same inputs give the same tables and numbers: every random step takes its
# seed from the parameters.

# %% tags=["parameters", "hide-input"]
corpus_path = ""
tables_dir = ""
text_fields = ["description", "full_description"]
min_df = 1
top_n = 15
seed = 20220804
cohort_edges = [2014, 2017, 2020, 2023]
n_subsamples = 5
n_boot = 200
n_perm = 200
alpha = 0.05
replicates = 20

# %% tags=["remove-input"]
from IPython.display import HTML
from myst_nb import glue

from analysis import reproduce, tables
from analysis.params import as_list

params = dict(
    corpus_path=corpus_path, text_fields=as_list(text_fields), min_df=min_df, top_n=top_n, seed=seed,
    cohort_edges=as_list(cohort_edges), n_subsamples=n_subsamples, n_boot=n_boot, n_perm=n_perm,
    alpha=alpha, replicates=replicates,
)
glue("repro_python", reproduce.interpreter(), display=False)

# %% [markdown]
# ## Parameters of this build
#
# The whole book is built with `make book` (parameters from `params/default.yml`), `make book
# PARAMS=params/full.yml`, or `python -m analysis build --params FILE -p key=value`. Each
# chapter receives only the parameters its first code cell declares. This build used:

# %% tags=["remove-input"]
tables.html(tables.save(reproduce.parameter_table(params), "parameters", tables_dir))

# %% [markdown]
# ## Inputs
#
# Every chapter is re-run when any of these files changes (together with the chapter itself,
# its parameters and the `analysis` source). SHA-256 of each:

# %% tags=["remove-input"]
tables.html(tables.save(reproduce.input_hashes(corpus_path), "input_hashes", tables_dir))

# %% [markdown]
# ## Software
#
# The build ran on {glue:text}`repro_python`. Exact versions of every dependency are pinned
# in `requirements.lock`, which `make` installs; the main ones:

# %% tags=["remove-input"]
tables.html(tables.save(reproduce.package_versions(), "package_versions", tables_dir))

# %% [markdown]
# ## Re-running one chapter
#
# Each chapter is a notebook that plain papermill can run from the repository root (or any
# other directory, with the paths adjusted) with this build's parameters. List-valued
# parameters are passed as YAML with `-y`; chapters also accept them as YAML strings with `-p`.
# An empty `corpus_path` means the bundled corpus.

# %% tags=["remove-input"]
tables.html(tables.save(reproduce.papermill_commands(params), "papermill_commands", tables_dir))

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
