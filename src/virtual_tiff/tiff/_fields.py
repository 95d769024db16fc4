"""IFD entries and the decoding of their values, bounded before anything is allocated."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from virtual_tiff.tiff._tags import FieldType

#: Bytes per value of each field type, and the numpy type a value decodes to.
FIELD_SIZES: dict[int, int] = {
    FieldType.BYTE: 1,
    FieldType.ASCII: 1,
    FieldType.SHORT: 2,
    FieldType.LONG: 4,
    FieldType.RATIONAL: 8,
    FieldType.SBYTE: 1,
    FieldType.UNDEFINED: 1,
    FieldType.SSHORT: 2,
    FieldType.SLONG: 4,
    FieldType.SRATIONAL: 8,
    FieldType.FLOAT: 4,
    FieldType.DOUBLE: 8,
    FieldType.IFD: 4,
    FieldType.LONG8: 8,
    FieldType.SLONG8: 8,
    FieldType.IFD8: 8,
}

_NUMPY_TYPES: dict[int, str] = {
    FieldType.BYTE: "u1",
    FieldType.SHORT: "u2",
    FieldType.LONG: "u4",
    FieldType.RATIONAL: "u4",
    FieldType.SBYTE: "i1",
    FieldType.SSHORT: "i2",
    FieldType.SLONG: "i4",
    FieldType.SRATIONAL: "i4",
    FieldType.FLOAT: "f4",
    FieldType.DOUBLE: "f8",
    FieldType.IFD: "u4",
    FieldType.LONG8: "u8",
    FieldType.SLONG8: "i8",
    FieldType.IFD8: "u8",
}

#: What a decoded tag value can be: text, opaque bytes, or a 1-D numeric array.
TagValue = str | bytes | np.ndarray


@dataclass(frozen=True, slots=True)
class Entry:
    """One IFD entry. ``inline`` holds the value when it fits the entry's slot."""

    tag: int
    type: FieldType
    count: int
    inline: bytes | None
    offset: int | None

    @property
    def nbytes(self) -> int:
        return self.count * FIELD_SIZES[self.type]


def decode_value(entry: Entry, raw: bytes, byteorder: str) -> TagValue:
    """Turn an entry's raw bytes into text, bytes or a numeric array.

    Rationals become float64 (numerator / denominator) because every tag
    virtual-tiff interprets uses them as real numbers.
    """
    if entry.type == FieldType.ASCII:
        return raw.split(b"\x00", 1)[0].decode("utf-8", errors="replace")
    if entry.type == FieldType.UNDEFINED:
        return bytes(raw)
    rational = entry.type in (FieldType.RATIONAL, FieldType.SRATIONAL)
    count = entry.count * (2 if rational else 1)
    values = np.frombuffer(raw, dtype=byteorder + _NUMPY_TYPES[entry.type], count=count)
    if rational:
        pairs = values.astype(np.float64).reshape(-1, 2)
        with np.errstate(divide="ignore", invalid="ignore"):
            return pairs[:, 0] / pairs[:, 1]
    return values.astype(values.dtype.newbyteorder("="))
