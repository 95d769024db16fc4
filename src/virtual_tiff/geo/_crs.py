"""GeoKeys to a ``pyproj.CRS``, following what GDAL reads from the same keys.

Most files name their CRS by an EPSG code (ProjectedCSTypeGeoKey or
GeographicTypeGeoKey), which ProjLinearUnitsGeoKey may put in another unit. GDAL
writes every CRS without one as "user-defined" (32767) keys: a datum, an
ellipsoid, a coordinate transformation code and its parameters (every code GDAL
writes is in ``_CONVERSIONS``). Those are rebuilt here as PROJJSON, because that
lets us keep the datum's EPSG identity, the parameters' units and a TOWGS84
shift exactly as written, which a PROJ string would lose. A projection the keys
cannot express (Geostationary, Mollweide...) GDAL writes as a user-defined
model with an ESRI PE string in PCSCitationGeoKey, read whole as GDAL does. When
the keys are incomplete, a citation PROJ can parse (a CRS name or an ESRI PE
string) is the last resort; what still fails raises ``UnsupportedTIFFError``,
which :func:`virtual_tiff.geo.georeference` turns into a warning and no CRS.
"""

from __future__ import annotations

import functools
import math
import os
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pyproj
from pyproj.crs import CompoundCRS, CoordinateOperation, GeographicCRS
from pyproj.crs import coordinate_operation as co
from pyproj.crs.coordinate_system import Ellipsoidal2DCS
from pyproj.crs.datum import (
    CustomDatum,
    CustomEllipsoid,
    CustomPrimeMeridian,
    Datum,
    Ellipsoid,
    PrimeMeridian,
)
from pyproj.crs.enums import Ellipsoidal2DCSAxis
from pyproj.database import get_units_map
from pyproj.datadir import get_data_dir
from pyproj.exceptions import CRSError, ProjError

from virtual_tiff.errors import UnsupportedTIFFError
from virtual_tiff.geo._geokeys import USER_DEFINED, GeoKey, GeoKeys, ModelType
from virtual_tiff.io import first_line

T = TypeVar("T")

_ESRI_PE = "ESRI PE String = "
#: Citations that may name the whole CRS; a geographic citation never names a projected one.
_PROJECTED_CITATIONS = (GeoKey.PCSCitationGeoKey, GeoKey.GTCitationGeoKey)
_GEOGRAPHIC_CITATIONS = (GeoKey.GTCitationGeoKey, GeoKey.GeogCitationGeoKey)


def crs_from_geokeys(keys: GeoKeys | None) -> pyproj.CRS | None:
    """The CRS the keys describe, compound with a vertical CRS when one is given.

    None when the keys name no CRS at all (only a raster type, as some
    writers emit for plain images). Raises ``UnsupportedTIFFError`` when they
    name one that neither the keys nor a citation let us rebuild.
    """
    if keys is None:
        return None
    try:
        return _crs(keys)
    except ProjError as exc:  # e.g. NaN or absurd parameters that PROJ refuses
        raise keys.error(
            UnsupportedTIFFError, f"PROJ refuses the CRS the keys describe: {first_line(exc, 200) or type(exc).__name__}"
        ) from None


def _crs(keys: GeoKeys) -> pyproj.CRS | None:
    horizontal = _horizontal(keys)
    if horizontal is None:
        return None
    vertical = keys.code(GeoKey.VerticalCSTypeGeoKey)
    if vertical is None or vertical in (0, USER_DEFINED):
        return horizontal
    try:
        vcrs = pyproj.CRS.from_epsg(vertical)
    except CRSError:
        raise keys.error(UnsupportedTIFFError, f"VerticalCSTypeGeoKey {vertical} is not a known EPSG code") from None
    return CompoundCRS(name=f"{horizontal.name} + {vcrs.name}", components=[horizontal, vcrs])


