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
# (convergence)=
# # Convergence
#
# The brief's central claim is about change over time {cite:p}`hai2022chinese`. The old saying
# that heaven is high and the emperor far away described local room for manoeuvre; as the
# central state takes a closer interest in blockchain, the authors argue, the distinct local
# logics of Shanghai and Shenzhen give way, and blockchain entrepreneurs either build
# infrastructure and public services the way Beijing's firms do or move abroad. If that is
# right, firms founded more recently should be harder to tell apart by city, and the later
# cohorts of Shanghai and Shenzhen should look more like Beijing's.
#
# The brief states this from a reading of the texts; it does not test it. This chapter turns the
# claim into measures by founding year and a decision rule with three possible answers.

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
n_boot: int = 200  # bootstrap draws per cohort (0 or more; 0: no intervals)
n_perm: int = 200  # permutations for the text-measure trend tests and for each simulated corpus of the power study, at most 200 there (0 or more; 0: no test)
n_perm_shares: int = 10000  # permutations for the share measures' decision rule, the primary decision included (0 or more; 0: no test)
n_perm_joint: int = 1000  # joint permutations of the specification curve: every specification on the same shuffles of founding years (0 or more; 0: no test)
alpha: float = 0.05  # significance level of the tests, in (0, 1)
equivalence_margin: float = 3.0  # share points per year below which the others' move towards Beijing counts as no convergence (the rule's equivalence test; more than 0)
replicates: int = 400  # simulated corpora per world of the power study, label level (at least 1; 400 or more keep every rate's Monte Carlo SE at or below 0.025)
text_replicates: int = 5  # full-text simulated corpora per scenario for the text measures in the power study (0 or more)

# %% tags=["remove-cell"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
from analysis.params import check as _check_parameters

parameters = _check_parameters("08_convergence", corpus_path=corpus_path, website_snapshot=website_snapshot, tables_dir=tables_dir, text_fields=text_fields, coder=coder, seed=seed, cohort_edges=cohort_edges, n_subsamples=n_subsamples, n_boot=n_boot, n_perm=n_perm, n_perm_shares=n_perm_shares, n_perm_joint=n_perm_joint, alpha=alpha, equivalence_margin=equivalence_margin, replicates=replicates, text_replicates=text_replicates)
globals().update(parameters)

# %% tags=["remove-input"]
from IPython.display import Markdown
from myst_nb import glue

from analysis.chapters import convergence
from analysis.present import convergence_prose, convergence_tables, curve_prose, prose, tables

page = convergence.chapter(**parameters)
glue("conv_n_missing", page.result.n_missing_year, display=False)
glue("conv_n_outside", page.result.n_outside_edges, display=False)
glue("conv_cohorts", ", ".join(page.result.cohorts), display=False)
glue("conv_n_cohorts", len(page.result.cohorts), display=False)
glue("conv_first_year", page.first_year, display=False)
glue("conv_last_year", page.last_year, display=False)
glue("conv_weights", convergence_prose.weights_text(page.result.weights), display=False)
glue("conv_margin", f"{equivalence_margin:g}", display=False)
glue("conv_n_perm", n_perm, display=False)
glue("conv_n_perm_shares", f"{n_perm_shares:,}", display=False)
glue("conv_n_perm_joint", f"{n_perm_joint:,}", display=False)
glue("fig_curve_share", page.figures["curve_share"], display=False)
glue("conv_n_boot", n_boot, display=False)
glue("conv_n_subsamples", n_subsamples, display=False)
glue("conv_alpha", f"{alpha:g}", display=False)
glue("conv_decision", page.result.decision, display=False)
glue("conv_replicates", f"{replicates:,}", display=False)
glue("conv_text_replicates", text_replicates, display=False)
Markdown(prose.corpus_notice(page.corpus, short=True) + prose.absent_cities(page.corpus.firms))

# %% [markdown]
# ## Cohorts
#
# Firms are grouped by founding year into {glue:text}`conv_n_cohorts` cohorts
# ({glue:text}`conv_cohorts`; each bin includes its first year and excludes its last). Firms
# with no founding year ({glue:text}`conv_n_missing`) or one outside the bins
# ({glue:text}`conv_n_outside`) are left out of this chapter. Firms per city and cohort:

# %% tags=["remove-input"]
display(*prose.shown(convergence_prose.notes_list(page.result.notes)))
tables.html(page.per_cohort, index=True)

