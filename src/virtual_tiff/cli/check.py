"""``virtual-tiff check STORE``: do a published store's sources still hold the recorded bytes?"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from zarr.core.sync import sync

from virtual_tiff.errors import SourceReadError, VirtualTIFFError
from virtual_tiff.io import (
    ObjectInfo,
    current_info,
    read_sources,
    registry_for,
)


def root_attributes(location: str) -> dict[str, Any]:
    """The root group attributes of an Icechunk repository or kerchunk references (JSON or Parquet)."""
    path = Path(location)
    if path.suffix == ".json":
        refs = json.loads(path.read_text())
        return json.loads(refs.get("refs", refs).get(".zattrs", "{}"))
    if (path / ".zmetadata").exists():
        metadata = json.loads((path / ".zmetadata").read_text())["metadata"]
        zattrs = metadata.get(".zattrs", {})
        return json.loads(zattrs) if isinstance(zattrs, str) else zattrs
    if path.is_dir():
        import icechunk
        import zarr

        repo = icechunk.Repository.open(icechunk.local_filesystem_storage(str(path)))
        return dict(zarr.open_group(repo.readonly_session("main").store, mode="r").attrs)
    raise VirtualTIFFError("not an Icechunk repository, kerchunk JSON or kerchunk Parquet directory", url=location)


def verdict(recorded: ObjectInfo, current: ObjectInfo) -> str | None:
    """Why ``current`` is not the recorded object, or None when it still is."""
    if recorded.etag and current.etag and recorded.etag.strip('"') != current.etag.strip('"'):
        return f"ETag {recorded.etag} -> {current.etag}"
    if recorded.size != current.size:
        return f"size {recorded.size} -> {current.size}"
    if not recorded.etag and recorded.last_modified and current.last_modified != recorded.last_modified:
        return f"last modified {recorded.last_modified} -> {current.last_modified}"
    return None


async def _check_all(sources: dict[str, ObjectInfo], registry) -> dict[str, str]:
    async def one(info: ObjectInfo) -> tuple[str, str | None]:
        try:
            return info.url, verdict(info, await current_info(info.url, registry))
        except SourceReadError as exc:
            return info.url, f"unreadable: {exc.reason}"

    results = await asyncio.gather(*(one(info) for info in sources.values()))
    return {url: why for url, why in results if why is not None}


def run(args: argparse.Namespace) -> int:
    sources = read_sources(root_attributes(args.store))
    if not sources:
        raise VirtualTIFFError("no recorded sources: was this store written by virtual-tiff?", url=args.store)
    registry = registry_for(sources, endpoint=args.endpoint, anonymous=args.anonymous)
    changed = sync(_check_all(sources, registry))
    for url, why in sorted(changed.items()):
        print(f"CHANGED {url}: {why}")
    print(f"{len(sources) - len(changed)} of {len(sources)} sources unchanged")
    return 1 if changed else 0
