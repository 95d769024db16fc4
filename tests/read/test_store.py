"""TIFFManifestStore: ManifestStore semantics over the coalescing reader, and what reads cost in GETs on S3."""

from __future__ import annotations

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

from tests.helpers.oracles import read_rasterio
from virtual_tiff import VirtualTIFF
from virtual_tiff.read import CoalesceOptions, TIFFManifestStore, fast_read_config

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


def test_a_whole_selection_resolves_as_key_by_key(hand_store):
    """read_chunks looks a selection's keys up in each manifest at once; every kind of key (read,
    missing, inlined, a document, a v2 probe) resolves exactly as ``get`` resolves it alone."""
    store, _, _, _ = hand_store
    proto = default_buffer_prototype()
    keys = ["a/c/4", "a/c/0", "a/c/2", "a/c/3", "a/zarr.json", "a/.zarray", "a/c/1"]

    def plain(found):
        if found is None or not hasattr(found, "source"):
            return None if found is None else found.to_bytes()
        return (found.source.url, found.start, found.end)

    assert [plain(f) for f in store._resolve_many(keys, proto)] == [plain(store._resolve(k, proto, None)) for k in keys]
    with pytest.raises(IndexError):  # a chunk beyond the grid is refused as ``get`` refuses it
        store._resolve_many(["a/c/9"], proto)
    # without inlined chunks the manifest is looked up vectorised: the same answers
    entries = {"0": {"path": "memory:///data.bin", "offset": 0, "length": 10}, "1": {"path": "", "offset": 0, "length": 0},
               "2": {"path": "memory:///data.bin", "offset": 40, "length": 10}}
    metadata = create_v3_array_metadata(shape=(30,), data_type=np.dtype("uint8"), chunk_shape=(10,), fill_value=0,
                                        codecs=[{"name": "bytes"}], dimension_names=("x",))
    flat = TIFFManifestStore(ManifestGroup(arrays={"b": ManifestArray(metadata=metadata, chunkmanifest=ChunkManifest(
        entries=entries))}), registry=store._registry)
    keys = ["b/c/2", "b/c/1", "b/c/0", "b/zarr.json"]
    assert [plain(f) for f in flat._resolve_many(keys, proto)] == [plain(flat._resolve(k, proto, None)) for k in keys]
    assert plain(flat._resolve_many(keys, proto)[0]) == ("memory:///data.bin", 40, 50)


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


def test_byte_ranges_beyond_a_chunk_raise_instead_of_waiting_forever(tmp_path, registry):
    import asyncio

    import tifffile
    from zarr.abc.store import OffsetByteRequest, SuffixByteRequest
    from zarr.core.buffer import default_buffer_prototype

    from tests.helpers.virtual import file_url
    from virtual_tiff import VirtualTIFF

    tifffile.imwrite(tmp_path / "t.tif", np.arange(64 * 64, dtype="uint16").reshape(64, 64), tile=(32, 32))
    store = VirtualTIFF(ifd=0)(file_url(tmp_path / "t.tif"), registry)
    for request in (SuffixByteRequest(10**7), OffsetByteRequest(10**7)):
        with pytest.raises(ValueError, match="the chunk has 2048 bytes"):
            asyncio.run(asyncio.wait_for(store.get("0/c/0/0", default_buffer_prototype(), request), 10))
