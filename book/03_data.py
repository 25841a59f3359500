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
# # The data
#
# Placeholder.

# %% tags=["parameters"]
corpus_path = ""
tables_dir = ""

# %%
from analysis.paths import corpus_path as resolve

print(resolve(corpus_path).name)
