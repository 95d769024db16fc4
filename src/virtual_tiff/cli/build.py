"""``virtual-tiff build URL... --out PATH``: a virtual dataset of one or many TIFFs, published.

One input becomes a DataTree of all its levels; several become one dataset
stacked along ``--concat-dim``; a STAC ItemCollection becomes a datacube with
one variable per asset and its items' datetimes as time (a DataTree with one
group per grid with ``--group-by-grid``). Icechunk (default) gets a checksum per source; kerchunk
references (JSON or Parquet) keep the recorded sources in their attributes.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from obspec_utils.wrappers import RequestTrace

from virtual_tiff.errors import VirtualTIFFError
from virtual_tiff.io import S3Settings, normalise_url, registry_for, s3_settings


def expand_inputs(inputs: list[str]) -> list[str]:
    """Urls from arguments: urls, local paths, local globs, and ``@list.txt`` files of them."""
    urls: list[str] = []
    for item in inputs:
        if item.startswith("@"):
            lines = Path(item[1:]).read_text().splitlines()
            urls += expand_inputs([line.strip() for line in lines if line.strip() and not line.startswith("#")])
        elif "://" not in item and any(c in item for c in "*?["):
            matches = sorted(glob.glob(item))
            if not matches:
                raise VirtualTIFFError(f"the pattern {item!r} matches no file")
            urls += [normalise_url(m) for m in matches]
        else:
            urls.append(normalise_url(item))
    return urls


def stac_hrefs(path: str, assets: list[str] | None, allow_local: bool = False) -> list[str]:
    """The urls a STAC ItemCollection (or Item) JSON file points at, for the registry and Icechunk."""
    from virtual_tiff.stacks import asset_table, item_dicts

    table = asset_table(item_dicts(path), assets, allow_local=allow_local)
    return sorted({asset.url for row in table for asset in row})


class Progress:
    """One status line on stderr (files, requests, bytes): redrawn on a terminal, once at the end otherwise."""

    def __init__(self, quiet: bool, trace: RequestTrace) -> None:
        self.quiet = quiet
        self.trace = trace
        self.live = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if self.quiet or (not self.live and done < total):
            return
        line = f"headers read: {done}/{total} files, {self.trace.total_requests} requests, {_megabytes(self.trace)}"
        end = "\n" if done == total else ""
        print(f"{'\r' if self.live else ''}{line}", end=end, file=sys.stderr, flush=True)


def _megabytes(trace: RequestTrace) -> str:
    return f"{trace.total_bytes / 1e6:.2f} MB"


def _container_prefixes(urls: list[str]) -> list[str]:
    """One Icechunk virtual chunk container per bucket, or per common local folder."""
    local = [urlparse(u).path for u in urls if u.startswith("file://")]
    prefixes = {f"s3://{urlparse(u).netloc}/" for u in urls if u.startswith("s3://")}
    if local:
        prefixes.add(Path(os.path.commonpath([os.path.dirname(p) for p in local])).as_uri().rstrip("/") + "/")
    return sorted(prefixes)


def time_from_name(pattern: str):
    """A label function for ``--time-from-name``: the first group of ``pattern`` (or its whole
    match) in a url's file name, as a date (``20240301``, ``2024-03-01``, ``20240301T101559``...)."""
    import re

    import pandas as pd

    regex = re.compile(pattern)

    def label(url: str):
        name = url.rstrip("/").rsplit("/", 1)[-1]
        match = regex.search(name)
        if match is None:
            raise VirtualTIFFError(f"--time-from-name {pattern!r} does not match the file name {name!r}", url=url)
        text = match.group(1) if regex.groups else match.group(0)
        try:
            return pd.Timestamp(text).to_datetime64()
        except ValueError:
            raise VirtualTIFFError(f"--time-from-name: {text!r} in {name!r} is not a date", url=url) from None

    return label


