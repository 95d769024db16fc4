"""The one place where TIFF compression, predictor and layout become a Zarr v3 codec chain.

Chains use core Zarr codecs first and imagecodecs-zarr's codecs otherwise,
with exactly their names and configurations, so a store opens with zarr and
imagecodecs-zarr installed and without importing virtual_tiff.

A chain reads, in encode order: ``transpose`` (chunky pixels), the complex integers' parts
(``virtual_tiff.complex_int``), an optional predictor filter (on floats, after
``virtual_tiff.reinterpret`` views their bit patterns as integers), one array->bytes serializer,
and an optional compressor; ``virtual_tiff.bitorder`` last, decoded first, when FillOrder is 2.

Why Deflate is ``numcodecs.zlib``, even where the chain already needs imagecodecs (predictor
2's ``imagecodecs_delta``): it is the portable name (zarr + numcodecs, also zarrs), and
imagecodecs-zarr's ``imagecodecs_deflate`` is no faster, because it does not pass the decoded
size either, and without it imagecodecs decodes with zlib, not libdeflate. The speed of
libdeflate comes from the read side instead: our codec pipeline decodes a Deflate step that feeds
the ``bytes`` serializer with its known size (:data:`virtual_tiff.read.pipeline.SIZED_DECODERS`),
so stores stay readable by any zarr and read fast through virtual-tiff.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

# The codec classes the chains name, registered as this layer loads: zarr would otherwise import
# imagecodecs.zarr (60 ms: 80 codec dataclasses) through its registry inside the first parse, on
# the clock of the first read of a fresh process. numcodecs.zarr3 is zarr's numcodecs.* names.
import imagecodecs.zarr  # noqa: F401
import numcodecs.zarr3  # noqa: F401
import numpy as np

from virtual_tiff.build._chunks import ChunkGrid
from virtual_tiff.build._dtypes import SampleType
from virtual_tiff.codecs import (
    BITORDER,
    COMPLEX_INT,
    MASKED_LERC,
    REINTERPRET,
    SHORT_STRIP,
    YCBCR,
    ZERO_PAD,
    json_number,
)
from virtual_tiff.errors import UnsupportedTIFFError
from virtual_tiff.geo import parse_nodata
from virtual_tiff.tiff import (
    IFD,
    Compression,
    FillOrder,
    Photometric,
    PlanarConfiguration,
    Predictor,
    SampleFormat,
    Tag,
)

Codec = dict[str, object]


@dataclass(frozen=True)
class ChunkEncoding:
    """What decides the codec chain of one IFD's chunks."""

    compression: Compression
    predictor: Predictor
    sample: SampleType
    byteorder: str
    chunky_bands: int
    chunk_width: int
    #: Bytes of a full decompressed chunk when the last strip is stored short, else None.
    pad_to: int | None = None
    #: Bytes of that short last strip, decompressed: the only short size that is padded.
    short_bytes: int | None = None
    #: Rows of that short last strip, for image codecs that decode it short.
    short_rows: int | None = None
    #: YCbCrSubSampling when the chunks hold YCbCr data units (see :func:`virtual_tiff.build._chunks.ycbcr_subsampling`).
    subsampling: tuple[int, int] | None = None

    @property
    def chunky(self) -> bool:
        """Pixel-interleaved samples: stored ``(y, x, band)``, exposed ``(band, y, x)``."""
        return self.chunky_bands > 1

    @property
    def dtype(self) -> np.dtype:
        return self.sample.dtype


def chunk_encoding(ifd: IFD, sample: SampleType, grid: ChunkGrid) -> ChunkEncoding:
    """What decides ``ifd``'s codec chain, from its tags, its sample type and its chunk grid."""
    return ChunkEncoding(
        compression=ifd.compression,
        predictor=ifd.predictor,
        sample=sample,
        byteorder=ifd.byteorder,
        chunky_bands=grid.chunky_bands,
        chunk_width=grid.chunk_width,
        pad_to=grid.raw_chunk_bytes(sample) if grid.partial else None,
        short_bytes=grid.stored_bytes(sample, grid.last_rows) if grid.partial else None,
        short_rows=grid.last_rows if grid.partial else None,
        subsampling=grid.subsampling,
    )


