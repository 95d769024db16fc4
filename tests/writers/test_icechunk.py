"""Time stacks into real Icechunk repositories, with a checksum per source that Icechunk enforces."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import xarray as xr

from tests.helpers.oracles import read_rasterio
from tests.helpers.s3 import BUCKET
from tests.helpers.samples import sample_data
from tests.helpers.virtual import file_url
from virtual_tiff import open_virtual_mfdataset
from virtual_tiff.writers.icechunk import to_icechunk

icechunk = pytest.importorskip("icechunk")


def write_stack(folder, n, start=0):
    import rasterio

    paths = []
    for t in range(start, start + n):
        path = folder / f"t{t:02d}.tif"
        with rasterio.open(path, "w", driver="COG", height=64, width=96, count=1, dtype="int16",
                           blocksize=32, compress="DEFLATE", predictor=2) as dst:
            dst.write(sample_data("int16", 1, 64, 96) + t)
        paths.append(path)
    return paths


def local_repo(path, sources_prefix):
    config = icechunk.RepositoryConfig.default()
    config.set_virtual_chunk_container(
        icechunk.VirtualChunkContainer(sources_prefix, icechunk.local_filesystem_store(sources_prefix[7:]))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return icechunk.Repository.create(
            icechunk.local_filesystem_storage(str(path)),
            config=config,
            authorize_virtual_chunk_access={sources_prefix: None},
        )


def read(repo):
    return xr.open_zarr(repo.readonly_session("main").store, zarr_format=3, consolidated=False)["0"].values


@pytest.mark.parametrize("writer", ["icechunk", "kerchunk"])
def test_a_cube_to_compute_on_is_refused_instead_of_copied(writer, tmp_path, registry):
    """open_mfdataset's cube reads pixels lazily: written, every pixel would be copied."""
    from virtual_tiff import open_mfdataset, to_kerchunk

    paths = write_stack(tmp_path, 2)
    cube = open_mfdataset([file_url(p) for p in paths], registry, concat_dim="time", combine="nested")
    with pytest.raises(TypeError, match="open_virtual_mfdataset"):
        if writer == "kerchunk":
            to_kerchunk(cube, tmp_path / "refs.json")
        else:
            to_icechunk(cube, local_repo(tmp_path / "repo", file_url(tmp_path) + "/").writable_session("main").store)
    assert not (tmp_path / "refs.json").exists()


def test_time_stack_round_trips_appends_and_refuses_a_changed_source(tmp_path, registry):
    sources = tmp_path / "sources"
    sources.mkdir()
    paths = write_stack(sources, 12)
    vds = open_virtual_mfdataset([file_url(p) for p in paths], registry, concat_dim="time", combine="nested")
    repo = local_repo(tmp_path / "repo", file_url(sources) + "/")
    session = repo.writable_session("main")
    to_icechunk(vds, session.store)
    session.commit("12 time steps")
    np.testing.assert_array_equal(read(repo), np.stack([read_rasterio(p) for p in paths]))

    more = write_stack(sources, 2, start=12)
    session = repo.writable_session("main")
    to_icechunk(open_virtual_mfdataset([file_url(p) for p in more], registry, concat_dim="time",
                                       combine="nested"), session.store, append_dim="time")
    session.commit("2 more")
    assert read(repo).shape == (14, 64, 96)
    np.testing.assert_array_equal(read(repo)[12:], np.stack([read_rasterio(p) for p in more]))

    paths[3].write_bytes(paths[9].read_bytes())  # t03.tif rewritten with other pixels...
    stat = os.stat(paths[3])
    os.utime(paths[3], (stat.st_atime, stat.st_mtime + 5))  # ...and a later mtime than recorded
    with pytest.raises(Exception, match="checksum"):
        read(repo)


