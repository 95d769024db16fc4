"""``virtual-tiff check STORE``: do a published store's sources still hold the recorded bytes?

Each source is UNCHANGED, CHANGED (other bytes: ETag, size or mtime), MISSING
(the store says there is no such object) or UNREADABLE (the check itself
failed: access, network, endpoint); the exit status is the worst of them,
0, 1, 3 or 4, so a script can tell "rebuild" from "fix the credentials".
"""

from __future__ import annotations

import argparse
import asyncio
import enum
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zarr.core.sync import sync

from virtual_tiff.errors import SourceNotFoundError, SourceReadError, VirtualTIFFError
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


class Status(enum.IntEnum):
    """A source's state, and the exit status it gives (the worst one over all sources is the command's)."""

    UNCHANGED = 0
    CHANGED = 1
    MISSING = 3
    UNREADABLE = 4


@dataclass(frozen=True)
class Finding:
    url: str
    status: Status
    why: str = ""


def verdict(recorded: ObjectInfo, current: ObjectInfo) -> str | None:
    """Why ``current`` is not the recorded object, or None when it still is."""
    if recorded.etag and current.etag and recorded.etag.strip('"') != current.etag.strip('"'):
        return f"ETag {recorded.etag} -> {current.etag}"
    if recorded.size != current.size:
        return f"size {recorded.size} -> {current.size}"
    if not recorded.etag and recorded.last_modified and current.last_modified != recorded.last_modified:
        return f"last modified {recorded.last_modified} -> {current.last_modified}"
    return None


async def _check_one(info: ObjectInfo, registry) -> Finding:
    """One HEAD: changed, missing (the store says no such object) or unreadable (anything else failed)."""
    try:
        why = verdict(info, await current_info(info.url, registry))
    except SourceNotFoundError as exc:
        return Finding(info.url, Status.MISSING, exc.reason)
    except SourceReadError as exc:
        return Finding(info.url, Status.UNREADABLE, exc.reason)
    return Finding(info.url, Status.UNCHANGED) if why is None else Finding(info.url, Status.CHANGED, why)


async def _check_all(sources: dict[str, ObjectInfo], registry) -> list[Finding]:
    return list(await asyncio.gather(*(_check_one(info, registry) for info in sources.values())))


def summary(findings: list[Finding]) -> str:
    """``2 of 3 sources unchanged, 1 changed, 0 missing, 0 unreadable``."""
    counts = {status: sum(1 for f in findings if f.status is status) for status in Status}
    others = ", ".join(f"{counts[s]} {s.name.lower()}" for s in Status if s is not Status.UNCHANGED)
    return f"{counts[Status.UNCHANGED]} of {len(findings)} sources unchanged, {others}"


def run(args: argparse.Namespace) -> int:
    sources = read_sources(root_attributes(args.store))
    if not sources:
        raise VirtualTIFFError("no recorded sources: was this store written by virtual-tiff?", url=args.store)
    registry = registry_for(sources, endpoint=args.endpoint, anonymous=args.anonymous)
    findings = sync(_check_all(sources, registry))
    for finding in sorted(findings, key=lambda f: (f.status, f.url)):
        if finding.status is not Status.UNCHANGED:
            print(f"{finding.status.name} {finding.url}: {finding.why}")
    print(summary(findings))
    return max((f.status for f in findings), default=Status.UNCHANGED).value
