"""GeoKeys -> CRS and transforms, GDAL's metadata, and the CF / GeoZarr attributes that carry them.

``_geokeys`` (the GeoKey directory) -> ``_crs`` (pyproj CRS from EPSG codes or user-defined keys)
and ``_transform`` (the affine as GDAL computes it, and pixel centres as rioxarray does) ->
``_georeference`` (one IFD's :class:`Georeference`) -> ``_attrs`` (CF grid mapping, GeoZarr
``spatial:``/``proj:``/``multiscales``). ``_metadata`` reads GDAL_METADATA and GDAL_NODATA.
"""

from virtual_tiff.geo._attrs import (
    Level,
    cf_attrs,
    geozarr_attrs,
    merge_attrs,
    multiscales_attrs,
)
from virtual_tiff.geo._crs import crs_from_geokeys
from virtual_tiff.geo._geokeys import GeoKey, GeoKeys, RasterType, parse_geokeys
from virtual_tiff.geo._georeference import Georeference, georeference
from virtual_tiff.geo._metadata import (
    BandMetadata,
    GDALMetadata,
    inherit_metadata,
    parse_gdal_metadata,
    parse_nodata,
)
from virtual_tiff.geo._transform import GCP, Affine, overview_transform, pixel_centres, read_gcps, read_transform

__all__ = [
    "GCP",
    "Affine",
    "BandMetadata",
    "GDALMetadata",
    "GeoKey",
    "GeoKeys",
    "Georeference",
    "Level",
    "RasterType",
    "cf_attrs",
    "crs_from_geokeys",
    "georeference",
    "geozarr_attrs",
    "merge_attrs",
    "multiscales_attrs",
    "overview_transform",
    "inherit_metadata",
    "parse_gdal_metadata",
    "parse_geokeys",
    "parse_nodata",
    "pixel_centres",
    "read_gcps",
    "read_transform",
]