def _horizontal(keys: GeoKeys) -> pyproj.CRS | None:
    model = keys.code(GeoKey.GTModelTypeGeoKey)
    projected = keys.code(GeoKey.ProjectedCSTypeGeoKey)
    geographic = keys.code(GeoKey.GeographicTypeGeoKey)
    if _is_projected(model, projected):
        if projected not in (None, 0, USER_DEFINED):
            crs = _from_epsg(keys, GeoKey.ProjectedCSTypeGeoKey, projected, _PROJECTED_CITATIONS)
            return _in_linear_unit(keys, crs)
        return _user_projected(keys) or _from_citation(keys, "a user-defined projected CRS", _PROJECTED_CITATIONS)
    if model not in (ModelType.GEOGRAPHIC, ModelType.GEOCENTRIC):
        esri = _esri_pe_crs(keys)
        if esri is not None:
            return esri
    if model in (ModelType.GEOGRAPHIC, ModelType.GEOCENTRIC) or geographic is not None:
        if geographic not in (None, 0, USER_DEFINED):
            return _from_epsg(keys, GeoKey.GeographicTypeGeoKey, geographic, _GEOGRAPHIC_CITATIONS)
        return _user_geographic(keys) or _from_citation(keys, "a user-defined geographic CRS", _GEOGRAPHIC_CITATIONS)
    if model == USER_DEFINED:
        raise keys.error(UnsupportedTIFFError, "GTModelTypeGeoKey 32767 (user-defined) without a projected code "
                                               "or an ESRI PE string in PCSCitationGeoKey: GDAL reads a local CRS")
    if model is not None:
        raise keys.error(UnsupportedTIFFError, f"GTModelTypeGeoKey {model} is not a known model type")
    return None


def _is_projected(model: int | None, projected: int | None) -> bool:
    """A projected model, or (as GDAL reads it) an absent or user-defined one beside a projected code."""
    if model == ModelType.PROJECTED:
        return True
    if model is None:
        return projected is not None
    return model == USER_DEFINED and projected not in (None, 0, USER_DEFINED)


def _esri_pe_crs(keys: GeoKeys) -> pyproj.CRS | None:
    """The CRS of an ESRI PE string in PCSCitationGeoKey, which GDAL reads whole when the model is user-defined.

    GDAL (and ArcGIS) write a CRS the GeoKeys cannot express (Geostationary, Mollweide, Eckert,
    Krovak, two-point Hotine...) as GTModelTypeGeoKey 32767 plus this string; GDAL reads it
    only from PCSCitationGeoKey, and only then.
    """
    text = keys.text(GeoKey.PCSCitationGeoKey)
    if text is None or _ESRI_PE not in text:
        return None
    wkt = text.split(_ESRI_PE, 1)[1]
    try:
        return pyproj.CRS.from_wkt(wkt)
    except CRSError:
        raise keys.error(UnsupportedTIFFError, f"PCSCitationGeoKey holds an ESRI PE string PROJ cannot parse: "
                                               f"{wkt[:80]!r}") from None


def _in_linear_unit(keys: GeoKeys, crs: pyproj.CRS) -> pyproj.CRS:
    """An EPSG projected CRS in ProjLinearUnitsGeoKey's unit when that differs from the code's, as GDAL reads it.

    The result is no longer that EPSG code (GDAL drops its identifier too); its parameters keep
    their own units, so they mean the same distances.
    """
    if keys.code(GeoKey.ProjLinearUnitsGeoKey) in (None, 0) or not crs.is_projected:
        return crs
    unit = _linear_unit(keys)
    metres = 1.0 if unit == "metre" else unit["conversion_factor"]  # type: ignore[index]
    if all(math.isclose(axis.unit_conversion_factor, metres, rel_tol=1e-12) for axis in crs.axis_info):
        return crs
    projjson = crs.to_json_dict()
    projjson.pop("id", None)
    for axis in projjson["coordinate_system"]["axis"]:
        axis["unit"] = unit
    return pyproj.CRS.from_json_dict(projjson)


def _from_epsg(keys: GeoKeys, key: GeoKey, code: int, citations: tuple[GeoKey, ...]) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_epsg(code)
    except CRSError:
        found = _citation_crs(keys, citations)
        if found is None:
            raise keys.error(UnsupportedTIFFError, f"{key.name} {code} is not a known EPSG code") from None
        return found


def _from_citation(keys: GeoKeys, what: str, citations: tuple[GeoKey, ...]) -> pyproj.CRS:
    found = _citation_crs(keys, citations)
    if found is None:
        raise keys.error(
            UnsupportedTIFFError,
            f"{what} whose keys are incomplete or use an unsupported ProjCoordTransGeoKey "
            f"({keys.code(GeoKey.ProjCoordTransGeoKey)}), and no citation names a CRS",
        )
    return found


def _epsg_object(keys: GeoKeys, key: GeoKey, code: int, factory: Callable[[int], T]) -> T:
    """A datum, ellipsoid, meridian or conversion from PROJ's EPSG database, or an error naming the key."""
    try:
        return factory(code)
    except CRSError:
        raise keys.error(UnsupportedTIFFError, f"{key.name} {code} is not in PROJ's EPSG database") from None


