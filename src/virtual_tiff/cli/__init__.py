"""The ``virtual-tiff`` command line: demo, info, build, preview, check.

Errors print one line naming the file, IFD and tag and exit with status 2;
``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from virtual_tiff import errors

#: What to do about each kind of refusal, printed after the one-line error.
HINTS: dict[type[Exception], str] = {
    errors.NotATIFFError: "is this url a TIFF?",
    errors.TruncatedTIFFError: "the file is cut short: copy or download it again",
    errors.MalformedTIFFError: "the file is damaged: re-export it (gdal_translate in.tif out.tif)",
    errors.UnsupportedTIFFError: "rewrite it with a supported codec: gdal_translate -co COMPRESS=DEFLATE in.tif out.tif",
    errors.SourceChangedError: "the source changed since the store was built: build it again",
    errors.SourceReadError: "check the url, the AWS_* credentials and --endpoint / --anonymous",
}


def _hint(exc: Exception) -> str:
    for kind in type(exc).__mro__:
        if kind in HINTS:
            return f" ({HINTS[kind]})"
    return ""


def _storage_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", help="S3-compatible endpoint url, e.g. http://127.0.0.1:9000")
    parser.add_argument("--anonymous", action="store_true", help="unsigned requests (public buckets)")


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="virtual-tiff", description=__doc__.splitlines()[0])
    main.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = main.add_subparsers(dest="command", required=True)

    commands.add_parser("demo", help="build and read a virtual store of the embedded sample COG").set_defaults(
        run="demo"
    )

    p = commands.add_parser("info", help="what is inside a TIFF, from its header alone")
    p.add_argument("url", help="local path or s3:// url")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _storage_options(p)
    p.set_defaults(run="info")

    p = commands.add_parser("build", help="write a virtual dataset of one or many TIFFs")
    p.add_argument("inputs", nargs="*", help="urls, paths, globs, or @file listing them")
    p.add_argument("--out", required=True, help="Icechunk repository folder, or kerchunk JSON / Parquet path")
    p.add_argument("--format", choices=["icechunk", "json", "parquet"], default="icechunk")
    p.add_argument("--stac", help="a STAC ItemCollection JSON file: assets as variables, datetimes as time")
    p.add_argument("--asset", action="append", help="a STAC asset key to include (repeatable; default: every TIFF)")
    p.add_argument("--group-by-grid", action="store_true", help="STAC assets on several grids: a group per grid")
    p.add_argument("--allow-local-hrefs", action="store_true",
                   help="let a remote STAC catalogue's items point at local files (refused by default)")
    p.add_argument("--concat-dim", default="time", help="dimension to stack files along (default: time)")
    p.add_argument("--time-from-name", metavar="REGEX",
                   help="the time coordinate from each file name: REGEX's first group (or match) as a date, "
                        r"e.g. '_(\d{8})T' for Sentinel-2 names")
    p.add_argument("--ifd", type=int, default=0, help="the IFD of each file to stack (default: 0)")
    p.add_argument("--checksum", choices=["etag", "last_modified"], default="etag")
    p.add_argument("--max-concurrency", type=int, default=64, help="header reads in flight (default: 64)")
    p.add_argument("--skip-failed", action="store_true", help="leave out files that fail, and list them")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    _storage_options(p)
    p.set_defaults(run="build")

    p = commands.add_parser("preview", help="render a PNG quick look from the coarsest suitable overview")
    p.add_argument("url")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--size", type=int, default=512, help="minimum longer side in pixels (default: 512)")
    _storage_options(p)
    p.set_defaults(run="preview")

    p = commands.add_parser("check", help="verify a published store's sources against their recorded ETags")
    p.add_argument("store", help="Icechunk repository folder, or kerchunk JSON / Parquet")
    _storage_options(p)
    p.set_defaults(run="check")
    return main


def _quiet_icechunk() -> None:
    """Icechunk logs operational warnings to stderr; a command line should print only its own lines."""
    try:
        import icechunk
    except ImportError:
        return
    icechunk.set_logs_filter("error")


def _command(args: argparse.Namespace) -> int:
    """Run the chosen command, loading only its module: ``--help`` and errors in the arguments
    cost no import of xarray, zarr or VirtualiZarr."""
    return importlib.import_module(f"virtual_tiff.cli.{args.run}").run(args)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command in ("build", "check"):
        _quiet_icechunk()
    if args.debug:
        return _command(args)
    try:
        return _command(args)
    except KeyboardInterrupt:
        print("virtual-tiff: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line for people; --debug for the traceback
        line = f"virtual-tiff: error: {type(exc).__name__}: {exc}".splitlines()[0]
        print(line + _hint(exc), file=sys.stderr)
        return 2


def entry() -> None:
    """The console script: run, flush, and leave without interpreter teardown.

    obstore 0.12 can abort the process (SIGABRT, exit 134) while Python shuts
    down after an async read, on a loaded machine (reproduced with obstore and
    ``asyncio.run`` alone, without virtual-tiff). A command's exit status must
    be its own, so the command exits as soon as its output is flushed.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
