"""Deflate under either codec name: the same pixels in Zarr v3, and a kerchunk (v2) mapping for both.

Our chains emit ``numcodecs.zlib`` (see ``virtual_tiff.build._chains`` for why, not
``imagecodecs_deflate``); a store carrying ``imagecodecs_deflate`` must still convert to kerchunk.
"""

from __future__ import annotations

import zlib

import imagecodecs.numcodecs
import numcodecs
import numpy as np
import pytest
import zarr
from zarr.core.buffer import default_buffer_prototype
from zarr.core.sync import sync
from zarr.storage import MemoryStore

from virtual_tiff.writers.kerchunk import v2_encoding

DATA = (np.arange(64 * 48, dtype="uint16").reshape(64, 48) * 7) % 1000


def _deflated_array(codec: dict) -> zarr.Array:
    """A one-chunk v3 array whose chunk is a TIFF-style zlib stream of horizontally differenced rows."""
    store = MemoryStore()
    delta = {"name": "imagecodecs_delta", "configuration": {"axis": -1, "dist": 1}}
    array = zarr.create_array(
        store, shape=DATA.shape, chunks=DATA.shape, dtype="uint16", fill_value=0,
        filters=[delta], serializer={"name": "bytes", "configuration": {"endian": "little"}}, compressors=[codec],
    )
    differenced = np.diff(DATA, axis=-1, prepend=0).astype("<u2")
    chunk = default_buffer_prototype().buffer.from_bytes(zlib.compress(differenced.tobytes(), 6))
    sync(store.set("c/0/0", chunk))
    return array


@pytest.mark.parametrize(
    "codec", [{"name": "numcodecs.zlib", "configuration": {"level": 6}}, {"name": "imagecodecs_deflate"}]
)
def test_both_deflate_names_decode_the_same_pixels(codec):
    np.testing.assert_array_equal(_deflated_array(codec)[:], DATA)


@pytest.mark.parametrize(
    ("codec", "v2_id"),
    [({"name": "numcodecs.zlib", "configuration": {"level": 6}}, "zlib"), ({"name": "imagecodecs_deflate"}, "imagecodecs_deflate")],
)
def test_deflate_maps_to_a_v2_compressor_that_decodes_it(codec, v2_id):
    encoding = v2_encoding("band", _deflated_array(codec).metadata)
    assert encoding.compressor["id"] == v2_id
    assert [f["id"] for f in encoding.filters] == ["imagecodecs_delta"]
    imagecodecs.numcodecs.register_codecs()
    stream = zlib.compress(DATA.tobytes(), 6)
    decoded = numcodecs.get_codec(dict(encoding.compressor)).decode(stream)
    assert bytes(decoded) == DATA.tobytes()
