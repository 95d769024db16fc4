"""``virtual_tiff.zero_pad``: the short last strip of a byte-compressed image, padded to a full chunk.

TIFF stores the last strip of an image whose height is not a multiple of RowsPerStrip short,
with only the rows that exist, while Zarr decodes every chunk at full size. No library ships a
codec for that, so this bytes->bytes codec pads the decompressed strip with zeros to ``length``
bytes before it is deserialized; the padding rows lie outside the array and are never seen.
Full chunks pass through untouched. Stores that need it (only files with a partial last strip)
open wherever ``virtual_tiff`` is installed: the codec is registered on import and through the
``zarr.codecs`` entry point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from zarr.abc.codec import BytesBytesCodec
from zarr.core.common import JSON, parse_named_configuration
from zarr.registry import register_codec

if TYPE_CHECKING:
    from typing import Self

    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer

NAME = "virtual_tiff.zero_pad"


def parse_length(data: JSON) -> int:
    if isinstance(data, bool) or not isinstance(data, int) or data < 0:
        raise ValueError(f"{NAME}: length must be a non-negative integer, got {data!r}")
    return data


@dataclass(frozen=True)
class ZeroPad(BytesBytesCodec):
    """Decode: right-pad a chunk's bytes with zeros to ``length``. Encode: identity."""

    is_fixed_size = False
    length: int

    def __init__(self, *, length: int) -> None:
        object.__setattr__(self, "length", parse_length(length))

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Self:
        _, config = parse_named_configuration(data, NAME)
        return cls(**config)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, JSON]:
        return {"name": NAME, "configuration": {"length": self.length}}

    def _decode_sync(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> Buffer:
        data = chunk_bytes.as_numpy_array()
        if data.size >= self.length:
            return chunk_bytes
        padded = np.zeros(self.length, dtype=np.uint8)
        padded[: data.size] = data.view(np.uint8)
        return chunk_spec.prototype.buffer.from_array_like(padded)

    async def _decode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> Buffer:
        return self._decode_sync(chunk_bytes, chunk_spec)

    async def _encode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> Buffer:
        return chunk_bytes

    def compute_encoded_size(self, input_byte_length: int, chunk_spec: ArraySpec) -> int:
        return input_byte_length


register_codec(NAME, ZeroPad)
