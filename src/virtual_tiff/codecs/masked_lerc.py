"""``virtual_tiff.lerc``: LERC that honours the valid-pixel mask inside each blob.

GDAL stores nodata (and NaN) pixels of LERC tiles as a mask in the LERC blob,
not as values. imagecodecs' ``imagecodecs_lerc`` codec (and tifffile) decode
without the mask, so those pixels come out as 0 where GDAL gives nodata or
NaN: wrong pixels. No library ships a Zarr codec that applies the mask, so
this one decodes with ``masks=True`` and writes ``masked_value`` (the file's
GDAL_NODATA, else NaN for floats and 0 for integers, as GDAL reads them)
into the masked pixels. Registered on import and by the ``zarr.codecs`` entry
point; decode-only, like imagecodecs' CCITT codecs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import imagecodecs
import numpy as np
from zarr.core.common import JSON, parse_named_configuration
from zarr.registry import register_codec

from virtual_tiff.codecs._decode_only import DecodeOnlySerializer

if TYPE_CHECKING:
    from typing import Self

NAME = "virtual_tiff.lerc"


def json_number(value: float) -> float | str:
    """A number as Zarr's JSON writes it: NaN as the string ``"NaN"``."""
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


def parse_masked_value(data: JSON) -> float:
    """A number, or Zarr's JSON spellings of the special floats (``"NaN"``, ``"Infinity"``, ``"-Infinity"``)."""
    if isinstance(data, str) and data in ("NaN", "Infinity", "-Infinity"):
        return float(data.replace("Infinity", "inf"))
    if isinstance(data, bool) or not isinstance(data, (int, float)):
        raise ValueError(f"{NAME}: masked_value must be a number or 'NaN', got {data!r}")
    return float(data)


@dataclass(frozen=True)
class MaskedLerc(DecodeOnlySerializer):
    """Decode a LERC blob; pixels its mask marks invalid become ``masked_value``."""

    is_fixed_size = False
    masked_value: float

    def __init__(self, *, masked_value: float | str = 0) -> None:
        object.__setattr__(self, "masked_value", parse_masked_value(masked_value))

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Self:
        _, config = parse_named_configuration(data, NAME, require_configuration=False)
        return cls(**(config or {}))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, JSON]:
        return {"name": NAME, "configuration": {"masked_value": json_number(self.masked_value)}}

    def _decode_sync(self, chunk_bytes, chunk_spec):
        values, mask = imagecodecs.lerc_decode(chunk_bytes.as_numpy_array(), masks=True)
        want = chunk_spec.dtype.to_native_dtype()
        if (values.dtype.kind, values.dtype.itemsize) != (want.kind, want.itemsize):
            # A blob of other samples would be cast (uint16 into uint8 wraps): never other pixels.
            raise ValueError(f"{NAME}: the blob holds {values.dtype} samples, the array {want}")
        values = values.reshape(chunk_spec.shape)
        if mask is not None and not np.all(mask):
            values = np.array(values, copy=True)
            valid = np.asarray(mask, dtype=bool).reshape(values.shape[:2] + (1,) * (values.ndim - 2))
            values[~np.broadcast_to(valid, values.shape)] = values.dtype.type(self.masked_value)
        return chunk_spec.prototype.nd_buffer.from_numpy_array(values)


register_codec(NAME, MaskedLerc)
