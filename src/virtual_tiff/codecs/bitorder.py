"""``virtual_tiff.bitorder``: the stored bytes of a FillOrder 2 (LSB2MSB) TIFF, bits reversed.

FillOrder 2 (fax machines, scanners) stores the bits of every byte least significant first.
libtiff and tifffile reverse the bits of each stored strip or tile before decompressing it
(libtiff's ``TIFFReverseBits``; its CCITT decoders read the reversed order themselves, to the same
effect), so the reversal belongs on the stored bytes: this bytes->bytes codec is the last of a
chain, the first decoded. imagecodecs-zarr's ``imagecodecs_bitorder`` does the same reversal but
is an array->array codec, which Zarr cannot place after a compressor. The reversal is its own
inverse: encoding reverses too. Registered on import and through the ``zarr.codecs`` entry point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import imagecodecs
from zarr.abc.codec import BytesBytesCodec
from zarr.core.common import JSON, parse_named_configuration
from zarr.registry import register_codec

if TYPE_CHECKING:
    from typing import Self

    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer

NAME = "virtual_tiff.bitorder"


def reverse_bits(chunk_bytes: Buffer, chunk_spec: ArraySpec) -> Buffer:
    """Every byte with its bits in reverse order (a new buffer: stored bytes may be read-only)."""
    reversed_bits = imagecodecs.bitorder_decode(chunk_bytes.as_numpy_array())
    return chunk_spec.prototype.buffer.from_array_like(reversed_bits)


@dataclass(frozen=True)
class Bitorder(BytesBytesCodec):
    """Reverse the bits of every byte, both ways."""

    is_fixed_size = True

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Self:
        parse_named_configuration(data, NAME, require_configuration=False)
        return cls()

    def to_dict(self) -> dict[str, JSON]:
        return {"name": NAME}

    def _decode_sync(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> Buffer:
        return reverse_bits(chunk_bytes, chunk_spec)

    async def _decode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> Buffer:
        return reverse_bits(chunk_bytes, chunk_spec)

    async def _encode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> Buffer:
        return reverse_bits(chunk_bytes, chunk_spec)

    def compute_encoded_size(self, input_byte_length: int, chunk_spec: ArraySpec) -> int:
        return input_byte_length


register_codec(NAME, Bitorder)
