"""``virtual_tiff.complex_int``: complex integers (TIFF SampleFormat 5, GDAL CInt16 / CInt32) as complex floats.

A COMPLEXINT sample is two signed integers, the real part then the imaginary one (Sentinel-1 SLC
products are CInt16). numpy and Zarr have no complex integer type, and GDAL and tifffile both read
them as complex floats: CInt16 as complex64 (exact: every int16 is a float32), CInt32 as complex128
(exact; rasterio narrows it to complex64). No library ships a Zarr codec for that, so this
array->array codec turns the array's complex samples into their integer parts along one more,
trailing axis of 2 (``data_type`` is the parts' type), which the ``bytes`` serializer then lays out
in TIFF's order, each part in the file's byte order. Decoding widens the parts into complex values;
encoding (not used by virtual stores, which are read-only) narrows them back. Registered on import
and through the ``zarr.codecs`` entry point.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from zarr.abc.codec import ArrayArrayCodec
from zarr.core.common import JSON, parse_named_configuration
from zarr.core.dtype import parse_dtype
from zarr.registry import register_codec

if TYPE_CHECKING:
    from typing import Self

    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import NDBuffer

NAME = "virtual_tiff.complex_int"

#: The integer type of each part -> the complex type that holds every value of it exactly.
PARTS: dict[str, str] = {"int16": "complex64", "int32": "complex128"}


def parse_parts(data: JSON) -> str:
    if data not in PARTS:
        raise ValueError(f"{NAME}: data_type must be one of {sorted(PARTS)}, got {data!r}")
    return str(data)


@dataclass(frozen=True)
class ComplexInt(ArrayArrayCodec):
    """Complex samples <-> their ``data_type`` real and imaginary parts, on a trailing axis of 2."""

    is_fixed_size = True
    data_type: str

    def __init__(self, *, data_type: str) -> None:
        object.__setattr__(self, "data_type", parse_parts(data_type))

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Self:
        _, config = parse_named_configuration(data, NAME)
        return cls(**config)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, JSON]:
        return {"name": NAME, "configuration": {"data_type": self.data_type}}

    def validate(self, *, shape, dtype, chunk_grid) -> None:
        if dtype.to_native_dtype() != np.dtype(PARTS[self.data_type]):
            raise ValueError(f"{NAME}: {self.data_type} parts decode to {PARTS[self.data_type]}, the array is {dtype}")

    def resolve_metadata(self, chunk_spec: ArraySpec) -> ArraySpec:
        """The parts' spec: one more axis, of 2; its fill value is never seen (missing chunks are filled
        before any codec)."""
        parts = parse_dtype(self.data_type, zarr_format=3)
        return dataclasses.replace(chunk_spec, shape=(*chunk_spec.shape, 2), dtype=parts,
                                   fill_value=parts.default_scalar())

    def _decode_sync(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> NDBuffer:
        parts = chunk_array.as_numpy_array()
        values = np.empty(chunk_spec.shape, dtype=chunk_spec.dtype.to_native_dtype())
        values.real, values.imag = parts[..., 0], parts[..., 1]
        return chunk_spec.prototype.nd_buffer.from_numpy_array(values)

    async def _decode_single(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> NDBuffer:
        return self._decode_sync(chunk_array, chunk_spec)

    def _encode_sync(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> NDBuffer:
        values = chunk_array.as_numpy_array()
        parts = np.stack([values.real, values.imag], axis=-1).astype(self.data_type)
        return chunk_spec.prototype.nd_buffer.from_numpy_array(parts)

    async def _encode_single(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> NDBuffer:
        return self._encode_sync(chunk_array, chunk_spec)

    def compute_encoded_size(self, input_byte_length: int, chunk_spec: ArraySpec) -> int:
        samples = input_byte_length // chunk_spec.dtype.to_native_dtype().itemsize
        return samples * 2 * np.dtype(self.data_type).itemsize


register_codec(NAME, ComplexInt)
