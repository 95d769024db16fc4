"""The virtual-tiff command line: demo, info, build, preview, check.

Errors print one line naming the file, IFD and tag and exit with status 2;
``--debug`` shows the traceback instead. Output into a closed pipe
(``virtual-tiff info x.tif | head``) ends the command quietly, as it ends any
Unix tool.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from virtual_tiff import errors
from virtual_tiff._version import __version__

#: What to do about each kind of refusal, printed after the one-line error.
HINTS: dict[type[Exception], str] = {
    errors.NotATIFFError: "is this url a TIFF?",
    errors.TruncatedTIFFError: "the file is cut short: copy or download it again",
    errors.MalformedTIFFError: "the file is damaged: re-export it (gdal_translate in.tif out.tif)",
    errors.UnsupportedTIFFError: "rewrite it with a supported codec: gdal_translate -co COMPRESS=DEFLATE in.tif out.tif",
    errors.SourceChangedError: "the source changed since the store was built: build it again",
    errors.SourceNotFoundError: "no object at this url: check its spelling, bucket and --endpoint",
    errors.SourceReadError: "check the url, the AWS_* variables (AWS_ENDPOINT_URL, AWS_ALLOW_HTTP, credentials) "
    "and --endpoint / --anonymous",
}

#: The MixedGridsError remedy said as this command line says it (its own message names Python keywords).
GRIDS_REMEDY = "build with --group-by-grid: one group per grid"

#: The exit status of a command whose reader closed the pipe (128 + SIGPIPE, as the shell reports it).
BROKEN_PIPE = 141

STORAGE_HELP = """\
Storage: local paths or s3:// urls. S3 is configured from the environment as
obstore reads it (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
AWS_ENDPOINT_URL, AWS_ALLOW_HTTP, AWS_SKIP_SIGNATURE, ...); --endpoint and
--anonymous override it."""

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("build and read a virtual store of the embedded sample COG", """\
examples:
  virtual-tiff demo           reads the sample's header (1 GET), opens the store
                              with xarray and compares the pixels with GDAL's"""),
    "info": ("what is inside a TIFF, from its header alone", """\
examples:
  virtual-tiff info scene.tif
  virtual-tiff info s3://bucket/scene.tif --json | jq '.ifds[0].crs'
  AWS_ENDPOINT_URL=http://127.0.0.1:9000 AWS_ALLOW_HTTP=true virtual-tiff info s3://bucket/scene.tif"""),
    "build": ("write a virtual dataset of one or many TIFFs", """\
One file becomes a DataTree of all its levels; several become one dataset
stacked along --concat-dim; a STAC ItemCollection (--stac) a datacube with one
variable per asset and time from the items' datetimes. --format icechunk (the
default) writes an Icechunk repository folder whose every reference carries
its source's checksum (--checksum etag, or last_modified); --format json or
parquet writes kerchunk references (Zarr v2) that fsspec opens without
virtual-tiff. Progress (files/s, bytes fetched, ETA) goes to stderr on a
terminal; --quiet silences it.

examples:
  virtual-tiff build scene.tif --out scene.icechunk
  virtual-tiff build "scenes/*.tif" --out stack.icechunk
  virtual-tiff build "s3://bucket/scenes/2024-*.tif" --out stack.json --format json
  virtual-tiff build @urls.txt --out stack.parq --format parquet --skip-failed
  virtual-tiff build S2B_*.tif --out cube.icechunk --time-from-name '_(\\d{8}T\\d{6})_'
  virtual-tiff build utm32/*.tif utm33/*.tif --out zones.icechunk --group-by-grid
  virtual-tiff build --stac items.json --asset B04 --asset B08 --out cube.icechunk"""),
    "preview": ("render a PNG quick look from the coarsest suitable overview", """\
It reads the coarsest level at least --size pixels on its longer side
(percentile stretch, palette applied, RGB for 3 bands, mask as transparency).

examples:
  virtual-tiff preview scene.tif --out preview.png
  virtual-tiff preview s3://bucket/scene.tif --out preview.png --size 1024"""),
    "check": ("verify a published store's sources against their recorded ETags", """\
Each source is UNCHANGED, CHANGED (other ETag, size or modification time),
MISSING (no such object any more) or UNREADABLE (the check itself failed:
credentials, endpoint, network). Exit status: 0 all unchanged, 1 some changed,
3 some missing, 4 some unreadable (the worst one wins), 2 an error.

examples:
  virtual-tiff check stack.icechunk
  virtual-tiff check refs.json && echo "sources unchanged"
  virtual-tiff check s3refs.parq --endpoint http://127.0.0.1:9000"""),
}


def _hint(exc: Exception) -> str:
    for kind in type(exc).__mro__:
        if kind in HINTS:
            return f" ({HINTS[kind]})"
    return ""


