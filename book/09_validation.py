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
# often it detects convergence that is there (its {term}`power`) and how often it reports convergence
# that is not (its false-positive rate, which should stay near {term}`alpha`). The same simulated
# corpora tell us how well the two coders recover the business-model labels, including on text
# written with a second phrase bank that the dictionary was never checked against.

# %% tags=["parameters", "hide-input"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
corpus_path: str = ""  # CSV of firms (canonical or Crunchbase export); empty: the bundled simulated corpus
website_snapshot: str = ""  # website text collected by python -m analysis collect (its DIR or DIR/website_text.csv); empty: none
tables_dir: str = ""  # folder for the tables as CSV; filled in by the runner, empty: none written
text_fields: list[str] = ["description", "full_description", "website_text"]  # text columns analysed, joined (any of description, full_description, website_text)
coder: str = ""  # business-model coder of Table 1 and the convergence measures: dictionary or supervised; empty: the package default (analysis.defaults.CODER)
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
from IPython.display import Markdown
from myst_nb import glue

from analysis.chapters import validation
from analysis.present import convergence_prose, curve_prose, prose, tables

page = validation.chapter(**parameters)
glue("val_replicates", f"{replicates:,}", display=False)
glue("val_text_replicates", text_replicates, display=False)
glue("val_sizes", f"{page.sizes[0]}, {page.sizes[1]} and {page.sizes[2]}", display=False)
glue("val_alpha", f"{alpha:g}", display=False)
glue("val_margin", f"{equivalence_margin:g}", display=False)
glue("val_n_null", page.n_null, display=False)
Markdown(prose.corpus_notice(page.corpus, short=True))

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
# founding years permuted within every city: a {term}`permutation test`). In a world without convergence, "supports"
# should be rare (near alpha or
# below); where convergence is planted, it is the rule's power.

# %% tags=["remove-input"]
display(Markdown(convergence_prose.rates_sentence(page.rates, page.primary, alpha)))
glue("fig_power", page.power_figure, display=False)
tables.html(page.rates_shown, digits=3)

# %% [markdown]
# ```{glue:figure} fig_power
# :name: fig-power
# :alt: Two panels. Left: for each world without planted convergence, the share of simulated corpora in which the rule supports convergence (black squares) and in which the earlier gap test rejects (grey squares), with error bars of two Monte Carlo standard errors and a dashed line at alpha. Right: the same two rates against the planted closing of the gap in share points per year.
#
# Left: worlds with no convergence planted, where a rate is a false-positive rate and should lie
# near or below alpha (dashed line). Right: worlds with convergence planted, against the planted
# closing of the public-share gap, where it is power. Black: the rule supports convergence; grey:
# the earlier gap test rejects; bars ±2 {term}`Monte Carlo standard errors <MCSE>`.
# ```
#
# ## The specification curve's joint test
#
# The convergence page tests every defensible specification at once. Whether that joint test
# keeps its promise is checked here on simulated corpora with this corpus's design, with no
# change and at each planted strength: each corpus is coded once (the public share, the flags
# drawn with the coder's measured error), so its curve crosses the choices that need no words
# (founding year or one of four sets of cohorts, three comparisons, two scales, the correction on
# or off: 60 specifications), and each gets the joint test on its own
# {term}`permutations <permutation test>` of founding years within every city. A rate with no
# change is a false-positive rate and should lie near alpha; with convergence planted it is
# power.

# %% tags=["remove-input"]
display(Markdown(curve_prose.joint_rates_sentence(page.joint, alpha)))
tables.html(page.joint, digits=3)

# %% [markdown]
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
display(Markdown(convergence_prose.threats_sentence(page.threats)))
tables.html(page.threats, digits=3)

# %% tags=["remove-input"]
if page.text_sizes is not None:  # no full-text corpora, nothing to say about their size
    display(Markdown(prose.simulated_sizes_note("the text measures", page.text_sizes, page.sizes, page.text_scaled)))

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
glue("val_min_dict_b", f"{page.min_dictionary_new_bank:.2f}", display=False)
display(Markdown(prose.simulated_sizes_note("label recovery", page.recovery.n_per_city, page.sizes,
                                            page.recovery.scaled)))
