"""The 8- or 16-byte file header, and the byte layout of IFDs it implies."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal

from virtual_tiff.errors import NotATIFFError, TruncatedTIFFError

#: Bytes of a BigTIFF header, the longer of the two flavours.
HEADER_MIN_BYTES = 16


@dataclass(frozen=True)
class TIFFHeader:
    """Byte order and flavour: everything needed to lay out IFD entries."""

    byteorder: Literal["<", ">"]
    bigtiff: bool
    first_ifd_offset: int

    @property
    def count_size(self) -> int:
        """Bytes of an IFD's entry count."""
        return 8 if self.bigtiff else 2

    @property
    def entry_size(self) -> int:
        return 20 if self.bigtiff else 12

    @property
    def offset_size(self) -> int:
        """Bytes of an offset, and of the inline value slot of an entry."""
        return 8 if self.bigtiff else 4

    @property
    def offset_format(self) -> str:
        return self.byteorder + ("Q" if self.bigtiff else "I")

    @property
    def count_format(self) -> str:
        return self.byteorder + ("Q" if self.bigtiff else "H")

    @property
    def entry_format(self) -> str:
        """tag, type, count, and the raw value slot."""
        return self.byteorder + ("HHQ8s" if self.bigtiff else "HHI4s")


def parse_header(head: bytes, *, url: str | None = None) -> TIFFHeader:
    """Read the header, refusing anything that is not classic TIFF or BigTIFF."""
    if len(head) < 8:
        if head[:2] in (b"II", b"MM"):
            raise TruncatedTIFFError(f"only {len(head)} bytes, shorter than a TIFF header", url=url)
        raise NotATIFFError(f"{len(head)} bytes, not a TIFF file", url=url)
    order = head[:2]
    if order == b"II":
        byteorder: Literal["<", ">"] = "<"
    elif order == b"MM":
        byteorder = ">"
    else:
        raise NotATIFFError(f"starts with {head[:4]!r}, not a TIFF byte-order mark", url=url)
    (version,) = struct.unpack(byteorder + "H", head[2:4])
    if version == 42:
        (first,) = struct.unpack(byteorder + "I", head[4:8])
        return TIFFHeader(byteorder, False, first)
    if version == 43:
        if len(head) < HEADER_MIN_BYTES:
            raise TruncatedTIFFError(f"only {len(head)} bytes, shorter than a BigTIFF header", url=url)
        offset_bytes, zero, first = struct.unpack(byteorder + "HHQ", head[4:16])
        if offset_bytes != 8 or zero != 0:
            raise NotATIFFError(f"BigTIFF header with offset size {offset_bytes}, expected 8", url=url)
        return TIFFHeader(byteorder, True, first)
    raise NotATIFFError(f"TIFF version {version}, expected 42 (TIFF) or 43 (BigTIFF)", url=url)
