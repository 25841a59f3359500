"""Command line: ``python -m analysis {build,run,pdf,publish,simulate,validate,params,registry,metadata,collect,bench}``.

Each command imports the modules it needs when it runs (deliberately, inside the functions
below): ``python -m analysis params`` should not pay for the runner, Sphinx or pandas."""

from __future__ import annotations

import argparse
import importlib
import sys

#: commands that parse their own arguments: their first words -> (module, function) that runs them
_SELF_PARSING = {
    ("registry",): ("analysis.present.catalogue", "main"),
    ("params",): ("analysis.params", "main"),
    ("metadata",): ("analysis.build.edition", "main"),
    ("collect",): ("analysis.data.collect", "main"),
    ("simulate",): ("analysis.data.simulate", "main"),
    ("validate",): ("analysis.data.corpus", "validate_main"),
    ("bench", "text"): ("analysis.build.bench_text", "main"),  # python -m analysis bench text [--sizes ...]
    ("bench", "build"): ("analysis.build.bench_build", "main"),
    ("bench", "scale"): ("analysis.build.bench_scale", "main"),  # in-process vs a local Dask cluster
}


def _build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--params", metavar="FILE", help="parameter file (default params/default.yml)")
    p.add_argument("-p", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one parameter; the value is YAML (repeatable)")
    p.add_argument("--jobs", type=int, default=None, help="chapters run in parallel (default: all cores)")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                   help="run the power study and the specification curve on this Dask scheduler (sets "
                        "DASK_SCHEDULER_ADDRESS for the chapters; the tables are the same either way)")


def _parser() -> argparse.ArgumentParser:
    """The parser of every command; those of :data:`_SELF_PARSING` are listed only (for --help)."""
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build_parser = sub.add_parser("build", help="execute the chapters and build the site")
    _build_args(build_parser)
    build_parser.add_argument("--explain", action="store_true",
                              help="say per chapter whether the build would run it and why; run nothing")
    _build_args(sub.add_parser("pdf", help="the whole book as one PDF (_build/pdf/book.pdf), from the last "
                                           "build's site (built first if there is none)"))
    _build_args(sub.add_parser("publish", help="the edition: site (linking the PDF) and PDF"))
    run = sub.add_parser("run", help="execute one chapter into _build/executed/")
    run.add_argument("chapter", help="chapter name, e.g. 03_data")
    _build_args(run)
    sub.add_parser("simulate", help="generate a simulated corpus", add_help=False)
    sub.add_parser("validate", help="check a corpus file and print the exclusion report", add_help=False)
    sub.add_parser("params", help="the parameter table; --write regenerates chapter cells", add_help=False)
    sub.add_parser("registry", help="the list of tables and figures; --write updates README.md",
                   add_help=False)
    sub.add_parser("metadata", help=".zenodo.json and codemeta.json from CITATION.cff; --write writes them",
                   add_help=False)
    sub.add_parser("collect", help="fetch firms' website text into a snapshot (network)", add_help=False)
    bench = sub.add_parser("bench", help="benchmarks: build | text | scale")
    bench.add_argument("what", choices=["build", "text", "scale"])
    return parser


def _self_parsing(argv: list[str]):
    """The main function of a command that parses its own arguments and the arguments to hand
    it, or None for a command of this parser."""
    for words, (module, function) in _SELF_PARSING.items():
        if tuple(argv[:len(words)]) == words:
            return getattr(importlib.import_module(module), function), argv[len(words):]
    return None


