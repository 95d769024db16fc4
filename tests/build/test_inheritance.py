"""What an image inherits from the full-resolution image: overviews and SubIFDs do, pages do not.

GDAL reads each page of a multi-page TIFF (``GTIFF_DIR:n:``) with its own nodata and metadata, and
gives an overview (NewSubfileType REDUCEDIMAGE) its base image's. The oracle here is rasterio.
"""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import tifffile
import xarray as xr

from tests.helpers.virtual import file_url
from virtual_tiff import VirtualTIFF

GDAL_METADATA = 42112
GDAL_NODATA = 42113
SCALED = '<GDALMetadata><Item name="SCALE" sample="0" role="scale">0.5</Item></GDALMetadata>'


def write_pages(path, *, second_is_overview: bool):
    """Page 0 with GDAL nodata and scale; then a page (or an overview) that carries neither."""
    data = (np.arange(64 * 64, dtype="uint16").reshape(64, 64) % 1000) + 1
    own = [(GDAL_NODATA, "s", 0, "7", True), (GDAL_METADATA, "s", 0, SCALED, True)]
    with tifffile.TiffWriter(path) as tif:
        tif.write(data, tile=(32, 32), extratags=own)
        second = data[::2, ::2] if second_is_overview else data + 1
        tif.write(second, tile=(32, 32), subfiletype=1 if second_is_overview else 0)
    return path


def open_ifd(url, registry, ifd):
    return xr.open_zarr(VirtualTIFF(ifd=ifd)(url, registry), zarr_format=3, consolidated=False, mask_and_scale=False)


@pytest.mark.parametrize("layout", ["single", "flat", "nested"])
def test_a_page_keeps_what_it_carries_and_inherits_nothing(tmp_path, registry, layout):
    path = write_pages(tmp_path / "pages.tif", second_is_overview=False)
    with rasterio.open(f"GTIFF_DIR:2:{path}") as page:
        assert page.nodata is None and page.scales == (1.0,)
    url = file_url(path)
    if layout == "single":
        attrs = open_ifd(url, registry, 1)["1"].attrs
    elif layout == "flat":
        store = VirtualTIFF(ifd=None)(url, registry)
        attrs = xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)["1"].attrs
    else:
        store = VirtualTIFF(ifd=None, ifd_layout="nested")(url, registry)
        tree = xr.open_datatree(store, engine="zarr", zarr_format=3, consolidated=False, mask_and_scale=False)
        attrs = tree["1"]["data"].attrs
    assert "_FillValue" not in attrs and "scale_factor" not in attrs


def test_an_overview_inherits_the_full_resolution_images_nodata_and_scale(tmp_path, registry):
    path = write_pages(tmp_path / "overview.tif", second_is_overview=True)
    with rasterio.open(path) as ds:
        assert ds.overviews(1) == [2] and ds.nodata == 7 and ds.scales == (0.5,)
    attrs = open_ifd(file_url(path), registry, 1)["1"].attrs
    assert attrs["_FillValue"] == 7 and attrs["scale_factor"] == 0.5


def test_page_zero_keeps_its_own(tmp_path, registry):
    path = write_pages(tmp_path / "pages.tif", second_is_overview=False)
    attrs = open_ifd(file_url(path), registry, 0)["0"].attrs
    assert attrs["_FillValue"] == 7 and attrs["scale_factor"] == 0.5
