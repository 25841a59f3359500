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
text_fields: list[str] = ["description", "full_description", "website_text"]  # text columns analysed, joined (any of description, full_description, website_text)
coder: str = ""  # business-model coder of Table 1 and the convergence measures: dictionary or supervised; empty: the package default (analysis.text.classify.DEFAULT_CODER)
seed: int = 20220804  # seed every random step derives from (an integer, 0 or more)
cohort_edges: list[int] = [2014, 2017, 2020, 2023]  # founding-year bin edges, half-open, strictly increasing years
n_subsamples: int = 5  # equal-size subsamples per cohort for distinctiveness (at least 1)
n_perm: int = 200  # permutations for the text-measure trend tests and for each simulated corpus of the power study, at most 200 there (0 or more; 0: no test)
alpha: float = 0.05  # significance level of the tests, in (0, 1)
equivalence_margin: float = 3.0  # share points per year below which the others' move towards Beijing counts as no convergence (the rule's equivalence test; more than 0)
replicates: int = 400  # simulated corpora per world of the power study, label level (at least 1; 400 or more keep every rate's Monte Carlo SE at or below 0.025)
text_replicates: int = 5  # full-text simulated corpora per scenario for the text measures in the power study (0 or more)

# %% tags=["remove-cell"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
from analysis.params import check as _check_parameters

parameters = _check_parameters("09_validation", corpus_path=corpus_path, website_snapshot=website_snapshot, tables_dir=tables_dir, text_fields=text_fields, coder=coder, seed=seed, cohort_edges=cohort_edges, n_subsamples=n_subsamples, n_perm=n_perm, alpha=alpha, equivalence_margin=equivalence_margin, replicates=replicates, text_replicates=text_replicates)
globals().update(parameters)

# %% tags=["remove-input"]
import pandas as pd
from IPython.display import Markdown
from myst_nb import glue

from analysis.chapters import verdict
from analysis.method import convergence, validation
from analysis.present import convergence_prose, figures, prose, tables
from analysis.data import corpus

data = corpus.load(corpus_path, website_snapshot)
design = validation.corpus_design(data.firms, cohort_edges)
sizes = design["n_per_city"]
study = tables.save(verdict.study_for(data.firms, text_fields=text_fields, coder=coder, cohort_edges=cohort_edges,
                                      n_subsamples=n_subsamples, n_perm=n_perm, alpha=alpha, margin=equivalence_margin,
                                      seed=seed, replicates=replicates, text_replicates=text_replicates),
                    "validation_power", tables_dir, corpus=data)
rates = tables.save(validation.rates_table(study), "validation_rates", tables_dir, corpus=data)
power = tables.save(validation.power_summary(study), "validation_power_summary", tables_dir, corpus=data)
primary = power[(power["measure"] == convergence.PRIMARY_MEASURE)
                & (power["comparison"] == convergence.PRIMARY_COMPARISON)].iloc[0]
nulls = rates[rates["kind"].isin(validation.NULL_KINDS)]
threats = rates[rates["kind"].isin([kind for kind, _, _ in validation.THREATS])]
glue("val_replicates", f"{replicates:,}", display=False)
glue("val_text_replicates", text_replicates, display=False)
glue("val_sizes", f"{sizes[0]}, {sizes[1]} and {sizes[2]}", display=False)
glue("val_alpha", f"{alpha:g}", display=False)
glue("val_margin", f"{equivalence_margin:g}", display=False)
glue("val_n_null", len(nulls), display=False)
Markdown(prose.corpus_notice(data, short=True))

# %% [markdown]
# ## How often each decision is taken
#
# The simulator generates corpora with as many firms per city as this build's corpus
# ({glue:text}`val_sizes`) and the same distribution of founding years, in worlds where the truth
# is known, {glue:text}`val_replicates` corpora each. In {glue:text}`val_n_null` worlds Shanghai
# and Shenzhen do not move towards Beijing in the brief's sense: nothing changes; every city's
# public-customer probability drifts by the same amount (*national drift*) or by the same amount
# on the log-odds scale (*log-odds drift*, which keeps the odds ratios between the cities fixed
# but moves their shares by different amounts); Beijing alone moves; or only the mix of Shanghai
# and Shenzhen firms changes over the years. In the others convergence is planted at several
# strengths. The corpora are drawn at the level of labels: planted labels from the simulator's
# model, and the coder's labels drawn with error rates that each corpus draws from what the coder
# showed on the check sets (or on this corpus's coding sample, where one is supplied), so that
# power carries both the coder's error and the uncertainty of its measurement; the analysis of
# each corpus corrects with the rates as measured.
#
# Each corpus gets the decision rule of {doc}`08_convergence` at alpha = {glue:text}`val_alpha`
# (equivalence margin {glue:text}`val_margin` share points per year) and, beside it, the gap test
# that decided before it (the earlier gap test: the slope of the gap over the cohort index,
# founding years permuted within every city). In a world without convergence, "supports"
# should be rare (near alpha or
# below); where convergence is planted, it is the rule's power.

