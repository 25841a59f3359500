"""The book's parameters: one typed schema (pydantic), and everything generated from it.

Each parameter is declared once, in :class:`Parameters`: its type, its range, a one-line
description, its default and the chapters that receive it.  From that one declaration come

* the check the runner applies to ``--params``, ``-p`` and ``-y`` values before any kernel starts
  (:func:`validate`, one message per bad parameter);
* the check each chapter runs in the cell after its parameters cell, so a chapter run with plain
  papermill is checked the same way (:func:`check`);
* each chapter's ``parameters`` cell (a type annotation and a one-line comment per parameter, so
  ``papermill --help-notebook`` describes every one) and the README's parameter table, both
  written by ``python -m analysis params --write`` (:func:`parameters_cell`, :func:`markdown_table`);
  a test fails when a chapter or the README drifts from the schema.

Adding a parameter is one edit here (a field with ``param(...)``), then ``python -m analysis params
--write`` to regenerate the cells and the table.
"""

from __future__ import annotations

import re
import typing
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from analysis import defaults as D
from analysis.paths import ROOT

#: the chapters, in book order (names fixed by DESIGN §3)
CHAPTERS = ("01_introduction", "02_context", "03_data", "04_beijing", "05_shanghai", "06_shenzhen",
            "07_comparison", "08_convergence", "09_validation", "10_policy", "11_reproduce")
#: text columns of the canonical corpus (analysis.data.corpus.TEXT_COLUMNS; a test keeps them equal)
TEXT_COLUMNS = ("description", "full_description", "website_text")
#: parameters the runner fills in itself; a parameter file may not set them
RUNNER_PARAMS = ("tables_dir",)
#: first line of a generated parameters cell; what the drift test and the writer look for
GENERATED_NOTE = "# Generated from analysis/params.py (python -m analysis params --write); edit there."


