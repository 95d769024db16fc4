"""Cubes to compute on: virtual stacks opened lazily through one TIFFManifestStore.

Specification: ``open_mfdataset`` / ``load_stac`` / ``open_virtual`` (``TIFFManifestStore.from_virtual``)
give lazy xarray objects whose pixels, means and windows equal rasterio's reads of the same files;
a read of the cube costs at most one GET per file it touches (each file's tiles merged), on a real
S3 API; trees of several CRSs read group by group; VirtualiZarr's own virtual datasets read too.
"""

from __future__ import annotations

import numpy as np
import pytest
import virtualizarr
import xarray as xr

from tests.helpers.geotiffs import write_geotiff
from tests.helpers.oracles import read_rasterio
from tests.helpers.virtual import file_url
from tests.stacks.test_stac import ASSETS, collection, expected
from virtual_tiff import VirtualTIFF, VirtualTIFFError, load_stac, open_mfdataset, open_virtual, open_virtual_mftree

pytestmark = pytest.mark.timeout(120)


def scenes(folder, n=8, **kwargs):
    """``n`` GeoTIFFs of 2 x 3 tiles, each with its own acquisition date and processing tags, as real scenes."""
    import rasterio

    paths = []
    for k in range(n):
        path = write_geotiff(folder / f"scene_{k}.tif", seed=k, **kwargs)
        with rasterio.open(path, "r+") as dst:
            dst.update_tags(ACQUISITION_DATE=f"2024-03-{k + 1:02d}", PROCESSING_BASELINE=f"05.{k:02d}")
        paths.append(path)
    return paths


def test_a_url_stack_on_s3_computes_like_rasterio_with_one_get_per_file(tmp_path, s3):
    paths = scenes(tmp_path)
    urls = [s3.upload(p, f"cube/{p.name}") for p in paths]
    truth = np.stack([read_rasterio(p) for p in paths])
    keys = [f"cube/{p.name}" for p in paths]

    def fresh() -> xr.Dataset:
        """A newly opened cube (xarray caches what it loaded), its header GETs not counted."""
        cube = open_mfdataset(urls, s3.registry(), combine="nested", concat_dim="time")
        s3.log.clear()
        return cube

    np.testing.assert_allclose(fresh()["0"].mean("time").values, truth.mean(axis=0))
    assert sum(s3.log.count("GET", k) for k in keys) <= len(paths)  # every tile of a file in one GET

    window = fresh()["0"].isel(y=slice(0, 64), x=slice(64, 128)).values  # one tile of each file
    np.testing.assert_array_equal(window, truth[:, :64, 64:128])
    assert sum(s3.log.count("GET", k) for k in keys) == len(paths)

    point = fresh()["0"].sel(x=500_105.0, y=4_999_895.0, method="nearest").values  # a time series
    np.testing.assert_array_equal(point, truth[:, 10, 10])
    assert sum(s3.log.count("GET", k) for k in keys) == len(paths)


def test_a_cube_with_dask_chunks_reads_the_same(tmp_path, registry):
    paths = scenes(tmp_path, n=3)
    cube = open_mfdataset([file_url(p) for p in paths], registry, combine="nested", concat_dim="time", chunks={})
    assert cube["0"].chunks is not None
    np.testing.assert_array_equal(cube["0"].values, np.stack([read_rasterio(p) for p in paths]))
    assert cube.rio.crs.to_epsg() == 32633


def test_a_tree_of_two_crss_reads_group_by_group(tmp_path, registry):
    a = scenes(tmp_path, n=2)
    b = [write_geotiff(tmp_path / f"zone34_{k}.tif", seed=20 + k, crs="EPSG:32634") for k in range(2)]
    tree = open_virtual(open_virtual_mftree([file_url(p) for p in a + b], registry, concat_dim="time"), registry)
    groups = {name: child for name, child in tree.children.items()}
    assert set(groups) == {"EPSG_32633_10m", "EPSG_32634_10m"}
    for name, paths in (("EPSG_32633_10m", a), ("EPSG_32634_10m", b)):
        np.testing.assert_array_equal(groups[name]["0"].values, np.stack([read_rasterio(p) for p in paths]))


def test_load_stac_is_the_stac_cube_to_compute_on(tmp_path, registry):
    doc, paths = collection(tmp_path, n=4)
    cube = load_stac(doc, assets=list(ASSETS), registry=registry)
    for key in ASSETS:
        np.testing.assert_array_equal(cube[key].values, expected(doc, paths, key))
    np.testing.assert_allclose(cube["red"].mean("time").values, expected(doc, paths, "red").mean(axis=0))
    assert np.issubdtype(cube["time"].dtype, np.datetime64)


