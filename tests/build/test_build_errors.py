"""Whatever a header's tags say, the build raises a VirtualTIFFError naming the file, IFD and tag, or builds.

Regression rows of the adversarial run of issue 14: values that made pyproj, int(), float() or a
division raise their own exceptions out of the build (and let one file abort a skipping batch).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr

from tests.helpers.builds import build, expect_error, write
from tests.helpers.tiffbuilder import (
    ASCII,
    DOUBLE,
    FLAVOURS,
    LONG,
    PIXELS,
    SHORT,
    Field,
    build_tiff,
    edit,
    image,
    tile_fields,
)
from tests.helpers.virtual import file_url
from virtual_tiff import MalformedTIFFError, UnknownCRSWarning, VirtualTIFF, open_virtual_mfdataset

pytestmark = pytest.mark.usefixtures("warm_imports", "traced_allocations")

GEOREFERENCED = [Field(33550, DOUBLE, (1.0, 1.0, 0.0)), Field(33922, DOUBLE, (0.0, 0.0, 0.0, 100.0, 200.0, 0.0))]


def geokeys(*keys: tuple[int, int, int, int]) -> Field:
    return Field(34735, SHORT, (1, 1, 0, len(keys)) + tuple(v for key in keys for v in key))


def text(tag: int, value: str) -> Field:
    return Field(tag, ASCII, tuple(value.encode() + b"\0"))


def float32(*changes: Field) -> bytes:
    fields = edit(tile_fields(), Field(258, SHORT, (32,)), Field(339, SHORT, (3,)), Field(325, LONG, (16 * 16 * 4,)),
                  *changes)
    return build_tiff([fields], FLAVOURS[0], data=bytes(16 * 16 * 4))


UTM = geokeys((1024, 0, 1, 1), (1025, 0, 1, 1), (3072, 0, 1, 32633))

#: (file, the IFD whose tag is refused, that tag)
REFUSED = [
    pytest.param(image(edit(tile_fields(), text(42113, "1" * 5000)), FLAVOURS[0]), 0, "GDAL_NODATA",
                 id="nodata-5000-digits"),
    pytest.param(float32(text(42113, "1" + "0" * 400)), 0, "GDAL_NODATA", id="nodata-integer-beyond-any-float"),
    pytest.param(image(edit(tile_fields(), text(42112, '<GDALMetadata><Item name="SCALE" sample="²" role="scale">'
                                                 "2</Item></GDALMetadata>")), FLAVOURS[0]),
                 0, "GDAL_METADATA", id="metadata-sample-superscript-two"),
    pytest.param(build_tiff([edit(tile_fields(), *GEOREFERENCED, UTM),
                             edit(tile_fields(), Field(254, LONG, (1,)), Field(256, LONG, (0,)))],
                            FLAVOURS[0], data=PIXELS), 1, "ImageWidth", id="zero-wide-overview"),
]


@pytest.mark.parametrize("all_ifds", [False, True], ids=["ifd=k", "ifd=None"])
@pytest.mark.parametrize(("content", "ifd", "tag"), REFUSED)
def test_values_no_parser_accepts_are_refused_by_name(content, ifd, tag, all_ifds, tmp_path, registry):
    error = expect_error(write(tmp_path, content), registry, MalformedTIFFError, ifd=None if all_ifds else ifd)
    assert error.ifd == str(ifd) and error.tag is not None and error.tag.startswith(tag)


def test_a_crs_proj_refuses_reads_without_a_crs(tmp_path, registry):
    """NaN GeoDoubleParams: PROJ refuses the ellipsoid; pixels, transform and x/y are still right, with a warning."""
    keys = geokeys((1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 32767), (2057, 34736, 1, 0), (2059, 34736, 1, 1))
    nan = Field(34736, DOUBLE, (float("nan"), float("nan")))
    path = write(tmp_path, image(edit(tile_fields(), *GEOREFERENCED, keys, nan), FLAVOURS[0]))
    with pytest.warns(UnknownCRSWarning, match="PROJ refuses"):
        store = build(path, registry)
    ds = xr.open_zarr(store, zarr_format=3, consolidated=False)
    assert "crs_wkt" not in ds["spatial_ref"].attrs and "GeoTransform" in ds["spatial_ref"].attrs
    assert ds.sizes["x"] == ds["0"].shape[1]
    np.testing.assert_array_equal(ds["0"].values.ravel(), np.frombuffer(PIXELS, dtype="u1"))


@pytest.mark.parametrize("nodata", ["1e300", "-1e39"])
def test_a_nodata_beyond_the_sample_type_is_kept_but_is_no_fill_value(nodata, tmp_path, registry):
    """Cast to float32 it would be infinity: a fill value that masks real infinities."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning from a cast either
        store = build(write(tmp_path, float32(text(42113, nodata))), registry)
    attrs = xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)["0"].attrs
    assert "_FillValue" not in attrs and attrs["nodata"] == float(nodata)


def test_skipping_skips_any_failing_file(tmp_path, registry):
    good = write(tmp_path, image(tile_fields(), FLAVOURS[0]), "good.tif")
    bad = write(tmp_path, image(edit(tile_fields(), text(42113, "1" * 5000)), FLAVOURS[0]), "bad.tif")
    vds = open_virtual_mfdataset([file_url(good), file_url(bad)], registry, concat_dim="t", combine="nested",
                                 on_error="skip")
    assert vds["0"].shape[0] == 1
    assert list(vds.attrs["virtual_tiff"]["failed"]) == [file_url(bad)]


def test_pages_repeating_a_citation_proj_cannot_read_cost_one_lookup(tmp_path, registry):
    """50 pages whose GeogCitation names no CRS: PROJ's quarter-second name search happens once."""
    import time

    keys = geokeys((1024, 0, 1, 2), (1025, 0, 1, 1), (2048, 0, 1, 32767), (2049, 34737, 20, 0))
    page = edit(tile_fields(), *GEOREFERENCED, keys, text(34737, "Zqx no such datum 42|"))
    path = write(tmp_path, build_tiff([page] * 50, FLAVOURS[0], data=PIXELS))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # each page reads without georeferencing, with a warning
        VirtualTIFF(ifd=None)(file_url(path), registry)
    assert time.perf_counter() - start < 5  # was 50 lookups of ~0.3 s
