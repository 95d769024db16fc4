"""Every group of every layout passes zarr-developers' GeoZarr validator (geozarr-toolkit's ``validate_group``).

The validator checks each convention a group declares in ``zarr_conventions``
(``spatial:``, ``proj:``, ``multiscales``) against its schema: a group that
declares ``spatial:`` must say its ``spatial:dimensions``, so a root that only
holds levels or grids must not declare it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import zarr
from geozarr_toolkit import validate_group
from obspec_utils.registry import ObjectStoreRegistry

from tests.helpers.geotiffs import write_geotiff
from tests.helpers.pyramid import write_pyramid
from tests.helpers.virtual import file_url
from virtual_tiff import (
    TIFFManifestStore,
    VirtualTIFF,
    open_stac,
    open_virtual_mfdataset,
    open_virtual_mftree,
    open_virtual_multiscale,
)


def write_cog(path: Path, crs: str = "EPSG:32633", seed: int = 0, bands: int = 1) -> str:
    """A COG with one overview and an internal mask: levels, masks and grids for every layout."""
    import numpy as np
    import rasterio
    from rasterio.transform import from_origin

    with rasterio.open(path, "w", driver="COG", height=256, width=256, count=bands, dtype="uint16", crs=crs,
                       transform=from_origin(500000, 5600000, 10, 10), blocksize=128, overview_count=1) as dst:
        dst.write((np.arange(bands * 256 * 256).reshape(bands, 256, 256) + seed).astype("uint16"))
        dst.write_mask(np.full((256, 256), 255, "uint8"))
    return file_url(path)


def stac_items(urls: list[str], grids: int) -> list[dict]:
    return [{"type": "Feature", "id": f"i{k}", "properties": {"datetime": f"2026-01-0{k + 1}T00:00:00Z"},
             "assets": {"B01": {"href": url}} | ({"B02": {"href": urls[-1]}} if grids > 1 else {})}
            for k, url in enumerate(urls[:2])]


def _single(tmp, reg):
    return VirtualTIFF(ifd=0)(url=write_cog(tmp / "a.tif"), registry=reg)


def _flat(tmp, reg):
    return VirtualTIFF(ifd=None)(url=write_cog(tmp / "a.tif"), registry=reg)


def _nested(tmp, reg):
    return VirtualTIFF(ifd=None, ifd_layout="nested")(url=write_cog(tmp / "a.tif", bands=3), registry=reg)


def _nested_subifds(tmp, reg):
    return VirtualTIFF(ifd=None, ifd_layout="nested")(url=file_url(write_pyramid(tmp / "p.tif")), registry=reg)


def _stack(tmp, reg):
    urls = [write_cog(tmp / f"s{k}.tif", seed=k) for k in range(2)]
    return TIFFManifestStore.from_virtual(open_virtual_mfdataset(urls, reg, concat_dim="time", combine="nested"), reg)


def _padded_stack(tmp, reg):
    urls = [file_url(write_geotiff(tmp / "g0.tif")), file_url(write_geotiff(tmp / "g1.tif", origin=(501_920, 5e6)))]
    return TIFFManifestStore.from_virtual(open_virtual_mfdataset(urls, reg, combine="by_coords"), reg)


def _tree(tmp, reg):
    urls = [write_cog(tmp / "t0.tif"), write_cog(tmp / "t1.tif", crs="EPSG:32634")]
    return TIFFManifestStore.from_virtual(open_virtual_mftree(urls, reg), reg)


def _multiscale_stack(tmp, reg):
    urls = [write_cog(tmp / f"m{k}.tif", seed=k) for k in range(2)]
    return TIFFManifestStore.from_virtual(open_virtual_multiscale(urls, reg), reg)


def _stac_cube(tmp, reg):
    urls = [write_cog(tmp / f"c{k}.tif", seed=k) for k in range(2)]
    return TIFFManifestStore.from_virtual(open_stac(stac_items(urls, 1), registry=reg), reg)


def _stac_grids(tmp, reg):
    urls = [write_cog(tmp / f"c{k}.tif", seed=k) for k in range(2)] + [write_cog(tmp / "z.tif", crs="EPSG:32634")]
    return TIFFManifestStore.from_virtual(open_stac(stac_items(urls, 2), registry=reg, group_by="grid"), reg)


LAYOUTS: dict[str, Callable[[Path, ObjectStoreRegistry], object]] = {
    "single": _single,
    "flat": _flat,
    "nested": _nested,
    "nested-subifds": _nested_subifds,
    "stack": _stack,
    "padded-stack": _padded_stack,
    "tree": _tree,
    "multiscale-stack": _multiscale_stack,
    "stac-cube": _stac_cube,
    "stac-group-by-grid": _stac_grids,
}


#: Layouts with no group of one grid: the flat layout's arrays are on several grids (each its own
#: ``spatial_ref_<k>``), and tifffile's pyramid has no georeferencing.
NO_GROUP_GRID = {"flat", "nested-subifds"}


def groups(group: zarr.Group, path: str = "/") -> Iterator[tuple[str, zarr.Group]]:
    yield path, group
    for name, child in sorted(group.groups()):
        yield from groups(child, f"{path}{name}/")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_group_passes_the_geozarr_validator(layout, tmp_path, registry):
    root = zarr.open_group(LAYOUTS[layout](tmp_path, registry), mode="r", zarr_format=3)
    checked = {path: validate_group(group) for path, group in groups(root)}
    failures = {path: {c: e for c, e in result.items() if e} for path, result in checked.items()}
    assert not any(failures.values()), failures
    declared = [path for path, result in checked.items() if "spatial" in result]
    assert bool(declared) is (layout not in NO_GROUP_GRID), declared
