"""A zarr codec pipeline that reads a whole selection as one plan, and decodes it on every core.

zarr's default pipeline reads one chunk per coroutine, at most ``async.concurrency`` (10) at a
time, and decodes each through one coroutine per codec step. Over object storage that costs
round trips (a 16-tile COG: two batches; 512 one-row strips: 52) and, for small chunks, more
Python than decoding. Only the pipeline sees a read's whole selection, so that is where the read
is planned: for chunks of a :class:`~virtual_tiff.read.TIFFManifestStore`,
:class:`TIFFCodecPipeline` hands every key to :meth:`TIFFManifestStore.read_chunks` at once
(merged ranges, requests bounded by the store's ``CoalesceOptions``), and decodes each merged
response as it lands, split over the cores, straight into the output array.

Decoding runs the chunk's own codec chain synchronously, bounded by what the header declares
(:mod:`virtual_tiff.read._decode`): the compressor's output by the chunk's size (Deflate then
decodes with libdeflate, about twice as fast as zlib), image frames by the chunk's shape, samples
by the array's type; a chunk that breaks a bound raises :class:`~virtual_tiff.CorruptChunkError`
naming the file and the chunk. The stored metadata does not change: any zarr reader still
decodes it with the codecs it names.

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
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from zarr.abc.codec import (
    GetResult,
)
from zarr.core.array_spec import ArraySpec
from zarr.core.buffer import Buffer, BufferPrototype, NDBuffer
from zarr.core.chunk_utils import scatter_chunk
from zarr.core.codec_pipeline import BatchedCodecPipeline
from zarr.core.config import config
from zarr.registry import register_pipeline

from virtual_tiff.errors import CorruptChunkError
from virtual_tiff.io import first_line
from virtual_tiff.read._decode import SIZED_DECODERS, ChunkDecoder

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

    def chunk_url(self, key: str) -> str | None:
        """The url of the object chunk ``key`` is read from (for errors), or None."""
        ...


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

        def decode_one(i: int, data: Buffer) -> NDBuffer:
            assert decoder is not None
            try:
                return decoder.decode(data, batch[i][1])
            except Exception as exc:  # noqa: BLE001 - any codec's failure on these bytes is a corrupt chunk
                raise _corrupt(store, batch[i][0].path, exc) from None

        def decode_and_scatter(pieces: Sequence[tuple[int, Buffer | None]]) -> None:
            scatter(pieces, [None if data is None else decode_one(i, data) for i, data in pieces])

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


def _corrupt(store: PlannedReads, key: str, exc: Exception) -> CorruptChunkError:
    """The codec's failure as our error, naming the file and the chunk; its type and first line kept."""
    return CorruptChunkError(f"chunk {key} does not decode as declared: {type(exc).__name__}: {first_line(exc)}",
                             url=store.chunk_url(key))


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
