"""BitsPerSample + SampleFormat -> the numpy dtype of the Zarr array."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from virtual_tiff.errors import UnsupportedTIFFError
from virtual_tiff.tiff import IFD, SampleFormat, Tag

#: (SampleFormat, bits) -> dtype for samples stored whole bytes wide.
WHOLE_SAMPLES: dict[tuple[SampleFormat, int], str] = {
    (SampleFormat.UINT, 8): "u1",
    (SampleFormat.UINT, 16): "u2",
    (SampleFormat.UINT, 32): "u4",
    (SampleFormat.UINT, 64): "u8",
    (SampleFormat.INT, 8): "i1",
    (SampleFormat.INT, 16): "i2",
    (SampleFormat.INT, 32): "i4",
    (SampleFormat.INT, 64): "i8",
    (SampleFormat.IEEEFP, 16): "f2",
    (SampleFormat.IEEEFP, 32): "f4",
    (SampleFormat.IEEEFP, 64): "f8",
    (SampleFormat.COMPLEXIEEEFP, 64): "c8",
    (SampleFormat.COMPLEXIEEEFP, 128): "c16",
}


@dataclass(frozen=True)
class SampleType:
    """The in-memory dtype, and the bit width on disk when samples are bit-packed."""

    dtype: np.dtype
    packed_bits: int | None = None


def sample_type(ifd: IFD) -> SampleType:
    bits = set(ifd.bits_per_sample)
    formats = set(ifd.sample_format)
    if len(bits) != 1:
        raise ifd.error(UnsupportedTIFFError, Tag.BitsPerSample, f"samples of different widths {sorted(bits)}")
    if len(formats) != 1:
        raise ifd.error(
            UnsupportedTIFFError, Tag.SampleFormat, f"samples of different formats {[f.name for f in formats]}"
        )
    (nbits,), (fmt,) = bits, formats
    if fmt == SampleFormat.COMPLEXINT:
        raise ifd.error(
            UnsupportedTIFFError,
            Tag.SampleFormat,
            f"COMPLEXINT ({nbits}-bit complex integers): no Zarr codec widens them to complex floats",
        )
    if fmt == SampleFormat.VOID:
        fmt = SampleFormat.UINT
    whole = WHOLE_SAMPLES.get((fmt, nbits))
    if whole is not None:
        return SampleType(np.dtype(whole))
    if fmt in (SampleFormat.UINT, SampleFormat.INT) and 1 <= nbits < 32 and nbits not in (8, 16):
        if fmt == SampleFormat.INT:
            raise ifd.error(UnsupportedTIFFError, Tag.SampleFormat, f"signed {nbits}-bit packed samples")
        container = "u1" if nbits < 8 else "u2" if nbits < 16 else "u4"
        return SampleType(np.dtype(container), packed_bits=nbits)
    raise ifd.error(
        UnsupportedTIFFError, Tag.BitsPerSample, f"{nbits}-bit samples of SampleFormat {fmt.name}"
    )
