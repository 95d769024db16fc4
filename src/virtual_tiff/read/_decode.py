"""One chunk's codec chain decoded synchronously, never beyond what the header declares.

A TIFF header declares every chunk's size, shape and sample type, so a decoder never needs to
guess, and must not trust the chunk's own claims:

- the compressor that the chain decodes first (after FillOrder 2's bit reversal, which keeps the
  length) gets at most the serialized chunk's size as its
  output (:data:`SIZED_DECODERS`; imagecodecs stops there), so a 33 KB tile that would inflate
  to 1 GB fails after the chunk's few hundred kilobytes, and Deflate decodes with libdeflate;
- an image codec's frame is checked against the chunk before it is decoded
  (:data:`FRAME_SIZES`: JPEG's SOF, PNG's IHDR), so a 16 x 64 JPEG in a 32 x 32 tile is refused
  instead of being reshaped into scrambled pixels, and a frame of 65535² is never allocated;
- the decoded samples must have the array's sample type (an 8-bit JPEG in a 16-bit image is
  refused, not cast).

Any violation raises; the pipeline reports it as :class:`~virtual_tiff.CorruptChunkError` naming
the file and the chunk. The stored metadata does not change: other zarr readers decode the same
chunks with the codecs it names, without these bounds.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import imagecodecs
import numpy as np
from zarr.abc.codec import ArrayArrayCodec, ArrayBytesCodec, BytesBytesCodec, Codec
from zarr.core.array_spec import ArraySpec
from zarr.core.buffer import Buffer, NDBuffer
from zarr.core.codec_pipeline import BatchedCodecPipeline

from virtual_tiff.codecs import BITORDER, SHORT_STRIP

#: A decoder told the most bytes it may produce: returns them, or None for the codec's own path.
SizedDecoder = Callable[[Codec, np.ndarray, int], Any | None]


def _deflate(codec: Codec, data: np.ndarray, size: int) -> Any | None:
    if codec.to_dict().get("configuration", {}).get("raw"):
        return None  # raw Deflate streams (imagecodecs_deflate raw=true): the codec's own path
    return imagecodecs.deflate_decode(data, out=size + 1)


#: Decoders of the compressors TIFF uses, by codec name, told the decoded size: one byte more
#: than a chunk may hold is room enough to see that a stream inflates beyond it.
SIZED_DECODERS: dict[str, SizedDecoder] = {
    "numcodecs.zlib": _deflate,
    "imagecodecs_deflate": _deflate,
    "zstd": lambda _, data, size: imagecodecs.zstd_decode(data, out=size + 1),
    "numcodecs.zstd": lambda _, data, size: imagecodecs.zstd_decode(data, out=size + 1),
    "numcodecs.lzma": lambda _, data, size: imagecodecs.lzma_decode(data, out=size + 1),
    "imagecodecs_lzw": lambda _, data, size: imagecodecs.lzw_decode(data, out=size + 1),
    "imagecodecs_packbits": lambda _, data, size: imagecodecs.packbits_decode(data, out=size + 1),
}

#: Bytes->bytes codecs that keep the length: the compressor decoded after them is the one bounded.
_LENGTH_PRESERVING = frozenset({BITORDER})

#: Serializers whose input is at most the chunk's samples in bytes (bit-packed ones less).
_SAMPLE_SERIALIZERS = frozenset({"bytes", "imagecodecs_floatpred", "imagecodecs_packints"})
#: Headroom for image serializers behind a compressor (LERC + Deflate/Zstd): a LERC blob of
#: incompressible samples holds them, a mask of one bit per pixel and its headers.
_IMAGE_HEADROOM = 64 * 1024

_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})


def jpeg_frame(data: bytes | np.ndarray) -> tuple[int, int] | None:
    """(height, width) of a JPEG stream's frame, from its SOF segment; None if it has none."""
    buf = bytes(data[:65536]) if len(data) > 65536 else bytes(data)
    i = 2 if buf[:2] == b"\xff\xd8" else None
    while i is not None and i + 4 <= len(buf):
        if buf[i] != 0xFF:
            return None
        marker = buf[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _JPEG_STANDALONE:
            i += 2
            continue
        if marker in _JPEG_SOF:
            if i + 9 > len(buf):
                return None
            height, width = struct.unpack(">HH", buf[i + 5 : i + 9])
            return height, width
        (length,) = struct.unpack(">H", buf[i + 2 : i + 4])
        i += 2 + length
    return None


def png_frame(data: bytes | np.ndarray) -> tuple[int, int] | None:
    """(height, width) from a PNG stream's IHDR; None if it is not one."""
    head = bytes(data[:24])
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return height, width


#: Image codecs whose frame size the stream states, by codec name: checked before decoding.
FRAME_SIZES: dict[str, Callable[[bytes | np.ndarray], tuple[int, int] | None]] = {
    "imagecodecs_jpeg": jpeg_frame,
    "imagecodecs_png": png_frame,
}


def _frame_fits(frame: tuple[int, int], shape: tuple[int, ...], short_rows: int | None, axis: int | None) -> bool:
    """Whether a frame of (height, width) is the chunk's (or its short last strip's) rows and columns."""
    shapes = [tuple(shape)]
    if short_rows is not None and axis is not None:
        short = list(shape)
        short[axis] = short_rows
        shapes.append(tuple(short))
    return any(frame in (tuple(s[-2:]), tuple(s[:2])) for s in shapes)


@dataclass(frozen=True)
class ChunkDecoder:
    """A codec chain decoded synchronously, bounded by the chunk's declared size (see the module)."""

    array_array: tuple[ArrayArrayCodec, ...]
    array_bytes: ArrayBytesCodec
    bytes_bytes: tuple[BytesBytesCodec, ...]
    #: The bounded decoder of the compressor decoded first, if it is one of SIZED_DECODERS.
    sized: SizedDecoder | None
    #: The image codec's frame check, and the short last strip's rows and axis where it has one.
    frame: Callable[[bytes | np.ndarray], tuple[int, int] | None] | None
    short_rows: int | None
    short_axis: int | None
    #: Whether the serializer takes at most the chunk's samples in bytes (else an image codec's blob).
    sample_serializer: bool
    #: Where that compressor is in decode order (after the length-preserving codecs).
    sized_at: int = 0
    _specs: dict[ArraySpec, tuple[tuple[ArraySpec, ...], ArraySpec]] = field(default_factory=dict, compare=False)

    @classmethod
    def for_pipeline(cls, pipeline: BatchedCodecPipeline) -> ChunkDecoder | None:
        """The pipeline's chain, or None when a codec cannot decode without an event loop."""
        array_array, array_bytes = pipeline.array_array_codecs, pipeline.array_bytes_codec
        bytes_bytes = pipeline.bytes_bytes_codecs
        codecs = (*array_array, array_bytes, *bytes_bytes)
        if not all(hasattr(codec, "_decode_sync") and getattr(codec, "_sync_capable", True) for codec in codecs):
            return None
        decode_order = [codec.to_dict()["name"] for codec in reversed(bytes_bytes)]
        sized_at = next((i for i, name in enumerate(decode_order) if name not in _LENGTH_PRESERVING), len(decode_order))
        sized = SIZED_DECODERS.get(decode_order[sized_at]) if sized_at < len(decode_order) else None
        image = array_bytes.to_dict()
        short_rows = short_axis = None
        if image["name"] == SHORT_STRIP:
            config = image["configuration"]
            image, short_rows, short_axis = config["codec"], int(config["rows"]), int(config["axis"])
        samples = array_bytes.to_dict()["name"] in _SAMPLE_SERIALIZERS
        return cls(array_array, array_bytes, bytes_bytes, sized, FRAME_SIZES.get(image["name"]), short_rows, short_axis,
                   samples, sized_at)

    def _resolve(self, spec: ArraySpec) -> tuple[tuple[ArraySpec, ...], ArraySpec]:
        found = self._specs.get(spec)
        if found is None:
            inputs = []
            current = spec
            for codec in self.array_array:
                inputs.append(current)
                current = codec.resolve_metadata(current)
            found = self._specs[spec] = (tuple(inputs), current)
        return found

    def limit(self, bytes_spec: ArraySpec) -> int:
        """The most bytes the first-decoded compressor may produce for a chunk of ``bytes_spec``."""
        samples = math.prod(bytes_spec.shape) * bytes_spec.dtype.to_native_dtype().itemsize
        if self.sample_serializer:
            return samples  # with or without zero_pad between: a full strip is the most
        return 2 * samples + _IMAGE_HEADROOM

    def decode(self, data: Buffer, spec: ArraySpec) -> NDBuffer:
        array_array_specs, bytes_spec = self._resolve(spec)
        for i, codec in enumerate(reversed(self.bytes_bytes)):
            if i == self.sized_at and self.sized is not None:
                limit = self.limit(bytes_spec)
                decoded = self.sized(codec, data.as_numpy_array(), limit)
                if decoded is not None:
                    if len(decoded) > limit:
                        raise ValueError(f"it inflates to more than the {limit} bytes a chunk holds")
                    data = bytes_spec.prototype.buffer.from_bytes(decoded)
                    continue
            data = codec._decode_sync(data, bytes_spec)  # type: ignore[attr-defined]
        if self.frame is not None:
            frame = self.frame(data.as_numpy_array())
            if frame is not None and not _frame_fits(frame, bytes_spec.shape, self.short_rows, self.short_axis):
                raise ValueError(f"its image is {frame[0]} x {frame[1]} pixels, the chunk {tuple(bytes_spec.shape)}")
        array = self.array_bytes._decode_sync(data, bytes_spec)  # type: ignore[attr-defined]
        got, want = array.dtype, bytes_spec.dtype.to_native_dtype()
        if (got.kind, got.itemsize) != (want.kind, want.itemsize):
            raise ValueError(f"it decodes to {got} samples, the array holds {want}")
        for codec, codec_spec in zip(reversed(self.array_array), reversed(array_array_specs), strict=True):
            array = codec._decode_sync(array, codec_spec)  # type: ignore[attr-defined]
        return array