def _zlib(_: IFD) -> Codec:
    return {"name": "numcodecs.zlib", "configuration": {"level": 6}}


def _zstd(_: IFD) -> Codec:
    return {"name": "zstd", "configuration": {"level": 0, "checksum": False}}


def _lzma(_: IFD) -> Codec:
    return {"name": "numcodecs.lzma", "configuration": {"format": 1, "check": -1}}


def _named(name: str) -> Callable[[IFD], Codec]:
    return lambda _: {"name": name}


#: Compressions that act on the serialized bytes: they follow the serializer.
BYTES_COMPRESSORS: dict[Compression, Callable[[IFD], Codec] | None] = {
    Compression.NONE: None,
    Compression.ADOBE_DEFLATE: _zlib,
    Compression.DEFLATE: _zlib,
    Compression.ZSTD: _zstd,
    Compression.LZMA: _lzma,
    Compression.LZW: _named("imagecodecs_lzw"),
    Compression.PACKBITS: _named("imagecodecs_packbits"),
}

#: JPEG's colour space per Photometric, and the components it has: YCbCr data decodes to RGB, as
#: GDAL and tifffile give it.
JPEG_COLORSPACES: dict[Photometric, tuple[str, str, int]] = {
    Photometric.MINISBLACK: ("GRAYSCALE", "GRAYSCALE", 1),
    Photometric.RGB: ("RGB", "RGB", 3),
    Photometric.YCBCR: ("YCbCr", "RGB", 3),
    Photometric.SEPARATED: ("CMYK", "CMYK", 4),
}
#: A JPEG with other components than its Photometric's (RGB + alpha, grey + alpha, three-band
#: MinIsBlack: GDAL and libtiff write these with no colour transform) decodes its components as
#: stored, as libtiff does. libjpeg's UNKNOWN means "guess" to imagecodecs, and libjpeg guesses
#: YCbCr for three unmarked components (then converts them to RGB: other pixels), so a count that
#: libjpeg has a colour space for names that space on both sides, which libjpeg copies unconverted.
JPEG_RAW_COMPONENTS: dict[int, tuple[str, str]] = {3: ("RGB", "RGB"), 4: ("CMYK", "CMYK")}
JPEG_UNKNOWN_COMPONENTS = ("UNKNOWN", "UNKNOWN")


def decoded_photometric(ifd: IFD) -> Photometric | None:
    """What the decoded samples are: YCbCr comes out as RGB (JPEG's, and ``virtual_tiff.ycbcr``'s)."""
    photometric = ifd.photometric
    if photometric == Photometric.YCBCR:
        return Photometric.RGB
    return photometric


def _jpeg(ifd: IFD) -> Codec:
    config: dict[str, object] = {}
    tables = ifd.jpeg_tables
    if tables:
        config["tables"] = base64.b64encode(tables).decode()
    photometric = ifd.photometric
    if ifd.planar_configuration == PlanarConfiguration.SEPARATE and ifd.samples_per_pixel > 1:
        # Each band of a band-interleaved image is its own one-component JPEG.
        photometric = Photometric.MINISBLACK
    if photometric is not None:
        if photometric not in JPEG_COLORSPACES:
            raise ifd.error(
                UnsupportedTIFFError, Tag.PhotometricInterpretation, f"JPEG with Photometric {photometric.name}"
            )
        jpeg, data, components = JPEG_COLORSPACES[photometric]
        samples = 1 if ifd.planar_configuration == PlanarConfiguration.SEPARATE else ifd.samples_per_pixel
        if samples != components:
            if photometric == Photometric.YCBCR:
                raise ifd.error(UnsupportedTIFFError, Tag.ExtraSamples,
                                f"YCbCr JPEG with {samples} samples per pixel: no colour transform decodes it")
            jpeg, data = JPEG_RAW_COMPONENTS.get(samples, JPEG_UNKNOWN_COMPONENTS)
        config["colorspace_jpeg"], config["colorspace_data"] = jpeg, data
    return {"name": "imagecodecs_jpeg", "configuration": config}


