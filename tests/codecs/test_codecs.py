"""Our codecs have zarr-python's codec shape: validated on construction, JSON and pickle round trips, sync decode."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
from zarr.core.array_spec import ArrayConfig, ArraySpec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.dtype import parse_dtype
from zarr.registry import get_codec_class

from virtual_tiff.codecs import (
    BITORDER,
    COMPLEX_INT,
    MASKED_LERC,
    REINTERPRET,
    SHORT_STRIP,
    YCBCR,
    ZERO_PAD,
    Bitorder,
    ComplexInt,
    MaskedLerc,
    Reinterpret,
    ShortStrip,
    YCbCr,
    ZeroPad,
)

BYTES = {"name": "bytes", "configuration": {"endian": "little"}}
ROWS, WIDTH, SHORT = 8, 5, 3


def spec(shape, dtype="uint16"):
    zdtype = parse_dtype(dtype, zarr_format=3)
    return ArraySpec(shape=shape, dtype=zdtype, fill_value=zdtype.default_scalar(),
                     config=ArrayConfig.from_dict({}), prototype=default_buffer_prototype())


def ndbuffer(values: np.ndarray):
    return default_buffer_prototype().nd_buffer.from_numpy_array(values)


def buffer(data: bytes):
    return default_buffer_prototype().buffer.from_bytes(data)


@pytest.mark.parametrize(
    "codec",
    [
        ZeroPad(length=128),
        ShortStrip(codec=BYTES, rows=SHORT, axis=-2),
        MaskedLerc(masked_value=-9999),
        MaskedLerc(masked_value=float("nan")),
        ComplexInt(data_type="int16"),
        ComplexInt(data_type="int32"),
        Reinterpret(data_type="uint32"),
        Bitorder(),
        YCbCr(subsampling=[2, 2], coefficients=[0.299, 0.587, 0.114],
              reference_black_white=[0, 255, 128, 255, 128, 255]),
        YCbCr(subsampling=(4, 1), coefficients=(0.2126, 0.7152, 0.0722),
              reference_black_white=(16, 235, 128, 240, 128, 240), short_rows=3),
    ],
)
def test_each_codec_round_trips_through_json_the_registry_and_pickle(codec):
    again = get_codec_class(codec.to_dict()["name"]).from_dict(codec.to_dict())
    assert again.to_dict() == codec.to_dict()
    assert hasattr(again, "_decode_sync")
    assert pickle.loads(pickle.dumps(codec)).to_dict() == codec.to_dict()


@pytest.mark.parametrize(
    "make",
    [
        lambda: ZeroPad(length=-1),
        lambda: ZeroPad(length="12"),
        lambda: ShortStrip(codec="bytes", rows=SHORT, axis=-2),
        lambda: ShortStrip(codec=BYTES, rows=0, axis=-2),
        lambda: ShortStrip(codec=BYTES, rows=SHORT, axis=1.5),
        lambda: MaskedLerc(masked_value="nodata"),
        lambda: MaskedLerc(masked_value=True),
        lambda: ComplexInt(data_type="int8"),
        lambda: ComplexInt(data_type="complex64"),
        lambda: Reinterpret(data_type="float32"),
        lambda: Reinterpret(data_type="int32"),
        lambda: YCbCr(subsampling=[3, 1], coefficients=[0.299, 0.587, 0.114], reference_black_white=[0] * 6),
        lambda: YCbCr(subsampling=[2, 4], coefficients=[0.299, 0.587, 0.114], reference_black_white=[0] * 6),
        lambda: YCbCr(subsampling=[2, 2], coefficients=[0.299, 0, 0.114], reference_black_white=[0] * 6),
        lambda: YCbCr(subsampling=[2, 2], coefficients=[0.299, 0.587], reference_black_white=[0] * 6),
        lambda: YCbCr(subsampling=[2, 2], coefficients=[0.299, 0.587, 0.114], reference_black_white=["0"] * 6),
        lambda: YCbCr(subsampling=[2, 2], coefficients=[0.299, 0.587, 0.114], reference_black_white=[0] * 6,
                      short_rows=0),
    ],
)
def test_invalid_configurations_are_refused_on_construction(make):
    with pytest.raises(ValueError):
        make()


def test_names_are_the_stored_ones():
    assert (ZERO_PAD, SHORT_STRIP, MASKED_LERC) == ("virtual_tiff.zero_pad", "virtual_tiff.short_strip", "virtual_tiff.lerc")
    assert (COMPLEX_INT, REINTERPRET, BITORDER, YCBCR) == ("virtual_tiff.complex_int", "virtual_tiff.reinterpret",
                                                           "virtual_tiff.bitorder", "virtual_tiff.ycbcr")
    assert math.isnan(MaskedLerc.from_dict({"name": MASKED_LERC, "configuration": {"masked_value": "NaN"}}).masked_value)


def test_short_strip_builds_its_inner_codec_once():
    codec = ShortStrip(codec=BYTES, rows=SHORT, axis=-2)
    assert codec.inner is codec.inner


def test_short_strip_pads_only_a_chunk_of_exactly_the_short_rows():
    codec = ShortStrip(codec=BYTES, rows=SHORT, axis=-2)
    values = np.arange(ROWS * WIDTH, dtype="<u2").reshape(ROWS, WIDTH)
    full = codec._decode_sync(buffer(values.tobytes()), spec((ROWS, WIDTH))).as_numpy_array()
    np.testing.assert_array_equal(full, values)
    short = codec._decode_sync(buffer(values[:SHORT].tobytes()), spec((ROWS, WIDTH))).as_numpy_array()
    expected = np.zeros_like(values)
    expected[:SHORT] = values[:SHORT]
    np.testing.assert_array_equal(short, expected)


@pytest.mark.parametrize("rows", [1, SHORT + 1, ROWS + 1])
def test_short_strip_keeps_the_inner_codecs_error_for_any_other_size(rows):
    codec = ShortStrip(codec=BYTES, rows=SHORT, axis=-2)
    data = np.zeros((rows, WIDTH), dtype="<u2").tobytes()
    with pytest.raises(ValueError):
        codec._decode_sync(buffer(data), spec((ROWS, WIDTH)))


def test_zero_pad_passes_full_chunks_and_pads_short_ones():
    codec = ZeroPad(length=8)
    assert codec._decode_sync(buffer(b"12345678"), spec((4,))).to_bytes() == b"12345678"
    assert codec._decode_sync(buffer(b"123"), spec((4,))).to_bytes() == b"123\0\0\0\0\0"


def test_zero_pad_refuses_a_chunk_of_any_other_short_size():
    codec = ZeroPad(length=8, short=3)
    assert codec._decode_sync(buffer(b"123"), spec((4,))).to_bytes() == b"123\0\0\0\0\0"
    for corrupt in (b"", b"12", b"1234567"):
        with pytest.raises(ValueError, match="corrupt"):
            codec._decode_sync(buffer(corrupt), spec((4,)))


def test_a_middle_strip_that_decompresses_short_is_an_error_never_zero_rows(tmp_path, registry):
    """GDAL's default striped Deflate with a partial last strip; strip 3 rewritten to inflate to 3 rows (the short last strip has 2)."""
    import zlib

    import rasterio
    import tifffile
    import xarray as xr

    from tests.helpers.virtual import file_url
    from virtual_tiff import CorruptChunkError, VirtualTIFF

    values = (np.arange(100 * 40, dtype="uint16") % 251).reshape(100, 40)
    path = tmp_path / "strips.tif"
    tifffile.imwrite(path, values, rowsperstrip=7, compression="zlib")
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        offset, count = page.dataoffsets[3], page.databytecounts[3]
    short = zlib.compress(values[21:24].tobytes())
    assert len(short) <= count
    raw = bytearray(path.read_bytes())
    raw[offset : offset + len(short)] = short
    path.write_bytes(bytes(raw))
    with pytest.raises(Exception), rasterio.open(path) as ds:  # the oracle refuses it too
        ds.read(1)
    ds = xr.open_zarr(VirtualTIFF(ifd=0)(file_url(path), registry), zarr_format=3, consolidated=False)
    np.testing.assert_array_equal(ds["0"][:21].values, values[:21])  # the strips before it still read
    with pytest.raises(CorruptChunkError, match="chunk 0/c/3/0 does not decode as declared: .*the strip is corrupt"):
        ds["0"][21:28].values
    np.testing.assert_array_equal(ds["0"][98:].values, values[98:])  # the real short last strip still pads


