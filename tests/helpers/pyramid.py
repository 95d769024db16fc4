"""A tifffile pyramid with SubIFDs, and what a nested DataTree of it must hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.helpers.samples import sample_data


def write_pyramid(path: Path, *, bigtiff: bool = False) -> Path:
    """A tifffile pyramid: level 0 in the main chain with two reduced levels as SubIFDs, then a second page."""
    import tifffile

    level0 = sample_data("uint16", 1, 128, 160)[0]
    with tifffile.TiffWriter(path, bigtiff=bigtiff) as tif:
        tif.write(level0, tile=(32, 32), compression="zlib", predictor=2, subifds=2)
        tif.write(level0[::2, ::2], tile=(32, 32), compression="zlib", subfiletype=1)
        tif.write(level0[::4, ::4], tile=(32, 32), compression="zlib", subfiletype=1)
        tif.write(level0[:64, :80] + 1, tile=(32, 32), compression="zstd")
    return path


def assert_pyramid_tree(tree, path: Path) -> None:
    """A nested DataTree of :func:`write_pyramid`'s file holds tifffile's pixels, SubIFDs as child groups."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        levels = [tif.pages[0].asarray(), *(sub.asarray() for sub in tif.pages[0].pages)]
        second = tif.pages[1].asarray()
    np.testing.assert_array_equal(tree["0"]["data"].values, levels[0])
    np.testing.assert_array_equal(tree["0/0"]["data"].values, levels[1])
    np.testing.assert_array_equal(tree["0/1"]["data"].values, levels[2])
    np.testing.assert_array_equal(tree["1"]["data"].values, second)
