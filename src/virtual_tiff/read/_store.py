"""A ManifestStore whose chunk reads are coalesced: nearby byte ranges of one object, one request.

VirtualiZarr's :class:`~virtualizarr.manifests.ManifestStore` issues one ranged GET per chunk.
A COG's tiles lie a few bytes apart (GDAL writes them back to back), so reading 16 tiles costs
16 round trips where GDAL needs one or two. :class:`TIFFManifestStore` keeps ManifestStore's
semantics and routes every chunk read through a :class:`~virtual_tiff.read.RangeReader`:

a read that knows its whole selection (our codec pipeline, :mod:`virtual_tiff.read.pipeline`, zarr's
default once ``virtual_tiff`` is imported) hands every chunk key to :meth:`read_chunks` at once;
the ranges of one object that overlap, touch or lie less than ``max_gap`` bytes apart are merged
(up to ``max_request_bytes`` per request), and the merged requests go out together, at most
``max_concurrent_requests`` in flight. A full 16-tile COG is one GET, a window of 512 adjacent
strips one or two.

Reads that arrive one chunk at a time (``get``: dask's one-task-per-chunk reads, or another
pipeline) resolve the key exactly as ManifestStore does (metadata documents, inlined chunks,
missing chunks -> ``None``, registry resolution) and join a batch for that object (see
:mod:`virtual_tiff.read._ranges`). There the number of requests depends on how many reads dask
(its thread count) or zarr (``async.concurrency``, see :func:`~virtual_tiff.read.fast_read_config`)
keeps pending: through dask open with ``chunks="auto"`` (dask chunks of many zarr chunks), so that
each task's read is planned whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np
from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ManifestArray, ManifestGroup, ManifestStore
from virtualizarr.manifests.utils import parse_manifest_index
from zarr.abc.store import ByteRequest, OffsetByteRequest, RangeByteRequest, SuffixByteRequest
from zarr.core.buffer import Buffer, BufferPrototype, default_buffer_prototype

from virtual_tiff.io import gather_all, read_sources, resolve

if TYPE_CHECKING:
    import xarray as xr
from virtual_tiff.read._ranges import (
    CoalesceOptions,
    RangeReader,
    RangeRequest,
    SourceObject,
)


class TIFFManifestStore(ManifestStore):
    """A :class:`~virtualizarr.manifests.ManifestStore` that coalesces chunk reads (see the module).

    As a subclass it reads ManifestStore's own ``_group`` and ``_registry``, and a manifest's
    inlined chunks through ``ChunkManifest._inlined``: VirtualiZarr 2.8 has no public accessors.

    Same constructor as ManifestStore plus ``options`` (:class:`CoalesceOptions`). Wrap a store a
    parser returned with :meth:`from_store`. ``reader.stats`` counts reads, requests and bytes.
    Chunk reads of a source whose ETag was recorded (the ``virtual_tiff`` root attribute) are
    conditional on that ETag: a changed source raises SourceChangedError instead of returning
    other pixels.
    """

    def __init__(
        self,
        group: ManifestGroup,
        *,
        registry: ObjectStoreRegistry | None = None,
        options: CoalesceOptions | None = None,
    ) -> None:
        super().__init__(group, registry=registry)
        self.reader = RangeReader(options)
        #: Each source's recorded version (ETag, size): reads of another version are refused.
        self._recorded = read_sources(group.metadata.attributes)
        #: Each manifest url resolved once: a read of thousands of chunks resolves a few sources.
        self._sources: dict[str, SourceObject] = {}
        #: Each node's zarr.json serialized once (the store is read-only): zarr asks for a
        #: document many times, and one with a 16-bit ColorMap is megabytes of JSON.
        self._documents: dict[str, Buffer] = {}

    @classmethod
    def from_store(cls, store: ManifestStore, options: CoalesceOptions | None = None) -> TIFFManifestStore:
        """The same group and registry, read through a coalescing reader."""
        # ManifestStore exposes neither its group nor its registry publicly (VirtualiZarr 2.8).
        return cls(store._group, registry=store._registry, options=options)

    @classmethod
    def from_virtual(
        cls, obj: xr.Dataset | xr.DataTree, registry: ObjectStoreRegistry, options: CoalesceOptions | None = None
    ) -> TIFFManifestStore:
        """A readable store of a virtual Dataset or DataTree (``open_virtual_mfdataset``, ``open_stac``,
        ``open_virtual_mftree``, VirtualiZarr's openers), for ``xr.open_zarr`` / ``xr.open_datatree``.

        Every file of the cube is read through one coalescing reader: merged, ETag-checked reads,
        planned over the whole selection. The numpy variables (coordinates) are inlined.
        """
        from virtual_tiff.read._virtual import virtual_group

        return cls(virtual_group(obj), registry=registry, options=options)

    def __str__(self) -> str:
        # zarr formats a store into every StorePath's name as arrays open: the group's repr (every
        # array and its manifest) cost 0.3 ms per open, a tenth of opening a 64-file stack.
        urls = list(self._recorded)
        return f"TIFFManifestStore({urls[0] if len(urls) == 1 else f'{len(urls)} sources'})"

    def to_virtual_dataset(
        self, group: str = "", loadable_variables: Iterable[str] | None = None, decode_times: bool | None = None
    ) -> xr.Dataset:
        """VirtualiZarr's virtual dataset, whose default also loads the byte-less grid mappings.

        VirtualiZarr loads the dimension coordinates by default (``loadable_variables=None``).
        ``spatial_ref`` stays a ManifestArray then, and xarray's combine (VirtualiZarr's own
        ``open_virtual_mfdataset`` with its defaults) must compare it across files, which a
        ManifestArray cannot: it has no chunk at all, so loading it reads nothing.
        """
        if loadable_variables is None:
            node, _ = _node_at(self._group, group.strip("/")) if group.strip("/") else (self._group, "")
            loadable_variables = _default_loadable(node) if isinstance(node, ManifestGroup) else None
        return super().to_virtual_dataset(group=group, loadable_variables=loadable_variables, decode_times=decode_times)

    def __eq__(self, value: object) -> bool:
        return self is value

    __hash__ = object.__hash__

    def _source(self, url: str) -> SourceObject:
        """The object behind a manifest url, resolved once per url (the one rule: :func:`virtual_tiff.io.resolve`)."""
        source = self._sources.get(url)
        if source is None:
            store, path = resolve(url, self._registry)
            info = self._recorded.get(url)
            etag, size = (None, None) if info is None else (info.etag, info.size)
            source = self._sources[url] = SourceObject(store, path, url, etag, size)
        return source

    def _resolve(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None
    ) -> Buffer | RangeRequest | None:
        """What ``get`` answers without I/O, or the byte range it must read (ManifestStore's rules)."""
        document = self._documents.get(key)
        if document is not None:
            return document
        node, suffix = _node_at(self._group, key)
        if suffix.endswith("zarr.json"):
            document = node.metadata.to_buffer_dict(prototype=default_buffer_prototype())["zarr.json"]
            self._documents[key] = document
            return document
        if suffix.endswith((".zattrs", ".zgroup", ".zarray", ".zmetadata")):
            return None  # zarr probes v2 / consolidated documents: absent
        if isinstance(node, ManifestGroup):
            raise ValueError("Key requested is a group but the key does not end in `zarr.json`")
        manifest = node.manifest
        separator: Literal[".", "/"] = getattr(node.metadata.chunk_key_encoding, "separator", ".")
        index = parse_manifest_index(key, separator, expand_pattern=True)
        inlined = manifest._inlined  # VirtualiZarr has no public accessor for inlined chunks
        if index in inlined:
            data = inlined[index]
            start, end = _byte_range(byte_range, 0, len(data))
            return prototype.buffer.from_bytes(data[start:end])
        entry = manifest.get_entry(index)
        if entry is None:
            return None
        offset, length = int(entry["offset"]), int(entry["length"])
        start, end = _byte_range(byte_range, offset, offset + length)
        return RangeRequest(self._source(entry["path"]), start, end)

    def _resolve_many(self, keys: Sequence[str], prototype: BufferPrototype) -> list[Buffer | RangeRequest | None]:
        """:meth:`_resolve` of a whole selection: each array's chunk keys looked up in its manifest
        at once (a read of 512 strips would otherwise spend more on the lookups than on the
        bytes). Keys the fast path does not cover (documents, inlined chunks, other key
        encodings, indices out of range) go through :meth:`_resolve`, which answers or raises."""
        found: list[Buffer | RangeRequest | None] = [None] * len(keys)
        by_array: dict[str, tuple[list[int], list[list[int]]]] = {}
        for i, key in enumerate(keys):
            head, sep, tail = key.rpartition("/c/")
            parts = tail.split("/")
            if sep and all(p.isdigit() for p in parts):
                positions, indices = by_array.setdefault(head, ([], []))
                positions.append(i)
                indices.append([int(p) for p in parts])
            else:
                found[i] = self._resolve(key, prototype, None)
        for head, (positions, indices) in by_array.items():
            node, rest = _node_at(self._group, head)
            fast = (isinstance(node, ManifestArray) and not rest and not node.manifest._inlined
                    and getattr(node.metadata.chunk_key_encoding, "separator", ".") == "/"
                    and node.metadata.chunk_key_encoding.name == "default")
            grid = np.asarray(indices, dtype=np.int64)
            if fast:
                shape = node.manifest.shape_chunk_grid  # type: ignore[union-attr]
                fast = grid.shape[1] == len(shape) and bool(((grid >= 0) & (grid < np.asarray(shape))).all())
            if not fast:
                for i in positions:
                    found[i] = self._resolve(keys[i], prototype, None)
                continue
            manifest = node.manifest  # type: ignore[union-attr]
            where = tuple(grid.T)
            paths, offsets, lengths = manifest._paths[where], manifest._offsets[where], manifest._lengths[where]
            for i, path, offset, length in zip(positions, paths.tolist(), offsets.tolist(), lengths.tolist(), strict=True):
                if path:
                    found[i] = RangeRequest(self._source(path), offset, offset + length)
        return found

    def chunk_url(self, key: str) -> str | None:
        """The url of the object chunk ``key`` is read from, or None (inlined, missing, not a chunk)."""
        try:
            found = self._resolve(key, default_buffer_prototype(), None)
        except (ValueError, KeyError, IndexError):
            return None
        return found.source.url if isinstance(found, RangeRequest) else None

    async def _read(self, found: Buffer | RangeRequest | None, prototype: BufferPrototype) -> Buffer | None:
        if not isinstance(found, RangeRequest):
            return found
        source = found.source
        data = await self.reader.read(
            source.store, source.path, found.start, found.end, url=source.url, etag=source.etag, size=source.size
        )
        return prototype.buffer.from_bytes(data)  # type: ignore[arg-type]

    async def get(
        self, key: str, prototype: BufferPrototype, byte_range: ByteRequest | None = None
    ) -> Buffer | None:
        # docstring inherited
        return await self._read(self._resolve(key, prototype, byte_range), prototype)

    async def read_chunks(
        self,
        keys: Sequence[str],
        prototype: BufferPrototype,
        deliver: Callable[[list[tuple[int, Buffer | None]]], None],
    ) -> None:
        """Read the chunks at ``keys`` together, as few merged requests as the options allow.

        ``deliver`` gets ``(index into keys, bytes or None for a missing chunk)`` pairs: first the
        chunks answered without I/O, then each merged response's chunks as it completes. This is
        the entry point of :class:`~virtual_tiff.pipeline.TIFFCodecPipeline`, which knows a
        read's whole selection.
        """
        found = self._resolve_many(keys, prototype)
        reads = [i for i, item in enumerate(found) if isinstance(item, RangeRequest)]
        ready = [(i, item) for i, item in enumerate(found) if not isinstance(item, RangeRequest)]
        if ready:
            deliver(ready)
        requests = [found[i] for i in reads]
        await self.reader.read_many(
            requests,  # type: ignore[arg-type]
            lambda pieces: deliver([(reads[j], prototype.buffer.from_bytes(view)) for j, view in pieces]),  # type: ignore[arg-type]
        )

    async def get_partial_values(
        self, prototype: BufferPrototype, key_ranges: Iterable[tuple[str, ByteRequest | None]]
    ) -> list[Buffer | None]:
        # docstring inherited; all ranges join one batch per object, so they merge like ``get``s
        found = [self._resolve(key, prototype, byte_range) for key, byte_range in key_ranges]
        return await gather_all(self._read(f, prototype) for f in found)

    async def exists(self, key: str) -> bool:
        """True for the metadata document of every node and for every chunk with bytes (no I/O)."""
        node, rest = _node_at(self._group, key)
        if rest == "zarr.json":
            return True
        if isinstance(node, ManifestGroup) or not rest:
            return False  # a group holds no chunks; a bare node name is not a document
        manifest = node.manifest
        separator = getattr(node.metadata.chunk_key_encoding, "separator", ".")
        try:
            index = parse_manifest_index(rest, separator, expand_pattern=True)
        except ValueError:
            return False
        if len(index) != manifest.ndim_chunk_grid or any(
            i >= n for i, n in zip(index, manifest.shape_chunk_grid, strict=True)
        ):
            return False
        return index in manifest._inlined or manifest.get_entry(index) is not None  # _inlined: see _resolve


def _default_loadable(group: ManifestGroup) -> list[str]:
    """VirtualiZarr's default (the dimension coordinates) plus the scalars with no chunk bytes at all."""
    names = []
    for name, array in group.arrays.items():
        dims = tuple(array.metadata.dimension_names or ())
        byteless = array.metadata.shape == () and not array.manifest._inlined and not np.any(
            np.asarray(array.manifest._paths) != "")  # scalars only: a data array's manifest may be huge
        if dims == (name,) or byteless:
            names.append(name)
    return names


def _node_at(group: ManifestGroup, key: str) -> tuple[ManifestGroup | ManifestArray, str]:
    """The deepest group or array that ``key`` names, and the rest of the key below it."""
    node: ManifestGroup | ManifestArray = group
    parts = key.split("/")
    for i, part in enumerate(parts):
        if isinstance(node, ManifestGroup) and part in node.groups:
            node = node.groups[part]
        elif isinstance(node, ManifestGroup) and part in node.arrays:
            node = node.arrays[part]
        else:
            return node, "/".join(parts[i:])
    return node, ""


def _byte_range(byte_range: ByteRequest | None, start: int, end: int) -> tuple[int, int]:
    """A request's byte range within a chunk stored at ``[start, end)``, as object offsets."""
    if byte_range is None:
        return start, end
    if isinstance(byte_range, RangeByteRequest):
        if byte_range.end > end - start:
            raise ValueError(f"the chunk ends at byte {end - start}, the request at {byte_range.end}")
        return start + byte_range.start, start + byte_range.end
    if isinstance(byte_range, OffsetByteRequest):
        if not 0 <= byte_range.offset <= end - start:
            raise ValueError(f"the chunk has {end - start} bytes, the request starts at {byte_range.offset}")
        return start + byte_range.offset, end
    if isinstance(byte_range, SuffixByteRequest):
        if not 0 <= byte_range.suffix <= end - start:
            raise ValueError(f"the chunk has {end - start} bytes, the request asks for the last {byte_range.suffix}")
        return end - byte_range.suffix, end
    raise ValueError(f"unexpected byte range {byte_range!r}")
