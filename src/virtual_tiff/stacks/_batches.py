"""Many headers -> one small record per file, in batches, building each signature's metadata once.

Most stacks are thousands of files written by one producer: their headers differ only in where
the tiles are. Building a file's Zarr metadata, codec chain, CRS and x/y coordinates costs about
5 ms of CPU, while reading its header costs well under 1 ms; so each distinct header signature is
built once (:class:`~virtual_tiff.build.BuildCache`, through the same code path as
:class:`~virtual_tiff.VirtualTIFF`), and every other file with that signature only gets its own
chunk manifests. The arrays are a pure function of those tags, the url and the object size, so
the result is identical to parsing each file on its own (``tests/stacks`` checks this).

Headers are read in batches of ``batch_size`` files (at most ``max_concurrency`` requests in
flight within a batch); each batch's parsed IFDs are dropped once its manifests are extracted, so
memory stays at one batch of headers plus the manifests. Batches can run on any
``concurrent.futures.Executor`` (e.g. ``ProcessPoolExecutor``, or
``distributed.Client.get_executor()``) to spread the parsing CPU over cores.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Literal

from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ChunkManifest, ManifestArray
from zarr.core.sync import sync

from virtual_tiff.build import METADATA_KEYS, BuildCache, Template
from virtual_tiff.errors import VirtualTIFFError
from virtual_tiff.io import ObjectInfo, gather_all
from virtual_tiff.parser import VirtualTIFF

OnError = Literal["raise", "skip"]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReadOptions:
    """How a stack reads its files' headers; the same settings for every entry point and the CLI.

    ``ifd``: the IFD each file contributes. ``max_concurrency``: header reads in flight.
    ``batch_size``: files per batch (bounds the parsed headers held at once). ``on_error``:
    ``"raise"`` stops at the first file that fails; ``"skip"`` leaves out any file that fails, for
    whatever reason, and reports it.
    ``progress(done, total)``: called as each header is read. ``executor``: runs each batch as
    one task (``concurrent.futures``, or ``distributed.Client.get_executor()``).
    """

    ifd: int = 0
    max_concurrency: int = 64
    batch_size: int = 1024
    on_error: OnError = "raise"
    progress: Progress | None = None
    executor: Executor | None = None

    def __post_init__(self) -> None:
        if self.max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {self.max_concurrency}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {self.on_error!r}")


@dataclass(frozen=True, eq=False)
class VirtualImage:
    """One file of a stack: its source info, its shared template, its own chunk manifests and its
    own metadata attributes (``attributes``: the arrays' attributes of this file, of which the
    GDAL-metadata ones, :data:`~virtual_tiff.build.METADATA_KEYS`, are its own; files whose are
    equal share one mapping)."""

    url: str
    info: ObjectInfo
    template: Template
    manifests: dict[str, ChunkManifest]
    attributes: Mapping[str, Mapping[str, Any]]

    def array(self, name: str) -> ManifestArray:
        """The file's own virtual array ``name`` (template metadata, this file's chunks)."""
        return ManifestArray(metadata=self.template.dataset[name].data.metadata, chunkmanifest=self.manifests[name])

    def attrs(self, name: str) -> dict[str, Any]:
        """The file's own xarray attributes of ``name``: the template's, with this file's GDAL metadata."""
        shared, own = self.template.dataset[name].attrs, self.attributes.get(name, {})
        return {k: v for k, v in shared.items() if k not in METADATA_KEYS} | {
            k: v for k, v in own.items() if k in METADATA_KEYS}


@dataclass(frozen=True)
class Batch:
    """The outcome of one batch: images (None where a skipped file failed) and failures by url."""

    images: list[VirtualImage | None]
    failures: dict[str, VirtualTIFFError]


async def read_batch_async(
    urls: Sequence[str],
    registry: ObjectStoreRegistry,
    options: ReadOptions = ReadOptions(),
    *,
    cache: BuildCache | None = None,
    progress: Callable[[], None] | None = None,
) -> Batch:
    """Read the headers of ``urls`` concurrently and turn each into a :class:`VirtualImage`.

    ``cache`` is shared between the batches of one build, so each signature is built once.
    """
    parser = VirtualTIFF(ifd=options.ifd, cache=BuildCache(size=None) if cache is None else cache)
    limit = asyncio.Semaphore(options.max_concurrency)
    failures: dict[str, VirtualTIFFError] = {}

    async def one(url: str) -> VirtualImage | None:
        async with limit:
            try:
                tiff = await parser.read_async(url, registry)
                build, group = parser.cache.single(tiff, options.ifd)
                manifests = {name: group.arrays[name].manifest for name in build.per_file}
                attributes = {name: group.arrays[name].metadata.attributes for name in build.per_file}
                return VirtualImage(url, tiff.reader.info, build.template(group), manifests, attributes)
            except Exception as exc:
                if options.on_error == "raise":
                    raise
                # Skipping means any per-file failure; one that is not ours is reported by its type.
                failures[url] = exc if isinstance(exc, VirtualTIFFError) else VirtualTIFFError(
                    f"unexpected {type(exc).__name__}: {exc}", url=url)
                return None
            finally:
                if progress is not None:
                    progress()

    images = await gather_all(one(url) for url in urls)
    return Batch(images, failures)


def read_batch(urls: Sequence[str], registry: ObjectStoreRegistry, options: ReadOptions) -> Batch:
    """One batch, synchronously: what an executor's worker runs (picklable arguments and result)."""
    return sync(read_batch_async(urls, registry, options))


def batches(urls: Sequence[str], size: int) -> list[Sequence[str]]:
    return [urls[i : i + size] for i in range(0, len(urls), size)]


def read_images(urls: Sequence[str], registry: ObjectStoreRegistry, options: ReadOptions = ReadOptions()) -> Batch:
    """Every url's :class:`VirtualImage`, in order, read ``options.batch_size`` files at a time.

    In this process the batches run one after another on zarr's event loop, sharing one build
    cache. With ``options.executor`` every batch is one task (builds are then made once per batch
    and worker); results come back in url order.
    """
    parts = batches(list(urls), options.batch_size)
    total, done = len(urls), 0
    images: list[VirtualImage | None] = []
    failures: dict[str, VirtualTIFFError] = {}

    def advance(n: int = 1) -> None:
        nonlocal done
        done += n
        if options.progress is not None:
            options.progress(done, total)

    if options.executor is not None:
        # Workers get the options without the executor and the progress callback (neither pickles).
        remote = dataclasses.replace(options, progress=None, executor=None)
        futures = [options.executor.submit(read_batch, part, registry, remote) for part in parts]
        for part, future in zip(parts, futures, strict=True):
            batch = future.result()
            images += batch.images
            failures.update(batch.failures)
            advance(len(part))
        return Batch(images, failures)
    cache = BuildCache(size=None)
    for part in parts:
        batch = sync(read_batch_async(part, registry, options, cache=cache, progress=advance))
        images += batch.images
        failures.update(batch.failures)
    return Batch(images, failures)
