"""One source for every default: the parameter schema, params/default.yml and the functions that
take a setting of the book all read analysis/defaults.py, so that a function called with its
defaults computes what a default build shows."""

from __future__ import annotations

import inspect

import pytest
import yaml

from analysis import defaults as D
from analysis import params
from analysis.chapters import city, comparison, context, convergence as convergence_chapter, dataset, policy
from analysis.chapters import validation as validation_chapter
from analysis.data import corpus
from analysis.method import coder_error, convergence, convergence_rule, validation
from analysis.paths import PARAMS_DIR
from analysis.present import tables
from analysis.text import classify, keyness, preprocess

#: the book's parameters and their defaults, as the schema must give them
BOOK = {"corpus_path": "", "website_snapshot": "", "text_fields": list(D.TEXT_FIELDS), "coder": "",
        "min_df": D.MIN_DF, "top_n": D.TOP_N, "keyness_adjust": D.KEYNESS_ADJUST, "seed": D.DEFAULT_SEED,
        "cohort_edges": list(D.COHORT_EDGES), "n_subsamples": D.N_SUBSAMPLES, "n_boot": D.N_BOOT,
        "n_perm": D.N_PERM, "n_perm_shares": D.N_PERM_SHARES, "n_perm_joint": D.N_PERM_JOINT, "alpha": D.ALPHA,
        "equivalence_margin": D.EQUIVALENCE_MARGIN, "replicates": D.REPLICATES,
        "text_replicates": D.TEXT_REPLICATES, "withhold_texts": D.WITHHOLD_TEXTS,
        "corpus_redistributable": D.CORPUS_REDISTRIBUTABLE}

#: a function's parameter name -> the book parameter it stands for
SAME_AS = {"margin": "equivalence_margin", "adjust": "keyness_adjust"}
#: parameters named like a book parameter that are another setting: the convergence analysis's
#: vocabulary floor for its text measures is its own (2), not the key terms' ``min_df``
NOT_THE_BOOKS = {("analyse", "min_df")}


def test_the_schema_and_the_default_parameter_file_give_the_package_defaults():
    assert {n: params.FIELDS[n].default for n in BOOK} == BOOK
    shipped = yaml.safe_load((PARAMS_DIR / "default.yml").read_text(encoding="utf-8"))
    assert shipped == BOOK  # a key left out would take the schema's default, which is the same


def _expected(name: str):
    value = BOOK[SAME_AS.get(name, name)]
    return tuple(value) if isinstance(value, list) else value


@pytest.mark.parametrize("function", [
    convergence.analyse, convergence.sensitivity, convergence_rule.decide, validation.simulation_study,
    validation.design_power, validation.label_recovery, coder_error.for_corpus, coder_error.check_set_error,
    coder_error.check_set_rates, classify.code_with, classify.code_firms, preprocess.firm_texts, keyness.keyness,
    tables.code, tables.city_keyness_tables, tables.coder_checks, city.chapter, comparison.chapter,
    convergence_chapter.chapter, validation_chapter.chapter, policy.chapter,
], ids=lambda f: f"{f.__module__}.{f.__qualname__}")
def test_every_function_defaults_to_the_book_settings(function):
    checked = 0
    for name, parameter in inspect.signature(function).parameters.items():
        book_name = SAME_AS.get(name, name)
        if (book_name not in BOOK or parameter.default is inspect.Parameter.empty
                or (function.__name__, name) in NOT_THE_BOOKS):
            continue
        default = parameter.default
        if name == "coder" and default in (None, ""):
            default = ""  # empty means the package default: CODER
        if name == "coder" and default == D.CODER:
            default = ""
        if name == "n_perm" and function is convergence_rule.decide:
            assert default == D.N_PERM_SHARES  # the rule's permutations are the share measures'
            checked += 1
            continue
        want = _expected(name)
        got = tuple(default) if isinstance(default, (list, tuple)) else default
        assert got == want, f"{function.__qualname__}({name}={default!r}) but the book's default is {want!r}"
        checked += 1
    assert checked, "no book setting among its parameters: the list above is wrong"


@pytest.mark.book
def test_the_chapter_functions_with_their_defaults_write_the_default_build_tables(built_book, tmp_path):
    repo, _ = built_book
    built = repo / "_build" / "tables"
    for run in (lambda out: city.chapter("Shenzhen", tables_dir=out), lambda out: comparison.chapter(tables_dir=out),
                lambda out: dataset.chapter(tables_dir=out), lambda out: context.chapter(tables_dir=out)):
        run(str(tmp_path))
    written = sorted(p.name for p in tmp_path.glob("*.csv"))
    assert len(written) >= 20
    differ = [name for name in written if (tmp_path / name).read_bytes() != (built / name).read_bytes()]
    assert differ == []


@pytest.mark.book
def test_the_analysis_with_its_defaults_gives_the_default_build_estimates(built_book, tmp_path):
    """convergence.analyse called on the bundled corpus with nothing but the firms: the same
    cohort table, gaps and trends as the convergence page of a default build."""
    repo, _ = built_book
    built = repo / "_build" / "tables"
    result = convergence.analyse(corpus.load("").firms)
    for table, name in ((result.cohort_table, "convergence_by_cohort"), (result.gap_table, "convergence_gaps"),
                        (result.trend_table, "convergence_trends"), (result.n_per_cohort,
                                                                     "convergence_firms_per_cohort")):
        tables.save(table, name, str(tmp_path))
        assert (tmp_path / f"{name}.csv").read_bytes() == (built / f"{name}.csv").read_bytes(), name
