"""Georeferencing against what GDAL, through rasterio and rioxarray, reports.

Two levels. :mod:`virtual_tiff.geo` alone: every file is written here by GDAL with deterministic
pixels; for each, the CRS, transform, bounds, pixel-centre coordinates, GDAL metadata and the
attributes we would store are compared with GDAL's own reading of it, and hand-made IFDs
(no file) carry the GeoKey directories and GDAL tags GDAL never writes. Then the opened
datasets: GeoTIFFs open as georeferenced xarray data, and what rioxarray and rasterio see
matches, level by level.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import pytest
import rasterio
import rasterio.shutil
import rioxarray
import xarray as xr
from rasterio.crs import CRS
from rasterio.transform import Affine, from_origin
from rasterio.windows import Window
from zarr.core.sync import sync

from tests.helpers.samples import sample_data
from tests.helpers.virtual import file_url, open_virtual
from virtual_tiff import VirtualTIFF
from virtual_tiff.errors import MalformedTIFFError, UnknownCRSWarning
from virtual_tiff.geo import (
    Georeference,
    Level,
    georeference,
    merge_attrs,
    multiscales_attrs,
    parse_gdal_metadata,
    parse_geokeys,
    parse_nodata,
)
from virtual_tiff.io import ObjectReader
from virtual_tiff.tiff import IFD, Tag, read_tiff

pytestmark = [
    # rioxarray 0.23 and affine 3 disagree on `*` vs `@`; rioxarray warns about per-band scales.
    pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"),
    pytest.mark.filterwarnings("ignore:(Scales|Offsets) differ across bands:UserWarning"),
]

# --------------------------------------------------------------------------- virtual_tiff.geo against GDAL

UTM = Affine(30.0, 0.0, 500_000.0, 0.0, -30.0, 4_000_020.0)


@dataclass(frozen=True)
class Case:
    """One GeoTIFF to write: its CRS (anything rasterio accepts), transform and extras."""

    crs: str
    transform: Affine = UTM
    tags: dict[str, str] = field(default_factory=dict)
    dtype: str = "float32"
    count: int = 1
    nodata: float | None = None
    scales: tuple[float, ...] | None = None
    offsets: tuple[float, ...] | None = None
    descriptions: tuple[str, ...] | None = None
    units: tuple[str, ...] | None = None
    env: dict[str, Any] = field(default_factory=dict)


CASES = {
    "epsg-projected": Case(
        "EPSG:32633",
        count=2,
        nodata=-9999.0,
        scales=(0.5, 2.0),
        offsets=(10.0, -1.0),
        descriptions=("red", "nir"),
        units=("K", "W m-2"),
    ),
    "epsg-geographic": Case("EPSG:4326", Affine(0.25, 0.0, 10.0, 0.0, -0.25, 50.0), nodata=float("nan")),
    "pixel-is-point": Case("EPSG:4326", Affine(0.1, 0.0, 10.0, 0.0, -0.1, 50.0), tags={"AREA_OR_POINT": "Point"}),
    "pixel-is-point-projected": Case("EPSG:32633", tags={"AREA_OR_POINT": "Point"}, dtype="uint16", nodata=0),
    "rotated": Case("EPSG:32633", Affine(30.0, 5.0, 500_000.0, -4.0, -30.0, 4_000_020.0)),
    "rotated-point": Case(
        "EPSG:32633", Affine(30.0, 5.0, 500_000.0, -4.0, -30.0, 4_000_020.0), tags={"AREA_OR_POINT": "Point"}
    ),
    "south-up": Case("EPSG:32633", Affine(30.0, 0.0, 500_000.0, 0.0, 30.0, 4_000_000.0)),
    "user-lcc-2sp": Case("+proj=lcc +lat_1=33 +lat_2=45 +lat_0=39 +lon_0=-96 +x_0=1000 +y_0=2000 +datum=NAD83"),
    "user-lcc-1sp": Case("+proj=lcc +lat_1=45 +lat_0=45 +lon_0=10 +k_0=0.9998 +x_0=600000 +y_0=200000 +ellps=GRS80"),
    "user-albers": Case("+proj=aea +lat_1=29.5 +lat_2=45.5 +lat_0=23 +lon_0=-96 +x_0=0 +y_0=0 +ellps=GRS80"),
    "user-tmerc-towgs84-feet": Case(
        "+proj=tmerc +lat_0=0 +lon_0=15 +k=0.9996 +x_0=500000 +y_0=0 +ellps=intl "
        "+towgs84=-87,-98,-121,0,0,0,0 +units=us-ft"
    ),
    "user-polar-stereographic-a": Case(
        "+proj=stere +lat_0=90 +lon_0=-45 +k=0.994 +x_0=2000000 +y_0=2000000 +ellps=WGS84"
    ),
    "user-polar-stereographic-b": Case("+proj=stere +lat_0=-90 +lat_ts=-71 +lon_0=0 +x_0=0 +y_0=0 +datum=WGS84"),
    "user-mercator-1sp": Case("+proj=merc +lon_0=100 +k=0.997 +x_0=3900000 +y_0=900000 +ellps=bessel"),
    "user-mercator-2sp": Case("+proj=merc +lat_ts=41 +lon_0=51 +x_0=0 +y_0=0 +ellps=krass"),
    "user-laea": Case("+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80"),
    "user-equirectangular": Case("+proj=eqc +lat_ts=30 +lat_0=0 +lon_0=20 +x_0=0 +y_0=0 +datum=WGS84"),
    "user-geographic": Case("+proj=longlat +ellps=bessel +pm=ferro", Affine(0.25, 0.0, 10.0, 0.0, -0.25, 50.0)),
    "compound-vertical": Case("EPSG:32633+5773", env={"GTIFF_REPORT_COMPD_CS": True}),
}


def write_case(path: Path, case: Case) -> None:
    height, width = 5, 7
    data = (np.arange(case.count * height * width) % 200).reshape(case.count, height, width).astype(case.dtype)
    profile = dict(
        driver="GTiff",
        width=width,
        height=height,
        count=case.count,
        dtype=case.dtype,
        crs=CRS.from_user_input(case.crs),
        transform=case.transform,
        nodata=case.nodata,
    )
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        if case.tags:
            dst.update_tags(**case.tags)
        if case.scales:
            dst.scales = case.scales
        if case.offsets:
            dst.offsets = case.offsets
        for i, text in enumerate(case.descriptions or (), start=1):
            dst.set_band_description(i, text)
        for i, text in enumerate(case.units or (), start=1):
            dst.set_band_unit(i, text)


def read_ifds(path: Path, registry) -> tuple[IFD, ...]:
    return sync(read_tiff(ObjectReader(file_url(path), registry))).ifds


def assert_transform(ours, theirs: Affine) -> None:
    assert ours is not None
    np.testing.assert_allclose(ours.coefficients, tuple(theirs)[:6], rtol=1e-9, atol=1e-9 * max(map(abs, theirs[:6])))


@pytest.mark.parametrize("name", CASES)
def test_georeference_matches_gdal(name: str, tmp_path: Path, registry) -> None:
    case = CASES[name]
    path = tmp_path / f"{name}.tif"
    write_case(path, case)
    geo = georeference(read_ifds(path, registry)[0])
    assert geo is not None

    with rasterio.Env(**case.env), rasterio.open(path) as src:
        theirs = pyproj.CRS(src.crs.to_wkt())
        assert geo.crs is not None and theirs.equals(geo.crs), f"{geo.crs.to_wkt()}\n!=\n{theirs.to_wkt()}"
        assert_transform(geo.transform, src.transform)
        assert geo.shape == (src.height, src.width)
        if geo.transform.is_rectilinear:
            # rasterio's "bottom" is above its "top" for south-up grids; ours are min/max.
            left, bottom, right, top = src.bounds
            expected = (min(left, right), min(bottom, top), max(left, right), max(bottom, top))
            np.testing.assert_allclose(geo.bounds, expected, rtol=1e-12)
        expected_point = case.tags.get("AREA_OR_POINT") == "Point"
        assert (geo.raster_type == 2) == expected_point == (src.tags().get("AREA_OR_POINT") == "Point")

    assert_coords(geo, path)
    assert_cf_attrs(geo)
    assert_geozarr_attrs(geo)


def assert_coords(geo: Georeference, path: Path) -> None:
    """Pixel centres equal rioxarray's, bit for bit; rotated grids have no 1-D coordinates."""
    coords = geo.coords()
    with rioxarray.open_rasterio(path) as da:
        if not geo.transform.is_rectilinear:
            assert coords is None
            assert_transform(geo.transform, da.rio.transform())
            return
        assert coords is not None
        x, y = coords
        assert x.dtype == y.dtype == np.float64
        np.testing.assert_array_equal(x, da.x.values)
        np.testing.assert_array_equal(y, da.y.values)


