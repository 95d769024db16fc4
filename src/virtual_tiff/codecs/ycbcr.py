"""``virtual_tiff.ycbcr``: YCbCr samples not JPEG-compressed (Photometric 6), decoded to RGB as GDAL does.

Outside JPEG, TIFF stores YCbCr chunky chunks as data units: for every block of ``h x v`` pixels
(YCbCrSubSampling), its ``h * v`` luma samples row by row, then one Cb and one Cr (TIFF 6.0,
section 21); rows and columns are padded to whole blocks. No Zarr codec reads that layout, and
its samples are no array of the image's shape, so this array->bytes codec decodes a chunk's
data units straight to its ``(y, x, 3)`` RGB pixels, as GDAL reads such files (through libtiff's
RGBA interface): each block's chroma applies to all its pixels, and the colour conversion is
libtiff's ``TIFFYCbCrToRGBInit`` / ``TIFFYCbCrtoRGB``, reproduced to the bit (its fixed-point
tables, computed in single precision from YCbCrCoefficients and ReferenceBlackWhite), so the
pixels equal GDAL's exactly. A strip holding only ``short_rows`` rows (the short last strip) is
padded with zeros, outside the array. Decode-only, like the other codecs here: virtual stores are
read-only. Registered on import and through the ``zarr.codecs`` entry point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from zarr.core.common import JSON, parse_named_configuration
from zarr.registry import register_codec

from virtual_tiff.codecs._decode_only import DecodeOnlySerializer

if TYPE_CHECKING:
    from typing import Self

    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer, NDBuffer

NAME = "virtual_tiff.ycbcr"

#: The YCbCrSubSampling factors TIFF 6.0 allows: 1, 2 or 4, vertical at most horizontal (libtiff also reads 1 x 2).
SUBSAMPLINGS = frozenset({(1, 1), (2, 1), (2, 2), (4, 1), (4, 2), (4, 4), (1, 2)})
SHIFT = 16
ONE_HALF = 1 << (SHIFT - 1)


def parse_subsampling(data: JSON) -> tuple[int, int]:
    if not isinstance(data, list | tuple) or tuple(data) not in SUBSAMPLINGS:
        raise ValueError(f"{NAME}: subsampling must be one of {sorted(SUBSAMPLINGS)}, got {data!r}")
    return int(data[0]), int(data[1])


def parse_floats(data: JSON, count: int, what: str) -> tuple[float, ...]:
    if (not isinstance(data, list | tuple) or len(data) != count
            or not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in data)):
        raise ValueError(f"{NAME}: {what} must be {count} finite numbers, got {data!r}")
    return tuple(float(v) for v in data)


def parse_short_rows(data: JSON) -> int | None:
    if data is not None and (isinstance(data, bool) or not isinstance(data, int) or data < 1):
        raise ValueError(f"{NAME}: short_rows must be a positive integer or null, got {data!r}")
    return data


def _fix(x: np.float32) -> int:
    """libtiff's ``FIX``: the float times 2**16 in single precision, plus 0.5 in double, truncated."""
    return int(float(np.float32(x * np.float32(1 << SHIFT))) + 0.5)


def _code2v(c: np.ndarray, rb: np.float32, rw: np.float32, cr: int) -> np.ndarray:
    """libtiff's ``Code2V``, clamped to +-4096 and truncated to integers as ``TIFFYCbCrToRGBInit`` does."""
    span = np.float32(rw - rb)
    v = ((c - int(rb)).astype(np.float32) * np.float32(cr)) / (span if span != 0 else np.float32(1))
    return np.clip(v, np.float32(-4096), np.float32(4096)).astype(np.int64)


@dataclass(frozen=True)
class Tables:
    """libtiff's YCbCr -> RGB lookup tables, indexed by the 8-bit samples."""

    y: np.ndarray
    cr_r: np.ndarray
    cb_b: np.ndarray
    cr_g: np.ndarray
    cb_g: np.ndarray


def conversion_tables(coefficients: tuple[float, ...], reference_black_white: tuple[float, ...]) -> Tables:
    """``TIFFYCbCrToRGBInit``, in the same single-precision steps."""
    red, green, blue = (np.float32(c) for c in coefficients)
    rbw = [np.float32(v) for v in reference_black_white]
    two = np.float32(2)
    f1 = two - two * red
    f2 = red * f1 / green
    f3 = two - two * blue
    f4 = blue * f3 / green
    d1, d2, d3, d4 = (_fix(np.clip(f, np.float32(0), two)) for f in (f1, f2, f3, f4))
    d2, d4 = -d2, -d4
    x = np.arange(-128, 128, dtype=np.int64)
    cr = _code2v(x, rbw[4] - np.float32(128), rbw[5] - np.float32(128), 127)
    cb = _code2v(x, rbw[2] - np.float32(128), rbw[3] - np.float32(128), 127)
    return Tables(
        y=_code2v(x + 128, rbw[0], rbw[1], 255),
        cr_r=(d1 * cr + ONE_HALF) >> SHIFT,
        cb_b=(d3 * cb + ONE_HALF) >> SHIFT,
        cr_g=d2 * cr,
        cb_g=d4 * cb + ONE_HALF,
    )