def _citation_crs(keys: GeoKeys, citations: tuple[GeoKey, ...]) -> pyproj.CRS | None:
    """A CRS from a citation: GDAL stores ESRI PE strings there, others a CRS name."""
    for key in citations:
        text = keys.text(key)
        if text is None or text.lower() == "unknown":
            continue
        found = _crs_from_text(text.removeprefix(_ESRI_PE))
        if found is not None:
            return found
    return None


#: Text PROJ parses as a definition rather than a name: WKT, a PROJ string, or AUTHORITY:CODE.
_DEFINITION = re.compile(r"^\s*(?:[A-Z_]+\s*\[|.*\+proj=|[A-Za-z]+:\w+\s*$)", re.DOTALL)


@functools.lru_cache(maxsize=256)
def _crs_from_text(text: str) -> pyproj.CRS | None:
    """The CRS a WKT, PROJ string or CRS name (or alias, any case) denotes, or None.

    A name PROJ's database does not hold exactly is not looked up: PROJ would then search it
    approximately for a quarter of a second, and may return a CRS the text does not name.
    Memoized (a pure function of the text): every page of a multi-page file repeats its citation.
    """
    if not _DEFINITION.match(text) and text.strip().lower() not in _crs_names():
        return None
    try:
        return pyproj.CRS.from_user_input(text)
    except CRSError:
        return None


@functools.cache
def _crs_names() -> frozenset[str]:
    """Every CRS name and alias in PROJ's database, lower case (read once: about 50 ms)."""
    path = os.path.join(get_data_dir(), "proj.db")
    tables = ("geodetic_crs", "projected_crs", "compound_crs", "vertical_crs", "engineering_crs")
    query = (f"SELECT name FROM crs_view UNION SELECT alt_name FROM alias_name "
             f"WHERE table_name IN ({','.join('?' * len(tables))})")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return frozenset(name.lower() for (name,) in db.execute(query, tables))


# -- user-defined geographic CRS ---------------------------------------------------------------


def _user_geographic(keys: GeoKeys) -> pyproj.CRS | None:
    base = _geographic_json(keys)
    return None if base is None else pyproj.CRS.from_json_dict(_bound(keys, base))


def _geographic_json(keys: GeoKeys) -> dict[str, Any] | None:
    """The geographic CRS under a projection, as PROJJSON; None when the keys give no datum at all."""
    code = keys.code(GeoKey.GeographicTypeGeoKey)
    if code not in (None, 0, USER_DEFINED):
        return _from_epsg(keys, GeoKey.GeographicTypeGeoKey, code, _GEOGRAPHIC_CITATIONS).to_json_dict()
    datum = _datum(keys)
    if datum is None:
        return None
    names = _citation_fields(keys.text(GeoKey.GeogCitationGeoKey))
    name = names.get("GCS Name") or names.get("") or "unknown"
    # GDAL gives user-defined geographic CRSs EPSG's latitude-first axis order, in the keys' angular unit.
    axes = Ellipsoidal2DCS(Ellipsoidal2DCSAxis.LATITUDE_LONGITUDE)
    projjson = GeographicCRS(name=name, datum=datum, ellipsoidal_cs=axes).to_json_dict()
    unit = _angular_unit(keys)
    if unit != "degree":
        for axis in projjson["coordinate_system"]["axis"]:
            axis["unit"] = unit
    return projjson


def _datum(keys: GeoKeys) -> Datum | None:
    code = keys.code(GeoKey.GeogGeodeticDatumGeoKey)
    if code not in (None, 0, USER_DEFINED):
        return _epsg_object(keys, GeoKey.GeogGeodeticDatumGeoKey, code, Datum.from_epsg)
    ellipsoid = _ellipsoid(keys)
    if ellipsoid is None:
        return None
    names = _citation_fields(keys.text(GeoKey.GeogCitationGeoKey))
    return CustomDatum(name=names.get("Datum", "unknown"), ellipsoid=ellipsoid, prime_meridian=_prime_meridian(keys))