def assert_cf_attrs(geo: Georeference) -> None:
    """rioxarray finds the CRS and transform from a scalar spatial_ref carrying our CF attributes."""
    attrs = geo.cf_attrs()
    assert pyproj.CRS.from_cf(attrs).equals(geo.crs) or pyproj.CRS(attrs["crs_wkt"]).equals(geo.crs)
    assert attrs["spatial_ref"] == attrs["crs_wkt"]
    assert [float(v) for v in attrs["GeoTransform"].split()] == list(geo.transform.gdal)
    da = xr.DataArray(
        np.zeros(geo.shape),
        dims=("y", "x"),
        coords={"spatial_ref": xr.Variable((), 0, attrs)},
        attrs={"grid_mapping": "spatial_ref"},
    )
    assert pyproj.CRS(da.rio.crs.to_wkt()).equals(geo.crs)
    assert_transform(geo.transform, da.rio.transform())


def assert_geozarr_attrs(geo: Georeference) -> None:
    """The spatial:/proj: attributes are complete, registered by uuid, and rioxarray reads them back."""
    attrs = geo.geozarr_attrs()
    uuids = {c["uuid"] for c in attrs["zarr_conventions"]}
    assert uuids == {"689b58e2-cf7b-45e0-9fff-9cfc0883d6b4", "f17cb550-5864-4468-aeb7-f3180cfb622f"}
    assert attrs["spatial:dimensions"] == ["y", "x"]
    assert attrs["spatial:shape"] == list(geo.shape)
    assert attrs["spatial:transform"] == list(geo.transform.coefficients)
    assert attrs["spatial:registration"] == "pixel"
    assert attrs["spatial:bbox"] == list(geo.bounds)
    assert pyproj.CRS(attrs["proj:wkt2"]).equals(geo.crs)
    assert pyproj.CRS.from_json_dict(attrs["proj:projjson"]).equals(geo.crs)
    epsg = geo.crs.to_epsg(min_confidence=100)
    if epsg is not None:
        assert attrs["proj:code"] == f"EPSG:{epsg}"
    da = xr.DataArray(np.zeros(geo.shape), dims=("y", "x"), attrs=attrs)
    assert pyproj.CRS(da.rio.crs.to_wkt()).equals(geo.crs)
    assert tuple(da.rio.transform())[:6] == geo.transform.coefficients


