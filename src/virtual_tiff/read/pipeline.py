"""A zarr codec pipeline that reads a whole selection as one plan, and decodes it on every core.

zarr's default pipeline reads one chunk per coroutine, at most ``async.concurrency`` (10) at a
time, and decodes each through one coroutine per codec step. Over object storage that costs
round trips (a 16-tile COG: two batches; 512 one-row strips: 52) and, for small chunks, more
Python than decoding. Only the pipeline sees a read's whole selection, so that is where the read
is planned: for chunks of a :class:`~virtual_tiff.read.TIFFManifestStore`,
:class:`TIFFCodecPipeline` hands every key to :meth:`TIFFManifestStore.read_chunks` at once
(merged ranges, requests bounded by the store's ``CoalesceOptions``), and decodes each merged
response as it lands, split over the cores, straight into the output array.

Decoding runs the chunk's own codec chain synchronously, with one exception decided in
:data:`SIZED_DECODERS`: a Deflate step that directly feeds the ``bytes`` serializer knows its
decoded size, and given that size imagecodecs decodes with libdeflate instead of zlib (about
twice as fast). The stored metadata does not change: any zarr reader still decodes it with the
codecs it names.

Everything else (other stores, single-chunk reads, writes, chains without synchronous codecs)
is zarr's :class:`~zarr.core.codec_pipeline.BatchedCodecPipeline` unchanged. Importing
``virtual_tiff`` registers this pipeline as ``virtual_tiff.read.pipeline.TIFFCodecPipeline`` and makes
it zarr's default unless the user configured another one (``codec_pipeline.path``; set it after
the import to opt out). It is deliberately not a ``zarr.codec_pipeline`` entry point: zarr loads
those on every array open, which would switch the pipeline of processes that never asked for
virtual_tiff.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import imagecodecs
from zarr.abc.codec import (
    ArrayArrayCodec,
    ArrayBytesCodec,
    BytesBytesCodec,
    Codec,
    GetResult,
)
from zarr.codecs import BytesCodec
from zarr.core.array_spec import ArraySpec
from zarr.core.buffer import Buffer, BufferPrototype, NDBuffer
from zarr.core.chunk_utils import scatter_chunk
from zarr.core.codec_pipeline import BatchedCodecPipeline
from zarr.core.config import config
from zarr.registry import register_pipeline

__all__ = ["PIPELINE", "SIZED_DECODERS", "ChunkDecoder", "PlannedReads", "TIFFCodecPipeline"]

#: The ``codec_pipeline.path`` that names this pipeline in zarr's configuration.
PIPELINE = "virtual_tiff.read.pipeline.TIFFCodecPipeline"


@runtime_checkable
class PlannedReads(Protocol):
    """A store that reads a whole selection as one plan (:class:`~virtual_tiff.read.TIFFManifestStore`).

    The pipeline depends on this shape, not on the store's class: single reads (``get``, where
    concurrent reads may still merge) and whole selections (``read_chunks``, delivering each
    merged response's chunks as it lands).
    """

    async def get(self, key: str, prototype: BufferPrototype, byte_range: Any = None) -> Buffer | None: ...

    async def read_chunks(
        self,
        keys: Sequence[str],
        prototype: BufferPrototype,
        deliver: Callable[[list[tuple[int, Buffer | None]]], None],
    ) -> None: ...


def _libdeflate(codec: Codec, data: Buffer, size: int) -> Any | None:
    if codec.to_dict().get("configuration", {}).get("raw"):
        return None  # raw Deflate streams (imagecodecs_deflate raw=true): the codec's own path
    return imagecodecs.deflate_decode(data.as_numpy_array(), out=size)


#: Decoders that are faster when told the decoded size, by codec name. A decoder returns the
#: decoded bytes, or None to leave the chunk to the codec's own ``_decode_sync``.
SIZED_DECODERS: dict[str, Callable[[Codec, Buffer, int], Any | None]] = {
    "numcodecs.zlib": _libdeflate,
    "imagecodecs_deflate": _libdeflate,
}


@dataclass(frozen=True)
class ChunkDecoder:
    """A codec chain decoded synchronously, with the sized fast path where it applies."""

    array_array: tuple[ArrayArrayCodec, ...]
    array_bytes: ArrayBytesCodec
    bytes_bytes: tuple[BytesBytesCodec, ...]
    sized: Callable[[Codec, Buffer, int], Any | None] | None
    _specs: dict[ArraySpec, tuple[tuple[ArraySpec, ...], ArraySpec]] = field(default_factory=dict, compare=False)

    @classmethod
    def for_pipeline(cls, pipeline: BatchedCodecPipeline) -> ChunkDecoder | None:
        """The pipeline's chain, or None when a codec cannot decode without an event loop."""
        codecs = (*pipeline.array_array_codecs, pipeline.array_bytes_codec, *pipeline.bytes_bytes_codecs)
        if not all(hasattr(codec, "_decode_sync") and getattr(codec, "_sync_capable", True) for codec in codecs):
            return None
        sized = None
        if isinstance(pipeline.array_bytes_codec, BytesCodec) and pipeline.bytes_bytes_codecs:
            sized = SIZED_DECODERS.get(pipeline.bytes_bytes_codecs[0].to_dict()["name"])
        return cls(pipeline.array_array_codecs, pipeline.array_bytes_codec, pipeline.bytes_bytes_codecs, sized)

    def _resolve(self, spec: ArraySpec) -> tuple[tuple[ArraySpec, ...], ArraySpec]:
        found = self._specs.get(spec)
        if found is None:
            inputs = []
            current = spec
            for codec in self.array_array:
                inputs.append(current)
                current = codec.resolve_metadata(current)
            found = self._specs[spec] = (tuple(inputs), current)
        return found

    def decode(self, data: Buffer, spec: ArraySpec) -> NDBuffer:
        array_array_specs, bytes_spec = self._resolve(spec)
        last = len(self.bytes_bytes) - 1
        for i, codec in enumerate(reversed(self.bytes_bytes)):
            if i == last and self.sized is not None:
                size = math.prod(bytes_spec.shape) * bytes_spec.dtype.to_native_dtype().itemsize
                decoded = _try_sized(self.sized, codec, data, size)
                if decoded is not None:
                    data = bytes_spec.prototype.buffer.from_bytes(decoded)
                    continue
            data = codec._decode_sync(data, bytes_spec)  # type: ignore[attr-defined]
        array = self.array_bytes._decode_sync(data, bytes_spec)  # type: ignore[attr-defined]
        for codec, codec_spec in zip(reversed(self.array_array), reversed(array_array_specs), strict=True):
            array = codec._decode_sync(array, codec_spec)  # type: ignore[attr-defined]
        return array


def _try_sized(decoder: Callable[[Codec, Buffer, int], Any | None], codec: Codec, data: Buffer, size: int) -> Any | None:
    """The sized decoder's bytes, or None (the codec's own path then decodes, and raises its own errors)."""
    try:
        decoded = decoder(codec, data, size)
    except Exception:  # noqa: BLE001 - larger than the chunk, or corrupt: the codec's own decode decides
        return None
    if decoded is None or len(decoded) != size:
        return None  # shorter than a chunk: the serializer's own check reports it
    return decoded


type ReadItem = tuple[Any, ArraySpec, Any, Any, bool]


@dataclass(frozen=True)
class TIFFCodecPipeline(BatchedCodecPipeline):
    """zarr's batched pipeline, except that reads from our stores are planned whole (see the module)."""

    async def read(
        self,
        batch_info: Iterable[ReadItem],
        out: NDBuffer,
        drop_axes: tuple[int, ...] = (),
    ) -> tuple[GetResult, ...]:
        batch = list(batch_info)
        store = _planned_store(batch)
        if store is None or self.supports_partial_decode:  # sharding reads its own inner ranges
            return await super().read(batch, out, drop_axes)
        decoder = ChunkDecoder.for_pipeline(self)
        results: list[GetResult | None] = [None] * len(batch)
        loop = asyncio.get_running_loop()
        jobs: list[asyncio.Future] = []

        def scatter(pieces: Sequence[tuple[int, Buffer | None]], decoded: Sequence[NDBuffer | None]) -> None:
            for (i, _), array in zip(pieces, decoded, strict=True):
                _, spec, chunk_selection, out_selection, _ = batch[i]
                selected = None if array is None else array[chunk_selection]
                results[i] = scatter_chunk(selected, out, chunk_spec=spec, out_selection=out_selection, drop_axes=drop_axes)

        def decode_and_scatter(pieces: Sequence[tuple[int, Buffer | None]]) -> None:
            assert decoder is not None
            scatter(pieces, [None if data is None else decoder.decode(data, batch[i][1]) for i, data in pieces])

        async def decode_on_loop(pieces: Sequence[tuple[int, Buffer | None]]) -> None:
            scatter(pieces, list(await self.decode([(data, batch[i][1]) for i, data in pieces])))

        def deliver(pieces: list[tuple[int, Buffer | None]]) -> None:
            if decoder is None:
                jobs.append(asyncio.ensure_future(decode_on_loop(pieces)))
                return
            for part in _split(pieces, _workers()):
                jobs.append(loop.run_in_executor(None, decode_and_scatter, part))

        keys, prototype = [item[0].path for item in batch], batch[0][1].prototype
        try:
            if len(keys) == 1:  # joins the store's batch window, where concurrent single reads (dask's) merge
                deliver([(0, await store.get(keys[0], prototype))])
            else:
                await store.read_chunks(keys, prototype, deliver)
        finally:
            outcomes = await asyncio.gather(*jobs, return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return tuple(results)  # type: ignore[arg-type]


def _planned_store(batch: list[ReadItem]) -> PlannedReads | None:
    """The store that plans reads (ours) every chunk of ``batch`` comes from, or None."""
    if not batch:
        return None
    store = getattr(batch[0][0], "store", None)
    if not isinstance(store, PlannedReads):
        return None
    if any(getattr(item[0], "store", None) is not store for item in batch):
        return None
    return store


_CPUS = os.cpu_count() or 1


def _workers() -> int:
    return int(config.get("threading.max_workers", None) or _CPUS)


def _split[T](items: Sequence[T], parts: int) -> list[Sequence[T]]:
    """``items`` in at most ``parts`` contiguous runs of near-equal length (one thread hand-off each)."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    runs, start = [], 0
    for k in range(parts):
        end = start + size + (k < extra)
        runs.append(items[start:end])
        start = end
    return runs


register_pipeline(TIFFCodecPipeline)
