"""Coalescing range reads: concurrent reads of one object answered from merged requests.

A read that knows its whole selection (:meth:`RangeReader.read_many`) is planned at once. Reads
that arrive one at a time (:meth:`RangeReader.read`: dask's one-task-per-chunk reads, or another
pipeline) join a batch for their object, sent once no read joined it for ``batch_window`` seconds
(at most ``batch_max_wait`` after its first read); only reads pending together can merge.
Either way :func:`~virtual_tiff.read.plan_ranges` merges the ranges; at most
``max_concurrent_requests`` of a reader's requests are in flight per event loop, and at most
``virtual_tiff.io.REQUEST_SLOTS.limit`` of the whole process's. A fetch whose every reader was
cancelled is cancelled too, which closes its connection.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from zarr.core.buffer import Buffer

from virtual_tiff.errors import SourceChangedError, SourceReadError
from virtual_tiff.io import FIRST_BYTE_TIMEOUT, MIN_BYTES_PER_SECOND, request_deadline, request_slot, storage_errors
from virtual_tiff.read._plan import KiB, MiB, RangeGroup, plan_ranges


@dataclass(frozen=True)
class CoalesceOptions:
    """How :class:`RangeReader` batches and merges reads.

    ``max_gap``: largest hole (bytes) read and thrown away to merge two ranges; and
    ``max_gap_ratio``: larger holes are read too while a request spans at most ``1 + max_gap_ratio``
    times the bytes wanted from it (see :mod:`virtual_tiff.read._plan`; ``0`` turns that off).
    ``max_request_bytes``: a merged request never grows beyond this (keeps big reads parallel).
    ``batch_window``: a batch of reads of one object is sent once no read joined it for this many
    seconds (zarr's chunk reads arrive a little apart as slots free up after decoding); ``0``
    sends it after one event-loop turn without a new read (reads started together still merge).
    ``batch_max_wait``: ... but never later than this many seconds after its first read.
    ``max_concurrent_requests``: requests in flight per event loop, over all objects.
    ``first_byte_timeout`` and ``min_bytes_per_second``: a request of ``n`` bytes fails (as
    SourceReadError) after ``first_byte_timeout + n / min_bytes_per_second`` seconds, retries
    included: a stalled or trickling server fails a read within seconds, a large read on a slow
    link still completes. ``None`` waits as long as the store does.
    """

    max_gap: int = 64 * KiB
    max_gap_ratio: float = 1.0
    max_request_bytes: int = 32 * MiB
    batch_window: float = 0.001
    batch_max_wait: float = 0.005
    max_concurrent_requests: int = 64
    first_byte_timeout: float | None = FIRST_BYTE_TIMEOUT
    min_bytes_per_second: float = MIN_BYTES_PER_SECOND

    def plan(self, ranges: Sequence[tuple[int, int]]) -> list[RangeGroup]:
        """The requests that answer ``ranges`` of one object under these options."""
        return plan_ranges(ranges, max_gap=self.max_gap, max_gap_ratio=self.max_gap_ratio,
                           max_request_bytes=self.max_request_bytes)

    def deadline(self, nbytes: int) -> float | None:
        """Seconds a request of ``nbytes`` may take, or None."""
        return request_deadline(nbytes, self.first_byte_timeout, self.min_bytes_per_second)

    def __post_init__(self) -> None:
        if self.max_gap < 0 or self.max_gap_ratio < 0 or self.max_request_bytes < 1 or self.batch_window < 0 or self.batch_max_wait < 0:
            raise ValueError(f"invalid coalescing options: {self}")
        if self.max_concurrent_requests < 1:
            raise ValueError(f"max_concurrent_requests must be >= 1, got {self.max_concurrent_requests}")
        if (self.first_byte_timeout is not None and self.first_byte_timeout <= 0) or self.min_bytes_per_second <= 0:
            raise ValueError(f"timeouts must be positive: {self}")


@dataclass(frozen=True)
class SourceObject:
    """``path`` in an obstore ``store`` (``url`` names it in errors).

    ``etag`` and ``size``: the version reads must come from, as recorded when the store was built.
    """

    store: Any
    path: str
    url: str = ""
    etag: str | None = None
    size: int | None = None

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
        self, store: Any, path: str, start: int, end: int, *, url: str = "", etag: str | None = None,
        size: int | None = None,
    ) -> Buffer | bytes | memoryview:
        """Bytes ``[start, end)`` of ``path`` in ``store``, fetched together with concurrent reads.

        With ``etag`` (and ``size``), the recorded version: every request is conditional on it
        (``if_match``) and the response's ETag and size are compared, so an object rewritten since
        raises SourceChangedError, never other bytes.
        """
        if end <= start:
            return b""
        if start < 0:  # refused here: in the batch it would fail a callback no reader waits on
            raise ValueError(f"invalid byte range ({start}, {end})")
        loop = asyncio.get_running_loop()
        state = self._state(loop)
        source = SourceObject(store, path, url, etag, size)
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
        groups = self.options.plan(batch.ranges)
        for group in groups:
            task = asyncio.ensure_future(self._fetch(state, batch, group))
            state.tasks.add(task)
            task.add_done_callback(state.tasks.discard)
            _cancel_when_abandoned(task, [batch.waiters[i] for i in group.members])

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
            for group in self.options.plan(ranges):
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
        async with state.semaphore, request_slot():
            if wanted is not None and not wanted():
                return None
            self._in_flight += 1
            self.stats.peak_in_flight = max(self.stats.peak_in_flight, self._in_flight)
            try:
                with storage_errors(url, "reading chunks"):
                    async with asyncio.timeout(self.options.deadline(end - start)):
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


def _cancel_when_abandoned(task: asyncio.Task, waiters: list[asyncio.Future]) -> None:
    """Cancel ``task`` (and so close its request's connection) once every reader waiting on it
    was cancelled: a cancelled ``ds.load()`` leaves no request running."""

    def on_done(waiter: asyncio.Future) -> None:
        if waiter.cancelled() and not task.done() and all(w.done() for w in waiters):
            task.cancel()

    for waiter in waiters:
        waiter.add_done_callback(on_done)


async def _get_range(source: SourceObject, start: int, end: int) -> Any:
    """Bytes ``[start, end)`` of the recorded version of ``source``, or SourceChangedError.

    The request is conditional on the recorded ETag (``If-Match``), and the response's own ETag
    and object size are compared too: a server or cache that ignores ``If-Match`` still says
    which version it served.
    """
    if source.etag is None and source.size is None:
        return await source.store.get_range_async(source.path, start=start, end=end)
    options: dict[str, Any] = {"range": (start, end)}
    if source.etag is not None:
        options["if_match"] = source.etag
    result = await source.store.get_async(source.path, options=options)
    _check_version(source, result.meta)
    return await result.bytes_async()


def _check_version(source: SourceObject, meta: Any) -> None:
    etag, size = meta.get("e_tag"), meta.get("size")
    if source.etag is not None and etag is not None and etag != source.etag:
        raise SourceChangedError(
            f"reading chunks: the object's ETag is {etag}, {source.etag} was recorded: it changed since the "
            "store was built", url=source.url)
    if source.size is not None and size is not None and int(size) != source.size:
        raise SourceChangedError(
            f"reading chunks: the object has {int(size)} bytes, {source.size} were recorded: it changed since "
            "the store was built", url=source.url)
