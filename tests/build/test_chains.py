"""The codec decision table: Compression, Predictor, layout and dtype -> the exact Zarr v3 codec chain.

``virtual_tiff.build.codec_chain(ChunkEncoding(...), ifd)`` on hand-made IFDs: no file, no GDAL,
no tifffile. A chain reads in encode order: ``transpose`` (chunky pixels), the complex integers'
parts (``virtual_tiff.complex_int``), an optional predictor filter (``virtual_tiff.reinterpret``
first on floats), one array->bytes serializer, ``virtual_tiff.zero_pad`` for a short last strip, and an
optional compressor; image codecs are the serializer, wrapped in ``virtual_tiff.short_strip`` for
a short last strip (README, "Supported TIFF features"). Refusals are exactly
:class:`UnsupportedTIFFError`, and name the file, the IFD and the tag.

The matrices compose each expected chain from literal tables (one entry per compression, per
predictor, per layout); :data:`LITERAL` writes whole chains out for rows derived from the IFD
alone, through ``sample_type`` and ``chunk_grid`` as the build derives them.
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass

import numpy as np
import pytest

from tests.helpers.ifds import URL, hand_made_ifd, u16, u32
from virtual_tiff.build import ChunkEncoding, SampleType, chunk_encoding, chunk_grid, codec_chain, sample_type
from virtual_tiff.errors import UnsupportedTIFFError
from virtual_tiff.tiff import IFD, Compression, Photometric, PlanarConfiguration, Predictor, SampleFormat, Tag

HEIGHT, WIDTH = 100, 120
TILE_HEIGHT, TILE_WIDTH = 32, 48
#: RowsPerStrip of full strips (100 = 10 x 10) and of a partial last strip (100 = 14 x 7 + 2).
FULL_ROWS, PARTIAL_ROWS, LAST_ROWS = 10, 7, 2

C = Compression
P = Predictor


# --------------------------------------------------------------------------- layouts


@dataclass(frozen=True)
class Layout:
    """How the samples and chunks lie, and what the build derives from that (written out by hand)."""

    id: str
    bands: int
    planar: PlanarConfiguration
    tiled: bool
    #: RowsPerStrip for strips; None for one strip (the tag left out).
    rows_per_strip: int | None
    chunky_bands: int
    chunk_width: int
    #: Rows of the short last strip, or None when every chunk is full.
    short_rows: int | None = None

    @property
    def chunky(self) -> bool:
        return self.chunky_bands > 1

    def pad_to(self, sample: SampleType) -> int | None:
        """Bytes of a full decompressed strip: rows padded to whole bytes, times RowsPerStrip."""
        if self.short_rows is None:
            return None
        row_samples = self.chunk_width * self.chunky_bands
        bits = sample.packed_bits or sample.stored_itemsize * 8
        return math.ceil(row_samples * bits / 8) * self.rows_per_strip


CONTIG, SEPARATE = PlanarConfiguration.CONTIG, PlanarConfiguration.SEPARATE

LAYOUTS = [
    Layout("single-tiles", 1, CONTIG, True, None, 1, TILE_WIDTH),
    Layout("single-strips", 1, CONTIG, False, FULL_ROWS, 1, WIDTH),
    Layout("single-one-strip", 1, CONTIG, False, None, 1, WIDTH),
    Layout("single-partial-strip", 1, CONTIG, False, PARTIAL_ROWS, 1, WIDTH, LAST_ROWS),
    Layout("chunky-tiles", 3, CONTIG, True, None, 3, TILE_WIDTH),
    Layout("chunky-strips", 3, CONTIG, False, FULL_ROWS, 3, WIDTH),
    Layout("chunky-partial-strip", 3, CONTIG, False, PARTIAL_ROWS, 3, WIDTH, LAST_ROWS),
    Layout("planar-tiles", 3, SEPARATE, True, None, 1, TILE_WIDTH),
    Layout("planar-strips", 3, SEPARATE, False, FULL_ROWS, 1, WIDTH),
    Layout("planar-partial-strip", 3, SEPARATE, False, PARTIAL_ROWS, 1, WIDTH, LAST_ROWS),
]
LAYOUT = {layout.id: layout for layout in LAYOUTS}
#: One of each kind, for the larger matrices: tiles, a partial strip, chunky, planar.
KEY_LAYOUTS = [LAYOUT[k] for k in ("single-tiles", "single-partial-strip", "chunky-tiles", "chunky-partial-strip",
                                   "planar-partial-strip")]
CMYK_TILES = Layout("cmyk-tiles", 4, CONTIG, True, None, 4, TILE_WIDTH)
GRAY_ALPHA_TILES = Layout("gray-alpha-tiles", 2, CONTIG, True, None, 2, TILE_WIDTH)


def make_ifd(
    layout: Layout,
    *,
    bits: int = 16,
    fmt: SampleFormat = SampleFormat.UINT,
    byteorder: str = "<",
    compression: int = Compression.NONE,
    predictor: int | None = None,
    photometric: int | None = None,
    tags: dict[int, object] | None = None,
) -> IFD:
    """An IFD of a ``HEIGHT`` x ``WIDTH`` image laid out as ``layout``, with the tags its accessors read."""
    n = layout.bands
    values: dict[int, object] = {
        Tag.ImageWidth: u32(WIDTH),
        Tag.ImageLength: u32(HEIGHT),
        Tag.SamplesPerPixel: u16(n),
        Tag.BitsPerSample: u16(*[bits] * n),
        Tag.SampleFormat: u16(*[int(fmt)] * n),
        Tag.Compression: u16(int(compression)),
        Tag.PlanarConfiguration: u16(int(layout.planar)),
    }
    if predictor is not None:
        values[Tag.Predictor] = u16(int(predictor))
    if photometric is not None:
        values[Tag.PhotometricInterpretation] = u16(int(photometric))
    if layout.tiled:
        values[Tag.TileWidth] = u16(TILE_WIDTH)
        values[Tag.TileLength] = u16(TILE_HEIGHT)
    elif layout.rows_per_strip is not None:
        values[Tag.RowsPerStrip] = u32(layout.rows_per_strip)
    values.update(tags or {})
    return hand_made_ifd(values, byteorder=byteorder)


def encoding(ifd: IFD, layout: Layout) -> ChunkEncoding:
    """The ChunkEncoding of ``ifd`` with the chunk geometry ``layout`` states."""
    sample = sample_type(ifd)
    return ChunkEncoding(
        compression=ifd.compression,
        predictor=ifd.predictor,
        sample=sample,
        byteorder=ifd.byteorder,
        chunky_bands=layout.chunky_bands,
        chunk_width=layout.chunk_width,
        pad_to=layout.pad_to(sample),
        short_bytes=None if layout.short_rows is None else layout.pad_to(sample) // PARTIAL_ROWS * LAST_ROWS,
        short_rows=layout.short_rows,
    )


def derived_encoding(ifd: IFD) -> ChunkEncoding:
    """The ChunkEncoding as the build derives it from the IFD alone (``sample_type`` and ``chunk_grid``)."""
    return chunk_encoding(ifd, sample_type(ifd), chunk_grid(ifd))


def test_layouts_are_what_chunk_grid_derives():
    """The hand-written geometry of every layout is the build's: so the matrices below test real encodings."""
    samples = [dict(bits=8), dict(bits=16, byteorder=">"), dict(bits=64, fmt=SampleFormat.IEEEFP), dict(bits=12),
               dict(bits=1)]
    for layout in [*LAYOUTS, CMYK_TILES]:
        for sample in samples:
            ifd = make_ifd(layout, **sample)
            assert derived_encoding(ifd) == encoding(ifd, layout), (layout.id, sample)