def test_epsg_code_is_kept(tmp_path: Path, registry) -> None:
    path = tmp_path / "utm.tif"
    write_case(path, CASES["epsg-projected"])
    geo = georeference(read_ifds(path, registry)[0])
    assert geo.crs.is_exact_same(pyproj.CRS.from_epsg(32633))
    assert geo.geozarr_attrs()["proj:code"] == "EPSG:32633"
    assert geo.cf_attrs()["grid_mapping_name"] == "transverse_mercator"


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.nodata is not None or c.scales or c.descriptions])
def test_gdal_metadata_matches_rasterio(name: str, tmp_path: Path, registry) -> None:
    case = CASES[name]
    path = tmp_path / f"{name}.tif"
    write_case(path, case)
    ifd = read_ifds(path, registry)[0]
    metadata = parse_gdal_metadata(ifd)
    nodata = parse_nodata(ifd)
    with rasterio.open(path) as src:
        if src.nodata is None:
            assert nodata is None
        elif math.isnan(src.nodata):
            assert math.isnan(nodata)
        else:
            assert nodata == src.nodata
        bands = [metadata.bands.get(i) if metadata else None for i in range(src.count)]
        assert tuple(b.scale if b and b.scale is not None else 1.0 for b in bands) == src.scales
        assert tuple(b.offset if b and b.offset is not None else 0.0 for b in bands) == src.offsets
        assert tuple(b.description if b else None for b in bands) == src.descriptions
        assert tuple(b.units if b else None for b in bands) == tuple(u or None for u in src.units)