# %% tags=["remove-input"]
display(Markdown(convergence_prose.rates_sentence(rates, primary, alpha)))
fig = figures.power_plot(rates, alpha)
glue("fig_power", fig, display=False)
figures.close(fig)
tables.html(rates.drop(columns=["kind", "no convergence"]), digits=3)

# %% [markdown]
# ```{glue:figure} fig_power
# :name: fig-power
# :alt: Two panels. Left: for each world without planted convergence, the share of simulated corpora in which the rule supports convergence (black squares) and in which the earlier gap test rejects (grey squares), with error bars of two Monte Carlo standard errors and a dashed line at alpha. Right: the same two rates against the planted closing of the gap in share points per year.
#
# Left: worlds with no convergence planted, where a rate is a false-positive rate and should lie
# near or below alpha (dashed line). Right: worlds with convergence planted, against the planted
# closing of the public-share gap, where it is power. Black: the rule supports convergence; grey:
# the earlier gap test rejects; bars ±2 Monte Carlo standard errors.
# ```
#
# ## Threats the cross-section cannot test away
#
# Founding year stands in for time, and the corpus holds only the firms that survive, in the
# city where they are listed now, coded from their present text. Four ways in which that can make
# or hide convergence are simulated below, with no convergence planted: older Shanghai and
# Shenzhen firms pivoting to state customers since they were founded; later state-oriented firms
# of those cities moving to Beijing; early private-customer firms dying; and the coder's false
# "public" codes growing with founding year. Their rates are shown, not tested away: the rule
# cannot tell these worlds from the ones it was built for.

# %% tags=["remove-input"]
display(Markdown(convergence_prose.threats_sentence(threats)))
threat_table = tables.save(threats[["world", "gap test", "gap test MCSE", "supports", "supports MCSE", "rules out",
                                    "rules out MCSE"]].reset_index(drop=True), "validation_threats", tables_dir,
                           corpus=data)
tables.html(threat_table, digits=3)

# %% tags=["remove-input"]
if study.attrs["text_replicates"]:  # no full-text corpora, nothing to say about their size
    display(Markdown(prose.simulated_sizes_note("the text measures", study.attrs["text_n_per_city"], sizes,
                                                study.attrs["scaled"])))

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
recovery = validation.label_recovery(("a", "b"), n_per_city=sizes, seed=seed, text_fields=text_fields)
summary = tables.save(recovery.summary, "validation_label_recovery", tables_dir)
wide = summary.pivot_table(index=["dimension"], columns=["coder", "phrasebank"], values="macro_f1")
dict_b = summary[(summary["coder"] == "dictionary") & (summary["phrasebank"] == "b")]
supervised = summary[summary["coder"] == "supervised"]
glue("val_min_dict_b", f"{dict_b['macro_f1'].min():.2f}", display=False)
display(Markdown(prose.simulated_sizes_note("label recovery", recovery.n_per_city, sizes, recovery.scaled)))
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
# (validation-checkset)=
# ## The coders on the check sets (invented text, coded by language models)
#
# The checks above use simulated text, written from phrase banks close to the dictionary's
# vocabulary. The check sets are invented firm descriptions that language models wrote and then
# coded from the codebook (`data/codebook.md`) alone: separate model instances, none of which saw
# the dictionary, and no person wrote or coded any of them. They are written
# in the styles real listings use: terse lines, marketing copy, texts silent on a market or
# client, negation and contrast, mixed English and Chinese, and Chinese website pages (how they
# were made: `data/README.md`). Both coders are scored against the adjudicated codes, with the
# dictionary's `none` and `tie` counted as errors; the supervised coder (tf-idf with a logistic
# regression) is scored by cross-validation within a set and, where there are two sets,
# trained on the other set and tested on the held-out one.