# --------------------------------------------------------------------------- the parts of a chain

TRANSPOSE = {"name": "transpose", "configuration": {"order": [1, 2, 0]}}
ZLIB = {"name": "numcodecs.zlib", "configuration": {"level": 6}}
ZSTD = {"name": "zstd", "configuration": {"level": 0, "checksum": False}}
#: Float samples -> the unsigned integers whose bit patterns Predictor 2 differences.
BIT_PATTERNS = {"f2": "uint16", "f4": "uint32", "f8": "uint64"}

#: Compressions that act on the serialized bytes -> the compressor after the serializer.
BYTES_COMPRESSORS: dict[Compression, dict | None] = {
    C.NONE: None,
    C.DEFLATE: ZLIB,
    C.ADOBE_DEFLATE: ZLIB,
    C.ZSTD: ZSTD,
    C.LZMA: {"name": "numcodecs.lzma", "configuration": {"format": 1, "check": -1}},
    C.LZW: {"name": "imagecodecs_lzw"},
    C.PACKBITS: {"name": "imagecodecs_packbits"},
}


def x_axis(layout: Layout) -> int:
    """The x axis as the codecs see a chunk: ``(y, x, band)`` after ``transpose``, else ``(.., y, x)``."""
    return -2 if layout.chunky else -1


def zero_pad(length: int) -> dict:
    """``length``: a full strip of PARTIAL_ROWS rows; only the short last strip, LAST_ROWS of them, is padded."""
    short = length // PARTIAL_ROWS * LAST_ROWS
    return {"name": "virtual_tiff.zero_pad", "configuration": {"length": length, "short": short}}


def short_strip(codec: dict, layout: Layout) -> dict:
    """The image codec wrapped for the short last strip; rows along y: ``(y, x, band)`` or ``(.., y, x)``."""
    axis = -3 if layout.chunky else -2
    return {"name": "virtual_tiff.short_strip", "configuration": {"codec": codec, "rows": LAST_ROWS, "axis": axis}}


def bytes_chain(layout: Layout, dtype: np.dtype, byteorder: str, predictor: Predictor, compression: Compression,
                pad: int | None, complex_parts: str | None = None) -> list[dict]:
    chain = [TRANSPOSE] if layout.chunky else []
    if complex_parts is not None:
        chain.append({"name": "virtual_tiff.complex_int", "configuration": {"data_type": complex_parts}})
    if predictor == P.HORIZONTAL:
        if dtype.kind == "f":
            chain.append({"name": "virtual_tiff.reinterpret", "configuration": {"data_type": BIT_PATTERNS[dtype.str[1:]]}})
        chain.append({"name": "imagecodecs_delta", "configuration": {"axis": x_axis(layout), "dist": 1}})
    if predictor == P.FLOATINGPOINT:
        chain.append({"name": "imagecodecs_floatpred", "configuration": {"axis": x_axis(layout), "dist": 1}})
    elif dtype.itemsize == 1:
        chain.append({"name": "bytes"})
    else:
        chain.append({"name": "bytes", "configuration": {"endian": "big" if byteorder == ">" else "little"}})
    if layout.short_rows is not None:
        chain.append(zero_pad(pad))
    if BYTES_COMPRESSORS[compression] is not None:
        chain.append(BYTES_COMPRESSORS[compression])
    return chain


def image_chain(layout: Layout, serializer: dict, *after: dict) -> list[dict]:
    chain = [TRANSPOSE] if layout.chunky else []
    chain.append(serializer if layout.short_rows is None else short_strip(serializer, layout))
    return [*chain, *after]


# --------------------------------------------------------------------------- whole chains, written out

B64 = base64.b64encode(b"\xff\xd8\xff\xdb\x00\x43\x00\xff\xd9").decode()
LERC_NAN = {"name": "virtual_tiff.lerc", "configuration": {"masked_value": "NaN"}}