def _lerc(ifd: IFD) -> list[Codec]:
    """LERC with its mask applied (see :mod:`virtual_tiff.codecs.masked_lerc`), then the Deflate or
    Zstd that LercParameters says was applied on top of it."""
    params = ifd.ints(Tag.LercParameters, (4, 0))
    extra = params[1] if len(params) > 1 else 0
    after = {0: [], 1: [_zlib(ifd)], 2: [_zstd(ifd)]}.get(extra)
    if after is None:
        raise ifd.error(UnsupportedTIFFError, Tag.LercParameters, f"LERC additional compression {extra}")
    nodata = parse_nodata(ifd)
    floating = ifd.sample_format[0] in (SampleFormat.IEEEFP, SampleFormat.COMPLEXIEEEFP)
    masked = nodata if nodata is not None else (float("nan") if floating else 0)
    return [{"name": MASKED_LERC, "configuration": {"masked_value": json_number(masked)}}, *after]


#: Why a compression that users meet has no chain, for its refusal.
WITHOUT_CODEC_REASONS: dict[Compression, str] = {
    Compression.OJPEG: (
        ": old-style JPEG strips are rarely JPEG streams of their own (tables in JPEGQTables / JPEGDCTables / "
        "JPEGACTables, strips that continue one scan, a frame header libtiff rebuilds from the TIFF tags), and "
        "tifffile does not read them either"
    ),
}

#: Compressions that decode straight to pixels: they are the serializer.
IMAGE_CODECS: dict[Compression, Callable[[IFD], list[Codec]]] = {
    Compression.JPEG: lambda ifd: [_jpeg(ifd)],
    Compression.PNG: lambda _: [{"name": "imagecodecs_png"}],
    Compression.WEBP: lambda _: [{"name": "imagecodecs_webp"}],
    Compression.JPEGXL: lambda _: [{"name": "imagecodecs_jpegxl"}],
    Compression.JPEGXL_DNG: lambda _: [{"name": "imagecodecs_jpegxl"}],
    Compression.JPEG2000: lambda _: [{"name": "imagecodecs_jpeg2k"}],
    Compression.JPEGXR: lambda _: [{"name": "imagecodecs_jpegxr"}],
    Compression.LERC: _lerc,
    Compression.CCITTRLE: lambda _: [{"name": "imagecodecs_ccittrle"}],
    Compression.CCITT_T4: lambda ifd: [
        {"name": "imagecodecs_ccittfax3", "configuration": {"t4options": ifd.int(Tag.T4Options, 0)}}
    ],
    Compression.CCITT_T6: lambda _: [{"name": "imagecodecs_ccittfax4"}],
}


def _serializer(enc: ChunkEncoding, ifd: IFD) -> Codec:
    """How the decompressed bytes become samples: plain, float-predicted or bit-packed."""
    if enc.sample.packed_bits is not None:
        if enc.predictor != Predictor.NONE:
            raise ifd.error(UnsupportedTIFFError, Tag.Predictor, f"{enc.predictor.name} on bit-packed samples")
        runlen = enc.chunk_width * max(enc.chunky_bands, 1)
        return {
            "name": "imagecodecs_packints",
            "configuration": {"bitspersample": enc.sample.packed_bits, "runlen": runlen},
        }
    if enc.predictor == Predictor.FLOATINGPOINT:
        if enc.dtype.kind != "f":
            raise ifd.error(UnsupportedTIFFError, Tag.Predictor, f"FLOATINGPOINT predictor on {enc.dtype} samples")
        # Predictor 3 stores byte planes most significant first whatever the byte order.
        return {"name": "imagecodecs_floatpred", "configuration": {"axis": _sample_axis(enc), "dist": 1}}
    if enc.dtype.itemsize == 1:
        return {"name": "bytes"}
    endian = "big" if enc.byteorder == ">" else "little"
    return {"name": "bytes", "configuration": {"endian": endian}}


def _sample_axis(enc: ChunkEncoding) -> int:
    """The x axis of a chunk as the codecs see it: ``(y, x, band)`` chunky, ``(.., y, x)`` otherwise."""
    return -2 if enc.chunky else -1


#: Float samples -> the unsigned integers of their width, which libtiff's Predictor 2 differences.
FLOAT_BIT_PATTERNS: dict[str, str] = {"f2": "uint16", "f4": "uint32", "f8": "uint64"}


def _complex_parts(enc: ChunkEncoding) -> list[Codec]:
    """Complex integers are stored as their integer parts: the array's complex samples are widened from them."""
    if enc.sample.complex_parts is None:
        return []
    return [{"name": COMPLEX_INT, "configuration": {"data_type": enc.sample.complex_parts}}]


