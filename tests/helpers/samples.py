"""Deterministic pixel data for the files the tests write, and the default image size."""

from __future__ import annotations

import numpy as np

HEIGHT, WIDTH = 100, 120

#: GDAL's complex integer types (numpy has none) -> the type of their parts and the complex dtype they read as.
COMPLEX_INTS: dict[str, tuple[str, str]] = {"complex_int16": ("int16", "complex64"),
                                           "complex_int32": ("int32", "complex128")}


def sample_data(dtype: str, bands: int, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """``(bands, height, width)`` of smooth, deterministic values that exercise every bit of the dtype.

    GDAL's complex integer types give complex values whose parts are the parts' type's samples."""
    if dtype in COMPLEX_INTS:
        parts, complex_dtype = COMPLEX_INTS[dtype]
        real = sample_data(parts, bands, height, width)
        return (real + 1j * real[:, ::-1]).astype(complex_dtype)
    y, x = np.mgrid[0:height, 0:width]
    planes = np.stack([(x * 3 + y * 2 + 41 * b) for b in range(bands)]).astype(np.int64)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return (planes * 0.37 - 11.5).astype(dt)
    if dt.kind == "c":
        return (planes * 0.5 + 1j * (planes[:, ::-1] - 7.25)).astype(dt)
    if dt.kind == "b":
        return (planes % 2).astype(dt)
    info = np.iinfo(dt)
    span = min(int(info.max) - int(info.min) + 1, 2**62)
    scaled = planes * (span // 600 if span > 600 else 1)
    return (scaled % span + int(info.min)).astype(dt)
