"""Correct combining, always: files no one array can hold are refused by name, whatever combine says.

The matrix: every ``combine`` (with its ``concat_dim``) x every grid mismatch (CRS, pixel size,
an origin off the chunk lattice, a width that is not a whole number of tiles beside another file).
Files of different CRSs once came back as one dataset whose x axis jumped 195 km under one CRS;
a 700-pixel width raised a bare ValueError from VirtualiZarr.
"""

from __future__ import annotations

import pytest

from tests.helpers.geotiffs import write_geotiff
from tests.helpers.virtual import file_url
from virtual_tiff import GridAlignmentError, MixedGridsError, open_virtual_mfdataset, open_virtual_mftree

COMBINES = {
    "nested": dict(combine="nested", concat_dim="time"),
    "by_coords": dict(combine="by_coords"),
}

MISMATCHES = {
    # name: (width of both files, second file's options, expected error, what the message names)
    "crs": (700, dict(crs="EPSG:32634"), MixedGridsError, "EPSG_32634_10m"),
    "pixel-size": (700, dict(res=20.0), MixedGridsError, "EPSG_32633_20m"),
    "origin-off-the-chunks": (640, dict(origin=(500_100.0, 5_000_000.0)), GridAlignmentError, "b.tif: lies 10 columns"),
    "width-not-whole-tiles": (700, dict(origin=(507_000.0, 5_000_000.0)), GridAlignmentError, "a.tif: its 700 columns"),
}


@pytest.mark.parametrize("mismatch", MISMATCHES.values(), ids=MISMATCHES.keys())
@pytest.mark.parametrize("combine", COMBINES.values(), ids=COMBINES.keys())
def test_files_no_one_array_holds_are_refused_by_name(combine, mismatch, tmp_path, registry):
    width, second, error, named = mismatch  # 700 px: 10 full tiles and a partial one
    a = write_geotiff(tmp_path / "a.tif", shape=(128, width), tile=64)
    b = write_geotiff(tmp_path / "b.tif", seed=1, shape=(128, width), tile=64, **second)
    with pytest.raises(error) as info:
        open_virtual_mfdataset([file_url(a), file_url(b)], registry, **combine)
    assert named in str(info.value)
    if error is MixedGridsError:
        assert "open_virtual_mftree" in str(info.value)
        tree = open_virtual_mftree([file_url(a), file_url(b)], registry)
        assert len(tree.children) == 2  # kept side by side


@pytest.mark.parametrize("combine", COMBINES.values(), ids=COMBINES.keys())
def test_files_on_one_grid_still_combine(combine, tmp_path, registry):
    paths = [write_geotiff(tmp_path / f"t{k}.tif", seed=k) for k in range(2)]
    if combine["combine"] == "by_coords":  # side by side in x: a mosaic, chunk-aligned
        paths[1] = write_geotiff(tmp_path / "t1.tif", seed=1, origin=(501_920.0, 5_000_000.0))
    ds = open_virtual_mfdataset([file_url(p) for p in paths], registry, **combine)
    assert ds["0"].shape == ((2, 128, 192) if combine["combine"] == "nested" else (128, 384))