def _predictor_filter(enc: ChunkEncoding, ifd: IFD) -> list[Codec]:
    """Predictor 2 differences integers; on float samples (GDAL ``PREDICTOR=2`` on Float32), libtiff
    differences their bit patterns, so the delta runs on the ``virtual_tiff.reinterpret`` view."""
    if enc.predictor != Predictor.HORIZONTAL:
        return []
    delta = {"name": "imagecodecs_delta", "configuration": {"axis": _sample_axis(enc), "dist": 1}}
    if enc.dtype.kind in "ui":
        return [delta]
    if enc.dtype.str[1:] in FLOAT_BIT_PATTERNS:
        return [{"name": REINTERPRET, "configuration": {"data_type": FLOAT_BIT_PATTERNS[enc.dtype.str[1:]]}}, delta]
    raise ifd.error(UnsupportedTIFFError, Tag.Predictor, f"HORIZONTAL predictor on {enc.dtype} samples")


#: Compressions whose streams libtiff and tifffile both read whatever the FillOrder: JPEG's bytes are never reversed.
FILL_ORDER_IGNORED = (Compression.JPEG,)
#: Image codecs whose FillOrder 2 streams both readers reverse first (libtiff's CCITT decoders read them reversed).
FILL_ORDER_REVERSED_IMAGES = (Compression.CCITTRLE, Compression.CCITT_T4, Compression.CCITT_T6)


def _fill_order(compression: Compression, ifd: IFD) -> list[Codec]:
    """FillOrder 2 reverses the bits of every stored byte: undone first, before any decompression, as libtiff and
    tifffile do. Other image codecs are refused: libtiff reverses their streams, tifffile does not."""
    fill_order = ifd.int(Tag.FillOrder, FillOrder.MSB2LSB)
    if fill_order == FillOrder.MSB2LSB or (fill_order == FillOrder.LSB2MSB and compression in FILL_ORDER_IGNORED):
        return []
    if fill_order != FillOrder.LSB2MSB:
        raise ifd.error(UnsupportedTIFFError, Tag.FillOrder, f"unknown FillOrder value {fill_order}")
    if compression in BYTES_COMPRESSORS or compression in FILL_ORDER_REVERSED_IMAGES:
        return [{"name": BITORDER}]
    raise ifd.error(UnsupportedTIFFError, Tag.FillOrder,
                    f"FillOrder LSB2MSB (reversed bits) with {compression.name}: libtiff reverses the stream, "
                    "tifffile does not")


def codec_chain(enc: ChunkEncoding, ifd: IFD) -> list[Codec]:
    """The Zarr v3 codecs, in encode order, that turn a stored TIFF chunk into samples."""
    return [*_samples_chain(enc, ifd), *_fill_order(enc.compression, ifd)]


#: The defaults libtiff reads YCbCr with when the tags are missing (TIFF 6.0's, and ITU-R BT.601's coefficients).
YCBCR_COEFFICIENTS = (0.299, 0.587, 0.114)
YCBCR_REFERENCE_BLACK_WHITE = (0.0, 255.0, 128.0, 255.0, 128.0, 255.0)


def _numbers(ifd: IFD, tag: int, default: tuple[float, ...]) -> tuple[float, ...]:
    """A tag of ``len(default)`` finite numbers (RATIONALs), or its default."""
    value = ifd.get(tag)
    if value is None:
        return default
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu" or value.size != len(default):
        raise ifd.error(UnsupportedTIFFError, tag, f"expected {len(default)} numbers")
    if not np.all(np.isfinite(value)):
        raise ifd.error(UnsupportedTIFFError, tag, "holds NaN or infinite values")
    return tuple(float(v) for v in value)