def _ellipsoid(keys: GeoKeys) -> Ellipsoid | None:
    code = keys.code(GeoKey.GeogEllipsoidGeoKey)
    if code not in (None, 0, USER_DEFINED):
        return _epsg_object(keys, GeoKey.GeogEllipsoidGeoKey, code, Ellipsoid.from_epsg)
    a = keys.number(GeoKey.GeogSemiMajorAxisGeoKey)
    if a is None:
        return None
    metres = _unit_factor(keys, GeoKey.GeogLinearUnitsGeoKey, GeoKey.GeogLinearUnitSizeGeoKey, "linear")
    inverse_flattening = keys.number(GeoKey.GeogInvFlatteningGeoKey)
    b = keys.number(GeoKey.GeogSemiMinorAxisGeoKey)
    names = _citation_fields(keys.text(GeoKey.GeogCitationGeoKey))
    name = names.get("Ellipsoid", "unknown")
    if inverse_flattening:
        return CustomEllipsoid(name=name, semi_major_axis=a * metres, inverse_flattening=inverse_flattening)
    if b is not None and b != a:
        return CustomEllipsoid(name=name, semi_major_axis=a * metres, semi_minor_axis=b * metres)
    return CustomEllipsoid(name=name, radius=a * metres)


def _prime_meridian(keys: GeoKeys) -> PrimeMeridian:
    code = keys.code(GeoKey.GeogPrimeMeridianGeoKey)
    if code not in (None, 0, USER_DEFINED):
        return _epsg_object(keys, GeoKey.GeogPrimeMeridianGeoKey, code, PrimeMeridian.from_epsg)
    longitude = keys.number(GeoKey.GeogPrimeMeridianLongGeoKey) or 0.0
    # GDAL names the meridian from the citation: Mars's and the Moon's zero meridian is not Greenwich.
    name = _citation_fields(keys.text(GeoKey.GeogCitationGeoKey)).get("Primem")
    if longitude == 0.0 and name in (None, "Greenwich"):
        return PrimeMeridian.from_name("Greenwich")
    return CustomPrimeMeridian(name=name or "unknown", longitude=longitude * _degrees_per_unit(keys))


def _bound(keys: GeoKeys, source: dict[str, Any]) -> dict[str, Any]:
    """Wrap ``source`` in a BoundCRS when GeogTOWGS84GeoKey gives a shift to WGS 84, as GDAL does."""
    shift = keys.numbers(GeoKey.GeogTOWGS84GeoKey)
    if shift is None:
        return source
    if len(shift) not in (3, 7):
        raise keys.error(UnsupportedTIFFError, f"GeogTOWGS84GeoKey has {len(shift)} values, expected 3 or 7")
    # GDAL (like WKT1's TOWGS84) always states the 7-parameter form, zero-padded.
    shift = (*shift, 0.0, 0.0, 0.0, 0.0)[:7]
    method = {"name": "Position Vector transformation (geog2D domain)", "id": {"authority": "EPSG", "code": 9606}}
    arc_second = {"type": "AngularUnit", "name": "arc-second", "conversion_factor": math.pi / 180 / 3600}
    ppm = {"type": "ScaleUnit", "name": "parts per million", "conversion_factor": 1e-6}
    parameters = [
        ("X-axis translation", 8605, "metre"),
        ("Y-axis translation", 8606, "metre"),
        ("Z-axis translation", 8607, "metre"),
        ("X-axis rotation", 8608, arc_second),
        ("Y-axis rotation", 8609, arc_second),
        ("Z-axis rotation", 8610, arc_second),
        ("Scale difference", 8611, ppm),
    ]
    return {
        "type": "BoundCRS",
        "source_crs": source,
        "target_crs": pyproj.CRS.from_epsg(4326).to_json_dict(),
        "transformation": {
            "name": "Transformation from unknown to WGS84",
            "method": method,
            "parameters": [
                {"name": name, "value": value, "unit": unit, "id": {"authority": "EPSG", "code": code}}
                for (name, code, unit), value in zip(parameters, shift, strict=True)
            ],
        },
    }


# -- user-defined projected CRS ----------------------------------------------------------------


def _user_projected(keys: GeoKeys) -> pyproj.CRS | None:
    base = _geographic_json(keys)
    conversion = _conversion(keys)
    if base is None or conversion is None:
        return None
    unit = _linear_unit(keys)
    citation = keys.text(GeoKey.PCSCitationGeoKey) or keys.text(GeoKey.GTCitationGeoKey) or "unknown"
    easting, northing = _axis_directions(conversion)
    projected = {
        "type": "ProjectedCRS",
        "name": "unknown" if "=" in citation else citation,
        "base_crs": base,
        "conversion": conversion,
        "coordinate_system": {
            "subtype": "Cartesian",
            "axis": [
                {"name": "Easting", "abbreviation": "E", "direction": easting, "unit": unit},
                {"name": "Northing", "abbreviation": "N", "direction": northing, "unit": unit},
            ],
        },
    }
    return pyproj.CRS.from_json_dict(_bound(keys, projected))


