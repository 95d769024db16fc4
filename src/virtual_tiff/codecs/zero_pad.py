"""``virtual_tiff.zero_pad``: the short last strip of a byte-compressed image, padded to a full chunk.

TIFF stores the last strip of an image whose height is not a multiple of RowsPerStrip short,
with only the rows that exist, while Zarr decodes every chunk at full size. No library ships a
codec for that, so this bytes->bytes codec pads the decompressed strip with zeros to ``length``
bytes before it is deserialized; the padding rows lie outside the array and are never seen.
Full chunks pass through untouched. Only a chunk of exactly ``short`` bytes (the short last strip's
size) is padded: a strip that decompresses to any other size is corrupt, and decoding it raises
(stores written before ``short`` existed pad any shorter chunk). Stores that need it (only files with a partial last strip)
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


def parse_length(data: JSON, what: str = "length") -> int:
    if isinstance(data, bool) or not isinstance(data, int) or data < 0:
        raise ValueError(f"{NAME}: {what} must be a non-negative integer, got {data!r}")
    return data


@dataclass(frozen=True)
class ZeroPad(BytesBytesCodec):
    """Decode: right-pad a chunk of ``short`` bytes with zeros to ``length``. Encode: identity."""

    is_fixed_size = False
    length: int
    short: int | None

    def __init__(self, *, length: int, short: int | None = None) -> None:
        length = parse_length(length)
        if short is not None and parse_length(short, "short") >= length:
            raise ValueError(f"{NAME}: short ({short}) must be less than length ({length})")
        object.__setattr__(self, "length", length)
        object.__setattr__(self, "short", short)

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Self:
        _, config = parse_named_configuration(data, NAME)
        return cls(**config)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, JSON]:
        config: dict[str, JSON] = {"length": self.length}
        if self.short is not None:
            config["short"] = self.short
        return {"name": NAME, "configuration": config}

    def _decode_sync(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> Buffer:
        data = chunk_bytes.as_numpy_array()
        if data.size >= self.length:
            return chunk_bytes
        if self.short is not None and data.size != self.short:
            raise ValueError(
                f"{NAME}: a strip decompressed to {data.size} bytes; a full strip has {self.length} and the short "
                f"last strip {self.short}: the strip is corrupt"
            )
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