def _ycbcr_chain(enc: ChunkEncoding, ifd: IFD) -> list[Codec]:
    """YCbCr not JPEG-compressed: its data units (subsampled chroma) decode to RGB through ``virtual_tiff.ycbcr``,
    as GDAL reads them (libtiff's RGBA interface), which takes 8-bit chunky samples only."""
    photometric = Tag.PhotometricInterpretation
    if enc.compression not in BYTES_COMPRESSORS:
        raise ifd.error(UnsupportedTIFFError, photometric,
                        f"YCbCr samples compressed with {enc.compression.name}: the codec does not return data units")
    if (enc.subsampling is None or enc.sample.dtype != np.dtype("u1") or enc.sample.packed_bits is not None
            or enc.chunky_bands != 3):
        raise ifd.error(UnsupportedTIFFError, photometric,
                        "YCbCr other than 8-bit samples, three per pixel, pixel-interleaved: libtiff decodes no other")
    if enc.predictor != Predictor.NONE:
        raise ifd.error(UnsupportedTIFFError, Tag.Predictor, f"{enc.predictor.name} predictor on YCbCr data units")
    subsampling = enc.subsampling
    h, v = subsampling
    if ifd.is_tiled:
        whole_blocks = ifd.int(Tag.TileWidth) % h == 0 and ifd.int(Tag.TileLength) % v == 0
    else:
        rows = ifd.int(Tag.RowsPerStrip, ifd.height)
        whole_blocks = rows % v == 0 or rows >= ifd.height
    if not whole_blocks:
        raise ifd.error(UnsupportedTIFFError, Tag.YCbCrSubSampling,
                        f"YCbCrSubSampling {subsampling}: chunks that are not whole blocks of it")
    coefficients = _numbers(ifd, Tag.YCbCrCoefficients, YCBCR_COEFFICIENTS)
    if coefficients[1] == 0:
        raise ifd.error(UnsupportedTIFFError, Tag.YCbCrCoefficients, "a LumaGreen of 0: the conversion divides by it")
    config: dict[str, object] = {
        "subsampling": list(subsampling),
        "coefficients": list(coefficients),
        "reference_black_white": list(_numbers(ifd, Tag.ReferenceBlackWhite, YCBCR_REFERENCE_BLACK_WHITE)),
    }
    if enc.short_rows is not None:
        config["short_rows"] = enc.short_rows
    compressor = BYTES_COMPRESSORS[enc.compression]
    return [{"name": "transpose", "configuration": {"order": [1, 2, 0]}}, {"name": YCBCR, "configuration": config},
            *([] if compressor is None else [compressor(ifd)])]


def _samples_chain(enc: ChunkEncoding, ifd: IFD) -> list[Codec]:
    """The chain of a chunk stored in FillOrder 1."""
    if ifd.photometric == Photometric.YCBCR and enc.compression != Compression.JPEG:
        return _ycbcr_chain(enc, ifd)
    chain: list[Codec] = []
    if enc.chunky:
        chain.append({"name": "transpose", "configuration": {"order": [1, 2, 0]}})
    if enc.compression in IMAGE_CODECS:
        if enc.sample.complex_parts is not None:
            raise ifd.error(UnsupportedTIFFError, Tag.SampleFormat,
                            f"COMPLEXINT samples compressed with {enc.compression.name}")
        if enc.predictor != Predictor.NONE:
            raise ifd.error(
                UnsupportedTIFFError, Tag.Predictor, f"{enc.predictor.name} predictor with {enc.compression.name}"
            )
        serializer, *rest = IMAGE_CODECS[enc.compression](ifd)
        if enc.short_rows is not None:
            # The codec sees (y, x, band) chunky chunks, (y, x) or (1, y, x) ones otherwise.
            axis = -3 if enc.chunky else -2
            serializer = {"name": SHORT_STRIP, "configuration": {"codec": serializer, "rows": enc.short_rows,
                                                                 "axis": axis}}
        return [*chain, serializer, *rest]
    if enc.compression not in BYTES_COMPRESSORS:
        why = WITHOUT_CODEC_REASONS.get(enc.compression, "")
        raise ifd.error(
            UnsupportedTIFFError,
            Tag.Compression,
            f"Compression {enc.compression.name} ({int(enc.compression)}) has no Zarr codec{why}",
        )
    chain += _complex_parts(enc)
    chain += _predictor_filter(enc, ifd)
    chain.append(_serializer(enc, ifd))
    if enc.pad_to is not None:
        chain.append({"name": ZERO_PAD, "configuration": {"length": enc.pad_to, "short": enc.short_bytes}})
    compressor = BYTES_COMPRESSORS[enc.compression]
    if compressor is not None:
        chain.append(compressor(ifd))
    return chain
