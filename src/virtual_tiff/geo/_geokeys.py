"""The GeoKeyDirectory of a GeoTIFF, decoded into a mapping of key id to value.

GeoTIFF packs its CRS description into three tags: a directory of SHORTs
(GeoKeyDirectoryTag) whose entries either hold a SHORT inline or point into
GeoDoubleParamsTag or GeoAsciiParamsTag. Everything downstream (the CRS, the
raster type) wants plain ``key -> value`` lookups, so this module does the
unpacking once and checks every count against the arrays it points into:
a key that reads past its array is a malformed file, not a value to guess.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from virtual_tiff.errors import MalformedTIFFError
from virtual_tiff.tiff import IFD, Tag

#: A GeoKey's value: a SHORT code, a DOUBLE, several of either, or text.
GeoKeyValue = int | float | str | tuple[int, ...] | tuple[float, ...]

#: "User-defined" in every GeoKey that holds an EPSG-style code.
USER_DEFINED = 32767

#: GeoTIFF 1.1 directories have version 1; a key count beyond this is not a GeoTIFF.
_MAX_KEYS = 1024


class GeoKey(enum.IntEnum):
    """GeoKey ids, named as in the GeoTIFF 1.0 / 1.1 specification (OGC 19-008r4)."""

    GTModelTypeGeoKey = 1024
    GTRasterTypeGeoKey = 1025
    GTCitationGeoKey = 1026

    GeographicTypeGeoKey = 2048
    GeogCitationGeoKey = 2049
    GeogGeodeticDatumGeoKey = 2050
    GeogPrimeMeridianGeoKey = 2051
    GeogLinearUnitsGeoKey = 2052
    GeogLinearUnitSizeGeoKey = 2053
    GeogAngularUnitsGeoKey = 2054
    GeogAngularUnitSizeGeoKey = 2055
    GeogEllipsoidGeoKey = 2056
    GeogSemiMajorAxisGeoKey = 2057
    GeogSemiMinorAxisGeoKey = 2058
    GeogInvFlatteningGeoKey = 2059
    GeogAzimuthUnitsGeoKey = 2060
    GeogPrimeMeridianLongGeoKey = 2061
    GeogTOWGS84GeoKey = 2062

    ProjectedCSTypeGeoKey = 3072
    PCSCitationGeoKey = 3073
    ProjectionGeoKey = 3074
    ProjCoordTransGeoKey = 3075
    ProjLinearUnitsGeoKey = 3076
    ProjLinearUnitSizeGeoKey = 3077
    ProjStdParallel1GeoKey = 3078
    ProjStdParallel2GeoKey = 3079
    ProjNatOriginLongGeoKey = 3080
    ProjNatOriginLatGeoKey = 3081
    ProjFalseEastingGeoKey = 3082
    ProjFalseNorthingGeoKey = 3083
    ProjFalseOriginLongGeoKey = 3084
    ProjFalseOriginLatGeoKey = 3085
    ProjFalseOriginEastingGeoKey = 3086
    ProjFalseOriginNorthingGeoKey = 3087
    ProjCenterLongGeoKey = 3088
    ProjCenterLatGeoKey = 3089
    ProjCenterEastingGeoKey = 3090
    ProjCenterNorthingGeoKey = 3091
    ProjScaleAtNatOriginGeoKey = 3092
    ProjScaleAtCenterGeoKey = 3093
    ProjAzimuthAngleGeoKey = 3094
    ProjStraightVertPoleLongGeoKey = 3095
    ProjRectifiedGridAngleGeoKey = 3096

    VerticalCSTypeGeoKey = 4096
    VerticalCitationGeoKey = 4097
    VerticalDatumGeoKey = 4098
    VerticalUnitsGeoKey = 4099


class ModelType(enum.IntEnum):
    """GTModelTypeGeoKey values."""

    PROJECTED = 1
    GEOGRAPHIC = 2
    GEOCENTRIC = 3


class RasterType(enum.IntEnum):
    """GTRasterTypeGeoKey values: does a pixel cover an area or sample a point?"""

    PIXEL_IS_AREA = 1
    PIXEL_IS_POINT = 2


@dataclass(frozen=True)
class GeoKeys:
    """The decoded GeoKeys of one IFD, with typed lookups.

    ``source`` is kept so that a key the CRS builder cannot use is reported
    with the file and IFD it came from.
    """

    values: Mapping[int, GeoKeyValue]
    source: IFD = field(repr=False, compare=False)

    def __contains__(self, key: int) -> bool:
        return key in self.values

    def code(self, key: int) -> int | None:
        """A SHORT-valued key (a code), or None when absent or not a single SHORT."""
        value = self.values.get(key)
        return value if isinstance(value, int) else None

    def number(self, key: int) -> float | None:
        """A DOUBLE-valued key; SHORTs are accepted because some writers store small numbers so."""
        value = self.values.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value)

    def numbers(self, key: int) -> tuple[float, ...] | None:
        """A key holding several numbers (e.g. GeogTOWGS84GeoKey)."""
        value = self.values.get(key)
        if isinstance(value, tuple):
            return tuple(float(v) for v in value)
        number = self.number(key)
        return None if number is None else (number,)

    def text(self, key: int) -> str | None:
        value = self.values.get(key)
        return value if isinstance(value, str) and value else None

    def error(self, cls: type[Exception], message: str) -> Exception:
        return self.source.error(cls, Tag.GeoKeyDirectoryTag, message)


def parse_geokeys(ifd: IFD) -> GeoKeys | None:
    """Decode the IFD's GeoKeyDirectory; None when it has none (plain TIFF or overview)."""
    directory = ifd.get(Tag.GeoKeyDirectoryTag)
    if directory is None:
        return None
    if not isinstance(directory, np.ndarray) or directory.dtype.kind not in "ui":
        raise ifd.error(MalformedTIFFError, Tag.GeoKeyDirectoryTag, "expected SHORT values")
    shorts = [int(v) for v in directory]
    if len(shorts) < 4:
        raise ifd.error(MalformedTIFFError, Tag.GeoKeyDirectoryTag, f"{len(shorts)} values: shorter than its header")
    version, _revision, _minor, count = shorts[:4]
    if version != 1:
        raise ifd.error(MalformedTIFFError, Tag.GeoKeyDirectoryTag, f"KeyDirectoryVersion {version}, expected 1")
    if count > _MAX_KEYS or 4 + 4 * count > len(shorts):
        raise ifd.error(
            MalformedTIFFError,
            Tag.GeoKeyDirectoryTag,
            f"NumberOfKeys {count} needs {4 + 4 * count} values, the tag has {len(shorts)}",
        )
    doubles = _doubles(ifd)
    ascii_params = _ascii(ifd)
    values: dict[int, GeoKeyValue] = {}
    for i in range(count):
        key, location, n, offset = shorts[4 + 4 * i : 8 + 4 * i]
        if key in values:
            raise ifd.error(MalformedTIFFError, Tag.GeoKeyDirectoryTag, f"GeoKey {key} appears twice")
        values[key] = _value(ifd, key, location, n, offset, shorts, doubles, ascii_params)
    return GeoKeys(MappingProxyType(values), ifd)


