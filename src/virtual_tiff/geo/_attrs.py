"""Zarr attributes that tell readers where the pixels are.

Two audiences, both written so neither needs the other:

* rioxarray, odc-geo and GDAL before 3.13 look for a scalar ``spatial_ref``
  variable with CF grid-mapping attributes plus GDAL's ``GeoTransform``;
* GeoZarr readers (GDAL 3.13, rasterix, rioxarray's zarr convention support)
  look for the zarr-conventions ``spatial:`` and ``proj:`` attributes, and
  ``multiscales`` on the group holding the overview levels.

Convention records follow zarr-conventions/spatial, geo-proj and multiscales
at tag v1, as rioxarray 0.23 (``rioxarray._convention.zarr``) and
zarr-developers/geozarr-toolkit register them: readers match on ``uuid``,
rioxarray on ``name``, so both are written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyproj

from virtual_tiff.geo._transform import GCP, Affine

SPATIAL_CONVENTION: Mapping[str, str] = {
    "uuid": "689b58e2-cf7b-45e0-9fff-9cfc0883d6b4",
    "name": "spatial:",
    "schema_url": "https://raw.githubusercontent.com/zarr-conventions/spatial/refs/tags/v1/schema.json",
    "spec_url": "https://github.com/zarr-conventions/spatial/blob/v1/README.md",
    "description": "Spatial coordinate information",
}
PROJ_CONVENTION: Mapping[str, str] = {
    "uuid": "f17cb550-5864-4468-aeb7-f3180cfb622f",
    "name": "proj:",
    "schema_url": "https://raw.githubusercontent.com/zarr-conventions/geo-proj/refs/tags/v1/schema.json",
    "spec_url": "https://github.com/zarr-conventions/geo-proj/blob/v1/README.md",
    "description": "Coordinate reference system information for geospatial data",
}
MULTISCALES_CONVENTION: Mapping[str, str] = {
    "uuid": "d35379db-88df-4056-af3a-620245f8e347",
    "name": "multiscales",
    "schema_url": "https://raw.githubusercontent.com/zarr-conventions/multiscales/refs/tags/v1/schema.json",
    "spec_url": "https://github.com/zarr-conventions/multiscales/blob/v1/README.md",
    "description": "Multiscale layout of zarr datasets",
}


def cf_attrs(crs: pyproj.CRS | None, transform: Affine | None, gcps: Sequence[GCP] = ()) -> dict[str, Any]:
    """Attributes of the scalar ``spatial_ref`` variable, as rioxarray writes and reads them.

    Ground control points are rioxarray's ``gcps`` attribute (a GeoJSON FeatureCollection, which
    ``.rio.get_gcps()`` reads).
    """
    attrs: dict[str, Any] = {}
    if crs is not None:
        attrs.update(crs.to_cf())
        wkt = crs.to_wkt()
        attrs["crs_wkt"] = wkt
        attrs["spatial_ref"] = wkt
    if transform is not None:
        attrs["GeoTransform"] = " ".join(str(v) for v in transform.gdal)
    if gcps:
        attrs["gcps"] = json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"id": str(i + 1), "info": "", "row": row, "col": col},
             "geometry": {"type": "Point", "coordinates": [x, y, z]}}
            for i, (col, row, _, x, y, z) in enumerate(gcps)
        ]})
    return attrs


def _code(projjson: dict[str, Any]) -> str | None:
    """The CRS's own identifier (a CRS built from an EPSG code carries it), or None.

    A CRS without one (user-defined keys) is not identified: PROJ's search takes half a second
    per CRS, and GDAL writes user-defined keys precisely when it found no code.
    """
    ident = projjson.get("id")
    return f"{ident['authority']}:{ident['code']}" if isinstance(ident, dict) and "code" in ident else None


def geozarr_attrs(
    crs: pyproj.CRS | None,
    transform: Affine | None,
    shape: tuple[int, int],
    dimensions: tuple[str, str] = ("y", "x"),
) -> dict[str, Any]:
    """``spatial:`` and ``proj:`` attributes of one raster array (or its group), with their registrations.

    ``spatial:registration`` is always ``"pixel"``: the transform addresses
    pixel corners even for PixelIsPoint files, whose half-pixel shift has
    already been applied (as GDAL does).
    """
    attrs: dict[str, Any] = {}
    conventions: list[dict[str, str]] = []
    if transform is not None:
        conventions.append(dict(SPATIAL_CONVENTION))
        attrs.update(
            {
                "spatial:dimensions": list(dimensions),
                "spatial:transform": list(transform.coefficients),
                "spatial:shape": list(shape),
                "spatial:bbox": list(transform.bounds(shape)),
                "spatial:registration": "pixel",
            }
        )
    if crs is not None:
        conventions.append(dict(PROJ_CONVENTION))
        projjson = crs.to_json_dict()
        code = _code(projjson)
        if code is not None:
            attrs["proj:code"] = code
        attrs["proj:wkt2"] = crs.to_wkt()
        attrs["proj:projjson"] = projjson
    if conventions:
        attrs["zarr_conventions"] = conventions
    return attrs


@dataclass(frozen=True)
class Level:
    """One resolution level of a pyramid: its child group or array name, grid shape and transform."""

    asset: str
    shape: tuple[int, int]
    transform: Affine | None = None


def multiscales_attrs(levels: Sequence[Level]) -> dict[str, Any]:
    """``multiscales`` attributes for the group holding the levels, full resolution first.

    Each level is ``derived_from`` the one before it, with the scale between
    the two (y, x) as the spec's relative transform; COG overviews share their
    corner origin, so the translation is zero. Where transforms are known, each
    entry also states its absolute ``spatial:shape`` and ``spatial:transform``.

    The ``spatial:`` convention is not declared here: declaring it says the
    group itself has a grid (``spatial:dimensions`` is then required, and
    geozarr-toolkit's ``validate_group`` refuses a group without it), and a
    group that only holds levels has none. A level-0 group that is also the
    multiscales group declares it through its own :func:`geozarr_attrs`.
    """
    if not levels:
        raise ValueError("a multiscales layout needs at least one level")
    layout: list[dict[str, Any]] = []
    for i, level in enumerate(levels):
        entry: dict[str, Any] = {"asset": level.asset}
        if i == 0:
            entry["transform"] = {"scale": [1.0, 1.0], "translation": [0.0, 0.0]}
        else:
            source = levels[i - 1]
            entry["derived_from"] = source.asset
            entry["transform"] = {
                "scale": [source.shape[0] / level.shape[0], source.shape[1] / level.shape[1]],
                "translation": [0.0, 0.0],
            }
        entry["spatial:shape"] = list(level.shape)
        if level.transform is not None:
            entry["spatial:transform"] = list(level.transform.coefficients)
        layout.append(entry)
    return {"zarr_conventions": [dict(MULTISCALES_CONVENTION)], "multiscales": {"layout": layout}}


def merge_attrs(*parts: Mapping[str, Any]) -> dict[str, Any]:
    """Several attribute sets on one node, with their ``zarr_conventions`` joined once per uuid."""
    merged: dict[str, Any] = {}
    conventions: dict[str, dict[str, str]] = {}
    for part in parts:
        for key, value in part.items():
            if key == "zarr_conventions":
                conventions.update((c["uuid"], c) for c in value)
            else:
                merged[key] = value
    if conventions:
        merged["zarr_conventions"] = list(conventions.values())
    return merged
