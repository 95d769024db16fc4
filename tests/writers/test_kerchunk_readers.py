"""Our kerchunk references, opened by readers that have never heard of virtual_tiff.

Each read-back runs in a subprocess of a throwaway environment holding only a
kerchunk reader's packages (:mod:`tests.helpers.reader_envs`): once with
fastparquet alone (fsspec's default Parquet engine) and once with pyarrow
alone. The reader code is the module docstring's of
:mod:`virtual_tiff.writers.kerchunk`, as a user would copy it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import virtualizarr
import xarray as xr

from tests.helpers.oracles import read_tifffile
from tests.helpers.reader_envs import EnvironmentUnavailable, build_reader_env, run_reader
from tests.helpers.variants import tifffile_variant
from tests.helpers.virtual import file_url
from virtual_tiff import VirtualTIFF
from virtual_tiff.writers.kerchunk import to_kerchunk

ENGINES = {"fastparquet": ("fastparquet", "cramjam"), "pyarrow": ("pyarrow",)}

#: Opens references as the writer's docstring says, saves every variable of every group as .npy files.
READER = r"""
import importlib.util, json, sys
from pathlib import Path
import fsspec, imagecodecs.numcodecs, numpy as np, xarray as xr, zarr

assert importlib.util.find_spec("virtual_tiff") is None, "the reader must not have virtual_tiff"
refs, engine, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
imagecodecs.numcodecs.register_codecs()
if refs.endswith(".json") or engine == "fastparquet":
    fo = refs
else:
    from fsspec.implementations.reference import LazyReferenceMapper
    fo = LazyReferenceMapper(refs, fs=fsspec.filesystem("file"), engine="pyarrow")
fs = fsspec.filesystem("reference", fo=fo, remote_protocol="file")
store = zarr.storage.FsspecStore.from_mapper(fs.get_mapper(""), read_only=True)
tree = xr.open_datatree(store, engine="zarr", zarr_format=2, consolidated=False, mask_and_scale=False)
names = {}
for node in tree.subtree:
    for name, var in node.to_dataset(inherit=False).variables.items():
        key = f"{node.path.strip('/') or 'root'}--{name}"
        np.save(out / f"{key}.npy", var.values)
        names[key] = list(var.dims)
(out / "dims.json").write_text(json.dumps(names))
"""


@pytest.fixture(scope="session", params=sorted(ENGINES))
def reader_python(request, tmp_path_factory) -> tuple[str, Path]:
    """A python with a kerchunk reader's packages and one Parquet engine, built once per session."""
    engine = request.param
    try:
        return engine, build_reader_env(tmp_path_factory.mktemp(f"reader-{engine}"), ENGINES[engine])
    except EnvironmentUnavailable as exc:
        pytest.skip(f"no {engine} reader environment: {exc}")


def write_cog(path: Path) -> Path:
    """A georeferenced COG with an overview, nodata and a mask: inlined coordinates, scalars, groups."""
    import rasterio
    from rasterio.transform import from_origin

    from tests.helpers.samples import sample_data

    with rasterio.open(path, "w", driver="COG", height=256, width=256, count=3, dtype="uint16", crs="EPSG:32633",
                       transform=from_origin(500000, 5600000, 10, 10), blocksize=128, compress="DEFLATE",
                       predictor=2, nodata=0, overview_count=1, interleave="pixel") as dst:
        dst.write(sample_data("uint16", 3, 256, 256))
    return path


def read_back(python: Path, engine: str, refs: Path, tmp_path: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    out = tmp_path / f"read-{engine}-{refs.name}"
    out.mkdir()
    result = run_reader(python, READER, tmp_path, args=[str(refs), engine, str(out)])
    assert result.returncode == 0, result.stderr[-2000:]
    dims = json.loads((out / "dims.json").read_text())
    return {key: (dims[key], np.load(out / f"{key}.npy")) for key in dims}


@pytest.mark.parametrize("format", ["parquet", "json"])
def test_a_cog_datatree_reads_back_without_virtual_tiff(format, reader_python, tmp_path, registry):
    engine, python = reader_python
    path = write_cog(tmp_path / "cog.tif")
    tree = virtualizarr.open_virtual_datatree(file_url(path), registry=registry,
                                              parser=VirtualTIFF(ifd=None, ifd_layout="nested"))
    refs = tmp_path / f"refs.{format}"
    to_kerchunk(tree, refs, format=format)

    got = read_back(python, engine, refs, tmp_path)

    expected = xr.open_datatree(VirtualTIFF(ifd=None, ifd_layout="nested")(url=file_url(path), registry=registry),
                                engine="zarr", zarr_format=3, consolidated=False, mask_and_scale=False)
    for level in ("0", "1"):
        dims, data = got[f"{level}--data"]
        want = expected[level]["data"]
        assert dims == ["y", "x", "band"]  # chunky data as the TIFF stores it (Zarr v2 has no transpose)
        np.testing.assert_array_equal(data, want.transpose("y", "x", "band").values)
        np.testing.assert_array_equal(got[f"{level}--x"][1], want["x"].values)
    assert "root--spatial_ref" not in got


@pytest.mark.parametrize("format", ["parquet"])
def test_a_chunky_predictor_dataset_reads_back_like_tifffile(format, reader_python, tmp_path, registry):
    engine, python = reader_python
    path = tmp_path / "chunky.tif"
    tifffile_variant("chunky", "uint16", 3, compression="zlib", predictor=2, byteorder=">").write(path)
    vds = virtualizarr.open_virtual_dataset(file_url(path), registry=registry, parser=VirtualTIFF(ifd=0))
    refs = tmp_path / f"refs.{format}"
    to_kerchunk(vds, refs, format=format)

    dims, data = read_back(python, engine, refs, tmp_path)["root--0"]

    np.testing.assert_array_equal(np.moveaxis(data, -1, 0), read_tifffile(path))


@pytest.mark.parametrize("predictor", [1, 2])
def test_gdal_reads_the_json_references_except_predictor_2(predictor, tmp_path, registry):
    """What the README says about GDAL: its Zarr driver reads our kerchunk JSON, CRS included,
    unless a filter it lacks (``imagecodecs_delta``, TIFF's predictor 2) is in the chain."""
    import rasterio
    from rasterio.transform import from_origin

    path = tmp_path / "g.tif"
    data = np.arange(256 * 256, dtype="uint16").reshape(1, 256, 256)
    with rasterio.open(path, "w", driver="GTiff", height=256, width=256, count=1, dtype="uint16", crs="EPSG:32633",
                       transform=from_origin(500000, 5600000, 10, 10), tiled=True, blockxsize=128, blockysize=128,
                       compress="DEFLATE", predictor=predictor) as dst:
        dst.write(data)
    vds = virtualizarr.open_virtual_dataset(file_url(path), registry=registry, parser=VirtualTIFF(ifd=0))
    to_kerchunk(vds, tmp_path / "refs.json")
    name = f'ZARR:"/vsikerchunk_json_ref/{tmp_path / "refs.json"}":/0'
    if predictor == 2:
        with pytest.raises(rasterio.errors.RasterioIOError, match="imagecodecs_delta not handled"):
            rasterio.open(name)
        return
    with rasterio.open(name) as src:
        assert src.crs.to_epsg() == 32633
        np.testing.assert_array_equal(src.read(1), data[0])
