"""TIFFManifestStore: the pure range planner, the batching reader, ManifestStore semantics, GETs on S3."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import xarray as xr
import zarr
from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import MemoryStore
from virtualizarr.manifests import (
    ChunkManifest,
    ManifestArray,
    ManifestGroup,
    ManifestStore,
)
from virtualizarr.manifests.utils import create_v3_array_metadata
from zarr.abc.store import RangeByteRequest, SuffixByteRequest
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync

from virtual_tiff import VirtualTIFF
from virtual_tiff.errors import SourceReadError
from virtual_tiff.read import (
    CoalesceOptions,
    RangeGroup,
    RangeReader,
    TIFFManifestStore,
    fast_read_config,
    plan_ranges,
)

KiB = 1024


# ----------------------------------------------------------------------------- the pure planner


def spans(groups: list[RangeGroup]) -> list[tuple[int, int, tuple[int, ...]]]:
    return [(g.start, g.end, g.members) for g in groups]


def test_plan_empty():
    assert plan_ranges([]) == []


def test_plan_adjacent_ranges_merge_even_without_gap():
    assert spans(plan_ranges([(0, 10), (10, 20), (20, 25)], max_gap=0)) == [(0, 25, (0, 1, 2))]


def test_plan_gap_under_and_over_threshold():
    ranges = [(0, 100), (100 + 64 * KiB, 200 + 64 * KiB), (201 + 128 * KiB, 300 + 128 * KiB)]
    # first gap is exactly max_gap (merged), second one is one byte more (not merged)
    assert spans(plan_ranges(ranges, max_gap=64 * KiB)) == [
        (0, 200 + 64 * KiB, (0, 1)),
        (201 + 128 * KiB, 300 + 128 * KiB, (2,)),
    ]
    assert len(plan_ranges(ranges, max_gap=10)) == 3


def test_plan_overlapping_contained_and_duplicate_ranges():
    ranges = [(0, 100), (50, 80), (90, 150), (0, 100)]
    assert spans(plan_ranges(ranges, max_gap=0)) == [(0, 150, (0, 3, 1, 2))]


def test_plan_unsorted_input_keeps_member_indices():
    ranges = [(5000, 5100), (0, 100), (100, 200), (10_000_000, 10_000_010)]
    assert spans(plan_ranges(ranges, max_gap=64 * KiB)) == [
        (0, 5100, (1, 2, 0)),
        (10_000_000, 10_000_010, (3,)),
    ]


def test_plan_request_size_cap():
    ranges = [(i * 100, i * 100 + 100) for i in range(10)]
    groups = plan_ranges(ranges, max_gap=0, max_request_bytes=300)
    assert spans(groups) == [(0, 300, (0, 1, 2)), (300, 600, (3, 4, 5)), (600, 900, (6, 7, 8)), (900, 1000, (9,))]
    # a single range larger than the cap is still one request
    assert spans(plan_ranges([(0, 1000)], max_request_bytes=10)) == [(0, 1000, (0,))]


def test_plan_rejects_invalid_ranges():
    with pytest.raises(ValueError):
        plan_ranges([(10, 5)])
    with pytest.raises(ValueError):
        plan_ranges([(-1, 5)])


# ----------------------------------------------------------------------------- the batching reader


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


# ----------------------------------------------------------------------------- ManifestStore semantics


class CountingStore:
    """Forwards to an obstore store, counting requests (the registry accepts any obspec store)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[tuple[str, int, int]] = []

    async def get_range_async(self, path, *, start, end):
        self.calls.append((path, start, end))
        return await self.inner.get_range_async(path, start=start, end=end)


@pytest.fixture
def hand_store():
    """A 1-d uint8 array of 5 chunks of 10: two in a file (8 bytes apart), one missing, one inlined."""
    memory = MemoryStore()
    blob = bytes(range(100))
    memory.put("data.bin", blob)
    counting = CountingStore(memory)
    url = "memory:///data.bin"
    manifest = ChunkManifest(
        entries={
            "0": {"path": url, "offset": 0, "length": 10},
            "1": {"path": url, "offset": 18, "length": 10},
            "2": {"path": "", "offset": 0, "length": 0},
            "3": {"path": "", "offset": 0, "length": 10, "data": bytes(range(200, 210))},
            "4": {"path": url, "offset": 90, "length": 10},
        }
    )
    metadata = create_v3_array_metadata(
        shape=(50,), data_type=np.dtype("uint8"), chunk_shape=(10,), fill_value=7, codecs=[{"name": "bytes"}],
        dimension_names=("x",),
    )
    group = ManifestGroup(arrays={"a": ManifestArray(metadata=metadata, chunkmanifest=manifest)})
    registry = ObjectStoreRegistry({"memory://": counting})
    options = CoalesceOptions(max_gap=8)  # chunks 0 and 1 merge, chunk 4 stays apart
    return TIFFManifestStore(group, registry=registry, options=options), ManifestStore(group, registry=registry), counting, blob


