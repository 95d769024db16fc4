"""Stacks of many files: shared headers, grids side by side, ragged extents padded or refused, batches."""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import rioxarray  # noqa: F401  (the .rio accessor)
import xarray as xr
from virtualizarr.manifests import ManifestArray

from tests.helpers.geotiffs import NODATA, write_geotiff
from tests.helpers.oracles import read_rasterio
from tests.helpers.virtual import file_url, load
from virtual_tiff import (
    GridAlignmentError,
    VirtualTIFF,
    open_virtual_mfdataset,
    open_virtual_mftree,
)
from virtual_tiff.stacks import read_images


def test_files_with_one_header_share_metadata_and_equal_a_full_parse(tmp_path, registry):
    paths = [write_geotiff(tmp_path / f"t{i}.tif", seed=i) for i in range(4)]
    batch = read_images([file_url(p) for p in paths], registry)
    assert len({id(image.template) for image in batch.images}) == 1
    for path, image in zip(paths, batch.images, strict=True):
        alone = VirtualTIFF()(file_url(path), registry)._group.arrays["0"]
        mine, variable = image.array("0"), image.template.dataset["0"]
        # xarray holds the attributes and dimension names; the rest of the metadata is the file's own.
        assert {**mine.metadata.to_dict(), "attributes": variable.attrs, "dimension_names": variable.dims} == (
            alone.metadata.to_dict())
        for field in ("_paths", "_offsets", "_lengths"):
            np.testing.assert_array_equal(getattr(mine.manifest, field), getattr(alone.manifest, field))


def test_time_stack_equals_xarrays_combine_and_the_pixels(tmp_path, registry):
    paths = [write_geotiff(tmp_path / f"t{i}.tif", seed=i) for i in range(5)]
    urls = [file_url(p) for p in paths]
    fast = open_virtual_mfdataset(urls, registry, concat_dim="time", combine="nested")
    general = open_virtual_mfdataset(urls, registry, concat_dim="time", combine="nested", preprocess=lambda ds: ds)
    xr.testing.assert_identical(fast.drop_vars("0"), general.drop_vars("0"))
    assert fast.attrs == general.attrs
    np.testing.assert_array_equal(load(fast["0"], registry), np.stack([read_rasterio(p) for p in paths]))
    np.testing.assert_array_equal(load(general["0"], registry), load(fast["0"], registry))


def test_disparate_crs_and_resolutions_become_named_groups(tmp_path, registry):
    specs = [("EPSG:32633", 10.0), ("EPSG:32634", 10.0), ("EPSG:32633", 20.0), ("EPSG:32633", 10.0)]
    paths = [write_geotiff(tmp_path / f"f{i}.tif", seed=i, crs=crs, res=res) for i, (crs, res) in enumerate(specs)]
    tree = open_virtual_mftree([file_url(p) for p in paths], registry, labels=[0, 1, 2, 3])
    assert list(tree.children) == ["EPSG_32633_10m", "EPSG_32634_10m", "EPSG_32633_20m"]
    assert {k: list(node["time"].values) for k, node in tree.children.items()} == {
        "EPSG_32633_10m": [0, 3], "EPSG_32634_10m": [1], "EPSG_32633_20m": [2]}
    group = tree["EPSG_32633_10m"].to_dataset()
    assert group.rio.crs.to_epsg() == 32633
    np.testing.assert_array_equal(load(group["0"], registry), np.stack([read_rasterio(paths[0]), read_rasterio(paths[3])]))
    assert set(tree.attrs["virtual_tiff"]["sources"]) == {file_url(p) for p in paths}


#: (origin offset of the second file in pixels (rows, cols), its shape) -> the error, or None if it pads.
RAGGED = {
    "aligned, whole tiles": ((64, 128), (128, 192), None),
    "aligned, partial tile at the union's edge": ((64, 128), (100, 150), None),
    "aligned, to the upper left": ((-64, -64), (64, 64), None),
    "offset not a whole number of tiles": ((10, 0), (128, 192), "not a multiple of its 64-pixel chunks"),
    "partial tile inside the union": ((0, 0), (100, 192), "padded last chunk"),
    "origin off the pixel lattice": ((0.5, 0), (128, 192), "pixel lattice"),
}


@pytest.mark.parametrize("offset, shape, error", RAGGED.values(), ids=RAGGED.keys())
def test_ragged_extents_of_one_grid_pad_to_the_union_or_say_why_not(tmp_path, registry, offset, shape, error):
    first = write_geotiff(tmp_path / "a.tif", seed=1)
    origin = (500_000.0 + offset[1] * 10.0, 5_000_000.0 - offset[0] * 10.0)
    second = write_geotiff(tmp_path / "b.tif", seed=2, origin=origin, shape=shape)
    urls = [file_url(first), file_url(second)]
    if error is not None:
        with pytest.raises(GridAlignmentError, match=error):
            open_virtual_mftree(urls, registry)
        return
    ds = open_virtual_mftree(urls, registry)["EPSG_32633_10m"].to_dataset()
    top, left = max(0, -offset[0]), max(0, -offset[1])
    height = max(top + 128, top + offset[0] + shape[0])
    width = max(left + 192, left + offset[1] + shape[1])
    expected = np.full((2, height, width), NODATA, dtype="uint16")
    expected[0, top : top + 128, left : left + 192] = read_rasterio(first)
    expected[1, top + offset[0] : top + offset[0] + shape[0], left + offset[1] : left + offset[1] + shape[1]] = (
        read_rasterio(second))
    np.testing.assert_array_equal(load(ds["0"], registry), expected)
    assert ds.rio.transform().c == 500_000.0 - left * 10.0 and ds.rio.transform().f == 5_000_000.0 + top * 10.0
    np.testing.assert_allclose(ds["x"].values[[0, -1]], ds.rio.transform().c + 10.0 * np.array([0.5, width - 0.5]))
    assert ds.attrs["spatial:shape"] == [height, width]


