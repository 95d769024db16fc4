"""What makes two headers build the same arrays: their signature, and the per-file chunk manifests.

Files of one producer differ only in where their chunks lie (the four offset/byte-count tags);
every other tag decides the Zarr metadata, codec chain, CRS and coordinates. So a file whose
signature was built before needs only its own chunk manifests (and its own source record):
:mod:`virtual_tiff.headers` shares one build per signature across a stack, and
:class:`~virtual_tiff.parser.VirtualTIFF` across the files it parses one by one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
from virtualizarr.manifests import ChunkManifest, ManifestArray, ManifestGroup

from virtual_tiff.arrays.dtypes import sample_type
from virtual_tiff.arrays.grid import grid_of, manifest_of
from virtual_tiff.images import MASK_VARIABLE
from virtual_tiff.levels import mask_of
from virtual_tiff.provenance import sources_attribute
from virtual_tiff.tiff.ifd import IFD
from virtual_tiff.tiff.reader import TIFFFile, flatten_ifds
from virtual_tiff.tiff.tags import Tag

#: The only tags in which files of one producer differ; everything else decides the arrays.
_PER_FILE_TAGS = frozenset({Tag.TileOffsets, Tag.TileByteCounts, Tag.StripOffsets, Tag.StripByteCounts})


def _hashable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    return value


def signature(tiff: TIFFFile) -> tuple:
    """The byte order and every tag value of every IFD read, except where the chunks lie: equal signatures, equal arrays."""
    return (tiff.header.byteorder,) + tuple(
        (ifd.path, tuple((tag, _hashable(v)) for tag, v in sorted(ifd.tags.items()) if tag not in _PER_FILE_TAGS))
        for ifd in flatten_ifds(tiff.ifds)
    )


def _manifest(ifd: IFD, size: int) -> ChunkManifest:
    return manifest_of(ifd, grid_of(ifd), sample_type(ifd), ifd.compression, size)


def own_manifests(tiff: TIFFFile, index: int) -> dict[str, ChunkManifest]:
    """The chunk manifests of IFD ``index`` (array ``"index"``) and its mask, as ``layouts.single`` lays them out."""
    out = {str(index): _manifest(tiff.ifds[index], tiff.reader.size)}
    mask = mask_of(index, tiff.ifds)
    if mask is not None:
        out[MASK_VARIABLE] = _manifest(mask, tiff.reader.size)
    return out


class SingleImageBuilds:
    """``layouts.single`` groups built once per (IFD, signature), the last ``size`` of them.

    Parsing the files of one producer one by one (``VirtualTIFF(ifd=0)`` over a stack, as
    VirtualiZarr's ``open_virtual_mfdataset`` does) then costs one metadata build per signature,
    not per file: later files get the built arrays' metadata with their own chunk manifests and
    their own source record.
    """

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._built: OrderedDict[tuple, ManifestGroup] = OrderedDict()
        self._lock = threading.Lock()

    def group(self, tiff: TIFFFile, index: int, build: Callable[[TIFFFile, int], ManifestGroup]) -> ManifestGroup:
        key = (index, signature(tiff))
        with self._lock:
            built = self._built.get(key)
            if built is not None:
                self._built.move_to_end(key)
        if built is None:
            group = build(tiff, index)
            with self._lock:
                self._built[key] = group
                while len(self._built) > self.size:
                    self._built.popitem(last=False)
            return group
        manifests = own_manifests(tiff, index)
        arrays = {
            name: ManifestArray(metadata=array.metadata, chunkmanifest=manifests.get(name, array.manifest))
            for name, array in built.arrays.items()
        }
        attributes = {**built.metadata.attributes, **sources_attribute([tiff.reader.info])}  # JSON, never mutated
        return ManifestGroup(arrays=arrays, attributes=attributes)
