"""The process's bound on requests in flight, shared by header reads and chunk reads.

Each store and each stack batch bounds its own requests, but a user gathering thousands of
``parse_async`` calls, or reading many stores at once, would add those bounds up (1,812 requests
in flight were seen). :data:`REQUEST_SLOTS` is the one bound over all of them: the only
process-wide state of the package, because a process-wide bound is what it is for.

asyncio's primitives belong to one event loop, so the bound holds per loop. zarr-python runs
its I/O, and virtual-tiff's sync functions theirs, on zarr's one loop: per process in practice,
unless you run loops of your own in other threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import weakref
from collections.abc import AsyncIterator

#: The environment variable that sets the bound, read when a loop first asks for a slot.
MAX_REQUESTS_ENV = "VIRTUAL_TIFF_MAX_REQUESTS"
#: Four stores' worth of their own default (64), enough to fill a fast link.
DEFAULT_MAX_REQUESTS = 256


def _limit_from_env() -> int:
    raw = os.environ.get(MAX_REQUESTS_ENV)
    if raw is None:
        return DEFAULT_MAX_REQUESTS
    try:
        limit = int(raw)
    except ValueError:
        raise ValueError(f"{MAX_REQUESTS_ENV}={raw!r} is not an integer") from None
    if limit < 1:
        raise ValueError(f"{MAX_REQUESTS_ENV} must be >= 1, got {limit}")
    return limit


class RequestSlots:
    """At most ``limit`` requests in flight per event loop (``None``: from the environment)."""

    def __init__(self, limit: int | None = None) -> None:
        if limit is not None and limit < 1:
            raise ValueError(f"limit must be >= 1, got {limit}")
        self._limit = limit
        self._lock = threading.Lock()
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary()
        )
        #: Most requests in flight at once on any loop: what tests of the bound look at.
        self.peak = 0
        self._in_flight = 0

    @property
    def in_flight(self) -> int:
        """Requests holding a slot now, on every loop."""
        return self._in_flight

    @property
    def limit(self) -> int:
        return _limit_from_env() if self._limit is None else self._limit

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        with self._lock:
            semaphore = self._semaphores.get(loop)
            if semaphore is None:
                semaphore = self._semaphores[loop] = asyncio.Semaphore(self.limit)
            return semaphore

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one slot for the duration of one request."""
        async with self._semaphore():
            with self._lock:
                self._in_flight += 1
                self.peak = max(self.peak, self._in_flight)
            try:
                yield
            finally:
                with self._lock:
                    self._in_flight -= 1


#: The process's slots (see the module docstring).
REQUEST_SLOTS = RequestSlots()


def request_slot() -> contextlib.AbstractAsyncContextManager[None]:
    """A slot of the process's bound: ``async with request_slot(): <one request>``."""
    return REQUEST_SLOTS.slot()
