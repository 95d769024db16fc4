"""Many headers -> one small record per file, in batches, building each array's metadata once.

Most stacks are thousands of files written by one producer: their headers
differ only in where the tiles are (TileOffsets/TileByteCounts). Building a
file's Zarr metadata, codec chain, CRS and x/y coordinates costs about 5 ms of
CPU, while reading its header costs well under 1 ms; so each distinct header
*signature* (every tag of every IFD read, except the four offset/byte-count
tags) is turned into a :class:`Template` once, through the same code path as
:class:`~virtual_tiff.parser.VirtualTIFF`, and every other file with that
signature only gets its own chunk manifests. The arrays are a pure function of
those tags, the url and the object size, so the result is identical to
parsing each file on its own (``tests/test_stack.py`` checks this).

Headers are read in batches of ``batch_size`` files (at most
``max_concurrency`` requests in flight within a batch); each batch's parsed
IFDs are dropped once its manifests are extracted, so memory stays at one
batch of headers plus the manifests. Batches can run on any
``concurrent.futures.Executor`` (e.g. ``ProcessPoolExecutor``, or
``distributed.Client.get_executor()``) to spread the parsing CPU over cores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Literal

import numpy as np
import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ChunkManifest, ManifestArray, ManifestGroup
from zarr.core.sync import sync

from virtual_tiff.errors import VirtualTIFFError
from virtual_tiff.parser import VirtualTIFF
from virtual_tiff.provenance import ATTRIBUTE
from virtual_tiff.signatures import own_manifests, signature
from virtual_tiff.source import ObjectInfo
from virtual_tiff.tiff.reader import TIFFFile

OnError = Literal["raise", "skip"]
Progress = Callable[[int, int], None]

@dataclass(frozen=True, eq=False)
class Template:
    """What all files with one header signature share: a virtual dataset of the first of them.

    Its data variables carry the metadata (codecs, attributes); its coordinates
    (``x``, ``y``, ``spatial_ref``) are loaded numpy values; its attributes are
    the file's group attributes without the per-file provenance.
    """

    dataset: xr.Dataset

    @property
    def variables(self) -> list[str]:
        return [str(n) for n, v in self.dataset.variables.items() if isinstance(v.data, ManifestArray)]


@dataclass(frozen=True, eq=False)
class VirtualImage:
    """One file of a stack: its source info, its shared template and its own chunk manifests."""

    url: str
    info: ObjectInfo
    template: Template
    manifests: dict[str, ChunkManifest]

    def array(self, name: str) -> ManifestArray:
        """The file's own virtual array ``name`` (template metadata, this file's chunks)."""
        return ManifestArray(metadata=self.template.dataset[name].data.metadata, chunkmanifest=self.manifests[name])


@dataclass(frozen=True)
class Batch:
    """The outcome of one batch: images (None where a skipped file failed) and failures by url."""

    images: list[VirtualImage | None]
    failures: dict[str, VirtualTIFFError]


def template_of(tiff: TIFFFile, parser: VirtualTIFF) -> Template:
    """A template from a full parse of one file (the slow path, once per signature)."""
    ds = virtual_dataset(parser.group(tiff))
    ds.attrs = {k: v for k, v in ds.attrs.items() if k != ATTRIBUTE}
    return Template(ds)


def virtual_dataset(group: ManifestGroup) -> xr.Dataset:
    """The group's virtual dataset with the arrays that cost no request (``x``, ``y``,
    ``spatial_ref``: inlined or without chunks) as loaded coordinates, so xarray can
    index, compare and concatenate them. Decoded here, without zarr, so it also
    runs inside the event loop while other headers are being read."""
    vds = group.to_virtual_dataset()
    for name, variable in vds.variables.items():
        values = _free_values(variable.data)
        if values is not None:
            vds[name] = xr.Variable(variable.dims, values, variable.attrs)
    return vds.set_coords([n for n in vds.variables if not isinstance(vds[n].data, ManifestArray)])


def _free_values(array: ManifestArray) -> np.ndarray | None:
    """The values of an array with no chunk at all (fill value) or one inlined raw chunk; else None."""
    manifest, metadata = array.manifest, array.metadata
    if np.any(np.asarray(manifest._paths) != ""):
        return None
    dtype = metadata.data_type.to_native_dtype()
    inlined = manifest._inlined or {}
    if not inlined:
        return np.full(array.shape, metadata.fill_value, dtype=dtype)
    codecs = [c.to_dict() for c in metadata.codecs]
    if len(inlined) != 1 or tuple(array.metadata.chunks) != array.shape or [c["name"] for c in codecs] != ["bytes"]:
        return None
    endian = codecs[0].get("configuration", {}).get("endian", "little")
    raw = np.frombuffer(next(iter(inlined.values())), dtype=dtype.newbyteorder("<" if endian == "little" else ">"))
    return raw.astype(dtype).reshape(array.shape)


async def read_batch_async(
    urls: Sequence[str],
    registry: ObjectStoreRegistry,
    *,
    ifd: int = 0,
    max_concurrency: int = 64,
    on_error: OnError = "raise",
    templates: dict[tuple, Template] | None = None,
    progress: Callable[[], None] | None = None,
) -> Batch:
    """Read the headers of ``urls`` concurrently and turn each into a :class:`VirtualImage`.

    ``templates`` (signature -> template) is shared between batches of one
    build so each signature is parsed the slow way only once.
    """
    if max_concurrency < 1:
        raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
    parser = VirtualTIFF(ifd=ifd)
    templates = {} if templates is None else templates
    limit = asyncio.Semaphore(max_concurrency)
    failures: dict[str, VirtualTIFFError] = {}

    async def one(url: str) -> VirtualImage | None:
        async with limit:
            try:
                tiff = await parser.read_async(url, registry)
                key = signature(tiff)
                if key not in templates:
                    templates[key] = template_of(tiff, parser)
                    manifests = {n: templates[key].dataset[n].data.manifest for n in templates[key].variables}
                else:
                    manifests = own_manifests(tiff, ifd)
                return VirtualImage(url, tiff.reader.info, templates[key], manifests)
            except VirtualTIFFError as exc:
                if on_error == "raise":
                    raise
                failures[url] = exc
                return None
            finally:
                if progress is not None:
                    progress()

    tasks = [asyncio.ensure_future(one(url)) for url in urls]
    try:
        images = await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return Batch(list(images), failures)


def read_batch(urls: Sequence[str], registry: ObjectStoreRegistry, ifd: int, max_concurrency: int,
               on_error: OnError) -> Batch:
    """One batch, synchronously: what an executor's worker runs (picklable arguments and result)."""
    return sync(read_batch_async(urls, registry, ifd=ifd, max_concurrency=max_concurrency, on_error=on_error))


