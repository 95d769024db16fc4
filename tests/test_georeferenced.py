"""GeoTIFFs open as georeferenced xarray data: what rioxarray and rasterio see, level by level."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from rasterio.crs import CRS
from rasterio.transform import Affine, from_origin
from rasterio.windows import Window

from tests.conftest import file_url, open_virtual
from tests.variants import sample_data
from virtual_tiff import VirtualTIFF

H, W = 96, 128

GEOTIFFS = {
    "epsg-projected": dict(crs="EPSG:32633", transform=from_origin(500000, 5600000, 30, 30)),
    "geographic": dict(crs="EPSG:4326", transform=from_origin(-10.0, 50.0, 0.01, 0.01)),
    "pixel-is-point": dict(crs="EPSG:32633", transform=from_origin(500000, 5600000, 30, 30),
                           tags={"AREA_OR_POINT": "Point"}),
    "rotated": dict(crs="EPSG:32633", transform=Affine(20.0, 5.0, 500000.0, 5.0, -20.0, 5600000.0)),
    "user-defined-lcc": dict(
        crs="+proj=lcc +lat_1=45 +lat_2=55 +lat_0=50 +lon_0=10 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs",
        transform=from_origin(-64000, 48000, 1000, 1000)),
}


def write_geotiff(path, crs, transform, tags=None, **options):
    profile = dict(driver="GTiff", height=H, width=W, count=1, dtype="int16", crs=crs, transform=transform,
                   tiled=True, blockxsize=32, blockysize=32, compress="DEFLATE")
    profile.update(options)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(sample_data("int16", profile["count"], H, W))
        if tags:
            dst.update_tags(**tags)
    return path


@pytest.mark.parametrize("name", GEOTIFFS)
def test_rioxarray_sees_what_rasterio_sees(name, tmp_path, registry):
    path = write_geotiff(tmp_path / f"{name}.tif", **GEOTIFFS[name])
    da = open_virtual(file_url(path), registry)["0"]
    with rasterio.open(path) as src:
        assert CRS.from_user_input(da.rio.crs) == src.crs
        assert da.rio.transform().almost_equals(src.transform)
        if name != "rotated":  # rasterio and rioxarray disagree on what a rotated grid's bounds are
            np.testing.assert_allclose(da.rio.bounds(), tuple(src.bounds), rtol=1e-12)
        expected = src.read(1)
    np.testing.assert_array_equal(da.values, expected)
    if name == "rotated":
        assert "x" not in da.coords  # a rotated grid has a transform, no 1-D coordinates
    else:
        reference = xr.open_dataarray(path, engine="rasterio").squeeze("band", drop=True)
        np.testing.assert_array_equal(da.x.values, reference.x.values)
        np.testing.assert_array_equal(da.y.values, reference.y.values)


def test_sel_by_coordinates_reads_rasterio_window(tmp_path, registry):
    path = write_geotiff(tmp_path / "sel.tif", **GEOTIFFS["epsg-projected"])
    da = open_virtual(file_url(path), registry)["0"]
    x0, y0 = 500000 + 30 * 40, 5600000 - 30 * 20
    window = da.sel(x=slice(x0, x0 + 30 * 50 - 1), y=slice(y0, y0 - 30 * 30 + 1))
    with rasterio.open(path) as src:
        np.testing.assert_array_equal(window.values, src.read(1, window=Window(40, 20, 50, 30)))


@pytest.fixture
def cog(tmp_path):
    path = tmp_path / "cog.tif"
    with rasterio.open(path, "w", driver="COG", height=H * 4, width=W * 4, count=1, dtype="uint16",
                       crs="EPSG:32633", transform=from_origin(500000, 5600000, 10, 10), blocksize=128,
                       compress="DEFLATE", predictor=2, overview_count=3, overview_resampling="average",
                       nodata=0) as dst:
        dst.write(sample_data("uint16", 1, H * 4, W * 4) + 1)
    return path


def test_cog_datatree_levels_match_rasterio_overviews(cog, registry):
    store = VirtualTIFF(ifd=None, ifd_layout="nested")(url=file_url(cog), registry=registry)
    tree = xr.open_datatree(store, engine="zarr", zarr_format=3, consolidated=False)
    assert set(tree.children) == {"0", "1", "2", "3"}
    layout = tree.attrs["multiscales"]["layout"]
    assert [entry["asset"] for entry in layout] == ["0", "1", "2", "3"]
    for level in range(4):
        da = tree[str(level)]["data"]
        with rasterio.open(cog, overview_level=None if level == 0 else level - 1) as src:
            assert da.rio.transform().almost_equals(src.transform)
            assert CRS.from_user_input(da.rio.crs) == src.crs
            np.testing.assert_array_equal(da.values, src.read(1))


def test_a_bounding_box_on_a_coarse_level_covers_the_same_area(cog, registry):
    store = VirtualTIFF(ifd=None, ifd_layout="nested")(url=file_url(cog), registry=registry)
    tree = xr.open_datatree(store, engine="zarr", zarr_format=3, consolidated=False)
    box = dict(x=slice(501000, 502600), y=slice(5599000, 5597400))
    fine, coarse = tree["0"]["data"].sel(**box), tree["2"]["data"].sel(**box)
    np.testing.assert_allclose(fine.rio.bounds(), coarse.rio.bounds(), atol=40)


def test_overview_ifd_alone_inherits_crs_and_scaled_transform(cog, registry):
    da = open_virtual(file_url(cog), registry, ifd=2)["2"]
    with rasterio.open(cog, overview_level=1) as src:
        assert da.rio.transform().almost_equals(src.transform)
        assert CRS.from_user_input(da.rio.crs) == src.crs


def test_nodata_and_scale_decode_like_rioxarray(tmp_path, registry):
    path = tmp_path / "scaled.tif"
    data = sample_data("int16", 1, H, W)
    data[0, :10, :10] = -9999
    with rasterio.open(path, "w", driver="GTiff", height=H, width=W, count=1, dtype="int16", nodata=-9999,
                       crs="EPSG:32633", transform=from_origin(500000, 5600000, 30, 30)) as dst:
        dst.write(data)
        dst.scales, dst.offsets = (0.01,), (5.0,)
        dst.descriptions, dst.units = ("temperature",), ("degC",)
    store = VirtualTIFF()(url=file_url(path), registry=registry)
    decoded = xr.open_zarr(store, zarr_format=3, consolidated=False)["0"]
    reference = xr.open_dataarray(path, engine="rasterio", mask_and_scale=True).squeeze("band", drop=True)
    # rioxarray decodes to float32, xarray's CF decoding to float64: equal to float32 precision.
    np.testing.assert_allclose(decoded.values, reference.values, rtol=1e-6, equal_nan=True)
    raw = xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)["0"]
    np.testing.assert_array_equal(raw.values, data[0])
    assert raw.attrs["long_name"] == "temperature" and raw.attrs["units"] == "degC"


def test_sparse_tiles_read_as_nodata_without_a_request(tmp_path, registry):
    path = tmp_path / "sparse.tif"
    data = np.full((1, H, W), -9999, "int16")
    data[0, 40:60, 40:70] = 7
    with rasterio.open(path, "w", driver="GTiff", height=H, width=W, count=1, dtype="int16", nodata=-9999,
                       tiled=True, blockxsize=32, blockysize=32, sparse_ok=True) as dst:
        dst.write(data)
    store = VirtualTIFF()(url=file_url(path), registry=registry)
    raw = xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)["0"]
    assert (np.asarray(store._group["0"].manifest._paths) == "").sum() == 10  # 10 of 12 tiles never written
    with rasterio.open(path) as src:
        np.testing.assert_array_equal(raw.values, src.read(1))


def test_gdal_metadata_items_and_domains_are_attributes(tmp_path, registry):
    path = tmp_path / "tagged.tif"
    with rasterio.open(path, "w", driver="GTiff", height=H, width=W, count=2, dtype="uint8", crs="EPSG:4326",
                       transform=from_origin(0, 10, 0.1, 0.1)) as dst:
        dst.write(sample_data("uint8", 2, H, W))
        dst.update_tags(SENSOR="demo", ACQUIRED="2026-11-25")
        dst.update_tags(ns="PROCESSING", LEVEL="L2A")
        dst.update_tags(2, WAVELENGTH="665")
    da = open_virtual(file_url(path), registry)["0"]
    with rasterio.open(path) as src:
        assert {k: da.attrs["gdal_metadata"]["dataset"][k] for k in ("SENSOR", "ACQUIRED")} == {
            k: src.tags()[k] for k in ("SENSOR", "ACQUIRED")}
        assert da.attrs["gdal_metadata"]["dataset:PROCESSING"] == src.tags(ns="PROCESSING")
        assert da.attrs["gdal_metadata"]["band_2"]["WAVELENGTH"] == src.tags(2)["WAVELENGTH"]