#: (id, IFD arguments, the chain of the IFD as the build derives it).
LITERAL = [
    ("uint8-none-single-strips", dict(layout="single-strips", bits=8), [{"name": "bytes"}]),
    ("uint16-be-none-one-strip", dict(layout="single-one-strip", byteorder=">"),
     [{"name": "bytes", "configuration": {"endian": "big"}}]),
    ("uint16-le-deflate-pred2-chunky-tiles", dict(layout="chunky-tiles", compression=C.DEFLATE, predictor=P.HORIZONTAL),
     [TRANSPOSE, {"name": "imagecodecs_delta", "configuration": {"axis": -2, "dist": 1}},
      {"name": "bytes", "configuration": {"endian": "little"}}, ZLIB]),
    ("int16-be-lzw-pred2-single-partial-strip",
     dict(layout="single-partial-strip", fmt=SampleFormat.INT, byteorder=">", compression=C.LZW,
          predictor=P.HORIZONTAL),
     [{"name": "imagecodecs_delta", "configuration": {"axis": -1, "dist": 1}},
      {"name": "bytes", "configuration": {"endian": "big"}}, zero_pad(120 * 2 * 7), {"name": "imagecodecs_lzw"}]),
    ("uint64-le-lzma-chunky-partial-strip", dict(layout="chunky-partial-strip", bits=64, compression=C.LZMA),
     [TRANSPOSE, {"name": "bytes", "configuration": {"endian": "little"}}, zero_pad(120 * 3 * 8 * 7),
      {"name": "numcodecs.lzma", "configuration": {"format": 1, "check": -1}}]),
    ("float32-be-zstd-pred3-planar-partial-strip",
     dict(layout="planar-partial-strip", bits=32, fmt=SampleFormat.IEEEFP, byteorder=">", compression=C.ZSTD,
          predictor=P.FLOATINGPOINT),
     [{"name": "imagecodecs_floatpred", "configuration": {"axis": -1, "dist": 1}}, zero_pad(120 * 4 * 7), ZSTD]),
    ("float64-le-deflate-pred3-chunky-strips",
     dict(layout="chunky-strips", bits=64, fmt=SampleFormat.IEEEFP, compression=C.ADOBE_DEFLATE,
          predictor=P.FLOATINGPOINT),
     [TRANSPOSE, {"name": "imagecodecs_floatpred", "configuration": {"axis": -2, "dist": 1}}, ZLIB]),
    ("complex64-be-packbits-planar-tiles",
     dict(layout="planar-tiles", bits=64, fmt=SampleFormat.COMPLEXIEEEFP, byteorder=">", compression=C.PACKBITS),
     [{"name": "bytes", "configuration": {"endian": "big"}}, {"name": "imagecodecs_packbits"}]),
    ("cint16-be-deflate-chunky-partial-strip",
     dict(layout="chunky-partial-strip", bits=32, fmt=SampleFormat.COMPLEXINT, byteorder=">", compression=C.DEFLATE),
     [TRANSPOSE, {"name": "virtual_tiff.complex_int", "configuration": {"data_type": "int16"}},
      {"name": "bytes", "configuration": {"endian": "big"}}, zero_pad(120 * 3 * 4 * 7), ZLIB]),
    ("cint32-le-none-planar-tiles", dict(layout="planar-tiles", bits=64, fmt=SampleFormat.COMPLEXINT),
     [{"name": "virtual_tiff.complex_int", "configuration": {"data_type": "int32"}},
      {"name": "bytes", "configuration": {"endian": "little"}}]),
    ("float32-be-deflate-pred2-chunky-tiles",
     dict(layout="chunky-tiles", bits=32, fmt=SampleFormat.IEEEFP, byteorder=">", compression=C.DEFLATE,
          predictor=P.HORIZONTAL),
     [TRANSPOSE, {"name": "virtual_tiff.reinterpret", "configuration": {"data_type": "uint32"}},
      {"name": "imagecodecs_delta", "configuration": {"axis": -2, "dist": 1}},
      {"name": "bytes", "configuration": {"endian": "big"}}, ZLIB]),
    ("void8-none-single-tiles", dict(layout="single-tiles", bits=8, fmt=SampleFormat.VOID), [{"name": "bytes"}]),
    ("packed12-deflate-chunky-tiles", dict(layout="chunky-tiles", bits=12, compression=C.DEFLATE),
     [TRANSPOSE, {"name": "imagecodecs_packints", "configuration": {"bitspersample": 12, "runlen": 48 * 3}}, ZLIB]),
    ("packed1-none-single-partial-strip", dict(layout="single-partial-strip", bits=1),
     [{"name": "imagecodecs_packints", "configuration": {"bitspersample": 1, "runlen": 120}}, zero_pad(15 * 7)]),
    ("packed4-be-zstd-planar-strips", dict(layout="planar-strips", bits=4, byteorder=">", compression=C.ZSTD),
     [{"name": "imagecodecs_packints", "configuration": {"bitspersample": 4, "runlen": 120}}, ZSTD]),
    ("jpeg-ycbcr-tables-chunky-tiles",
     dict(layout="chunky-tiles", bits=8, compression=C.JPEG, photometric=Photometric.YCBCR,
          tags={Tag.JPEGTables: base64.b64decode(B64)}),
     [TRANSPOSE, {"name": "imagecodecs_jpeg", "configuration": {
         "tables": B64, "colorspace_jpeg": "YCbCr", "colorspace_data": "RGB"}}]),
    ("jpeg-gray-single-partial-strip",
     dict(layout="single-partial-strip", bits=8, compression=C.JPEG, photometric=Photometric.MINISBLACK),
     [{"name": "virtual_tiff.short_strip", "configuration": {
         "codec": {"name": "imagecodecs_jpeg",
                   "configuration": {"colorspace_jpeg": "GRAYSCALE", "colorspace_data": "GRAYSCALE"}},
         "rows": 2, "axis": -2}}]),
    ("webp-rgb-chunky-partial-strip",
     dict(layout="chunky-partial-strip", bits=8, compression=C.WEBP, photometric=Photometric.RGB),
     [TRANSPOSE, {"name": "virtual_tiff.short_strip",
                  "configuration": {"codec": {"name": "imagecodecs_webp"}, "rows": 2, "axis": -3}}]),
    ("lerc-zstd-float32-single-partial-strip",
     dict(layout="single-partial-strip", bits=32, fmt=SampleFormat.IEEEFP, compression=C.LERC,
          tags={Tag.LercParameters: u32(4, 2)}),
     [{"name": "virtual_tiff.short_strip", "configuration": {"codec": LERC_NAN, "rows": 2, "axis": -2}}, ZSTD]),
    ("ccitt-group4-bilevel-single-strips", dict(layout="single-strips", bits=1, compression=C.CCITT_T6),
     [{"name": "imagecodecs_ccittfax4"}]),
]


