"""Files with one header signature share one metadata build, and nothing that differs between them."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import xarray as xr

from tests.helpers.virtual import file_url
from virtual_tiff import VirtualTIFF
from virtual_tiff.io import read_sources


def write(path, data, byteorder="<"):
    tifffile.imwrite(path, data, tile=(16, 16), compression="zlib", predictor=2, byteorder=byteorder)
    return path


def test_files_of_one_producer_share_the_metadata_but_not_chunks_or_sources(tmp_path, registry):
    values = [np.arange(64 * 48, dtype="uint16").reshape(64, 48) * k for k in (1, 3)]
    urls = [file_url(write(tmp_path / f"{k}.tif", v)) for k, v in enumerate(values)]
    parser = VirtualTIFF(ifd=0)  # one parser over a stack, as VirtualiZarr's open_virtual_mfdataset uses it
    first, second = (parser(url, registry) for url in urls)
    a, b = first._group.arrays["0"], second._group.arrays["0"]
    assert b.metadata is a.metadata  # one build
    assert set(np.unique(b.manifest._paths)) == {urls[1]}  # its own chunks
    assert list(read_sources(second._group.metadata.attributes)) == [urls[1]]
    for store, expected in zip((first, second), values, strict=True):
        np.testing.assert_array_equal(xr.open_zarr(store, zarr_format=3, consolidated=False)["0"].values, expected)


@pytest.mark.parametrize("order", [("<", ">"), (">", "<")])
def test_byte_order_is_part_of_the_signature(tmp_path, registry, order):
    """Same tags, other byte order: other codec chain (a shared build would swap every sample's bytes)."""
    values = np.arange(64 * 48, dtype="int32").reshape(64, 48) - 1000
    parser = VirtualTIFF(ifd=0)
    for k, byteorder in enumerate(order):
        url = file_url(write(tmp_path / f"{k}.tif", values, byteorder))
        got = xr.open_zarr(parser(url, registry), zarr_format=3, consolidated=False)["0"].values
        np.testing.assert_array_equal(got, values)
