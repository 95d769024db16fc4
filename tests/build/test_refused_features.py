"""Valid TIFF features no Zarr codec chain decodes: whole files are refused at build, naming the tag.

Rows of the builder (:mod:`tests.helpers.tiffbuilder`, every flavour, ``ifd=0`` and ``ifd=None``)
raise exactly :class:`UnsupportedTIFFError`, naming the file and the tag, within the bounds of any
hostile build; a file GDAL writes with a sample type Zarr has no codec for is refused the same way.
The codec decision table itself is specified without files in :mod:`tests.build.test_chains`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.helpers.builds import expect_error, write
from tests.helpers.samples import HEIGHT, WIDTH, sample_data
from tests.helpers.tiffbuilder import FLAVOURS, SHORT, Field, Flavour, edit, image, strip_fields
from tests.helpers.variants import fill_order_2, gdal_variant
from tests.helpers.virtual import file_url
from virtual_tiff import VirtualTIFF
from virtual_tiff.errors import UnsupportedTIFFError

#: A hang fails the test instead of blocking the suite; builds are timed and their allocations traced.
pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("traced_allocations", "warm_imports")]


def with_fields(*changes: Field) -> Callable[[Flavour], bytes]:
    return lambda f: image(edit(strip_fields(), *changes), f)


#: (id, file maker, text the message must contain besides the URL).
UNSUPPORTED: list[tuple[str, Callable[[Flavour], bytes], tuple[str, ...]]] = [
    ("old-style-jpeg", with_fields(Field(259, SHORT, (6,))), ("Compression", "OJPEG")),
    ("sgilog", with_fields(Field(259, SHORT, (34676,))), ("Compression", "SGILOG")),
    ("unknown-compression", with_fields(Field(259, SHORT, (12345,))), ("Compression", "12345")),
    ("complex-int", with_fields(Field(258, SHORT, (16,)), Field(339, SHORT, (5,))), ("SampleFormat", "COMPLEXINT")),
    ("unknown-sample-format", with_fields(Field(339, SHORT, (7,))), ("SampleFormat",)),
    ("planar-configuration-3", with_fields(Field(284, SHORT, (3,))), ("PlanarConfiguration",)),
    ("fill-order-reversed-webp", with_fields(Field(266, SHORT, (2,)), Field(259, SHORT, (50001,))),
     ("FillOrder", "WEBP")),
    ("fill-order-3", with_fields(Field(266, SHORT, (3,))), ("FillOrder", "unknown FillOrder value 3")),
]


@pytest.mark.parametrize(
    ("make", "names", "flavour", "ifd"),
    [
        pytest.param(make, names, flavour, ifd, id=f"{name}-{flavour.id}-ifd={ifd}")
        for name, make, names in UNSUPPORTED
        for flavour in FLAVOURS
        for ifd in (0, None)
    ],
)
def test_unsupported_feature_is_refused_naming_the_tag(make, names, flavour, ifd, tmp_path, registry):
    error = expect_error(write(tmp_path, make(flavour)), registry, UnsupportedTIFFError, ifd)
    for name in names:
        assert name in str(error)


def _gdal_file(path, dtype, bands, data=None, **options):
    import rasterio

    data = sample_data(dtype, bands) if data is None else data
    with rasterio.open(path, "w", driver="GTiff", height=HEIGHT, width=WIDTH, count=bands, dtype=dtype,
                       **options) as dst:
        dst.write(data)


REFUSED = [
    # libtiff differences CInt16's (real, imaginary) pairs as one 32-bit word, swapped as one in big-endian files.
    pytest.param(lambda p: _gdal_file(p, "complex_int16", 1, compress="DEFLATE", predictor=2), "Predictor",
                 id="complex-int16-predictor-2"),
    # libtiff reverses a FillOrder 2 WebP stream before decoding it, tifffile does not: no oracle to follow.
    pytest.param(lambda p: fill_order_2(gdal_variant("webp", "uint8", 3, compress="WEBP", webp_lossless=True)).write(p),
                 "FillOrder", id="fill-order-2-webp"),
]


@pytest.mark.parametrize("writer, tag", REFUSED)
def test_unsupported_features_raise_named_errors(writer, tag, tmp_path, registry):
    path = tmp_path / "refused.tif"
    writer(path)
    with pytest.raises(UnsupportedTIFFError, match=tag) as info:
        VirtualTIFF(ifd=0)(url=file_url(path), registry=registry)
    assert "refused.tif" in str(info.value) and "IFD 0" in str(info.value)
