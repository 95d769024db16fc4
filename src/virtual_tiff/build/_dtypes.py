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

#: (SampleFormat COMPLEXINT) bits -> the type of each part and the complex dtype GDAL and tifffile read
#: them as: CInt16 as complex64, CInt32 as complex128, both exact.
COMPLEX_INTS: dict[int, tuple[str, str]] = {32: ("int16", "c8"), 64: ("int32", "c16")}


@dataclass(frozen=True)
class SampleType:
    """The in-memory dtype, and how samples are stored when not as that dtype: bit-packed, or as
    complex integers (the integer type of their real and imaginary parts)."""

    dtype: np.dtype
    packed_bits: int | None = None
    complex_parts: str | None = None

    @property
    def stored_itemsize(self) -> int:
        """Bytes of one whole-byte sample as the file stores it: complex integers are narrower than their dtype."""
        if self.complex_parts is not None:
            return 2 * np.dtype(self.complex_parts).itemsize
        return self.dtype.itemsize


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
        if nbits not in COMPLEX_INTS:
            raise ifd.error(
                UnsupportedTIFFError,
                Tag.SampleFormat,
                f"COMPLEXINT ({nbits}-bit complex integers): only CInt16 (32 bits) and CInt32 (64 bits) are "
                "read by GDAL and tifffile",
            )
        parts, dtype = COMPLEX_INTS[nbits]
        return SampleType(np.dtype(dtype), complex_parts=parts)
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