def test_dataset_items_and_domains(tmp_path: Path, registry) -> None:
    path = tmp_path / "items.tif"
    write_case(path, CASES["epsg-projected"])
    with rasterio.open(path, "r+") as dst:
        dst.update_tags(MISSION="test", CYCLE="7")
        dst.update_tags(ns="EXTRA", KEY="value")
        dst.update_tags(1, BAND_ITEM="b1")
    metadata = parse_gdal_metadata(read_ifds(path, registry)[0])
    assert metadata.dataset.items == {"MISSION": "test", "CYCLE": "7"}
    assert metadata.dataset.domains == {"EXTRA": {"KEY": "value"}}
    assert metadata.bands[0].items == {"BAND_ITEM": "b1"}
    assert metadata.bands[0].description == "red"


@pytest.mark.parametrize("driver", ["GTiff", "COG"])
def test_overviews_match_gdal_overview_levels(driver: str, tmp_path: Path, registry) -> None:
    """Overview IFDs carry no GeoKeys: level 0 scaled by the size ratio is what GDAL reports."""
    height, width = 75, 101  # odd sizes: the ratios are not exactly 2, 4, 8
    transform = Affine(30.0, 0.0, 500_000.0, 0.0, -30.0, 4_000_020.0)
    src_path = tmp_path / "base.tif"
    profile = dict(driver="GTiff", width=width, height=height, count=1, dtype="uint8", crs="EPSG:32633",
                   transform=transform, tiled=True, blockxsize=16, blockysize=16)
    with rasterio.open(src_path, "w", **profile) as dst:
        dst.write((np.arange(height * width) % 251).reshape(1, height, width).astype("uint8"))
        if driver == "GTiff":
            dst.build_overviews([2, 4, 8])
    path = src_path
    if driver == "COG":
        path = tmp_path / "cog.tif"
        rasterio.shutil.copy(src_path, path, driver="COG", blocksize=16, overview_resampling="nearest")

    ifds = read_ifds(path, registry)
    base = georeference(ifds[0])
    overviews = [ifd for ifd in ifds[1:] if ifd.new_subfile_type & 1 and Tag.GeoKeyDirectoryTag not in ifd.tags]
    assert len(overviews) >= 2
    levels = [Level("0", base.shape, base.transform)]
    for i, ifd in enumerate(overviews):
        assert georeference(ifd) is None
        geo = base.overview((ifd.height, ifd.width))
        with rasterio.open(path, overview_level=i) as src:
            assert geo.shape == (src.height, src.width)
            assert_transform(geo.transform, src.transform)
            assert pyproj.CRS(src.crs.to_wkt()).equals(geo.crs)
            np.testing.assert_allclose(geo.bounds, tuple(src.bounds), rtol=1e-12)
        levels.append(Level(str(i + 1), geo.shape, geo.transform))

    attrs = multiscales_attrs(levels)
    assert {c["uuid"] for c in attrs["zarr_conventions"]} >= {"d35379db-88df-4056-af3a-620245f8e347"}
    layout = attrs["multiscales"]["layout"]
    assert [entry["asset"] for entry in layout] == [level.asset for level in levels]
    assert "derived_from" not in layout[0]
    for previous, entry, level in zip(layout, layout[1:], levels[1:], strict=False):
        assert entry["derived_from"] == previous["asset"]
        scale = entry["transform"]["scale"]
        assert scale == [previous["spatial:shape"][0] / level.shape[0], previous["spatial:shape"][1] / level.shape[1]]
        assert entry["transform"]["translation"] == [0.0, 0.0]
        assert entry["spatial:transform"] == list(level.transform.coefficients)

    # On one group, the level-0 spatial:/proj: attributes and multiscales register each convention once.
    group = merge_attrs(base.geozarr_attrs(), attrs)
    assert sorted(c["uuid"] for c in group["zarr_conventions"]) == sorted(
        ["689b58e2-cf7b-45e0-9fff-9cfc0883d6b4", "f17cb550-5864-4468-aeb7-f3180cfb622f", "d35379db-88df-4056-af3a-620245f8e347"]
    )
    assert group["proj:code"] == "EPSG:32633" and "multiscales" in group


