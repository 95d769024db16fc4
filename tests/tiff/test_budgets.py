"""Budgets over what a header may make the build hold: refused by name before the values are read.

Regression rows of the adversarial run of issue 14 (build amplification): a few megabytes of
header claiming millions of chunks, a ColorMap of millions of entries.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

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
    strip_fields,
    tile_fields,
)
from tests.helpers.virtual import file_url
from virtual_tiff import LimitExceededError, Limits, MalformedTIFFError, VirtualTIFF

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


# --------------------------------------------------------------------------- whole-file budgets


def pages(n: int, *extra: Field, each: Callable[[int], tuple[Field, ...]] | None = None) -> bytes:
    """``n`` valid 1 x 1 pages, each with ``extra`` fields (or ``each(i)``'s)."""
    fields = [edit(strip_fields(width=1, height=1), *(each(i) if each else extra)) for i in range(n)]
    return build_tiff(fields, data=bytes(16))


def test_thousands_of_pages_are_refused_for_ifd_none_and_one_of_them_builds(tmp_path, registry):
    """4,000 valid pages took 7.3 s as 4,000 arrays; ``ifd=None`` builds at most Limits.max_images.
    (600 pages here: tracemalloc slows the walk sixfold; 4,000 are refused in 0.18 s untraced.)"""
    path = write(tmp_path, pages(600))
    error = expect_error(path, registry, LimitExceededError, ifd=None)
    assert "600 images to build (limit 512" in str(error) and "ifd=k" in str(error)
    store = build(path, registry, ifd=599)
    assert xr.open_zarr(store, zarr_format=3, consolidated=False)["599"].shape == (1, 1)


def test_the_image_budget_is_a_limit_users_can_raise(tmp_path, registry):
    path = write(tmp_path, pages(20))
    with pytest.raises(LimitExceededError, match="20 images to build"):
        VirtualTIFF(ifd=None, limits=Limits(max_images=19))(file_url(path), registry)
    store = VirtualTIFF(ifd=None, limits=Limits(max_images=20))(file_url(path), registry)
    assert len(xr.open_zarr(store, zarr_format=3, consolidated=False).data_vars) == 20


def one_entry_ifds(n: int) -> bytes:
    """A classic little-endian file of ``n`` IFDs of one entry (ImageWidth 1), each linking to the next."""
    ifds = b"".join(struct.pack("<HHHII", 1, 256, SHORT, 1, 1) + struct.pack("<I", 8 + 18 * (k + 1) if k + 1 < n else 0)
                    for k in range(n))
    return b"II*\0" + struct.pack("<I", 8) + ifds


@pytest.mark.parametrize("ifd", [0, None], ids=["ifd=0", "ifd=None"])
def test_sixteen_thousand_one_entry_ifds_are_refused_during_the_walk(ifd, tmp_path, registry):
    """288 KB of one-entry IFDs took 3.6 GiB; the walk stops at Limits.max_ifds (4,096)."""
    path = write(tmp_path, one_entry_ifds(16_000))
    if ifd is None:
        assert "more than 4096 IFDs" in str(expect_error(path, registry, LimitExceededError, ifd=None))
    else:  # ifd=0 stops after IFD 0, which is broken
        expect_error(path, registry, MalformedTIFFError)


def test_entries_are_bounded_over_the_whole_file(tmp_path, registry):
    """Each IFD under max_entries, the file over max_file_entries: refused at the IFD that crosses it."""
    filler = tuple(Field(50_000 + k, SHORT, (k,)) for k in range(90))
    path = write(tmp_path, pages(4, *filler))  # 98 entries each
    with pytest.raises(LimitExceededError, match="more than 300 IFD entries in the file") as info:
        VirtualTIFF(ifd=None, limits=Limits(max_file_entries=300))(file_url(path), registry)
    assert info.value.ifd == "3"


def test_chunks_are_bounded_over_the_ifds_built_together(tmp_path, registry):
    """Two IFDs of 200,000 tiles each: each under max_chunks, together over it; one alone builds."""
    n = 448 * 448
    ifd = edit(tile_fields(width=16 * 448, height=16 * 448),
               Field(324, LONG, bytes(4 * n)), Field(325, LONG, bytes(4 * n)))
    path = write(tmp_path, build_tiff([ifd, ifd], data=PIXELS))
    error = expect_error(path, registry, LimitExceededError, ifd=None)
    assert "more than 262144 chunks in the IFDs to build" in str(error) and error.ifd == "1"
    assert build(path, registry, ifd=1) is not None


def test_tag_values_are_bounded_over_the_whole_file(tmp_path, registry):
    """Three pages of 6 MiB descriptions: each under the budget, together over it."""
    description = Field(270, ASCII, b"x" * (6 * 2**20) + b"\0")
    path = write(tmp_path, pages(3, description))
    error = expect_error(path, registry, LimitExceededError, ifd=None)
    assert f"more than {16 * 2**20} bytes of tag values" in str(error) and error.ifd == "2"
    build(path, registry, ifd=2)


def geokeys(epsg: int) -> tuple[Field, ...]:
    """A projected CRS by EPSG code, with a pixel scale and tiepoint."""
    return (Field(33550, DOUBLE, (10.0, 10.0, 0.0)), Field(33922, DOUBLE, (0.0, 0.0, 0.0, 500_000.0, 0.0, 0.0)),
            Field(34735, SHORT, (1, 1, 0, 2, 1024, 0, 1, 1, 3072, 0, 1, epsg)))


def test_distinct_georeferences_are_bounded_and_repeated_ones_are_not(tmp_path, registry):
    """Each page's own copy of one CRS counts once (GDAL writes one per page); 9 CRSs are refused."""
    same = write(tmp_path, pages(40, *geokeys(32633)), "same.tif")
    assert len(xr.open_zarr(build(same, registry, ifd=None), zarr_format=3, consolidated=False).data_vars) == 40
    mixed = write(tmp_path, pages(9, each=lambda i: geokeys(32601 + i)), "mixed.tif")
    error = expect_error(mixed, registry, LimitExceededError, ifd=None)
    assert "more than 8 distinct GeoKey directories" in str(error) and error.ifd == "8"
    build(mixed, registry, ifd=8)


def test_a_citation_proj_does_not_know_costs_no_database_search(tmp_path, registry):
    """A garbage citation on an unknown projection took PROJ 0.35 s to reject, per distinct text:
    only definitions (WKT, PROJ strings, AUTH:CODE) and exact names or aliases are looked up."""
    def citation(i: int) -> tuple[Field, ...]:
        text = f"garbage citation {i}|".encode() + b"\0"
        keys = (1, 1, 0, 3, 1024, 0, 1, 1, 1026, 34737, len(text) - 1, 0, 3072, 0, 1, 32767)
        return (*geokeys(0)[:2], Field(34735, SHORT, keys), Field(34737, ASCII, text))
    path = write(tmp_path, pages(8, each=citation))
    with pytest.warns(UserWarning):
        build(path, registry, ifd=None)


def test_an_image_two_billion_pixels_wide_gets_its_transform_but_no_inlined_x(tmp_path, registry):
    """x of 2**31 - 1 pixels was 16 GiB of float64 and a MemoryError before any bound."""
    width = 2**31 - 1
    fields = edit(strip_fields(width=width, height=1), Field(259, SHORT, (8,)), Field(279, LONG, (16,)), *geokeys(32633))
    path = write(tmp_path, image(fields, FLAVOURS[0]))
    with pytest.warns(UserWarning, match="no x/y coordinates inlined beyond 2097152"):
        store = build(path, registry)
    ds = xr.open_zarr(store, zarr_format=3, consolidated=False)
    assert ds["0"].shape == (1, width) and "x" not in ds.coords
    assert ds["spatial_ref"].attrs["GeoTransform"].split()[:2] == ["500000.0", "10.0"]
