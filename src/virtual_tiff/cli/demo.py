"""``virtual-tiff demo``: the main job on the embedded sample, with a proof of the pixels."""

from __future__ import annotations

import argparse

import numpy as np


def _independent_read(path) -> tuple[np.ndarray, str] | None:
    """The sample's pixels as another library decodes them."""
    try:
        import rasterio
    except ImportError:
        rasterio = None
    if rasterio is not None:
        with rasterio.open(path) as src:
            return src.read(1), f"rasterio {rasterio.__version__} / GDAL {rasterio.__gdal_version__}"
    try:
        import tifffile
    except ImportError:
        return None
    return tifffile.imread(path, key=0), f"tifffile {tifffile.__version__}"


def run(_: argparse.Namespace) -> int:
    """Build a virtual store of the embedded COG, open it with xarray, and compare the pixels."""
    import xarray as xr
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore
    from virtualizarr.manifests import ManifestStore
    from zarr.core.sync import sync

    from virtual_tiff import VirtualTIFF, __version__
    from virtual_tiff.cli._sample import sample_path, sample_url

    path, url = sample_path(), sample_url()
    registry = ObjectStoreRegistry({"file://": LocalStore()})
    parser = VirtualTIFF(ifd=0)
    tiff = sync(parser.read_async(url, registry))
    store = ManifestStore(parser.group(tiff), registry=registry)
    print(f"virtual-tiff {__version__}: embedded sample {path.name} ({path.stat().st_size} bytes)")
    print(f"header: {tiff.reader.requests} GET, {tiff.reader.bytes_read} bytes read, {len(tiff.ifds)} IFDs walked")
    ds = xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)
    print(ds)
    virtual = ds["0"].values
    reference = _independent_read(path)
    if reference is None:
        print("no independent reader (rasterio or tifffile) installed: pixels not checked")
        return 0
    expected, reader = reference
    equal = virtual.dtype == expected.dtype and np.array_equal(virtual, expected)
    print(
        f"pixels equal to {reader}: {equal} "
        f"({virtual.shape[0]}x{virtual.shape[1]} {virtual.dtype}, CRS {ds['0'].rio.crs if _has_rio() else '-'})"
    )
    return 0 if equal else 1


def _has_rio() -> bool:
    try:
        import rioxarray  # noqa: F401
    except ImportError:
        return False
    return True
