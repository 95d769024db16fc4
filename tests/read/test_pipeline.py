"""TIFFCodecPipeline: whole-selection reads planned by the store, decoded on threads, zarr's pipeline elsewhere."""

from __future__ import annotations

import asyncio
import zlib

import numpy as np
import pytest
import zarr
from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import MemoryStore
from virtualizarr.manifests import ChunkManifest, ManifestArray, ManifestGroup
from virtualizarr.manifests.utils import create_v3_array_metadata
from zarr.codecs import BytesCodec
from zarr.registry import register_codec

import virtual_tiff.read.pipeline as pipeline
from virtual_tiff.errors import CorruptChunkError, SourceReadError
from virtual_tiff.read import (
    PIPELINE,
    ChunkDecoder,
    CoalesceOptions,
    TIFFCodecPipeline,
    TIFFManifestStore,
    use_by_default,
)

CHUNK = 256  # uint16 samples per chunk
GAP = 1000  # bytes between stored chunks


class SlowStore:
    """An obspec-like store over a MemoryStore that counts requests in flight (and can fail)."""

    def __init__(self, inner: MemoryStore, *, delay: float = 0.0, fail: bool = False) -> None:
        self.inner, self.delay, self.fail = inner, delay, fail
        self.in_flight = self.peak = self.calls = 0

    async def get_range_async(self, path, *, start, end):
        self.calls += 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
            if self.fail:
                raise OSError("connection reset")
            return await self.inner.get_range_async(path, start=start, end=end)
        finally:
            self.in_flight -= 1


def hand_store(codecs, encode, *, chunks=8, missing=(), options=None, **store_options):
    """A 1-d uint16 array of ``chunks`` chunks stored ``GAP`` bytes apart, each encoded by ``encode``."""
    values = np.arange(chunks * CHUNK, dtype="<u2") * 7
    memory = MemoryStore()
    blob, entries = b"", {}
    for i in range(chunks):
        if i in missing:
            entries[str(i)] = {"path": "", "offset": 0, "length": 0}
            values[i * CHUNK : (i + 1) * CHUNK] = 9  # the fill value
            continue
        data = encode(values[i * CHUNK : (i + 1) * CHUNK].tobytes())
        blob += bytes(GAP)
        entries[str(i)] = {"path": "memory:///blob.bin", "offset": len(blob), "length": len(data)}
        blob += data
    memory.put("blob.bin", blob)
    source = SlowStore(memory, **store_options)
    metadata = create_v3_array_metadata(
        shape=values.shape, data_type=np.dtype("<u2"), chunk_shape=(CHUNK,), fill_value=9, codecs=codecs,
        dimension_names=("x",),
    )
    group = ManifestGroup(arrays={"a": ManifestArray(metadata=metadata, chunkmanifest=ChunkManifest(entries=entries))})
    store = TIFFManifestStore(group, registry=ObjectStoreRegistry({"memory://": source}), options=options)
    return store, source, values


BYTES = {"name": "bytes", "configuration": {"endian": "little"}}
ZLIB = {"name": "numcodecs.zlib", "configuration": {"level": 6}}
BITORDER = {"name": "virtual_tiff.bitorder"}


def read(store):
    array = zarr.open_array(store, path="a", mode="r", zarr_format=3)
    assert isinstance(array._async_array.codec_pipeline, TIFFCodecPipeline)
    return array[:]


def test_importing_virtual_tiff_makes_it_zarrs_pipeline_unless_the_user_chose():
    assert zarr.config.get("codec_pipeline.path") == PIPELINE
    fused = "zarr.core.codec_pipeline.FusedCodecPipeline"
    with zarr.config.set({"codec_pipeline.path": fused}):
        use_by_default()
        assert zarr.config.get("codec_pipeline.path") == fused


def test_one_request_for_the_whole_selection_and_none_for_missing_chunks():
    store, source, values = hand_store([BYTES, ZLIB], zlib.compress, missing={3})
    np.testing.assert_array_equal(read(store), values)
    assert source.calls == 1 and store.reader.stats.requests == 1


@pytest.mark.parametrize("limit", [1, 3])
def test_requests_in_flight_are_bounded(limit):
    options = CoalesceOptions(max_gap=0, max_concurrent_requests=limit)
    store, source, values = hand_store([BYTES, ZLIB], zlib.compress, chunks=12, options=options, delay=0.01)
    np.testing.assert_array_equal(read(store), values)
    assert source.calls == 12 and source.peak == limit == store.reader.stats.peak_in_flight


