"""What every decode-only serializer of ours shares: virtual stores are read-only."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zarr.abc.codec import ArrayBytesCodec

if TYPE_CHECKING:
    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer, NDBuffer


@dataclass(frozen=True)
class DecodeOnlySerializer(ArrayBytesCodec):
    """An array->bytes codec that decodes with its ``_decode_sync`` (in a thread, as zarr's own
    codecs do) and refuses to encode."""

    async def _decode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> NDBuffer:
        return await asyncio.to_thread(self._decode_sync, chunk_bytes, chunk_spec)  # type: ignore[attr-defined]

    async def _encode_single(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> Buffer | None:
        raise NotImplementedError(f"{self.to_dict()['name']} is decode-only: virtual stores are read-only")

    def compute_encoded_size(self, input_byte_length: int, chunk_spec: ArraySpec) -> int:
        raise NotImplementedError
