"""A ManifestStore whose chunk reads are coalesced: nearby byte ranges of one object, one request.

VirtualiZarr's :class:`~virtualizarr.manifests.ManifestStore` issues one ranged GET per chunk.
A COG's tiles lie a few bytes apart (GDAL writes them back to back), so reading 16 tiles costs
16 round trips where GDAL needs one or two. :class:`TIFFManifestStore` keeps ManifestStore's
semantics and routes every chunk read through a :class:`RangeReader`:

a read that knows its whole selection (our codec pipeline, :mod:`virtual_tiff.pipeline`, zarr's
default once ``virtual_tiff`` is imported) hands every chunk key to :meth:`read_chunks` at once;
:func:`plan_ranges` merges the ranges of one object that overlap, touch or lie less than
``max_gap`` bytes apart (up to ``max_request_bytes`` per request), and the merged requests go out
together, at most ``max_concurrent_requests`` in flight. A full 16-tile COG is one GET, a window of
512 adjacent strips one or two.

Reads that arrive one chunk at a time (``get``: dask's one-task-per-chunk reads, or another
pipeline) resolve the key exactly as ManifestStore does (metadata documents, inlined chunks,
missing chunks -> ``None``, registry resolution) and join a batch for that object, sent once no
read joined it for ``batch_window`` seconds (default 1 ms; at most ``batch_max_wait``, 5 ms, after
its first read); its ranges are merged the same way. Only reads pending together can merge, so
there the number of requests depends on how many reads dask (its thread count) or zarr
(``async.concurrency``, see :func:`fast_read_config`) keeps pending: through dask open with
``chunks="auto"`` (dask chunks of many zarr chunks), so that each task's read is planned whole.

Why ``max_gap = 64 KiB``: a request to S3-like stores costs tens of milliseconds before its first
byte, while 64 KiB more of the body costs about 0.5 ms at 1 Gbit/s; yet the gap is small enough that
reading a window never drags in whole unrequested tile rows (a row of 256² uint16 tiles is far
larger). Ranges farther apart are read concurrently instead, which costs no extra latency.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlparse

from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ManifestGroup, ManifestStore
from virtualizarr.manifests.store import _get_deepest_group_or_array, _transform_byte_range
from virtualizarr.manifests.utils import parse_manifest_index
from zarr.abc.store import ByteRequest
from zarr.core.buffer import Buffer, BufferPrototype, default_buffer_prototype

from virtual_tiff.provenance import read_sources
from virtual_tiff.errors import SourceReadError, VirtualTIFFError
from virtual_tiff.source import storage_errors

__all__ = [
    "CoalesceOptions",
    "RangeGroup",
    "RangeReader",
    "RangeRequest",
    "SourceObject",
    "TIFFManifestStore",
    "fast_read_config",
    "plan_ranges",
]

KiB = 1024
MiB = 1024 * KiB


# --------------------------------------------------------------------------------------------
# The pure planner
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RangeGroup:
    """One request: bytes ``[start, end)`` answering the input ranges at ``members`` (their indices)."""

    start: int
    end: int
    members: tuple[int, ...]


def plan_ranges(
    ranges: Sequence[tuple[int, int]], *, max_gap: int = 64 * KiB, max_request_bytes: int | None = 32 * MiB
) -> list[RangeGroup]:
    """Merge half-open byte ranges ``(start, end)`` into as few requests as the limits allow.

    Ranges that overlap, touch, or are separated by at most ``max_gap`` bytes share a request,
    unless the request would then exceed ``max_request_bytes`` (a single larger range is still one
    request). Input order does not matter; groups come out sorted by start, and each group's
    ``members`` are indices into ``ranges`` (duplicates and empty ranges included).
    """
    if max_gap < 0:
        raise ValueError(f"max_gap must be >= 0, got {max_gap}")
    for start, end in ranges:
        if start < 0 or end < start:
            raise ValueError(f"invalid byte range ({start}, {end})")
    order = sorted(range(len(ranges)), key=lambda i: (ranges[i][0], ranges[i][1]))
    groups: list[RangeGroup] = []
    start = end = 0
    members: list[int] = []
    for i in order:
        s, e = ranges[i]
        if members and s - end <= max_gap and (
            max_request_bytes is None or max(end, e) - start <= max_request_bytes
        ):
            end = max(end, e)
            members.append(i)
            continue
        if members:
            groups.append(RangeGroup(start, end, tuple(members)))
        start, end, members = s, e, [i]
    if members:
        groups.append(RangeGroup(start, end, tuple(members)))
    return groups


def fast_read_config(concurrency: int = 64) -> dict[str, object]:
    """zarr settings for reading our stores through dask or zarr's own pipelines; for ``zarr.config.set``.

    Our pipeline (:mod:`virtual_tiff.pipeline`, zarr's default once ``virtual_tiff`` is imported)
    plans a whole selection itself. ``concurrency`` matters where zarr still reads chunk by chunk
    (dask tasks, or another pipeline the user chose): that many chunk reads may be pending at
    once, so the batch window can merge them; requests stay bounded by
    :attr:`CoalesceOptions.max_concurrent_requests`. The pipeline must be in effect when the
    array is opened.
    """
    from virtual_tiff.pipeline import PIPELINE

    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    return {"async.concurrency": concurrency, "codec_pipeline.path": PIPELINE}


# --------------------------------------------------------------------------------------------
# The batching reader
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoalesceOptions:
    """How :class:`RangeReader` batches and merges reads.

    ``max_gap``: largest hole (bytes) read and thrown away to merge two ranges.
    ``max_request_bytes``: a merged request never grows beyond this (keeps big reads parallel).
    ``batch_window``: a batch of reads of one object is sent once no read joined it for this many
    seconds (zarr's chunk reads arrive a little apart as slots free up after decoding); ``0``
    sends it after one event-loop turn without a new read (reads started together still merge).
    ``batch_max_wait``: ... but never later than this many seconds after its first read.
    ``max_concurrent_requests``: requests in flight per event loop, over all objects.
    """

    max_gap: int = 64 * KiB
    max_request_bytes: int = 32 * MiB
    batch_window: float = 0.001
    batch_max_wait: float = 0.005
    max_concurrent_requests: int = 64

    def __post_init__(self) -> None:
        if self.max_gap < 0 or self.max_request_bytes < 1 or self.batch_window < 0 or self.batch_max_wait < 0:
            raise ValueError(f"invalid coalescing options: {self}")
        if self.max_concurrent_requests < 1:
            raise ValueError(f"max_concurrent_requests must be >= 1, got {self.max_concurrent_requests}")


@dataclass(frozen=True)
class SourceObject:
    """``path`` in an obstore ``store`` (``url`` names it in errors); ``etag``: the version reads must come from."""

    store: Any
    path: str
    url: str = ""
    etag: str | None = None

    @property
    def key(self) -> tuple[int, str, str | None]:
        """Reads with equal keys may share a request."""
        return (id(self.store), self.path, self.etag)


@dataclass(frozen=True)
class RangeRequest:
    """Bytes ``[start, end)`` of ``source``."""

    source: SourceObject
    start: int
    end: int


@dataclass
class _Batch:
    source: SourceObject
    opened: float
    last: float
    ranges: list[tuple[int, int]] = field(default_factory=list)
    waiters: list[asyncio.Future] = field(default_factory=list)


@dataclass
class _LoopState:
    """What a reader keeps per event loop (asyncio primitives belong to one loop)."""

    semaphore: asyncio.Semaphore
    batches: dict[tuple[int, str], _Batch] = field(default_factory=dict)
    tasks: set[asyncio.Task] = field(default_factory=set)


@dataclass
class ReadStats:
    """Counters: reads asked for, requests issued, bytes fetched, most requests in flight."""

    reads: int = 0
    requests: int = 0
    bytes: int = 0
    peak_in_flight: int = 0


class RangeReader:
    """Batches concurrent range reads per object and answers them from merged requests."""

    def __init__(self, options: CoalesceOptions | None = None) -> None:
        self.options = options or CoalesceOptions()
        self.stats = ReadStats()
        self._in_flight = 0
        self._lock = threading.Lock()
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )

    def __getstate__(self) -> dict:
        return {"options": self.options}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["options"])

    def _state(self, loop: asyncio.AbstractEventLoop) -> _LoopState:
        with self._lock:
            state = self._states.get(loop)
            if state is None:
                state = _LoopState(asyncio.Semaphore(self.options.max_concurrent_requests))
                self._states[loop] = state
            return state

    async def read(
        self, store: Any, path: str, start: int, end: int, *, url: str = "", etag: str | None = None
    ) -> Buffer | bytes | memoryview:
        """Bytes ``[start, end)`` of ``path`` in ``store``, fetched together with concurrent reads.

        With ``etag``, every request is conditional on it (``if_match``): an object
        rewritten since the ETag was recorded raises SourceChangedError, never other bytes.
        """
        if end <= start:
            return b""
        loop = asyncio.get_running_loop()
        state = self._state(loop)
        source = SourceObject(store, path, url, etag)
        key = source.key
        now = loop.time()
        batch = state.batches.get(key)
        if batch is None:
            batch = state.batches[key] = _Batch(source, opened=now, last=now)
            self._schedule(loop, state, key, batch)
        batch.last = now
        waiter = loop.create_future()
        batch.ranges.append((start, end))
        batch.waiters.append(waiter)
        self.stats.reads += 1
        return await waiter

    def _schedule(self, loop: asyncio.AbstractEventLoop, state: _LoopState, key: tuple, batch: _Batch) -> None:
        if self.options.batch_window > 0:
            when = min(batch.last + self.options.batch_window, batch.opened + self.options.batch_max_wait)
            loop.call_at(when, self._tick, loop, state, key, batch, 0)
        else:
            loop.call_soon(self._tick, loop, state, key, batch, len(batch.ranges))

    def _tick(self, loop: asyncio.AbstractEventLoop, state: _LoopState, key: tuple, batch: _Batch, seen: int) -> None:
        """Send the batch once it stopped growing (idle window / quiet turn) or waited long enough."""
        if state.batches.get(key) is not batch:
            return
        now = loop.time()
        if now - batch.opened < self.options.batch_max_wait:
            if self.options.batch_window > 0 and now < batch.last + self.options.batch_window:
                return self._schedule(loop, state, key, batch)
            if self.options.batch_window <= 0 and len(batch.ranges) > seen:
                return self._schedule(loop, state, key, batch)
        del state.batches[key]
        groups = plan_ranges(
            batch.ranges, max_gap=self.options.max_gap, max_request_bytes=self.options.max_request_bytes
        )
        for group in groups:
            task = asyncio.ensure_future(self._fetch(state, batch, group))
            state.tasks.add(task)
            task.add_done_callback(state.tasks.discard)

    async def read_many(
        self,
        requests: Sequence[RangeRequest],
        deliver: Callable[[list[tuple[int, memoryview]]], None],
    ) -> None:
        """Read every request now, merged per object; ``deliver`` each merged response's pieces.

        The caller knows the whole selection, so nothing waits for a batch window: the ranges are
        planned at once and sent concurrently (at most ``max_concurrent_requests`` in flight).
        ``deliver`` gets ``(index into requests, bytes)`` pairs as each response completes, so
        decoding can start before the last byte arrives. The first failure cancels the rest.
        """
        state = self._state(asyncio.get_running_loop())
        by_object: dict[tuple, list[int]] = {}
        for i, request in enumerate(requests):
            by_object.setdefault(request.source.key, []).append(i)
        self.stats.reads += len(requests)
        tasks = []
        for indices in by_object.values():
            source = requests[indices[0]].source
            ranges = [(requests[i].start, requests[i].end) for i in indices]
            for group in plan_ranges(
                ranges, max_gap=self.options.max_gap, max_request_bytes=self.options.max_request_bytes
            ):
                members = [(indices[m], ranges[m]) for m in group.members]
                tasks.append(asyncio.ensure_future(self._read_group(state, source, group, members)))
        try:
            for done in asyncio.as_completed(tasks):
                deliver(await done)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _read_group(
        self, state: _LoopState, source: SourceObject, group: RangeGroup, members: list[tuple[int, tuple[int, int]]]
    ) -> list[tuple[int, memoryview]]:
        view = await self._request(state, source, group.start, group.end)
        return [(i, view[s - group.start : e - group.start]) for i, (s, e) in members]

    async def _request(
        self, state: _LoopState, source: SourceObject, start: int, end: int, wanted: Callable[[], bool] | None = None
    ) -> memoryview | None:
        """One ranged GET of ``[start, end)``, counted, bounded and length-checked (None: nobody wants it now)."""
        url = source.url or source.path
        async with state.semaphore:
            if wanted is not None and not wanted():
                return None
            self._in_flight += 1
            self.stats.peak_in_flight = max(self.stats.peak_in_flight, self._in_flight)
            try:
                with storage_errors(url, "reading chunks"):
                    data = await _get_range(source, start, end)
            finally:
                self._in_flight -= 1
        self.stats.requests += 1
        self.stats.bytes += end - start
        view = memoryview(data)
        if len(view) != end - start:
            # A response of the wrong length (a broken proxy, a short body the client took as
            # whole): every slice of it could be other bytes, so nobody gets one.
            raise SourceReadError(
                f"reading chunks: asked for bytes [{start}, {end}) but got {len(view)} bytes", url=url
            )
        return view

    async def _fetch(self, state: _LoopState, batch: _Batch, group: RangeGroup) -> None:
        waiters = [batch.waiters[i] for i in group.members]
        try:
            view = await self._request(
                state, batch.source, group.start, group.end, wanted=lambda: not all(w.done() for w in waiters)
            )
        except BaseException as error:  # noqa: BLE001 - delivered to every waiter, then re-raised if fatal
            for waiter in waiters:
                if not waiter.done():
                    if isinstance(error, asyncio.CancelledError):
                        waiter.cancel()
                    else:
                        waiter.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        if view is None:  # every reader gave up (cancelled) meanwhile
            return
        for i, waiter in zip(group.members, waiters, strict=True):
            if not waiter.done():
                s, e = batch.ranges[i]
                waiter.set_result(view[s - group.start : e - group.start])


async def _get_range(source: SourceObject, start: int, end: int) -> Any:
    if source.etag is None:
        return await source.store.get_range_async(source.path, start=start, end=end)
    result = await source.store.get_async(source.path, options={"range": (start, end), "if_match": source.etag})
    return await result.bytes_async()


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


class TIFFManifestStore(ManifestStore):
    """A :class:`~virtualizarr.manifests.ManifestStore` that coalesces chunk reads (see the module).

    Same constructor as ManifestStore plus ``options`` (:class:`CoalesceOptions`). Wrap a store a
    parser returned with :meth:`from_store`. ``reader.stats`` counts reads, requests and bytes.
    Chunk reads of a source whose ETag was recorded (the ``virtual_tiff`` root attribute) are
    conditional on that ETag: a changed source raises SourceChangedError instead of returning
    other pixels.
    """

    def __init__(
        self,
        group: ManifestGroup,
        *,
        registry: ObjectStoreRegistry | None = None,
        options: CoalesceOptions | None = None,
    ) -> None:
        super().__init__(group, registry=registry)
        self.reader = RangeReader(options)
        self._etags = {url: info.etag for url, info in read_sources(group.metadata.attributes).items()}

    @classmethod
    def from_store(cls, store: ManifestStore, options: CoalesceOptions | None = None) -> TIFFManifestStore:
        """The same group and registry, read through a coalescing reader."""
        return cls(store._group, registry=store._registry, options=options)

    def __str__(self) -> str:
        # zarr formats a store into every StorePath's name as arrays open: the group's repr (every
        # array and its manifest) cost 0.3 ms per open, a tenth of opening a 64-file stack.
        urls = list(self._etags)
        return f"TIFFManifestStore({urls[0] if len(urls) == 1 else f'{len(urls)} sources'})"

    def __eq__(self, value: object) -> bool:
        return self is value

    __hash__ = object.__hash__

    def _resolve(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None
    ) -> Buffer | RangeRequest | None:
        """What ``get`` answers without I/O, or the byte range it must read (ManifestStore's rules)."""
        node, suffix = _get_deepest_group_or_array(self._group, key)
        if suffix.endswith("zarr.json"):
            return node.metadata.to_buffer_dict(prototype=default_buffer_prototype())["zarr.json"]
        if suffix.endswith((".zattrs", ".zgroup", ".zarray", ".zmetadata")):
            return None  # zarr probes v2 / consolidated documents: absent
        if isinstance(node, ManifestGroup):
            raise ValueError("Key requested is a group but the key does not end in `zarr.json`")
        manifest = node.manifest
        separator: Literal[".", "/"] = getattr(node.metadata.chunk_key_encoding, "separator", ".")
        index = parse_manifest_index(key, separator, expand_pattern=True)
        if index in manifest._inlined:
            data = manifest._inlined[index]
            if byte_range is not None:
                r = _transform_byte_range(byte_range, chunk_start=0, chunk_end_exclusive=len(data))
                data = data[r.start : r.end]
            return prototype.buffer.from_bytes(data)
        entry = manifest.get_entry(index)
        if entry is None:
            return None
        url, offset, length = entry["path"], int(entry["offset"]), int(entry["length"])
        try:
            store, _ = self._registry.resolve(url)
        except ValueError as exc:  # never a fallback store: only the user's registry resolves urls
            raise VirtualTIFFError(f"no store registered for this url ({exc})", url=url) from None
        if not store:
            raise VirtualTIFFError("no store registered for this url", url=url)
        path = urlparse(url).path
        if getattr(store, "prefix", None):
            prefix = str(store.prefix).lstrip("/")
        elif hasattr(store, "url"):
            prefix = urlparse(store.url).path.lstrip("/")
        else:
            prefix = ""
        path = path.lstrip("/").removeprefix(prefix).lstrip("/")
        r = _transform_byte_range(byte_range, chunk_start=offset, chunk_end_exclusive=offset + length)
        return RangeRequest(SourceObject(store, path, url, self._etags.get(url)), int(r.start), int(r.end))

    async def _read(self, found: Buffer | RangeRequest | None, prototype: BufferPrototype) -> Buffer | None:
        if not isinstance(found, RangeRequest):
            return found
        source = found.source
        data = await self.reader.read(source.store, source.path, found.start, found.end, url=source.url, etag=source.etag)
        return prototype.buffer.from_bytes(data)  # type: ignore[arg-type]

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        # docstring inherited
        return await self._read(self._resolve(key, prototype, byte_range), prototype)

    async def read_chunks(
        self,
        keys: Sequence[str],
        prototype: BufferPrototype,
        deliver: Callable[[list[tuple[int, Buffer | None]]], None],
    ) -> None:
        """Read the chunks at ``keys`` together, as few merged requests as the options allow.

        ``deliver`` gets ``(index into keys, bytes or None for a missing chunk)`` pairs: first the
        chunks answered without I/O, then each merged response's chunks as it completes. This is
        the entry point of :class:`~virtual_tiff.pipeline.TIFFCodecPipeline`, which knows a
        read's whole selection.
        """
        found = [self._resolve(key, prototype, None) for key in keys]
        reads = [i for i, item in enumerate(found) if isinstance(item, RangeRequest)]
        ready = [(i, item) for i, item in enumerate(found) if not isinstance(item, RangeRequest)]
        if ready:
            deliver(ready)
        requests = [found[i] for i in reads]
        await self.reader.read_many(
            requests,  # type: ignore[arg-type]
            lambda pieces: deliver([(reads[j], prototype.buffer.from_bytes(view)) for j, view in pieces]),  # type: ignore[arg-type]
        )

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        # docstring inherited; all ranges join one batch per object, so they merge like ``get``s
        found = [self._resolve(key, prototype, byte_range) for key, byte_range in key_ranges]
        return list(await asyncio.gather(*(self._read(f, prototype) for f in found)))

    async def exists(self, key: str) -> bool:
        """True for the metadata document of every node and for every chunk with bytes (no I/O)."""
        node: ManifestGroup | Any = self._group
        parts = key.split("/")
        for i, part in enumerate(parts):
            if isinstance(node, ManifestGroup) and part in node.groups:
                node = node.groups[part]
            elif isinstance(node, ManifestGroup) and part in node.arrays:
                node = node.arrays[part]
            else:
                rest = "/".join(parts[i:])
                break
        else:
            return False  # the key names a node, not a document in it
        if rest == "zarr.json":
            return True
        if isinstance(node, ManifestGroup):
            return False
        manifest = node.manifest
        separator = getattr(node.metadata.chunk_key_encoding, "separator", ".")
        try:
            index = parse_manifest_index(rest, separator, expand_pattern=True)
        except ValueError:
            return False
        if len(index) != manifest.ndim_chunk_grid or any(
            i >= n for i, n in zip(index, manifest.shape_chunk_grid, strict=True)
        ):
            return False
        return index in manifest._inlined or manifest.get_entry(index) is not None
