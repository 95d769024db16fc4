"""A cube published to Icechunk, opened by a reader that has never heard of virtual_tiff.

The read-back runs in a subprocess of a throwaway environment holding only what an Icechunk
reader needs (icechunk, zarr, xarray, the codecs: :mod:`tests.helpers.reader_envs`); the
repository is opened with credentials alone, no config of the reader's own (the one
``icechunk_config`` wrote is persisted), as a user of a published cube would.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.oracles import read_rasterio
from tests.helpers.reader_envs import EnvironmentUnavailable, build_reader_env, run_reader
from tests.helpers.samples import sample_data
from tests.helpers.virtual import file_url
from virtual_tiff import icechunk_config, open_virtual_mfdataset, open_virtual_multiscale, to_icechunk

icechunk = pytest.importorskip("icechunk")

READER = r"""
import importlib.util, sys
import icechunk, numpy as np, xarray as xr

assert importlib.util.find_spec("virtual_tiff") is None, "the reader must not have virtual_tiff"
repo, prefix, group, out = sys.argv[1:5]
repository = icechunk.Repository.open(icechunk.local_filesystem_storage(repo),
                                      authorize_virtual_chunk_access={prefix: icechunk.credentials.LocalFileSystemAccess})
ds = xr.open_zarr(repository.readonly_session("main").store, group=group or None, zarr_format=3, consolidated=False)
np.save(out, ds[sys.argv[5]].values)
"""


@pytest.fixture(scope="session")
def reader_python(tmp_path_factory):
    try:
        return build_reader_env(tmp_path_factory.mktemp("icechunk-reader"), ("icechunk", "imagecodecs-zarr"))
    except EnvironmentUnavailable as exc:
        pytest.skip(f"no Icechunk reader environment: {exc}")


def write_cogs(folder, n=3):
    """Deflate + predictor 2 COGs with an overview: the reader needs imagecodecs-zarr's delta."""
    import rasterio
    from rasterio.transform import from_origin

    paths = []
    for k in range(n):
        path = folder / f"t{k}.tif"
        with rasterio.open(path, "w", driver="COG", height=128, width=192, count=1, dtype="uint16",
                           crs="EPSG:32633", transform=from_origin(500_000, 5_000_000, 10, 10), blocksize=64,
                           compress="DEFLATE", predictor=2, overview_count=1) as dst:
            dst.write(sample_data("uint16", 1, 128, 192) + k)
        paths.append(path)
    return paths


@pytest.mark.parametrize("shape", ["stack", "multiscale"])
def test_a_published_cube_reads_back_without_virtual_tiff(shape, reader_python, tmp_path, registry):
    sources = tmp_path / "sources"
    sources.mkdir()
    paths = write_cogs(sources)
    urls = [file_url(p) for p in paths]
    prefix = file_url(sources) + "/"
    if shape == "stack":
        cube, group, name, truth = (open_virtual_mfdataset(urls, registry, combine="nested", concat_dim="time"), "",
                                    "0", np.stack([read_rasterio(p) for p in paths]))
    else:
        import rasterio

        def overview(path):
            with rasterio.open(path, overview_level=0) as src:
                return src.read(1)

        cube, group, name, truth = (open_virtual_multiscale(urls, registry), "1", "data",
                                    np.stack([overview(p) for p in paths]))
    repo = icechunk.Repository.create(
        icechunk.local_filesystem_storage(str(tmp_path / "repo")),
        config=icechunk_config({prefix: icechunk.local_filesystem_store(str(sources) + "/")}),
        authorize_virtual_chunk_access={prefix: icechunk.credentials.LocalFileSystemAccess})
    session = repo.writable_session("main")
    to_icechunk(cube, session.store)
    session.commit("published")

    out = tmp_path / "read.npy"
    result = run_reader(reader_python, READER, tmp_path, args=[str(tmp_path / "repo"), prefix, group, str(out), name])

    assert result.returncode == 0, result.stderr[-2000:]
    np.testing.assert_array_equal(np.load(out), truth)