def batches(urls: Sequence[str], size: int) -> list[Sequence[str]]:
    if size < 1:
        raise ValueError(f"batch_size must be >= 1, got {size}")
    return [urls[i : i + size] for i in range(0, len(urls), size)]


def read_images(
    urls: Sequence[str],
    registry: ObjectStoreRegistry,
    *,
    ifd: int = 0,
    max_concurrency: int = 64,
    batch_size: int = 1024,
    on_error: OnError = "raise",
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> Batch:
    """Every url's :class:`VirtualImage`, in order, read ``batch_size`` files at a time.

    In this process the batches run one after another on zarr's event loop,
    sharing templates. With ``executor`` every batch is one task (templates are
    then built once per batch and worker); results come back in url order.
    """
    parts = batches(list(urls), batch_size)
    total, done = len(urls), 0
    images: list[VirtualImage | None] = []
    failures: dict[str, VirtualTIFFError] = {}

    def advance(n: int = 1) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    if executor is not None:
        futures = [executor.submit(read_batch, part, registry, ifd, max_concurrency, on_error) for part in parts]
        for part, future in zip(parts, futures, strict=True):
            batch = future.result()
            images += batch.images
            failures.update(batch.failures)
            advance(len(part))
        return Batch(images, failures)
    templates: dict[tuple, Template] = {}
    for part in parts:
        batch = sync(read_batch_async(part, registry, ifd=ifd, max_concurrency=max_concurrency, on_error=on_error,
                                      templates=templates, progress=advance))
        images += batch.images
        failures.update(batch.failures)
    return Batch(images, failures)