def test_store_reads_like_manifest_store(hand_store):
    store, plain, counting, blob = hand_store
    expected = np.concatenate([np.frombuffer(blob[0:10], "u1"), np.frombuffer(blob[18:28], "u1"),
                               np.full(10, 7, "u1"), np.arange(200, 210, dtype="u1"),
                               np.frombuffer(blob[90:100], "u1")])
    got = zarr.open_array(store, path="a", mode="r", zarr_format=3)[:]
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(zarr.open_array(plain, path="a", mode="r", zarr_format=3)[:], expected)
    ours = [c for c in counting.calls[: len(counting.calls) - 3]]
    assert sorted(ours) == [("data.bin", 0, 28), ("data.bin", 90, 100)]  # 0-10 and 18-28 merged


def test_store_get_semantics(hand_store):
    store, plain, _, blob = hand_store
    proto = default_buffer_prototype()
    for key in ("zarr.json", "a/zarr.json"):
        assert sync(store.get(key, proto)).to_bytes() == sync(plain.get(key, proto)).to_bytes()
    assert sync(store.get("a/.zarray", proto)) is None
    assert sync(store.get("a/c/2", proto)) is None
    assert sync(store.get("a/c/3", proto)).to_bytes() == bytes(range(200, 210))
    assert sync(store.get("a/c/3", proto, RangeByteRequest(2, 4))).to_bytes() == bytes([202, 203])
    assert sync(store.get("a/c/1", proto, RangeByteRequest(2, 5))).to_bytes() == blob[20:23]
    assert sync(store.get("a/c/4", proto, SuffixByteRequest(3))).to_bytes() == blob[97:100]


def test_store_get_partial_values_merges(hand_store):
    store, _, counting, blob = hand_store
    counting.calls.clear()
    got = sync(store.get_partial_values(default_buffer_prototype(), [
        ("a/c/0", None), ("a/c/1", RangeByteRequest(0, 4)), ("a/c/2", None), ("a/c/3", None), ("a/c/4", None),
    ]))
    assert got[0].to_bytes() == blob[:10] and got[1].to_bytes() == blob[18:22] and got[2] is None
    assert got[3].to_bytes() == bytes(range(200, 210)) and got[4].to_bytes() == blob[90:]
    assert sorted(counting.calls) == [("data.bin", 0, 22), ("data.bin", 90, 100)]


def test_store_exists(hand_store):
    store, *_ = hand_store
    exists = {k: sync(store.exists(k)) for k in
              ["zarr.json", "a/zarr.json", "a/c/0", "a/c/2", "a/c/3", "a/c/5", "a/c/0/0", "b/zarr.json", "a", "a/c"]}
    assert exists == {"zarr.json": True, "a/zarr.json": True, "a/c/0": True, "a/c/2": False, "a/c/3": True,
                      "a/c/5": False, "a/c/0/0": False, "b/zarr.json": False, "a": False, "a/c": False}


def test_store_pickles(hand_store):
    import pickle

    store, *_ = hand_store
    sync(store.get("a/c/0", default_buffer_prototype()))
    clone = pickle.loads(pickle.dumps(store.reader))
    assert clone.options == store.reader.options


# ----------------------------------------------------------------------------- GETs on S3 (moto)


def write_tiff(path, size, **options):
    import rasterio

    y, x = np.mgrid[0:size, 0:size]
    data = ((x * 3 + y * 2) % 65536).astype("uint16")
    with rasterio.open(path, "w", height=size, width=size, count=1, dtype="uint16", **options) as dst:
        dst.write(data[None])
    return data


ZARR_PIPELINE = {"codec_pipeline.path": "zarr.core.codec_pipeline.BatchedCodecPipeline"}


def test_full_cog_costs_one_get(s3, tmp_path):
    """What ``xr.open_zarr`` gets with no settings: our pipeline plans the 16 tiles as one request."""
    from tests.variants import read_rasterio

    path = tmp_path / "full.tif"
    written = write_tiff(path, 1024, driver="COG", blocksize=256, compress="DEFLATE", predictor=2)
    url = s3.upload(path, "store-full-cog.tif")
    store = VirtualTIFF(ifd=0)(url, s3.registry())
    assert isinstance(store, TIFFManifestStore)  # what the parser returns
    assert store._group.arrays["0"].manifest.shape_chunk_grid == (4, 4)
    s3.log.clear()
    values = xr.open_zarr(store, zarr_format=3, consolidated=False, chunks=None)["0"].values
    assert s3.log.count("GET", "store-full-cog.tif") == 1
    np.testing.assert_array_equal(values, read_rasterio(path))
    np.testing.assert_array_equal(values, written)
    # VirtualiZarr's plain ManifestStore under zarr's own pipeline pays one GET per tile
    s3.log.clear()
    with zarr.config.set(ZARR_PIPELINE):
        plain = ManifestStore(store._group, registry=store._registry)
        xr.open_zarr(plain, zarr_format=3, consolidated=False, chunks=None)["0"].values
    assert s3.log.count("GET", "store-full-cog.tif") == 16