def test_files_that_cannot_share_an_array_are_named(tmp_path, registry):
    paths = [write_geotiff(tmp_path / "a.tif"), write_geotiff(tmp_path / "b.tif", compress="LZW")]
    with pytest.raises(Exception, match="b.tif.*cannot share one virtual array"):
        open_virtual_mftree([file_url(p) for p in paths], registry)


def test_500_files_in_batches_stay_fast_and_in_order(tmp_path, registry):
    source = write_geotiff(tmp_path / "source.tif", shape=(64, 64), tile=32)
    paths = [shutil.copy(source, tmp_path / f"f{i:03d}.tif") for i in range(500)]
    urls = [file_url(p) for p in paths]
    calls = []
    started = time.perf_counter()
    ds = open_virtual_mfdataset(urls, registry, concat_dim="time", combine="nested", batch_size=128,
                                max_concurrency=32, progress=lambda done, total: calls.append((done, total)))
    assert time.perf_counter() - started < 20
    manifest = ds["0"].data.manifest
    assert manifest.shape_chunk_grid == (500, 2, 2)
    assert list(np.asarray(manifest._paths)[:, 0, 0]) == urls
    assert calls[-1] == (500, 500) and len(calls) == 500


def test_batches_on_an_executor_give_the_same_stack(tmp_path, registry):
    paths = [write_geotiff(tmp_path / f"t{i}.tif", seed=i) for i in range(6)]
    urls = [file_url(p) for p in paths]
    here = open_virtual_mfdataset(urls, registry, concat_dim="time", combine="nested")
    with ThreadPoolExecutor(2) as pool:
        there = open_virtual_mfdataset(urls, registry, concat_dim="time", combine="nested", batch_size=2,
                                       executor=pool)
    assert isinstance(there["0"].data, ManifestArray)
    np.testing.assert_array_equal(load(there["0"], registry), load(here["0"], registry))
    assert there.attrs == here.attrs


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_batches_run_on_dask_distributed(processes, tmp_path):
    """Scale-out: each batch of headers is one task on a dask.distributed cluster."""
    distributed = pytest.importorskip("distributed")
    import rasterio
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore

    from virtual_tiff import open_virtual_mfdataset

    urls = []
    for t in range(6):
        path = tmp_path / f"d{t}.tif"
        with rasterio.open(path, "w", driver="COG", height=64, width=64, count=1, dtype="uint16", blocksize=32,
                           crs="EPSG:32633", transform=rasterio.transform.from_origin(0, 640, 10, 10)) as dst:
            dst.write(np.full((1, 64, 64), t, "uint16"))
        urls.append(path.resolve().as_uri())
    registry = ObjectStoreRegistry({"file://": LocalStore()})
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        vds = open_virtual_mfdataset(urls, registry, concat_dim="time", combine="nested", batch_size=2,
                                     executor=client.get_executor())
    assert vds["0"].shape == (6, 64, 64)
    assert [str(p) for p in vds["0"].data.manifest._paths[:, 0, 0]] == urls
    assert sorted(vds.attrs["virtual_tiff"]["sources"]) == sorted(urls)


@pytest.fixture
def batch_with_a_broken_file(tmp_path):
    paths = [write_geotiff(tmp_path / f"ok{i}.tif", seed=i) for i in range(40)]
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"II*\x00" + bytes(60))  # a header pointing at an IFD of zero entries
    paths.insert(17, broken)
    return [file_url(p) for p in paths], file_url(broken)


def test_the_first_fatal_error_stops_the_build_and_names_the_file(batch_with_a_broken_file, registry):
    from virtual_tiff import MalformedTIFFError

    urls, broken = batch_with_a_broken_file
    with pytest.raises(MalformedTIFFError, match="broken.tif"):
        open_virtual_mfdataset(urls, registry, concat_dim="time", combine="nested")


def test_skipped_files_are_reported(batch_with_a_broken_file, registry):
    urls, broken = batch_with_a_broken_file
    vds = open_virtual_mfdataset(urls, registry, concat_dim="time", combine="nested", on_error="skip")
    assert vds["0"].shape[0] == 40
    assert list(vds.attrs["virtual_tiff"]["failed"]) == [broken]
    assert "IFD" in vds.attrs["virtual_tiff"]["failed"][broken]


def test_cancelling_a_build_cancels_every_header_read(tmp_path, registry):
    """Ctrl-C arrives as cancellation of the running build: nothing keeps reading afterwards."""
    import asyncio

    from virtual_tiff.stacks import ReadOptions, read_batch_async

    urls = [file_url(write_geotiff(tmp_path / f"c{i}.tif", seed=i)) for i in range(60)]

    finished: list[int] = []

    async def main():
        def cancel_after_three() -> None:
            finished.append(1)
            if len(finished) == 3:
                build.cancel()

        build = asyncio.ensure_future(
            read_batch_async(urls, registry, ReadOptions(max_concurrency=4), progress=cancel_after_three)
        )
        with pytest.raises(asyncio.CancelledError):
            await build
        await asyncio.sleep(0)
        return [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]

    assert asyncio.run(main()) == []
    assert len(finished) < len(urls)