def _axis_directions(conversion: dict[str, Any]) -> tuple[str, str]:
    """GDAL's axes: polar stereographic and polar LAEA ones point away from the pole (EPSG's
    convention), south-orientated Transverse Mercator's west/south, others east/north.

    Only the names differ: PROJ computes the same coordinates either way.
    """
    method = conversion.get("method", {}).get("id", {}).get("code")
    if method == 9808:
        return ("west", "south")
    latitude = conversion["parameters"][0]["value"] if conversion.get("parameters") else 0.0
    if method in (9810, 9829) or (method == 9820 and abs(abs(latitude) - 90.0) < 1e-10):
        return ("south", "south") if latitude > 0 else ("north", "north")
    return ("east", "north")


def _conversion(keys: GeoKeys) -> dict[str, Any] | None:
    code = keys.code(GeoKey.ProjectionGeoKey)
    if code not in (None, 0, USER_DEFINED):
        return _epsg_object(keys, GeoKey.ProjectionGeoKey, code, CoordinateOperation.from_epsg).to_json_dict()
    transformation = keys.code(GeoKey.ProjCoordTransGeoKey)
    build = _CONVERSIONS.get(transformation) if transformation is not None else None
    if build is None:
        return None
    conversion = build(_Params(keys, _degrees_per_unit(keys))).to_json_dict()
    # GeoTIFF states false eastings/northings in the CRS's linear unit, not pyproj's default metre.
    unit = _linear_unit(keys)
    for parameter in conversion.get("parameters", []):
        if parameter.get("unit") == "metre":
            parameter["unit"] = unit
    return conversion


class _Params:
    """Projection parameters with GDAL's fallbacks between equivalent keys, angles in degrees."""

    def __init__(self, keys: GeoKeys, degrees: float) -> None:
        self.keys = keys
        self.degrees = degrees

    def angle(self, *candidates: GeoKey, default: float = 0.0) -> float:
        return self._first(candidates, default) * self.degrees

    def value(self, *candidates: GeoKey, default: float = 0.0) -> float:
        return self._first(candidates, default)

    def _first(self, candidates: tuple[GeoKey, ...], default: float) -> float:
        for key in candidates:
            number = self.keys.number(key)
            if number is not None:
                return number
        return default

    # The groups of keys that writers use interchangeably for one parameter.
    def nat_lat(self) -> float:
        return self.angle(GeoKey.ProjNatOriginLatGeoKey, GeoKey.ProjFalseOriginLatGeoKey, GeoKey.ProjCenterLatGeoKey)

    def nat_long(self) -> float:
        return self.angle(GeoKey.ProjNatOriginLongGeoKey, GeoKey.ProjFalseOriginLongGeoKey, GeoKey.ProjCenterLongGeoKey)

    def center_lat(self) -> float:
        return self.angle(GeoKey.ProjCenterLatGeoKey, GeoKey.ProjNatOriginLatGeoKey, GeoKey.ProjFalseOriginLatGeoKey)

    def center_long(self) -> float:
        return self.angle(GeoKey.ProjCenterLongGeoKey, GeoKey.ProjNatOriginLongGeoKey, GeoKey.ProjFalseOriginLongGeoKey)

    def origin_lat(self) -> float:
        return self.angle(GeoKey.ProjFalseOriginLatGeoKey, GeoKey.ProjNatOriginLatGeoKey, GeoKey.ProjCenterLatGeoKey)

    def origin_long(self) -> float:
        return self.angle(GeoKey.ProjFalseOriginLongGeoKey, GeoKey.ProjNatOriginLongGeoKey, GeoKey.ProjCenterLongGeoKey)

    def scale(self) -> float:
        return self.value(GeoKey.ProjScaleAtNatOriginGeoKey, GeoKey.ProjScaleAtCenterGeoKey, default=1.0)

    def easting(self) -> float:
        return self.value(
            GeoKey.ProjFalseEastingGeoKey, GeoKey.ProjCenterEastingGeoKey, GeoKey.ProjFalseOriginEastingGeoKey
        )

    def northing(self) -> float:
        return self.value(
            GeoKey.ProjFalseNorthingGeoKey, GeoKey.ProjCenterNorthingGeoKey, GeoKey.ProjFalseOriginNorthingGeoKey
        )

    def origin_easting(self) -> float:
        return self.value(
            GeoKey.ProjFalseOriginEastingGeoKey, GeoKey.ProjFalseEastingGeoKey, GeoKey.ProjCenterEastingGeoKey
        )

    def origin_northing(self) -> float:
        return self.value(
            GeoKey.ProjFalseOriginNorthingGeoKey, GeoKey.ProjFalseNorthingGeoKey, GeoKey.ProjCenterNorthingGeoKey
        )

    def azimuth(self) -> float:
        """ProjAzimuthAngleGeoKey is in GeogAzimuthUnitsGeoKey's unit, degrees by default (GDAL writes degrees)."""
        radians = _unit_factor(self.keys, GeoKey.GeogAzimuthUnitsGeoKey, GeoKey.GeogAngularUnitSizeGeoKey, "angular")
        return self.value(GeoKey.ProjAzimuthAngleGeoKey) * radians * 180 / math.pi

    def parallel(self, which: int) -> float:
        return self.angle(GeoKey.ProjStdParallel1GeoKey if which == 1 else GeoKey.ProjStdParallel2GeoKey)