def _run(args: argparse.Namespace) -> None:
    """Carry out build (or explain it), pdf, publish or run."""
    from analysis.build.runner import build, explain, site_is_published
    from analysis.build.pdf import build_pdf

    if args.command == "build" and args.explain:
        for name, why in explain(args.params, args.overrides):
            print(f"{name:<18} {why}")
    elif args.command == "build":
        report = build(args.params, args.overrides, jobs=args.jobs)
        print(f"Open the book: {report.index}")
    elif args.command == "pdf":
        if not site_is_published():  # no site yet, or it changed: build it (the PDF is its twin)
            build(args.params, args.overrides, jobs=args.jobs)
        build_pdf(site=False)
    elif args.command == "publish":
        _publish(args)
    elif args.command == "run":
        report = build(args.params, args.overrides, jobs=1, only=[args.chapter], sphinx=False)
        print(f"executed notebook: _build/executed/{args.chapter}.ipynb"
              + (" (unchanged, not re-run)" if report.skipped else ""))


def _publish(args: argparse.Namespace) -> None:
    """The edition: refused first for a licensed corpus (:func:`analysis.build.edition.publish_refusal`),
    then the site linking the PDF, the PDF, the RO-Crate in the site and the site's archive."""
    from analysis.build import edition
    from analysis.build.runner import build, load_parameters
    from analysis.build.pdf import build_pdf
    from analysis.paths import BUILD_DIR
    from analysis.params import ParameterError, validate
    from analysis.data.corpus import CorpusError

    try:
        values = validate(load_parameters(args.params, args.overrides))
        refusal = edition.publish_refusal(values, edition.corpus_is_licensed(values["corpus_path"]))
    except (ParameterError, CorpusError):
        refusal = None  # a bad parameter or corpus: the build says what is wrong
    if refusal:
        raise edition.PublishRefused(refusal)
    report = build(args.params, args.overrides, jobs=args.jobs, pdf_link=True)
    build_pdf(site=True)
    site = report.index.parent
    crate = edition.write_ro_crate(site)
    archive = edition.site_archive(site, BUILD_DIR)
    print(f"Open the book: {report.index} (PDF: {site / 'book.pdf'}; RO-Crate: {crate}; archive: {archive})")


def _use_scheduler(address: str) -> int:
    """Name the Dask scheduler ``address`` to the chapters this process runs (their kernels inherit
    its environment; no cache key holds it: the tables do not depend on where they are computed),
    after checking that it answers. The exit status: 0, or 1 when it cannot be reached."""
    import os

    from analysis.method.parallel import SCHEDULER_ENV, ClusterError, check_scheduler

    try:
        check_scheduler(address)
    except ClusterError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    os.environ[SCHEDULER_ENV] = address
    return 0


def _build_failed(exc: Exception) -> int:
    """Report a failed build or PDF on standard error; the exit status."""
    text = str(exc)
    if "\n" in text:  # one problem per line
        text = "\n" + "\n".join("  " + ln if not ln.startswith(" ") else ln for ln in text.splitlines())
    print(f"build failed: {text}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    """Run one command of ``python -m analysis`` (see the module's docstring and ``--help``).

    Parameters
    ----------
    argv : list of str or None
        The arguments after ``python -m analysis``; None for ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit status: 0 when done, 1 when the build or PDF failed, 2 when ``publish`` refused a
        licensed corpus, 128 + the signal's number
        when a signal stopped the build, 130 on Ctrl-C; a self-parsing command's own status.

    Raises
    ------
    SystemExit
        From argparse, for ``--help`` and for arguments it cannot parse.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    delegated = _self_parsing(argv)
    if delegated is not None:
        command_main, rest = delegated
        return command_main(rest)
    args = parser.parse_args(argv)
    if getattr(args, "scheduler", None) and (status := _use_scheduler(args.scheduler)):
        return status

    from analysis.build.runner import BuildError
    from analysis.build.pdf import PdfError
    from analysis.build.processes import Interrupted
    from analysis.build.edition import PublishRefused

    try:
        _run(args)
    except PublishRefused as exc:
        print(exc, file=sys.stderr)
        return 2
    except (BuildError, PdfError) as exc:
        return _build_failed(exc)
    except Interrupted as exc:
        print(f"interrupted ({exc}): every chapter stopped, nothing published; the previous site "
              f"is unchanged", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt:
        print("interrupted; the previous site is unchanged", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