# %% tags=["remove-input"]
from analysis.text import checkset, checkset_scores

cs_found = checkset.available()
cs_held = checkset.held_out(cs_found)
cs_kappa = {name: checkset.kappa(checkset.load(path)) for name, path in cs_found.items()}
cs_figures = tables.save(checkset_scores.figures(seed=seed), "validation_check_sets", tables_dir)
Markdown(prose.checkset_note(list(cs_found), cs_held, cs_kappa))

# %% tags=["hide-input"]
if cs_kappa:
    kappa_table = pd.concat([k.assign(set=name) for name, k in cs_kappa.items()], ignore_index=True)
    kappa_table = tables.save(kappa_table[["set", "dimension", "n", "kappa", "agreement", "disagreements"]],
                              "validation_check_set_kappa", tables_dir)
    display(Markdown("**Agreement between the two model coders on the invented descriptions** (Cohen's kappa, "
                     "raw agreement). It says how determinate the codebook is for such coders; it is not the "
                     "dictionary's or the supervised coder's accuracy, which the next table gives."))
    display(tables.html(kappa_table, digits=3))
if len(cs_figures):
    acc = cs_figures.pivot_table(index=["set", "coder", "evaluation", "language"], columns="dimension",
                                 values="accuracy", sort=False)
    n = cs_figures.pivot_table(index=["set", "coder", "evaluation", "language"], values="n",
                               aggfunc="first", sort=False)
    acc = acc.join(n)[["n", "application", "customer", "geography"]]
    display(Markdown("**Accuracy against the adjudicated codes**, per set, coder and language "
                     "(`all`, and `en`, `zh`, `mixed` where the set has them); abstentions count as errors"))
    acc = tables.save(acc.round(3), "validation_check_set_accuracy", tables_dir)
    display(tables.html(acc, index=True))
    dict_fig = cs_figures[cs_figures["coder"] == "dictionary"]
    abst = dict_fig.pivot_table(index=["set", "language"], columns="dimension", values="abstention",
                                sort=False)
    display(Markdown("**Abstention rate of the dictionary coder** (`none`: no text; `tie`: its rules "
                     "cannot separate two categories)"))
    abst = tables.save(abst.round(3), "validation_check_set_abstention", tables_dir)
    display(tables.html(abst, index=True))

# %% [markdown]
# The convergence verdict needs two rates of the coder per share measure: its sensitivity (of the
# items truly in the category, the share it codes so) and its false-positive rate (of the others,
# the share it codes so anyway; an abstention counts as not coded). Pooled over the check sets,
# and per language of the items, for the coder of this build (the power study draws each
# simulated corpus's coder from the pooled counts; its corpora are labels without a language):

# %% tags=["remove-input"]
from analysis.text import classify
from analysis.method import coder_error

error_rates = tables.save(coder_error.check_set_rates(coder or classify.DEFAULT_CODER, seed=seed),
                          "validation_coder_error", tables_dir)
tables.html(error_rates, digits=3)

# %% tags=["hide-input"]
if cs_held:
    held_score = checkset_scores.score_dictionary(checkset.load(cs_found[cs_held]))
    display(Markdown(f"**Dictionary coder on the held-out set `{cs_held}`**: confusion matrices "
                     "(rows: adjudicated code; columns: the coder's code)"))
    for dim, matrix in held_score.confusion.items():
        tables.save(matrix, f"confusion_{cs_held}_{dim}_dictionary", tables_dir)
        display(Markdown(f"*{dim}*"))
        display(tables.html(matrix, index=True))

# %% [markdown]
# ## The coders on this build's corpus
#
# The simulated checks above hold for simulated text. On the corpus of this build, the coders
# can be scored only against known labels: the simulator's truth, or a hand-coded sample of
# firms in `data/coding_sample.csv` (format in `data/README.md`).

# %% tags=["remove-input"]
checks, reasons = tables.coder_checks(data.firms, text_fields, seed=seed)
tables.save(checks, "validation_this_corpus", tables_dir, corpus=data)
if len(checks):
    display(tables.html(checks))
else:
    display(Markdown(":::{note}\nLabel recovery on this corpus needs truth columns or a hand-coded "
                     "sample, and this corpus has neither (" + "; ".join(prose.escape(r) for r in reasons)
                     + "). The simulation study above does not depend on it.\n:::"))
