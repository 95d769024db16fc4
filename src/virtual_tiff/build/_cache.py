"""One metadata build per header signature, shared by every file that has it.

Files of one producer differ in where their chunks lie (the four offset/byte-count tags) and in
their GDAL metadata (acquisition dates, processing ids: the data array's attributes); every
other tag (and the byte order) decides the Zarr metadata, codec chain, CRS and coordinates. So a
file whose signature was built before needs only its own chunk manifests, its own metadata
attributes and its own source record. :class:`BuildCache` holds those builds for ``ifd=k`` (the layout stacks
and single-file parsing use): a :class:`~virtual_tiff.VirtualTIFF` keeps the last 16, a stack
build keeps all of its own. The signature is computed once per header, and a cached build keeps
no file's chunk manifests, only what files share.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from virtualizarr.manifests import ChunkManifest, ManifestArray, ManifestGroup
from zarr.core.metadata import ArrayV3Metadata

from virtual_tiff.build._band_attrs import METADATA_KEYS, metadata_attributes
from virtual_tiff.build._chunks import chunk_grid, manifest_of
from virtual_tiff.build._dataset import Template, template_of
from virtual_tiff.build._dtypes import sample_type
from virtual_tiff.build._images import MASK_VARIABLE, gdal_metadata_of
from virtual_tiff.build._layouts import single
from virtual_tiff.io import ObjectInfo, sources_attribute
from virtual_tiff.tiff import IFD, Tag, TIFFFile, flatten_ifds, mask_of

#: Where the chunks lie: each file's own, held in its own manifests.
_PER_FILE_TAGS = frozenset({Tag.TileOffsets, Tag.TileByteCounts, Tag.StripOffsets, Tag.StripByteCounts})
#: Tags no array depends on but the data array's metadata attributes, which each file takes from its
#: own GDAL_METADATA (:func:`_own_metadata`): real scenes differ there (acquisition dates, processing
#: ids), and a signature over them gave every scene its own build. DateTime, Software and
#: ImageDescription decide nothing at all.
_UNSIGNED_TAGS = _PER_FILE_TAGS | {Tag.GDAL_METADATA, Tag.DateTime, Tag.Software, Tag.ImageDescription}


def _hashable(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return (value.dtype.str, value.shape, value.tobytes())
    return value


def signature(tiff: TIFFFile) -> tuple:
    """The byte order and every tag value of every IFD read, except where the chunks lie and the
    GDAL metadata: equal signatures, equal arrays up to the data array's metadata attributes."""
    return (tiff.header.byteorder,) + tuple(
        (ifd.path, tuple((tag, _hashable(v)) for tag, v in sorted(ifd.tags.items()) if tag not in _UNSIGNED_TAGS))
        for ifd in flatten_ifds(tiff.ifds)
    )


def _own_metadata(build: Build, tiff: TIFFFile, index: int) -> dict[str, ArrayV3Metadata]:
    """The per-file arrays' metadata of ``build`` with this file's own GDAL-metadata attributes."""
    name = str(index)
    shared = build.per_file[name]
    fresh = metadata_attributes(gdal_metadata_of(tiff.ifds, index), tiff.ifds[index].samples_per_pixel)
    attrs = {k: v for k, v in shared.attributes.items() if k not in METADATA_KEYS} | fresh
    if attrs == dict(shared.attributes):
        return dict(build.per_file)
    return {**build.per_file, name: _with_attributes(shared, attrs)}


def _with_attributes(metadata: ArrayV3Metadata, attributes: dict[str, Any]) -> ArrayV3Metadata:
    """``metadata`` with other attributes, stamped on a copy without re-running its validation:
    the shape, dtype and codecs it checked are the shared build's, unchanged, and re-checking them
    for every scene of a stack was most of what a cached file cost beyond its manifests."""
    stamped = copy.copy(metadata)
    object.__setattr__(stamped, "attributes", attributes)
    return stamped


def _manifest(ifd: IFD, size: int) -> ChunkManifest:
    return manifest_of(ifd, chunk_grid(ifd), sample_type(ifd), ifd.compression, size)


