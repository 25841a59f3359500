"""Figures (presentation layer): word clouds, keyness bars, the policy timeline, cohort plots.

Every figure takes tables computed elsewhere and returns a matplotlib Figure; nothing here
computes a statistic.  One palette (``palette.py``); a CJK font shipped on PyPI (``mplfonts``'
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

from .palette import CITIES, CITY_COLOURS
from .text import with_gloss

GREY = "#8a8a8a"


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """Noto Sans CJK SC (SIL Open Font License), shipped inside the ``mplfonts`` wheel."""
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
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 11,
        "axes.labelsize": 10,
        "svg.hashsalt": "analysis",
    })


def city_legend(ax, cities=CITIES, **kwargs):
    handles = [Patch(color=CITY_COLOURS[c], label=c) for c in cities]
    return ax.legend(handles=handles, frameon=False, **kwargs)


# ----------------------------------------------------------------------------- word clouds
def _cloud(frequencies: dict[str, float], colour_of, seed: int, width: int, height: int):
    from wordcloud import WordCloud

    cloud = WordCloud(
        width=width, height=height, background_color="white", font_path=str(cjk_font_path()),
        random_state=seed, prefer_horizontal=0.9, max_words=len(frequencies) or 1,
        relative_scaling=0.5, min_font_size=8,
    )
    # Chinese terms carry their English gloss (data/zh_glosses.csv): "钱包 (wallet)"
    shown = {with_gloss(k): k for k in frequencies}
    cloud.generate_from_frequencies({with_gloss(k): float(v) for k, v in frequencies.items() if v > 0})
    cloud.recolor(color_func=lambda word, **_: colour_of(shown.get(word, word)), random_state=seed)
    return cloud


def city_wordcloud(frequencies: dict[str, float], city: str, seed: int = 1, title: str | None = None):
    """One city's cloud in its colour (terms sized by their weight, e.g. keyness or frequency)."""
    setup()
    fig, ax = plt.subplots(figsize=(7, 3.6))
    if frequencies:
        cloud = _cloud(frequencies, lambda _w: CITY_COLOURS[city], seed, 900, 460)
        ax.imshow(cloud.to_array(), interpolation="bilinear")
    else:
        ax.text(0.5, 0.5, "no term is key for this city", ha="center", va="center")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def comparison_wordcloud(weights: pd.DataFrame, seed: int = 1):
    """Figure 1 rebuilt: ``weights`` has columns term, city, weight (the term's keyness for the
    city it is most key for); each term coloured by that city, with a legend."""
    setup()
    colour = dict(zip(weights["term"], weights["city"].map(CITY_COLOURS)))
    fig, ax = plt.subplots(figsize=(8, 4.6))
    if len(weights):
        cloud = _cloud(dict(zip(weights["term"], weights["weight"])), lambda w: colour[w], seed, 1000, 520)
        ax.imshow(cloud.to_array(), interpolation="bilinear")
    ax.set_axis_off()
    city_legend(ax, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=3)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- keyness
def keyness_bars(table: pd.DataFrame, city: str, n: int = 12, reference: str = "other two cities"):
    """Like quanteda's textplot_keyness: the ``n`` most over-used terms of the target (city
    colour) and the ``n`` most under-used ones (grey), by signed statistic."""
    setup()
    top = table.nlargest(n, "statistic")
    top = top[top["statistic"] > 0]
    bottom = table.nsmallest(n, "statistic")
    bottom = bottom[bottom["statistic"] < 0]
    shown = pd.concat([top, bottom.iloc[::-1]])
    fig, ax = plt.subplots(figsize=(6.4, 0.26 * max(len(shown), 4) + 1.0))
    y = np.arange(len(shown))[::-1]
    colours = [CITY_COLOURS[city] if s > 0 else GREY for s in shown["statistic"]]
    ax.barh(y, shown["statistic"], color=colours)
    ax.set_yticks(y, [with_gloss(t) for t in shown["feature"]])
    ax.axvline(0, color="black", lw=0.6)
    ax.set_xlabel("signed chi-squared keyness")
    ax.legend(handles=[Patch(color=CITY_COLOURS[city], label=f"over-used in {city}"),
                       Patch(color=GREY, label=f"over-used in the {reference}")],
              frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2, fontsize=8)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- context