def test_virtualizarrs_own_datasets_read_too(tmp_path, registry):
    paths = scenes(tmp_path, n=3)
    vds = virtualizarr.open_virtual_mfdataset([file_url(p) for p in paths], registry=registry, parser=VirtualTIFF(),
                                              concat_dim="time", combine="nested")
    cube = open_virtual(vds, registry)
    np.testing.assert_array_equal(cube["0"].values, np.stack([read_rasterio(p) for p in paths]))
    assert isinstance(cube, xr.Dataset) and cube.rio.crs.to_epsg() == 32633


def test_a_url_stack_takes_its_time_labels_given_or_parsed_from_the_names(tmp_path, registry):
    import pandas as pd

    paths = scenes(tmp_path, n=3)
    urls = [file_url(p) for p in paths]
    times = pd.to_datetime(["2024-03-01", "2024-03-02", "2024-03-03"])
    cube = open_mfdataset(urls, registry, combine="nested", concat_dim="time", labels=times)
    assert (cube["time"].values == times.values).all()

    def day(url: str) -> np.datetime64:  # scene_<k>.tif -> 2024-03-<k+1>
        return np.datetime64(f"2024-03-{int(url.rsplit('_', 1)[1].split('.')[0]) + 1:02d}", "ns")

    cube = open_mfdataset(urls, registry, combine="nested", concat_dim="time", labels=day)
    np.testing.assert_array_equal(cube.sel(time="2024-03-02")["0"].values, read_rasterio(paths[1]))


def test_a_stac_cube_has_its_items_ids_and_properties_along_time(tmp_path, registry):
    doc, paths = collection(tmp_path, n=3)
    for k, feature in enumerate(doc["features"]):
        feature["properties"].update({"eo:cloud_cover": 10.0 * k, "platform": f"sentinel-2{'ab'[k % 2]}",
                                      "s2:processing_baseline": "05.10"})
    del doc["features"][1]["properties"]["eo:cloud_cover"]
    cube = load_stac(doc, assets=list(ASSETS), registry=registry)
    by_id = {f["id"]: f["properties"] for f in doc["features"]}
    ids = list(cube["id"].values)
    assert sorted(ids) == sorted(by_id) and cube["id"].dims == ("time",)
    for i, item in enumerate(ids):
        assert cube["platform"].values[i] == by_id[item]["platform"]
        cloud = by_id[item].get("eo:cloud_cover", np.nan)
        np.testing.assert_equal(cube["eo:cloud_cover"].values[i], cloud)
    assert list(cube.sel(time=cube.time[cube["platform"] == "sentinel-2a"])["id"].values)


def test_a_cube_builds_and_computes_on_a_cluster_of_worker_processes(tmp_path, registry):
    """Headers read in batches on the workers (``executor=``), the cube's tiles read there too: the
    store pickles small, and each worker's requests go through its own process-wide bound."""
    import pickle

    distributed = pytest.importorskip("distributed")
    from virtual_tiff import TIFFManifestStore, open_virtual_mfdataset

    paths = scenes(tmp_path, n=6)
    urls = [file_url(p) for p in paths]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        vds = open_virtual_mfdataset(urls, registry, combine="nested", concat_dim="time", batch_size=2,
                                     executor=client.get_executor())
        assert len(pickle.dumps(TIFFManifestStore.from_virtual(vds, registry))) < 64 * 1024
        cube = open_virtual(vds, registry, chunks={})
        window = cube["0"].isel(y=slice(0, 64), x=slice(0, 128)).mean("time").compute()
        peaks = client.run(lambda: __import__("virtual_tiff.io._slots", fromlist=["x"]).REQUEST_SLOTS.peak)
    truth = np.stack([read_rasterio(p) for p in paths])[:, :64, :128].mean(axis=0)
    np.testing.assert_allclose(window.values, truth)
    assert all(0 < peak <= 256 for peak in peaks.values()), peaks  # the workers read, within their bound


