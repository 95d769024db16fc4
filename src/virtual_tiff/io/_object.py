"""url -> bytes: ranged reads of one object through the user's registry, cached by block.

The header parser asks for small ranges all over the file; this module turns
them into as few GETs as possible: one first GET of the head (which also tells
the object's size and ETag), one block GET for each structure outside what is
already held, and one batched ``get_ranges_async`` for out-of-line values.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime
from dataclasses import dataclass

from obspec_utils.registry import ObjectStoreRegistry

from virtual_tiff.errors import SourceReadError, TruncatedTIFFError
from virtual_tiff.io._slots import request_slot
from virtual_tiff.io._storage import (
    FIRST_BYTE_TIMEOUT,
    MIN_BYTES_PER_SECOND,
    request_deadline,
    resolve,
    storage_errors,
)

#: The first GET. GDAL's COG driver keeps every IFD and tag array ahead of the
#: first tile; 64 KiB holds that for COGs up to tens of thousands of tiles.
HEAD_BYTES = 64 * 1024
#: What one more GET fetches around a structure found outside the held blocks.
BLOCK_BYTES = 64 * 1024


@dataclass(frozen=True)
class ObjectInfo:
    """What the first GET told about the object: bounds checks and provenance."""

    url: str
    size: int
    etag: str | None
    last_modified: datetime.datetime | None


class ObjectReader:
    """Reads byte ranges of one object, remembering every block it fetched."""

    def __init__(
        self,
        url: str,
        registry: ObjectStoreRegistry,
        *,
        head_bytes: int = HEAD_BYTES,
        block_bytes: int = BLOCK_BYTES,
        first_byte_timeout: float | None = FIRST_BYTE_TIMEOUT,
        min_bytes_per_second: float = MIN_BYTES_PER_SECOND,
    ) -> None:
        self.url = url
        self._store, self._path = resolve(url, registry)
        self._head_bytes = head_bytes
        self._block_bytes = block_bytes
        self._timeouts = (first_byte_timeout, min_bytes_per_second)
        #: Fetched blocks sorted by start: lookups stay logarithmic for files of thousands of IFDs.
        self._blocks: list[tuple[int, bytes]] = []
        self._starts: list[int] = []
        self.info: ObjectInfo | None = None
        #: GET calls issued: the number the range planner minimises.
        self.requests = 0
        self.bytes_read = 0

    def _deadline(self, nbytes: int) -> asyncio.Timeout:
        """The deadline of one request of ``nbytes`` (see :func:`~virtual_tiff.io.request_deadline`)."""
        return asyncio.timeout(request_deadline(nbytes, *self._timeouts))

    @property
    def size(self) -> int:
        assert self.info is not None, "open() first"
        return self.info.size

    async def open(self) -> bytes:
        """First GET: the head of the object, with its size, ETag and mtime."""
        try:
            with storage_errors(self.url, "reading the header"):
                async with request_slot(), self._deadline(self._head_bytes):
                    result = await self._store.get_async(self._path, options={"range": (0, self._head_bytes)})
                    head = bytes(await result.bytes_async())
                meta = result.meta
        except SourceReadError as first:
            # An empty object has no byte 0, so stores refuse any range of it:
            # only its metadata can tell that apart from a real failure.
            try:
                async with request_slot(), self._deadline(0):
                    meta = await self._store.head_async(self._path)
            except Exception:
                raise first from first.__cause__  # already a summary (see storage_errors)
            if int(meta["size"]) != 0:
                raise
            head = b""
        expected = min(self._head_bytes, int(meta["size"]))
        if len(head) != expected:
            # A well-formed response with fewer (or more) bytes than asked: a broken proxy or
            # store. Never parse it as if it were the object.
            raise SourceReadError(f"reading the header: asked for {expected} bytes, got {len(head)}", url=self.url)
        self.info = ObjectInfo(
            url=self.url,
            size=int(meta["size"]),
            etag=meta.get("e_tag"),
            last_modified=meta.get("last_modified"),
        )
        self._remember(0, head)
        return head

    def _remember(self, start: int, data: bytes) -> None:
        self.requests += 1
        self._hold(start, data)

    def _hold(self, start: int, data: bytes) -> None:
        self.bytes_read += len(data)
        i = bisect.bisect_right(self._starts, start)
        self._starts.insert(i, start)
        self._blocks.insert(i, (start, data))

    def cached(self, start: int, length: int) -> bytes | None:
        """The bytes if a held block contains them. Only the few blocks starting just before
        ``start`` are looked at: a miss costs a fetch, never a wrong byte."""
        end = start + length
        i = bisect.bisect_right(self._starts, start)
        for block_start, data in reversed(self._blocks[max(0, i - 4) : i]):
            if end <= block_start + len(data):
                return data[start - block_start : end - block_start]
        return None

    def check_bounds(self, start: int, length: int, what: str) -> None:
        if start < 0 or length < 0 or start + length > self.size:
            raise TruncatedTIFFError(
                f"{what} at bytes {start}..{start + length} lies beyond the end of the object ({self.size} bytes)",
                url=self.url,
            )

    async def read(self, start: int, length: int, what: str) -> bytes:
        """Bytes ``[start, start+length)``, fetching a whole block around them if needed."""
        self.check_bounds(start, length, what)
        held = self.cached(start, length)
        if held is not None:
            return held
        end = min(self.size, start + max(length, self._block_bytes))
        with storage_errors(self.url, what):
            async with request_slot(), self._deadline(end - start):
                data = bytes(await self._store.get_range_async(self._path, start=start, end=end))
        if len(data) != end - start:
            # The size was checked above, so a different length is the transport's fault, not the file's.
            raise SourceReadError(f"{what}: asked for {end - start} bytes, got {len(data)}", url=self.url)
        self._remember(start, data)
        return data[:length]

    async def read_many(self, ranges: list[tuple[int, int]], what: str) -> list[bytes]:
        """Many ``(start, length)`` ranges: the ones not held cost one batched request."""
        for start, length in ranges:
            self.check_bounds(start, length, what)
        missing = sorted({r for r in ranges if self.cached(*r) is None})
        if missing:
            starts = [start for start, _ in missing]
            ends = [start + length for start, length in missing]
            with storage_errors(self.url, what):
                async with request_slot(), self._deadline(sum(e - s for s, e in zip(starts, ends, strict=True))):
                    fetched = await self._store.get_ranges_async(self._path, starts=starts, ends=ends)
            self.requests += 1
            for (start, length), data in zip(missing, fetched, strict=True):
                if len(data) != length:
                    raise SourceReadError(f"{what}: asked for {length} bytes at {start}, got {len(data)}", url=self.url)
                self._hold(start, bytes(data))
        out = []
        for start, length in ranges:
            held = self.cached(start, length)
            if held is None:
                raise TruncatedTIFFError(f"{what} at byte {start}: object ended early", url=self.url)
            out.append(held)
        return out
