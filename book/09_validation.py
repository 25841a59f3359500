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
# (validation)=
# # Validation: does the method find what was planted?
#
# A test is only as useful as its error rates. Because the simulator can plant convergence at
# any strength, we can measure how the convergence test of {doc}`08_convergence` behaves: how
# often it detects convergence that is there (its power) and how often it reports convergence
# that is not (its false-positive rate, which should stay near alpha). The same simulated
# corpora tell us how well the two coders recover the business-model labels, including on text
# written with a second phrase bank that the dictionary was never checked against.

# %% tags=["parameters", "hide-input"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
corpus_path: str = ""  # CSV of firms (canonical or Crunchbase export); empty: the bundled simulated corpus
website_snapshot: str = ""  # website text collected by python -m analysis collect (its DIR or DIR/website_text.csv); empty: none
tables_dir: str = ""  # folder for the tables as CSV; filled in by the runner, empty: none written
text_fields: list[str] = ["description", "full_description"]  # text columns analysed, joined (any of description, full_description, website_text)
seed: int = 20220804  # seed every random step derives from (an integer, 0 or more)
cohort_edges: list[int] = [2014, 2017, 2020, 2023]  # founding-year bin edges, half-open, strictly increasing years
n_subsamples: int = 5  # equal-size subsamples per cohort for distinctiveness (at least 1)
n_perm: int = 200  # permutations for the trend test (0 or more; 0: no test)
alpha: float = 0.05  # significance level of the tests, in (0, 1)
replicates: int = 20  # simulated corpora per planted strength in the validation study (at least 1)

# %% tags=["remove-cell"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
from analysis.params import check as _check_parameters

globals().update(_check_parameters("09_validation", corpus_path=corpus_path, website_snapshot=website_snapshot, tables_dir=tables_dir, text_fields=text_fields, seed=seed, cohort_edges=cohort_edges, n_subsamples=n_subsamples, n_perm=n_perm, alpha=alpha, replicates=replicates))

# %% tags=["remove-input"]
from IPython.display import Markdown
from myst_nb import glue

from analysis import corpus, figures, prose, tables, validation
from analysis.params import as_list

data = corpus.load(corpus_path, website_snapshot)
fields = as_list(text_fields, name="text_fields")
sizes = tuple(int((data.firms["city"] == c).sum()) for c in ("Beijing", "Shanghai", "Shenzhen"))
study = validation.simulation_study(
    replicates=int(replicates), seed=int(seed), n_perm=int(n_perm), alpha=float(alpha),
    n_per_city=sizes, n_subsamples=int(n_subsamples), text_fields=fields, cohort_edges=cohort_edges,
)
study = tables.save(study, "validation_power", tables_dir)
null = study[study["strength"] == 0].iloc[0]
full = study[study["strength"] == study["strength"].max()].iloc[0]
glue("val_replicates", int(replicates), display=False)
glue("val_sizes", f"{sizes[0]}, {sizes[1]} and {sizes[2]}", display=False)
glue("val_fpr", f"{null['rate']:.2f}", display=False)
glue("val_fpr_se", f"{null['mcse']:.2f}", display=False)
glue("val_power_full", f"{full['rate']:.2f}", display=False)
glue("val_power_full_se", f"{full['mcse']:.2f}", display=False)
glue("val_alpha", f"{float(alpha):g}", display=False)
Markdown(prose.corpus_notice(data, short=True))

# %% [markdown]
# ## Power and false-positive rate
#
# For each planted strength (0, 0.25, 0.5, 0.75 and 1) the simulator generates
# {glue:text}`val_replicates` corpora with as many firms per city as this build's corpus
# ({glue:text}`val_sizes`), each from its own seed, and the primary test of
# {doc}`08_convergence` is run on each at alpha = {glue:text}`val_alpha` (without bootstrap
# intervals, which the test does not use). The detection rate at strength 0 is the
# false-positive rate: {glue:text}`val_fpr` (Monte Carlo standard error
# {glue:text}`val_fpr_se`). At full strength the test detects convergence in a share
# {glue:text}`val_power_full` of corpora (standard error {glue:text}`val_power_full_se`).
# The Monte Carlo standard error, the square root of rate × (1 − rate) / replicates, says how
# much these rates would move with a different set of simulated corpora; the publication
# parameters (`params/full.yml`) use 200 replicates per strength.

# %% tags=["remove-input"]
fig = figures.power_plot(study, float(alpha))
glue("fig_power", fig, display=False)
figures.close(fig)

# %% [markdown]
# ```{glue:figure} fig_power
# :name: fig-power
# :alt: Detection rate of the convergence test against planted convergence strength from 0 to 1, with error bars of two Monte Carlo standard errors and a dashed line at alpha.
#
# Share of simulated corpora in which the test detects convergence, by planted strength, with
# ±2 Monte Carlo standard errors. At strength 0 this is the false-positive rate, which should
# lie near alpha (dashed line).
# ```

# %% tags=["hide-input"]
tables.html(study, digits=3)

# %% [markdown]
# ## Do the coders recover the planted labels?
#
# The dictionary coder (used by every city chapter) and the supervised cross-check (tf-idf with
# a linear classifier, scored by stratified cross-validation) are compared with the labels the
# simulator planted, on corpora written with phrase bank `a` and with phrase bank `b`. The two
# banks were written independently, so bank `b` shows how the dictionary does on wording it was
# not developed alongside. Macro-F1 averages the F1 score over the categories of a dimension; a
# dictionary "tie" or "no hit" counts as an error.

# %% tags=["remove-input"]
recovery = validation.label_recovery(("a", "b"), n_per_city=sizes, seed=int(seed), text_fields=fields)
summary = tables.save(recovery.summary, "validation_label_recovery", tables_dir)
wide = summary.pivot_table(index=["dimension"], columns=["coder", "phrasebank"], values="macro_f1")
dict_b = summary[(summary["coder"] == "dictionary") & (summary["phrasebank"] == "b")]
supervised = summary[summary["coder"] == "supervised"]
glue("val_min_dict_b", f"{dict_b['macro_f1'].min():.2f}", display=False)
glue("val_min_sup", f"{supervised['macro_f1'].min():.2f}", display=False)
tables.html(wide.round(3), index=True)

# %% [markdown]
# The lowest macro-F1 of the dictionary on bank `b` is {glue:text}`val_min_dict_b`; the lowest
# of the supervised coder on either bank is {glue:text}`val_min_sup`. The confusion matrices of
# the dictionary coder on bank `b` (rows: planted label; columns: coded label) show where the
# errors fall:

# %% tags=["hide-input"]
for dim in ("application", "customer", "geography"):
    matrix = recovery.confusion[("b", dim, "dictionary")]
    tables.save(matrix, f"confusion_b_{dim}_dictionary", tables_dir)
    display(Markdown(f"**{dim}**"))
    display(tables.html(matrix, index=True))

# %% [markdown]
# ## The coders on this build's corpus
#
# The simulated checks above hold for simulated text. On the corpus of this build, the coders
# can be scored only against known labels: the simulator's truth, or a hand-coded sample of
# firms in `data/coding_sample.csv` (format in `data/README.md`).

# %% tags=["remove-input"]
checks, reasons = tables.coder_checks(data.firms, fields, seed=int(seed))
tables.save(checks, "validation_this_corpus", tables_dir)
if len(checks):
    display(tables.html(checks))
else:
    display(Markdown(":::{note}\nLabel recovery on this corpus needs truth columns or a hand-coded "
                     "sample, and this corpus has neither (" + "; ".join(prose.escape(r) for r in reasons)
                     + "). The simulation study above does not depend on it.\n:::"))
