"""Figures (presentation layer): word clouds, keyness bars, the policy timeline, cohort plots.

Every figure takes tables computed elsewhere and returns a matplotlib Figure; nothing here
computes a statistic.  One set of city colours (``colours.py``); a CJK font shipped on PyPI (``mplfonts``'
Noto Sans CJK SC) so that Chinese terms render on any machine; every random step seeded.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.patches import Patch

from analysis.text.keyness import LOG_RATIO_SMOOTHING
from analysis.defaults import CITIES, DEFAULT_SEED
from analysis.present.colours import CITY_COLOURS
from analysis.text.preprocess import with_gloss

GREY = "#8a8a8a"
DPI = 200  # pages show figures at about 100 px per inch: PNGs at twice the displayed size
SIMULATED_MARK = "simulated data"


def _mark_simulated(fig, simulated: bool = True):
    """Stamp a figure drawn from the simulated corpus with a visible "simulated data" mark."""
    if simulated:
        fig.text(0.995, 0.005, SIMULATED_MARK, ha="right", va="bottom", fontsize=11, color="#a0301f",
                 bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="#a0301f", lw=0.9))
    return fig


def tint(hex_colour: str, amount: float = 0.72) -> str:
    """A pale tint of a colour (``amount`` of the way to white), for terms that do not survive.

    Parameters
    ----------
    hex_colour : str
        The colour, as matplotlib reads it (``#1F5FBF``).
    amount : float
        How far towards white, from 0 (the colour itself) to 1 (white).

    Returns
    -------
    str
        The tint, ``#rrggbb``.
    """
    from matplotlib.colors import to_hex, to_rgb

    r, g, b = to_rgb(hex_colour)
    return to_hex((r + (1 - r) * amount, g + (1 - g) * amount, b + (1 - b) * amount))


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """Noto Sans CJK SC (SIL Open Font License), shipped inside the ``mplfonts`` wheel.

    Returns
    -------
    pathlib.Path
        The font file, ``NotoSansCJKsc-Regular.otf`` (found once, then cached).

    Raises
    ------
    FileNotFoundError
        When the installed ``mplfonts`` does not hold the font.
    """
    import mplfonts

    path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
    if not path.exists():
        raise FileNotFoundError(f"CJK font not found at {path}; reinstall the locked environment")
    return path


@lru_cache(maxsize=1)
def setup() -> None:
    """House style, and the CJK font registered as a fallback for Chinese glyphs."""
    font_manager.fontManager.addfont(str(cjk_font_path()))
    name = font_manager.FontProperties(fname=str(cjk_font_path())).get_name()
    plt.rcParams.update({
        "font.family": ["DejaVu Sans", name],
        "figure.dpi": DPI,
        "savefig.dpi": DPI,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 12,  # figures are read scaled down to a phone's width too
        "axes.titlesize": 13,
        "axes.labelsize": 12,
        "xtick.labelsize": 11,
        "ytick.labelsize": 11,
        "legend.fontsize": 11,
        "svg.hashsalt": "analysis",
    })


def _city_legend(ax, cities=CITIES, **kwargs):
    handles = [Patch(color=CITY_COLOURS[c], label=c) for c in cities]
    return ax.legend(handles=handles, frameon=False, **kwargs)


# ----------------------------------------------------------------------------- word clouds
def _cloud(frequencies: dict[str, float], colour_of, seed: int, width: int, height: int):
    from wordcloud import WordCloud

    cloud = WordCloud(
        width=width, height=height, background_color="white", font_path=str(cjk_font_path()),
        random_state=seed, prefer_horizontal=0.9, max_words=len(frequencies) or 1,
        relative_scaling=0.5, min_font_size=16,
    )
    # Chinese terms carry their English gloss (data/zh_glosses.csv): "钱包 (wallet)"
    shown = {with_gloss(k): k for k in frequencies}
    cloud.generate_from_frequencies({with_gloss(k): float(v) for k, v in frequencies.items() if v > 0})
    cloud.recolor(color_func=lambda word, **_: colour_of(shown.get(word, word)), random_state=seed)
    return cloud


def city_wordcloud(frequencies: dict[str, float], city: str, seed: int = DEFAULT_SEED, title: str | None = None,
                   survivors=None, simulated: bool = False):
    """One city's cloud (terms sized by their weight, the log ratio). With ``survivors`` (the
    terms that survive the multiplicity correction), those are drawn in the city's full colour
    and the other terms in a pale tint of it, with a legend saying so.

    Parameters
    ----------
    frequencies : dict of str to float
        Term -> weight (:func:`analysis.present.tables.cloud_weights`); a term of weight 0 or
        less is not drawn.
    city : str
        The city, whose colour the terms take.
    seed : int
        Seed of the cloud's layout and colours.
    title : str or None
        The figure's title; None: no title.
    survivors : iterable of str or None
        The terms that survive the correction; None: every term in full colour, no legend.
    simulated : bool
        Whether to stamp the figure "simulated data".

    Returns
    -------
    matplotlib.figure.Figure
        The cloud (a note that no term is over-used when ``frequencies`` is empty), open.
    """
    setup()
    fig, ax = plt.subplots(figsize=(6, 4.4))
    full, pale = CITY_COLOURS[city], tint(CITY_COLOURS[city])
    keep = set(frequencies) if survivors is None else set(survivors)
    if frequencies:
        cloud = _cloud(frequencies, lambda w: full if w in keep else pale, seed, 800, 520)
        ax.imshow(cloud.to_array(), interpolation="bilinear")
    else:
        ax.text(0.5, 0.5, "no term is over-used in this city", ha="center", va="center")
    ax.set_axis_off()
    if survivors is not None and frequencies:
        ax.legend(handles=[Patch(color=full, label="survives the correction (q < 0.05)"),
                           Patch(color=pale, label="top term, does not survive")],
                  frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=1, fontsize=12)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return _mark_simulated(fig, simulated)


def comparison_wordcloud(weights: pd.DataFrame, seed: int = DEFAULT_SEED, simulated: bool = False):
    """Figure 1 rebuilt: ``weights`` has columns term, city, weight (the term's log ratio for the
    city it is most key for) and, optionally, survives; each term coloured by that city, in full
    colour when it survives the correction and in a pale tint when not, with a legend.

    Parameters
    ----------
    weights : pandas.DataFrame
        :func:`analysis.present.tables.comparison_weights`.
    seed : int
        Seed of the cloud's layout and colours.
    simulated : bool
        Whether to stamp the figure "simulated data".

    Returns
    -------
    matplotlib.figure.Figure
        The cloud and its legend (the legend alone when ``weights`` is empty), open.
    """
    setup()
    survives = (dict(zip(weights["term"], weights["survives"])) if "survives" in weights.columns
                else dict.fromkeys(weights["term"], True))
    colour = {t: (CITY_COLOURS[c] if survives[t] else tint(CITY_COLOURS[c]))
              for t, c in zip(weights["term"], weights["city"])}
    fig, ax = plt.subplots(figsize=(6.4, 6.2))
    if len(weights):
        cloud = _cloud(dict(zip(weights["term"], weights["weight"])), lambda w: colour[w], seed, 900, 700)
        ax.imshow(cloud.to_array(), interpolation="bilinear")
    ax.set_axis_off()
    handles = [Patch(color=CITY_COLOURS[c], label=c) for c in CITIES]
    handles += [Patch(color=tint(CITY_COLOURS[c]), label=f"{c}, not surviving") for c in CITIES]
    ax.legend(handles=handles, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=2,
              fontsize=11)
    fig.tight_layout()
    return _mark_simulated(fig, simulated)


# ----------------------------------------------------------------------------- keyness
def keyness_bars(table: pd.DataFrame, city: str, n: int = 12, reference: str = "other two cities",
                 alpha: float = 0.05, simulated: bool = False):
    """After quanteda's textplot_keyness, with the firm as the unit: the ``n`` terms with the
    strongest evidence of over-use by the target's firms (smallest over-use p, city colour) and
    the ``n`` with the strongest evidence of under-use (smallest ``p_under``, grey), each bar as
    long as the term's log2 ratio of firm shares. A bar is solid when its direction's q is below
    ``alpha`` (``q`` for over-use, ``q_under`` for under-use), hatched when not.

    Parameters
    ----------
    table : pandas.DataFrame
        The city's keyness table (:func:`analysis.present.tables.city_keyness_tables`).
    city : str
        The target city, whose colour the over-used terms take.
    n : int
        How many over-used terms, and how many under-used ones, at most.
    reference : str
        The other cities in words, for the axis label and the legend.
    alpha : float
        The level below which a bar's q makes it solid.
    simulated : bool
        Whether to stamp the figure "simulated data".

    Returns
    -------
    matplotlib.figure.Figure
        The bar chart, open.
    """
    setup()
    top = table[table["log_ratio"] > 0].sort_values(["p", "log_ratio"], ascending=[True, False]).head(n)
    bottom = table[table["log_ratio"] < 0].sort_values(["p_under", "log_ratio"]).head(n)
    shown = pd.concat([top, bottom.iloc[::-1]])
    fig, ax = plt.subplots(figsize=(5.6, 0.3 * max(len(shown), 4) + 1.6))
    y = np.arange(len(shown))[::-1]
    over = (shown["log_ratio"] > 0).to_numpy()
    q = np.where(over, shown["q"], shown["q_under"])
    sig = q < alpha
    base = [CITY_COLOURS[city] if o else GREY for o in over]
    ax.barh(y, shown["log_ratio"], color=[b if ok else "white" for b, ok in zip(base, sig)],
            edgecolor=base, hatch=[None if ok else "///" for ok in sig], linewidth=0.8)
    ax.set_yticks(y, [with_gloss(t) for t in shown["feature"]])
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel(f"log2 ratio of the shares of firms using the term:\n{city} over the {reference}\n"
                  f"({LOG_RATIO_SMOOTHING:g} added to each count)")
    handles = [Patch(color=CITY_COLOURS[city], label=f"over-used by {city}'s firms"),
               Patch(color=GREY, label=f"over-used by the {reference}' firms")]
    if not sig.all():
        handles.append(Patch(facecolor="white", edgecolor="#444444", hatch="///",
                             label="hatched: does not survive the correction"))
    ax.legend(handles=handles, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1,
              fontsize=11)
    fig.tight_layout()
    return _mark_simulated(fig, simulated)


# ----------------------------------------------------------------------------- context
LANES = ["central", "Beijing", "Shanghai", "Shenzhen", "other"]
STANCE_STYLE = {"support": ("^", "#2a7f3f"), "restrict": ("v", "#b8322a"), "mixed": ("D", "#9a7b1c")}


def policy_timeline(events: pd.DataFrame, marks: dict[str, str]):
    """Events by level (central, the three cities, other) and stance; ``marks`` maps an ISO date
    to a short label drawn as a vertical line (the 2017 token-sale ban, 1024, the 2021 ban).
    Drawn narrow with large type, so that it stays readable scaled to a phone's width.

    Parameters
    ----------
    events : pandas.DataFrame
        One row per event: ``date`` (ISO; a month alone, ``YYYY-MM``, is drawn at its 15th),
        ``level`` (``central``, a city, or anything else, drawn as ``other``) and ``stance``
        (``support``, ``restrict`` or ``mixed``).
    marks : dict of str to str
        ISO date -> label of a dashed vertical line.

    Returns
    -------
    matplotlib.figure.Figure
        The timeline (not stamped "simulated data": the events are not simulated), open.
    """
    setup()
    ev = events.copy()
    ev["when"] = pd.to_datetime(ev["date"].where(ev["date"].str.len() > 7, ev["date"] + "-15"))
    ev["lane"] = ev["level"].where(ev["level"].isin(LANES[:-1]), "other")
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    for stance, (marker, colour) in STANCE_STYLE.items():
        part = ev[ev["stance"] == stance]
        y = [len(LANES) - 1 - LANES.index(lane) for lane in part["lane"]]
        jitter = (part.groupby(["lane", "when"]).cumcount() * 0.14).to_numpy()
        ax.scatter(part["when"], np.array(y) + jitter, marker=marker, color=colour, s=60,
                   label=stance, zorder=3, edgecolor="white", linewidth=0.5)
    for i, (date, label) in enumerate(marks.items()):
        when = pd.Timestamp(date)
        ax.axvline(when, color="#555555", lw=0.9, ls="--", zorder=1)
        ax.text(when, len(LANES) - 0.45 + 0.42 * (i % 2), label, fontsize=10, ha="center",
                va="bottom", color="#222222", bbox=dict(fc="white", ec="none", pad=1))
    ax.set_yticks(range(len(LANES)), LANES[::-1], fontsize=11)
    ax.tick_params(axis="x", labelsize=10)
    ax.set_ylim(-0.6, len(LANES) + 0.6)
    ax.set_xlabel("date of the document or event", fontsize=11)
    ax.legend(frameon=False, loc="upper center", fontsize=10, bbox_to_anchor=(0.5, -0.16), ncol=3,
              title="stance", title_fontsize=10)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- convergence
def _cohort_plot(table: pd.DataFrame, measure: str, ylabel: str, chance: float | None = None,
                ylim: tuple[float, float] | None = None, simulated: bool = False):
    """Estimates with bootstrap intervals by cohort; one line per city (or one pooled line).
    With ``ylim``, intervals are clipped to that range (the caption should say so)."""
    setup()
    part = table[table["measure"] == measure]
    cohorts = list(dict.fromkeys(part["cohort"]))
    x = np.arange(len(cohorts))
    fig, ax = plt.subplots(figsize=(5.8, 3.2))
    present = list(dict.fromkeys(part["city"]))
    groups = [c for c in CITIES if c in present] + [c for c in present if c not in CITIES]  # cities, then pooled
    for k, city in enumerate(groups):
        rows = part[part["city"] == city].set_index("cohort").reindex(cohorts)
        if ylim is not None:
            rows = rows.assign(lo=rows["lo"].clip(*ylim), hi=rows["hi"].clip(*ylim))
        colour = CITY_COLOURS.get(city, "#444444")
        offset = (k - (len(groups) - 1) / 2) * 0.06
        # the interval as drawn from its ends: a bootstrap interval need not contain its estimate
        # (small cells), and a missing one (not estimable) is simply not drawn
        ax.plot(x + offset, rows["estimate"], color=colour, marker="o", label=city)
        drawn = rows["lo"].notna().to_numpy() & rows["hi"].notna().to_numpy()
        ax.vlines((x + offset)[drawn], rows["lo"][drawn], rows["hi"][drawn], color=colour, lw=1.2)
    if chance is not None:
        ax.axhline(chance, color=GREY, lw=0.8, ls=":")
    ax.set_xticks(x, cohorts)
    ax.set_xlabel("founding-year cohort")
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if len(groups) > 1:
        ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return _mark_simulated(fig, simulated)


def gap_lines(gap_table: pd.DataFrame, measure: str = "public_share") -> pd.DataFrame:
    """The gaps of ``measure`` (:attr:`analysis.method.convergence.ConvergenceResult.gap_table`) as
    :func:`_cohort_plot` draws them: one line per compared city (``Beijing − Shanghai`` ->
    ``Shanghai``), under the measure ``gap``.

    Parameters
    ----------
    gap_table : pandas.DataFrame
        The signed gaps to Beijing by cohort (columns measure, comparison, cohort, estimate, lo,
        hi).
    measure : str
        The measure whose gaps are kept.

    Returns
    -------
    pandas.DataFrame
        Its rows of ``measure``, with a column ``city`` (the compared city) and ``measure`` set
        to ``gap``.
    """
    return gap_table[gap_table["measure"] == measure].assign(
        city=lambda d: d["comparison"].str.replace("Beijing − ", "", regex=False), measure="gap")


#: the convergence page's cohort figures: name (glued as ``fig_NAME``), the measure drawn (``gap``: the
#: public share's gaps of :func:`gap_lines`), y label, reference line, y range
COHORT_FIGURES = (
    ("public_share", "public_share", "share of firms", None, (0, 1)),
    ("public_gap", "gap", "Beijing's share minus the city's", 0.0, (-1, 1)),
    ("infrastructure_share", "infrastructure_share", "share of firms", None, (0, 1)),
    ("cosine_to_beijing", "cosine_to_beijing", "similarity to Beijing (1 = as to own city)", 1.0, (0, 1.6)),
    ("distinctiveness", "distinctiveness", "balanced accuracy − 1/3", 0.0, (-0.34, 0.67)),
)


def cohort_figures(cohort_table: pd.DataFrame, gap_table: pd.DataFrame, simulated: bool = False) -> dict:
    """The figures of :data:`COHORT_FIGURES` by name, drawn by :func:`_cohort_plot` from the levels by
    cohort (``cohort_table``) and the public share's gaps (``gap_table``); open, for the caller to
    close.

    Parameters
    ----------
    cohort_table : pandas.DataFrame
        :attr:`analysis.method.convergence.ConvergenceResult.cohort_table`.
    gap_table : pandas.DataFrame
        :attr:`analysis.method.convergence.ConvergenceResult.gap_table`.
    simulated : bool
        Whether to stamp the figures "simulated data".

    Returns
    -------
    dict of str to matplotlib.figure.Figure
        Name -> figure, in the order of :data:`COHORT_FIGURES`.
    """
    gaps = gap_lines(gap_table, "public_share")
    return {name: _cohort_plot(gaps if measure == "gap" else cohort_table, measure, ylabel, chance=line, ylim=ylim,
                              simulated=simulated)
            for name, measure, ylabel, line, ylim in COHORT_FIGURES}


def power_plot(rates: pd.DataFrame, alpha: float):
    """The rates table of :func:`analysis.method.validation.rates_table` in two panels: left, the worlds
    without convergence (one column each; there the rate is a false-positive rate); right, the
    rate against the planted closing of the gap (share points per year).  Black: the rule's
    "supports convergence"; grey: the earlier gap test; bars ±2 Monte Carlo standard errors.

    Parameters
    ----------
    rates : pandas.DataFrame
        :func:`analysis.method.validation.rates_table`, with its columns ``kind`` and
        ``no convergence``.
    alpha : float
        The level, drawn as a dashed line.

    Returns
    -------
    matplotlib.figure.Figure
        The two panels, always stamped "simulated data", open.
    """
    setup()
    fig, (left, right) = plt.subplots(1, 2, figsize=(7.2, 3.9), sharey=True, width_ratios=(1.25, 1))
    null = rates[rates["no convergence"]].reset_index(drop=True)
    conv = rates[~rates["no convergence"] | (rates["kind"] == "no change")].copy()
    conv["closing"] = -conv["planted gap slope"]
    conv = conv.sort_values("closing")
    x = np.arange(len(null))
    for label, column, colour, shift in (("rule: supports convergence", "supports", "#000000", -0.15),
                                         ("earlier gap test", "gap test", GREY, 0.15)):
        left.errorbar(x + shift, null[column], yerr=2 * null[f"{column} MCSE"], marker="s", color=colour, capsize=2,
                      ls="none", label=label)
        right.errorbar(conv["closing"], conv[column], yerr=2 * conv[f"{column} MCSE"], marker="o", color=colour,
                       capsize=3, label=label)
    for ax in (left, right):
        ax.axhline(alpha, color=GREY, lw=0.8, ls="--")
    left.set_xticks(x, null["world"], rotation=60, ha="right", fontsize=6.5)
    left.set_ylabel("share of corpora")
    left.set_title("no convergence planted", fontsize=9)
    right.set_title("convergence planted", fontsize=9)
    right.set_xlabel("planted closing of the gap\n(share points per year)", fontsize=8)
    right.plot([], [], color=GREY, lw=0.8, ls="--", label=f"alpha = {alpha:g}")
    right.legend(frameon=False, fontsize=7.5, loc="upper left")
    left.set_ylim(-0.03, 1.03)
    fig.tight_layout()
    return _mark_simulated(fig)  # a simulation study: every point comes from simulated corpora


def year_histogram(firms: pd.DataFrame, simulated: bool = False):
    """Founding years by city (stacked counts).

    Parameters
    ----------
    firms : pandas.DataFrame
        The corpus's firms (``city``, ``founded_year``); those without a year are left out.
    simulated : bool
        Whether to stamp the figure "simulated data".

    Returns
    -------
    matplotlib.figure.Figure
        The histogram, open; when no firm has a founding year, a note saying so (not stamped).
    """
    setup()
    years = firms.dropna(subset=["founded_year"])
    fig, ax = plt.subplots(figsize=(6, 2.8))
    if years.empty:
        ax.text(0.5, 0.5, "no firm has a founding year", ha="center", va="center")
        ax.set_axis_off()
        return fig
    lo, hi = int(years["founded_year"].min()), int(years["founded_year"].max())
    bins = np.arange(lo, hi + 2) - 0.5
    data = [years.loc[years["city"] == c, "founded_year"].astype(int) for c in CITIES]
    ax.hist(data, bins=bins, stacked=True, color=[CITY_COLOURS[c] for c in CITIES], label=list(CITIES))
    ax.set_xlabel("founding year")
    ax.set_ylabel("firms")
    ax.xaxis.get_major_locator().set_params(integer=True)
    _city_legend(ax, fontsize=8)
    fig.tight_layout()
    return _mark_simulated(fig, simulated)


def close(fig) -> None:
    """Close a figure (``matplotlib.pyplot.close``) once it is shown or saved.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    """
    plt.close(fig)


__all__ = [
    "setup", "cjk_font_path", "tint", "city_wordcloud", "comparison_wordcloud", "keyness_bars",
    "policy_timeline", "cohort_figures", "gap_lines", "power_plot", "year_histogram",
]


#: decision -> colour of a specification in the curve (colour-blind safe; the legend names them)
DECISION_COLOURS = {"supports convergence": "#1b7837", "rules out convergence": "#762a83", "inconclusive": "#8c8c8c"}
#: the choices drawn beneath the curve, in order (the scale has one figure each)
CURVE_ROWS = ("time", "comparison", "text_fields", "coder", "outcome", "correction")
#: the curve's PNG resolution: its 700 marks make a heavy image, and the page has a weight budget
#: (1,008 px wide at 7.2 inches, still more than the column's 688 px)
CURVE_DPI = 140


def specification_curve(table: pd.DataFrame, scale: str, simulated: bool = False):
    """The specification curve of one scale: every computable specification's estimate with its
    interval, sorted, coloured by its decision, the primary one marked; beneath, which value of
    each choice it takes.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`analysis.method.specification_curve.CurveResult.table`.
    scale : str
        ``share`` or ``log-odds``: the specifications drawn.
    simulated : bool
        Whether to stamp the figure "simulated data".

    Returns
    -------
    matplotlib.figure.Figure
        Open, for the caller to close.
    """
    setup()
    part = table[(table["scale"] == scale) & table["estimate"].notna()].sort_values("estimate", kind="stable")
    values = [(c, v) for c in CURVE_ROWS for v in dict.fromkeys(table[c])]
    fig, (ax, mx) = plt.subplots(2, 1, figsize=(7.2, 6.4), sharex=True,
                                 gridspec_kw={"height_ratios": [1.1, 1.4], "hspace": 0.06})
    x = np.arange(len(part))
    colours = part["decision"].map(DECISION_COLOURS).fillna("#8c8c8c").to_numpy()
    ax.vlines(x, part["lo"], part["hi"], colors=colours, lw=0.6, alpha=0.55)
    ax.scatter(x, part["estimate"], c=colours, s=5, zorder=3)
    ax.axhline(0, color="#333333", lw=0.8)
    primary = np.flatnonzero(part["primary"].to_numpy())
    if len(primary):
        ax.scatter(x[primary], part["estimate"].iloc[primary], s=80, facecolors="none", edgecolors="#d95f02",
                   linewidths=1.6, zorder=4, label="primary specification")
    unit = part["unit"].iloc[0] if len(part) else ""
    ax.set_ylabel(f"closing of the gap\n({unit})", fontsize=8)
    handles = [Patch(color=c, label=d) for d, c in DECISION_COLOURS.items()]
    ax.legend(handles=handles + ax.get_legend_handles_labels()[0], frameon=False, fontsize=7, loc="upper left")
    for i, (choice, value) in enumerate(values):
        on = (part[choice] == value).to_numpy()
        mx.scatter(x[on], np.full(on.sum(), i), s=2.5, marker="s", color="#333333")
    mx.set_yticks(range(len(values)), [f"{c.replace('_', ' ')}: {_short(v)}" for c, v in values], fontsize=6)
    mx.set_ylim(len(values) - 0.5, -0.5)
    mx.set_xlabel(f"{len(part)} specifications, sorted by estimate", fontsize=8)
    mx.tick_params(axis="x", labelsize=7)
    fig.subplots_adjust(left=0.32, right=0.98, top=0.98, bottom=0.08)
    fig.set_dpi(CURVE_DPI)
    return _mark_simulated(fig, simulated)


def _short(value) -> str:
    """A choice's value shortened for a row label of the curve's matrix."""
    text = str(value).replace("Beijing − ", "vs ").replace("full_description", "full").replace("website_text", "web")
    return text if len(text) <= 30 else text[:29] + "…"
