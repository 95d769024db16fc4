"""What a command fetched and how far it is: byte counts of the stores, and tqdm bars on stderr.

obspec-utils' ``TracingReadableStore`` records a ranged ``get`` as the whole
object's size (56 MB for 0.8 MB fetched), so the counts here come from what
each response holds: a ``get``'s ``range``, the bytes a range request returned.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fetched:
    """Requests made and bytes received through the stores wrapped by :class:`CountingStore`."""

    requests: int = 0
    bytes: int = 0

    def add(self, nbytes: int) -> None:
        self.requests += 1
        self.bytes += nbytes

    def __str__(self) -> str:
        return f"{self.requests} requests, {self.bytes / 1e6:.2f} MB fetched"


@dataclass(frozen=True)
class CountingStore:
    """A store that counts what its async reads fetched; everything else goes to the store as is."""

    store: Any
    fetched: Fetched

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    async def get_async(self, path: str, *, options: Any = None) -> Any:
        result = await self.store.get_async(path, options=options)
        start, end = result.range
        self.fetched.add(end - start)
        return result

    async def get_range_async(self, path: str, **where: Any) -> Any:
        data = await self.store.get_range_async(path, **where)
        self.fetched.add(len(memoryview(data)))
        return data

    async def get_ranges_async(self, path: str, **where: Any) -> Any:
        parts = await self.store.get_ranges_async(path, **where)
        self.fetched.add(sum(len(memoryview(part)) for part in parts))
        return parts

    async def head_async(self, path: str) -> Any:
        meta = await self.store.head_async(path)
        self.fetched.add(0)
        return meta


@dataclass
class Bar:
    """A tqdm bar on stderr (rate and ETA are tqdm's), with what was fetched so far.

    Silent with ``quiet`` or when stderr is no terminal: logs and pipes get
    only the command's final line.
    """

    desc: str
    unit: str
    fetched: Fetched | None = None
    quiet: bool = False
    _bar: Any = field(default=None, init=False, repr=False)

    def __call__(self, done: int, total: int) -> None:
        """A progress callback: ``done`` of ``total`` so far (what ``ReadOptions.progress`` calls)."""
        if self.quiet or not sys.stderr.isatty():
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.desc, unit=self.unit, file=sys.stderr, leave=True)
        self._bar.total = total
        if self.fetched is not None:
            self._bar.set_postfix_str(str(self.fetched), refresh=False)
        self._bar.update(done - self._bar.n)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