@pytest.mark.parametrize(("parts", "dtype"), [("int16", "complex64"), ("int32", "complex128")])
def test_complex_int_widens_integer_pairs_on_a_trailing_axis(parts, dtype):
    codec = ComplexInt(data_type=parts)
    info = np.iinfo(parts)
    pairs = np.array([[[info.min, info.max], [-1, 7]], [[0, info.min], [info.max, -2]]], dtype=parts)
    inner = codec.resolve_metadata(spec((2, 2), dtype))
    assert (inner.shape, inner.dtype.to_native_dtype()) == ((2, 2, 2), np.dtype(parts))
    values = codec._decode_sync(ndbuffer(pairs), spec((2, 2), dtype)).as_numpy_array()
    assert values.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(values, pairs[..., 0] + 1j * pairs[..., 1].astype("f8"))
    np.testing.assert_array_equal(codec._encode_sync(ndbuffer(values), spec((2, 2), dtype)).as_numpy_array(), pairs)
    assert codec.compute_encoded_size(values.nbytes, spec((2, 2), dtype)) == pairs.nbytes


@pytest.mark.parametrize(("codec", "dtype"), [(ComplexInt(data_type="int16"), "complex128"),
                                             (ComplexInt(data_type="int32"), "float64"),
                                             (Reinterpret(data_type="uint32"), "float64"),
                                             (Reinterpret(data_type="uint16"), "float32")])