def _mercator(p: _Params) -> CoordinateOperation:
    if GeoKey.ProjStdParallel1GeoKey in p.keys and GeoKey.ProjScaleAtNatOriginGeoKey not in p.keys:
        return co.MercatorBConversion(p.parallel(1), p.nat_long(), p.easting(), p.northing())
    return co.MercatorAConversion(p.nat_lat(), p.nat_long(), p.easting(), p.northing(), p.scale())


def _polar_stereographic(p: _Params) -> CoordinateOperation:
    latitude = p.angle(GeoKey.ProjNatOriginLatGeoKey, GeoKey.ProjStdParallel1GeoKey, default=90.0)
    longitude = p.angle(GeoKey.ProjStraightVertPoleLongGeoKey, GeoKey.ProjNatOriginLongGeoKey)
    if abs(abs(latitude) - 90.0) < 1e-10:
        return co.PolarStereographicAConversion(latitude, longitude, p.easting(), p.northing(), p.scale())
    # Like GDAL: a latitude of origin off the pole is the standard parallel of variant B.
    return co.PolarStereographicBConversion(latitude, longitude, p.easting(), p.northing())


_ANGLE, _LENGTH, _SCALE = "degree", "metre", "unity"

#: One parameter of a method: PROJ's (EPSG's) name and code, its unit, and which GeoKeys give it.
_Parameter = tuple[str, int, str, Callable[[_Params], float]]

_LAT_ORIGIN: _Parameter = ("Latitude of natural origin", 8801, _ANGLE, _Params.nat_lat)
_LONG_ORIGIN: _Parameter = ("Longitude of natural origin", 8802, _ANGLE, _Params.nat_long)
_SCALE_ORIGIN: _Parameter = ("Scale factor at natural origin", 8805, _SCALE, _Params.scale)
_FALSE_EASTING: _Parameter = ("False easting", 8806, _LENGTH, _Params.easting)
_FALSE_NORTHING: _Parameter = ("False northing", 8807, _LENGTH, _Params.northing)
_LAT_CENTRE: _Parameter = ("Latitude of projection centre", 8811, _ANGLE, _Params.nat_lat)
_LONG_CENTRE: _Parameter = ("Longitude of projection centre", 8812, _ANGLE, _Params.nat_long)
_AZIMUTH: _Parameter = ("Azimuth at projection centre", 8813, _ANGLE, _Params.azimuth)
_SKEW: _Parameter = (
    "Angle from Rectified to Skew Grid", 8814, _ANGLE, lambda p: p.angle(GeoKey.ProjRectifiedGridAngleGeoKey, default=90.0)
)
_SCALE_CENTRE: _Parameter = ("Scale factor at projection centre", 8815, _SCALE, _Params.scale)
_ORIGIN_ONLY = (_LAT_ORIGIN, _LONG_ORIGIN, _FALSE_EASTING, _FALSE_NORTHING)
_SCALED_ORIGIN = (_LAT_ORIGIN, _LONG_ORIGIN, _SCALE_ORIGIN, _FALSE_EASTING, _FALSE_NORTHING)
_MERIDIAN_ONLY = (_LONG_ORIGIN, _FALSE_EASTING, _FALSE_NORTHING)


