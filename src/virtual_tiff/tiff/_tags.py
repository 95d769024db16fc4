"""TIFF tag codes and enumerated tag values, named as the TIFF spec and tifffile name them."""

from __future__ import annotations

import enum


class Tag(enum.IntEnum):
    """The tags virtual-tiff reads. Other tags are kept by code, undecoded by name."""

    NewSubfileType = 254
    ImageWidth = 256
    ImageLength = 257
    BitsPerSample = 258
    Compression = 259
    PhotometricInterpretation = 262
    FillOrder = 266
    ImageDescription = 270
    StripOffsets = 273
    SamplesPerPixel = 277
    RowsPerStrip = 278
    StripByteCounts = 279
    T4Options = 292
    PlanarConfiguration = 284
    Software = 305
    DateTime = 306
    Predictor = 317
    ColorMap = 320
    TileWidth = 322
    TileLength = 323
    TileOffsets = 324
    TileByteCounts = 325
    SubIFDs = 330
    InkSet = 332
    ExtraSamples = 338
    SampleFormat = 339
    JPEGTables = 347
    JPEGInterchangeFormat = 513
    JPEGInterchangeFormatLength = 514
    YCbCrCoefficients = 529
    YCbCrSubSampling = 530
    ReferenceBlackWhite = 532
    ModelPixelScaleTag = 33550
    ModelTiepointTag = 33922
    ModelTransformationTag = 34264
    GeoKeyDirectoryTag = 34735
    GeoDoubleParamsTag = 34736
    GeoAsciiParamsTag = 34737
    GDAL_METADATA = 42112
    GDAL_NODATA = 42113
    LercParameters = 50674

    @classmethod
    def label(cls, code: int) -> str:
        """``Name (code)`` for messages, also for tags this enum does not know."""
        try:
            return f"{cls(code).name} ({code})"
        except ValueError:
            return f"tag {code}"


class FieldType(enum.IntEnum):
    """TIFF 6 and BigTIFF field types; 14 and 15 are unassigned and skipped."""

    BYTE = 1
    ASCII = 2
    SHORT = 3
    LONG = 4
    RATIONAL = 5
    SBYTE = 6
    UNDEFINED = 7
    SSHORT = 8
    SLONG = 9
    SRATIONAL = 10
    FLOAT = 11
    DOUBLE = 12
    IFD = 13
    LONG8 = 16
    SLONG8 = 17
    IFD8 = 18


class Compression(enum.IntEnum):
    NONE = 1
    CCITTRLE = 2
    CCITT_T4 = 3
    CCITT_T6 = 4
    LZW = 5
    OJPEG = 6
    JPEG = 7
    ADOBE_DEFLATE = 8
    JBIG_BW = 9
    JBIG_COLOR = 10
    NEXT = 32766
    CCITTRLEW = 32771
    PACKBITS = 32773
    THUNDERSCAN = 32809
    PIXARLOG = 32909
    DEFLATE = 32946
    DCS = 32947
    JBIG = 34661
    SGILOG = 34676
    SGILOG24 = 34677
    JPEG2000 = 34712
    LERC = 34887
    LZMA = 34925
    ZSTD_DEPRECATED = 34926
    WEBP_DEPRECATED = 34927
    PNG = 34933
    JPEGXR = 34934
    ZSTD = 50000
    WEBP = 50001
    JPEGXL = 50002
    JPEGXL_DNG = 52546


class Photometric(enum.IntEnum):
    MINISWHITE = 0
    MINISBLACK = 1
    RGB = 2
    PALETTE = 3
    MASK = 4
    SEPARATED = 5
    YCBCR = 6
    CIELAB = 8
    ICCLAB = 9
    ITULAB = 10
    CFA = 32803
    LOGL = 32844
    LOGLUV = 32845
    LINEAR_RAW = 34892


class Predictor(enum.IntEnum):
    NONE = 1
    HORIZONTAL = 2
    FLOATINGPOINT = 3


class SampleFormat(enum.IntEnum):
    UINT = 1
    INT = 2
    IEEEFP = 3
    VOID = 4
    COMPLEXINT = 5
    COMPLEXIEEEFP = 6


class PlanarConfiguration(enum.IntEnum):
    CONTIG = 1
    SEPARATE = 2


class ExtraSamples(enum.IntEnum):
    UNSPECIFIED = 0
    ASSOCALPHA = 1
    UNASSALPHA = 2


class FillOrder(enum.IntEnum):
    MSB2LSB = 1
    LSB2MSB = 2


class NewSubfileType(enum.IntFlag):
    """Bits of tag 254: GDAL marks overviews REDUCEDIMAGE and masks MASK."""

    UNDEFINED = 0
    REDUCEDIMAGE = 1
    PAGE = 2
    MASK = 4