def test_a_bbox_limits_the_cube_and_its_reads(tmp_path, s3):
    """In the cube's CRS or in lon/lat: the pixels whose centres lie inside, and only their tiles' GETs."""
    import pyproj

    paths = scenes(tmp_path, n=3)
    urls = [s3.upload(p, f"bbox/{p.name}") for p in paths]
    truth = np.stack([read_rasterio(p) for p in paths])
    bbox = (500_005.0, 4_999_375.0, 500_635.0, 4_999_995.0)  # pixel centres of rows 0..62, columns 0..63
    cube = open_mfdataset(urls, s3.registry(), combine="nested", concat_dim="time", bbox=bbox)
    assert cube["0"].shape == (3, 63, 64)
    s3.log.clear()
    np.testing.assert_array_equal(cube["0"].values, truth[:, :63, :64])
    assert sum(s3.log.count("GET", f"bbox/{p.name}") for p in paths) == 3  # one tile of each file

    lonlat = pyproj.Transformer.from_crs(32633, 4326, always_xy=True).transform_bounds(*bbox)
    inner = open_mfdataset(urls, s3.registry(), combine="nested", concat_dim="time", bbox=lonlat,
                           bbox_crs="EPSG:4326")
    assert 63 <= inner["0"].shape[1] <= 66 and 64 <= inner["0"].shape[2] <= 67  # the bounds' envelope
    assert cube.attrs["spatial:shape"] == [63, 64] and cube.rio.transform().c == 500_000.0  # the clipped grid
    assert cube["spatial_ref"].attrs["GeoTransform"].split()[:4] == ["500000.0", "10.0", "0.0", "5000000.0"]
    with pytest.raises(VirtualTIFFError, match="holds no pixel centre"):
        open_mfdataset(urls, s3.registry(), combine="nested", concat_dim="time", bbox=(0, 0, 1, 1), bbox_crs=4326)


def test_a_stack_of_pixel_interleaved_multi_band_cogs(tmp_path, registry):
    """GDAL's COG driver interleaves bands by pixel (a transpose codec): stacking must move its axes."""
    import rasterio
    from rasterio.transform import from_origin

    paths = []
    for k in range(3):
        path = tmp_path / f"rgb{k}.tif"
        data = ((np.arange(3 * 256 * 256).reshape(3, 256, 256) * (k + 3)) % 251).astype("uint8")
        with rasterio.open(path, "w", driver="COG", height=256, width=256, count=3, dtype="uint8",
                           crs="EPSG:32633", transform=from_origin(500_000, 5_000_000, 10, 10), blocksize=128,
                           compress="DEFLATE", interleave="pixel") as dst:
            dst.write(data)
        paths.append(path)
    cube = open_mfdataset([file_url(p) for p in paths], registry, combine="nested", concat_dim="time")
    assert cube["0"].dims == ("time", "band", "y", "x") and list(cube["band"].values) == [1, 2, 3]
    np.testing.assert_array_equal(cube["0"].values, np.stack([read_rasterio(p) for p in paths]))


def test_each_scenes_own_metadata_rides_along_time(tmp_path, registry):
    """Scenes differ in their GDAL metadata (acquisition dates, processing baselines): the stacked
    variable keeps what all agree on, and each differing item is a coordinate along time with
    every file's own value, not the first file's value claimed for all."""
    paths = scenes(tmp_path, n=4)
    cube = open_mfdataset([file_url(p) for p in paths], registry, combine="nested", concat_dim="time")
    assert list(cube["ACQUISITION_DATE"].values) == [f"2024-03-{k + 1:02d}" for k in range(4)]
    assert list(cube["PROCESSING_BASELINE"].values) == [f"05.{k:02d}" for k in range(4)]
    assert "ACQUISITION_DATE" not in str(cube["0"].attrs)
    with pytest.raises(TypeError, match="already a coordinate"):  # not split into 16 one-letter labels
        open_mfdataset([file_url(p) for p in paths], registry, combine="nested", concat_dim="time",
                       labels="ACQUISITION_DATE")
    np.testing.assert_array_equal(cube["0"].values, np.stack([read_rasterio(p) for p in paths]))


@pytest.mark.parametrize(("change", "says"), [("scale", "scaled two ways"), ("offset", "scaled two ways"),
                                              ("nodata", "nodata \\(fill value\\) 5")])
def test_scenes_that_cannot_share_one_array_are_refused_by_name(tmp_path, registry, change, says):
    """One array has one scale_factor/add_offset and one nodata: a file otherwise would read wrong values."""
    import rasterio

    from virtual_tiff import IncompatibleFilesError

    paths = scenes(tmp_path, n=3)
    for k, path in enumerate(paths):
        with rasterio.open(path, "r+") as dst:
            dst.scales = (0.0002 if change == "scale" and k == 2 else 0.0001,)
            dst.offsets = (-0.1 if change == "offset" and k == 2 else 0.0,)
            if change == "nodata" and k == 2:
                dst.nodata = 5
    urls = [file_url(p) for p in paths]
    with pytest.raises(IncompatibleFilesError, match=says) as info:
        open_mfdataset(urls, registry, combine="nested", concat_dim="time")
    assert paths[2].name in str(info.value)
    cube = open_mfdataset(urls[:2], registry, combine="nested", concat_dim="time")
    np.testing.assert_allclose(cube["0"].values, np.stack([read_rasterio(p) for p in paths[:2]]) * 0.0001)