def _icechunk_repository(out: str, urls: list[str], s3: S3Settings):
    """A new repository whose virtual chunk containers reach the sources as the build's registry did."""
    import icechunk

    from virtual_tiff.writers.icechunk import repository_config

    config = repository_config()  # one GET per virtual chunk, persisted for every reader
    for prefix in _container_prefixes(urls):
        if prefix.startswith("file://"):
            store = icechunk.local_filesystem_store(urlparse(prefix).path)
        else:
            options: dict[str, object] = {"region": s3.region, "anonymous": s3.anonymous}
            if s3.endpoint:
                options.update(endpoint_url=s3.endpoint, allow_http=s3.allow_http,
                               s3_compatible=True, force_path_style=True)
            store = icechunk.s3_store(**options)
        config.set_virtual_chunk_container(icechunk.VirtualChunkContainer(prefix, store))
    return icechunk.Repository.create(icechunk.local_filesystem_storage(out), config=config)


def run(args: argparse.Namespace) -> int:
    import virtualizarr
    import xarray as xr
    from virtualizarr.manifests import ManifestArray

    from virtual_tiff import (
        VirtualTIFF,
        open_stac,
        open_virtual_mfdataset,
        to_icechunk,
        to_kerchunk,
    )

    started = time.perf_counter()
    urls = stac_hrefs(args.stac, args.asset, args.allow_local_hrefs) if args.stac else expand_inputs(args.inputs)
    if not urls:
        raise VirtualTIFFError("no input files")
    trace = RequestTrace()
    registry = registry_for(urls, endpoint=args.endpoint, anonymous=args.anonymous, trace=trace)
    progress = Progress(args.quiet, trace)
    on_error = "skip" if args.skip_failed else "raise"
    if args.stac:
        obj = open_stac(
            args.stac, assets=args.asset, registry=registry, group_by="grid" if args.group_by_grid else None,
            concat_dim=args.concat_dim, ifd=args.ifd, max_concurrency=args.max_concurrency, on_error=on_error,
            progress=progress, allow_local_hrefs=args.allow_local_hrefs,
        )
        root = obj if isinstance(obj, xr.Dataset) else obj.root
        failed = root.attrs["virtual_tiff"].get("failed", {})
    elif len(urls) == 1:
        obj = virtualizarr.open_virtual_datatree(
            urls[0], registry=registry, parser=VirtualTIFF(ifd=None, ifd_layout="nested")
        )
        progress(1, 1)
        failed = {}
    else:
        obj = open_virtual_mfdataset(
            urls, registry, ifd=args.ifd, concat_dim=args.concat_dim, combine="nested",
            labels=time_from_name(args.time_from_name) if args.time_from_name else None,
            max_concurrency=args.max_concurrency, on_error=on_error, progress=progress,
        )
        failed = obj.attrs["virtual_tiff"].get("failed", {})
    if args.format == "icechunk":
        repo = _icechunk_repository(args.out, urls, s3_settings(args.endpoint, args.anonymous))
        session = repo.writable_session("main")
        to_icechunk(obj, session.store, checksum=args.checksum)
        session.commit(f"virtual-tiff build: {len(urls) - len(failed)} files")
    else:
        to_kerchunk(obj, args.out, format="parquet" if args.format == "parquet" else "json")
    datasets = [node.dataset for node in obj.subtree] if isinstance(obj, xr.DataTree) else [obj]
    chunks = sum(
        sum(1 for _ in v.data.manifest.iter_nonempty_paths())
        for ds in datasets
        for v in ds.variables.values()
        if isinstance(v.data, ManifestArray)
    )
    for url, why in failed.items():
        print(f"FAILED {url}: {why}", file=sys.stderr)
    print(
        f"{args.out}: {len(urls) - len(failed)} files, {chunks} chunk references, {len(failed)} failed, "
        f"{trace.total_requests} requests, {_megabytes(trace)}, {time.perf_counter() - started:.2f} s"
    )
    return 1 if failed else 0
