"""Which bytes a virtual dataset was built from: ETag, last-modified and size per source.

Recorded in the root group's attributes under ``"virtual_tiff"`` so a
published dataset says what it points at, and so readers and writers
(the store's changed-source check, Icechunk checksums, ``virtual-tiff check``)
can refuse a source whose bytes changed. ETags are kept exactly as the store
reported them (S3 and obstore quote them); consumers normalise as they need.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from obspec_utils.registry import ObjectStoreRegistry

from virtual_tiff._version import __version__
from virtual_tiff.io._object import ObjectInfo
from virtual_tiff.io._slots import request_slot
from virtual_tiff.io._storage import resolve, storage_errors
from virtual_tiff.io._tasks import gather_all

ATTRIBUTE = "virtual_tiff"


def sources_attribute(infos: Iterable[ObjectInfo]) -> dict[str, Any]:
    """The JSON-able ``{"virtual_tiff": {"version", "sources": {url: {...}}}}`` attribute."""
    return {
        ATTRIBUTE: {
            "version": __version__,
            "sources": {
                info.url: {
                    "etag": info.etag,
                    "last_modified": None if info.last_modified is None else info.last_modified.isoformat(),
                    "size": info.size,
                }
                for info in infos
            },
        }
    }


def read_sources(attrs: Mapping[str, Any]) -> dict[str, ObjectInfo]:
    """The recorded sources of a dataset's (or group's) attributes; empty if none were recorded."""
    recorded = attrs.get(ATTRIBUTE, {}).get("sources", {})
    return {
        url: ObjectInfo(
            url=url,
            size=int(entry["size"]),
            etag=entry.get("etag"),
            last_modified=None
            if entry.get("last_modified") is None
            else datetime.datetime.fromisoformat(entry["last_modified"]),
        )
        for url, entry in recorded.items()
    }


def unquoted(etag: str | None) -> str | None:
    """The ETag without the quotes S3 and obstore put around it (what Icechunk on local storage wants)."""
    return None if etag is None else etag.strip('"')


async def current_info(url: str, registry: ObjectStoreRegistry) -> ObjectInfo:
    """What one HEAD says of ``url`` now: its size, ETag and last-modified time."""
    store, path = resolve(url, registry)
    with storage_errors(url, "HEAD"):
        async with request_slot():
            meta = await store.head_async(path)
    return ObjectInfo(url, int(meta["size"]), meta.get("e_tag"), meta.get("last_modified"))


async def current_infos(urls: Iterable[str], registry: ObjectStoreRegistry) -> dict[str, ObjectInfo]:
    """:func:`current_info` of every url, concurrently (within the process's request bound)."""
    infos = await gather_all(current_info(url, registry) for url in urls)
    return {info.url: info for info in infos}
