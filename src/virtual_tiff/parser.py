"""url -> ManifestStore: the VirtualiZarr parser (which IFDs to read, which layout to build)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ManifestGroup, ManifestStore
from zarr.core.sync import sync

from virtual_tiff import layouts
from virtual_tiff.errors import VirtualTIFFError
from virtual_tiff.levels import mask_of, walk_until_mask_of
from virtual_tiff.signatures import SingleImageBuilds
from virtual_tiff.source import ObjectReader
from virtual_tiff.store import TIFFManifestStore
from virtual_tiff.tiff.ifd import IFD
from virtual_tiff.tiff.reader import Limits, TIFFFile, read_tiff

IFDLayout = Literal["flat", "nested"]

#: ``ifd=k`` builds shared by files with one header signature (see :mod:`virtual_tiff.signatures`).
_SINGLE_BUILDS = SingleImageBuilds()


@dataclass(frozen=True)
class VirtualTIFF:
    """VirtualiZarr parser for TIFF, GeoTIFF and COG files.

    ``ifd=k`` exposes IFD ``k`` as an array named ``"k"`` (and its GDAL mask as
    ``"mask"``); ``ifd=None`` exposes every IFD: side by side (``"flat"``,
    arrays ``"0"``, ``"1"``, ... whose dimensions get an ``_<k>`` suffix where
    their size differs from IFD 0's), or one group per image (``"nested"``,
    each holding ``"data"`` and ``"mask"``; SubIFDs are child groups). See
    :mod:`virtual_tiff.layouts`.
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
        return TIFFManifestStore(self.group(tiff), registry=registry)

    async def read_async(self, url: str, registry: ObjectStoreRegistry) -> TIFFFile:
        """Walk the IFDs; for ``ifd=k`` only as far as IFD k and its mask, fetching only their arrays."""
        reader = ObjectReader(url, registry)
        if self.ifd is None:
            return await read_tiff(reader, limits=self.limits)
        k = self.ifd

        def choose(ifds: Sequence[IFD]) -> list[tuple[int, ...]]:
            main = [ifd for ifd in ifds if len(ifd.path) == 1]
            if len(main) <= k:
                return []
            mask = mask_of(k, main)
            # An overview inherits IFD 0's georeferencing and metadata, so IFD 0's values come too.
            return [(k,), (0,)] + ([] if mask is None else [mask.path])

        tiff = await read_tiff(reader, stop=walk_until_mask_of(k), choose=choose, limits=self.limits)
        if len(tiff.ifds) <= k:
            raise VirtualTIFFError(f"ifd={k} requested but the file has {len(tiff.ifds)} IFDs", url=url)
        return tiff

    def group(self, tiff: TIFFFile) -> ManifestGroup:
        if self.ifd is not None:
            return _SINGLE_BUILDS.group(tiff, self.ifd, layouts.single)
        if self.ifd_layout == "nested":
            return layouts.nested(tiff)
        return layouts.flat(tiff)