class ParameterError(ValueError):
    """Bad parameter values: one line per bad parameter."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("bad parameter(s):\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------- value coercion
def as_list(value: Any, *, name: str = "parameter") -> list:
    """Accept a list, or a YAML string holding one (``"[2014, 2018, 2023]"``), or a
    comma-separated string (``"description,full_description"``).

    papermill's ``-y`` passes real lists; ``-p`` passes strings; both work.

    Parameters
    ----------
    value : list, tuple, str or None
        The value given; None or an empty string is the empty list.
    name : str
        The parameter's name, for the error message.

    Returns
    -------
    list
        The items: a list or tuple as a list, a YAML list as parsed, a comma-separated string
        split at the commas (parts stripped, empty ones dropped), anything else as one item.

    Raises
    ------
    TypeError
        If ``value`` is none of a list, a tuple, a string or None.
    """
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text == "":
            return []
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError:
            parsed = text
        if isinstance(parsed, list):
            return parsed
        if isinstance(parsed, str) and "," in parsed:
            return [part.strip() for part in parsed.split(",") if part.strip()]
        return [parsed]
    raise TypeError(f"{name}: expected a list or a YAML string, got {type(value).__name__}")


def _listed(value: Any) -> Any:
    try:
        return as_list(value)
    except TypeError:
        return value  # pydantic then says "Input should be a valid list"


def _not_bool(value: Any) -> Any:
    # YAML `true` is not a count or a probability (pydantic's lax mode would read it as 1)
    if isinstance(value, bool):
        raise ValueError("expected a number, got true/false")
    return value


def _strictly_increasing(values: list[int]) -> list[int]:
    if any(b <= a for a, b in zip(values, values[1:])):
        raise ValueError(f"expected strictly increasing years, got {values}")
    return values


def _unique(values: list) -> list:
    if len(set(values)) != len(values):
        raise ValueError(f"expected each field once, got {values}")
    return values


Int = Annotated[int, BeforeValidator(_not_bool)]
Float = Annotated[float, BeforeValidator(_not_bool)]
Year = Annotated[Int, Field(ge=1900, le=2100)]
TextField = Literal[TEXT_COLUMNS]  # type: ignore[valid-type]


def param(default: Any, description: str, chapters: tuple[str, ...], **constraints: Any) -> Any:
    """One parameter: its default, a one-line description, the chapters that declare it, and
    its range (pydantic ``Field`` constraints such as ``ge``, ``gt``, ``min_length``).

    Parameters
    ----------
    default : Any
        The default value.
    description : str
        One line saying what the parameter means (no ``=``, no line break).
    chapters : tuple of str
        The chapters that declare it, names from :data:`CHAPTERS`.
    **constraints : Any
        pydantic ``Field`` constraints (``ge``, ``gt``, ``min_length``, ...).

    Returns
    -------
    pydantic.fields.FieldInfo
        The field, with the chapters in its ``json_schema_extra``.

    Raises
    ------
    ValueError
        If a chapter is unknown, or the description holds ``=`` or a line break.
    """
    unknown = set(chapters) - set(CHAPTERS)
    if unknown:
        raise ValueError(f"param: unknown chapter(s) {sorted(unknown)}")
    if "=" in description or "\n" in description:  # papermill skips a parameter line with a second '='
        raise ValueError(f"param: the description may not contain '=' or a line break: {description!r}")
    return Field(default, description=description, json_schema_extra={"chapters": list(chapters)},
                 **constraints)


_TEXT = CHAPTERS[3:]  # chapters that read text: 04_beijing onwards
_COHORTS = ("08_convergence", "09_validation", "10_policy", "11_reproduce")
_VERDICT = ("01_introduction",)  # the introduction states the convergence verdict too


# --------------------------------------------------------------------------- the schema
class Parameters(BaseModel):
    """Every parameter of the book (field order is the order of the cells and the README table)."""

    model_config = ConfigDict(extra="forbid", validate_default=True, frozen=True)

    corpus_path: Annotated[str, Field(strict=True)] = param(
        "", "CSV of firms (canonical or Crunchbase export); empty: the bundled simulated corpus",
        ("01_introduction", "03_data", *_TEXT))
    website_snapshot: Annotated[str, Field(strict=True)] = param(
        "", "website text collected by python -m analysis collect (its DIR or DIR/website_text.csv); "
        "empty: none", ("01_introduction", "03_data", *_TEXT))
    tables_dir: Annotated[str, Field(strict=True)] = param(
        "", "folder for the tables as CSV; filled in by the runner, empty: none written",
        CHAPTERS[1:])
    text_fields: Annotated[list[TextField], BeforeValidator(_listed), AfterValidator(_unique),
                           Field(min_length=1)] = param(
        list(D.TEXT_FIELDS),
        f"text columns analysed, joined (any of {', '.join(TEXT_COLUMNS)})", (*_VERDICT, *_TEXT))
    coder: Literal["", "dictionary", "supervised"] = param(
        "", "business-model coder of Table 1 and the convergence measures: dictionary or supervised; "
            "empty: the package default (analysis.defaults.CODER)",
        ("01_introduction", "04_beijing", "05_shanghai", "06_shenzhen", "07_comparison", "08_convergence",
         "09_validation", "10_policy", "11_reproduce"))
    min_df: Int = param(D.MIN_DF, "keep terms used by at least this many firms (at least 1)",
                        ("04_beijing", "05_shanghai", "06_shenzhen", "07_comparison", "11_reproduce"),
                        ge=1)
    top_n: Int = param(D.TOP_N, "key terms shown per city (at least 1)",
                       ("04_beijing", "05_shanghai", "06_shenzhen", "11_reproduce"), ge=1)
    keyness_adjust: Literal["bh", "none"] = param(
        D.KEYNESS_ADJUST, "multiplicity correction of the keyness p-values: bh (Benjamini-Hochberg q) or none",
        ("04_beijing", "05_shanghai", "06_shenzhen", "07_comparison", "11_reproduce"))
    seed: Int = param(D.DEFAULT_SEED, "seed every random step derives from (an integer, 0 or more)", (*_VERDICT, *_TEXT), ge=0)
    cohort_edges: Annotated[list[Year], BeforeValidator(_listed), AfterValidator(_strictly_increasing),
                            Field(min_length=2)] = param(
        list(D.COHORT_EDGES), "founding-year bin edges, half-open, strictly increasing years",
        (*_VERDICT, *_COHORTS))
    n_subsamples: Int = param(D.N_SUBSAMPLES, "equal-size subsamples per cohort for distinctiveness (at least 1)",
                              (*_VERDICT, "08_convergence", "09_validation", "10_policy", "11_reproduce"), ge=1)
    n_boot: Int = param(D.N_BOOT, "bootstrap draws per cohort (0 or more; 0: no intervals)",
                        (*_VERDICT, "08_convergence", "10_policy", "11_reproduce"), ge=0)
    n_perm: Int = param(D.N_PERM, "permutations for the text-measure trend tests and for each simulated corpus of the "
                        "power study, at most 200 there (0 or more; 0: no test)", (*_VERDICT, *_COHORTS), ge=0)
    n_perm_shares: Int = param(D.N_PERM_SHARES, "permutations for the share measures' decision rule, the primary "
                               "decision included (0 or more; 0: no test)", (*_VERDICT, "08_convergence", "10_policy", "11_reproduce"), ge=0)
    n_perm_joint: Int = param(D.N_PERM_JOINT, "joint permutations of the specification curve: every specification "
                              "on the same shuffles of founding years (0 or more; 0: no test)",
                              ("08_convergence", "11_reproduce"), ge=0)
    alpha: Float = param(D.ALPHA, "significance level of the tests, in (0, 1)", (*_VERDICT, *_COHORTS), gt=0, lt=1)
    equivalence_margin: Float = param(
        D.EQUIVALENCE_MARGIN, "share points per year below which the others' move towards Beijing counts as no convergence "
        "(the rule's equivalence test; more than 0)", (*_VERDICT, *_COHORTS), gt=0)
    replicates: Int = param(D.REPLICATES, "simulated corpora per world of the power study, label level (at least 1; "
                            "400 or more keep every rate's Monte Carlo SE at or below 0.025)",
                            (*_VERDICT, "08_convergence", "09_validation", "10_policy", "11_reproduce"), ge=1)
    text_replicates: Int = param(D.TEXT_REPLICATES, "full-text simulated corpora per scenario for the text measures in the "
                                 "power study (0 or more)", (*_VERDICT, "08_convergence", "09_validation", "10_policy", "11_reproduce"), ge=0)
    withhold_texts: Annotated[bool, Field(strict=True)] = param(
        D.WITHHOLD_TEXTS, "leave the corpus's raw texts out: the firm table and the typical firms without descriptions "
        "(true or false)", ("03_data", "04_beijing", "05_shanghai", "06_shenzhen", "11_reproduce"))
    corpus_redistributable: Annotated[bool, Field(strict=True)] = param(
        D.CORPUS_REDISTRIBUTABLE, "you declare that your corpus's texts may be redistributed; make publish packages "
        "a build on your own export only then or with withhold_texts (true or false)", ("11_reproduce",))


FIELDS = Parameters.model_fields


def user_names() -> list[str]:
    """Parameters a parameter file or ``-p`` may set.

    Returns
    -------
    list of str
        Every parameter's name but the runner's own (:data:`RUNNER_PARAMS`), in schema order.
    """
    return [n for n in FIELDS if n not in RUNNER_PARAMS]


def _chapters_of(name: str) -> list[str]:
    return list(FIELDS[name].json_schema_extra["chapters"])  # type: ignore[index]


def declared_by(chapter: str) -> list[str]:
    """The parameters a chapter declares, in schema order.

    Parameters
    ----------
    chapter : str
        A chapter's name, such as ``"08_convergence"``.

    Returns
    -------
    list of str
        The names of the parameters declared by ``chapter`` (empty for an unknown chapter).
    """
    return [n for n in FIELDS if chapter in _chapters_of(n)]


def defaults() -> dict[str, Any]:
    """Every parameter's default.

    Returns
    -------
    dict
        Parameter name -> default value, in schema order, runner parameters included.
    """
    return Parameters().model_dump()


def description(name: str) -> str:
    """A parameter's one-line description.

    Parameters
    ----------
    name : str
        The parameter's name.

    Returns
    -------
    str
        Its description (empty if it has none).

    Raises
    ------
    KeyError
        If ``name`` is not a parameter.
    """
    return FIELDS[name].description or ""


def type_name(name: str) -> str:
    """The annotation written into a parameters cell: ``str``, ``int``, ``float``, ``list[int]``.

    Parameters
    ----------
    name : str
        The parameter's name.

    Returns
    -------
    str
        The type with its constraints stripped; a ``Literal`` is the type of its first value.

    Raises
    ------
    KeyError
        If ``name`` is not a parameter.
    """

    def simple(tp) -> str:
        while typing.get_origin(tp) is Annotated:
            tp = typing.get_args(tp)[0]
        origin = typing.get_origin(tp)
        if origin is list:
            return f"list[{simple(typing.get_args(tp)[0])}]"
        if origin is Literal:
            return type(typing.get_args(tp)[0]).__name__
        return tp.__name__

    return simple(FIELDS[name].annotation if not FIELDS[name].metadata else
                  Annotated[(FIELDS[name].annotation, *FIELDS[name].metadata)])


# --------------------------------------------------------------------------- checking
def yaml_text(value: Any) -> str:
    """A value as one line of flow-style YAML, as a parameter file or ``-y`` takes it:
    ``''`` for an empty string, ``[2014, 2017]`` for a list.

    Parameters
    ----------
    value : Any
        A value YAML can represent.

    Returns
    -------
    str
        The value as flow-style YAML on one line, without a document-end marker.
    """
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=2**31 - 1).strip()
    return text.removesuffix("...").strip()


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _shown(value: Any) -> str:
    return _clip(yaml_text(value))


def _problems(error: ValidationError, given: dict[str, Any]) -> list[str]:
    by_name: dict[str, list[str]] = {}
    for err in error.errors():
        loc = err["loc"]
        name = str(loc[0]) if loc else "?"
        where = "".join(f"[{i}]" for i in loc[1:] if not isinstance(i, str) or not i.startswith("function"))
        msg = err["msg"].removeprefix("Value error, ")
        by_name.setdefault(name, []).append(f"{name}{where}: {msg}" if where else msg)
    out = []
    for name, msgs in by_name.items():
        if name not in FIELDS:
            out.append(f"{name}: unknown parameter; valid: {', '.join(user_names())}")
            continue
        out.append(f"{name}={_shown(given.get(name))}: {'; '.join(dict.fromkeys(msgs))} "
                   f"({description(name)})")
    return out


def validate(values: dict[str, Any]) -> dict[str, Any]:
    """Check parameter values against the schema; return them complete (defaults filled in)
    and normalised (lists as lists).

    Parameters
    ----------
    values : dict
        Parameter name -> value, for any subset of the parameters.

    Returns
    -------
    dict
        Every parameter's value, in schema order: the checked values and the defaults of the rest.

    Raises
    ------
    ParameterError
        If a value is out of its type or range, or a name is unknown; one line per bad parameter.
    """
    try:
        return Parameters(**values).model_dump()
    except ValidationError as exc:
        raise ParameterError(_problems(exc, values)) from None


def check(chapter: str, **values: Any) -> dict[str, Any]:
    """What a chapter's check cell calls: validate the values of its declared parameters and
    return them normalised (the cell puts them back into the notebook's namespace).

    Parameters
    ----------
    chapter : str
        The chapter's name (the check does not depend on it).
    **values : Any
        The chapter's parameters, name=value.

    Returns
    -------
    dict
        The given parameters only, name -> normalised value.

    Raises
    ------
    ParameterError
        If a name is not a parameter, or a value is out of its type or range.
    """
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ParameterError([f"{n}: unknown parameter; valid: {', '.join(user_names())}"
                              for n in unknown])
    checked = validate(values)
    return {k: checked[k] for k in values}


# --------------------------------------------------------------------------- generated text
def _literal(value: Any) -> str:
    return repr(value).replace("'", '"')


def parameters_cell(chapter: str) -> str:
    """The source of a chapter's ``parameters`` cell, from the schema.

    Parameters
    ----------
    chapter : str
        The chapter's name.

    Returns
    -------
    str
        :data:`GENERATED_NOTE`, then one line ``name: type = default  # description`` per
        parameter the chapter declares.
    """
    lines = [GENERATED_NOTE]
    for n in declared_by(chapter):
        lines.append(f"{n}: {type_name(n)} = {_literal(FIELDS[n].default)}  # {description(n)}")
    return "\n".join(lines)


def _check_cell(chapter: str) -> str:
    """The source of the cell right after the parameters cell (and papermill's injected one)."""
    args = ", ".join(f"{n}={n}" for n in declared_by(chapter))
    return (f"{GENERATED_NOTE}\nfrom analysis.params import check as _check_parameters\n\n"
            f"parameters = _check_parameters(\"{chapter}\", {args})\nglobals().update(parameters)")


def table_rows() -> list[dict[str, str]]:
    """One row per parameter a user may set, in schema order: ``parameter``, ``type``,
    ``default`` (flow YAML), ``meaning`` (range and meaning) and ``chapters`` (their numbers, or
    ``all``). The README's table and the Reproduce chapter's table both come from here.

    Returns
    -------
    list of dict
        One ``{column: text}`` per parameter, columns as above.
    """
    rows = []
    for n in user_names():
        chapters = _chapters_of(n)
        shown = "all" if len(chapters) == len(CHAPTERS) else ", ".join(c[:2] for c in chapters)
        rows.append({"parameter": n, "type": type_name(n), "default": yaml_text(FIELDS[n].default),
                     "meaning": description(n), "chapters": shown})
    return rows


def markdown_table() -> str:
    """The README's parameter table, from :func:`table_rows`.

    Returns
    -------
    str
        A Markdown table, one row per parameter a user may set (long defaults clipped).
    """
    rows = ["| parameter | type | default | range and meaning | chapters |", "|---|---|---|---|---|"]
    for r in table_rows():
        rows.append(f"| `{r['parameter']}` | `{r['type']}` | `{_clip(r['default'])}` | {r['meaning']} "
                    f"| {r['chapters']} |")
    return "\n".join(rows)


README_START = "<!-- parameters table: generated from analysis/params.py, do not edit -->"
README_END = "<!-- end of parameters table -->"
_CELL = re.compile(r'^# %% tags=\["parameters".*?(?=^# %%)', re.S | re.M)
_CHECK = re.compile(r'^# %% tags=\["remove-cell"\]\n' + re.escape(GENERATED_NOTE) + r".*?(?=^# %%)",
                    re.S | re.M)


def _generated_cells(chapter: str) -> str:
    return (f'# %% tags=["parameters", "hide-input"]\n{parameters_cell(chapter)}\n\n'
            f'# %% tags=["remove-cell"]\n{_check_cell(chapter)}\n\n')


def _chapter_text(chapter: str, text: str) -> str:
    """A chapter's py:percent text with its parameters cell and check cell as the schema makes them."""
    match = _CELL.search(text)
    if match is None:
        raise ValueError(f"{chapter}: no cell tagged 'parameters'")
    end = match.end()
    following = _CHECK.match(text, end)
    if following:
        end = following.end()
    return text[:match.start()] + _generated_cells(chapter) + text[end:]


def _readme_text(text: str) -> str:
    """README text with the generated parameter table between its markers (added at the end if absent)."""
    block = f"{README_START}\n{markdown_table()}\n{README_END}"
    if README_START in text and README_END in text:
        head, rest = text.split(README_START, 1)
        return head + block + rest.split(README_END, 1)[1]
    return text.rstrip("\n") + "\n\n## Parameters\n\n" + block + "\n"


def generated_files(root) -> dict:
    """{path: text as the schema makes it} for every chapter's .py and the README.

    Parameters
    ----------
    root : str or pathlib.Path
        The repository root (holding ``book/`` and ``README.md``).

    Returns
    -------
    dict
        Path -> its full text with the generated parts as the schema makes them, for each
        chapter's ``.py`` and the README that exist.

    Raises
    ------
    ValueError
        If a chapter's ``.py`` has no cell tagged ``parameters``.
    """
    from pathlib import Path

    root = Path(root)
    out: dict = {}
    for chapter in CHAPTERS:
        py = root / "book" / f"{chapter}.py"
        if py.exists():
            out[py] = _chapter_text(chapter, py.read_text(encoding="utf-8"))
    readme = root / "README.md"
    if readme.exists():
        out[readme] = _readme_text(readme.read_text(encoding="utf-8"))
    return out


def drift(root) -> list[str]:
    """Files whose generated parts differ from the schema (the .ipynb of each pair is held to
    its .py by tests/test_pairs.py).

    Parameters
    ----------
    root : str or pathlib.Path
        The repository root.

    Returns
    -------
    list of str
        The paths, sorted, of the files that :func:`write` would change.
    """
    return sorted(str(p) for p, text in generated_files(root).items()
                  if p.read_text(encoding="utf-8") != text)


def write(root) -> list:
    """Regenerate: each chapter's .py, its paired .ipynb (cell ids of unchanged cells kept), the README.

    Parameters
    ----------
    root : str or pathlib.Path
        The repository root.

    Returns
    -------
    list of pathlib.Path
        The files written (only those that changed), each ``.py`` followed by its ``.ipynb``.
    """
    from pathlib import Path

    import jupytext
    from jupytext.combine import combine_inputs_with_outputs

    written = []
    for path, text in generated_files(root).items():
        if path.read_text(encoding="utf-8") == text:
            continue
        path.write_text(text, encoding="utf-8")
        written.append(path)
        if path.suffix == ".py":
            ipynb = Path(path).with_suffix(".ipynb")
            nb = jupytext.reads(text, fmt="py:percent")
            if ipynb.exists():
                nb = combine_inputs_with_outputs(nb, jupytext.read(ipynb), fmt="py:percent")
            jupytext.write(nb, ipynb)
            written.append(ipynb)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis params [--write | --check]``: the parameter table, or regenerate.

    Parameters
    ----------
    argv : list of str, optional
        The command's arguments; None reads ``sys.argv``.

    Returns
    -------
    int
        The exit status: 1 if ``--check`` finds a drifted file, else 0.
    """
    import argparse
    from pathlib import Path

    p = argparse.ArgumentParser(prog="python -m analysis params", description=main.__doc__.split("\n\n")[0])
    p.add_argument("--write", action="store_true",
                   help="regenerate the chapters' parameters cells and the README table")
    p.add_argument("--check", action="store_true", help="exit 1 if a chapter or the README drifted")
    args = p.parse_args(argv)
    if args.write:
        for path in write(ROOT):
            print(f"wrote {Path(path).relative_to(ROOT)}")
        return 0
    if args.check:
        stale = drift(ROOT)
        for path in stale:
            print(f"out of date: {path} (run python -m analysis params --write)")
        return 1 if stale else 0
    print(markdown_table())
    return 0
