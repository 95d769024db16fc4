"""Our three codecs have zarr-python's codec shape: validated on construction, JSON round trip, sync decode."""

from __future__ import annotations

import math

import numpy as np
import pytest
from zarr.core.array_spec import ArrayConfig, ArraySpec
from zarr.core.buffer import default_buffer_prototype
from zarr.core.dtype import parse_dtype
from zarr.registry import get_codec_class

from virtual_tiff.codecs import MASKED_LERC, SHORT_STRIP, ZERO_PAD, MaskedLerc, ShortStrip, ZeroPad

BYTES = {"name": "bytes", "configuration": {"endian": "little"}}
ROWS, WIDTH, SHORT = 8, 5, 3


def spec(shape):
    return ArraySpec(shape=shape, dtype=parse_dtype("uint16", zarr_format=3), fill_value=0,
                     config=ArrayConfig.from_dict({}), prototype=default_buffer_prototype())


def buffer(data: bytes):
    return default_buffer_prototype().buffer.from_bytes(data)


@pytest.mark.parametrize(
    "codec",
    [
        ZeroPad(length=128),
        ShortStrip(codec=BYTES, rows=SHORT, axis=-2),
        MaskedLerc(masked_value=-9999),
        MaskedLerc(masked_value=float("nan")),
    ],
)
def test_each_codec_round_trips_through_json_and_the_registry(codec):
    again = get_codec_class(codec.to_dict()["name"]).from_dict(codec.to_dict())
    assert again.to_dict() == codec.to_dict()
    assert hasattr(again, "_decode_sync")


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
    ],
)
def test_invalid_configurations_are_refused_on_construction(make):
    with pytest.raises(ValueError):
        make()


def test_names_are_the_stored_ones():
    assert (ZERO_PAD, SHORT_STRIP, MASKED_LERC) == ("virtual_tiff.zero_pad", "virtual_tiff.short_strip", "virtual_tiff.lerc")
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
