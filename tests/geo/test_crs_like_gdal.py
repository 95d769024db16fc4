"""The CRS of every kind of GeoTIFF is the one GDAL reports, opened as users open files.

Each file is written by GDAL (through rasterio) from a CRS, or, for key combinations GDAL reads
but never writes, from GeoKeys given exactly (:func:`tests.helpers.geotiffs.write_geokeys`).
Then ``xr.open_zarr`` of our store and ``rasterio.open`` of the file must agree: the CRS (pyproj
equivalence and rasterio's ``==`` of rioxarray's CRS), the transform and the x/y coordinates.

The matrices say how GDAL stored each CRS, so they also check that every storage is exercised:
a ProjCoordTransGeoKey code (every code GDAL writes), an ESRI PE string in PCSCitationGeoKey
(what GDAL and ArcGIS write for projections the keys cannot express), an EPSG code, or a
user-defined geographic CRS.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import pytest
import rasterio
import rioxarray
from rasterio.crs import CRS
from rasterio.transform import Affine
from zarr.core.sync import sync

from tests.helpers.geotiffs import write_geokeys
from tests.helpers.virtual import file_url, open_virtual
from virtual_tiff import UnknownCRSWarning
from virtual_tiff.geo import GeoKey, parse_geokeys
from virtual_tiff.io import ObjectReader
from virtual_tiff.tiff import read_tiff

pytestmark = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")

EPSG, CONVERSION, ESRI_PE, GEOGRAPHIC = "EPSG code", "EPSG conversion", "ESRI PE string", "user-defined geographic"


@dataclass(frozen=True)
class Written:
    """A CRS (anything rasterio accepts) and how GDAL stores it: a ProjCoordTransGeoKey code or a kind."""

    crs: str
    stored: int | str
    options: dict[str, Any] = field(default_factory=dict)


def _altered(code: int, parameter: str = "False easting", value: float = 1234.5) -> str:
    """EPSG ``code`` with one parameter changed: GDAL then writes user-defined keys for its method."""
    projjson = pyproj.CRS.from_epsg(code).to_json_dict()
    projjson.pop("id")
    projjson["name"] = f"EPSG {code}, altered"
    for p in projjson["conversion"]["parameters"]:
        if p["name"] == parameter:
            p["value"] = value
    return pyproj.CRS.from_json_dict(projjson).to_wkt()


MARS_ESRI = ('GEOGCS["GCS_Mars_2000",DATUM["D_Mars_2000",SPHEROID["Mars_2000_IAU_IAG",3396190.0,169.894447223612]],'
             'PRIMEM["Reference_Meridian",0.0],UNIT["Degree",0.0174532925199433]]')
ESRI_FLAVOR = {"GEOTIFF_KEYS_FLAVOR": "ESRI_PE"}

WRITTEN = {
    # user-defined projections: one or more per ProjCoordTransGeoKey code GDAL writes
    "transverse-mercator": Written("+proj=tmerc +lat_0=0 +lon_0=14 +k=0.9996 +x_0=500000 +ellps=intl", 1),
    "utm-on-another-datum": Written("+proj=tmerc +lat_0=0 +lon_0=15 +k=0.9996 +x_0=500000 +ellps=intl", CONVERSION),
    "hotine-a": Written("+proj=omerc +no_uoff +lat_0=4 +lonc=102.25 +alpha=323.0257905 +gamma=323.1301023611111 "
                        "+k=0.99984 +x_0=804671 +y_0=0 +ellps=GRS80", 3),
    "hotine-b": Written("+proj=omerc +lat_0=4 +lonc=115 +alpha=53.31582047222222 +gamma=53.13010236111111 "
                        "+k=0.99984 +x_0=590476.87 +y_0=442857.65 +ellps=evrstSS", 9815),
    "hotine-a-epsg-3376": Written(_altered(3376), 3),
    "laborde-in-grads": Written(_altered(29702), 9815),  # GDAL writes Laborde as Hotine B, its azimuth in degrees
    "mercator-1sp": Written("+proj=merc +lon_0=100 +k=0.997 +x_0=3900000 +y_0=900000 +ellps=bessel", 7),
    "mercator-2sp": Written("+proj=merc +lat_ts=41 +lon_0=51 +ellps=krass", 7),
    "lcc-2sp": Written("+proj=lcc +lat_1=33 +lat_2=45 +lat_0=39 +lon_0=-96 +x_0=1000 +y_0=2000 +datum=NAD83", 8),
    "lcc-1sp-paris": Written(_altered(27572), 9),
    "laea": Written("+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80", 10),
    "laea-north-pole": Written("+proj=laea +lat_0=90 +lon_0=0 +datum=WGS84", 10),
    "laea-south-pole": Written("+proj=laea +lat_0=-90 +lon_0=0 +datum=WGS84", 10),
    "albers": Written("+proj=aea +lat_1=29.5 +lat_2=45.5 +lat_0=23 +lon_0=-96 +ellps=GRS80", 11),
    "azimuthal-equidistant": Written("+proj=aeqd +lat_0=40 +lon_0=-100 +datum=WGS84", 12),
    "equidistant-conic": Written("+proj=eqdc +lat_0=40 +lon_0=-96 +lat_1=20 +lat_2=60 +datum=NAD83", 13),
    "stereographic": Written("+proj=stere +lat_0=30 +lon_0=10 +k=0.9 +x_0=5 +y_0=7 +ellps=WGS84", 14),
    "polar-stereographic-a": Written("+proj=stere +lat_0=90 +lon_0=-45 +k=0.994 +x_0=2000000 +y_0=2000000 "
                                     "+ellps=WGS84", 15),
    "polar-stereographic-b-south": Written("+proj=stere +lat_0=-90 +lat_ts=-71 +lon_0=0 +datum=WGS84", 15),
    "polar-stereographic-b-north": Written("+proj=stere +lat_0=90 +lat_ts=70 +lon_0=-45 +datum=WGS84", 15),
    "oblique-stereographic": Written("+proj=sterea +lat_0=52.15616055555555 +lon_0=5.38763888888889 "
                                     "+k=0.9999079 +x_0=155000 +y_0=463000 +ellps=bessel", 16),
    "equirectangular": Written("+proj=eqc +lat_ts=30 +lat_0=0 +lon_0=20 +datum=WGS84", 17),
    "cassini": Written("+proj=cass +lat_0=10 +lon_0=-61 +x_0=1000 +y_0=2000 +ellps=clrk80", 18),
    "cassini-in-links": Written("+proj=cass +lat_0=10.44166666666667 +lon_0=-61.33333333333334 "
                                "+x_0=86501.46392052001 +y_0=65379.0134283 +a=6378293.645208759 "
                                "+b=6356617.987679838 +to_meter=0.201166195164", 18),
    "gnomonic": Written("+proj=gnom +lat_0=40 +lon_0=-100 +datum=WGS84", 19),
    "miller": Written("+proj=mill +lon_0=10 +datum=WGS84", 20),
    "orthographic": Written("+proj=ortho +lat_0=-20 +lon_0=30 +ellps=WGS84", 21),
    "polyconic": Written("+proj=poly +lat_0=0 +lon_0=-54 +x_0=5000000 +y_0=10000000 +ellps=aust_SA", 22),
    "robinson": Written("+proj=robin +lon_0=0 +datum=WGS84", 23),
    "sinusoidal-modis": Written("+proj=sinu +lon_0=0 +R=6371007.181", 24),
    "van-der-grinten": Written("+proj=vandg +lon_0=0 +R=6371000", 25),
    "new-zealand-map-grid": Written("+proj=nzmg +lat_0=-41 +lon_0=173 +x_0=2510000 +y_0=6023150 +ellps=intl", 26),
    "tm-south-orientated": Written(_altered(22275), 27),
    "cylindrical-equal-area": Written("+proj=cea +lat_ts=30 +lon_0=0 +datum=WGS84", 28),
    # projections the keys cannot express: GDAL writes an ESRI PE string and reads it whole
    "geostationary-goes": Written("+proj=geos +h=35786023 +lon_0=-75 +sweep=x +ellps=GRS80", ESRI_PE),
    "geostationary-meteosat": Written("+proj=geos +h=35785831 +lon_0=0 +ellps=WGS84", ESRI_PE),
    "hotine-two-point": Written("+proj=omerc +lat_0=45 +lat_1=40 +lon_1=-100 +lat_2=50 +lon_2=-90 +ellps=WGS84",
                                ESRI_PE),
    "mollweide": Written("+proj=moll +lon_0=0 +datum=WGS84", ESRI_PE),
    "eckert-iv": Written("+proj=eck4 +lon_0=0 +datum=WGS84", ESRI_PE),
    "eckert-vi": Written("+proj=eck6 +lon_0=0 +datum=WGS84", ESRI_PE),
    "interrupted-goode": Written("+proj=igh +datum=WGS84", ESRI_PE),
    "wagner-i": Written("+proj=wag1", ESRI_PE),
    "bonne": Written("ESRI:54024", ESRI_PE),
    "goode-land": Written("ESRI:54052", ESRI_PE),
    "two-point-equidistant": Written("ESRI:54031", ESRI_PE),
    # GEOTIFF_KEYS_FLAVOR=ESRI_PE: GTModelTypeGeoKey 32767, the EPSG code and an ESRI PE string
    "esri-flavor-albers-conus": Written("EPSG:5070", EPSG, ESRI_FLAVOR),
    "esri-flavor-utm": Written("EPSG:32633", EPSG, ESRI_FLAVOR),
    "esri-flavor-laea-europe": Written("EPSG:3035", EPSG, ESRI_FLAVOR),
    "esri-flavor-wgs84": Written("EPSG:4326", ESRI_PE, ESRI_FLAVOR),
    "esri-flavor-mollweide": Written("ESRI:54009", ESRI_PE, ESRI_FLAVOR),
    "esri-flavor-geostationary": Written("+proj=geos +h=35786023 +lon_0=-75 +sweep=x +ellps=GRS80", ESRI_PE,
                                         ESRI_FLAVOR),
    "esri-flavor-cassini": Written("+proj=cass +lat_0=10 +lon_0=-61 +x_0=1000 +ellps=clrk80", 18, ESRI_FLAVOR),
    # unit overrides GDAL writes: ProjLinearUnitsGeoKey beside an EPSG code, a user-defined angular unit
    "utm-in-kilometres": Written(pyproj.CRS.from_epsg(32633).to_wkt("WKT1_GDAL").replace(
        'UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting"',
        'UNIT["kilometre",1000,AUTHORITY["EPSG","9036"]],AXIS["Easting"'), EPSG),
    "wgs84-in-grads": Written(pyproj.CRS.from_epsg(4326).to_wkt("WKT1_GDAL").replace(
        'UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]]',
        'UNIT["grad",0.015707963267949,AUTHORITY["EPSG","9105"]]'), GEOGRAPHIC),
    "wgs84-in-mils": Written(pyproj.CRS.from_epsg(4326).to_wkt("WKT1_GDAL").replace(
        'UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]]',
        'UNIT["mil",0.000159154943091895]'), GEOGRAPHIC),
    # other bodies: their zero meridian is a "Reference Meridian", not Greenwich
    "mars": Written("IAU_2015:49900", GEOGRAPHIC),
    "moon": Written("IAU_2015:30100", GEOGRAPHIC),
    "mars-esri-wkt": Written(MARS_ESRI, GEOGRAPHIC),
    "mars-equirectangular": Written("IAU_2015:49910", 17),
    "mars-lcc": Written("IAU_2015:49975", 8),
}

#: Where GDAL's reading is wrong and we follow PROJ's: GDAL writes an east/north Krovak as ESRI's
#: (X_Scale -1, XY_Plane_Rotation 90) and reads it back as Krovak 9819 with east/north axes, which
#: puts (14.4E, 50.1N) at (1041500, 744215) instead of (-744215, -1041500); PROJ reads Krovak (North
#: Orientated), where the file's own coordinates are.
KNOWN_DIFFERENCES = {
    "krovak-esri": pytest.param(
        Written("+proj=krovak +lat_0=49.5 +lon_0=24.83333333333333 +alpha=30.28813972222222 +k=0.9999 "
                "+ellps=bessel", ESRI_PE),
        marks=pytest.mark.xfail(strict=True, reason="GDAL reads ESRI's Krovak as Krovak 9819 with east/north "
                                "axes (mirrored, swapped coordinates); we read Krovak (North Orientated), as PROJ"),
        id="krovak-esri",
    ),
}

TRANSFORM = Affine(1000.0, 0.0, 10_000.0, 0.0, -1000.0, 20_000.0)


def write(path: Path, written: Written) -> Path:
    data = (np.arange(5 * 7) % 200).reshape(1, 5, 7).astype("uint8")
    with rasterio.open(path, "w", driver="GTiff", width=7, height=5, count=1, dtype="uint8",
                       crs=CRS.from_user_input(written.crs), transform=TRANSFORM, **written.options) as dst:
        dst.write(data)
    return path


def storage(path: Path, registry) -> int | str:
    """How the file stores its CRS, in the matrix's terms."""
    keys = parse_geokeys(sync(read_tiff(ObjectReader(file_url(path), registry))).ifds[0])
    citation = keys.text(GeoKey.PCSCitationGeoKey) or ""
    if keys.code(GeoKey.ProjCoordTransGeoKey) is not None:
        return keys.code(GeoKey.ProjCoordTransGeoKey)
    if keys.code(GeoKey.ProjectionGeoKey) not in (None, 32767):
        return CONVERSION
    if keys.code(GeoKey.ProjectedCSTypeGeoKey) not in (None, 32767):
        return EPSG
    if citation.startswith("ESRI PE String = "):
        return ESRI_PE
    assert keys.code(GeoKey.GeographicTypeGeoKey) == 32767
    return GEOGRAPHIC


