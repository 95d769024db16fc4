"""``virtual_tiff.reinterpret``: samples seen as the unsigned integers of their bit patterns.

libtiff's horizontal predictor (Predictor 2) differences samples as integers whatever their
SampleFormat: GDAL writes ``PREDICTOR=2`` on Float32 / Float64 by differencing the bit patterns
(the ``uint32`` / ``uint64`` view), and libtiff and tifffile undo it on that view. A float
difference would give other pixels. No library ships a Zarr codec that reinterprets samples, so
this array->array codec views the array's samples as ``data_type``, an unsigned integer type of
the same width, for the codecs after it (``imagecodecs_delta``, then ``bytes`` in the file's byte
order); decoding views the integers back as the array's type. No value changes, only the type.
Registered on import and through the ``zarr.codecs`` entry point.
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

NAME = "virtual_tiff.reinterpret"

UNSIGNED = ("uint8", "uint16", "uint32", "uint64")


def parse_unsigned(data: JSON) -> str:
    if data not in UNSIGNED:
        raise ValueError(f"{NAME}: data_type must be one of {list(UNSIGNED)}, got {data!r}")
    return str(data)


@dataclass(frozen=True)
class Reinterpret(ArrayArrayCodec):
    """The array's samples, bit for bit, as ``data_type`` (an unsigned integer of their width)."""

    is_fixed_size = True
    data_type: str

    def __init__(self, *, data_type: str) -> None:
        object.__setattr__(self, "data_type", parse_unsigned(data_type))

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Self:
        _, config = parse_named_configuration(data, NAME)
        return cls(**config)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, JSON]:
        return {"name": NAME, "configuration": {"data_type": self.data_type}}

    def validate(self, *, shape, dtype, chunk_grid) -> None:
        width = dtype.to_native_dtype().itemsize
        if width != np.dtype(self.data_type).itemsize:
            raise ValueError(f"{NAME}: {dtype} samples are {width} bytes wide, {self.data_type} ones are not")

    def resolve_metadata(self, chunk_spec: ArraySpec) -> ArraySpec:
        """The integers' spec; its fill value is never seen (missing chunks are filled before any codec)."""
        unsigned = parse_dtype(self.data_type, zarr_format=3)
        return dataclasses.replace(chunk_spec, dtype=unsigned, fill_value=unsigned.default_scalar())

    def _decode_sync(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> NDBuffer:
        values = chunk_array.as_numpy_array().view(chunk_spec.dtype.to_native_dtype())
        return chunk_spec.prototype.nd_buffer.from_numpy_array(values)

    async def _decode_single(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> NDBuffer:
        return self._decode_sync(chunk_array, chunk_spec)

    def _encode_sync(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> NDBuffer:
        unsigned = chunk_array.as_numpy_array().view(np.dtype(self.data_type))
        return chunk_spec.prototype.nd_buffer.from_numpy_array(unsigned)

    async def _encode_single(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> NDBuffer:
        return self._encode_sync(chunk_array, chunk_spec)

    def compute_encoded_size(self, input_byte_length: int, chunk_spec: ArraySpec) -> int:
        return input_byte_length


register_codec(NAME, Reinterpret)