def message(exc: Exception) -> str:
    """The one line printed for a failed command: the error, said for this command line, and a hint."""
    if isinstance(exc, errors.MixedGridsError):
        exc = errors.VirtualTIFFError(f"{exc.detail}; {GRIDS_REMEDY}", url=exc.url, ifd=exc.ifd, tag=exc.tag)
        return f"virtual-tiff: error: MixedGridsError: {exc}".splitlines()[0]
    return f"virtual-tiff: error: {type(exc).__name__}: {exc}".splitlines()[0] + _hint(exc)


def _command(commands, name: str) -> argparse.ArgumentParser:
    summary, epilog = COMMANDS[name]
    storage = "" if name == "demo" else f"\n\n{STORAGE_HELP}"
    parser = commands.add_parser(name, help=summary, description=f"{summary[0].upper()}{summary[1:]}.",
                                 epilog=epilog + storage, formatter_class=argparse.RawDescriptionHelpFormatter)
    # also after the command (virtual-tiff info x.tif --debug); SUPPRESS keeps a --debug given before it
    parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    return parser


def _storage_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoint", help="S3-compatible endpoint url, e.g. http://127.0.0.1:9000 "
                                           "(default: AWS_ENDPOINT_URL)")
    parser.add_argument("--anonymous", action="store_true", help="unsigned requests (public buckets)")


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="virtual-tiff", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="TIFF, GeoTIFF and COG files as virtual Zarr stores, without copying pixels.",
        epilog="examples:\n  virtual-tiff demo\n  virtual-tiff info scene.tif\n"
               "  virtual-tiff build \"scenes/*.tif\" --out stack.icechunk\n  virtual-tiff check stack.icechunk\n\n"
               "virtual-tiff COMMAND --help shows each command's options and examples.",
    )
    main.add_argument("--version", action="version", version=f"virtual-tiff {__version__}")
    main.add_argument("--debug", action="store_true", help="show tracebacks")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _command(commands, "demo").set_defaults(run="demo")

    p = _command(commands, "info")
    p.add_argument("url", help="local path or s3:// url")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    _storage_options(p)
    p.set_defaults(run="info")

    p = _command(commands, "build")
    p.add_argument("inputs", nargs="*", help="urls, paths, globs (local or s3://), or @file listing them")
    p.add_argument("--out", required=True, help="Icechunk repository folder, or kerchunk JSON / Parquet path")
    p.add_argument("--format", choices=["icechunk", "json", "parquet"], default="icechunk",
                   help="icechunk (default): a repository with a checksum per source; json / parquet: "
                        "kerchunk references")
    p.add_argument("--stac", help="a STAC ItemCollection JSON file: assets as variables, datetimes as time")
    p.add_argument("--asset", action="append", help="a STAC asset key to include (repeatable; default: every TIFF)")
    p.add_argument("--group-by-grid", action="store_true",
                   help="files or STAC assets on several grids (CRS or pixel size): a group per grid")
    p.add_argument("--allow-local-hrefs", action="store_true",
                   help="let a remote STAC catalogue's items point at local files (refused by default)")
    p.add_argument("--concat-dim", default="time", help="dimension to stack files along (default: time)")
    p.add_argument("--time-from-name", metavar="REGEX",
                   help="the time coordinate from each file name: REGEX's first group (or match) as a date, "
                        r"e.g. '_(\d{8})T' for Sentinel-2 names")
    p.add_argument("--ifd", type=int, default=0, help="the IFD of each file to stack (default: 0)")
    p.add_argument("--checksum", choices=["etag", "last_modified"], default="etag",
                   help="what Icechunk compares before serving a source's bytes (default: etag; "
                        "local files always use last_modified)")
    p.add_argument("--max-concurrency", type=int, default=64, help="header reads in flight (default: 64)")
    p.add_argument("--skip-failed", action="store_true", help="leave out files that fail, and list them")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    _storage_options(p)
    p.set_defaults(run="build")

    p = _command(commands, "preview")
    p.add_argument("url", help="local path or s3:// url")
    p.add_argument("--out", required=True, help="PNG file to write")
    p.add_argument("--size", type=int, default=512, help="minimum longer side in pixels (default: 512)")
    _storage_options(p)
    p.set_defaults(run="preview")

    p = _command(commands, "check")
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


def _reader_gone() -> int:
    """The pipe's reader left (``| head``): drop what is still buffered, quietly, as Unix tools do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return BROKEN_PIPE


def _run(args: argparse.Namespace) -> int:
    """Run the chosen command, loading only its module: ``--help``, ``--version`` and errors in
    the arguments cost no import of xarray, zarr or VirtualiZarr."""
    return importlib.import_module(f"virtual_tiff.cli.{args.run}").run(args)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command in ("build", "check"):
        _quiet_icechunk()
    try:
        if args.debug:
            code = _run(args)
        else:
            try:
                code = _run(args)
            except KeyboardInterrupt:
                print("virtual-tiff: interrupted", file=sys.stderr)
                return 130
            except BrokenPipeError:
                raise
            except Exception as exc:  # one clear line for people; --debug for the traceback
                print(message(exc), file=sys.stderr)
                return 2
        sys.stdout.flush()  # inside the try: a full pipe may refuse the last buffered lines
        return code
    except BrokenPipeError:
        return _reader_gone()


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
