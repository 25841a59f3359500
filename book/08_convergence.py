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
# claim into measures by founding-year cohort and a formal test.

# %% tags=["parameters", "hide-input"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
corpus_path: str = ""  # CSV of firms (canonical or Crunchbase export); empty: the bundled simulated corpus
website_snapshot: str = ""  # website text collected by python -m analysis collect (its DIR or DIR/website_text.csv); empty: none
tables_dir: str = ""  # folder for the tables as CSV; filled in by the runner, empty: none written
text_fields: list[str] = ["description", "full_description"]  # text columns analysed, joined (any of description, full_description, website_text)
seed: int = 20220804  # seed every random step derives from (an integer, 0 or more)
cohort_edges: list[int] = [2014, 2017, 2020, 2023]  # founding-year bin edges, half-open, strictly increasing years
n_subsamples: int = 5  # equal-size subsamples per cohort for distinctiveness (at least 1)
n_boot: int = 200  # bootstrap draws per cohort (0 or more; 0: no intervals)
n_perm: int = 200  # permutations for the trend test (0 or more; 0: no test)
alpha: float = 0.05  # significance level of the tests, in (0, 1)

# %% tags=["remove-cell"]
# Generated from analysis/params.py (python -m analysis params --write); edit there.
from analysis.params import check as _check_parameters

globals().update(_check_parameters("08_convergence", corpus_path=corpus_path, website_snapshot=website_snapshot, tables_dir=tables_dir, text_fields=text_fields, seed=seed, cohort_edges=cohort_edges, n_subsamples=n_subsamples, n_boot=n_boot, n_perm=n_perm, alpha=alpha))

# %% tags=["remove-input"]
from IPython.display import Markdown
from myst_nb import glue

from analysis import convergence, corpus, figures, prose, tables

data = corpus.load(corpus_path, website_snapshot)
result = convergence.analyse(
    data.firms, text_fields=text_fields, cohort_edges=cohort_edges, n_subsamples=int(n_subsamples),
    n_boot=int(n_boot), n_perm=int(n_perm), alpha=float(alpha), seed=int(seed),
)
cohort_table = tables.save(result.cohort_table, "convergence_by_cohort", tables_dir)
trend_table = tables.save(result.trend_table, "convergence_trends", tables_dir)
per_cohort = tables.save(result.n_per_cohort, "convergence_firms_per_cohort", tables_dir)
glue("conv_n_missing", result.n_missing_year, display=False)
glue("conv_n_outside", result.n_outside_edges, display=False)
glue("conv_cohorts", ", ".join(result.cohorts), display=False)
glue("conv_n_cohorts", len(result.cohorts), display=False)
glue("conv_n_perm", int(n_perm), display=False)
glue("conv_n_boot", int(n_boot), display=False)
glue("conv_n_subsamples", int(n_subsamples), display=False)
glue("conv_alpha", f"{float(alpha):g}", display=False)
Markdown(prose.corpus_notice(data, short=True) + prose.absent_cities(data.firms))

# %% [markdown]
# ## Cohorts
#
# Firms are grouped by founding year into {glue:text}`conv_n_cohorts` cohorts
# ({glue:text}`conv_cohorts`; each bin includes its first year and excludes its last). Firms
# with no founding year ({glue:text}`conv_n_missing`) or one outside the bins
# ({glue:text}`conv_n_outside`) are left out of this chapter. Firms per city and cohort:

# %% tags=["remove-input"]
tables.html(per_cohort, index=True)

# %% [markdown]
# ## Four measures
#
# - **Public share** (the primary measure): the share of each city's firms that the dictionary
#   codes as serving public customers, the heart of Beijing's profile in the brief. Convergence
#   means it rises in Shanghai and Shenzhen; the test uses their average.
# - **Infrastructure share**: the share coded as providing infrastructure and services, Beijing's
#   typical application. Convergence means it rises in Shanghai and Shenzhen.
# - **Cosine to Beijing**: how similar each city's firms are to Beijing's in their tf-idf word
#   profiles, relative to how similar they are to one another (1 means as close to Beijing's
#   firms as to their own city's). Convergence means it rises.
# - **Distinctiveness**: within each cohort, every city is cut down to the same number of firms
#   by random subsampling ({glue:text}`conv_n_subsamples` subsamples), a naive Bayes classifier
#   tries to tell the three cities apart from the firms' words, and its balanced accuracy under
#   leave-one-out cross-validation, minus the 1/3 expected by chance, is averaged. Convergence
#   means it falls.
#
# Why the public share decides: it is the brief's own claim (the state as customer), and in the
# simulation study of {doc}`09_validation` it has roughly twice the power of distinctiveness at
# the brief's sample size, where the smallest city has only a handful of firms in the earliest
# cohort. Choosing one primary measure in advance keeps the false-positive rate at alpha; the
# other three are reported as supporting evidence. Because the public share rests on the
# dictionary coder, its reliability matters: the validation chapter reports it.
#
# Intervals are 95% percentile bootstrap intervals ({glue:text}`conv_n_boot` resamples of firms
# within city and cohort). The trend is the least-squares slope over cohorts, and its one-sided
# p-value comes from {glue:text}`conv_n_perm` permutations that shuffle founding years among each
# city's firms, which breaks any link between founding year and text while keeping every city
# and cohort size.

# %% tags=["remove-input"]
plots = [  # measure, y label, reference line, y range
    ("public_share", "share of firms", None, (0, 1)),
    ("infrastructure_share", "share of firms", None, (0, 1)),
    ("cosine_to_beijing", "similarity to Beijing (1 = as to own city)", 1.0, (0, 1.6)),
    ("distinctiveness", "balanced accuracy − 1/3", 0.0, (-0.34, 0.67)),
]
for measure, ylabel, line, ylim in plots:
    fig = figures.cohort_plot(cohort_table, measure, ylabel, chance=line, ylim=ylim)
    glue(f"fig_{measure}", fig, display=False)
    figures.close(fig)

# %% [markdown]
# ```{glue:figure} fig_public_share
# :name: fig-public-share
# :alt: Lines with error bars, one per city, of the share of firms coded as serving public customers in each founding-year cohort.
#
# Share of firms coded as serving public customers, by city and cohort (95% bootstrap intervals).
# ```
#
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
# ## Trends
#
# One slope per measure; for the alignment measures the pooled row averages Shanghai and
# Shenzhen, and Beijing's own slope is shown for reference (without a test). Only the primary
# measure gives the verdict; the others are supporting evidence, and several p-values read
# together would overstate the evidence.

# %% tags=["remove-input"]
tables.html(trend_table, digits=3)

# %% [markdown]
# ## Verdict
#
# The sentence below is generated from the numbers above at alpha = {glue:text}`conv_alpha`:

# %% tags=["remove-input"]
Markdown(prose.verdict_box(result, data))

# %% [markdown]
# {doc}`09_validation` measures how often this test detects convergence when it was planted at
# several strengths, and how often it claims convergence when there is none.
