"""A tiny byte-by-byte TIFF builder, classic and BigTIFF, both byte orders, for the structures no writer produces.

:func:`build_tiff` lays out a header, pixel data and IFDs of :class:`Field` entries whose values
may point at the data or at other IFDs (:class:`At`), with any count, offset or next-IFD link a
hostile file could claim. :func:`strip_fields` and :func:`tile_fields` are a valid 16 x 16 uint8
image (one strip or one tile of :data:`PIXELS`) for :func:`edit` to break. The one builder of the
project: the hostile-file tests, the fuzz tests and ``fuzz/tiffgen.py`` lay out their files with it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

# Field types: (struct format, bytes per value).
BYTE, ASCII, SHORT, LONG, RATIONAL, SLONG, DOUBLE, IFD, LONG8, IFD8 = 1, 2, 3, 4, 5, 9, 12, 13, 16, 18
TYPE_FORMATS: dict[int, str] = {
    BYTE: "B", ASCII: "B", SHORT: "H", LONG: "I", 6: "b", 7: "B", 8: "h", SLONG: "i",
    11: "f", DOUBLE: "d", IFD: "I", LONG8: "Q", 17: "q", IFD8: "Q",
}
TYPE_SIZES: dict[int, int] = {**{t: struct.calcsize(f) for t, f in TYPE_FORMATS.items()}, RATIONAL: 8, 10: 8}


@dataclass(frozen=True)
class At:
    """An offset the builder resolves once it has laid the file out: the pixel data, or IFD ``ifd``."""

    ifd: int | None = None
    plus: int = 0


@dataclass(frozen=True)
class Field:
    """One IFD entry. ``values`` are numbers/:class:`At` (packed per ``type``) or raw bytes.

    ``count`` overrides the declared count (the builder still writes only
    ``values``); ``offset`` puts that offset in the value slot instead of
    writing the values out of line.
    """

    tag: int
    type: int
    values: tuple | bytes
    count: int | None = None
    offset: int | At | None = None


@dataclass(frozen=True)
class Flavour:
    byteorder: str
    bigtiff: bool

    @property
    def id(self) -> str:
        return ("bigtiff" if self.bigtiff else "classic") + ("-II" if self.byteorder == "<" else "-MM")


FLAVOURS = [Flavour("<", False), Flavour(">", False), Flavour("<", True), Flavour(">", True)]
BIGTIFF = tuple(f for f in FLAVOURS if f.bigtiff)


def build_tiff(
    ifds: list[list[Field]],
    flavour: Flavour = FLAVOURS[0],
    *,
    data: bytes = b"",
    next_offsets: dict[int, int | At] | None = None,
    entry_counts: dict[int, int] | None = None,
    first_ifd: int | At = At(ifd=0),
    tail: bytes = b"",
) -> bytes:
    """A TIFF laid out as header, ``data`` (pixels, at ``At()``), each IFD followed by its values, ``tail``.

    IFD ``k`` links to ``k + 1`` and the last to 0 unless ``next_offsets`` says
    otherwise; ``entry_counts`` overrides the entry count an IFD declares.
    """
    bo, big = flavour.byteorder, flavour.bigtiff
    off_fmt, slot = ("Q", 8) if big else ("I", 4)
    header_size = 16 if big else 8
    next_offsets = next_offsets or {}
    entry_counts = entry_counts or {}

    def pack(ifd_offsets: list[int]) -> tuple[bytes, list[int]]:
        def resolve(v: int | float | At) -> int | float:
            if isinstance(v, At):
                return (header_size if v.ifd is None else ifd_offsets[v.ifd]) + v.plus
            return v

        def raw_values(f: Field) -> bytes:
            if isinstance(f.values, bytes):
                return f.values
            return b"".join(struct.pack(bo + TYPE_FORMATS[f.type], resolve(v)) for v in f.values)

        out = bytearray()
        out += (b"II" if bo == "<" else b"MM") + struct.pack(bo + "H", 43 if big else 42)
        out += struct.pack(bo + "HHQ", 8, 0, resolve(first_ifd)) if big else struct.pack(bo + "I", resolve(first_ifd))
        out += data
        offsets = []
        for k, fields in enumerate(ifds):
            out += b"\0" * (len(out) % 2)  # IFDs and values start on a word boundary
            offsets.append(len(out))
            table_size = (8 if big else 2) + len(fields) * (20 if big else 12) + slot
            values_at = len(out) + table_size
            table, values = bytearray(), bytearray()
            table += struct.pack(bo + ("Q" if big else "H"), entry_counts.get(k, len(fields)))
            for f in sorted(fields, key=lambda f: f.tag):
                raw = raw_values(f)
                count = f.count if f.count is not None else len(raw) // TYPE_SIZES.get(f.type, 1)
                table += struct.pack(bo + ("HHQ" if big else "HHI"), f.tag, f.type, count)
                if f.offset is not None:
                    table += struct.pack(bo + off_fmt, resolve(f.offset))
                elif count * TYPE_SIZES.get(f.type, 1) <= slot:
                    table += raw.ljust(slot, b"\0")[:slot]
                else:
                    table += struct.pack(bo + off_fmt, values_at + len(values))
                    values += raw + b"\0" * (len(raw) % 2)
            default_next = At(ifd=k + 1) if k + 1 < len(ifds) else 0
            table += struct.pack(bo + off_fmt, resolve(next_offsets.get(k, default_next)))
            out += table + values
        return bytes(out + tail), offsets

    _, offsets = pack([0] * len(ifds))
    out, final = pack(offsets)
    assert final == offsets
    return out


# A tiny valid image: 16 x 16 uint8 as one uncompressed strip, or as one 16 x 16 tile.
SIDE = 16
PIXELS = bytes(range(256))


def image_fields(width: int, height: int) -> list[Field]:
    """What strips and tiles share: size, 8 bits, no compression, MinIsBlack."""
    return [
        Field(256, LONG, (width,)),
        Field(257, LONG, (height,)),
        Field(258, SHORT, (8,)),
        Field(259, SHORT, (1,)),
        Field(262, SHORT, (1,)),
    ]


def strip_fields(*, width: int = SIDE, height: int = SIDE) -> list[Field]:
    return image_fields(width, height) + [
        Field(273, LONG, (At(),)),
        Field(278, LONG, (height,)),
        Field(279, LONG, (len(PIXELS),)),
    ]


def tile_fields(*, width: int = SIDE, height: int = SIDE) -> list[Field]:
    return image_fields(width, height) + [
        Field(322, SHORT, (SIDE,)),
        Field(323, SHORT, (SIDE,)),
        Field(324, LONG, (At(),)),
        Field(325, LONG, (len(PIXELS),)),
    ]


def edit(fields: list[Field], *changes: Field, drop: tuple[int, ...] = ()) -> list[Field]:
    """``fields`` with the entries of ``changes`` replacing (or added to) those of the same tag."""
    replaced = {f.tag for f in changes} | set(drop)
    return [f for f in fields if f.tag not in replaced] + list(changes)


def image(fields: list[Field], flavour: Flavour, **kwargs) -> bytes:
    return build_tiff([fields], flavour, data=PIXELS, **kwargs)
