"""The edition as an archive expects it: metadata from ``CITATION.cff``, the RO-Crate of the
published site, and the check that a licensed corpus is not packaged.

``CITATION.cff`` is the one source of the edition's title, version, date, authors, licences and
references. From it come ``.zenodo.json`` (Zenodo's deposit metadata) and ``codemeta.json``
(CodeMeta 3.0), written by ``python -m analysis metadata --write`` (a test keeps the committed files
equal to what it writes), the version and date in every page's build stamp
(:func:`analysis.build.publication.build_stamp`), and the root of the RO-Crate that
``python -m analysis publish`` (``make publish``) writes into the published site
(:func:`write_ro_crate`): the chapters, the input files with their SHA-256, the tables and the
software versions of the Reproduce chapter's tables.

A build on a user's own export (not simulated) carries the export's text in ``firms.csv``, the firm
table and the downloadable notebooks; Crunchbase's terms forbid redistributing it.
:func:`publish_refusal` says why ``make publish`` will not package such a build unless the user
declares the corpus redistributable (``corpus_redistributable``) or withholds its texts
(``withhold_texts``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import yaml

from analysis.paths import ROOT

CITATION_FILE = ROOT / "CITATION.cff"
CHANGELOG_FILE = ROOT / "CHANGELOG.md"
#: the generated metadata files, at the repository's root
METADATA_FILES = (".zenodo.json", "codemeta.json")
RO_CRATE_FILE = "ro-crate-metadata.json"
#: what marks an address as not yet set by a publisher (also analysis.build.publication's buttons)
PLACEHOLDER_MARKS = ("PLACEHOLDER", "example.org", "example.com")
SPDX = "https://spdx.org/licenses/"


class _StringDates(yaml.SafeLoader):
    """YAML without the timestamp resolver: CFF dates stay strings (``2026-12-06``)."""


_StringDates.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}


def is_placeholder(url: str | None) -> bool:
    """Whether an address is empty or still a placeholder (``PLACEHOLDER``, ``example.org``).

    Parameters
    ----------
    url : str or None
        The address.

    Returns
    -------
    bool
        True for an empty address or one holding a mark of :data:`PLACEHOLDER_MARKS`.
    """
    return not url or any(mark in url for mark in PLACEHOLDER_MARKS)


def citation(path: Path = CITATION_FILE) -> dict[str, Any]:
    """``CITATION.cff`` as data, its dates as strings.

    Parameters
    ----------
    path : pathlib.Path
        The citation file.

    Returns
    -------
    dict
        The parsed file.
    """
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_StringDates)


def edition(path: Path = CITATION_FILE) -> dict[str, str]:
    """The edition's version and date, as ``CITATION.cff`` gives them.

    Parameters
    ----------
    path : pathlib.Path
        The citation file.

    Returns
    -------
    dict
        ``version`` and ``date`` (``date-released``, ISO 8601), as strings.
    """
    cff = citation(path)
    return {"version": str(cff["version"]), "date": str(cff["date-released"])}


def _author_name(author: dict) -> str:
    if "name" in author:
        return author["name"]
    return f"{author['family-names']}, {author.get('given-names', '')}".rstrip(", ")


def _reference_text(ref: dict) -> str:
    authors = "; ".join(_author_name(a) for a in ref.get("authors", []))
    where = ref.get("journal") or ref.get("publisher", {}).get("name", "")
    parts = [f"{authors} ({ref.get('year', 'n.d.')}). {ref['title']}.", f"{where}." if where else "",
             ref.get("url", "")]
    return " ".join(p for p in parts if p)


def zenodo(cff: dict) -> dict[str, Any]:
    """Zenodo's deposit metadata (``.zenodo.json``) from the citation file.

    Parameters
    ----------
    cff : dict
        :func:`citation`.

    Returns
    -------
    dict
        Title, version, publication date, upload type, description, creators, licence (Zenodo
        takes one: the code's; the other is named in ``notes``), keywords, references and, once
        the repository address is real, the repository as a related identifier.
    """
    licences = list(cff["license"]) if isinstance(cff["license"], list) else [cff["license"]]
    out: dict[str, Any] = {
        "title": cff["title"], "version": str(cff["version"]), "publication_date": str(cff["date-released"]),
        "upload_type": "software", "access_right": "open", "description": cff["abstract"].strip(),
        "creators": [{"name": _author_name(a)} for a in cff["authors"]],
        "license": licences[0], "keywords": list(cff.get("keywords", [])),
        "notes": (f"Licences: {', '.join(licences)} (code under {licences[0]}; text, figures and the "
                  f"project's own tables under {licences[-1]}). {cff['message'].strip()}"),
        "references": [_reference_text(r) for r in cff.get("references", [])],
    }
    repo = cff.get("repository-code")
    if not is_placeholder(repo):
        out["related_identifiers"] = [{"identifier": repo, "relation": "isSupplementTo", "scheme": "url"}]
    return out


def _person_or_body(author: dict) -> dict[str, str]:
    if "name" in author:
        return {"@type": "Organization", "name": author["name"]}
    return {"@type": "Person", "familyName": author["family-names"], "givenName": author.get("given-names", "")}


def codemeta(cff: dict, requirements: list[str] | None = None) -> dict[str, Any]:
    """CodeMeta 3.0 (``codemeta.json``) from the citation file.

    Parameters
    ----------
    cff : dict
        :func:`citation`.
    requirements : list of str, optional
        The package's dependencies (``pyproject.toml``'s ``project.dependencies``); None reads them.

    Returns
    -------
    dict
        A ``SoftwareSourceCode`` with name, description, version, date, authors, licences (SPDX
        addresses), keywords, language, requirements, the works cited and, once real, the repository.
    """
    if requirements is None:
        import tomllib

        requirements = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    licences = list(cff["license"]) if isinstance(cff["license"], list) else [cff["license"]]
    out: dict[str, Any] = {
        "@context": "https://w3id.org/codemeta/3.0", "@type": "SoftwareSourceCode",
        "name": cff["title"], "description": cff["abstract"].strip(), "version": str(cff["version"]),
        "datePublished": str(cff["date-released"]),
        "author": [_person_or_body(a) for a in cff["authors"]],
        "license": [SPDX + lic for lic in licences], "keywords": list(cff.get("keywords", [])),
        "programmingLanguage": "Python", "softwareRequirements": list(requirements),
        "citation": [{"@type": "CreativeWork", "name": r["title"], "url": r.get("url", ""),
                      "author": [_person_or_body(a) for a in r.get("authors", [])]}
                     for r in cff.get("references", [])],
    }
    repo = cff.get("repository-code")
    if not is_placeholder(repo):
        out["codeRepository"] = repo
    return out


def metadata_files(path: Path = CITATION_FILE) -> dict[str, str]:
    """The text of each generated metadata file, from the citation file.

    Parameters
    ----------
    path : pathlib.Path
        The citation file.

    Returns
    -------
    dict
        File name (:data:`METADATA_FILES`) -> its JSON text, indented, ending in a newline.
    """
    cff = citation(path)
    dump = lambda data: json.dumps(data, indent=2, ensure_ascii=False) + "\n"  # noqa: E731
    return {".zenodo.json": dump(zenodo(cff)), "codemeta.json": dump(codemeta(cff))}


def changelog_versions(path: Path = CHANGELOG_FILE) -> list[str]:
    """The versions ``CHANGELOG.md`` has an entry for (its ``## [X.Y.Z] - DATE`` headings).

    Parameters
    ----------
    path : pathlib.Path
        The changelog.

    Returns
    -------
    list of str
        The versions, in the file's order.
    """
    import re

    return re.findall(r"^## \[([^\]]+)\]", path.read_text(encoding="utf-8"), flags=re.M)


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis metadata [--write]``: print (or write) ``.zenodo.json`` and
    ``codemeta.json`` as ``CITATION.cff`` makes them.

    Parameters
    ----------
    argv : list of str or None
        The command-line arguments; None: ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0; 1 without ``--write`` when a committed file differs from its generated text.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m analysis metadata", description=main.__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write the files at the repository's root")
    args = parser.parse_args(argv)
    status = 0
    for name, text in metadata_files().items():
        path = ROOT / name
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if args.write and current != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {name}")
        elif current != text:
            print(f"{name} differs from CITATION.cff (run python -m analysis metadata --write)")
            status = 1
        else:
            print(f"{name} up to date")
    return status


# --------------------------------------------------------------------------- licensed corpora
class PublishRefused(RuntimeError):
    """``make publish`` will not package this build; the message says why and what to set."""


def corpus_is_licensed(corpus_path: str | Path | None) -> bool:
    """Whether a build's corpus is a user's own file that is not simulated (its text may be licensed).

    Parameters
    ----------
    corpus_path : str, pathlib.Path or None
        The ``corpus_path`` parameter; empty or None is the bundled simulated corpus.

    Returns
    -------
    bool
        False for the bundled corpus and for any corpus the loader finds simulated; True otherwise.

    Raises
    ------
    analysis.data.corpus.CorpusError
        If the file cannot be read as a corpus.
    """
    from analysis.paths import is_bundled

    if is_bundled(corpus_path):
        return False
    from analysis.data import corpus as corpus_io  # pandas: only for a user's file

    return not corpus_io.load(corpus_path).simulated


def publish_refusal(values: dict[str, Any], licensed: bool) -> str | None:
    """Why ``make publish`` must not package a build, or None when it may.

    Parameters
    ----------
    values : dict
        The build's checked parameters (``corpus_path``, ``withhold_texts``, ``corpus_redistributable``).
    licensed : bool
        :func:`corpus_is_licensed` of its corpus.

    Returns
    -------
    str or None
        The refusal, naming the file and the two parameters that lift it; None for a simulated
        corpus, a corpus declared redistributable, or a build that withholds the texts.
    """
    if not licensed or values.get("corpus_redistributable") or values.get("withhold_texts"):
        return None
    name = Path(str(values.get("corpus_path"))).name
    return (f"make publish refused: the corpus {name} is your own export, and this build puts its firm "
            "descriptions into firms.csv, the firm table and the downloadable notebooks. Crunchbase's terms "
            "forbid redistributing them, so no site archive, RO-Crate or Zenodo metadata is made. Either "
            "publish everything but the texts (-p withhold_texts=true) or, if you hold the right to "
            "redistribute this corpus, declare it (-p corpus_redistributable=true).")


# --------------------------------------------------------------------------- RO-Crate
def _sha256(path: Path) -> str:
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _file(crate, site: Path, path: Path, **properties: Any):
    """Add a file of the site as a data entity with its size and SHA-256."""
    rel = path.relative_to(site).as_posix()
    props = {"contentSize": str(path.stat().st_size), "sha256": _sha256(path), **properties}
    return crate.add_file(path, dest_path=rel, properties=props)


def _inputs(crate, site: Path, tables: Path) -> list:
    """The build's input files (the Reproduce chapter's ``input_hashes.csv``): the copy the site
    ships when there is one (found by its SHA-256), else a contextual entity with the hash."""
    from rocrate.model.contextentity import ContextEntity

    shipped = {}
    for path in sorted((site / "_downloads").rglob("*")) if (site / "_downloads").exists() else []:
        if path.is_file():
            shipped.setdefault(_sha256(path), path)
    out = []
    for row in _rows(tables / "input_hashes.csv"):
        props = {"name": row["file"], "description": "An input file of this build.", "sha256": row["sha256"],
                 "contentSize": row.get("bytes", "")}
        if row["sha256"] in shipped:
            out.append(_file(crate, site, shipped[row["sha256"]], **props))
        else:  # not in the site (a user's own file): described, not shipped
            props["description"] = "An input file of this build, not shipped in the site."
            out.append(crate.add(ContextEntity(crate, f"#input-{row['file']}", properties={"@type": "CreativeWork",
                                                                                           **props})))
    return out


def _software(crate, tables: Path) -> list:
    """The software of the Reproduce chapter's ``package_versions.csv``, as contextual entities."""
    from rocrate.model.contextentity import ContextEntity

    return [crate.add(ContextEntity(crate, f"#software-{row['package']}", properties={
        "@type": "SoftwareApplication", "name": row["package"], "softwareVersion": row["version"]}))
        for row in _rows(tables / "package_versions.csv")]