def _value(
    ifd: IFD,
    key: int,
    location: int,
    count: int,
    offset: int,
    shorts: list[int],
    doubles: np.ndarray | None,
    ascii_params: str | None,
) -> GeoKeyValue:
    def past(name: str, size: int) -> Exception:
        return ifd.error(
            MalformedTIFFError,
            Tag.GeoKeyDirectoryTag,
            f"GeoKey {_name(key)} reads {count} values at {offset} of {name}, which has {size}",
        )

    if location == 0:
        # The value is the entry's own last SHORT; count is 1 by the spec.
        return offset
    if location == Tag.GeoKeyDirectoryTag:
        if offset + count > len(shorts):
            raise past("GeoKeyDirectoryTag", len(shorts))
        picked = tuple(shorts[offset : offset + count])
        return picked[0] if count == 1 else picked
    if location == Tag.GeoDoubleParamsTag:
        size = 0 if doubles is None else len(doubles)
        if doubles is None or offset + count > size:
            raise past("GeoDoubleParamsTag", size)
        floats = tuple(float(v) for v in doubles[offset : offset + count])
        return floats[0] if count == 1 else floats
    if location == Tag.GeoAsciiParamsTag:
        size = 0 if ascii_params is None else len(ascii_params)
        if ascii_params is None or offset + count > size:
            raise past("GeoAsciiParamsTag", size)
        # Each string ends in '|' (the spec's stand-in for NUL); count includes it.
        return ascii_params[offset : offset + count].rstrip("|\x00").strip()
    raise ifd.error(
        MalformedTIFFError, Tag.GeoKeyDirectoryTag, f"GeoKey {_name(key)} points into unknown tag {location}"
    )


def _doubles(ifd: IFD) -> np.ndarray | None:
    value = ifd.get(Tag.GeoDoubleParamsTag)
    if value is None:
        return None
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
        raise ifd.error(MalformedTIFFError, Tag.GeoDoubleParamsTag, "expected DOUBLE values")
    return value.astype(np.float64)


def _ascii(ifd: IFD) -> str | None:
    value = ifd.get(Tag.GeoAsciiParamsTag)
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.split(b"\x00", 1)[0].decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise ifd.error(MalformedTIFFError, Tag.GeoAsciiParamsTag, "expected ASCII text")
    return value


def _name(key: int) -> str:
    try:
        return f"{GeoKey(key).name} ({key})"
    except ValueError:
        return str(key)