# %% [markdown]
# ## The gap to Beijing
#
# - **Public share** (the primary measure; see {download}`data/analysis_plan.md </files/data/analysis_plan.md>` for when each choice was
#   made): the share of each city's firms that the coder labels as serving public customers, the
#   heart of Beijing's profile in the brief. Shanghai and Shenzhen are pooled by direct
#   standardisation, with fixed weights ({glue:text}`conv_weights`: each city's share of the two
#   cities' dated firms), so that a change in how many firms each city founded in a given year
#   cannot pass for convergence.
# - **Infrastructure share**: the same for the share of firms coded as providing infrastructure
#   and services, Beijing's typical application.
# - **Cosine to Beijing**: how similar each city's firms are to Beijing's in their tf-idf word
#   profiles, relative to how similar they are to one another (1 means as close to Beijing's
#   firms as to their own city's). It already compares with Beijing; convergence means it rises.
# - **{term}`Distinctiveness`**: within each cohort every city is cut down to the same number of firms
#   ({glue:text}`conv_n_subsamples` random subsamples), a naive Bayes classifier tries to tell
#   the three cities apart from the firms' words, and its {term}`balanced accuracy` under leave-one-out
#   cross-validation, minus the 1/3 expected by chance, is averaged. Convergence means it falls.
#
# **The decision rule.** The brief claims that Shanghai and Shenzhen move towards Beijing. A gap
# that closes is not enough for that: it also closes when Beijing alone changes, or when all three
# cities drift together on the log-odds scale. So the primary decision asks two things of every
# firm founded from {glue:text}`conv_first_year` to {glue:text}`conv_last_year`, with founding
# year as a number (slopes per year; the cohorts below are for display only):
#
# 1. *The gap closes.* Beijing's share minus the others' standardised share must move towards
#    zero with founding year, on the share scale and on the log-odds scale. The null is that no
#    city's share changes with founding year: founding years are permuted within every city (a
#    {term}`permutation test`).
# 2. *The others move towards Beijing.* Shanghai's and Shenzhen's own share must move towards
#    Beijing's level. The null is that their share does not change with founding year, whatever
#    Beijing does: founding years are permuted within those two cities only.
#
# Each part is one-sided at {term}`alpha` = {glue:text}`conv_alpha`, and convergence is supported only
# when all hold, so the decision's p-value is the largest of the three
# ({glue:text}`conv_n_perm_shares` permutations; a p-value within two {term}`Monte Carlo standard errors <MCSE>`
# of alpha makes the decision inconclusive). Convergence is **ruled out** when the others' move
# towards Beijing is shown to be smaller than {glue:text}`conv_margin` share points per year (the
# upper end of its one-sided interval lies below that margin, half the move of full convergence
# in the simulator). Anything else is **inconclusive**: at this corpus's size that is the honest
# answer most of the time. The text measures are reported beside the primary one with their own
# permutation tests ({glue:text}`conv_n_perm` permutations); they do not decide. Intervals are 95%
# percentile {term}`bootstrap intervals <Bootstrap interval>` ({glue:text}`conv_n_boot` resamples of firms within city).

# %% tags=["remove-input"]
glue("fig_public_share", page.figures["public_share"], display=False)
glue("fig_public_gap", page.figures["public_gap"], display=False)
glue("fig_infrastructure_share", page.figures["infrastructure_share"], display=False)
glue("fig_cosine_to_beijing", page.figures["cosine_to_beijing"], display=False)
glue("fig_distinctiveness", page.figures["distinctiveness"], display=False)

# %% [markdown]
# ```{glue:figure} fig_public_share
# :name: fig-public-share
# :alt: Lines with error bars, one per city and one for Shanghai and Shenzhen pooled, of the share of firms coded as serving public customers in each founding-year cohort.
#
# Share of firms coded as serving public customers, by city and cohort (95% bootstrap intervals).
# ```
#
# ```{glue:figure} fig_public_gap
# :name: fig-public-gap
# :alt: Lines with error bars of Beijing's public-customer share minus that of Shanghai, of Shenzhen, and of the two pooled, per founding-year cohort; a dotted line marks zero.
#
# The primary statistic: Beijing's public-customer share minus each other city's (and the two
# pooled), by cohort, with 95% bootstrap intervals. Convergence moves the lines towards the
# dotted zero line.
# ```
#
# How the gap changed with founding year, split into Beijing's own change and the others' (share
# points per year with 95% bootstrap intervals; "towards" means the side moved so as to close the
# gap):