def patient_cog_store(s3, tmp_path, key):
    """A 16-tile COG on S3 behind a generous batch window: merging must not depend on how busy the machine is."""
    path = tmp_path / key
    write_tiff(path, 1024, driver="COG", blocksize=256, compress="DEFLATE")
    store = TIFFManifestStore.from_store(VirtualTIFF(ifd=0)(s3.upload(path, key), s3.registry()),
                                         CoalesceOptions(batch_window=0.05, batch_max_wait=0.25))
    s3.log.clear()
    return path, store


def test_reads_merge_under_zarrs_own_pipeline_too(s3, tmp_path):
    """With zarr's pipeline (a user's choice) chunk reads arrive one by one and merge in the batch window."""
    from tests.variants import read_rasterio

    path, store = patient_cog_store(s3, tmp_path, "store-batched-cog.tif")
    with zarr.config.set(ZARR_PIPELINE):  # 16 chunk reads, 10 pending at a time (async.concurrency)
        values = xr.open_zarr(store, zarr_format=3, consolidated=False, chunks=None)["0"].values
    assert s3.log.count("GET", "store-batched-cog.tif") <= 3
    np.testing.assert_array_equal(values, read_rasterio(path))
    s3.log.clear()
    with zarr.config.set({**ZARR_PIPELINE, "async.concurrency": 64}):  # every tile pending at once
        values = xr.open_zarr(store, zarr_format=3, consolidated=False, chunks=None)["0"].values
    assert s3.log.count("GET", "store-batched-cog.tif") == 1
    np.testing.assert_array_equal(values, read_rasterio(path))


def test_dask_reads_merge_in_the_batch_window(s3, tmp_path):
    """xr.open_zarr's default (dask, one task per chunk): concurrent single-chunk reads still merge."""
    import dask

    from tests.variants import read_rasterio

    path, store = patient_cog_store(s3, tmp_path, "store-dask-cog.tif")
    with dask.config.set(scheduler="threads", num_workers=16):
        values = xr.open_zarr(store, zarr_format=3, consolidated=False)["0"].values
    assert s3.log.count("GET", "store-dask-cog.tif") < 16
    np.testing.assert_array_equal(values, read_rasterio(path))


def test_fast_read_config_settings():
    assert fast_read_config(32) == {"async.concurrency": 32, "codec_pipeline.path": "virtual_tiff.read.pipeline.TIFFCodecPipeline"}
    with pytest.raises(ValueError, match="concurrency"):
        fast_read_config(0)


def test_striped_window_costs_one_get(s3, tmp_path):
    from tests.variants import read_rasterio

    path = tmp_path / "striped.tif"
    write_tiff(path, 1024, driver="GTiff", blockysize=1, compress="DEFLATE")
    url = s3.upload(path, "store-striped.tif")
    store = VirtualTIFF(ifd=0)(url, s3.registry())
    s3.log.clear()
    window = xr.open_zarr(store, zarr_format=3, consolidated=False, chunks=None)["0"][300:556, 100:900].values
    assert s3.log.count("GET", "store-striped.tif") == 1  # 256 adjacent strips
    np.testing.assert_array_equal(window, read_rasterio(path)[300:556, 100:900])
    # zarr's own pipeline keeps async.concurrency (10) reads pending: batches are smaller; how small
    # depends on how fast zarr refills its slots after decoding (about 26 GETs idle, 61 seen on a
    # loaded machine), still far fewer GETs than the 256 strips
    s3.log.clear()
    with zarr.config.set(ZARR_PIPELINE):
        xr.open_zarr(store, zarr_format=3, consolidated=False, chunks=None)["0"][300:556].values
    assert s3.log.count("GET", "store-striped.tif") <= 128


# ----------------------------------------------------------------------------- the benchmark server (smoke)


def test_benchmark_server_speaks_enough_s3(tmp_path):
    """benchmarks/server.py: ranged GET (206), HEAD, latency and counters, through obstore's S3 client."""
    import time

    import obstore
    from obstore.store import S3Store

    from benchmarks.server import S3Server

    (tmp_path / "k.bin").write_bytes(DATA[:100_000])
    with S3Server(tmp_path, bucket="b", latency=0.05) as server:
        store = S3Store("b", endpoint=server.endpoint, region="us-east-1", skip_signature=True,
                        client_options={"allow_http": True, "timeout": "10s"})
        assert obstore.head(store, "k.bin")["size"] == 100_000
        t0 = time.perf_counter()

        async def four():
            return await asyncio.gather(*(obstore.get_range_async(store, "k.bin", start=i, end=i + 10)
                                          for i in range(0, 40, 10)))

        parts = run(four())
        assert time.perf_counter() - t0 < 0.5  # waits overlap: ~one latency, not four
        assert b"".join(bytes(p) for p in parts) == DATA[:40]
        assert bytes(obstore.get_ranges(store, "k.bin", starts=[99_990], ends=[100_000])[0]) == DATA[99_990:100_000]
        stats = server.counters.snapshot()
        assert stats["gets"] == 5 and stats["heads"] == 1 and stats["bytes"] == 50 and stats["peak_in_flight"] >= 2
        with pytest.raises(FileNotFoundError):
            obstore.head(store, "missing.bin")
