"""The ``virtual-tiff`` command line."""

from __future__ import annotations

import argparse
import sys

import numpy as np


def _independent_read(path) -> tuple[np.ndarray, str] | None:
    """The sample's pixels as another library decodes them, for the demo's proof."""
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


def demo(_: argparse.Namespace) -> int:
    """Build a virtual store of the embedded COG, open it with xarray, and prove the pixels."""
    import xarray as xr
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore
    from virtualizarr.manifests import ManifestStore
    from zarr.core.sync import sync

    from virtual_tiff import VirtualTIFF, __version__
    from virtual_tiff.sample import sample_path, sample_url

    path, url = sample_path(), sample_url()
    registry = ObjectStoreRegistry({"file://": LocalStore()})
    parser = VirtualTIFF(ifd=0)
    tiff = sync(parser.read_async(url, registry))
    store = ManifestStore(parser.group(tiff), registry=registry)
    print(f"virtual-tiff {__version__}: embedded sample {path.name} ({path.stat().st_size} bytes)")
    print(f"header: {tiff.reader.requests} GET, {tiff.reader.bytes_read} bytes read, {len(tiff.ifds)} IFD parsed")
    ds = xr.open_zarr(store, zarr_format=3, consolidated=False)
    print(ds)
    virtual = ds["0"].values
    reference = _independent_read(path)
    if reference is None:
        print("no independent reader (rasterio or tifffile) installed: pixels not checked")
        return 0
    expected, reader = reference
    equal = virtual.dtype == expected.dtype and np.array_equal(virtual, expected)
    print(f"pixels equal to {reader}: {equal} ({virtual.shape[0]}x{virtual.shape[1]} {virtual.dtype}, "
          f"mean {virtual.mean():.2f})")
    return 0 if equal else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="virtual-tiff", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="build and read a virtual store of the embedded sample COG").set_defaults(
        run=demo
    )
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