def assert_like_rasterio(path: Path, registry) -> None:
    """CRS, transform and x/y of the opened store are rasterio's and rioxarray's."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnknownCRSWarning)
        ds = open_virtual(file_url(path), registry)
    da = ds["0"]
    with rasterio.open(path) as src:
        theirs = pyproj.CRS(src.crs.to_wkt(version="WKT2_2019"))  # WKT1 would lose what WKT2 keeps
        ours = pyproj.CRS(ds["spatial_ref"].attrs["crs_wkt"])
        assert ours.equals(theirs), f"{ours.to_wkt()}\n!=\n{theirs.to_wkt()}"
        assert pyproj.CRS.from_json_dict(ds.attrs["proj:projjson"]).equals(theirs)  # GeoZarr readers' CRS
        assert da.rio.crs == src.crs
        assert pyproj.CRS(da.rio.crs.to_wkt()).equals(theirs)
        assert da.rio.transform().almost_equals(src.transform)
    with rioxarray.open_rasterio(path) as reference:
        np.testing.assert_array_equal(da.x.values, reference.x.values)
        np.testing.assert_array_equal(da.y.values, reference.y.values)


@pytest.mark.parametrize("written", [pytest.param(w, id=n) for n, w in WRITTEN.items()] + list(KNOWN_DIFFERENCES.values()))
def test_crs_as_gdal_writes_it(written: Written, tmp_path: Path, registry) -> None:
    path = write(tmp_path / "crs.tif", written)
    assert storage(path, registry) == written.stored
    assert_like_rasterio(path, registry)


def test_every_coordinate_transformation_gdal_writes_is_covered() -> None:
    codes = {w.stored for w in WRITTEN.values() if isinstance(w.stored, int)}
    assert codes == {1, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 9815}


def test_a_unit_override_is_no_longer_the_epsg_code(tmp_path: Path, registry) -> None:
    """UTM 33N in kilometres is not EPSG:32633: proj:code must not say it is."""
    path = write(tmp_path / "km.tif", WRITTEN["utm-in-kilometres"])
    ds = open_virtual(file_url(path), registry)
    crs = pyproj.CRS(ds["spatial_ref"].attrs["crs_wkt"])
    assert crs.axis_info[0].unit_name == "kilometre" and crs.to_epsg(min_confidence=100) is None
    assert "proj:code" not in ds.attrs


# GeoKeys exactly as given: GDAL reads these, but writes none of them.
NAD83, WGS84_UTM33 = 5070, 32633
KEYS = {
    "epsg-utm-in-feet": {1024: 1, 3072: WGS84_UTM33, 3076: 9002},
    "epsg-utm-in-kilometres": {1024: 1, 3072: WGS84_UTM33, 3076: 9036},
    "epsg-ftus-in-metres": {1024: 1, 3072: 2263, 3076: 9001},
    "epsg-utm-in-a-user-unit": {1024: 1, 3072: WGS84_UTM33, 3076: 32767, 3077: 2.5},
    "epsg-utm-angular-unit-ignored": {1024: 1, 3072: WGS84_UTM33, 2054: 9105},
    "epsg-wgs84-in-mils-ignored": {1024: 2, 2048: 4326, 2054: 9114},
    "user-defined-model-with-projected-code": {1024: 32767, 3072: NAD83},
    "laborde-keys": {1024: 1, 2048: 4810, 3072: 32767, 3074: 32767, 3075: 4, 3076: 9001, 3082: 400000.0,
                     3083: 800000.0, 3088: 49.0, 3089: -21.0, 3093: 0.9995, 3094: 18.9},
}


@pytest.mark.parametrize("name", KEYS)
def test_geokeys_gdal_reads(name: str, tmp_path: Path, registry) -> None:
    assert_like_rasterio(write_geokeys(tmp_path / f"{name}.tif", KEYS[name]), registry)


UNKNOWN = {
    "model-type-7": {1024: 7, 3072: WGS84_UTM33},
    "alaska-conformal": {1024: 1, 2048: 4326, 3072: 32767, 3075: 2},
    "swiss-oblique-cylindrical": {1024: 1, 2048: 4326, 3072: 32767, 3075: 5},
    "unparseable-esri-pe-string": {1024: 32767, 3073: "ESRI PE String = PROJCS[nonsense"},
    # GDAL reads an ESRI PE string from PCSCitationGeoKey only
    "esri-pe-string-in-gt-citation": {1024: 32767, 1026: "ESRI PE String = " + pyproj.CRS("ESRI:54009").to_wkt("WKT1_ESRI")},
}


@pytest.mark.parametrize("name", UNKNOWN)
def test_an_unknown_crs_keeps_the_transform(name: str, tmp_path: Path, registry) -> None:
    """GDAL reads these as a local CRS: we warn, store no CRS, and keep the transform and x/y."""
    path = write_geokeys(tmp_path / f"{name}.tif", UNKNOWN[name])
    with pytest.warns(UnknownCRSWarning, match="read without a CRS"):
        ds = open_virtual(file_url(path), registry)
    da = ds["0"]
    assert "crs_wkt" not in ds["spatial_ref"].attrs and da.rio.crs is None
    with rasterio.open(path) as src:
        assert src.crs is None or not (src.crs.is_geographic or src.crs.is_projected)
        assert da.rio.transform().almost_equals(src.transform)
    with rioxarray.open_rasterio(path) as reference:
        np.testing.assert_array_equal(da.x.values, reference.x.values)
        np.testing.assert_array_equal(da.y.values, reference.y.values)
    np.testing.assert_array_equal(da.values, reference.values[0])


def test_a_cube_of_files_without_a_crs_clips_in_their_own_coordinates(tmp_path: Path, registry) -> None:
    """Their grid holds: bbox= in x/y works; bbox_crs= has no CRS to transform into and says so."""
    from virtual_tiff import VirtualTIFFError, open_mfdataset

    urls = [file_url(write_geokeys(tmp_path / f"{t}.tif", UNKNOWN["alaska-conformal"], shape=(6, 8)))
            for t in range(2)]
    with pytest.warns(UnknownCRSWarning):
        cube = open_mfdataset(urls, registry, combine="nested", concat_dim="time", bbox=(10_000, 16_000, 14_000, 20_000))
        assert cube["0"].shape == (2, 4, 4)
        with pytest.raises(VirtualTIFFError, match="bbox_crs= needs files with a CRS"):
            open_mfdataset(urls, registry, combine="nested", concat_dim="time", bbox=(0, 0, 1, 1), bbox_crs=4326)