@dataclass(frozen=True)
class _Method:
    """A projection method as PROJ names it (with EPSG's code where EPSG has one) and its parameters.

    The parameters are those GDAL reads for the ProjCoordTransGeoKey code (libgeotiff's
    GTIFFetchProjParms), under the names PROJ gives them, so the CRS is the one GDAL reports.
    """

    name: str
    code: int | None
    parameters: tuple[_Parameter, ...]

    def __call__(self, p: _Params) -> CoordinateOperation:
        method: dict[str, Any] = {"name": self.name}
        if self.code is not None:
            method["id"] = {"authority": "EPSG", "code": self.code}
        parameters = [
            {"name": name, "value": value(p), "unit": unit, "id": {"authority": "EPSG", "code": code}}
            for name, code, unit, value in self.parameters
        ]
        return CoordinateOperation.from_json_dict(
            {"type": "Conversion", "name": "unknown", "method": method, "parameters": parameters}
        )


#: ProjCoordTransGeoKey codes (GeoTIFF CT_*) we rebuild: every one GDAL writes and reads.
#: Others (2 Alaska, 5 Rosenmund, 6 spherical oblique Mercator) GDAL reads as a local CRS.
_CONVERSIONS: dict[int, Callable[[_Params], CoordinateOperation]] = {
    1: lambda p: co.TransverseMercatorConversion(p.nat_lat(), p.nat_long(), p.easting(), p.northing(), p.scale()),
    3: _Method("Hotine Oblique Mercator (variant A)", 9812,
               (_LAT_CENTRE, _LONG_CENTRE, _AZIMUTH, _SKEW, _SCALE_CENTRE, _FALSE_EASTING, _FALSE_NORTHING)),
    4: _Method("Laborde Oblique Mercator", 9813,
               (_LAT_CENTRE, _LONG_CENTRE, _AZIMUTH, _SCALE_CENTRE, _FALSE_EASTING, _FALSE_NORTHING)),
    7: _mercator,
    8: lambda p: co.LambertConformalConic2SPConversion(
        p.parallel(1), p.parallel(2), p.origin_lat(), p.origin_long(), p.origin_easting(), p.origin_northing()
    ),
    9: lambda p: co.LambertConformalConic1SPConversion(p.nat_lat(), p.nat_long(), p.easting(), p.northing(), p.scale()),
    10: lambda p: co.LambertAzimuthalEqualAreaConversion(p.center_lat(), p.center_long(), p.easting(), p.northing()),
    11: lambda p: co.AlbersEqualAreaConversion(
        p.parallel(1), p.parallel(2), p.nat_lat(), p.nat_long(), p.easting(), p.northing()
    ),
    12: _Method("Azimuthal Equidistant", 1125, _ORIGIN_ONLY),
    13: _Method("Equidistant Conic", 1119, (
        ("Latitude of false origin", 8821, _ANGLE, _Params.nat_lat),
        ("Longitude of false origin", 8822, _ANGLE, _Params.nat_long),
        ("Latitude of 1st standard parallel", 8823, _ANGLE, lambda p: p.parallel(1)),
        ("Latitude of 2nd standard parallel", 8824, _ANGLE, lambda p: p.parallel(2)),
        ("Easting at false origin", 8826, _LENGTH, _Params.easting),
        ("Northing at false origin", 8827, _LENGTH, _Params.northing),
    )),
    14: lambda p: co.StereographicConversion(p.center_lat(), p.center_long(), p.easting(), p.northing(), p.scale()),
    15: _polar_stereographic,
    16: _Method("Oblique Stereographic", 9809, _SCALED_ORIGIN),
    17: lambda p: co.EquidistantCylindricalConversion(
        p.parallel(1), p.center_lat(), p.center_long(), p.easting(), p.northing()
    ),
    18: _Method("Cassini-Soldner", 9806, _ORIGIN_ONLY),
    19: _Method("Gnomonic", None, _ORIGIN_ONLY),
    20: _Method("Miller Cylindrical", None, _MERIDIAN_ONLY),
    21: lambda p: co.OrthographicConversion(p.center_lat(), p.center_long(), p.easting(), p.northing()),
    22: _Method("American Polyconic", 9818, _ORIGIN_ONLY),
    23: _Method("Robinson", None, _MERIDIAN_ONLY),
    24: lambda p: co.SinusoidalConversion(p.center_long(), p.easting(), p.northing()),
    25: _Method("Van Der Grinten", None, _MERIDIAN_ONLY),
    26: _Method("New Zealand Map Grid", 9811, _ORIGIN_ONLY),
    27: _Method("Transverse Mercator (South Orientated)", 9808, _SCALED_ORIGIN),
    28: lambda p: co.LambertCylindricalEqualAreaConversion(p.parallel(1), p.nat_long(), p.easting(), p.northing()),
    9815: _Method("Hotine Oblique Mercator (variant B)", 9815, (
        _LAT_CENTRE, _LONG_CENTRE, _AZIMUTH, _SKEW, _SCALE_CENTRE,
        ("Easting at projection centre", 8816, _LENGTH, _Params.easting),
        ("Northing at projection centre", 8817, _LENGTH, _Params.northing),
    )),
}


