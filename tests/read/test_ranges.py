"""RangeReader: concurrent reads of one object merged into few requests, bounded, errors to their own waiters."""

from __future__ import annotations

import asyncio

import pytest

from virtual_tiff.errors import SourceReadError
from virtual_tiff.read import CoalesceOptions, RangeReader


class FakeStore:
    """An obspec-like store over bytes that records its requests (and can fail or be slow)."""

    def __init__(self, data: bytes, *, delay: float = 0.0, fail_at: int | None = None) -> None:
        self.data = data
        self.delay = delay
        self.fail_at = fail_at
        self.calls: list[tuple[int, int]] = []
        self.in_flight = 0
        self.peak = 0

    async def get_range_async(self, path: str, *, start: int, end: int) -> bytes:
        self.calls.append((start, end))
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.fail_at is not None and start <= self.fail_at < end:
                raise OSError(f"boom at {self.fail_at}")
            return self.data[start:end]
        finally:
            self.in_flight -= 1


DATA = bytes(range(256)) * 4096  # 1 MiB


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_reader_merges_concurrent_reads_and_slices():
    store = FakeStore(DATA)
    reader = RangeReader()
    ranges = [(300, 400), (0, 100), (100, 300), (500_000, 500_010)]

    async def main():
        return await asyncio.gather(*(reader.read(store, "f", s, e) for s, e in ranges))

    results = run(main())
    assert [bytes(r) for r in results] == [DATA[s:e] for s, e in ranges]
    assert sorted(store.calls) == [(0, 400), (500_000, 500_010)]
    assert reader.stats.requests == 2 and reader.stats.reads == 4


@pytest.mark.parametrize("window", [0.0, 0.002])
def test_reader_batches_reads_started_in_one_turn(window):
    store = FakeStore(DATA)
    reader = RangeReader(CoalesceOptions(batch_window=window))

    async def one(i):
        await asyncio.sleep(0)  # arrive a turn later than the task was created, as zarr's tasks do
        return await reader.read(store, "f", i * 1000, i * 1000 + 1000)

    async def main():
        return await asyncio.gather(*(one(i) for i in range(20)))

    results = run(main())
    assert b"".join(bytes(r) for r in results) == DATA[:20_000]
    assert store.calls == [(0, 20_000)]


def test_reader_keeps_objects_apart():
    a, b = FakeStore(DATA), FakeStore(DATA[::-1])
    reader = RangeReader()

    async def main():
        return await asyncio.gather(
            reader.read(a, "f", 0, 10), reader.read(b, "f", 10, 20), reader.read(a, "g", 10, 20)
        )

    ra, rb, rg = run(main())
    assert bytes(ra) == DATA[:10] and bytes(rb) == DATA[::-1][10:20] and bytes(rg) == DATA[10:20]
    assert a.calls == [(0, 10), (10, 20)] and b.calls == [(10, 20)]


def test_reader_errors_reach_only_their_waiters():
    store = FakeStore(DATA, fail_at=600_000)
    reader = RangeReader()

    async def main():
        return await asyncio.gather(
            reader.read(store, "f", 0, 100),
            reader.read(store, "f", 599_990, 600_010),
            reader.read(store, "f", 600_010, 600_020),  # merged with the failing one
            reader.read(store, "f", 900_000, 900_001),
            return_exceptions=True,
        )

    ok, bad, bad_too, ok_too = run(main())
    assert bytes(ok) == DATA[:100] and bytes(ok_too) == DATA[900_000:900_001]
    assert isinstance(bad, SourceReadError) and isinstance(bad.__cause__, OSError) and bad_too is bad


def test_reader_bounds_requests_in_flight():
    store = FakeStore(DATA, delay=0.01)
    reader = RangeReader(CoalesceOptions(max_gap=0, max_concurrent_requests=3))

    async def main():
        return await asyncio.gather(*(reader.read(store, "f", i * 10_000, i * 10_000 + 5) for i in range(12)))

    results = run(main())
    assert [bytes(r) for r in results] == [DATA[i * 10_000 : i * 10_000 + 5] for i in range(12)]
    assert len(store.calls) == 12 and store.peak == 3 and reader.stats.peak_in_flight == 3


def test_reader_works_on_several_event_loops():
    store = FakeStore(DATA)
    reader = RangeReader()
    for _ in range(3):  # asyncio primitives are per loop: a new loop must not trip on old ones
        assert bytes(run(reader.read(store, "f", 5, 9))) == DATA[5:9]