def test_virtualizarrs_own_mfdataset_with_its_defaults_publishes_every_source(tmp_path, registry):
    """VirtualiZarr's ``open_virtual_mfdataset(parser=VirtualTIFF())`` for a nested time stack, its
    defaults otherwise: it builds (spatial_ref is loaded, so xarray can compare it across files);
    its combine keeps the first file's provenance only, so ``to_icechunk`` asks for ``registry=``,
    and with it records every source and checksums every reference."""
    import virtualizarr

    from virtual_tiff import VirtualTIFF, VirtualTIFFError

    sources = tmp_path / "sources"
    sources.mkdir()
    paths = write_stack(sources, 5)
    urls = [file_url(p) for p in paths]
    vds = virtualizarr.open_virtual_mfdataset(urls, registry=registry, parser=VirtualTIFF(), concat_dim="time",
                                              combine="nested")
    assert vds["0"].shape == (5, 64, 96) and len(vds.attrs["virtual_tiff"]["sources"]) == 1
    repo = local_repo(tmp_path / "repo", file_url(sources) + "/")
    session = repo.writable_session("main")
    with pytest.raises(VirtualTIFFError, match="registry="):
        to_icechunk(vds, session.store)
    assert not session.has_uncommitted_changes  # refused before anything was written: retry in the same session
    with pytest.warns(UserWarning, match="4 of 5 sources had no recorded version"):
        to_icechunk(vds, session.store, registry=registry)
    session.commit("5 time steps")
    np.testing.assert_array_equal(read(repo), np.stack([read_rasterio(p) for p in paths]))
    root = xr.open_zarr(repo.readonly_session("main").store, zarr_format=3, consolidated=False)
    assert sorted(root.attrs["virtual_tiff"]["sources"]) == sorted(urls)


def test_etag_checksums_on_s3(s3, tmp_path):
    paths = write_stack(tmp_path, 3)
    urls = [s3.upload(p, f"stack/{p.name}") for p in paths]
    vds = open_virtual_mfdataset(urls, s3.registry(), concat_dim="time", combine="nested")
    host_port = s3.endpoint.removeprefix("http://")
    prefix = f"s3://{BUCKET}/stack/"
    config = icechunk.RepositoryConfig.default()
    config.set_virtual_chunk_container(icechunk.VirtualChunkContainer(
        prefix, icechunk.s3_store(region="us-east-1", endpoint_url=f"http://{host_port}", allow_http=True,
                                  s3_compatible=True, force_path_style=True)))
    credentials = icechunk.containers_credentials(
        {prefix: icechunk.s3_static_credentials(access_key_id="testing", secret_access_key="testing")}
    )
    repo = icechunk.Repository.create(icechunk.local_filesystem_storage(str(tmp_path / "repo")), config=config,
                                      authorize_virtual_chunk_access=credentials)
    session = repo.writable_session("main")
    to_icechunk(vds, session.store, checksum="etag")
    session.commit("s3 stack")
    np.testing.assert_array_equal(read(repo), np.stack([read_rasterio(p) for p in paths]))

    s3.upload(paths[2], "stack/t01.tif")  # same key, other bytes: a new ETag
    with pytest.raises(Exception, match="checksum"):
        read(repo)


def test_a_published_cube_reads_at_one_get_per_tile_for_readers_without_a_config(s3, tmp_path):
    """Icechunk's default splits each virtual chunk into ~75 KB requests (a 380 KB tile: 5 GETs);
    ``icechunk_config`` asks for whole chunks and is persisted, so a reader opening the repository
    with no config of its own (only credentials) reads one GET per tile, and no header at all."""
    import rasterio
    from rasterio.transform import from_origin

    from virtual_tiff import icechunk_config

    rng = np.random.default_rng(0)
    urls, truth = [], []
    for k in range(3):
        path = tmp_path / f"noisy{k}.tif"
        data = rng.integers(0, 60_000, (1, 1024, 1024), dtype="uint16")  # 512² Deflate tiles of ~380 KB
        with rasterio.open(path, "w", driver="GTiff", height=1024, width=1024, count=1, dtype="uint16",
                           crs="EPSG:32633", transform=from_origin(500_000, 5_000_000, 10, 10), tiled=True,
                           blockxsize=512, blockysize=512, compress="DEFLATE") as dst:
            dst.write(data)
        urls.append(s3.upload(path, f"published/{path.name}"))
        truth.append(data[0])
    prefix = f"s3://{BUCKET}/published/"
    container = icechunk.s3_store(region="us-east-1", endpoint_url=s3.endpoint, allow_http=True, s3_compatible=True,
                                  force_path_style=True)
    credentials = icechunk.containers_credentials(
        {prefix: icechunk.s3_static_credentials(access_key_id="testing", secret_access_key="testing")})
    storage = icechunk.local_filesystem_storage(str(tmp_path / "repo"))
    repo = icechunk.Repository.create(storage, config=icechunk_config({prefix: container}),
                                      authorize_virtual_chunk_access=credentials)
    session = repo.writable_session("main")
    to_icechunk(open_virtual_mfdataset(urls, s3.registry(), concat_dim="time", combine="nested"), session.store)
    session.commit("published")

    reader = icechunk.Repository.open(storage, authorize_virtual_chunk_access=credentials)  # no config
    s3.log.clear()
    cube = xr.open_zarr(reader.readonly_session("main").store, zarr_format=3, consolidated=False)
    np.testing.assert_array_equal(cube["0"].values, np.stack(truth))
    # Icechunk's requests carry a query string (``?x-id=GetObject``), hence not ``s3.log.count``.
    gets = sum(1 for method, path in s3.log.requests if method == "GET" and "/published/noisy" in path)
    assert gets == 3 * 4  # one per tile