@pytest.mark.parametrize(("arguments", "chain"), [pytest.param(a, c, id=i) for i, a, c in LITERAL])
def test_literal_chains(arguments, chain):
    arguments = dict(arguments)
    ifd = make_ifd(LAYOUT[arguments.pop("layout")], **arguments)
    assert codec_chain(derived_encoding(ifd), ifd) == chain


# --------------------------------------------------------------------------- byte codecs: compression x layout


#: (id, BitsPerSample, SampleFormat, byte order, Predictor) of the compression x layout matrix.
COMPRESSION_SAMPLES = [
    ("uint16-le", 16, SampleFormat.UINT, "<", P.NONE),
    ("uint16-be-pred2", 16, SampleFormat.UINT, ">", P.HORIZONTAL),
    ("float32-be-pred3", 32, SampleFormat.IEEEFP, ">", P.FLOATINGPOINT),
]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lo: lo.id)
@pytest.mark.parametrize("compression", list(BYTES_COMPRESSORS), ids=lambda c: c.name)
@pytest.mark.parametrize(("bits", "fmt", "byteorder", "predictor"),
                         [pytest.param(*row[1:], id=row[0]) for row in COMPRESSION_SAMPLES])
def test_byte_compression_chains(bits, fmt, byteorder, predictor, compression, layout):
    ifd = make_ifd(layout, bits=bits, fmt=fmt, byteorder=byteorder, compression=compression, predictor=predictor)
    enc = encoding(ifd, layout)
    assert codec_chain(enc, ifd) == bytes_chain(layout, enc.dtype, byteorder, predictor, compression, enc.pad_to)


# --------------------------------------------------------------------------- dtype x byte order x predictor x layout

#: (BitsPerSample, SampleFormat) -> dtype, and the predictors that apply to it (Predictor 2 on floats differences
#: their bit patterns, as libtiff does).
SAMPLES = [
    (8, SampleFormat.UINT, "u1", (P.NONE, P.HORIZONTAL)),
    (8, SampleFormat.INT, "i1", (P.NONE, P.HORIZONTAL)),
    (8, SampleFormat.VOID, "u1", (P.NONE, P.HORIZONTAL)),
    (16, SampleFormat.UINT, "u2", (P.NONE, P.HORIZONTAL)),
    (16, SampleFormat.INT, "i2", (P.NONE, P.HORIZONTAL)),
    (32, SampleFormat.UINT, "u4", (P.NONE, P.HORIZONTAL)),
    (32, SampleFormat.INT, "i4", (P.NONE, P.HORIZONTAL)),
    (64, SampleFormat.UINT, "u8", (P.NONE, P.HORIZONTAL)),
    (64, SampleFormat.INT, "i8", (P.NONE, P.HORIZONTAL)),
    (16, SampleFormat.IEEEFP, "f2", (P.NONE, P.HORIZONTAL, P.FLOATINGPOINT)),
    (32, SampleFormat.IEEEFP, "f4", (P.NONE, P.HORIZONTAL, P.FLOATINGPOINT)),
    (64, SampleFormat.IEEEFP, "f8", (P.NONE, P.HORIZONTAL, P.FLOATINGPOINT)),
    (64, SampleFormat.COMPLEXIEEEFP, "c8", (P.NONE,)),
    (128, SampleFormat.COMPLEXIEEEFP, "c16", (P.NONE,)),
    (32, SampleFormat.COMPLEXINT, "c8", (P.NONE,)),
    (64, SampleFormat.COMPLEXINT, "c16", (P.NONE,)),
]


@pytest.mark.parametrize("layout", KEY_LAYOUTS, ids=lambda lo: lo.id)
@pytest.mark.parametrize(
    ("bits", "fmt", "dtype", "byteorder", "predictor"),
    [
        pytest.param(bits, fmt, dtype, bo, pred, id=f"{dtype}-{fmt.name}-{'le' if bo == '<' else 'be'}-{pred.name}")
        for bits, fmt, dtype, predictors in SAMPLES
        for bo in ("<", ">")
        for pred in predictors
    ],
)
def test_sample_type_chains(bits, fmt, dtype, byteorder, predictor, layout):
    ifd = make_ifd(layout, bits=bits, fmt=fmt, byteorder=byteorder, compression=C.DEFLATE, predictor=predictor)
    enc = encoding(ifd, layout)
    assert enc.dtype == np.dtype(dtype) and enc.sample.packed_bits is None
    assert codec_chain(enc, ifd) == bytes_chain(layout, np.dtype(dtype), byteorder, predictor, C.DEFLATE, enc.pad_to,
                                                enc.sample.complex_parts)


# --------------------------------------------------------------------------- YCbCr data units

YCBCR_DEFAULTS = {"coefficients": [0.299, 0.587, 0.114], "reference_black_white": [0.0, 255.0, 128.0, 255.0, 128.0, 255.0]}


def ycbcr_ifd(layout: Layout, compression: Compression = C.NONE, **tags: object) -> IFD:
    return make_ifd(layout, bits=8, compression=compression, photometric=Photometric.YCBCR,
                    tags={getattr(Tag, k): v for k, v in tags.items()})


@pytest.mark.parametrize("compression", list(BYTES_COMPRESSORS), ids=lambda c: c.name)
@pytest.mark.parametrize(("layout", "subsampling"), [(LAYOUT["chunky-tiles"], (2, 2)), (LAYOUT["chunky-strips"], (2, 1)),
                                                     (LAYOUT["chunky-tiles"], (1, 1)), (LAYOUT["chunky-strips"], (4, 2))],
                         ids=lambda v: v.id if isinstance(v, Layout) else "x".join(map(str, v)))
def test_ycbcr_data_units_decode_to_rgb(compression, layout, subsampling):
    """YCbCr not JPEG-compressed: ``virtual_tiff.ycbcr`` is the serializer, the compressor after it."""
    ifd = ycbcr_ifd(layout, compression, YCbCrSubSampling=u16(*subsampling))
    enc = derived_encoding(ifd)
    assert enc.subsampling == subsampling
    compressor = [] if BYTES_COMPRESSORS[compression] is None else [BYTES_COMPRESSORS[compression]]
    assert codec_chain(enc, ifd) == [TRANSPOSE, {"name": "virtual_tiff.ycbcr", "configuration": {
        "subsampling": list(subsampling), **YCBCR_DEFAULTS}}, *compressor]


