"""Kerchunk references: written by ``to_kerchunk``, read back by fsspec + zarr (v2), pixel-equal to tifffile.

The reader never imports virtual_tiff's codecs: it registers imagecodecs'
numcodecs codecs and opens the references the way any kerchunk user would.
"""

from __future__ import annotations

import json
from pathlib import Path

import fsspec
import imagecodecs.numcodecs
import numpy as np
import pytest
import virtualizarr
import xarray as xr
import zarr
from fsspec.implementations.reference import LazyReferenceMapper
from xarray.backends.zarr import FillValueCoder

from tests.helpers.oracles import read_tifffile
from tests.helpers.pyramid import assert_pyramid_tree, write_pyramid
from tests.helpers.samples import sample_data
from tests.helpers.variants import Variant, fill_order_2, gdal_variant, tifffile_variant, ycbcr_variant
from tests.helpers.virtual import file_url
from virtual_tiff import UnsupportedTIFFError, VirtualTIFF, open_virtual_mfdataset
from virtual_tiff.io import ATTRIBUTE
from virtual_tiff.writers.kerchunk import to_kerchunk

FORMATS = ["json", "parquet"]


@pytest.fixture(autouse=True, scope="module")
def _imagecodecs_numcodecs() -> None:
    imagecodecs.numcodecs.register_codecs()


def open_refs(path: Path, format: str) -> zarr.storage.FsspecStore:
    """The references as a read-only zarr store, as the writer's docstring tells users to open them."""
    if format == "parquet":
        # fsspec reads Parquet references with fastparquet unless handed a pyarrow mapper.
        fo = LazyReferenceMapper(str(path), fs=fsspec.filesystem("file"), engine="pyarrow")
    else:
        fo = str(path)
    # Naming the chunks' protocol skips fsspec's scan for it, which trips over nested Parquet groups.
    fs = fsspec.filesystem("reference", fo=fo, remote_protocol="file")
    return zarr.storage.FsspecStore.from_mapper(fs.get_mapper(""), read_only=True)


def write_and_open(obj, tmp_path: Path, format: str) -> xr.Dataset:
    out = tmp_path / f"refs.{format}"
    to_kerchunk(obj, out, format=format)
    return xr.open_zarr(open_refs(out, format), zarr_format=2, consolidated=False)


