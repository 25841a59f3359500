"""Command line: ``python -m analysis {build,run,pdf,publish,simulate,validate,params,registry,collect,bench}``."""

from __future__ import annotations

import argparse
import sys


def _build_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--params", metavar="FILE", help="parameter file (default params/default.yml)")
    p.add_argument("-p", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one parameter; the value is YAML (repeatable)")
    p.add_argument("--jobs", type=int, default=None, help="chapters run in parallel (default: all cores)")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__)
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
    sub.add_parser("collect", help="fetch firms' website text into a snapshot (network)", add_help=False)
    bench = sub.add_parser("bench", help="benchmarks: build | text")
    bench.add_argument("what", choices=["build", "text"])
    if argv and argv[0] == "registry":
        from analysis.present.catalogue import main as registry_main

        return registry_main(argv[1:])
    if argv and argv[0] == "params":
        from analysis.params import main as params_main

        return params_main(argv[1:])
    if argv and argv[0] == "collect":
        from analysis.data.collect import main as collect_main

        return collect_main(argv[1:])
    if argv and argv[0] in ("simulate", "validate"):
        if argv[0] == "simulate":
            from analysis.data.simulate import main as simulate_main

            return simulate_main(argv[1:])
        from analysis.data.corpus import validate_main

        return validate_main(argv[1:])
    if len(argv) >= 2 and argv[0] == "bench":
        rest = argv[2:]
        if argv[1] == "text":  # python -m analysis bench text [--sizes ...]
            from analysis.build.bench_text import main as bench_text

            return bench_text(rest)
        if argv[1] == "build":
            from analysis.build.bench_build import main as bench_build

            return bench_build(rest)
    args = parser.parse_args(argv)

    from analysis.build.runner import BuildError, build, explain, site_is_published
    from analysis.build.pdf import PdfError, build_pdf
    from analysis.build.processes import Interrupted

    try:
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
            report = build(args.params, args.overrides, jobs=args.jobs, pdf_link=True)
            build_pdf(site=True)
            print(f"Open the book: {report.index} (PDF: _build/html/book.pdf)")
        elif args.command == "run":
            report = build(args.params, args.overrides, jobs=1, only=[args.chapter], sphinx=False)
            print(f"executed notebook: _build/executed/{args.chapter}.ipynb"
                  + (" (unchanged, not re-run)" if report.skipped else ""))
    except (BuildError, PdfError) as exc:
        text = str(exc)
        if "\n" in text:  # one problem per line
            text = "\n" + "\n".join("  " + ln if not ln.startswith(" ") else ln for ln in text.splitlines())
        print(f"build failed: {text}", file=sys.stderr)
        return 1
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
