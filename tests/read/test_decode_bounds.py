"""Chunks that lie about their content are refused when read, never decoded into other pixels or unbounded memory.

Each file is valid TIFF whose one tile holds a stream at odds with the header: a compressed bomb,
an image frame of another shape, samples of another type. Reads go through our pipeline (what
``import virtual_tiff`` gives) and raise :class:`~virtual_tiff.CorruptChunkError` naming the file
and the chunk; a tile that tells the truth reads as its codec decodes it.
"""

from __future__ import annotations

import tracemalloc

import imagecodecs
import numpy as np
import pytest
import xarray as xr

from tests.helpers.tiffbuilder import FLAVOURS, LONG, SHORT, At, Field, build_tiff
from tests.helpers.virtual import file_url
from virtual_tiff import CorruptChunkError, VirtualTIFF

SIDE = 32
JPEG, PNG, ZSTD, DEFLATE, LZMA, LERC = 7, 34933, 50000, 8, 34925, 34887


def one_tile(payload: bytes, *, compression: int, bits: int = 8, side: int = SIDE) -> bytes:
    """A side x side image of one tile whose bytes are ``payload``."""
    fields = [
        Field(256, LONG, (side,)), Field(257, LONG, (side,)), Field(258, SHORT, (bits,)),
        Field(259, SHORT, (compression,)), Field(262, SHORT, (1,)),
        Field(322, SHORT, (side,)), Field(323, SHORT, (side,)),
        Field(324, LONG, (At(),)), Field(325, LONG, (len(payload),)),
    ]
    return build_tiff([fields], FLAVOURS[0], data=payload)


def read(tmp_path, registry, content: bytes) -> np.ndarray:
    path = tmp_path / "tile.tif"
    path.write_bytes(content)
    store = VirtualTIFF(ifd=0)(file_url(path), registry)
    return xr.open_zarr(store, zarr_format=3, consolidated=False)["0"].values


PICTURE = (np.arange(SIDE * SIDE) % 200).astype("u1").reshape(SIDE, SIDE)

#: (a function writing the file, what the error says); files are made when the test runs, not collected.
LIARS = [
    pytest.param(lambda: one_tile(imagecodecs.zstd_encode(bytes(64 * 2**20)), compression=ZSTD), "inflates|too small",
                 id="zstd-bomb-64MiB"),
    pytest.param(lambda: one_tile(imagecodecs.deflate_encode(bytes(64 * 2**20)), compression=DEFLATE),
                 "INSUFFICIENT_SPACE|inflates", id="deflate-bomb-64MiB"),
    pytest.param(lambda: one_tile(imagecodecs.lzma_encode(bytes(64 * 2**20)), compression=LZMA), "inflates",
                 id="lzma-bomb-64MiB"),
    pytest.param(lambda: one_tile(imagecodecs.jpeg8_encode(PICTURE.reshape(16, 64)), compression=JPEG), "16 x 64",
                 id="jpeg-frame-of-another-shape"),
    pytest.param(lambda: one_tile(imagecodecs.jpeg8_encode(PICTURE), compression=JPEG, bits=16), "uint8 samples",
                 id="8-bit-jpeg-in-16-bit-image"),
    pytest.param(lambda: one_tile(imagecodecs.png_encode(PICTURE.astype("u2") * 300), compression=PNG), "uint16 samples",
                 id="16-bit-png-in-8-bit-image"),
    pytest.param(lambda: one_tile(imagecodecs.lerc_encode(PICTURE.astype("u2") * 300), compression=LERC),
                 "uint16 samples", id="16-bit-lerc-in-8-bit-image"),
    pytest.param(lambda: one_tile(imagecodecs.png_encode(PICTURE.reshape(64, 16)), compression=PNG), "64 x 16",
                 id="png-frame-of-another-shape"),
]


@pytest.mark.parametrize(("content", "why"), LIARS)
def test_a_chunk_at_odds_with_its_header_is_refused_by_name(content, why, tmp_path, registry):
    content = content()
    read(tmp_path, registry, one_tile(PICTURE.tobytes(), compression=1))  # the read path's imports, before measuring
    tracemalloc.start()
    try:
        with pytest.raises(CorruptChunkError, match=f"chunk 0/c/0/0 does not decode as declared: .*({why})") as info:
            read(tmp_path, registry, content)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.url == file_url(tmp_path / "tile.tif")
    assert peak < 16 * 2**20  # a bomb is never inflated (the 64 MiB ones would be)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(lambda: one_tile(imagecodecs.zstd_encode(PICTURE.tobytes()), compression=ZSTD), PICTURE, id="zstd"),
        pytest.param(lambda: one_tile(imagecodecs.jpeg8_encode(PICTURE), compression=JPEG),
                     imagecodecs.jpeg8_decode(imagecodecs.jpeg8_encode(PICTURE)), id="jpeg"),
        pytest.param(lambda: one_tile(imagecodecs.png_encode(PICTURE), compression=PNG), PICTURE, id="png"),
    ],
)
def test_a_chunk_that_tells_the_truth_reads(content, expected, tmp_path, registry):
    np.testing.assert_array_equal(read(tmp_path, registry, content()), expected)