# -- units and citations -----------------------------------------------------------------------


@functools.cache
def _epsg_units(category: str) -> dict[int, tuple[str, float]]:
    """EPSG unit code -> name and size in metres (linear) or radians (angular), from PROJ's database."""
    units = get_units_map(auth_name="EPSG", category=category).values()
    return {int(u.code): (u.name, u.conv_factor) for u in units if u.code.isdigit()}


def _unit_factor(keys: GeoKeys, unit_key: GeoKey, size_key: GeoKey, category: str) -> float:
    code = keys.code(unit_key)
    if code in (None, 0):
        return 1.0 if category == "linear" else math.pi / 180
    if code == USER_DEFINED:
        size = keys.number(size_key)
        if not size:
            raise keys.error(UnsupportedTIFFError, f"user-defined {unit_key.name} without {size_key.name}")
        return size
    unit = _epsg_units(category).get(code)
    if unit is None:
        raise keys.error(UnsupportedTIFFError, f"{unit_key.name} {code} is not a known EPSG {category} unit")
    return unit[1]


def _radians_per_unit(keys: GeoKeys) -> float:
    """The angular unit of the keys' angles, as libgeotiff decides it.

    GeogAngularUnitsGeoKey; without it GeogAngularUnitSizeGeoKey alone (GDAL writes mils so),
    else the unit of GeographicTypeGeoKey's EPSG CRS (grads for the Paris-meridian ones).
    """
    code = keys.code(GeoKey.GeogAngularUnitsGeoKey)
    size = keys.number(GeoKey.GeogAngularUnitSizeGeoKey)
    geographic = keys.code(GeoKey.GeographicTypeGeoKey)
    if code is None and size:
        return size
    if code is None and geographic not in (None, 0, USER_DEFINED):
        crs = _from_epsg(keys, GeoKey.GeographicTypeGeoKey, geographic, _GEOGRAPHIC_CITATIONS)
        return crs.axis_info[0].unit_conversion_factor
    return _unit_factor(keys, GeoKey.GeogAngularUnitsGeoKey, GeoKey.GeogAngularUnitSizeGeoKey, "angular")


def _degrees_per_unit(keys: GeoKeys) -> float:
    return _radians_per_unit(keys) * 180 / math.pi


def _angular_unit(keys: GeoKeys) -> str | dict[str, Any]:
    """The user-defined geographic CRS's unit, named by its EPSG code or GDAL's ``AUnits`` citation."""
    radians = _radians_per_unit(keys)
    if math.isclose(radians, math.pi / 180, rel_tol=1e-12):
        return "degree"
    code = keys.code(GeoKey.GeogAngularUnitsGeoKey)
    cited = _citation_fields(keys.text(GeoKey.GeogCitationGeoKey)).get("AUnits", "unknown")
    name = _epsg_units("angular").get(code or 0, (cited, radians))[0]
    return {"type": "AngularUnit", "name": name, "conversion_factor": radians}


def _linear_unit(keys: GeoKeys) -> str | dict[str, Any]:
    code = keys.code(GeoKey.ProjLinearUnitsGeoKey)
    metres = _unit_factor(keys, GeoKey.ProjLinearUnitsGeoKey, GeoKey.ProjLinearUnitSizeGeoKey, "linear")
    if metres == 1.0:
        return "metre"
    name = _epsg_units("linear").get(code or 0, ("unknown", metres))[0]
    return {"type": "LinearUnit", "name": name, "conversion_factor": metres}


def _citation_fields(citation: str | None) -> dict[str, str]:
    """GDAL's ``GCS Name = x|Datum = y|...`` citation as a dict; a bare text is under ``""``."""
    fields: dict[str, str] = {}
    for part in (citation or "").split("|"):
        name, sep, value = part.partition(" = ")
        if sep:
            fields[name.strip()] = value.strip()
        elif part.strip():
            fields.setdefault("", part.strip())
    return fields
