"""``virtual-tiff build URL... --out PATH``: a virtual dataset of one or many TIFFs, published.

One input becomes a DataTree of all its levels; several become one dataset
stacked along ``--concat-dim`` (a DataTree with one group per grid with
``--group-by-grid``); a STAC ItemCollection becomes a datacube with one
variable per asset and its items' datetimes as time (again a group per grid
with ``--group-by-grid``). Icechunk (default) gets a checksum per source; kerchunk
references (JSON or Parquet) keep the recorded sources in their attributes.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from virtual_tiff.cli._progress import Bar, CountingStore, Fetched
from virtual_tiff.errors import VirtualTIFFError
from virtual_tiff.io import S3Settings, normalise_url, registry_for, s3_settings, s3_store, storage_errors

#: At most this many objects are listed to expand one ``s3://`` glob (a few hundred LIST pages).
MAX_LISTED = 200_000
#: ``@list`` files may name other ``@list`` files, this deep (a list naming itself is refused).
MAX_LIST_DEPTH = 8
GLOB_CHARS = "*?["


def expand_inputs(
    inputs: list[str], *, endpoint: str | None = None, anonymous: bool = False, depth: int = 0
) -> list[str]:
    """Urls from arguments: urls, local paths, local and ``s3://`` globs, and ``@list.txt`` files of them.

    ``s3://bucket/scenes/*.tif`` lists the objects under ``scenes/`` (obstore's
    ``list``, through obspec-utils' glob: ``*`` stays within one path segment,
    ``**`` crosses them), at most :data:`MAX_LISTED` of them.
    """
    urls: list[str] = []
    for item in inputs:
        if item.startswith("@"):
            if depth >= MAX_LIST_DEPTH:
                raise VirtualTIFFError(f"@ lists nested more than {MAX_LIST_DEPTH} deep (does a list name itself?)",
                                       url=item[1:])
            lines = Path(item[1:]).read_text().splitlines()
            listed = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
            urls += expand_inputs(listed, endpoint=endpoint, anonymous=anonymous, depth=depth + 1)
        elif not any(c in item for c in GLOB_CHARS):
            urls.append(normalise_url(item))
        elif item.startswith("s3://"):
            urls += _no_empty(item, _s3_glob(item, endpoint, anonymous))
        elif "://" not in item:
            urls += _no_empty(item, [normalise_url(m) for m in sorted(glob.glob(item, recursive=True))])
        else:
            urls.append(item)
    return urls


def _no_empty(pattern: str, matches: list[str]) -> list[str]:
    if not matches:
        raise VirtualTIFFError(f"the pattern {pattern!r} matches no file")
    return matches


@dataclass(frozen=True)
class _BoundedListing:
    """A store whose ``list`` refuses to go past :data:`MAX_LISTED` objects (obspec's List protocol)."""

    store: Any
    pattern: str

    def list(self, prefix: str | None = None) -> Iterator[list[dict]]:
        listed = 0
        for page in self.store.list(prefix=prefix):
            listed += len(page)
            if listed > MAX_LISTED:
                raise VirtualTIFFError(f"the pattern lists more than {MAX_LISTED} objects: narrow its prefix",
                                       url=self.pattern)
            yield page


def _s3_glob(pattern: str, endpoint: str | None, anonymous: bool) -> list[str]:
    from obspec_utils.glob import glob as store_glob

    parsed = urlparse(pattern)
    store = s3_store(parsed.netloc, endpoint=endpoint, anonymous=anonymous)
    with storage_errors(pattern, "listing the pattern's prefix"):
        keys = sorted(store_glob(_BoundedListing(store, pattern), parsed.path.lstrip("/")))
    return [f"s3://{parsed.netloc}/{key}" for key in keys]


def stac_hrefs(path: str, assets: list[str] | None, allow_local: bool = False) -> list[str]:
    """The urls a STAC ItemCollection (or Item) JSON file points at, for the registry and Icechunk."""
    from virtual_tiff.stacks import asset_table, item_dicts

    table = asset_table(item_dicts(path), assets, allow_local=allow_local)
    return sorted({asset.url for row in table for asset in row})


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


def _open(args: argparse.Namespace, urls: list[str], registry, progress: Bar):
    """The virtual Dataset or DataTree to write, and the files left out with ``--skip-failed``."""
    import virtualizarr
    import xarray as xr

    from virtual_tiff import VirtualTIFF, open_stac, open_virtual_mfdataset, open_virtual_mftree

    reading = dict(ifd=args.ifd, max_concurrency=args.max_concurrency,
                   on_error="skip" if args.skip_failed else "raise", progress=progress)
    if args.stac:
        obj = open_stac(args.stac, assets=args.asset, registry=registry, concat_dim=args.concat_dim,
                        group_by="grid" if args.group_by_grid else None, allow_local_hrefs=args.allow_local_hrefs,
                        **reading)
    elif len(urls) == 1:
        obj = virtualizarr.open_virtual_datatree(
            urls[0], registry=registry, parser=VirtualTIFF(ifd=None, ifd_layout="nested")
        )
        progress(1, 1)
    else:
        label = time_from_name(args.time_from_name) if args.time_from_name else None
        if args.group_by_grid:
            obj = open_virtual_mftree(urls, registry, concat_dim=args.concat_dim,
                                      labels=None if label is None else [label(u) for u in urls], **reading)
        else:
            obj = open_virtual_mfdataset(urls, registry, concat_dim=args.concat_dim, combine="nested",
                                         labels=label, **reading)
    root = obj if isinstance(obj, xr.Dataset) else obj.root
    return obj, root.attrs.get("virtual_tiff", {}).get("failed", {})


def _chunk_references(obj) -> int:
    import xarray as xr
    from virtualizarr.manifests import ManifestArray

    datasets = [node.dataset for node in obj.subtree] if isinstance(obj, xr.DataTree) else [obj]
    return sum(
        sum(1 for _ in v.data.manifest.iter_nonempty_paths())
        for ds in datasets
        for v in ds.variables.values()
        if isinstance(v.data, ManifestArray)
    )


def run(args: argparse.Namespace) -> int:
    from virtual_tiff import to_icechunk, to_kerchunk

    started = time.perf_counter()
    if args.stac:
        urls = stac_hrefs(args.stac, args.asset, args.allow_local_hrefs)
    else:
        urls = expand_inputs(args.inputs, endpoint=args.endpoint, anonymous=args.anonymous)
    if not urls:
        raise VirtualTIFFError("no input files")
    fetched = Fetched()
    registry = registry_for(urls, endpoint=args.endpoint, anonymous=args.anonymous,
                            wrap=lambda store: CountingStore(store, fetched))
    obj, failed = _open(args, urls, registry, Bar("headers", "file", fetched, args.quiet))
    writing = Bar(f"writing {Path(args.out).name}", "step", quiet=args.quiet)
    if args.format == "icechunk":
        repo = _icechunk_repository(args.out, urls, s3_settings(args.endpoint, args.anonymous))
        session = repo.writable_session("main")
        to_icechunk(obj, session.store, checksum=args.checksum, progress=writing)
        session.commit(f"virtual-tiff build: {len(urls) - len(failed)} files")
    else:
        writing(0, 1)
        to_kerchunk(obj, args.out, format=args.format)
        writing(1, 1)
    for url, why in failed.items():
        print(f"FAILED {url}: {why}", file=sys.stderr)
    print(
        f"{args.out}: {len(urls) - len(failed)} files, {_chunk_references(obj)} chunk references, "
        f"{len(failed)} failed, {fetched}, {time.perf_counter() - started:.2f} s"
    )
    return 1 if failed else 0
