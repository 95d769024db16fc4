"""The feature matrix: every supported TIFF variant reads pixel-for-pixel like GDAL and tifffile.

Each row writes its own file, builds the virtual store with VirtualTIFF, opens
it with ``xr.open_zarr`` and compares it with rasterio and tifffile reading the
same file: equal values, equal dtype.
"""

from __future__ import annotations

import pytest

from tests.helpers.oracles import assert_pixels_equal_independent_readers
from tests.helpers.variants import Variant, complex_int_variant, gdal_variant, tifffile_variant

WHOLE_DTYPES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64", "float16", "float32", "float64",
                "complex64", "complex128"]

VARIANTS: list[Variant] = [
    # Every sample type, uncompressed, in both byte orders.
    *(tifffile_variant(f"{dt}-none-le", dt, gdal_reads=dt != "float16") for dt in WHOLE_DTYPES),
    *(tifffile_variant(f"{dt}-none-be", dt, byteorder=">", gdal_reads=dt != "float16") for dt in WHOLE_DTYPES),
    # Every lossless compression tifffile writes.
    *(
        tifffile_variant(f"uint16-{c}", "uint16", compression=c, gdal_reads=c not in ("png", "jpegxr", "jpeg2000"))
        for c in ("zlib", "deflate", "lzw", "packbits", "zstd", "lzma", "lerc")
    ),
    tifffile_variant("uint8-rgb-png", "uint8", 3, compression="png", gdal_reads=False),
    tifffile_variant("uint16-png", "uint16", compression="png", gdal_reads=False),
    tifffile_variant("uint8-rgb-webp-lossless", "uint8", 3, compression="webp",
                     compressionargs={"lossless": True}),
    tifffile_variant("uint8-rgba-webp-lossless", "uint8", 4, compression="webp", photometric="rgb",
                     compressionargs={"lossless": True}),
    tifffile_variant("uint8-rgb-jpegxl-lossless", "uint8", 3, compression="jpegxl",
                     compressionargs={"lossless": True}, gdal_reads=False),
    tifffile_variant("uint16-jpeg2000-reversible", "uint16", compression="jpeg2000",
                     compressionargs={"reversible": True}, gdal_reads=False),
    tifffile_variant("uint8-jpegxr", "uint8", compression="jpegxr", compressionargs={"level": 1.0},
                     gdal_reads=False),
    tifffile_variant("uint8-rgb-jpeg", "uint8", 3, compression="jpeg", lossless=False, gdal_tolerance=12),
    tifffile_variant("uint8-jpeg-gray", "uint8", 1, compression="jpeg", lossless=False, gdal_tolerance=12),
    # Predictor 2 in every byte order, layout and chunking.
    *(
        tifffile_variant(f"{dt}-{layout}-{chunking}-zlib-pred2-{name}", dt, bands, planar, compression="zlib",
                         predictor=2, byteorder=bo, tile=(32, 48) if chunking == "tiled" else None,
                         rowsperstrip=10 if chunking == "striped" else None)
        for dt in ("uint16", "int32")
        for layout, bands, planar in (("single", 1, "contig"), ("chunky", 3, "contig"), ("planar", 3, "separate"))
        for chunking in ("tiled", "striped")
        for bo, name in (("<", "le"), (">", "be"))
    ),
    tifffile_variant("uint8-chunky-lzw-pred2", "uint8", 3, compression="lzw", predictor=2),
    tifffile_variant("uint16-zstd-pred2-be", "uint16", compression="zstd", predictor=2, byteorder=">"),
    # Predictor 3 (floating point) in every byte order and layout.
    *(
        tifffile_variant(f"{dt}-{layout}-zlib-pred3-{name}", dt, bands, planar, compression="zlib",
                         predictor=3, byteorder=bo, gdal_reads=dt != "float16")
        for dt in ("float32", "float64", "float16")
        for layout, bands, planar in (("single", 1, "contig"), ("chunky", 3, "contig"), ("planar", 3, "separate"))
        for bo, name in (("<", "le"), (">", "be"))
    ),
    # BigTIFF, and strips.
    tifffile_variant("bigtiff-uint16-chunky-zlib-pred2", "uint16", 3, compression="zlib", predictor=2, bigtiff=True),
    tifffile_variant("bigtiff-float32-be-striped", "float32", tile=None, rowsperstrip=20, bigtiff=True,
                     byteorder=">"),
    tifffile_variant("uint16-one-strip", "uint16", tile=None, rowsperstrip=100),
    # GDAL's writers.
    gdal_variant("cog-deflate-pred2", "uint16", driver="COG", compress="DEFLATE", predictor=2),
    gdal_variant("cog-rgb-zstd", "uint8", 3, driver="COG", compress="ZSTD"),
    *(
        gdal_variant(f"tiled-{c.lower()}", "uint16", tiled=True, blockxsize=32, blockysize=32, compress=c)
        for c in ("NONE", "DEFLATE", "LZW", "ZSTD", "LZMA", "PACKBITS", "LERC", "LERC_DEFLATE", "LERC_ZSTD")
    ),
    gdal_variant("float32-lerc-zstd", "float32", tiled=True, blockxsize=32, blockysize=32, compress="LERC_ZSTD"),
    gdal_variant("rgb-webp-lossless", "uint8", 3, tiled=True, blockxsize=32, blockysize=32, compress="WEBP",
                 webp_lossless=True),
    gdal_variant("rgb-jpeg-tables", "uint8", 3, tiled=True, blockxsize=32, blockysize=32, compress="JPEG",
                 photometric="RGB", lossless=False, gdal_tolerance=12),
    gdal_variant("pixel-deflate-pred2", "int16", 3, tiled=True, blockxsize=32, blockysize=32, compress="DEFLATE",
                 predictor=2, interleave="pixel"),
    gdal_variant("band-deflate-pred2", "uint16", 3, tiled=True, blockxsize=32, blockysize=32, compress="DEFLATE",
                 predictor=2, interleave="band"),
    gdal_variant("big-endian-pred2", "uint16", 2, tiled=True, blockxsize=32, blockysize=32, compress="DEFLATE",
                 predictor=2, endianness="BIG"),
    gdal_variant("big-endian-pred3", "float32", 2, tiled=True, blockxsize=32, blockysize=32, compress="DEFLATE",
                 predictor=3, endianness="BIG"),
    gdal_variant("pixel-float64-pred3", "float64", 3, tiled=True, blockxsize=32, blockysize=32, compress="ZSTD",
                 predictor=3, interleave="pixel"),
    gdal_variant("bigtiff-lzw", "int32", tiled=True, blockxsize=32, blockysize=32, compress="LZW", bigtiff="YES"),
    gdal_variant("striped-deflate-pred2", "uint16", 2, tiled=False, blockysize=10, compress="DEFLATE", predictor=2),
    gdal_variant("striped-int8", "int8", tiled=False, blockysize=20),
    gdal_variant("striped-complex64", "complex64", tiled=False, blockysize=25),
    # Complex integers (Sentinel-1 SLC's CInt16) read as complex floats, as GDAL and tifffile read them.
    gdal_variant("cint16-striped", "complex_int16", tiled=False, blockysize=25),
    gdal_variant("cint16-default-strips-deflate", "complex_int16", compress="DEFLATE"),
    gdal_variant("cint16-tiled-lzw-be", "complex_int16", tiled=True, blockxsize=32, blockysize=32, compress="LZW",
                 endianness="BIG"),
    gdal_variant("cint16-pixel-zstd", "complex_int16", 2, tiled=True, blockxsize=32, blockysize=32, compress="ZSTD",
                 interleave="pixel"),
    gdal_variant("cint16-band", "complex_int16", 2, tiled=True, blockxsize=32, blockysize=32, interleave="band"),
    *(
        complex_int_variant(f"{dt}-{layout}-{c or 'none'}-{name}", dt, bands, planar, compression=c, byteorder=bo,
                            tile=(32, 48), gdal_dtype="complex64" if dt == "complex_int32" else None)
        for dt in ("complex_int16", "complex_int32")
        for layout, bands, planar in (("single", 1, "contig"), ("chunky", 3, "contig"), ("planar", 2, "separate"))
        for c in (None, "zlib")
        for bo, name in (("<", "le"), (">", "be"))
    ),
    complex_int_variant("complex_int32-partial-strips", "complex_int32", tile=None, rowsperstrip=7,
                        compression="lzma", gdal_dtype="complex64"),
    # Predictor 2 on floats: libtiff (GDAL PREDICTOR=2) differences their bit patterns as integers.
    *(
        gdal_variant(f"{dt}-{layout}-deflate-pred2-{bo.lower()}", dt, bands, tiled=True, blockxsize=32,
                     blockysize=32, compress="DEFLATE", predictor=2, interleave=interleave, endianness=bo)
        for dt in ("float16", "float32", "float64")
        for layout, bands, interleave in (("single", 1, "pixel"), ("pixel", 3, "pixel"), ("band", 2, "band"))
        for bo in ("LITTLE", "BIG")
    ),
    gdal_variant("float32-default-strips-lzw-pred2", "float32", 2, compress="LZW", predictor=2),
    gdal_variant("cog-float32-zstd-pred2", "float32", driver="COG", compress="ZSTD", predictor=2),
]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.id)
def test_pixels_equal_independent_readers(variant: Variant, tmp_path, registry):
    assert_pixels_equal_independent_readers(variant, tmp_path, registry)