def write_sparse(path: Path) -> np.ndarray:
    """GDAL with SPARSE_OK: only the one block written is stored, the others have offset 0."""
    import rasterio
    from rasterio.windows import Window

    block = sample_data("uint16", 1, 32, 32)
    profile = dict(driver="GTiff", height=100, width=120, count=1, dtype="uint16", tiled=True,
                   blockxsize=32, blockysize=32, compress="DEFLATE", sparse_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(block, window=Window(32, 32, 32, 32))
    data = np.zeros((1, 100, 120), "uint16")
    data[:, 32:64, 32:64] = block
    return data


VARIANTS: list[Variant] = [
    tifffile_variant("single-zlib-pred2", "uint16", compression="zlib", predictor=2),
    tifffile_variant("chunky-rgb-lzw-pred2-be", "uint16", 3, compression="lzw", predictor=2, byteorder=">"),
    tifffile_variant("planar-zlib-pred2", "int32", 3, "separate", compression="zlib", predictor=2),
    tifffile_variant("float32-pred3-be", "float32", compression="zlib", predictor=3, byteorder=">"),
    tifffile_variant("chunky-float64-pred3", "float64", 3, compression="zstd", predictor=3),
    tifffile_variant("striped-lzma", "int16", tile=None, rowsperstrip=10, compression="lzma"),
    tifffile_variant("bigtiff-chunky-zlib-pred2", "uint16", 3, compression="zlib", predictor=2, bigtiff=True),
    tifffile_variant("uint8-rgb-png", "uint8", 3, compression="png"),
    tifffile_variant("uint16-packbits", "uint16", compression="packbits"),
    gdal_variant("rgb-jpeg-tables", "uint8", 3, tiled=True, blockxsize=32, blockysize=32, compress="JPEG",
                 photometric="RGB", lossless=False),
    gdal_variant("ycbcr-jpeg", "uint8", 3, tiled=True, blockxsize=32, blockysize=32, compress="JPEG",
                 photometric="YCBCR", lossless=False),
    gdal_variant("rgb-webp-lossless", "uint8", 3, tiled=True, blockxsize=32, blockysize=32, compress="WEBP",
                 webp_lossless=True),
    Variant("gdal-sparse-tiles", write_sparse),
    # Predictor 2 on floats: the delta filter decodes the bit patterns (virtual_tiff.reinterpret has no v2 codec).
    gdal_variant("float32-pixel-pred2-be", "float32", 3, tiled=True, blockxsize=32, blockysize=32, compress="DEFLATE",
                 predictor=2, endianness="BIG"),
    gdal_variant("float64-pred2", "float64", tiled=True, blockxsize=32, blockysize=32, compress="ZSTD", predictor=2),
    # FillOrder 2: imagecodecs_bitorder reverses the stored bytes first, as the compressor.
    fill_order_2(tifffile_variant("uint16-zlib-pred2", "uint16", compression="zlib", predictor=2)),
    fill_order_2(tifffile_variant("uint8-none", "uint8")),
]


def as_stored(data: np.ndarray, chunky: bool) -> np.ndarray:
    """tifffile's ``(band, y, x)`` as the references store it: chunky data is ``(y, x, band)`` in v2."""
    return np.moveaxis(data, 0, -1) if chunky else data


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_references_read_like_tifffile(variant: Variant, format: str, tmp_path, registry):
    path = tmp_path / "variant.tif"
    variant.write(path)
    vds = virtualizarr.open_virtual_dataset(file_url(path), registry=registry, parser=VirtualTIFF(ifd=0))
    chunky = vds["0"].data.metadata.codecs[0].to_dict()["name"] == "transpose"

    ds = write_and_open(vds, tmp_path, format)

    expected = as_stored(read_tifffile(path), chunky)
    np.testing.assert_array_equal(ds["0"].values, expected)
    assert ds["0"].dtype == expected.dtype
    dims = vds["0"].dims
    assert ds["0"].dims == ((*dims[1:], dims[0]) if chunky else dims)
    assert ds.attrs[ATTRIBUTE] == vds.attrs[ATTRIBUTE]


def test_sparse_tiles_are_left_out_of_the_references(tmp_path, registry):
    path = tmp_path / "sparse.tif"
    written = write_sparse(path)
    vds = virtualizarr.open_virtual_dataset(file_url(path), registry=registry, parser=VirtualTIFF(ifd=0))
    out = tmp_path / "refs.json"
    to_kerchunk(vds, out)
    chunk_keys = [k for k in json.loads(out.read_text())["refs"] if k.startswith("0/") and "/." not in k]
    assert chunk_keys == ["0/1.1"]
    np.testing.assert_array_equal(write_and_open(vds, tmp_path, "json")["0"].values, written[0])


@pytest.mark.parametrize("format", FORMATS)
def test_time_stack_round_trips(format, tmp_path, registry):
    import tifffile

    paths = []
    for t in range(3):
        paths.append(tmp_path / f"t{t}.tif")
        tifffile.imwrite(paths[-1], sample_data("uint16", 1)[0] + t, tile=(32, 48), compression="zlib", predictor=2)
    urls = [file_url(p) for p in paths]
    vds = open_virtual_mfdataset(urls, registry, concat_dim="time", combine="nested")

    ds = write_and_open(vds, tmp_path, format)

    assert ds["0"].dims == ("time", "y", "x")
    np.testing.assert_array_equal(ds["0"].values, np.stack([read_tifffile(p) for p in paths]))
    assert set(ds.attrs[ATTRIBUTE]["sources"]) == set(urls)


def test_inlined_coordinates_round_trip(tmp_path, registry):
    path = tmp_path / "single.tif"
    tifffile_variant("single", compression="zlib").write(path)
    vds = virtualizarr.open_virtual_dataset(file_url(path), registry=registry, parser=VirtualTIFF(ifd=0))
    vds = vds.assign_coords(y=np.arange(100) * -0.5 + 10.0, x=np.arange(120, dtype="int32"))

    ds = write_and_open(vds, tmp_path, "json")

    np.testing.assert_array_equal(ds["y"].values, np.arange(100) * -0.5 + 10.0)
    np.testing.assert_array_equal(ds["x"].values, np.arange(120, dtype="int32"))
    np.testing.assert_array_equal(ds["0"].values, read_tifffile(path))


@pytest.mark.parametrize(
    ("dtype", "fill", "as_attribute", "zarray_fill"),
    [
        ("int16", -9999, -9999, -9999),
        # Zarr v3 attributes hold xarray's base64 form of a float _FillValue.
        ("float32", float("nan"), FillValueCoder.encode(float("nan"), np.dtype("float32")), "NaN"),
    ],
)
def test_fill_value_attribute_becomes_the_v2_fill_value(dtype, fill, as_attribute, zarray_fill, tmp_path, registry):
    path = tmp_path / "nodata.tif"
    data = sample_data(dtype, 1)[0]
    data[:5, :5] = fill
    import tifffile

    tifffile.imwrite(path, data, tile=(32, 48), compression="zlib")
    vds = virtualizarr.open_virtual_dataset(file_url(path), registry=registry, parser=VirtualTIFF(ifd=0))
    vds["0"].attrs["_FillValue"] = as_attribute
    out = tmp_path / "refs.json"

    to_kerchunk(vds, out)

    refs = json.loads(out.read_text())["refs"]
    assert json.loads(refs["0/.zarray"])["fill_value"] == zarray_fill
    assert "_FillValue" not in json.loads(refs["0/.zattrs"])
    masked = xr.open_zarr(open_refs(out, "json"), zarr_format=2, consolidated=False)["0"].values
    assert np.isnan(masked[:5, :5]).all()
    np.testing.assert_array_equal(masked[5:], data[5:])


@pytest.mark.parametrize("format", FORMATS)
def test_nested_datatree_round_trips_as_groups(format, tmp_path, registry):
    path = write_pyramid(tmp_path / "pyramid.tif")
    vdt = virtualizarr.open_virtual_datatree(
        file_url(path), registry=registry, parser=VirtualTIFF(ifd=None, ifd_layout="nested")
    )
    out = tmp_path / f"refs.{format}"

    to_kerchunk(vdt, out, format=format)

    tree = xr.open_datatree(open_refs(out, format), engine="zarr", zarr_format=2, consolidated=False)
    assert_pyramid_tree(tree, path)
    assert ATTRIBUTE in tree.attrs


@pytest.mark.parametrize(
    "variant, codec",
    [
        (tifffile_variant("partial", tile=None, rowsperstrip=7, compression="zlib"), "zero_pad"),
        # GDAL's LERC masks need virtual_tiff.lerc, which has no zarr v2 (numcodecs) form.
        (gdal_variant("lerc-zstd", "float32", tiled=True, blockxsize=32, blockysize=32, compress="LERC_ZSTD"),
         "lerc"),
        # Complex integers are widened to complex floats, which no numcodecs codec does.
        (gdal_variant("cint16", "complex_int16", tiled=True, blockxsize=32, blockysize=32), "complex_int"),
        # YCbCr data units decode to RGB through virtual_tiff.ycbcr, which numcodecs has no form of.
        (ycbcr_variant("2x2", (2, 2), compression="zlib", tile=(32, 48)), "ycbcr"),
    ],
    ids=["partial-strip", "lerc", "complex-int16", "ycbcr"],
)
def test_chains_of_our_own_codecs_are_refused_by_name(variant, codec, tmp_path, registry):
    path = tmp_path / "refused.tif"
    variant.write(path)
    vds = virtualizarr.open_virtual_dataset(file_url(path), registry=registry, parser=VirtualTIFF(ifd=0))
    out = tmp_path / "refs.json"

    with pytest.raises(UnsupportedTIFFError, match=rf"variable '0'.*virtual_tiff\.{codec}"):
        to_kerchunk(vds, out)
    assert not out.exists()


def test_unknown_format_is_refused(tmp_path, registry):
    path = tmp_path / "single.tif"
    tifffile_variant("single").write(path)
    vds = virtualizarr.open_virtual_dataset(file_url(path), registry=registry, parser=VirtualTIFF(ifd=0))
    with pytest.raises(ValueError, match="format"):
        to_kerchunk(vds, tmp_path / "refs", format="yaml")
