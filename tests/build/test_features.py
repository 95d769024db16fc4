"""Beyond the basic matrix: what GDAL writes by default and the TIFF features upstream refuses.

Pixel rows compare with GDAL and tifffile like tests/build/test_pixels.py; the refusals are in
tests/build/test_refused_features.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from tests.helpers.oracles import assert_pixels_equal_independent_readers, read_rasterio, read_tifffile
from tests.helpers.samples import HEIGHT, WIDTH, sample_data
from tests.helpers.variants import Variant, fill_order_2, gdal_variant, tifffile_variant, ycbcr_variant
from tests.helpers.virtual import file_url, open_virtual
from virtual_tiff import VirtualTIFF
from virtual_tiff.codecs import YCBCR_SUBSAMPLINGS


def _packed(bits: int, dtype: str, bands: int = 1, **options) -> Variant:
    """GDAL's NBITS: samples bit-packed, rows padded to whole bytes."""
    def write(path):
        import rasterio

        data = (sample_data(dtype, bands) % (2**bits)).astype(dtype)
        with rasterio.open(path, "w", driver="GTiff", height=HEIGHT, width=WIDTH, count=bands, dtype=dtype,
                           nbits=bits, **options) as dst:
            dst.write(data)
        return data

    return Variant(f"gdal-nbits{bits}-{dtype}-{bands}b-" + "-".join(f"{k}{v}" for k, v in options.items()), write)


