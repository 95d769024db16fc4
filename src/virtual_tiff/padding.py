"""``virtual_tiff.zero_pad`` and ``virtual_tiff.short_strip``: Zarr codecs for short last strips.

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

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from zarr.abc.codec import ArrayBytesCodec, BytesBytesCodec
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
        return self._decode_sync(chunk_bytes, chunk_spec)

    def _decode_sync(self, chunk_bytes, chunk_spec):
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


SHORT_STRIP = "virtual_tiff.short_strip"


@dataclass(frozen=True)
class ShortStrip(ArrayBytesCodec):
    """An image codec (JPEG, LERC, WebP, ...) whose last strip may hold only ``rows`` rows.

    Image codecs decode a strip to the rows it was encoded with, so the short
    last strip of an image whose height is not a multiple of RowsPerStrip
    (GDAL's default striped JPEG) does not fit the chunk. A chunk that decodes
    at full size is returned as is; one that does not is decoded again as
    ``rows`` rows along ``axis`` and padded with zeros, outside the array.
    """

    is_fixed_size = False
    codec: dict[str, Any]
    rows: int
    axis: int

    def __init__(self, *, codec: dict[str, Any], rows: int, axis: int) -> None:
        object.__setattr__(self, "codec", dict(codec))
        object.__setattr__(self, "rows", int(rows))
        object.__setattr__(self, "axis", int(axis))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShortStrip:
        _, config = parse_named_configuration(data, SHORT_STRIP)
        return cls(**(config or {}))

    def to_dict(self) -> dict[str, Any]:
        return {"name": SHORT_STRIP, "configuration": {"codec": self.codec, "rows": self.rows, "axis": self.axis}}

    def _inner(self) -> ArrayBytesCodec:
        from zarr.registry import get_codec_class

        return get_codec_class(self.codec["name"]).from_dict(self.codec)

    async def _decode_single(self, chunk_bytes, chunk_spec):
        inner = self._inner()
        try:
            return await inner._decode_single(chunk_bytes, chunk_spec)
        except ValueError:  # decoded to fewer rows than a chunk holds: the short last strip
            shape = list(chunk_spec.shape)
            shape[self.axis] = self.rows
            short = await inner._decode_single(chunk_bytes, dataclasses.replace(chunk_spec, shape=tuple(shape)))
            full = np.zeros(chunk_spec.shape, dtype=chunk_spec.dtype.to_native_dtype())
            index = [slice(None)] * full.ndim
            index[self.axis] = slice(0, self.rows)
            full[tuple(index)] = short.as_numpy_array()
            return chunk_spec.prototype.nd_buffer.from_numpy_array(full)

    async def _encode_single(self, chunk_array, chunk_spec):
        raise NotImplementedError("virtual_tiff.short_strip is decode-only: virtual stores are read-only")

    def compute_encoded_size(self, input_byte_length: int, chunk_spec) -> int:
        raise NotImplementedError


register_codec(SHORT_STRIP, ShortStrip)