def test_ycbcr_carries_its_tags_the_short_strip_and_the_default_subsampling():
    """YCbCrSubSampling defaults to 2 x 2 (TIFF 6.0, libtiff); YCbCrCoefficients and ReferenceBlackWhite as stored."""
    values = hand_made_ifd({Tag.YCbCrCoefficients: np.array([0.2126, 0.7152, 0.0722]),
                            Tag.ReferenceBlackWhite: np.array([16.0, 235, 128, 240, 128, 240])}).tags
    strips_of_8 = Layout("chunky-strips-of-8", 3, CONTIG, False, 8, 3, WIDTH, 4)  # 100 rows = 12 x 8 + 4
    ifd = ycbcr_ifd(strips_of_8, C.DEFLATE, YCbCrCoefficients=values[Tag.YCbCrCoefficients],
                    ReferenceBlackWhite=values[Tag.ReferenceBlackWhite])
    assert codec_chain(derived_encoding(ifd), ifd) == [TRANSPOSE, {"name": "virtual_tiff.ycbcr", "configuration": {
        "subsampling": [2, 2], "coefficients": [0.2126, 0.7152, 0.0722],
        "reference_black_white": [16.0, 235.0, 128.0, 240.0, 128.0, 240.0], "short_rows": 4}}, ZLIB]


@pytest.mark.parametrize(
    ("layout", "bits", "tags", "tag", "reason"),
    [
        pytest.param(LAYOUT["planar-tiles"], 8, {}, "PhotometricInterpretation (262)", "YCbCr other than 8-bit samples.*", id="planar"),
        pytest.param(LAYOUT["chunky-tiles"], 16, {}, "PhotometricInterpretation (262)", "YCbCr other than 8-bit samples.*", id="16-bit"),
        pytest.param(CMYK_TILES, 8, {}, "PhotometricInterpretation (262)", "YCbCr other than 8-bit samples.*", id="4-samples"),
        pytest.param(LAYOUT["chunky-tiles"], 8, {Tag.Predictor: u16(2)}, "Predictor (317)",
                     "HORIZONTAL predictor on YCbCr data units", id="predictor"),
        pytest.param(LAYOUT["chunky-tiles"], 8, {Tag.YCbCrSubSampling: u16(3, 1)}, "YCbCrSubSampling (530)",
                     r"YCbCrSubSampling \(3, 1\): TIFF allows 1, 2 or 4, vertical at most horizontal", id="subsampling-3"),
        pytest.param(LAYOUT["chunky-partial-strip"], 8, {Tag.YCbCrSubSampling: u16(4, 4)}, "YCbCrSubSampling (530)",
                     r"YCbCrSubSampling \(4, 4\): chunks that are not whole blocks of it", id="strip-of-7-rows-4x4"),
    ],
)
def test_ycbcr_that_libtiff_does_not_decode_is_refused(layout, bits, tags, tag, reason):
    ifd = make_ifd(layout, bits=bits, compression=C.DEFLATE, photometric=Photometric.YCBCR, tags=tags)
    with pytest.raises(UnsupportedTIFFError, match=reason) as info:
        codec_chain(derived_encoding(ifd), ifd)
    assert info.value.tag == tag


# --------------------------------------------------------------------------- FillOrder 2

BITORDER = {"name": "virtual_tiff.bitorder"}


@pytest.mark.parametrize("layout", KEY_LAYOUTS, ids=lambda lo: lo.id)
@pytest.mark.parametrize("compression", list(BYTES_COMPRESSORS), ids=lambda c: c.name)
def test_fill_order_2_reverses_the_stored_bytes_first(compression, layout):
    """The stored bytes' bits are reversed before anything else decodes them: the last codec, decoded first."""
    ifd = make_ifd(layout, compression=compression, predictor=P.HORIZONTAL, tags={Tag.FillOrder: u16(2)})
    enc = encoding(ifd, layout)
    assert codec_chain(enc, ifd) == [*bytes_chain(layout, enc.dtype, "<", P.HORIZONTAL, compression, enc.pad_to),
                                     BITORDER]


@pytest.mark.parametrize("compression", [C.CCITTRLE, C.CCITT_T4, C.CCITT_T6], ids=lambda c: c.name)
def test_fill_order_2_ccitt_reverses_the_stream_first(compression):
    ifd = make_ifd(LAYOUT["single-strips"], bits=1, compression=compression, tags={Tag.FillOrder: u16(2)})
    chain = codec_chain(derived_encoding(ifd), ifd)
    assert chain[-1] == BITORDER and chain[0]["name"].startswith("imagecodecs_ccitt") and len(chain) == 2


def test_fill_order_2_leaves_jpeg_as_stored():
    """libtiff and tifffile never reverse a JPEG stream: the chain is FillOrder 1's."""
    ifd = make_ifd(LAYOUT["chunky-tiles"], bits=8, compression=C.JPEG, photometric=Photometric.RGB,
                   tags={Tag.FillOrder: u16(2)})
    assert codec_chain(derived_encoding(ifd), ifd) == image_chain(LAYOUT["chunky-tiles"], jpeg("RGB", "RGB"))


# --------------------------------------------------------------------------- bit-packed samples


@pytest.mark.parametrize("layout", KEY_LAYOUTS, ids=lambda lo: lo.id)
@pytest.mark.parametrize("compression", [C.NONE, C.DEFLATE], ids=lambda c: c.name)
@pytest.mark.parametrize("byteorder", ["<", ">"], ids=["le", "be"])
@pytest.mark.parametrize(("bits", "container"), [(1, "u1"), (4, "u1"), (12, "u2"), (20, "u4")],
                         ids=lambda v: str(v))