FEATURES: list[Variant] = [
    # Partial last strip: GDAL's default striped layout (RowsPerStrip 34 or 68 for 100 rows).
    gdal_variant("default-strips-none", "uint16"),
    gdal_variant("default-strips-deflate-pred2", "uint16", 3, compress="DEFLATE", predictor=2),
    gdal_variant("default-strips-band-lzw", "int32", 2, compress="LZW", interleave="band"),
    gdal_variant("default-strips-zstd-pred3-be", "float32", compress="ZSTD", predictor=3, endianness="BIG"),
    *(
        tifffile_variant(f"partial-strips-{layout}-{c}-{bo}", "uint16", bands, planar, tile=None, rowsperstrip=7,
                         compression=c, predictor=2 if c else None, byteorder=bo)
        for layout, bands, planar in (("single", 1, "contig"), ("chunky", 3, "contig"), ("planar", 3, "separate"))
        for c in (None, "zlib")
        for bo in ("<", ">")
    ),
    tifffile_variant("partial-strips-bigtiff-lzma", "float64", tile=None, rowsperstrip=13, compression="lzma",
                     bigtiff=True),
    # JPEG as GDAL writes it by default (JPEGTables) and YCbCr decoded to RGB.
    gdal_variant("ycbcr-jpeg-tiled", "uint8", 3, tiled=True, blockxsize=32, blockysize=32, compress="JPEG",
                 photometric="YCBCR", lossless=False, gdal_tolerance=12),
    gdal_variant("cog-jpeg", "uint8", 3, driver="COG", compress="JPEG", lossless=False, gdal_tolerance=12),
    gdal_variant("jpeg-gray-tables", "uint8", tiled=True, blockxsize=32, blockysize=32, compress="JPEG",
                 lossless=False, gdal_tolerance=12),
    # JPEG with an alpha band (rasterio's alpha.tif is one): 4 (or 2) components, no colour transform.
    gdal_variant("jpeg-rgba-tiled", "uint8", 4, tiled=True, blockxsize=32, blockysize=32, compress="JPEG",
                 photometric="RGB", alpha="YES", lossless=False, gdal_tolerance=12),
    gdal_variant("jpeg-gray-alpha-strips", "uint8", 2, compress="JPEG", alpha="YES", lossless=False,
                 gdal_tolerance=12),
    # Three (and four) MinIsBlack bands in one JPEG: raw components, never YCbCr converted to RGB (tifffile's
    # libjpeg guesses YCbCr for three unmarked components and converts them: not an oracle here).
    gdal_variant("jpeg-gray-3-bands", "uint8", 3, tiled=True, blockxsize=32, blockysize=32, compress="JPEG",
                 photometric="MINISBLACK", lossless=False, gdal_tolerance=12, tifffile_reads=False),
    gdal_variant("jpeg-gray-4-bands-strips", "uint8", 4, compress="JPEG", photometric="MINISBLACK", lossless=False,
                 gdal_tolerance=12),
    *(
        tifffile_variant(f"ycbcr-jpeg-{ss[0]}{ss[1]}", "uint8", 3, compression="jpeg", photometric="ycbcr",
                         compressionargs={"subsampling": ss}, lossless=False, gdal_tolerance=12)
        for ss in ((2, 2), (2, 1), (1, 1))
    ),
    # Image codecs in GDAL's default strips: the short last strip decodes short (virtual_tiff.short_strip).
    gdal_variant("default-strips-jpeg-gray", "uint8", compress="JPEG", lossless=False, gdal_tolerance=12),
    gdal_variant("default-strips-jpeg-ycbcr", "uint8", 3, compress="JPEG", photometric="YCBCR", lossless=False,
                 gdal_tolerance=12),
    gdal_variant("default-strips-lerc-zstd", "float32", compress="LERC_ZSTD"),
    gdal_variant("default-strips-webp-lossless", "uint8", 3, compress="WEBP", webp_lossless=True),
    # Band-interleaved JPEG: each band is a one-component JPEG, whatever the Photometric.
    gdal_variant("band-jpeg-strips", "uint8", 3, compress="JPEG", interleave="band", lossless=False,
                 gdal_tolerance=12, tifffile_reads=False),
    gdal_variant("band-jpeg-tiles", "uint8", 3, compress="JPEG", interleave="band", tiled=True, blockxsize=32,
                 blockysize=32, lossless=False, gdal_tolerance=12, tifffile_reads=False),
    # Bit-packed samples, strips and tiles, rows padded to whole bytes.
    _packed(1, "uint8"),
    _packed(4, "uint8", tiled=True, blockxsize=32, blockysize=32),
    _packed(4, "uint8", 3, interleave="band", compress="DEFLATE"),
    _packed(12, "uint16", 3, interleave="pixel", tiled=True, blockxsize=32, blockysize=32),
    _packed(12, "uint16", compress="LZW"),
    _packed(7, "uint8", tiled=True, blockxsize=32, blockysize=16),
    _packed(20, "uint32", compress="ZSTD"),
    # CCITT bilevel.
    *(_packed(1, "uint8", compress=c) for c in ("CCITTRLE", "CCITTFAX3", "CCITTFAX4")),
    # FillOrder 2 (fax and scanner output): every stored byte bit-reversed, undone before decompressing.
    *(fill_order_2(v) for v in (
        tifffile_variant("uint16-none", "uint16"),
        tifffile_variant("uint8-partial-strips-zlib", "uint8", tile=None, rowsperstrip=7, compression="zlib"),
        tifffile_variant("uint16-chunky-lzw-pred2-be", "uint16", 3, compression="lzw", predictor=2, byteorder=">"),
        tifffile_variant("float32-planar-zstd-pred3", "float32", 2, "separate", compression="zstd", predictor=3),
        tifffile_variant("bigtiff-int16-packbits", "int16", compression="packbits", bigtiff=True),
        _packed(1, "uint8"),
        _packed(12, "uint16", compress="LZW"),
        *(_packed(1, "uint8", compress=c) for c in ("CCITTRLE", "CCITTFAX3", "CCITTFAX4")),
    )),
    # YCbCr not JPEG-compressed: data units decoded to RGB exactly as GDAL does (libtiff's tables), every
    # subsampling, strips (a short last one, widths and heights not whole blocks) and Deflate tiles.
    *(
        ycbcr_variant(f"{h}x{v}-{name}", (h, v), **options)
        for h, v in sorted(YCBCR_SUBSAMPLINGS)
        for name, options in (
            ("one-strip", {}),
            ("strips-of-12", dict(rowsperstrip=12)),
            ("deflate-strips-of-8-odd-size", dict(compression="zlib", rowsperstrip=8, height=101, width=117)),
            ("deflate-tiles", dict(compression="zlib", tile=(32, 48), height=96, width=96)),
            ("deflate-tiles-partial-bottom", dict(compression="zlib", tile=(16, 16), height=37, width=96)),
        )
    ),
    ycbcr_variant("2x2-bt709-studio-range-be", (2, 2), compression="zlib", tile=(16, 16), height=37, width=45,
                  byteorder=">", reference_black_white=(16, 235, 128, 240, 128, 240),
                  coefficients=((2126, 10000), (7152, 10000), (722, 10000))),
    fill_order_2(ycbcr_variant("2x1-strips-of-10", (2, 1), rowsperstrip=10)),
    # JPEG streams are never bit-reversed: libtiff and tifffile read them whatever the FillOrder.
    fill_order_2(gdal_variant("jpeg-rgb-tiles", "uint8", 3, tiled=True, blockxsize=32, blockysize=32, compress="JPEG",
                              lossless=False, gdal_tolerance=12), reversed_chunks=False),
]


