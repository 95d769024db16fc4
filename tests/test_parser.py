"""VirtualTIFF, the parser: drop-in for VirtualiZarr, a missing IFD named, its stores readable without us.

The layouts it builds (flat, nested) are specified in tests/build/test_layouts.py.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import zarr
from virtualizarr.manifests import ManifestArray

from tests.helpers.oracles import read_tifffile
from tests.helpers.samples import sample_data
from tests.helpers.virtual import file_url
from virtual_tiff import VirtualTIFF, VirtualTIFFError


def test_open_virtual_dataset_is_drop_in(pyramid, registry):
    import virtualizarr

    vds = virtualizarr.open_virtual_dataset(file_url(pyramid), registry=registry, parser=VirtualTIFF(ifd=0))
    assert isinstance(vds["0"].data, ManifestArray)
    assert vds["0"].shape == (128, 160)


def test_open_virtual_mfdataset_stacks(tmp_path, registry):
    import tifffile
    import virtualizarr

    urls = []
    for t in range(3):
        path = tmp_path / f"t{t}.tif"
        tifffile.imwrite(path, sample_data("int16", 1)[0] + t, tile=(32, 32), compression="zlib")
        urls.append(file_url(path))
    vds = virtualizarr.open_virtual_mfdataset(
        urls, registry=registry, parser=VirtualTIFF(ifd=0), concat_dim="time", combine="nested"
    )
    assert vds["0"].shape == (3, 100, 120)


def test_open_virtual_datatree(pyramid, registry):
    import virtualizarr

    vdt = virtualizarr.open_virtual_datatree(
        file_url(pyramid), registry=registry, parser=VirtualTIFF(ifd=None, ifd_layout="nested")
    )
    assert isinstance(vdt["0/1"]["data"].data, ManifestArray)
    assert vdt["0/1"]["data"].shape == (32, 40)


def test_selecting_a_missing_ifd_names_the_file(pyramid, registry):
    with pytest.raises(VirtualTIFFError, match="pyramid.tif.*ifd=5"):
        VirtualTIFF(ifd=5)(url=file_url(pyramid), registry=registry)


def test_store_opens_with_zarr_and_imagecodecs_only(tmp_path, registry):
    """Copy the store's metadata and chunk bytes verbatim into a plain Zarr store and read it in
    a fresh interpreter that never imports virtual_tiff: every codec name must resolve there."""
    import itertools

    import tifffile
    from zarr.core.buffer import default_buffer_prototype
    from zarr.core.sync import sync
    from zarr.storage import LocalStore

    path = tmp_path / "chunky.tif"
    data = sample_data("uint16", 3).transpose(1, 2, 0)
    tifffile.imwrite(path, data, photometric="rgb", tile=(32, 32), compression="lzw", predictor=2, byteorder=">")
    virtual = VirtualTIFF(ifd=0)(url=file_url(path), registry=registry)
    target = LocalStore(tmp_path / "copy.zarr")
    metadata = zarr.open_array(virtual, path="0", mode="r", zarr_format=3).metadata
    grid = [-(-n // c) for n, c in zip(metadata.shape, metadata.chunks, strict=True)]
    chunk_keys = ["0/" + metadata.encode_chunk_key(index) for index in itertools.product(*map(range, grid))]
    keys = ["zarr.json", "0/zarr.json", *chunk_keys]
    for key in keys:
        sync(target.set(key, sync(virtual.get(key, default_buffer_prototype()))))

    script = textwrap.dedent(
        f"""
        import sys, numpy, zarr
        values = zarr.open_array({str(tmp_path / "copy.zarr")!r}, path="0", mode="r", zarr_format=3)[:]
        assert "virtual_tiff" not in sys.modules
        numpy.save({str(tmp_path / "read.npy")!r}, values)
        """
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    np.testing.assert_array_equal(np.load(tmp_path / "read.npy"), read_tifffile(path))
