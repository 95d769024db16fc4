"""One build per header signature: passed in, keyed once per header, holding no file's chunks."""

from __future__ import annotations

import pickle

import numpy as np
import tifffile
from virtualizarr.manifests import ManifestArray
from zarr.core.sync import sync

from tests.helpers.virtual import file_url
from virtual_tiff import VirtualTIFF
from virtual_tiff.build import BuildCache
from virtual_tiff.io import ObjectReader
from virtual_tiff.tiff import read_tiff


def write(path, k, *, tile=(16, 16)):
    data = np.arange(64 * 48, dtype="uint16").reshape(64, 48) * k
    tifffile.imwrite(path, data, tile=tile, compression="zlib", predictor=2)
    return file_url(path)


def parsed(url, registry):
    return sync(read_tiff(ObjectReader(url, registry)))


def test_a_build_keeps_only_what_files_share(tmp_path, registry):
    cache = BuildCache()
    build, group = cache.single(parsed(write(tmp_path / "a.tif", 1), registry), 0)
    assert set(build.per_file) == {"0"} and not isinstance(build.per_file["0"], ManifestArray)
    assert build.per_file["0"] is group.arrays["0"].metadata
    assert len(cache) == 1


def test_files_of_one_signature_share_one_build_and_keep_their_own_chunks(tmp_path, registry):
    cache = BuildCache()
    urls = [write(tmp_path / f"{k}.tif", k) for k in (1, 2)]
    (first, a), (second, b) = (cache.single(parsed(url, registry), 0) for url in urls)
    assert first is second and len(cache) == 1
    assert a.arrays["0"].metadata is b.arrays["0"].metadata
    assert {e["path"] for _, e in b.arrays["0"].manifest.iter_refs()} == {urls[1]}


def test_other_signatures_get_other_builds_and_the_oldest_is_evicted(tmp_path, registry):
    cache = BuildCache(size=2)
    for k, tile in enumerate([(16, 16), (32, 32), (16, 32)]):
        cache.single(parsed(write(tmp_path / f"{k}.tif", 1, tile=tile), registry), 0)
    assert len(cache) == 2


def test_a_parser_pickles_with_an_empty_cache_of_the_same_size(tmp_path, registry):
    parser = VirtualTIFF(ifd=0, cache=BuildCache(size=4))
    parser(write(tmp_path / "a.tif", 1), registry)
    again = pickle.loads(pickle.dumps(parser))
    assert again == parser and len(again.cache) == 0 and again.cache.size == 4
    assert VirtualTIFF(ifd=0).cache is not VirtualTIFF(ifd=0).cache  # no module-wide cache


def test_scenes_differing_in_their_gdal_metadata_share_one_build_and_keep_their_own_attributes(tmp_path, registry):
    """Real scenes carry their own acquisition date and processing ids (GDAL_METADATA), DateTime and
    Software: one build for all of them, each store with its own metadata attributes, as rasterio reads."""
    import rasterio
    import xarray as xr

    from tests.helpers.geotiffs import write_geotiff

    paths = []
    for k in range(3):
        path = write_geotiff(tmp_path / f"scene_{k}.tif", seed=k)
        with rasterio.open(path, "r+") as dst:
            dst.update_tags(ACQUISITION_DATE=f"2024-06-0{k + 1}", PROCESSING_BASELINE=f"05.{k}")
            dst.update_tags(1, DESCRIPTION_NOTE=f"band note {k}")
        paths.append(path)
    parser = VirtualTIFF(ifd=0)
    for k, path in enumerate(paths):
        attrs = xr.open_zarr(parser(file_url(path), registry), zarr_format=3, consolidated=False)["0"].attrs
        with rasterio.open(path) as src:
            assert attrs["gdal_metadata"]["dataset"]["ACQUISITION_DATE"] == src.tags()["ACQUISITION_DATE"]
            assert attrs["gdal_metadata"]["band_1"]["DESCRIPTION_NOTE"] == src.tags(1)["DESCRIPTION_NOTE"]
        assert attrs["grid_mapping"] == "spatial_ref"
    assert len(parser.cache) == 1
