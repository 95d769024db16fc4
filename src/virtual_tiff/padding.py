"""``virtual_tiff.zero_pad``: the one Zarr codec of our own.

TIFF stores the last strip of an image whose height is not a multiple of
RowsPerStrip short, with only the rows that exist, while Zarr decodes every
chunk at full size. No library ships a codec for that, so this bytes->bytes
codec pads the decompressed strip with zeros to ``length`` bytes before it is
deserialized; the padding rows lie outside the array and are never seen.
Full chunks pass through untouched. Stores that need it (only files with a
partial last strip) open wherever ``virtual_tiff`` is installed: the codec is
registered both on import and through the ``zarr.codecs`` entry point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from zarr.abc.codec import BytesBytesCodec
from zarr.core.common import parse_named_configuration
from zarr.registry import register_codec

NAME = "virtual_tiff.zero_pad"


@dataclass(frozen=True)
class ZeroPad(BytesBytesCodec):
    """Decode: right-pad a chunk's bytes with zeros to ``length``. Encode: identity."""

    is_fixed_size = False
    length: int

    def __init__(self, *, length: int) -> None:
        if int(length) < 0:
            raise ValueError(f"length must be >= 0, got {length}")
        object.__setattr__(self, "length", int(length))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ZeroPad:
        _, config = parse_named_configuration(data, NAME)
        return cls(**(config or {}))

    def to_dict(self) -> dict[str, Any]:
        return {"name": NAME, "configuration": {"length": self.length}}

    async def _decode_single(self, chunk_bytes, chunk_spec):
        data = chunk_bytes.as_numpy_array()
        if data.size >= self.length:
            return chunk_bytes
        padded = np.zeros(self.length, dtype=np.uint8)
        padded[: data.size] = data.view(np.uint8)
        return chunk_spec.prototype.buffer.from_array_like(padded)

    async def _encode_single(self, chunk_bytes, chunk_spec):
        return chunk_bytes

    def compute_encoded_size(self, input_byte_length: int, chunk_spec) -> int:
        return input_byte_length


register_codec(NAME, ZeroPad)
