"""BitsPerSample + SampleFormat -> the dtype of the Zarr array, bit-packed widths, and what has no dtype.

``virtual_tiff.build.sample_type`` on hand-made IFDs (no file): whole-byte samples map to numpy
dtypes (SampleFormat VOID as unsigned), unsigned widths of 1-7, 9-15 and 17-31 bits are
bit-packed in the smallest container, and everything else is an :class:`UnsupportedTIFFError`
naming BitsPerSample or SampleFormat.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.helpers.ifds import URL, hand_made_ifd, u16
from virtual_tiff.build import SampleType, sample_type
from virtual_tiff.errors import UnsupportedTIFFError
from virtual_tiff.tiff import IFD, SampleFormat, Tag

F = SampleFormat


def ifd(bits: tuple[int, ...], formats: tuple[int, ...] | None) -> IFD:
    tags = {Tag.BitsPerSample: u16(*bits), Tag.SamplesPerPixel: u16(len(bits))}
    if formats is not None:
        tags[Tag.SampleFormat] = u16(*formats)
    return hand_made_ifd(tags)


WHOLE = [
    (8, F.UINT, "u1"), (16, F.UINT, "u2"), (32, F.UINT, "u4"), (64, F.UINT, "u8"),
    (8, F.INT, "i1"), (16, F.INT, "i2"), (32, F.INT, "i4"), (64, F.INT, "i8"),
    (16, F.IEEEFP, "f2"), (32, F.IEEEFP, "f4"), (64, F.IEEEFP, "f8"),
    (64, F.COMPLEXIEEEFP, "c8"), (128, F.COMPLEXIEEEFP, "c16"),
    (8, F.VOID, "u1"), (16, F.VOID, "u2"), (32, F.VOID, "u4"),
]


@pytest.mark.parametrize(("bits", "fmt", "dtype"), WHOLE, ids=[f"{b}-{f.name}" for b, f, _ in WHOLE])
@pytest.mark.parametrize("bands", [1, 3])
def test_whole_byte_samples(bits, fmt, dtype, bands):
    assert sample_type(ifd((bits,) * bands, (fmt,) * bands)) == SampleType(np.dtype(dtype))


@pytest.mark.parametrize("bits", [b for b in range(1, 32) if b not in (8, 16)])
def test_unsigned_bit_packed_samples(bits):
    container = "u1" if bits < 8 else "u2" if bits < 16 else "u4"
    assert sample_type(ifd((bits,), (F.UINT,))) == SampleType(np.dtype(container), packed_bits=bits)


@pytest.mark.parametrize(("bits", "parts", "dtype"), [(32, "int16", "c8"), (64, "int32", "c16")],
                         ids=["CInt16", "CInt32"])
@pytest.mark.parametrize("bands", [1, 2])
def test_complex_integers_are_complex_floats_stored_as_their_parts(bits, parts, dtype, bands):
    """GDAL and tifffile read CInt16 as complex64 and CInt32 as complex128: both hold every value exactly."""
    sample = sample_type(ifd((bits,) * bands, (F.COMPLEXINT,) * bands))
    assert sample == SampleType(np.dtype(dtype), complex_parts=parts)
    assert sample.stored_itemsize == bits // 8


def test_defaults_are_one_bit_unsigned():
    """No BitsPerSample and no SampleFormat: the spec's 1-bit unsigned samples."""
    assert sample_type(hand_made_ifd({})) == SampleType(np.dtype("u1"), packed_bits=1)
    assert sample_type(ifd((8,), None)) == SampleType(np.dtype("u1"))


REFUSED = [
    pytest.param((16,), (F.COMPLEXINT,), "SampleFormat (339)", r"COMPLEXINT \(16-bit complex integers\).*",
                 id="complex-int8-parts"),
    pytest.param((128,), (F.COMPLEXINT,), "SampleFormat (339)", r"COMPLEXINT \(128-bit complex integers\).*",
                 id="complex-int64-parts"),
    pytest.param((12,), (F.INT,), "SampleFormat (339)", "signed 12-bit packed samples", id="signed-packed-12"),
    pytest.param((4,), (F.INT,), "SampleFormat (339)", "signed 4-bit packed samples", id="signed-packed-4"),
    pytest.param((8, 16, 8), (F.UINT,) * 3, "BitsPerSample (258)", r"samples of different widths \[8, 16\]",
                 id="mixed-widths"),
    pytest.param((16, 16), (F.UINT, F.INT), "SampleFormat (339)", "samples of different formats .*",
                 id="mixed-formats"),
    pytest.param((24,), (F.IEEEFP,), "BitsPerSample (258)", "24-bit samples of SampleFormat IEEEFP", id="float24"),
    pytest.param((8,), (F.IEEEFP,), "BitsPerSample (258)", "8-bit samples of SampleFormat IEEEFP", id="float8"),
    pytest.param((128,), (F.UINT,), "BitsPerSample (258)", "128-bit samples of SampleFormat UINT", id="uint128"),
    pytest.param((33,), (F.UINT,), "BitsPerSample (258)", "33-bit samples of SampleFormat UINT", id="uint33"),
    pytest.param((32,), (F.COMPLEXIEEEFP,), "BitsPerSample (258)", "32-bit samples of SampleFormat COMPLEXIEEEFP",
                 id="complex32"),
    pytest.param((16,), (7,), "SampleFormat (339)", r"unknown SampleFormat \(7,\)", id="unknown-format-7"),
]


@pytest.mark.parametrize(("bits", "formats", "tag", "reason"), REFUSED)
def test_samples_without_a_dtype_are_refused_naming_the_tag(bits, formats, tag, reason):
    with pytest.raises(UnsupportedTIFFError) as info:
        sample_type(ifd(bits, formats))
    error = info.value
    assert type(error) is UnsupportedTIFFError
    assert re.fullmatch(reason, error.reason), error.reason
    assert (error.url, error.ifd, error.tag) == (URL, "0", tag)