@pytest.mark.parametrize("variant", FEATURES, ids=lambda v: v.id)
def test_feature_pixels(variant, tmp_path, registry):
    assert_pixels_equal_independent_readers(variant, tmp_path, registry)


@pytest.mark.parametrize(
    "photometric, bands",
    [("cielab", 3), ("separated", 4), ("miniswhite", 1)],
)
def test_colour_spaces_are_raw_samples_like_tifffile(photometric, bands, tmp_path, registry):
    import tifffile

    path = tmp_path / f"{photometric}.tif"
    data = sample_data("uint8", bands)
    tifffile.imwrite(path, data[0] if bands == 1 else data.transpose(1, 2, 0), photometric=photometric)
    da = open_virtual(file_url(path), registry)["0"]
    np.testing.assert_array_equal(da.values, read_tifffile(path))
    assert da.attrs["photometric"] == photometric.upper()


def test_cmyk_jpeg_is_raw_cmyk_like_tifffile_and_gdals_raw_read(tmp_path, registry):
    """GDAL converts a CMYK JPEG to RGBA unless it is opened ``GTIFF_RAW:``; CMYK stays 4 raw samples here."""
    import rasterio

    path = tmp_path / "cmyk-jpeg.tif"
    with rasterio.open(path, "w", driver="GTiff", height=HEIGHT, width=WIDTH, count=4, dtype="uint8", tiled=True,
                       blockxsize=32, blockysize=32, compress="JPEG", photometric="CMYK") as dst:
        dst.write(sample_data("uint8", 4))
    da = open_virtual(file_url(path), registry)["0"]
    with rasterio.open(f"GTIFF_RAW:{path}") as src:
        np.testing.assert_array_equal(da.values, src.read())
    np.testing.assert_array_equal(da.values, read_tifffile(path))
    assert da.attrs["photometric"] == "SEPARATED"


@pytest.mark.parametrize(
    ("unread", "reference"),
    [
        # GDAL refuses the byte counts of uncompressed tiled YCbCr ("Invalid tile byte count").
        pytest.param(ycbcr_variant("2x2-tiles", (2, 2), tile=(32, 48)),
                     ycbcr_variant("2x2-deflate-tiles", (2, 2), compression="zlib", tile=(32, 48)), id="uncompressed-tiles"),
        # libtiff places the chroma of 4 x 4 tiles cut by the right edge wrongly (putcontig8bitYCbCr44tile's skew).
        pytest.param(ycbcr_variant("4x4-deflate-tiles", (4, 4), compression="zlib", tile=(32, 48)),
                     ycbcr_variant("4x4-strips", (4, 4), rowsperstrip=16), id="4x4-tiles-cut-by-the-right-edge"),
    ],
)
def test_ycbcr_gdal_misreads_decodes_as_gdal_reads_the_same_samples_elsewhere(unread, reference, tmp_path, registry):
    """Where GDAL cannot (or wrongly) read a YCbCr layout, the pixels equal its read of the same samples in another."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    unread.write(tmp_path / "a" / "unread.tif")
    reference.write(tmp_path / "b" / "reference.tif")
    virtual = open_virtual(file_url(tmp_path / "a" / "unread.tif"), registry)["0"].values
    np.testing.assert_array_equal(virtual, read_rasterio(tmp_path / "b" / "reference.tif"))


def test_palette_gives_indices_and_the_colormap(tmp_path, registry):
    import rasterio

    path = tmp_path / "palette.tif"
    indices = (sample_data("uint8", 1) % 16).astype("uint8")
    with rasterio.open(path, "w", driver="GTiff", height=HEIGHT, width=WIDTH, count=1, dtype="uint8",
                       photometric="palette") as dst:
        dst.write(indices)
        dst.write_colormap(1, {i: (i * 16, 255 - i * 16, 3 * i, 255) for i in range(16)})
    da = open_virtual(file_url(path), registry)["0"]
    np.testing.assert_array_equal(da.values, read_rasterio(path))
    assert da.attrs["photometric"] == "PALETTE"
    with rasterio.open(path) as src:
        gdal_colormap = src.colormap(1)
    rgb8 = [[round(c / 257) for c in row] for row in da.attrs["colormap"]]
    assert [list(gdal_colormap[i][:3]) for i in range(16)] == rgb8[:16]


@pytest.fixture
def masked(tmp_path):
    """GDAL's internal mask (NewSubfileType 4) with overviews and their masks (5), as gdaladdo writes."""
    import rasterio
    from rasterio.enums import Resampling

    path = tmp_path / "masked.tif"
    mask = np.zeros((256, 256), "uint8")
    mask[20:200, 30:220] = 255
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        with rasterio.open(path, "w", driver="GTiff", height=256, width=256, count=3, dtype="uint8", tiled=True,
                           blockxsize=64, blockysize=64, compress="DEFLATE") as dst:
            dst.write(sample_data("uint8", 3, 256, 256))
            dst.write_mask(mask)
        with rasterio.open(path, "r+") as dst:
            dst.build_overviews([2, 4], Resampling.nearest)
    return path