LANES = ["central", "Beijing", "Shanghai", "Shenzhen", "other"]
STANCE_STYLE = {"support": ("^", "#2a7f3f"), "restrict": ("v", "#b8322a"), "mixed": ("D", "#9a7b1c")}


def policy_timeline(events: pd.DataFrame, marks: dict[str, str]):
    """Events by level (central, the three cities, other) and stance; ``marks`` maps an ISO date
    to a short label drawn as a vertical line (the 2017 token-sale ban, 1024, the 2021 ban)."""
    setup()
    ev = events.copy()
    ev["when"] = pd.to_datetime(ev["date"].where(ev["date"].str.len() > 7, ev["date"] + "-15"))
    ev["lane"] = ev["level"].where(ev["level"].isin(LANES[:-1]), "other")
    fig, ax = plt.subplots(figsize=(8.2, 3.4))
    for stance, (marker, colour) in STANCE_STYLE.items():
        part = ev[ev["stance"] == stance]
        y = [len(LANES) - 1 - LANES.index(lane) for lane in part["lane"]]
        jitter = (part.groupby(["lane", "when"]).cumcount() * 0.12).to_numpy()
        ax.scatter(part["when"], np.array(y) + jitter, marker=marker, color=colour, s=38,
                   label=stance, zorder=3, edgecolor="white", linewidth=0.5)
    for i, (date, label) in enumerate(marks.items()):
        when = pd.Timestamp(date)
        ax.axvline(when, color="#555555", lw=0.8, ls="--", zorder=1)
        ax.text(when, len(LANES) - 0.35 + 0.0 * i, label, rotation=0, fontsize=7.5, ha="center",
                va="bottom", color="#333333")
    ax.set_yticks(range(len(LANES)), LANES[::-1])
    ax.set_ylim(-0.6, len(LANES) + 0.2)
    ax.set_xlabel("date of the document or event")
    ax.legend(frameon=False, loc="upper left", fontsize=8, bbox_to_anchor=(1.0, 0.9), title="stance",
              title_fontsize=8)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- convergence
def cohort_plot(table: pd.DataFrame, measure: str, ylabel: str, chance: float | None = None,
                ylim: tuple[float, float] | None = None):
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
    return fig


def power_plot(study: pd.DataFrame, alpha: float):
    """Rejection rate against the planted narrowing of the gap, one line per test, ±2 Monte
    Carlo standard errors; the national-drift scenario (no narrowing) as open squares."""
    setup()
    fig, ax = plt.subplots(figsize=(6.2, 3.4))
    colours = ["#000000", CITY_COLOURS["Shanghai"], CITY_COLOURS["Shenzhen"], GREY]
    for k, (comp, part) in enumerate(study.groupby("comparison", sort=False)):
        colour = colours[k % len(colours)]
        line = part[part["kind"] != "national drift"].sort_values("planted_effect")
        role = part["role"].iloc[0]
        ax.errorbar(100 * line["planted_effect"], line["rate"], yerr=2 * line["mcse"], marker="o", color=colour,
                    capsize=3, label=f"{comp}" + (" (old test)" if role == "old test" else ""))
        drift = part[part["kind"] == "national drift"]
        ax.errorbar(100 * drift["planted_effect"] + 0.3 * (k + 1), drift["rate"], yerr=2 * drift["mcse"], marker="s",
                    mfc="white", color=colour, capsize=3, ls="none")
    ax.plot([], [], marker="s", mfc="white", color=GREY, ls="none", label="national drift (no convergence)")
    ax.axhline(alpha, color=GREY, lw=0.8, ls="--", label=f"alpha = {alpha:g}")
    ax.set_xlabel("planted narrowing of the public-share gap (points per cohort)")
    ax.set_ylabel("rejection rate")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(frameon=False, fontsize=7.5, loc="upper left")
    fig.tight_layout()
    return fig


def year_histogram(firms: pd.DataFrame):
    """Founding years by city (stacked counts)."""
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
    city_legend(ax, fontsize=8)
    fig.tight_layout()
    return fig


def close(fig) -> None:
    plt.close(fig)


__all__ = [
    "setup", "cjk_font_path", "city_wordcloud", "comparison_wordcloud", "keyness_bars",
    "policy_timeline", "cohort_plot", "power_plot", "year_histogram",
]
