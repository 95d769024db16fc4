"""url -> ManifestStore: the VirtualiZarr parser, and the layouts of a file's IFDs as Zarr nodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ManifestArray, ManifestGroup, ManifestStore
from zarr.core.sync import sync

from virtual_tiff.arrays.array import ifd_to_array, with_dims
from virtual_tiff.errors import VirtualTIFFError
from virtual_tiff.provenance import sources_attribute
from virtual_tiff.source import ObjectReader
from virtual_tiff.tiff.ifd import IFD
from virtual_tiff.tiff.reader import Limits, TIFFFile, read_tiff

IFDLayout = Literal["flat", "nested"]
#: The variable of each level group in the nested layout.
NESTED_VARIABLE = "data"


@dataclass(frozen=True)
class VirtualTIFF:
    """VirtualiZarr parser for TIFF, GeoTIFF and COG files.

    ``ifd=k`` exposes IFD ``k`` as an array named ``"k"``; ``ifd=None`` exposes
    every IFD: side by side (``"flat"``, arrays ``"0"``, ``"1"``, ... whose
    dimensions get an ``_<k>`` suffix where their size differs from IFD 0's),
    or one group per IFD (``"nested"``, each holding ``"data"``; SubIFDs are
    child groups of their parent's group, see :func:`_nested`).
    """

    ifd: int | None = 0
    ifd_layout: IFDLayout = "flat"
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        if self.ifd is not None and (not isinstance(self.ifd, int) or self.ifd < 0):
            raise ValueError(f"ifd must be a non-negative int or None, got {self.ifd!r}")
        if self.ifd_layout not in ("flat", "nested"):
            raise ValueError(f"ifd_layout must be 'flat' or 'nested', got {self.ifd_layout!r}")

    def __call__(self, url: str, registry: ObjectStoreRegistry) -> ManifestStore:
        return sync(self.parse_async(url, registry))

    async def parse_async(self, url: str, registry: ObjectStoreRegistry) -> ManifestStore:
        """The async core: one event loop can build many stores concurrently."""
        tiff = await self.read_async(url, registry)
        return ManifestStore(self.group(tiff), registry=registry)

    async def read_async(self, url: str, registry: ObjectStoreRegistry) -> TIFFFile:
        reader = ObjectReader(url, registry)
        if self.ifd is None:
            return await read_tiff(reader, limits=self.limits)
        tiff = await read_tiff(reader, stop_after=self.ifd, select=[(self.ifd,)], limits=self.limits)
        if len(tiff.ifds) <= self.ifd:
            raise VirtualTIFFError(f"ifd={self.ifd} requested but the file has {len(tiff.ifds)} IFDs", url=url)
        return tiff

    def group(self, tiff: TIFFFile) -> ManifestGroup:
        size = tiff.reader.size
        attrs = sources_attribute([tiff.reader.info])
        if self.ifd is not None:
            ifd = tiff.ifds[self.ifd]
            return ManifestGroup(arrays={str(self.ifd): ifd_to_array(ifd, object_size=size)}, attributes=attrs)
        if self.ifd_layout == "nested":
            groups = {str(i): _nested(ifd, size) for i, ifd in enumerate(tiff.ifds)}
            return ManifestGroup(groups=groups, attributes=attrs)
        return ManifestGroup(arrays=_flat(tiff.ifds, size), attributes=attrs)


def _nested(ifd: IFD, size: int) -> ManifestGroup:
    """A group for the IFD and child groups for its SubIFDs.

    A DataTree child inherits its parent's dimensions, so a SubIFD's dimensions
    carry its path below the main-chain IFD (``y_1`` for SubIFD 1, ``y_1_0``
    for that one's SubIFD 0): the reduced levels of a pyramid cannot clash.
    """
    array = ifd_to_array(ifd, object_size=size)
    if len(ifd.path) > 1:
        suffix = "_".join(str(i) for i in ifd.path[1:])
        array = with_dims(array, tuple(f"{d}_{suffix}" for d in array.metadata.dimension_names))
    return ManifestGroup(
        arrays={NESTED_VARIABLE: array},
        groups={str(i): _nested(sub, size) for i, sub in enumerate(ifd.subifds)},
    )


def _flat(ifds: tuple[IFD, ...], size: int) -> dict[str, ManifestArray]:
    """Every main-chain IFD as a sibling array, dimension names kept consistent with IFD 0."""
    arrays: dict[str, ManifestArray] = {}
    sizes: dict[str, int] = {}
    for i, ifd in enumerate(ifds):
        array = ifd_to_array(ifd, object_size=size)
        dims = tuple(
            d if sizes.setdefault(d, n) == n else f"{d}_{i}"
            for d, n in zip(array.metadata.dimension_names, array.shape, strict=True)
        )
        arrays[str(i)] = with_dims(array, dims)
    return arrays
