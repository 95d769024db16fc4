"""Reading over a real S3 API (moto's server on 127.0.0.1): pixels, and what the header costs in GETs."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from tests.helpers.oracles import read_rasterio
from tests.helpers.s3 import BUCKET
from tests.helpers.samples import sample_data
from tests.helpers.virtual import file_url, open_virtual
from virtual_tiff import VirtualTIFF


def write_gdal(path, driver="COG", overviews=(), size=1024, **options):
    import rasterio
    from rasterio.enums import Resampling

    data = sample_data("uint16", 1, size, size)
    profile = dict(driver="GTiff" if driver == "GTiff" else driver, height=size, width=size, count=1, dtype="uint16")
    if driver == "COG":
        options.setdefault("blocksize", 256)
    with rasterio.open(path, "w", **profile, **options) as dst:
        dst.write(data)
    if overviews:
        with rasterio.open(path, "r+") as dst:
            dst.build_overviews(list(overviews), Resampling.average)
    return data[0]


@pytest.mark.parametrize("ifd", [0, None])
def test_cog_header_costs_one_get(s3, tmp_path, ifd):
    path = tmp_path / "cog.tif"
    write_gdal(path, compress="DEFLATE", predictor=2, overview_count=2)
    url = s3.upload(path, "one-get-cog.tif")
    s3.log.clear()
    VirtualTIFF(ifd=ifd)(url=url, registry=s3.registry())
    assert s3.log.count("GET", "one-get-cog.tif") == 1


def test_overviews_appended_at_end_cost_few_gets(s3, tmp_path):
    """gdaladdo appends overview IFDs after the pixels: one more ranged GET, never the whole file.

    ``ifd=0`` reads the next IFD too (it might be IFD 0's mask), as GDAL does on open."""
    path = tmp_path / "appended.tif"
    write_gdal(path, driver="GTiff", overviews=(2, 4, 8), size=2048, tiled=True, blockxsize=256,
               blockysize=256, compress="DEFLATE")
    url = s3.upload(path, "appended.tif")
    s3.log.clear()
    store = VirtualTIFF(ifd=0)(url=url, registry=s3.registry())
    assert s3.log.count("GET", "appended.tif") == 2
    s3.log.clear()
    store = VirtualTIFF(ifd=None, ifd_layout="nested")(url=url, registry=s3.registry())
    assert s3.log.count("GET", "appended.tif") == 2
    assert store is not None


def test_pixels_over_s3_equal_rasterio(s3, tmp_path):
    path = tmp_path / "cog.tif"
    written = write_gdal(path, compress="ZSTD", predictor=2, size=600)
    url = s3.upload(path, "pixels.tif")
    ds = open_virtual(url, s3.registry())
    np.testing.assert_array_equal(ds["0"].values, read_rasterio(path))
    np.testing.assert_array_equal(ds["0"].values, written)


@pytest.mark.parametrize("rewrite", ["other-bytes-same-size", "other-size"])
def test_a_changed_source_raises_instead_of_returning_other_pixels(rewrite, s3, tmp_path):
    from virtual_tiff import SourceChangedError

    path = tmp_path / "cog.tif"
    write_gdal(path, compress="ZSTD", size=300)
    url = s3.upload(path, f"changing-{rewrite}.tif")
    store = VirtualTIFF(ifd=0)(url=url, registry=s3.registry())
    changed = bytearray(path.read_bytes())
    if rewrite == "other-bytes-same-size":
        changed[-100:] = bytes(100)
    else:
        changed += b"appended"
    s3.client.put_object(Bucket=BUCKET, Key=f"changing-{rewrite}.tif", Body=bytes(changed))
    with pytest.raises(SourceChangedError, match=f"changing-{rewrite}.tif"):
        xr.open_zarr(store, zarr_format=3, consolidated=False)["0"].values


def test_the_same_bytes_uploaded_again_still_read(s3, tmp_path):
    path = tmp_path / "cog.tif"
    written = write_gdal(path, compress="ZSTD", size=300)
    url = s3.upload(path, "same-again.tif")
    store = VirtualTIFF(ifd=0)(url=url, registry=s3.registry())
    s3.upload(path, "same-again.tif")
    np.testing.assert_array_equal(xr.open_zarr(store, zarr_format=3, consolidated=False)["0"].values, written)


def test_a_changed_local_file_raises(tmp_path, registry):
    from virtual_tiff import SourceChangedError

    path = tmp_path / "local.tif"
    write_gdal(path, compress="ZSTD", size=300)
    store = VirtualTIFF(ifd=0)(url=file_url(path), registry=registry)
    write_gdal(path, compress="DEFLATE", size=300)
    with pytest.raises(SourceChangedError):
        xr.open_zarr(store, zarr_format=3, consolidated=False)["0"].values