def _gdal_mask(path, overview_level=None):
    import rasterio

    with rasterio.open(path, overview_level=overview_level) as src:
        return src.dataset_mask()


def test_internal_mask_is_a_variable_beside_the_data(masked, registry):
    ds = open_virtual(file_url(masked), registry)
    assert set(ds.data_vars) == {"0", "mask"}
    assert ds["mask"].dims == ("y", "x")
    np.testing.assert_array_equal(ds["mask"].values * 255, _gdal_mask(masked))
    np.testing.assert_array_equal(ds["0"].values, read_rasterio(masked))


def test_nested_levels_carry_their_masks_and_masks_are_never_levels(masked, registry):
    import rasterio

    store = VirtualTIFF(ifd=None, ifd_layout="nested")(url=file_url(masked), registry=registry)
    tree = xr.open_datatree(store, engine="zarr", zarr_format=3, consolidated=False)
    assert set(tree.children) == {"0", "1", "2"}
    np.testing.assert_array_equal(tree["0"]["mask"].values * 255, _gdal_mask(masked))
    for level in (1, 2):
        with rasterio.open(masked, overview_level=level - 1) as src:
            np.testing.assert_array_equal(tree[str(level)]["data"].values, src.read())
        np.testing.assert_array_equal(tree[str(level)]["mask"].values * 255, _gdal_mask(masked, level - 1))


@pytest.mark.parametrize(
    "dtype, nodata",
    [("float32", None), ("float32", float("nan")), ("float32", -9999.0), ("int16", -9999), ("uint8", None)],
)
def test_lerc_masks_read_as_gdal_reads_them(dtype, nodata, tmp_path, registry):
    """GDAL keeps nodata/NaN pixels of LERC tiles as a mask in the blob; they must not read as 0."""
    import rasterio

    path = tmp_path / "lerc.tif"
    data = sample_data(dtype, 1)
    hole = np.nan if nodata is None and dtype == "float32" else (nodata if nodata is not None else 0)
    data[0, 5:20, 5:30] = hole
    options = {} if nodata is None else {"nodata": nodata}
    with rasterio.open(path, "w", driver="GTiff", height=HEIGHT, width=WIDTH, count=1, dtype=dtype, tiled=True,
                       blockxsize=32, blockysize=32, compress="LERC_DEFLATE", **options) as dst:
        dst.write(data)
    store = VirtualTIFF()(url=file_url(path), registry=registry)
    raw = xr.open_zarr(store, zarr_format=3, consolidated=False, mask_and_scale=False)["0"].values
    np.testing.assert_array_equal(raw, read_rasterio(path))


def test_a_16_bit_palette_reads_its_indices_and_keeps_no_megabyte_colormap(tmp_path, registry):
    """65,536 palette rows as an attribute were 1.5 MB of JSON parsed by every open (real file:
    libtiff's flower-palette-16); the indices still read exactly."""
    import tifffile

    path = tmp_path / "palette16.tif"
    indices = (sample_data("uint16", 1)[0] * 257).astype("uint16")
    tifffile.imwrite(path, indices, photometric="palette", colormap=np.arange(3 * 65536, dtype="u2").reshape(3, -1))
    with pytest.warns(UserWarning, match="ColorMap of 65536 entries not kept as an attribute"):
        da = open_virtual(file_url(path), registry)["0"]
    np.testing.assert_array_equal(da.values, read_tifffile(path))
    assert da.attrs["photometric"] == "PALETTE" and "colormap" not in da.attrs


def test_a_multi_band_file_has_rioxarrays_band_coordinate(tmp_path, registry):
    import rioxarray

    from tests.helpers.geotiffs import write_geotiff

    path = write_geotiff(tmp_path / "bands.tif", bands=4)
    da = open_virtual(file_url(path), registry)["0"]
    expected = rioxarray.open_rasterio(path)
    np.testing.assert_array_equal(da["band"].values, expected["band"].values)
    np.testing.assert_array_equal(da.sel(band=3).values, expected.sel(band=3).values)