def test_a_cog_datatree_round_trips(tmp_path, registry):
    import rasterio
    import virtualizarr

    from virtual_tiff import VirtualTIFF

    sources = tmp_path / "sources"
    sources.mkdir()
    path = sources / "cog.tif"
    with rasterio.open(path, "w", driver="COG", height=256, width=256, count=1, dtype="uint16", blocksize=64,
                       compress="DEFLATE", overview_count=2, crs="EPSG:32633",
                       transform=rasterio.transform.from_origin(500000, 5600000, 10, 10)) as dst:
        dst.write(sample_data("uint16", 1, 256, 256))
    vdt = virtualizarr.open_virtual_datatree(file_url(path), registry=registry,
                                             parser=VirtualTIFF(ifd=None, ifd_layout="nested"))
    repo = local_repo(tmp_path / "repo", file_url(sources) + "/")
    session = repo.writable_session("main")
    to_icechunk(vdt, session.store)
    session.commit("tree")
    tree = xr.open_datatree(repo.readonly_session("main").store, engine="zarr", zarr_format=3, consolidated=False)
    for level in range(3):
        with rasterio.open(path, overview_level=None if level == 0 else level - 1) as src:
            np.testing.assert_array_equal(tree[str(level)]["data"].values, src.read(1))
    assert "multiscales" in tree.attrs


def test_a_one_file_append_matches_the_stack_it_extends(tmp_path, registry):
    """Each file's GDAL dataset items are coordinates along time however many files a stack has,
    so a daily one-file append carries the same coordinates as the stack it extends."""
    import rasterio

    sources = tmp_path / "sources"
    sources.mkdir()
    paths = write_stack(sources, 4)
    for k, path in enumerate(paths):
        with rasterio.open(path, "r+", IGNORE_COG_LAYOUT_BREAK="YES") as dst:
            dst.update_tags(ACQUISITION_DATE=f"2024-06-0{k + 1}", PLATFORM="S2B")
    first = open_virtual_mfdataset([file_url(p) for p in paths[:3]], registry, concat_dim="time", combine="nested")
    more = open_virtual_mfdataset([file_url(paths[3])], registry, concat_dim="time", combine="nested")
    assert set(first.coords) == set(more.coords)
    repo = local_repo(tmp_path / "repo", file_url(sources) + "/")
    session = repo.writable_session("main")
    to_icechunk(first, session.store)
    session.commit("3 days")
    session = repo.writable_session("main")
    to_icechunk(more, session.store, append_dim="time")
    session.commit("day 4")
    cube = xr.open_zarr(repo.readonly_session("main").store, zarr_format=3, consolidated=False)
    assert list(cube["ACQUISITION_DATE"].values) == [f"2024-06-0{k + 1}" for k in range(4)]
    np.testing.assert_array_equal(cube["0"].values, np.stack([read_rasterio(p) for p in paths]))