def _title(page: Path) -> str:
    import html
    import re

    match = re.search(r"<title>(.*?)</title>", page.read_text(encoding="utf-8"), flags=re.S)
    return html.unescape(match.group(1)).strip() if match else page.stem


def _root(crate, cff: dict) -> None:
    """The crate's root: the edition as ``CITATION.cff`` describes it."""
    from rocrate.model.contextentity import ContextEntity

    licences = list(cff["license"]) if isinstance(cff["license"], list) else [cff["license"]]
    root = crate.root_dataset
    root["name"] = cff["title"]
    root["description"] = cff["abstract"].strip()
    root["version"] = str(cff["version"])
    root["datePublished"] = str(cff["date-released"])
    root["license"] = [crate.add(ContextEntity(crate, SPDX + lic, properties={"@type": "CreativeWork", "name": lic}))
                       for lic in licences]
    root["author"] = [crate.add(ContextEntity(crate, f"#author-{i}", properties=_person_or_body(a)))
                      for i, a in enumerate(cff["authors"])]


def write_ro_crate(site: Path, path: Path = CITATION_FILE) -> Path:
    """Write :data:`RO_CRATE_FILE` into the published site (``make publish``): the edition
    (:func:`citation`), each chapter's page and notebook, the PDF, every table with its caption,
    the input files with their SHA-256 and the software versions of the Reproduce chapter's tables,
    joined by the build as a ``CreateAction``.

    Parameters
    ----------
    site : pathlib.Path
        The published site (``_build/html``), with its ``tables/`` folder.
    path : pathlib.Path
        The citation file.

    Returns
    -------
    pathlib.Path
        The metadata file written.
    """
    from rocrate.rocrate import ROCrate

    from analysis.present import catalogue

    site, tables = Path(site), Path(site) / "tables"
    crate = ROCrate()
    _root(crate, citation(path))
    parts = [_file(crate, site, page, name=_title(page), encodingFormat="text/html")
             for page in sorted((site / "book").glob("[0-9][0-9]_*.html"))]
    parts += [_file(crate, site, nb, name=f"{nb.stem} (notebook)", encodingFormat="application/x-ipynb+json")
              for nb in sorted((site / "_sources" / "book").glob("[0-9][0-9]_*.ipynb"))]
    if (site / "book.pdf").exists():
        parts.append(_file(crate, site, site / "book.pdf", name="The book as a PDF", encodingFormat="application/pdf"))
    results = [_file(crate, site, table, name=table.name, encodingFormat="text/csv",
                     description=(catalogue.get(table.stem).caption if catalogue.get(table.stem) else table.stem))
               for table in sorted(tables.glob("*.csv"))]
    inputs, software = _inputs(crate, site, tables), _software(crate, tables)
    action = crate.add_action(software[0] if software else None, identifier="#build", object=inputs, result=results,
                              properties={"name": "The build of this edition (python -m analysis publish)"})
    action["instrument"] = software
    crate.root_dataset["mentions"] = [action]
    crate.write(site)
    return site / RO_CRATE_FILE


def site_archive(site: Path, out_dir: Path, path: Path = CITATION_FILE) -> Path:
    """The published site as one zip (what a deposit uploads), named after the edition's version.

    Parameters
    ----------
    site : pathlib.Path
        The published site, its RO-Crate and PDF included.
    out_dir : pathlib.Path
        Where the archive goes (``_build``).
    path : pathlib.Path
        The citation file (for the version).

    Returns
    -------
    pathlib.Path
        ``out_dir/edition-VERSION-site.zip``.
    """
    import shutil

    base = Path(out_dir) / f"edition-{edition(path)['version']}-site"
    return Path(shutil.make_archive(str(base), "zip", root_dir=site))
