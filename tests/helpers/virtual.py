"""How tests open files as virtual datasets, and read the pixels behind a virtual variable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr
import zarr
from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ManifestGroup, ManifestStore

from virtual_tiff import VirtualTIFF


def file_url(path: Path) -> str:
    return Path(path).resolve().as_uri()


def open_virtual(url: str, registry: ObjectStoreRegistry, ifd: int = 0) -> xr.Dataset:
    store = VirtualTIFF(ifd=ifd)(url=url, registry=registry)
    return xr.open_zarr(store, zarr_format=3, consolidated=False)


def load(variable: xr.DataArray, registry: ObjectStoreRegistry) -> np.ndarray:
    """The pixels behind one virtual variable, read through a plain VirtualiZarr ManifestStore."""
    store = ManifestStore(ManifestGroup(arrays={"v": variable.data}), registry=registry)
    return zarr.open_array(store, path="v", mode="r", zarr_format=3)[...]