def test_a_codec_refuses_an_array_of_another_type(codec, dtype):
    zdtype = parse_dtype(dtype, zarr_format=3)
    with pytest.raises(ValueError):
        codec.validate(shape=(4,), dtype=zdtype, chunk_grid=None)


def test_reinterpret_views_bit_patterns_and_changes_no_value():
    codec = Reinterpret(data_type="uint32")
    floats = np.array([[-0.0, np.nan, np.inf], [1.5, -3.25e-38, 7e37]], dtype="float32")
    inner = codec.resolve_metadata(spec((2, 3), "float32"))
    assert inner.dtype.to_native_dtype() == np.dtype("uint32") and inner.shape == (2, 3)
    bits = codec._encode_sync(ndbuffer(floats), spec((2, 3), "float32")).as_numpy_array()
    np.testing.assert_array_equal(bits, floats.view("uint32"))
    again = codec._decode_sync(ndbuffer(bits), spec((2, 3), "float32")).as_numpy_array()
    np.testing.assert_array_equal(again.view("uint32"), floats.view("uint32"))


def test_bitorder_reverses_every_byte_both_ways_into_a_new_buffer():
    codec = Bitorder()
    stored = buffer(bytes([0b00000001, 0b10110000, 0xFF, 0x00]))
    reversed_bits = codec._decode_sync(stored, spec((4,), "uint8"))
    assert reversed_bits.to_bytes() == bytes([0b10000000, 0b00001101, 0xFF, 0x00])
    assert stored.to_bytes() == bytes([0b00000001, 0b10110000, 0xFF, 0x00])
    assert codec.compute_encoded_size(4, spec((4,), "uint8")) == 4


BT601 = YCbCr(subsampling=[2, 2], coefficients=[0.299, 0.587, 0.114], reference_black_white=[0, 255, 128, 255, 128, 255])


def test_ycbcr_decodes_data_units_with_libtiffs_conversion():
    """One 2 x 2 block (Y 0, 50, 100, 255; Cb 41, Cr 82) and its neighbour, as GDAL reads them."""
    units = bytes([0, 50, 100, 255, 41, 82, 128, 128, 128, 128, 128, 128])
    rgb = BT601._decode_sync(buffer(units), spec((2, 4, 3), "uint8")).as_numpy_array()
    np.testing.assert_array_equal(rgb[0, 0], [0, 63, 0])  # GDAL's pixel for Y 0, Cb 41, Cr 82
    np.testing.assert_array_equal(rgb[:, 2:], np.full((2, 2, 3), 128))  # neutral chroma: grey, Y unchanged
    assert rgb[1, 1, 1] == 255


def test_ycbcr_refuses_a_chunk_of_any_other_size_and_pads_the_short_strip():
    codec = YCbCr(subsampling=[2, 2], coefficients=[0.299, 0.587, 0.114],
                  reference_black_white=[0, 255, 128, 255, 128, 255], short_rows=2)
    short = codec._decode_sync(buffer(bytes(range(12))), spec((4, 4, 3), "uint8")).as_numpy_array()
    assert short.shape == (4, 4, 3) and not short[2:].any()
    for size in (6, 18, 30):
        with pytest.raises(ValueError, match="data units"):
            codec._decode_sync(buffer(bytes(size)), spec((4, 4, 3), "uint8"))
