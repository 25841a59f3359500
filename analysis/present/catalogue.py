"""The one registry of the book's tables and figures: name, caption, chapter.

Everything that lists or labels a table reads it from here: the captions chapters show
(:func:`analysis.present.tables.show`), the tables index of the site and the provenance file of
``_build/tables/`` (:func:`index_rows`, written by the runner), and the README's generated list
of tables and figures (:func:`readme_section`). The CSV of a table is ``NAME.csv``; which
corpus made it is recorded when a chapter writes it (``tables.save``).

This module imports nothing heavy, so the runner can read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from analysis.defaults import CITIES
from analysis.paths import ROOT


#: the function each chapter's code calls (``page = <module>.chapter(...)``), which makes its tables
#: and figures; a test checks that every chapter calls the function named here
CHAPTER_FUNCTIONS = {
    "01_introduction": "analysis.chapters.introduction.chapter", "02_context": "analysis.chapters.context.chapter",
    "03_data": "analysis.chapters.dataset.chapter", "04_beijing": "analysis.chapters.city.chapter",
    "05_shanghai": "analysis.chapters.city.chapter", "06_shenzhen": "analysis.chapters.city.chapter",
    "07_comparison": "analysis.chapters.comparison.chapter", "08_convergence": "analysis.chapters.convergence.chapter",
    "09_validation": "analysis.chapters.validation.chapter", "10_policy": "analysis.chapters.policy.chapter",
    "11_reproduce": "analysis.chapters.reproduction.chapter",
}


def program(chapter: str) -> str:
    """The program that makes a chapter's tables and figures: its file and its chapter function.

    Parameters
    ----------
    chapter : str
        The chapter's file stem, e.g. ``04_beijing``.

    Returns
    -------
    str
        ``book/NAME.py``, then the function of :data:`CHAPTER_FUNCTIONS` it calls.
    """
    return f"`book/{chapter}.py`, `{CHAPTER_FUNCTIONS[chapter]}`"


@dataclass(frozen=True)
class Entry:
    name: str      # file stem of the CSV and, as ``tbl-NAME``, the label of the shown table
    caption: str
    chapter: str   # chapter file stem, e.g. 04_beijing
    shown: bool = True  # False: written as CSV only (e.g. a long form of a shown table)

    @property
    def program(self) -> str:
        """The chapter file and chapter function that make this table (:func:`program`)."""
        return program(self.chapter)


def _city_tables() -> list[Entry]:
    out = []
    for i, city in enumerate(CITIES):
        chapter = f"0{4 + i}_{city.lower()}"
        low = city.lower()
        out += [
            Entry(f"keyness_{low}", f"The terms with the strongest evidence that {city}'s firms use "
                  "them more often than the other two cities' firms: how many firms use each term, the "
                  "log2 ratio of the two shares of firms, and the firm-level Fisher test's p and "
                  "Benjamini–Hochberg q, which decide what is key; then quanteda's token-level "
                  "chi-squared with its q, the token counts and the term's rank by chi-squared, kept "
                  "for comparison with the brief; sortable by any column.",
                  chapter),
            Entry(f"{low}_examples", f"Three firms of {city} chosen by a fixed rule as typical of the "
                  "city's coded profile (not by hand).", chapter),
        ]
    return out


TABLES: tuple[Entry, ...] = (
    Entry("policy_events", "Every dated policy document and event in data/policy_events.csv, with "
          "its level, actor, stance and source; sortable by any column.", "02_context"),
    Entry("policy_events_by_level", "Policy events by level of government and stance "
          "(counts of events).", "02_context"),
    Entry("policy_events_marked", "The events marked by dashed lines in the timeline.", "02_context"),
    Entry("published_counts", "Other published counts of blockchain firms per city, with what "
          "each counts; not comparable with one another or with the brief's.", "02_context"),
    Entry("firms_per_city", "Firms per city in this corpus beside the brief's counts.", "03_data"),
    Entry("text_coverage", "How much text the corpus has per city: description length and the "
          "share of firms with a full description, website text and Chinese text.", "03_data"),
    Entry("exclusions", "Rows of the input left out, with the reason.", "03_data"),
    Entry("firms", "Every firm of the corpus (searchable and sortable).", "03_data"),
    *(Entry(f"shares_{dim}", f"{title} by city: per cent of each city's firms in each category "
            "(firms the coder finds tied or cannot code are shown as such).", "07_comparison")
      for dim, title in (("application", "Blockchain application"), ("customer", "Type of customer base"),
                         ("geography", "Geography of customer base"), ("investor", "Investor portrait"))),
    *_city_tables(),
    Entry("table1", "Table 1 of the brief, rebuilt from this corpus: per city the most common "
          "category with its share of the city's firms, the business type read off the customer and "
          "geography codes, the firm count, the strongest key terms and the investor portrait.", "07_comparison"),
    Entry("table1_brief", "The brief's own Table 1, transcribed into data/brief_table1.csv.",
          "07_comparison"),
    Entry("table1_long", "Table 1 rebuilt, one row per cell, with the brief's value and the "
          "agreement score (yes, no, tie, or not tested).", "07_comparison"),
    Entry("brief_business_type_check", "The codebook's business-type table applied to the brief's own "
          "customer and geography cells, beside the brief's business-type cell.", "07_comparison"),
    Entry("figure1_terms", "The terms drawn in the rebuilt Figure 1, with the city each is "
          "assigned to, its log2 ratio (weight, its size in the cloud), the firm-level p and q and "
          "whether it survives the correction.", "07_comparison"),
    Entry("city_similarity", "Cosine similarity of the cities' tf-idf term profiles (1: the "
          "same proportions; 0: no shared term).", "07_comparison"),
    Entry("convergence_firms_per_cohort", "Firms per city and founding-year cohort.", "08_convergence"),
    Entry("convergence_by_cohort", "Each convergence measure per city and cohort, with "
          "bootstrap intervals.", "08_convergence"),
    Entry("convergence_trends", "The slope of each convergence measure per year of founding (share "
          "measures on every dated firm; text measures over the cohorts' middle years), with 95% "
          "bootstrap intervals.", "08_convergence"),
    Entry("convergence_gaps", "Beijing's value minus each other city's (and the two pooled), per "
          "measure and cohort, with bootstrap intervals.", "08_convergence", shown=False),
    Entry("convergence_decomposition", "How the gap to Beijing changed with founding year, split "
          "into Beijing's own change and the other cities' (share points per year with 95% "
          "bootstrap intervals, and whether the last cohort's gap overshot: “yes” when it has the other sign with an "
          "interval clear of zero, “crosses zero, within noise” when only its estimate has the other sign).",
          "08_convergence"),
    Entry("verdict", "The convergence verdict as data: one row per measure and comparison.",
          "08_convergence"),
    Entry("convergence_power", "Power of the rule for each share measure and comparison from the "
          "simulation study, with Monte Carlo standard errors: against full convergence, at the "
          "planted strength, the minimum detectable effect (share points per year), the exaggeration "
          "ratio and the firms needed for 80% power.", "08_convergence"),
    Entry("convergence_rates", "How often each decision is taken in simulated corpora of this "
          "corpus's design, world by world: the earlier gap test (slope over cohorts) beside the rule's two "
          "decisions, with Monte Carlo standard errors (primary measure and comparison).",
          "08_convergence"),
    Entry("convergence_power_by_size", "Power of the rule against full planted convergence with "
          "every city's firms multiplied, in this corpus's proportions and founding years.",
          "08_convergence"),
    Entry("convergence_corrected", "Shares per city and the gap's slope per year, as coded and corrected for "
          "the coder's error (Rogan–Gladen), with 95% bootstrap intervals.", "08_convergence"),
    Entry("convergence_power_misspecified", "Power and the rate with no change when the coder is worse than "
          "measured (the misspecified coder of analysis.method.coder_error) and the analysis corrects with the measured "
          "rates.", "08_convergence"),
    Entry("convergence_sensitivity", "The primary convergence decision again, changing one "
          "analytic choice at a time (cohort edges, text fields, coder).", "08_convergence"),
    Entry("specification_curve", "Every defensible specification of the convergence test, crossed: each choice "
          "(time resolution, comparison, scale, text fields, coder, outcome, correction for the coder's error), the "
          "estimate with its interval, p, Monte Carlo error and decision under the rule, or why it cannot be decided.",
          "08_convergence", shown=False),
    Entry("specification_curve_by_choice", "How the specifications of the curve decided, per value of each "
          "choice, with the median share-scale estimate.", "08_convergence"),
    Entry("specification_curve_test", "The joint test of all specifications: the median estimate and the share "
          "significant in the predicted direction, against founding years permuted within every city.",
          "08_convergence"),
    Entry("validation_power", "Every rate of the simulation study: per world, measure, "
          "comparison and decision (the rule's two, the earlier gap test, the retired level "
          "test, the text measures' tests), with Monte Carlo standard errors and exact intervals.",
          "09_validation", shown=False),
    Entry("validation_joint_test", "The specification curve's joint test on simulated corpora: how often its "
          "median-estimate and share-significant statistics reject (and both together) with no change planted and "
          "at each planted strength, with Monte Carlo standard errors and exact 95% intervals.", "09_validation"),
    Entry("validation_rates", "The rule beside the earlier gap test in every simulated world "
          "(primary measure and comparison): rates with Monte Carlo standard errors and the exact "
          "95% upper bound of the \"supports\" rate.", "09_validation"),
    Entry("validation_threats", "Worlds the cross-section cannot tell apart (pivots, relocation to "
          "Beijing, firm deaths, coder error growing with founding year; no convergence planted): "
          "how often each decision is taken, with Monte Carlo standard errors.", "09_validation"),
    Entry("validation_label_recovery", "How well the coders recover the simulator's planted "
          "labels (macro-F1 and accuracy).", "09_validation"),
    *(Entry(f"confusion_b_{dim}_dictionary", f"Confusion matrix of the dictionary coder on the "
            f"{dim} dimension, on corpora written with the second phrase bank.", "09_validation")
      for dim in ("application", "customer", "geography")),
    Entry("validation_power_summary", "Power and minimum detectable effect per convergence "
          "measure and comparison, summarised from the simulation study.", "09_validation",
          shown=False),
    Entry("validation_check_sets", "Both coders scored on the check sets (invented descriptions written and coded by "
          "language models from the codebook): accuracy and "
          "abstention per set, coder, evaluation, language and dimension.", "09_validation",
          shown=False),
    Entry("validation_check_set_kappa", "Agreement between the two language-model coders of each check set "
          "on its invented descriptions (Cohen's kappa and raw agreement; not the analysis coder's accuracy).", "09_validation"),
    Entry("validation_check_set_accuracy", "Accuracy of both coders against the adjudicated codes "
          "of the check sets, per set, coder and language; abstentions count as errors.",
          "09_validation"),
    Entry("validation_check_set_abstention", "How often the dictionary coder abstains on the check "
          "sets (no text, or a tie its rules cannot separate).", "09_validation"),
    *(Entry(f"confusion_{held}_{dim}_dictionary", f"Confusion matrix of the dictionary coder on the "
            f"{dim} dimension of the held-out check set {held} (rows: adjudicated code; columns: "
            "the coder's).", "09_validation")
      for held in ("check_set", "check_set_fresh") for dim in ("application", "customer", "geography")),
    Entry("validation_coder_error", "The coder's sensitivity and false-positive rate per share measure on "
          "the check sets, pooled and per language of the items (the counts the power study draws from).",
          "09_validation"),
    Entry("validation_this_corpus", "Both coders scored on this build's corpus.", "09_validation"),
    Entry("policy_evidence", "Per city, the shares of firms the brief's recommendations bear on: "
          "public-customer, crypto and mainly state-backed firms.", "10_policy"),
    Entry("policy_fragmentation", "Central measures by year: how many distinct issuing bodies "
          "acted, and how many measures were in force together.", "10_policy"),
    Entry("parameters", "Every parameter of the book: its type, default, the value this build used, "
          "its range and meaning, and the chapters that declare it.", "11_reproduce"),
    Entry("input_hashes", "SHA-256 of every input file of this build.", "11_reproduce"),
    Entry("package_versions", "Versions of the packages this build used.", "11_reproduce"),
    Entry("papermill_commands", "The shell command (papermill) that re-runs each chapter with this "
          "build's parameters, run from the repository root; the page shows each as a code block.",
          "11_reproduce", shown=False),
)

FIGURES: tuple[tuple[str, str, str], ...] = (
    ("fig-policy-timeline", "Blockchain and crypto policy events by level and stance", "02_context"),
    ("fig-years", "Firms by founding year and city", "03_data"),
    *((f"fig-{c.lower()}-keyness", f"The terms most over- and under-used in {c}", f"0{4 + i}_{c.lower()}")
      for i, c in enumerate(CITIES)),
    *((f"fig-{c.lower()}-cloud", f"{c}'s top key terms as a word cloud", f"0{4 + i}_{c.lower()}")
      for i, c in enumerate(CITIES)),
    ("fig-comparison-cloud", "Figure 1 of the brief, rebuilt: the comparison word cloud", "07_comparison"),
    ("fig-public-share", "Public-customer share by cohort", "08_convergence"),
    ("fig-infrastructure-share", "Infrastructure share by cohort", "08_convergence"),
    ("fig-cosine", "Cosine similarity to Beijing by cohort", "08_convergence"),
    ("fig-distinctiveness", "Distinctiveness of the cities by cohort", "08_convergence"),
    ("fig-curve-share", "The specification curve, share scale", "08_convergence"),
    ("fig-power", "How often the rule and the earlier gap test find convergence, world by world", "09_validation"),
)

_BY_NAME = {e.name: e for e in TABLES}
PROVENANCE_DIR = "_provenance"  # inside tables_dir: one small JSON per written table (the runner moves it)


def get(name: str) -> Entry | None:
    """The registry's entry of a table, or None when it has none.

    Parameters
    ----------
    name : str
        The table's name (its CSV's stem).

    Returns
    -------
    Entry or None
        Its entry in :data:`TABLES`; None for a name the registry does not know.
    """
    return _BY_NAME.get(name)


def caption(name: str) -> str:
    """A registered table's caption.

    Parameters
    ----------
    name : str
        The table's name.

    Returns
    -------
    str
        Its caption.

    Raises
    ------
    KeyError
        When the registry has no table of that name.
    """
    entry = get(name)
    if entry is None:
        raise KeyError(f"table {name!r} is not in analysis/present/catalogue.py; add it there with its caption")
    return entry.caption


def label(name: str) -> str:
    """The label of a shown table: ``tbl-NAME``, its underscores made hyphens.

    Parameters
    ----------
    name : str
        The table's name (not checked against the registry).

    Returns
    -------
    str
        The label: ``convergence_rates`` -> ``tbl-convergence-rates``.
    """
    return "tbl-" + name.replace("_", "-")


def record(tables_dir: str | Path, name: str, corpus_kind: str, corpus_file: str) -> None:
    """Note which corpus made ``tables_dir/NAME.csv`` (read back by :func:`index_rows`).

    Parameters
    ----------
    tables_dir : str or pathlib.Path
        The tables folder; the note goes to ``tables_dir/_provenance/NAME.json`` (written to a
        temporary file, then moved into place).
    name : str
        The table's name.
    corpus_kind, corpus_file : str
        Which corpus made the table, in words, and its file name
        (:func:`analysis.present.tables.corpus_kind`).
    """
    folder = Path(tables_dir) / PROVENANCE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.json.tmp"
    tmp.write_text(json.dumps({"corpus": corpus_kind, "corpus_file": corpus_file}), encoding="utf-8")
    tmp.replace(folder / f"{name}.json")


def index_rows(tables_dir: str | Path) -> list[dict]:
    """One row per CSV in ``tables_dir``: name, file, caption, chapter, corpus, corpus file.
    A CSV the registry does not know gets an empty caption (and is still listed).

    Parameters
    ----------
    tables_dir : str or pathlib.Path
        The tables folder.

    Returns
    -------
    list of dict
        One dict per CSV but ``PROVENANCE.csv``, by file name, with keys ``name``, ``file``,
        ``caption``, ``chapter``, ``corpus`` and ``corpus_file`` (corpus
        ``not recorded (no corpus read)`` when the CSV has no note).
    """
    folder = Path(tables_dir)
    rows = []
    for csv in sorted(folder.glob("*.csv")):
        name = csv.stem
        if name == "PROVENANCE":
            continue
        entry = get(name)
        prov_file = folder / PROVENANCE_DIR / f"{name}.json"
        prov = json.loads(prov_file.read_text(encoding="utf-8")) if prov_file.exists() else {}
        rows.append({
            "name": name, "file": csv.name, "caption": entry.caption if entry else "",
            "chapter": entry.chapter if entry else "",
            "corpus": prov.get("corpus", "not recorded (no corpus read)"),
            "corpus_file": prov.get("corpus_file", ""),
        })
    return rows


def readme_section() -> str:
    """The README's generated list of tables and figures (between its markers).

    Returns
    -------
    str
        Two markdown tables: every table of :data:`TABLES` (CSV, the program that makes it:
        chapter file and function, caption), then every figure of :data:`FIGURES` (label,
        program, title).
    """
    lines = ["| Table (CSV in `_build/tables/`) | Program (chapter, function) | Caption |", "| --- | --- | --- |"]
    for e in TABLES:
        lines.append(f"| `{e.name}.csv` | {e.program} | {e.caption} |")
    lines += ["", "| Figure | Program (chapter, function) | Title |", "| --- | --- | --- |"]
    for label_, title, chapter in FIGURES:
        lines.append(f"| {label_} | {program(chapter)} | {title} |")
    return "\n".join(lines) + "\n"


README_BEGIN = "<!-- tables-and-figures: generated by `python -m analysis registry`; do not edit -->"
README_END = "<!-- /tables-and-figures -->"


def write_readme(readme: str | Path) -> bool:
    """Put :func:`readme_section` between the README's markers (appended under a heading when
    the markers are missing). Returns whether the file changed.

    Parameters
    ----------
    readme : str or pathlib.Path
        The README file.

    Returns
    -------
    bool
        Whether the text changed (the file is written only then).
    """
    path = Path(readme)
    text = path.read_text(encoding="utf-8")
    block = f"{README_BEGIN}\n{readme_section()}{README_END}"
    if README_BEGIN in text and README_END in text:
        head, rest = text.split(README_BEGIN, 1)
        new = head + block + rest.split(README_END, 1)[1]
    else:
        new = text.rstrip("\n") + "\n\n## Tables and figures\n\n" + block + "\n"
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def index_html(rows: list[dict]) -> str:
    """The site's tables index: every CSV with its caption, chapter and the corpus that made it.

    Parameters
    ----------
    rows : list of dict
        :func:`index_rows`.

    Returns
    -------
    str
        A whole HTML page, every value taken from ``rows`` escaped.
    """
    import html

    def esc(x) -> str:
        return html.escape(str(x))

    body = "\n".join(
        f"<tr><td><a href=\"{esc(r['file'])}\"><code>{esc(r['file'])}</code></a></td>"
        f"<td>{esc(r['caption']) or '<em>no caption in the registry</em>'}</td>"
        f"<td><a href=\"../book/{esc(r['chapter'])}.html\">{esc(r['chapter'])}</a></td>"
        f"<td>{esc(r['corpus'])}{(' (' + esc(r['corpus_file']) + ')') if r['corpus_file'] else ''}</td></tr>"
        for r in rows)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        "<title>Tables of this build</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:72rem;margin:1.5rem auto;padding:0 1rem;"
        "color:#222;line-height:1.45}table{border-collapse:collapse;width:100%;display:block;"
        "overflow-x:auto}th,td{text-align:left;vertical-align:top;padding:.35rem .6rem;"
        "border-bottom:1px solid #ddd}th{background:#f3f3f3}a{color:#0b57a4}"
        "</style></head><body><main><h1>Tables of this build</h1>"
        "<p>Every table the book shows, as CSV, with its caption, the chapter that shows it and the "
        "corpus it was computed from. The same list is <a href=\"PROVENANCE.csv\"><code>"
        "PROVENANCE.csv</code></a>. <a href=\"../index.html\">Back to the book</a>.</p>"
        "<table><thead><tr><th scope=\"col\">CSV</th><th scope=\"col\">Caption</th>"
        "<th scope=\"col\">Chapter</th><th scope=\"col\">Corpus</th></tr></thead>"
        f"<tbody>\n{body}\n</tbody></table></main></body></html>\n")


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis registry [--write]``: print (or write into README.md) the list of
    tables and figures.

    Parameters
    ----------
    argv : list of str or None
        The command-line arguments; None: ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status, 0.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m analysis registry", description=main.__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="update README.md's generated section")
    args = parser.parse_args(argv)
    if args.write:
        changed = write_readme(ROOT / "README.md")
        print("wrote README.md" if changed else "README.md already up to date")
    else:
        print(readme_section(), end="")
    return 0