def test_bit_packed_chains(bits, container, byteorder, compression, layout):
    """``imagecodecs_packints`` is the serializer, one run per chunk row; the byte order plays no part."""
    ifd = make_ifd(layout, bits=bits, byteorder=byteorder, compression=compression)
    enc = encoding(ifd, layout)
    assert enc.sample == SampleType(np.dtype(container), packed_bits=bits)
    runlen = layout.chunk_width * layout.chunky_bands
    chain = [TRANSPOSE] if layout.chunky else []
    chain.append({"name": "imagecodecs_packints", "configuration": {"bitspersample": bits, "runlen": runlen}})
    if layout.short_rows is not None:
        chain.append(zero_pad(math.ceil(runlen * bits / 8) * PARTIAL_ROWS))
    if compression == C.DEFLATE:
        chain.append(ZLIB)
    assert codec_chain(enc, ifd) == chain


# --------------------------------------------------------------------------- image codecs

#: Image codecs whose chain is one codec with no configuration, or a fixed one.
IMAGE_CODECS = {
    C.PNG: {"name": "imagecodecs_png"},
    C.WEBP: {"name": "imagecodecs_webp"},
    C.JPEGXL: {"name": "imagecodecs_jpegxl"},
    C.JPEGXL_DNG: {"name": "imagecodecs_jpegxl"},
    C.JPEG2000: {"name": "imagecodecs_jpeg2k"},
    C.JPEGXR: {"name": "imagecodecs_jpegxr"},
    C.CCITTRLE: {"name": "imagecodecs_ccittrle"},
    C.CCITT_T4: {"name": "imagecodecs_ccittfax3", "configuration": {"t4options": 0}},
    C.CCITT_T6: {"name": "imagecodecs_ccittfax4"},
}


@pytest.mark.parametrize("layout", KEY_LAYOUTS, ids=lambda lo: lo.id)
@pytest.mark.parametrize("compression", list(IMAGE_CODECS), ids=lambda c: c.name)
def test_image_codec_chains(compression, layout):
    """The image codec is the serializer: nothing but ``transpose`` before it, no compressor after it."""
    ifd = make_ifd(layout, bits=8, compression=compression)
    assert codec_chain(encoding(ifd, layout), ifd) == image_chain(layout, IMAGE_CODECS[compression])


def test_ccitt_group3_carries_its_t4_options():
    ifd = make_ifd(LAYOUT["single-strips"], bits=1, compression=C.CCITT_T4, tags={Tag.T4Options: u32(5)})
    assert codec_chain(derived_encoding(ifd), ifd) == [
        {"name": "imagecodecs_ccittfax3", "configuration": {"t4options": 5}}]


def jpeg(colorspace_jpeg: str, colorspace_data: str, tables: str | None = None) -> dict:
    config = {"colorspace_jpeg": colorspace_jpeg, "colorspace_data": colorspace_data}
    return {"name": "imagecodecs_jpeg", "configuration": config if tables is None else {"tables": tables, **config}}


TABLES_ARRAY = np.frombuffer(base64.b64decode(B64), np.uint8)

#: (id, layout, Photometric, JPEGTables, the JPEG codec): the colour space follows the Photometric,
#: YCbCr decodes to RGB, and each band of a band-interleaved image is a one-component JPEG.
JPEG_ROWS = [
    ("gray-tiles", LAYOUT["single-tiles"], Photometric.MINISBLACK, None, jpeg("GRAYSCALE", "GRAYSCALE")),
    ("gray-tables-bytes", LAYOUT["single-strips"], Photometric.MINISBLACK, base64.b64decode(B64),
     jpeg("GRAYSCALE", "GRAYSCALE", B64)),
    ("gray-partial-strip", LAYOUT["single-partial-strip"], Photometric.MINISBLACK, None,
     jpeg("GRAYSCALE", "GRAYSCALE")),
    ("rgb-chunky-tables-array", LAYOUT["chunky-tiles"], Photometric.RGB, TABLES_ARRAY, jpeg("RGB", "RGB", B64)),
    ("rgb-chunky-partial-strip", LAYOUT["chunky-partial-strip"], Photometric.RGB, None, jpeg("RGB", "RGB")),
    ("ycbcr-chunky-tiles", LAYOUT["chunky-tiles"], Photometric.YCBCR, None, jpeg("YCbCr", "RGB")),
    ("ycbcr-chunky-partial-strip", LAYOUT["chunky-partial-strip"], Photometric.YCBCR, TABLES_ARRAY,
     jpeg("YCbCr", "RGB", B64)),
    ("cmyk-chunky-tiles", CMYK_TILES, Photometric.SEPARATED, None, jpeg("CMYK", "CMYK")),
    ("rgb-planar-tiles", LAYOUT["planar-tiles"], Photometric.RGB, None, jpeg("GRAYSCALE", "GRAYSCALE")),
    ("ycbcr-planar-strips", LAYOUT["planar-strips"], Photometric.YCBCR, None, jpeg("GRAYSCALE", "GRAYSCALE")),
    ("rgb-planar-partial-strip", LAYOUT["planar-partial-strip"], Photometric.RGB, TABLES_ARRAY,
     jpeg("GRAYSCALE", "GRAYSCALE", B64)),
    ("no-photometric", LAYOUT["single-tiles"], None, None, {"name": "imagecodecs_jpeg", "configuration": {}}),
    # RGB + alpha, grey + alpha, three-band grey (GDAL, libtiff): other components than the colour space, none
    # transformed; libjpeg copies 3 and 4 components unconverted when told RGB or CMYK on both sides.
    ("rgb-alpha-chunky-tiles", CMYK_TILES, Photometric.RGB, None, jpeg("CMYK", "CMYK")),
    ("gray-3-bands-chunky-tiles", LAYOUT["chunky-tiles"], Photometric.MINISBLACK, None, jpeg("RGB", "RGB")),
    ("gray-alpha-chunky-tiles", GRAY_ALPHA_TILES, Photometric.MINISBLACK, TABLES_ARRAY, jpeg("UNKNOWN", "UNKNOWN", B64)),
]


@pytest.mark.parametrize(("layout", "photometric", "tables", "codec"),
                         [pytest.param(*row[1:], id=row[0]) for row in JPEG_ROWS])