def own_manifests(tiff: TIFFFile, index: int) -> dict[str, ChunkManifest]:
    """The chunk manifests of IFD ``index`` (array ``"index"``) and its mask, as the ``ifd=k`` layout names them."""
    out = {str(index): _manifest(tiff.ifds[index], tiff.reader.size)}
    mask = mask_of(index, tiff.ifds)
    if mask is not None:
        out[MASK_VARIABLE] = _manifest(mask, tiff.reader.size)
    return out


def _per_file_names(tiff: TIFFFile, index: int) -> frozenset[str]:
    return frozenset({str(index)} | ({MASK_VARIABLE} if mask_of(index, tiff.ifds) is not None else set()))


@dataclass(frozen=True, eq=False)
class Build:
    """The arrays of one header signature: metadata of the per-file arrays, the shared arrays whole.

    ``per_file`` are the image and its mask, whose chunks each file brings; ``shared`` are the
    arrays every such file has identically (``spatial_ref``, inlined ``x``/``y``); ``order`` is the
    arrays' order in the group; ``attributes`` the group's (each file replaces the provenance).
    """

    order: tuple[str, ...]
    per_file: Mapping[str, ArrayV3Metadata]
    shared: Mapping[str, ManifestArray]
    attributes: Mapping[str, Any]
    _template: list[Template] = field(default_factory=list, repr=False)

    @classmethod
    def of(cls, group: ManifestGroup, per_file: frozenset[str]) -> Build:
        arrays = group.arrays
        return cls(
            order=tuple(arrays),
            per_file={n: a.metadata for n, a in arrays.items() if n in per_file},
            shared={n: a for n, a in arrays.items() if n not in per_file},
            attributes=dict(group.metadata.attributes),
        )

    def group(self, manifests: Mapping[str, ChunkManifest], info: ObjectInfo,
              per_file: Mapping[str, ArrayV3Metadata] | None = None) -> ManifestGroup:
        """One file's group: the shared arrays, its own chunks (and ``per_file`` metadata), its own source record."""
        per_file = self.per_file if per_file is None else per_file
        arrays = {
            n: self.shared[n] if n in self.shared else ManifestArray(metadata=per_file[n], chunkmanifest=manifests[n])
            for n in self.order
        }
        return ManifestGroup(arrays=arrays, attributes={**self.attributes, **sources_attribute([info])})

    def template(self, group: ManifestGroup) -> Template:
        """The virtual dataset stacks combine, made once from the group of any file of this build."""
        if not self._template:
            self._template.append(template_of(group))
        return self._template[0]


class BuildCache:
    """``ifd=k`` builds by (k, header signature): the last ``size`` of them, or all with ``size=None``.

    Parsing the files of one producer one by one (``VirtualTIFF(ifd=0)`` over a stack, as
    VirtualiZarr's ``open_virtual_mfdataset`` does) then costs one metadata build per signature,
    not per file. Thread-safe; pickles empty (a process pool's workers build their own).
    """

    def __init__(self, size: int | None = 16) -> None:
        if size is not None and size < 1:
            raise ValueError(f"size must be >= 1 or None, got {size}")
        self.size = size
        self._builds: OrderedDict[tuple, Build] = OrderedDict()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"size": self.size}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["size"])

    def __len__(self) -> int:
        return len(self._builds)

    def single(self, tiff: TIFFFile, index: int) -> tuple[Build, ManifestGroup]:
        """IFD ``index`` of ``tiff`` as the ``ifd=k`` layout, and the build it shares with files of its signature."""
        key = (index, signature(tiff))
        with self._lock:
            build = self._builds.get(key)
            if build is not None:
                self._builds.move_to_end(key)
        if build is not None:
            return build, build.group(own_manifests(tiff, index), tiff.reader.info, _own_metadata(build, tiff, index))
        group = single(tiff, index)
        build = Build.of(group, _per_file_names(tiff, index))
        with self._lock:
            self._builds[key] = build
            while self.size is not None and len(self._builds) > self.size:
                self._builds.popitem(last=False)
        return build, group