glue("val_min_sup", f"{page.min_supervised:.2f}", display=False)
tables.html(page.macro_f1, index=True)

# %% [markdown]
# The lowest macro-F1 of the dictionary on bank `b` is {glue:text}`val_min_dict_b`; the lowest
# of the supervised coder on either bank is {glue:text}`val_min_sup`. The confusion matrices of
# the dictionary coder on bank `b` (rows: planted label; columns: coded label) show where the
# errors fall:

# %% tags=["hide-input"]
for dim, matrix in page.recovery_confusion.items():
    display(Markdown(f"**{dim}**"))
    display(tables.html(matrix, index=True))

# %% [markdown]
# (validation-checkset)=
# ## The coders on the check sets (invented text, coded by language models)
#
# The checks above use simulated text, written from phrase banks close to the dictionary's
# vocabulary. The check sets are invented firm descriptions that language models wrote and then
# coded from the codebook ({download}`data/codebook.md </files/data/codebook.md>`) alone: separate model instances, none of which saw
# the dictionary, and no person wrote or coded any of them. They are written
# in the styles real listings use: terse lines, marketing copy, texts silent on a market or
# client, negation and contrast, mixed English and Chinese, and Chinese website pages (how they
# were made: `data/README.md`). Both coders are scored against the adjudicated codes, with the
# dictionary's `none` and `tie` counted as errors; the supervised coder (tf-idf with a logistic
# regression) is scored by cross-validation within a set and, where there are two sets,
# trained on the other set and tested on the held-out one.

# %% tags=["remove-input"]
Markdown(prose.checkset_note(list(page.check_sets), page.held_out, page.kappas))

# %% tags=["hide-input"]
if page.kappa_table is not None:
    display(Markdown("**Agreement between the two model coders on the invented descriptions** (Cohen's kappa, "
                     "raw agreement). It says how determinate the codebook is for such coders; it is not the "
                     "dictionary's or the supervised coder's accuracy, which the next table gives."))
    display(tables.html(page.kappa_table, digits=3))
if page.accuracy is not None:
    display(Markdown("**Accuracy against the adjudicated codes**, per set, coder and language "
                     "(`all`, and `en`, `zh`, `mixed` where the set has them); abstentions count as errors"))
    display(tables.html(page.accuracy, index=True))
    display(Markdown("**Abstention rate of the dictionary coder** (`none`: no text; `tie`: its rules "
                     "cannot separate two categories)"))
    display(tables.html(page.abstention, index=True))

# %% [markdown]
# The convergence verdict needs two rates of the coder per share measure: its sensitivity (of the
# items truly in the category, the share it codes so) and its false-positive rate (of the others,
# the share it codes so anyway; an abstention counts as not coded). Pooled over the check sets,
# and per language of the items, for the coder of this build (the power study draws each
# simulated corpus's coder from the pooled counts; its corpora are labels without a language):

# %% tags=["remove-input"]
tables.html(page.coder_error, digits=3)

# %% tags=["hide-input"]
if page.held_out:
    display(Markdown(f"**Dictionary coder on the held-out set `{page.held_out}`**: confusion matrices "
                     "(rows: adjudicated code; columns: the coder's code)"))
    for dim, matrix in page.held_out_confusion.items():
        display(Markdown(f"*{dim}*"))
        display(tables.html(matrix, index=True))

# %% [markdown]
# ## The coders on this build's corpus
#
# The simulated checks above hold for simulated text. On the corpus of this build, the coders
# can be scored only against known labels: the simulator's truth, or a hand-coded sample of
# firms in `data/coding_sample.csv` (format in `data/README.md`).

# %% tags=["remove-input"]
if len(page.this_corpus):
    display(tables.html(page.this_corpus))
else:
    display(Markdown(prose.coder_checks_note(page.this_corpus_reasons)))