def test_plain_tiff_has_no_georeference(tmp_path: Path, registry) -> None:
    import tifffile

    path = tmp_path / "plain.tif"
    tifffile.imwrite(path, np.zeros((4, 5), dtype="uint8"))
    ifd = read_ifds(path, registry)[0]
    assert georeference(ifd) is None
    assert parse_geokeys(ifd) is None
    assert parse_gdal_metadata(ifd) is None and parse_nodata(ifd) is None


# --------------------------------------------------------------------------- hand-made IFDs: what GDAL never writes


def fake_ifd(**tags: Any) -> IFD:
    values = {Tag.ImageWidth: np.array([7], "u4"), Tag.ImageLength: np.array([5], "u4")}
    values.update({Tag[k]: v for k, v in tags.items()})
    return IFD(url="file:///fake.tif", path=(0,), offset=8, byteorder="<", tags=values)


def test_geokey_values_from_each_location() -> None:
    """Inline SHORTs, SHORT arrays in the directory itself, DOUBLEs and '|'-terminated ASCII."""
    directory = [1, 1, 0, 4, 1024, 0, 1, 1, 1026, 34737, 6, 0, 3082, 34736, 1, 1, 4000, 34735, 2, 20, 7, 9]
    ifd = fake_ifd(
        GeoKeyDirectoryTag=np.array(directory, "u2"),
        GeoDoubleParamsTag=np.array([0.0, 500_000.0]),
        GeoAsciiParamsTag="hello|",
    )
    keys = parse_geokeys(ifd)
    assert dict(keys.values) == {1024: 1, 1026: "hello", 3082: 500_000.0, 4000: (7, 9)}


SCALE = np.array([30.0, 30.0, 0.0])
TIEPOINT = np.array([0.0, 0.0, 0.0, 500_000.0, 4_000_020.0, 0.0])