def test_jpeg_chains(layout, photometric, tables, codec):
    extra = {} if tables is None else {Tag.JPEGTables: tables}
    ifd = make_ifd(layout, bits=8, compression=C.JPEG, photometric=photometric, tags=extra)
    assert codec_chain(encoding(ifd, layout), ifd) == image_chain(layout, codec)


def test_ycbcr_jpeg_with_extra_samples_is_refused_naming_extra_samples():
    ifd = make_ifd(CMYK_TILES, bits=8, compression=C.JPEG, photometric=Photometric.YCBCR)
    with pytest.raises(UnsupportedTIFFError, match="YCbCr JPEG with 4 samples per pixel") as info:
        codec_chain(encoding(ifd, CMYK_TILES), ifd)
    assert info.value.tag.startswith("ExtraSamples")


def lerc(masked_value) -> dict:
    return {"name": "virtual_tiff.lerc", "configuration": {"masked_value": masked_value}}


#: (id, layout, BitsPerSample, SampleFormat, LercParameters, GDAL_NODATA, the LERC codec, what follows it):
#: the masked value is GDAL_NODATA, else NaN for floats and 0 for integers.
LERC_ROWS = [
    ("uint8-no-parameters", LAYOUT["single-tiles"], 8, SampleFormat.UINT, None, None, lerc(0), []),
    ("uint8-lerc-only", LAYOUT["chunky-tiles"], 8, SampleFormat.UINT, (4, 0), None, lerc(0), []),
    ("float32-deflate", LAYOUT["single-tiles"], 32, SampleFormat.IEEEFP, (4, 1), None, lerc("NaN"), [ZLIB]),
    ("float32-zstd-nodata", LAYOUT["single-tiles"], 32, SampleFormat.IEEEFP, (4, 2), "-9999", lerc(-9999), [ZSTD]),
    ("float32-nodata-decimal", LAYOUT["planar-tiles"], 32, SampleFormat.IEEEFP, (4, 0), "1.5e3", lerc(1500.0), []),
    ("float32-nodata-nan", LAYOUT["single-tiles"], 32, SampleFormat.IEEEFP, (4, 1), "nan", lerc("NaN"), [ZLIB]),
    ("int16-nodata-partial-strip", LAYOUT["chunky-partial-strip"], 16, SampleFormat.INT, (4, 1), "-32768",
     lerc(-32768), [ZLIB]),
    ("float64-zstd-planar-partial-strip", LAYOUT["planar-partial-strip"], 64, SampleFormat.IEEEFP, (4, 2), None,
     lerc("NaN"), [ZSTD]),
    ("complex64-is-floating", LAYOUT["single-tiles"], 64, SampleFormat.COMPLEXIEEEFP, None, None, lerc("NaN"), []),
]


@pytest.mark.parametrize(("layout", "bits", "fmt", "parameters", "nodata", "codec", "after"),
                         [pytest.param(*row[1:], id=row[0]) for row in LERC_ROWS])
def test_lerc_chains(layout, bits, fmt, parameters, nodata, codec, after):
    extra: dict[int, object] = {}
    if parameters is not None:
        extra[Tag.LercParameters] = u32(*parameters)
    if nodata is not None:
        extra[Tag.GDAL_NODATA] = nodata
    ifd = make_ifd(layout, bits=bits, fmt=fmt, compression=C.LERC, tags=extra)
    assert codec_chain(encoding(ifd, layout), ifd) == image_chain(layout, codec, *after)


# --------------------------------------------------------------------------- refusals


@dataclass(frozen=True)
class Refusal:
    id: str
    ifd: dict
    #: The tag the error names, as ``Name (code)``.
    tag: str
    #: A regular expression the whole reason matches.
    reason: str
    layout: Layout = LAYOUT["single-tiles"]


PREDICTOR, PHOTOMETRIC = "Predictor (317)", "PhotometricInterpretation (262)"
#: name -> (BitsPerSample, SampleFormat, dtype).
COMPLEX_SAMPLES = {"complex64": (64, SampleFormat.COMPLEXIEEEFP, "complex64"),
                   "complex128": (128, SampleFormat.COMPLEXIEEEFP, "complex128"),
                   "CInt16": (32, SampleFormat.COMPLEXINT, "complex64"),
                   "CInt32": (64, SampleFormat.COMPLEXINT, "complex128")}
INT_SAMPLES = {"uint8": (8, SampleFormat.UINT), "int16": (16, SampleFormat.INT), "uint32": (32, SampleFormat.UINT),
               "int64": (64, SampleFormat.INT), "complex64": (64, SampleFormat.COMPLEXIEEEFP)}
WITHOUT_CODEC = [C.JBIG_BW, C.JBIG_COLOR, C.NEXT, C.CCITTRLEW, C.THUNDERSCAN, C.PIXARLOG, C.DCS, C.JBIG,
                 C.SGILOG, C.SGILOG24, C.ZSTD_DEPRECATED, C.WEBP_DEPRECATED]
IMAGE_COMPRESSIONS = [C.JPEG, C.PNG, C.WEBP, C.JPEGXL, C.JPEGXL_DNG, C.JPEG2000, C.JPEGXR, C.LERC, C.CCITTRLE,
                      C.CCITT_T4, C.CCITT_T6]

