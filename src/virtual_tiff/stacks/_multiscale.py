"""Stacks with their overviews: one group per resolution level, each level stacked along time.

An analyst iterates on a coarse level, then runs the same code at full resolution (what
stackstac's ``resolution=`` and odc-stac's overview reads give, without resampling). The levels
are the first file's main-chain images (full resolution, then its overviews; masks ride with
their image): files of one producer share that structure. A file that lacks a level, or whose
level is on another grid, is named by the error of that level's stack.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry
from zarr.core.sync import sync

from virtual_tiff.build import NESTED_VARIABLE, image_size
from virtual_tiff.errors import MissingIFDError, VirtualTIFFError
from virtual_tiff.geo import Affine, Level, georeference, multiscales_attrs
from virtual_tiff.io import ATTRIBUTE
from virtual_tiff.parser import VirtualTIFF
from virtual_tiff.stacks._stack import open_virtual_mfdataset
from virtual_tiff.stacks._trees import tree_of
from virtual_tiff.tiff import images


@dataclass(frozen=True)
class PyramidLevel:
    """One level of a file's pyramid: its IFD, (rows, columns) and pixel size (None without a transform)."""

    ifd: int
    shape: tuple[int, int]
    resolution: float | None


def pyramid_of(url: str, registry: ObjectStoreRegistry) -> list[PyramidLevel]:
    """The levels of the file at ``url``, full resolution first (one header read)."""
    tiff = sync(VirtualTIFF(ifd=None).read_async(url, registry))
    levels = images(tiff.ifds)
    georef = georeference(levels[0].ifd)
    full = None if georef is None or georef.transform is None else abs(georef.transform.a)
    width = image_size(levels[0].ifd)[1]
    return [
        PyramidLevel(image.ifd.path[0], image_size(image.ifd),
                     None if full is None else full * width / image_size(image.ifd)[1])
        for image in levels
    ]


def level_for(pyramid: Sequence[PyramidLevel], resolution: float) -> PyramidLevel:
    """The coarsest level at least as fine as ``resolution`` (the full resolution if none is)."""
    if pyramid[0].resolution is None:
        raise VirtualTIFFError("resolution= needs georeferenced files: the first file has no transform")
    fine_enough = [level for level in pyramid if level.resolution <= resolution * (1 + 1e-9)]  # type: ignore[operator]
    return fine_enough[-1] if fine_enough else pyramid[0]


def open_virtual_multiscale(
    urls: Sequence[str],
    registry: ObjectStoreRegistry,
    *,
    concat_dim: str = "time",
    labels: Sequence[Any] | Callable[[str], Any] | None = None,
    levels: Sequence[int] | None = None,
    **options: Any,
) -> xr.DataTree:
    """A virtual DataTree of every resolution level (``"0"`` full resolution, ``"1"`` ... the
    overviews), each the files' image (``data``) stacked along ``concat_dim``, with the GeoZarr ``multiscales``
    attribute on the root. ``levels`` picks some (indices into the first file's levels);
    ``options`` are :func:`~virtual_tiff.open_virtual_mfdataset`'s header-read options."""
    urls = list(urls)
    if not urls:
        raise ValueError("no urls given")
    pyramid = pyramid_of(urls[0], registry)
    chosen = pyramid if levels is None else [pyramid[k] for k in levels]
    # Every level's image is "data" (and its mask "mask"), as in a single file's nested layout,
    # so the same code runs on every level.
    groups = {str(n): _level_stack(urls, registry, n, level, concat_dim, labels, options)
              for n, level in enumerate(chosen)}
    root = {ATTRIBUTE: groups["0"].attrs[ATTRIBUTE]} if ATTRIBUTE in groups["0"].attrs else {}
    layout = [_level(name, ds) for name, ds in groups.items()]
    if all(level.transform is not None for level in layout):
        root.update(multiscales_attrs(layout))
    return tree_of(groups, root)


def _level_stack(urls: Sequence[str], registry: ObjectStoreRegistry, n: int, level: PyramidLevel, concat_dim: str,
                 labels: Any, options: dict[str, Any]) -> xr.Dataset:
    """Level ``n`` (IFD ``level.ifd``) of every file, stacked; a file without it is named with the remedy."""
    with naming_missing_levels(urls[0], n, level, "pass levels=[...] that every file has"):
        ds = open_virtual_mfdataset(urls, registry, ifd=level.ifd, combine="nested", concat_dim=concat_dim,
                                    labels=labels, **options)
    return ds.rename({str(level.ifd): NESTED_VARIABLE})


@contextmanager
def naming_missing_levels(first_url: str, n: int, level: PyramidLevel, remedy: str) -> Iterator[None]:
    """A file without level ``n`` of the first file's pyramid is named, with the level and ``remedy``:
    the parser's own error speaks of IFDs, which a user of levels and resolutions never chose."""
    try:
        yield
    except MissingIFDError as exc:
        raise MissingIFDError(f"has no level {n} (IFD {level.ifd}) of the first file's {first_url} pyramid: "
                              f"{remedy}", url=exc.url) from None


def _level(name: str, ds: xr.Dataset) -> Level:
    transform = ds.attrs.get("spatial:transform")
    shape = tuple(ds.attrs.get("spatial:shape") or ds[next(iter(ds.data_vars))].shape[-2:])
    return Level(name, shape, None if transform is None else Affine(*transform))  # type: ignore[arg-type]
