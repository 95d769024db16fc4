"""Our codecs resolve by name, as zarr looks codecs up when it reopens stored metadata."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest
import xarray as xr
from zarr.registry import get_codec_class

from tests.helpers.samples import HEIGHT, WIDTH, sample_data
from tests.helpers.virtual import file_url
from virtual_tiff import VirtualTIFF
from virtual_tiff.codecs import (
    BITORDER,
    COMPLEX_INT,
    MASKED_LERC,
    REINTERPRET,
    SHORT_STRIP,
    YCBCR,
    ZERO_PAD,
    Bitorder,
    ComplexInt,
    MaskedLerc,
    Reinterpret,
    ShortStrip,
    YCbCr,
    ZeroPad,
)

CODECS = [
    pytest.param(ZERO_PAD, ZeroPad, id="zero_pad"),
    pytest.param(MASKED_LERC, MaskedLerc, id="lerc"),
    pytest.param(SHORT_STRIP, ShortStrip, id="short_strip"),
    pytest.param(COMPLEX_INT, ComplexInt, id="complex_int"),
    pytest.param(REINTERPRET, Reinterpret, id="reinterpret"),
    pytest.param(BITORDER, Bitorder, id="bitorder"),
    pytest.param(YCBCR, YCbCr, id="ycbcr"),
]


@pytest.mark.parametrize(("name", "cls"), CODECS)
def test_zarr_resolves_each_name_to_our_codec(name, cls):
    assert name.startswith("virtual_tiff.")
    assert get_codec_class(name) is cls


@pytest.mark.parametrize(("name", "cls"), CODECS)
def test_each_codec_is_a_zarr_codecs_entry_point(name, cls):
    """Declared in the distribution, so zarr finds them without anyone importing virtual_tiff first."""
    (entry,) = [e for e in entry_points(group="zarr.codecs") if e.name == name]
    assert entry.load() is cls


def test_partial_strip_store_reopens_from_the_codec_entry_point(tmp_path, registry):
    """The zero-pad codec resolves by name, as zarr looks codecs up when reopening metadata."""
    import tifffile

    path = tmp_path / "strips.tif"
    tifffile.imwrite(path, sample_data("uint8", 1)[0], rowsperstrip=30)
    ds = xr.open_zarr(VirtualTIFF()(url=file_url(path), registry=registry), zarr_format=3, consolidated=False)
    assert ds["0"].shape == (HEIGHT, WIDTH)
    assert get_codec_class("virtual_tiff.zero_pad") is ZeroPad
