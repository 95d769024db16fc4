"""Budgets over what a header may make the build hold: refused by name before the values are read.

Regression rows of the adversarial run of issue 14 (build amplification): a few megabytes of
header claiming millions of chunks, a ColorMap of millions of entries.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from tests.helpers.builds import build, expect_error, write
from tests.helpers.tiffbuilder import FLAVOURS, LONG, SHORT, Field, edit, image, tile_fields
from tests.helpers.virtual import file_url
from virtual_tiff import LimitExceededError, Limits, VirtualTIFF

pytestmark = pytest.mark.usefixtures("warm_imports", "traced_allocations")


def tiles(side_tiles: int) -> bytes:
    """A (16 side_tiles)² image of empty 16 x 16 tiles: side_tiles² offsets and byte counts."""
    n = side_tiles * side_tiles
    fields = edit(tile_fields(width=16 * side_tiles, height=16 * side_tiles),
                  Field(324, LONG, bytes(4 * n)), Field(325, LONG, bytes(4 * n)))
    return image(fields, FLAVOURS[0])


@pytest.mark.parametrize("ifd", [0, None], ids=["ifd=0", "ifd=None"])
def test_millions_of_chunks_are_refused_before_their_offsets_are_read(ifd, tmp_path, registry):
    error = expect_error(write(tmp_path, tiles(1024)), registry, LimitExceededError, ifd=ifd)  # 4 MB of header
    assert error.tag.startswith("Tile") and "1048576 chunks" in str(error)


def test_the_chunk_budget_is_a_limit_users_can_raise(tmp_path, registry):
    path = write(tmp_path, tiles(600))
    expect_error(path, registry, LimitExceededError)
    store = VirtualTIFF(ifd=0, limits=Limits(max_chunks=600 * 600))(file_url(path), registry)
    assert xr.open_zarr(store, zarr_format=3, consolidated=False)["0"].shape == (9600, 9600)


def test_a_colormap_of_another_count_is_ignored_like_libtiff_does(tmp_path, registry):
    """12.6M entries for 8-bit samples (768 expected): no attribute, the indices still read."""
    palette = edit(tile_fields(), Field(262, SHORT, (3,)), Field(320, SHORT, np.full(3 * 2**20, 7, "<u2").tobytes()))
    with pytest.warns(UserWarning, match="ColorMap of 3145728 values for 8-bit samples ignored"):
        store = build(write(tmp_path, image(palette, FLAVOURS[0])), registry)
    data = xr.open_zarr(store, zarr_format=3, consolidated=False)["0"]
    assert "colormap" not in data.attrs
    np.testing.assert_array_equal(data.values.ravel(), np.arange(256, dtype="u1"))
