"""A typed view of one decoded IFD: the tags, by their TIFF names, with the spec's defaults."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from virtual_tiff.errors import MalformedTIFFError, UnsupportedTIFFError
from virtual_tiff.tiff._fields import TagValue
from virtual_tiff.tiff._tags import (
    Compression,
    NewSubfileType,
    Photometric,
    PlanarConfiguration,
    Predictor,
    SampleFormat,
    Tag,
)

E = TypeVar("E", bound=enum.IntEnum)


@dataclass(frozen=True, eq=False)
class IFD:
    """One image file directory, its values decoded.

    ``path`` locates it: ``(2,)`` is the third IFD of the main chain,
    ``(0, 1)`` the second SubIFD of the first.
    """

    url: str
    path: tuple[int, ...]
    offset: int
    byteorder: str
    tags: dict[int, TagValue] = field(repr=False)
    subifds: tuple[IFD, ...] = ()

    @property
    def label(self) -> str:
        return "/".join(str(i) for i in self.path)

    def error(self, cls: type[Exception], tag: int | None, message: str) -> Exception:
        return cls(message, url=self.url, ifd=self.label, tag=None if tag is None else Tag.label(tag))

    def get(self, tag: int) -> TagValue | None:
        return self.tags.get(tag)

    def ints(self, tag: int, default: tuple[int, ...] | None = None) -> tuple[int, ...]:
        value = self.tags.get(tag)
        if value is None:
            if default is None:
                raise self.error(MalformedTIFFError, tag, "required tag is missing")
            return default
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "ui" or value.size == 0:
            raise self.error(MalformedTIFFError, tag, "expected one or more integers")
        return tuple(int(v) for v in value)

    def int(self, tag: int, default: int | None = None) -> int:
        return self.ints(tag, None if default is None else (default,))[0]

    def array(self, tag: int) -> np.ndarray:
        """Offsets and byte counts: kept as uint64 arrays, never as Python lists.

        Negative values (signed field types) are refused here: cast to uint64
        they would become offsets near 2**64 instead of an error.
        """
        value = self.tags.get(tag)
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "ui":
            raise self.error(MalformedTIFFError, tag, "required integer array is missing")
        if value.dtype.kind == "i" and np.any(value < 0):
            raise self.error(MalformedTIFFError, tag, f"negative value {int(value.min())}")
        return value.astype(np.uint64)

    def enum(self, tag: int, kind: type[E], default: int) -> E:
        code = self.int(tag, default)
        try:
            return kind(code)
        except ValueError:
            raise self.error(UnsupportedTIFFError, tag, f"unknown {kind.__name__} value {code}") from None

    def text(self, tag: int) -> str | None:
        value = self.tags.get(tag)
        return value if isinstance(value, str) else None

    @property
    def width(self) -> int:
        return self.int(Tag.ImageWidth)

    @property
    def height(self) -> int:
        return self.int(Tag.ImageLength)

    @property
    def samples_per_pixel(self) -> int:
        # A SHORT in the spec: a larger value (a LONG8 field in a broken file) would make every
        # per-band loop run for hours, so it is refused here, where every consumer asks.
        n = self.int(Tag.SamplesPerPixel, 1)
        if n > 0xFFFF:
            raise self.error(MalformedTIFFError, Tag.SamplesPerPixel, f"{n} samples per pixel (at most 65535)")
        return n

    @property
    def bits_per_sample(self) -> tuple[int, ...]:
        return self.ints(Tag.BitsPerSample, (1,))

    @property
    def sample_format(self) -> tuple[SampleFormat, ...]:
        codes = self.ints(Tag.SampleFormat, (1,))
        try:
            return tuple(SampleFormat(c) for c in codes)
        except ValueError:
            raise self.error(UnsupportedTIFFError, Tag.SampleFormat, f"unknown SampleFormat {codes}") from None

    @property
    def compression(self) -> Compression:
        return self.enum(Tag.Compression, Compression, Compression.NONE)

    @property
    def photometric(self) -> Photometric | None:
        if Tag.PhotometricInterpretation not in self.tags:
            return None
        return self.enum(Tag.PhotometricInterpretation, Photometric, Photometric.MINISBLACK)

    @property
    def predictor(self) -> Predictor:
        return self.enum(Tag.Predictor, Predictor, Predictor.NONE)

    @property
    def planar_configuration(self) -> PlanarConfiguration:
        return self.enum(Tag.PlanarConfiguration, PlanarConfiguration, PlanarConfiguration.CONTIG)

    @property
    def new_subfile_type(self) -> NewSubfileType:
        return NewSubfileType(self.int(Tag.NewSubfileType, 0) & 0b111)

    @property
    def is_tiled(self) -> bool:
        return Tag.TileWidth in self.tags or Tag.TileOffsets in self.tags

    @property
    def jpeg_tables(self) -> bytes | None:
        value = self.tags.get(Tag.JPEGTables)
        if isinstance(value, np.ndarray):
            return value.astype(np.uint8).tobytes()
        return value if isinstance(value, bytes) else None
