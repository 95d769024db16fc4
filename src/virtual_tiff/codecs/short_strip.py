"""``virtual_tiff.short_strip``: an image codec whose short last strip is padded to a full chunk.

Image codecs (JPEG, LERC, WebP, ...) decode a strip to the rows it was encoded with, so the short
last strip of an image whose height is not a multiple of RowsPerStrip (GDAL's default striped
JPEG) does not fit the chunk. This codec wraps the image codec: a chunk that decodes at full size
is returned as it is; one that does not, but decodes to exactly ``rows`` rows along ``axis``, is
padded with zeros (outside the array, never seen). Anything else keeps the inner codec's error:
a strip that decodes to another size is corrupt, not short.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from zarr.abc.codec import ArrayBytesCodec
from zarr.core.common import JSON, parse_named_configuration
from zarr.registry import get_codec_class, register_codec

from virtual_tiff.codecs._decode_only import DecodeOnlySerializer

if TYPE_CHECKING:
    from typing import Self

    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer, NDBuffer

NAME = "virtual_tiff.short_strip"


def parse_inner(data: JSON) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise ValueError(f"{NAME}: codec must be a codec's JSON ({{'name': ..., 'configuration': ...}}), got {data!r}")
    return dict(data)


def parse_positive(data: JSON, what: str) -> int:
    if isinstance(data, bool) or not isinstance(data, int) or data < 1:
        raise ValueError(f"{NAME}: {what} must be a positive integer, got {data!r}")
    return data


def parse_axis(data: JSON) -> int:
    if isinstance(data, bool) or not isinstance(data, int):
        raise ValueError(f"{NAME}: axis must be an integer, got {data!r}")
    return data


@dataclass(frozen=True)
class ShortStrip(DecodeOnlySerializer):
    """The image codec ``codec``, whose last strip may hold only ``rows`` rows along ``axis``."""

    is_fixed_size = False
    codec: dict[str, Any]
    rows: int
    axis: int

    def __init__(self, *, codec: dict[str, Any], rows: int, axis: int) -> None:
        object.__setattr__(self, "codec", parse_inner(codec))
        object.__setattr__(self, "rows", parse_positive(rows, "rows"))
        object.__setattr__(self, "axis", parse_axis(axis))

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Self:
        _, config = parse_named_configuration(data, NAME)
        return cls(**config)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, JSON]:
        return {"name": NAME, "configuration": {"codec": self.codec, "rows": self.rows, "axis": self.axis}}

    @cached_property
    def inner(self) -> ArrayBytesCodec:
        """The wrapped image codec, built once (from zarr's registry, as a store's reader would)."""
        return get_codec_class(self.codec["name"]).from_dict(self.codec)  # type: ignore[return-value]

    def _decode_sync(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> NDBuffer:
        inner = self.inner
        try:
            return inner._decode_sync(chunk_bytes, chunk_spec)  # type: ignore[attr-defined]
        except ValueError as full_size_error:
            shape = list(chunk_spec.shape)
            shape[self.axis] = self.rows
            try:
                short = inner._decode_sync(chunk_bytes, dataclasses.replace(chunk_spec, shape=tuple(shape)))  # type: ignore[attr-defined]
            except ValueError:
                raise full_size_error from None  # not the short strip either: the inner codec's own error
        full = np.zeros(chunk_spec.shape, dtype=chunk_spec.dtype.to_native_dtype())
        index = [slice(None)] * full.ndim
        index[self.axis] = slice(0, self.rows)
        full[tuple(index)] = short.as_numpy_array()
        return chunk_spec.prototype.nd_buffer.from_numpy_array(full)


register_codec(NAME, ShortStrip)
