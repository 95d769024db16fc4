"""TIFF variants the tests write with tifffile and with rasterio/GDAL.

Each :class:`Variant` is one row of a feature matrix: it knows how to write
its file (deterministic, smooth data) and which independent readers can check it
(:func:`tests.helpers.oracles.assert_pixels_equal_independent_readers`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.helpers.samples import COMPLEX_INTS, HEIGHT, WIDTH, sample_data

FLAGS = ("gdal_reads", "gdal_tolerance", "gdal_dtype", "lossless", "tifffile_reads", "marks")


@dataclass(frozen=True)
class Variant:
    id: str
    write: Callable[[Path], np.ndarray]
    #: GDAL can read this file too (libtiff lacks some codecs).
    gdal_reads: bool = True
    #: Largest absolute difference accepted against rasterio (lossy codecs decoded by another library).
    gdal_tolerance: float = 0
    #: The written data equals what every reader returns (lossless).
    lossless: bool = True
    #: tifffile can read this file too (it fails on band-interleaved JPEG).
    tifffile_reads: bool = True
    #: rasterio reads this file as a narrower dtype (CInt32 as complex64): ours is compared cast to it.
    gdal_dtype: str | None = None
    marks: tuple = field(default=())


def tifffile_variant(
    id: str,
    dtype: str = "uint16",
    bands: int = 1,
    planar: str = "contig",
    *,
    tile: tuple[int, int] | None = (32, 48),
    rowsperstrip: int | None = None,
    compression: str | None = None,
    compressionargs: dict | None = None,
    predictor: int | None = None,
    byteorder: str = "<",
    bigtiff: bool = False,
    photometric: str | None = None,
    **flags,
) -> Variant:
    def write(path: Path) -> np.ndarray:
        import tifffile

        data = sample_data(dtype, bands)
        if bands == 1:
            stored = data[0]
        else:
            stored = data.transpose(1, 2, 0) if planar == "contig" else data
        tifffile.imwrite(
            path,
            stored,
            photometric=photometric or ("rgb" if bands == 3 and np.dtype(dtype).kind == "u" else "minisblack"),
            planarconfig=planar if bands > 1 else None,
            tile=tile,
            rowsperstrip=rowsperstrip,
            compression=compression,
            compressionargs=compressionargs,
            predictor=predictor,
            byteorder=byteorder,
            bigtiff=bigtiff,
            metadata=None,
        )
        return data

    return Variant(f"tifffile-{id}", write, **flags)


def gdal_variant(
    id: str,
    dtype: str = "uint16",
    bands: int = 1,
    *,
    driver: str = "GTiff",
    **options,
) -> Variant:
    flags = {k: options.pop(k) for k in FLAGS if k in options}

    def write(path: Path) -> np.ndarray:
        import rasterio

        data = sample_data(dtype, bands)
        profile = dict(
            driver=driver, height=HEIGHT, width=WIDTH, count=bands, dtype=dtype, **options
        )
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data)
        return data

    return Variant(f"gdal-{id}", write, **flags)


def complex_int_variant(
    id: str,
    dtype: str = "complex_int16",
    bands: int = 1,
    planar: str = "contig",
    *,
    byteorder: str = "<",
    **options,
) -> Variant:
    """Complex integers (SampleFormat COMPLEXINT), which tifffile does not write: their parts are written as
    one signed integer twice as wide, whose SampleFormat is then marked COMPLEXINT (5) in place."""
    flags = {k: options.pop(k) for k in FLAGS if k in options}

    def write(path: Path) -> np.ndarray:
        import tifffile

        data = sample_data(dtype, bands)
        parts = np.dtype(COMPLEX_INTS[dtype][0]).newbyteorder(byteorder)
        pairs = np.stack([data.real, data.imag], axis=-1).astype(parts)
        wide = pairs.view(f"{byteorder}i{2 * parts.itemsize}")[..., 0]
        if bands == 1:
            stored = wide[0]
        else:
            stored = wide.transpose(1, 2, 0) if planar == "contig" else wide
        tifffile.imwrite(path, stored, photometric="minisblack", planarconfig=planar if bands > 1 else None,
                         byteorder=byteorder, metadata=None, **options)
        _mark_complex_int(path, bands)
        return data

    return Variant(f"tifffile-{id}", write, **flags)


def _mark_complex_int(path: Path, bands: int) -> None:
    import tifffile

    with tifffile.TiffFile(path) as tif:
        tag = tif.pages[0].tags["SampleFormat"]
        offset, order = tag.valueoffset, "little" if tif.byteorder == "<" else "big"
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write((5).to_bytes(2, order) * bands)


def fill_order_2(variant: Variant, *, reversed_chunks: bool = True) -> Variant:
    """``variant`` stored in FillOrder 2 (LSB2MSB), which neither GDAL nor tifffile writes: the file is rebuilt
    with every stored strip or tile bit-reversed (as libtiff writes them; not JPEG's, which libtiff never
    reverses: ``reversed_chunks=False``) and the FillOrder tag added."""

    def write(path: Path) -> np.ndarray:
        data = variant.write(path)
        path.write_bytes(_fill_order_2_file(path, reversed_chunks))
        return data

    return dataclasses.replace(variant, id=f"{variant.id}-fillorder2", write=write)


def _fill_order_2_file(path: Path, reversed_chunks: bool) -> bytes:
    """The first IFD of ``path`` as a new file: its tags as stored, FillOrder 2, its chunks bit-reversed or not."""
    import imagecodecs
    import tifffile

    from tests.helpers.tiffbuilder import LONG, LONG8, SHORT, At, Field, Flavour, build_tiff

    raw = path.read_bytes()
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[0]
        flavour = Flavour(tif.byteorder, tif.is_bigtiff)
        offsets_tag = 324 if page.is_tiled else 273
        chunks = [raw[o : o + n] for o, n in zip(page.dataoffsets, page.databytecounts, strict=True)]
        fields = [
            Field(tag.code, int(tag.dtype), raw[tag.valueoffset : tag.valueoffset + tag.valuebytecount], count=tag.count)
            for tag in page.tags.values()
            if tag.code not in (offsets_tag, 266)
        ]
    starts = np.cumsum([0] + [len(c) for c in chunks[:-1]])
    fields.append(Field(offsets_tag, LONG8 if flavour.bigtiff else LONG, tuple(At(plus=int(s)) for s in starts)))
    fields.append(Field(266, SHORT, (2,)))
    if reversed_chunks:
        chunks = [imagecodecs.bitorder_decode(c) for c in chunks]
    return build_tiff([fields], flavour, data=b"".join(chunks))


def ycbcr_variant(
    id: str,
    subsampling: tuple[int, int],
    *,
    compression: str | None = None,
    tile: tuple[int, int] | None = None,
    rowsperstrip: int | None = None,
    height: int = HEIGHT,
    width: int = WIDTH,
    byteorder: str = "<",
    reference_black_white: tuple[int, ...] | None = None,
    coefficients: tuple[tuple[int, int], ...] | None = None,
) -> Variant:
    """YCbCr data units (TIFF 6.0 section 21: each block's luma, then its Cb and Cr), uncompressed or Deflate,
    which neither GDAL nor tifffile writes outside JPEG. GDAL decodes them to RGB: the oracle (tifffile returns
    raw samples). ``reference_black_white`` as integers, ``coefficients`` as (numerator, denominator)."""

    def write(path: Path) -> np.ndarray:
        import struct
        import zlib

        from tests.helpers.tiffbuilder import LONG, RATIONAL, SHORT, At, Field, Flavour, build_tiff

        h, v = subsampling
        y_plane = sample_data("uint8", 1, height, width)[0]
        chroma = sample_data("uint8", 2, -(-height // v), -(-width // h))
        chunk_h, chunk_w = tile or (rowsperstrip or height, width)
        chunks = []
        for r0 in range(0, height, chunk_h):
            for c0 in range(0, width, chunk_w):
                rows = chunk_h if tile else min(chunk_h, height - r0)
                units = _data_units(y_plane, chroma, subsampling, r0, c0, rows, chunk_w)
                chunks.append(zlib.compress(units) if compression == "zlib" else units)
        rational = lambda pairs: b"".join(struct.pack(byteorder + "II", n, d) for n, d in pairs)  # noqa: E731
        fields = [
            Field(256, LONG, (width,)), Field(257, LONG, (height,)), Field(258, SHORT, (8, 8, 8)),
            Field(259, SHORT, (8 if compression == "zlib" else 1,)), Field(262, SHORT, (6,)),
            Field(277, SHORT, (3,)), Field(284, SHORT, (1,)), Field(530, SHORT, subsampling),
        ]
        starts = np.cumsum([0] + [len(c) for c in chunks[:-1]])
        offsets = tuple(At(plus=int(s)) for s in starts)
        counts = tuple(len(c) for c in chunks)
        if tile:
            fields += [Field(322, SHORT, (tile[1],)), Field(323, SHORT, (tile[0],)), Field(324, LONG, offsets),
                       Field(325, LONG, counts)]
        else:
            fields += [Field(273, LONG, offsets), Field(278, LONG, (chunk_h,)), Field(279, LONG, counts)]
        if reference_black_white is not None:
            fields.append(Field(532, RATIONAL, rational((n, 1) for n in reference_black_white), count=6))
        if coefficients is not None:
            fields.append(Field(529, RATIONAL, rational(coefficients), count=3))
        path.write_bytes(build_tiff([fields], Flavour(byteorder, False), data=b"".join(chunks)))
        return np.stack([y_plane] * 3)

    return Variant(f"ycbcr-{id}", write, lossless=False, tifffile_reads=False)


def _data_units(y_plane: np.ndarray, chroma: np.ndarray, subsampling: tuple[int, int], r0: int, c0: int,
                rows: int, cols: int) -> bytes:
    """One chunk's data units; samples beyond the image (padding to whole blocks and tiles) are 0."""
    h, v = subsampling
    block_rows, blocks = -(-rows // v), -(-cols // h)
    luma = np.zeros((block_rows * v, blocks * h), np.uint8)
    part = y_plane[r0 : r0 + block_rows * v, c0 : c0 + blocks * h]
    luma[: part.shape[0], : part.shape[1]] = part
    cbcr = np.zeros((2, block_rows, blocks), np.uint8)
    part = chroma[:, r0 // v : r0 // v + block_rows, c0 // h : c0 // h + blocks]
    cbcr[:, : part.shape[1], : part.shape[2]] = part
    units = luma.reshape(block_rows, v, blocks, h).transpose(0, 2, 1, 3).reshape(block_rows, blocks, v * h)
    return np.concatenate([units, cbcr.transpose(1, 2, 0)], axis=-1).tobytes()