def test_deflate_feeding_the_serializer_decodes_with_its_size(monkeypatch):
    sizes = []
    sized = pipeline.SIZED_DECODERS["numcodecs.zlib"]

    def spy(codec, data, size):
        sizes.append(size)
        return sized(codec, data, size)

    monkeypatch.setitem(pipeline.SIZED_DECODERS, "numcodecs.zlib", spy)
    store, _, values = hand_store([BYTES, ZLIB], zlib.compress)
    np.testing.assert_array_equal(read(store), values)
    assert sizes == [CHUNK * 2] * 8


def test_fill_order_2_keeps_the_deflate_after_it_bounded(monkeypatch):
    """The bit reversal keeps the length, so the Deflate decoded after it is still told the chunk's size."""
    import imagecodecs

    sizes = []
    sized = pipeline.SIZED_DECODERS["numcodecs.zlib"]

    def spy(codec, data, size):
        sizes.append(size)
        return sized(codec, data, size)

    monkeypatch.setitem(pipeline.SIZED_DECODERS, "numcodecs.zlib", spy)
    store, _, values = hand_store([BYTES, ZLIB, BITORDER], lambda raw: imagecodecs.bitorder_encode(zlib.compress(raw)))
    np.testing.assert_array_equal(read(store), values)
    assert sizes == [CHUNK * 2] * 8
    bomb, _, _ = hand_store([BYTES, ZLIB, BITORDER],
                            lambda raw: imagecodecs.bitorder_encode(zlib.compress(bytes(64 * 2**20))))
    with pytest.raises(CorruptChunkError, match="does not decode as declared"):  # 64 MiB: never inflated
        read(bomb)


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda raw: b"not deflate" + raw[:20], id="garbage"),
        pytest.param(lambda raw: zlib.compress(raw[:100]), id="decodes-short"),
        pytest.param(lambda raw: zlib.compress(raw + raw), id="decodes-long"),  # never silently cut
        pytest.param(lambda raw: zlib.compress(bytes(64 * 2**20)), id="bomb"),  # 64 MiB from 64 KB: never inflated
    ],
)
def test_deflate_that_does_not_fit_the_chunk_is_an_error_never_other_pixels(encode):
    store, _, _ = hand_store([BYTES, ZLIB], encode)
    with pytest.raises(CorruptChunkError, match="chunk a/c/0 does not decode as declared") as info:
        read(store)
    assert info.value.url == "memory:///blob.bin"


class AsyncOnlyBytes(BytesCodec):
    """zarr's ``bytes`` serializer as a codec that can only decode on the event loop."""

    _sync_capable = False

    @classmethod
    def from_dict(cls, data):
        return cls(endian="little")

    def to_dict(self):
        return {"name": "test.async_only_bytes", "configuration": {"endian": "little"}}


register_codec("test.async_only_bytes", AsyncOnlyBytes)


def test_a_chain_without_synchronous_codecs_decodes_on_the_event_loop():
    store, source, values = hand_store([{"name": "test.async_only_bytes"}], lambda raw: raw)
    array = zarr.open_array(store, path="a", mode="r", zarr_format=3)
    assert ChunkDecoder.for_pipeline(array._async_array.codec_pipeline) is None
    np.testing.assert_array_equal(array[:], values)
    assert source.calls == 1


def test_a_failed_request_fails_the_read_and_leaves_nothing_running():
    store, source, _ = hand_store([BYTES, ZLIB], zlib.compress, options=CoalesceOptions(max_gap=0), fail=True)
    with pytest.raises(SourceReadError, match="connection reset"):
        read(store)
    assert source.in_flight == 0


def test_other_stores_read_and_write_as_with_zarrs_pipeline(tmp_path):
    array = zarr.create_array(tmp_path / "plain.zarr", shape=(100, 100), chunks=(10, 10), dtype="int32",
                              compressors=[{"name": "zstd", "configuration": {"level": 3}}])
    assert isinstance(array._async_array.codec_pipeline, TIFFCodecPipeline)
    values = np.arange(10_000, dtype="int32").reshape(100, 100)
    array[:] = values
    array[5:15, 5:15] = -1
    values[5:15, 5:15] = -1
    np.testing.assert_array_equal(zarr.open_array(tmp_path / "plain.zarr", mode="r")[:], values)