def to_rgb(tables: Tables, y: np.ndarray, cb: np.ndarray, cr: np.ndarray) -> np.ndarray:
    """``TIFFYCbCrtoRGB`` of every pixel: ``(..., 3)`` uint8."""
    luma = tables.y[y]
    rgb = np.stack([luma + tables.cr_r[cr], luma + ((tables.cb_g[cb] + tables.cr_g[cr]) >> SHIFT),
                    luma + tables.cb_b[cb]], axis=-1)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def decode_units(data: np.ndarray, subsampling: tuple[int, int], width: int, rows: int) -> tuple[np.ndarray, ...]:
    """The ``(rows, width)`` Y, Cb and Cr of a chunk's data units, each block's chroma on all its pixels."""
    h, v = subsampling
    blocks = math.ceil(width / h)
    units = data.reshape(math.ceil(rows / v), blocks, h * v + 2)
    y = units[..., : h * v].reshape(units.shape[0], blocks, v, h).transpose(0, 2, 1, 3)
    y = y.reshape(units.shape[0] * v, blocks * h)
    cb, cr = (np.repeat(np.repeat(units[..., k], v, axis=0), h, axis=1) for k in (h * v, h * v + 1))
    return y[:rows, :width], cb[:rows, :width], cr[:rows, :width]


@dataclass(frozen=True)
class YCbCr(DecodeOnlySerializer):
    """Data units of 8-bit YCbCr samples -> ``(y, x, 3)`` RGB, as libtiff's RGBA interface gives them."""

    is_fixed_size = False
    subsampling: tuple[int, int]
    coefficients: tuple[float, ...]
    reference_black_white: tuple[float, ...]
    short_rows: int | None

    def __init__(
        self,
        *,
        subsampling: tuple[int, int] | list[int],
        coefficients: tuple[float, ...] | list[float],
        reference_black_white: tuple[float, ...] | list[float],
        short_rows: int | None = None,
    ) -> None:
        object.__setattr__(self, "subsampling", parse_subsampling(subsampling))
        object.__setattr__(self, "coefficients", parse_floats(coefficients, 3, "coefficients"))
        object.__setattr__(self, "reference_black_white",
                           parse_floats(reference_black_white, 6, "reference_black_white"))
        object.__setattr__(self, "short_rows", parse_short_rows(short_rows))
        if self.coefficients[1] == 0:
            raise ValueError(f"{NAME}: the green coefficient divides the conversion: it must not be 0")

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Self:
        _, config = parse_named_configuration(data, NAME)
        return cls(**config)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, JSON]:
        config: dict[str, JSON] = {"subsampling": list(self.subsampling), "coefficients": list(self.coefficients),
                                   "reference_black_white": list(self.reference_black_white)}
        if self.short_rows is not None:
            config["short_rows"] = self.short_rows
        return {"name": NAME, "configuration": config}

    @cached_property
    def tables(self) -> Tables:
        return conversion_tables(self.coefficients, self.reference_black_white)

    def unit_bytes(self, width: int, rows: int) -> int:
        """Bytes of the data units of ``rows`` rows of ``width`` pixels."""
        h, v = self.subsampling
        return math.ceil(width / h) * (h * v + 2) * math.ceil(rows / v)

    def _decode_sync(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> NDBuffer:
        height, width, bands = chunk_spec.shape
        if bands != 3 or chunk_spec.dtype.to_native_dtype() != np.dtype("u1"):
            raise ValueError(f"{NAME}: decodes (y, x, 3) uint8 chunks, not {chunk_spec.shape} {chunk_spec.dtype}")
        data = chunk_bytes.as_numpy_array().view(np.uint8)
        sizes = {} if self.short_rows is None else {self.unit_bytes(width, self.short_rows): self.short_rows}
        # A short strip of as many blocks as a full one (5 rows of 4 x 4 blocks in strips of 8) decodes as full:
        # the rows beyond it lie outside the array.
        sizes[self.unit_bytes(width, height)] = height
        rows = sizes.get(data.size)
        if rows is None:
            raise ValueError(f"{NAME}: a chunk of {data.size} bytes; its data units take {sorted(sizes)}")
        rgb = np.zeros((height, width, 3), dtype=np.uint8)
        rgb[:rows] = to_rgb(self.tables, *decode_units(data, self.subsampling, width, rows))
        return chunk_spec.prototype.nd_buffer.from_numpy_array(rgb)


register_codec(NAME, YCbCr)