# %% tags=["remove-input"]
display(Markdown(convergence_prose.decomposition_paragraph(page.decomposition, page.row)))
tables.html(convergence_tables.decomposition_shown(page.decomposition), digits=3)

# %% [markdown]
# ## Corrected for the coder's error
#
# The shares count the firms the coder put in a category, and the coder makes mistakes: it misses
# some firms that serve public customers and counts some that do not. Corrected for the error
# rates it was measured with, the shares and the gap's slope per year (corrected values with 95%
# bootstrap intervals; `observed` is as coded; `coder_validated` in the verdict table says whether
# the rates come from this corpus's own text):

# %% tags=["remove-input"]
display(Markdown(convergence_prose.correction_sentence(page.result, page.verdict.error)))
display(Markdown(convergence_prose.tipping_sentence(page.result.tipping, page.verdict.error)))
tables.html(convergence_tables.corrected_shown(page.corrected), digits=3)

# %% [markdown]
# ```{glue:figure} fig_infrastructure_share
# :name: fig-infrastructure-share
# :alt: Lines with error bars, one per city, of the share of firms coded as infrastructure and services in each founding-year cohort.
#
# Share of firms coded as infrastructure and services, by city and cohort (95% bootstrap
# intervals).
# ```
#
# ```{glue:figure} fig_cosine_to_beijing
# :name: fig-cosine
# :alt: Lines with error bars for Shanghai and Shenzhen of their firms' tf-idf similarity to Beijing's firms, relative to their similarity to their own city's firms, in each cohort.
#
# Similarity of each city's firms to Beijing's in the same cohort (tf-idf cosine, relative to
# the similarity within the city; 95% bootstrap intervals, clipped to the plotted range).
# ```
#
# ```{glue:figure} fig_distinctiveness
# :name: fig-distinctiveness
# :alt: Line with error bars of distinctiveness (balanced accuracy minus one third) for each founding-year cohort; a dotted line marks chance.
#
# Distinctiveness by cohort: how much better than chance (dotted line) a classifier tells the
# three cities apart from their firms' words, with 95% bootstrap intervals.
# ```
#
# ## The verdict as data
#
# One row per measure and comparison, as written to `verdict.csv`: the gap's slope per year with
# its interval (and, on the simulated corpus, the planted value beside it), the others' move
# towards Beijing with its upper bound and the equivalence margin, the p-values of the rule's
# parts and their maximum with its Monte Carlo standard error, the {term}`power` from the simulation study
# below, the minimum detectable effect in share points per year, and the decision at alpha =
# {glue:text}`conv_alpha`. Exactly one row is the primary decision.

# %% tags=["remove-input"]
tables.html(convergence_tables.verdict_shown(page.verdict_table), digits=3)

# %% [markdown]
# ## Verdict
#
# Generated from the primary row of the table above:

# %% tags=["remove-input"]
Markdown(convergence_prose.verdict_box(page.verdict, page.corpus, page.post_hoc,
                                       curve_prose.curve_adds(page.curve.test, page.result.decision, alpha)))

# %% [markdown]
# The secondary tests, each on its own (a rejection here does not change the verdict):

# %% tags=["remove-input"]
Markdown(convergence_prose.secondary_summary(page.result))

# %% [markdown]
# ## How much could this rule detect?
#
# Power comes from the simulator, not from the data: corpora are generated with this corpus's
# firms per city and its founding years ({glue:text}`conv_replicates` corpora per world, drawn at
# the level of labels; each corpus draws its coder's error rates from what they were measured on,
# so that the study carries both the coder's error and how little is known about it), with
# convergence planted at several
# strengths and in worlds where the others do not converge on Beijing in the brief's sense. Each
# corpus gets the rule and, beside it, the gap test that decided before it (the slope of the gap
# over the cohort index, founding years permuted within every city). {doc}`09_validation` shows
# the whole study. How often each decision is taken, world by world:

# %% tags=["remove-input"]
tables.html(convergence_tables.rates_shown(page.rates), digits=3)

# %% [markdown]
# Power and the minimum detectable effect of the rule, per measure and comparison (the effect is
# the closing of the gap in share points per year; where power stays below 0.8 at full
# convergence, the MDE is the largest planted effect and marked as a lower bound), and power
# against full convergence as the corpus grows:

# %% tags=["remove-input"]
display(tables.html(page.power, digits=3))
display(tables.html(page.by_size, digits=3))
display(Markdown(convergence_prose.misspecified_sentence(page.power, page.power_misspecified, page.verdict.error)))
tables.html(convergence_tables.misspecified_shown(page.power_misspecified), digits=3)

# %% [markdown]
# ## Sensitivity
#
# The primary decision again, changing one analytic choice at a time: three other sets of cohort
# edges (which now only set the window of founding years analysed), other text fields and every
# available coder. Key terms and their multiple-testing
# correction play no part in any convergence measure, so that choice cannot move this verdict
# and has no row.

# %% tags=["remove-input"]
display(Markdown(convergence_prose.sensitivity_sentence(page.sensitivity, page.result.decision)))
tables.html(page.sensitivity, digits=3)

# %% [markdown]
# ## Every defensible analysis at once
#
# The sensitivity table changes one choice at a time. The specification curve
# {cite}`simonsohn2020specification` crosses every choice that the analysis plan names as defensible
# (its entry 17): founding year as a number or binned by one of four sets of cohort edges; Beijing
# against Shanghai and Shenzhen standardised, or against either alone; the share or the log-odds
# scale; three sets of text fields; the dictionary or the supervised coder; the public or the
# infrastructure share; with or without the correction for the coder's measured error. The
# **primary specification** is the first of each: founding year, the standardised comparison, the
# share scale, the build's text fields and coder, the public share, corrected. Each specification
# is decided by the rule on its own scale, and all of them are tested on the same
# {glue:text}`conv_n_perm_joint` shuffles of founding years within every city, so that one joint
# test can ask whether the specifications together show more convergence than chance would: it
# compares the median estimate and the share of specifications significant in the predicted
# direction with their distributions over the shuffles. Every specification, with its estimate,
# interval, p-value and decision, is in `specification_curve.csv`.

# %% tags=["remove-input"]
display(Markdown(curve_prose.curve_summary(page.curve.table)))
display(Markdown(curve_prose.joint_sentence(page.curve.test, alpha)))
display(tables.html(page.curve.test, digits=3))
tables.html(page.curve_by_choice, digits=2)

# %% [markdown]
# ```{glue:figure} fig_curve_share
# :name: fig-curve-share
# :alt: Estimates of the closing of the gap in share points per year for every share-scale specification, sorted from lowest to highest with their intervals and coloured by decision; beneath, a grid marking which value of each choice every specification takes.
#
# The specification curve on the share scale: each specification's estimate (positive: the gap
# closes) with its 95% interval, coloured by its decision; the ring marks the primary
# specification. Beneath, the choices each one makes. The log-odds specifications are in the table
# above and in `specification_curve.csv`; on a narrow screen the table says the same per choice.
# ```

# %% [markdown]
# ## Threats to validity
#
# **Survivorship and offshore exits.** The corpus holds firms that were still listed when it was
# collected, grouped by the year they were founded. Firms that closed or moved abroad before then
# are missing, and the brief itself names moving offshore as one response to Beijing's
# priorities {cite:p}`hai2022chinese`. If crypto-oriented firms of the early cohorts in Shanghai
# and Shenzhen left more often than others, the surviving early cohorts already look more like
# Beijing, which hides convergence; if later entrants that would have been unlike Beijing never
# registered in these cities, the later cohorts look more like Beijing, which manufactures it.
#
# **Coverage of the source.** A commercial database lists the firms that it has found and that
# have reported to it. Coverage can differ by city (English-language visibility, investor
# networks) and by year (recent firms are listed with a lag), and both differences move the
# shares by cohort.
#
# **Language of the descriptions.** A database's short and long descriptions are mostly written in
# English for an international audience, while firms' own websites are often in Chinese. Firms
# serving the Chinese state may describe that business less often, or differently, in English,
# so the public share depends on which text fields are read; the sensitivity table above shows
# the verdict without the website text.
#
# **Founding year as a proxy.** The cohort is the year a firm was founded, not the year it took
# its current strategy. A firm founded in 2015 that turned to government clients in 2020 counts
# in the earliest cohort with its present description, which blurs any change over time.

# %% tags=["remove-input"]
Markdown(convergence_prose.coder_error_sentence(page.verdict.error))
