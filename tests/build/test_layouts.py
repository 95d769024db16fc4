"""The IFD layouts: every IFD side by side (flat) or one group per image with SubIFDs as children (nested)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from tests.helpers.oracles import read_tifffile
from tests.helpers.pyramid import assert_pyramid_tree
from tests.helpers.virtual import file_url
from virtual_tiff import VirtualTIFF


def test_flat_layout_of_every_ifd_opens_in_xarray(pyramid, registry):
    store = VirtualTIFF(ifd=None)(url=file_url(pyramid), registry=registry)
    ds = xr.open_zarr(store, zarr_format=3, consolidated=False)
    assert list(ds.data_vars) == ["0", "1"]
    assert ds["0"].dims == ("y", "x")
    assert ds["1"].dims == ("y_1", "x_1")
    np.testing.assert_array_equal(ds["0"].values, read_tifffile(pyramid, 0))
    np.testing.assert_array_equal(ds["1"].values, read_tifffile(pyramid, 1))


def test_nested_layout_is_a_datatree_with_subifds(pyramid, registry):
    store = VirtualTIFF(ifd=None, ifd_layout="nested")(url=file_url(pyramid), registry=registry)
    tree = xr.open_datatree(store, engine="zarr", zarr_format=3, consolidated=False)
    assert set(tree.children) == {"0", "1"}
    assert set(tree["0"].children) == {"0", "1"}
    assert_pyramid_tree(tree, pyramid)
