"""url -> ManifestStore: the VirtualiZarr parser (which IFDs to read, which layout to build)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ManifestGroup, ManifestStore
from zarr.core.sync import sync

from virtual_tiff.build import BuildCache, flat, nested
from virtual_tiff.errors import MissingIFDError
from virtual_tiff.io import ObjectReader
from virtual_tiff.read import TIFFManifestStore
from virtual_tiff.tiff import (
    IFD,
    Limits,
    TIFFFile,
    is_reduced,
    mask_of,
    read_tiff,
    walk_until_mask_of,
)

IFDLayout = Literal["flat", "nested"]


@dataclass(frozen=True)
class VirtualTIFF:
    """VirtualiZarr parser for TIFF, GeoTIFF and COG files.

    ``ifd=k`` exposes IFD ``k`` as an array named ``"k"`` (and its GDAL mask as
    ``"mask"``); ``ifd=None`` exposes every IFD: side by side (``"flat"``,
    arrays ``"0"``, ``"1"``, ... whose dimensions get an ``_<k>`` suffix where
    their size differs from IFD 0's), or one group per image (``"nested"``,
    each holding ``"data"`` and ``"mask"``; SubIFDs are child groups). See
    :mod:`virtual_tiff.build._layouts`.

    ``cache`` holds ``ifd=k`` builds by header signature, so the files of one producer parsed
    with one parser (as VirtualiZarr's ``open_virtual_mfdataset`` does) build their metadata
    once; pass one to share it between parsers.
    """

    ifd: int | None = 0
    ifd_layout: IFDLayout = "flat"
    limits: Limits = field(default_factory=Limits)
    cache: BuildCache = field(default_factory=BuildCache, compare=False, repr=False)

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
        reader = ObjectReader(url, registry, first_byte_timeout=self.limits.first_byte_timeout,
                              min_bytes_per_second=self.limits.min_bytes_per_second)
        if self.ifd is None:
            return await read_tiff(reader, limits=self.limits)
        k = self.ifd

        def choose(ifds: Sequence[IFD]) -> list[tuple[int, ...]]:
            main = [ifd for ifd in ifds if len(ifd.path) == 1]
            if len(main) <= k:
                return []
            mask = mask_of(k, main)
            # An overview inherits IFD 0's georeferencing and metadata, so IFD 0's values come too.
            base = [(0,)] if is_reduced(main[k]) else []
            return [(k,), *base] + ([] if mask is None else [mask.path])

        tiff = await read_tiff(reader, stop=walk_until_mask_of(k), choose=choose, limits=self.limits)
        if len(tiff.ifds) <= k:
            raise MissingIFDError(f"ifd={k} requested but the file has {len(tiff.ifds)} IFDs", url=url)
        return tiff

    def group(self, tiff: TIFFFile) -> ManifestGroup:
        if self.ifd is not None:
            return self.cache.single(tiff, self.ifd)[1]
        if self.ifd_layout == "nested":
            return nested(tiff)
        return flat(tiff)