@pytest.mark.parametrize(
    ("directory", "extra", "message"),
    [
        ([1, 1, 0], {}, "shorter than its header"),
        ([2, 1, 0, 1, 1024, 0, 1, 1], {}, "KeyDirectoryVersion 2"),
        ([1, 1, 0, 3, 1024, 0, 1, 1], {}, "NumberOfKeys 3"),
        ([1, 1, 0, 60000] + [0] * 8, {}, "NumberOfKeys 60000"),
        ([1, 1, 0, 1, 3082, 34736, 2, 0], {"GeoDoubleParamsTag": np.array([1.0])}, "GeoDoubleParamsTag, which has 1"),
        ([1, 1, 0, 1, 3082, 34736, 1, 0], {}, "GeoDoubleParamsTag, which has 0"),
        ([1, 1, 0, 1, 1026, 34737, 50, 0], {"GeoAsciiParamsTag": "short|"}, "GeoAsciiParamsTag, which has 6"),
        ([1, 1, 0, 1, 1026, 999, 1, 0], {}, "unknown tag 999"),
        ([1, 1, 0, 2, 1024, 0, 1, 1, 1024, 0, 1, 2], {}, "appears twice"),
    ],
)
def test_malformed_geokey_directory(directory, extra, message) -> None:
    ifd = fake_ifd(GeoKeyDirectoryTag=np.array(directory, "u2"), **extra)
    with pytest.raises(MalformedTIFFError, match=message) as info:
        georeference(ifd)
    assert info.value.tag == "GeoKeyDirectoryTag (34735)"
    assert info.value.url == "file:///fake.tif"


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ([1024, 0, 1, 1, 3072, 0, 1, 32767, 3075, 0, 1, 2], r"unsupported ProjCoordTransGeoKey \(2\)"),
        ([1024, 0, 1, 1, 3072, 0, 1, 1], "ProjectedCSTypeGeoKey 1 is not a known EPSG code"),
        ([1024, 0, 1, 7], "GTModelTypeGeoKey 7"),
    ],
)
def test_unsupported_crs_keeps_the_transform(keys, message) -> None:
    directory = np.array([1, 1, 0, len(keys) // 4, *keys], "u2")
    ifd = fake_ifd(GeoKeyDirectoryTag=directory, ModelPixelScaleTag=SCALE, ModelTiepointTag=TIEPOINT)
    with pytest.warns(UnknownCRSWarning, match=message):
        geo = georeference(ifd)
    assert geo.crs is None
    assert geo.transform.coefficients == (30.0, 0.0, 500_000.0, 0.0, -30.0, 4_000_020.0)
    assert geo.coords() is not None


def test_citation_fallback_for_unsupported_projection() -> None:
    """GDAL stores an ESRI PE string or CRS name in the citation; it rescues keys we cannot rebuild."""
    citation = "WGS 84 / UTM zone 33N|"
    keys = [1024, 0, 1, 1, 1026, 34737, len(citation), 0, 3072, 0, 1, 32767, 3075, 0, 1, 5]
    directory = np.array([1, 1, 0, 4, *keys], "u2")
    ifd = fake_ifd(GeoKeyDirectoryTag=directory, GeoAsciiParamsTag=citation, ModelPixelScaleTag=SCALE,
                   ModelTiepointTag=TIEPOINT)
    assert georeference(ifd).crs.equals(pyproj.CRS.from_epsg(32633))


def test_ground_control_points_give_no_transform_but_their_points() -> None:
    gcps = np.array([0, 0, 0, 500_000.0, 4_000_020.0, 0, 7, 5, 0, 500_210.0, 3_999_870.0, 0])
    ifd = fake_ifd(GeoKeyDirectoryTag=np.array([1, 1, 0, 1, 3072, 0, 1, 32633], "u2"), ModelTiepointTag=gcps)
    georef = georeference(ifd)
    assert georef.transform is None and georef.coords() is None
    assert georef.gcps == ((0, 0, 0, 500_000.0, 4_000_020.0, 0), (7, 5, 0, 500_210.0, 3_999_870.0, 0))


def test_ground_control_points_read_as_gdal_reports_them(tmp_path, registry) -> None:
    """rioxarray's ``gcps`` attribute on ``spatial_ref``: ``.rio.get_gcps()`` gives rasterio's points."""
    from rasterio.control import GroundControlPoint

    points = [GroundControlPoint(row=r, col=c, x=500_000.0 + 30 * c, y=4_000_000.0 - 30 * r + c, z=0.0)
              for r, c in ((0, 0), (0, 63), (47, 0), (47, 63), (20, 30))]
    path = tmp_path / "gcps.tif"
    with rasterio.open(path, "w", driver="GTiff", width=64, height=48, count=1, dtype="uint8",
                       gcps=points, crs="EPSG:32633") as dst:
        dst.write(np.arange(64 * 48, dtype="uint8").reshape(1, 48, 64))
    with rasterio.open(path) as src:
        expected, crs = src.gcps
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # points, not a failed georeference
        ds = xr.open_zarr(VirtualTIFF(ifd=0)(file_url(path), registry), zarr_format=3, consolidated=False)
    got = ds["0"].rio.get_gcps()
    assert [(g.row, g.col, g.x, g.y) for g in got] == [(g.row, g.col, g.x, g.y) for g in expected]
    assert ds["0"].rio.crs == crs and "GeoTransform" not in ds["spatial_ref"].attrs


def test_malformed_gdal_tags() -> None:
    with pytest.raises(MalformedTIFFError, match="not well-formed XML"):
        parse_gdal_metadata(fake_ifd(GDAL_METADATA="<GDALMetadata><Item"))
    with pytest.raises(MalformedTIFFError, match="not a number"):
        parse_gdal_metadata(
            fake_ifd(GDAL_METADATA='<GDALMetadata><Item name="SCALE" sample="0" role="scale">x</Item></GDALMetadata>')
        )
    with pytest.raises(MalformedTIFFError, match="is not a number") as info:
        parse_nodata(fake_ifd(GDAL_NODATA="none"))
    assert info.value.tag == "GDAL_NODATA (42113)"
    assert parse_nodata(fake_ifd(GDAL_NODATA="-9223372036854775808")) == -9223372036854775808
    assert math.isnan(parse_nodata(fake_ifd(GDAL_NODATA="nan")))

# --------------------------------------------------------------------------- opened as xarray: what rioxarray sees


H, W = 96, 128

GEOTIFFS = {
    "epsg-projected": dict(crs="EPSG:32633", transform=from_origin(500000, 5600000, 30, 30)),
    "geographic": dict(crs="EPSG:4326", transform=from_origin(-10.0, 50.0, 0.01, 0.01)),
    "pixel-is-point": dict(crs="EPSG:32633", transform=from_origin(500000, 5600000, 30, 30),
                           tags={"AREA_OR_POINT": "Point"}),
    "rotated": dict(crs="EPSG:32633", transform=Affine(20.0, 5.0, 500000.0, 5.0, -20.0, 5600000.0)),
    "user-defined-lcc": dict(
        crs="+proj=lcc +lat_1=45 +lat_2=55 +lat_0=50 +lon_0=10 +x_0=0 +y_0=0 +ellps=GRS80 +units=m +no_defs",
        transform=from_origin(-64000, 48000, 1000, 1000)),
}


def write_tiled_geotiff(path, crs, transform, tags=None, **options):
    profile = dict(driver="GTiff", height=H, width=W, count=1, dtype="int16", crs=crs, transform=transform,
                   tiled=True, blockxsize=32, blockysize=32, compress="DEFLATE")
    profile.update(options)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(sample_data("int16", profile["count"], H, W))
        if tags:
            dst.update_tags(**tags)
    return path


@pytest.mark.parametrize("name", GEOTIFFS)
def test_rioxarray_sees_what_rasterio_sees(name, tmp_path, registry):
    path = write_tiled_geotiff(tmp_path / f"{name}.tif", **GEOTIFFS[name])
    da = open_virtual(file_url(path), registry)["0"]
    with rasterio.open(path) as src:
        assert CRS.from_user_input(da.rio.crs) == src.crs
        assert da.rio.transform().almost_equals(src.transform)
        if name != "rotated":  # rasterio and rioxarray disagree on what a rotated grid's bounds are
            np.testing.assert_allclose(da.rio.bounds(), tuple(src.bounds), rtol=1e-12)
        expected = src.read(1)
    np.testing.assert_array_equal(da.values, expected)
    if name == "rotated":
        assert "x" not in da.coords  # a rotated grid has a transform, no 1-D coordinates
    else:
        reference = xr.open_dataarray(path, engine="rasterio").squeeze("band", drop=True)
        np.testing.assert_array_equal(da.x.values, reference.x.values)
        np.testing.assert_array_equal(da.y.values, reference.y.values)


def test_sel_by_coordinates_reads_rasterio_window(tmp_path, registry):
    path = write_tiled_geotiff(tmp_path / "sel.tif", **GEOTIFFS["epsg-projected"])
    da = open_virtual(file_url(path), registry)["0"]
    x0, y0 = 500000 + 30 * 40, 5600000 - 30 * 20
    window = da.sel(x=slice(x0, x0 + 30 * 50 - 1), y=slice(y0, y0 - 30 * 30 + 1))
    with rasterio.open(path) as src:
        np.testing.assert_array_equal(window.values, src.read(1, window=Window(40, 20, 50, 30)))


@pytest.fixture
def cog(tmp_path):
    path = tmp_path / "cog.tif"
    with rasterio.open(path, "w", driver="COG", height=H * 4, width=W * 4, count=1, dtype="uint16",
                       crs="EPSG:32633", transform=from_origin(500000, 5600000, 10, 10), blocksize=128,
                       compress="DEFLATE", predictor=2, overview_count=3, overview_resampling="average",
                       nodata=0) as dst:
        dst.write(sample_data("uint16", 1, H * 4, W * 4) + 1)
    return path


def test_cog_datatree_levels_match_rasterio_overviews(cog, registry):
    store = VirtualTIFF(ifd=None, ifd_layout="nested")(url=file_url(cog), registry=registry)
    tree = xr.open_datatree(store, engine="zarr", zarr_format=3, consolidated=False)
    assert set(tree.children) == {"0", "1", "2", "3"}
    layout = tree.attrs["multiscales"]["layout"]
    assert [entry["asset"] for entry in layout] == ["0", "1", "2", "3"]
    for level in range(4):
        da = tree[str(level)]["data"]
        with rasterio.open(cog, overview_level=None if level == 0 else level - 1) as src:
            assert da.rio.transform().almost_equals(src.transform)
            assert CRS.from_user_input(da.rio.crs) == src.crs
            np.testing.assert_array_equal(da.values, src.read(1))


def test_a_bounding_box_on_a_coarse_level_covers_the_same_area(cog, registry):
    store = VirtualTIFF(ifd=None, ifd_layout="nested")(url=file_url(cog), registry=registry)
    tree = xr.open_datatree(store, engine="zarr", zarr_format=3, consolidated=False)
    box = dict(x=slice(501000, 502600), y=slice(5599000, 5597400))
    fine, coarse = tree["0"]["data"].sel(**box), tree["2"]["data"].sel(**box)
    np.testing.assert_allclose(fine.rio.bounds(), coarse.rio.bounds(), atol=40)


def test_overview_ifd_alone_inherits_crs_and_scaled_transform(cog, registry):
    da = open_virtual(file_url(cog), registry, ifd=2)["2"]
    with rasterio.open(cog, overview_level=1) as src:
        assert da.rio.transform().almost_equals(src.transform)
        assert CRS.from_user_input(da.rio.crs) == src.crs


def test_nodata_and_scale_decode_like_rioxarray(tmp_path, registry):
    path = tmp_path / "scaled.tif"
    data = sample_data("int16", 1, H, W)
    data[0, :10, :10] = -9999
    with rasterio.open(path, "w", driver="GTiff", height=H, width=W, count=1, dtype="int16", nodata=-9999,
                       crs="EPSG:32633", transform=from_origin(500000, 5600000, 30, 30)) as dst:
        dst.write(data)
        dst.scales, dst.offsets = (0.01,), (5.0,)
        dst.descriptions, dst.units = ("temperature",), ("degC",)
    store = VirtualTIFF()(url=file_url(path), registry=registry)
    decoded = xr.open_zarr(store, zarr_format=3, consolidated=False)["0"]
    reference = xr.open_dataarray(path, engine="rasterio", mask_and_scale=True).squeeze("band", drop=True)
    # rioxarray decodes to float32, xarray's CF decoding to float64: equal to float32 precision.
    np.testing.assert_allclose(decoded.values, reference.values, rtol=1e-6, equal_nan=True)
    raw = xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)["0"]
    np.testing.assert_array_equal(raw.values, data[0])
    assert raw.attrs["long_name"] == "temperature" and raw.attrs["units"] == "degC"


def test_sparse_tiles_read_as_nodata_without_a_request(tmp_path, registry):
    path = tmp_path / "sparse.tif"
    data = np.full((1, H, W), -9999, "int16")
    data[0, 40:60, 40:70] = 7
    with rasterio.open(path, "w", driver="GTiff", height=H, width=W, count=1, dtype="int16", nodata=-9999,
                       tiled=True, blockxsize=32, blockysize=32, sparse_ok=True) as dst:
        dst.write(data)
    store = VirtualTIFF()(url=file_url(path), registry=registry)
    raw = xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)["0"]
    assert (np.asarray(store._group["0"].manifest._paths) == "").sum() == 10  # 10 of 12 tiles never written
    with rasterio.open(path) as src:
        np.testing.assert_array_equal(raw.values, src.read(1))


def test_gdal_metadata_items_and_domains_are_attributes(tmp_path, registry):
    path = tmp_path / "tagged.tif"
    with rasterio.open(path, "w", driver="GTiff", height=H, width=W, count=2, dtype="uint8", crs="EPSG:4326",
                       transform=from_origin(0, 10, 0.1, 0.1)) as dst:
        dst.write(sample_data("uint8", 2, H, W))
        dst.update_tags(SENSOR="demo", ACQUIRED="2026-11-25")
        dst.update_tags(ns="PROCESSING", LEVEL="L2A")
        dst.update_tags(2, WAVELENGTH="665")
    da = open_virtual(file_url(path), registry)["0"]
    with rasterio.open(path) as src:
        assert {k: da.attrs["gdal_metadata"]["dataset"][k] for k in ("SENSOR", "ACQUIRED")} == {
            k: src.tags()[k] for k in ("SENSOR", "ACQUIRED")}
        assert da.attrs["gdal_metadata"]["dataset:PROCESSING"] == src.tags(ns="PROCESSING")
        assert da.attrs["gdal_metadata"]["band_2"]["WAVELENGTH"] == src.tags(2)["WAVELENGTH"]