REFUSALS = [
    # Predictor 2 on complex samples (libtiff and tifffile do not undo it either).
    *(Refusal(f"horizontal-on-{name}", dict(bits=bits, fmt=fmt, compression=C.DEFLATE, predictor=P.HORIZONTAL),
              PREDICTOR, f"HORIZONTAL predictor on {dtype} samples", layout)
      for name, (bits, fmt, dtype) in COMPLEX_SAMPLES.items() for layout in (LAYOUT["single-tiles"], LAYOUT["chunky-strips"])),
    # Complex integers in an image codec: none decodes integer pairs.
    *(Refusal(f"complex-int-with-{c.name}", dict(bits=32, fmt=SampleFormat.COMPLEXINT, compression=c),
              "SampleFormat (339)", f"COMPLEXINT samples compressed with {c.name}")
      for c in (C.LERC, C.JPEG2000, C.PNG)),
    # Predictor 3 on integer (and complex) samples.
    *(Refusal(f"floatingpoint-on-{name}", dict(bits=bits, fmt=fmt, compression=C.ZSTD, predictor=P.FLOATINGPOINT),
              PREDICTOR, f"FLOATINGPOINT predictor on {name} samples", layout)
      for name, (bits, fmt) in INT_SAMPLES.items() for layout in (LAYOUT["single-tiles"], LAYOUT["planar-strips"])),
    # Any predictor with an image codec.
    *(Refusal(f"{predictor.name.lower()}-with-{c.name}",
              dict(bits=32 if predictor == P.FLOATINGPOINT else 8,
                   fmt=SampleFormat.IEEEFP if predictor == P.FLOATINGPOINT else SampleFormat.UINT,
                   compression=c, predictor=predictor),
              PREDICTOR, f"{predictor.name} predictor with {c.name}")
      for c in IMAGE_COMPRESSIONS for predictor in (P.HORIZONTAL, P.FLOATINGPOINT)),
    # A predictor on bit-packed samples.
    *(Refusal(f"{predictor.name.lower()}-on-{bits}-bit-packed-{c.name}",
              dict(bits=bits, compression=c, predictor=predictor),
              PREDICTOR, f"{predictor.name} on bit-packed samples", layout)
      for bits in (1, 12) for predictor in (P.HORIZONTAL, P.FLOATINGPOINT) for c in (C.NONE, C.LZW)
      for layout in (LAYOUT["single-tiles"], LAYOUT["chunky-partial-strip"])),
    # FillOrder 2 with an image codec whose stream libtiff reverses and tifffile does not; FillOrder values but 1, 2.
    *(Refusal(f"fill-order-2-{c.name}", dict(bits=8, compression=c, tags={Tag.FillOrder: u16(2)}),
              "FillOrder (266)", rf"FillOrder LSB2MSB \(reversed bits\) with {c.name}: libtiff reverses the stream, "
              "tifffile does not")
      for c in (C.PNG, C.WEBP, C.JPEGXL, C.JPEG2000, C.JPEGXR, C.LERC)),
    *(Refusal(f"fill-order-{v}", dict(bits=8, compression=C.DEFLATE, tags={Tag.FillOrder: u16(v)}),
              "FillOrder (266)", f"unknown FillOrder value {v}")
      for v in (0, 3)),
    # YCbCr in an image codec other than JPEG: it returns pixels, not the data units YCbCr stores.
    *(Refusal(f"ycbcr-with-{c.name}", dict(bits=8, compression=c, photometric=Photometric.YCBCR), PHOTOMETRIC,
              f"YCbCr samples compressed with {c.name}: the codec does not return data units", LAYOUT["chunky-tiles"])
      for c in (C.PNG, C.WEBP, C.LERC, C.JPEG2000)),
    # JPEG of a colour space it has no decoder setting for.
    *(Refusal(f"jpeg-{ph.name}", dict(bits=8, compression=C.JPEG, photometric=ph), PHOTOMETRIC,
              f"JPEG with Photometric {ph.name}")
      for ph in (Photometric.MINISWHITE, Photometric.PALETTE, Photometric.CIELAB, Photometric.MASK)),
    # Old-style JPEG: libtiff rebuilds its streams, which no codec (nor tifffile) does.
    Refusal("no-codec-OJPEG-says-why", dict(bits=8, compression=C.OJPEG), "Compression (259)",
            r"Compression OJPEG \(6\) has no Zarr codec: old-style JPEG strips are rarely JPEG streams .*"),
    # Compressions no Zarr codec decodes.
    *(Refusal(f"no-codec-{c.name}", dict(bits=8, compression=c), "Compression (259)",
              rf"Compression {c.name} \({int(c)}\) has no Zarr codec")
      for c in WITHOUT_CODEC),
    # LERC with an additional compression it does not name.
    Refusal("lerc-additional-compression-3", dict(bits=32, fmt=SampleFormat.IEEEFP, compression=C.LERC,
                                                  tags={Tag.LercParameters: u32(4, 3)}),
            "LercParameters (50674)", "LERC additional compression 3"),
    # A Photometric code outside the enum is refused where the chain asks for it.
    Refusal("unknown-photometric-7", dict(bits=8, compression=C.DEFLATE, photometric=7), PHOTOMETRIC,
            "unknown Photometric value 7"),
]


@pytest.mark.parametrize("refusal", REFUSALS, ids=lambda r: f"{r.id}-{r.layout.id}")
def test_refused_combinations_name_the_tag(refusal):
    ifd = make_ifd(refusal.layout, **refusal.ifd)
    enc = encoding(ifd, refusal.layout)
    with pytest.raises(UnsupportedTIFFError, match=refusal.reason) as info:
        codec_chain(enc, ifd)
    error = info.value
    assert type(error) is UnsupportedTIFFError
    assert re.fullmatch(refusal.reason, error.reason), error.reason
    assert (error.url, error.ifd, error.tag) == (URL, "0", refusal.tag)
    assert str(error).startswith(f"{URL}: IFD 0: {refusal.tag}: ")


@pytest.mark.parametrize(
    ("tag", "code", "label"),
    [
        pytest.param(Tag.Compression, 12345, "Compression (259)", id="Compression-12345"),
        pytest.param(Tag.Compression, 0, "Compression (259)", id="Compression-0"),
        pytest.param(Tag.Predictor, 4, "Predictor (317)", id="Predictor-4"),
        pytest.param(Tag.PlanarConfiguration, 3, "PlanarConfiguration (284)", id="PlanarConfiguration-3"),
    ],
)
def test_codes_outside_the_enums_are_refused_before_a_chain(tag, code, label):
    """An unknown Compression or Predictor never reaches the table: the IFD refuses to name it."""
    ifd = make_ifd(LAYOUT["single-tiles"], tags={tag: u16(code)})
    with pytest.raises(UnsupportedTIFFError, match=rf"unknown {tag.name} value {code}") as info:
        derived_encoding(ifd)
    assert type(info.value) is UnsupportedTIFFError and info.value.tag == label
