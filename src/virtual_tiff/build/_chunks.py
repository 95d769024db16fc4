"""An IFD's tiles or strips as a regular Zarr chunk grid and a chunk manifest."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from virtualizarr.manifests import ChunkManifest

from virtual_tiff.build._dtypes import SampleType
from virtual_tiff.codecs import YCBCR_SUBSAMPLINGS
from virtual_tiff.errors import MalformedTIFFError, TruncatedTIFFError, UnsupportedTIFFError
from virtual_tiff.tiff import IFD, Compression, Photometric, PlanarConfiguration, Tag

#: YCbCrSubSampling when the tag is missing (TIFF 6.0, libtiff).
YCBCR_SUBSAMPLING = (2, 2)


@dataclass(frozen=True)
class ChunkGrid:
    """An IFD's tiles or strips as a regular Zarr chunk grid: array and chunk shapes, dimension names, TIFF chunk size."""

    shape: tuple[int, ...]
    chunk_shape: tuple[int, ...]
    dims: tuple[str, ...]
    chunk_height: int
    chunk_width: int
    chunky_bands: int
    offsets_tag: Tag
    counts_tag: Tag
    #: YCbCrSubSampling ``(h, v)`` when the chunks hold YCbCr data units (YCbCr not JPEG-compressed), else None.
    subsampling: tuple[int, int] | None = None

    @property
    def grid_shape(self) -> tuple[int, ...]:
        return tuple(math.ceil(s / c) for s, c in zip(self.shape, self.chunk_shape, strict=True))

    @property
    def last_rows(self) -> int:
        """Rows stored in the last row of chunks: fewer than a chunk for a partial last strip."""
        return self.shape[-2] - (self.grid_shape[-2] - 1) * self.chunk_height

    @property
    def partial(self) -> bool:
        return self.offsets_tag == Tag.StripOffsets and self.last_rows < self.chunk_height

    def row_bytes(self, sample: SampleType) -> int:
        """Bytes of one stored chunk row; bit-packed rows are padded to whole bytes."""
        row_samples = self.chunk_width * self.chunky_bands
        if sample.packed_bits is not None:
            return math.ceil(row_samples * sample.packed_bits / 8)
        return row_samples * sample.stored_itemsize

    def stored_bytes(self, sample: SampleType, rows: int) -> int:
        """Bytes of ``rows`` decompressed chunk rows: YCbCr data units hold ``h x v`` pixels in ``h * v + 2``
        samples, rows and columns padded to whole blocks (TIFF 6.0 section 21)."""
        if self.subsampling is not None:
            h, v = self.subsampling
            return math.ceil(self.chunk_width / h) * (h * v + 2) * math.ceil(rows / v)
        return self.row_bytes(sample) * rows

    def raw_chunk_bytes(self, sample: SampleType) -> int:
        """Bytes of one full decompressed chunk, which is what Zarr decodes."""
        return self.stored_bytes(sample, self.chunk_height)


def image_size(ifd: IFD) -> tuple[int, int]:
    """(height, width), refused when either is not positive: nothing can be laid out on it."""
    height, width = ifd.height, ifd.width
    if height <= 0 or width <= 0:
        raise ifd.error(MalformedTIFFError, Tag.ImageWidth, f"image of {width} x {height} pixels")
    return height, width


def ycbcr_subsampling(ifd: IFD) -> tuple[int, int] | None:
    """The blocks of YCbCr data units, for pixel-interleaved YCbCr not JPEG-compressed (JPEG decodes them itself)."""
    if (ifd.int(Tag.PhotometricInterpretation, -1) != Photometric.YCBCR
            or ifd.int(Tag.Compression, Compression.NONE) == Compression.JPEG
            or ifd.planar_configuration == PlanarConfiguration.SEPARATE):
        return None
    subsampling = ifd.ints(Tag.YCbCrSubSampling, YCBCR_SUBSAMPLING)
    if subsampling not in YCBCR_SUBSAMPLINGS:
        raise ifd.error(UnsupportedTIFFError, Tag.YCbCrSubSampling,
                        f"YCbCrSubSampling {subsampling}: TIFF allows 1, 2 or 4, vertical at most horizontal")
    return subsampling  # type: ignore[return-value]


def chunk_grid(ifd: IFD) -> ChunkGrid:
    """Where an IFD's chunks lie: ``(y, x)`` for one sample, ``(band, y, x)`` for more."""
    (height, width), bands = image_size(ifd), ifd.samples_per_pixel
    if bands <= 0:
        raise ifd.error(MalformedTIFFError, Tag.SamplesPerPixel, "zero samples per pixel")
    if ifd.is_tiled:
        tile_w, tile_h = ifd.int(Tag.TileWidth), ifd.int(Tag.TileLength)
        if tile_w <= 0 or tile_h <= 0:
            raise ifd.error(MalformedTIFFError, Tag.TileWidth, f"tiles of {tile_w} x {tile_h} pixels")
        offsets_tag, counts_tag = Tag.TileOffsets, Tag.TileByteCounts
    else:
        rows = ifd.int(Tag.RowsPerStrip, 2**32 - 1)
        if rows <= 0:
            raise ifd.error(MalformedTIFFError, Tag.RowsPerStrip, "zero rows per strip")
        tile_w, tile_h = width, min(rows, height)
        offsets_tag, counts_tag = Tag.StripOffsets, Tag.StripByteCounts
    separate = ifd.planar_configuration == PlanarConfiguration.SEPARATE and bands > 1
    if bands == 1:
        return ChunkGrid((height, width), (tile_h, tile_w), ("y", "x"), tile_h, tile_w, 1, offsets_tag, counts_tag)
    chunk_bands = 1 if separate else bands
    return ChunkGrid(
        (bands, height, width),
        (chunk_bands, tile_h, tile_w),
        ("band", "y", "x"),
        tile_h,
        tile_w,
        chunk_bands,
        offsets_tag,
        counts_tag,
        ycbcr_subsampling(ifd),
    )


def _stored_chunk_bytes(grid: ChunkGrid, sample: SampleType, cap: int) -> np.ndarray:
    """Bytes each uncompressed chunk must hold: full chunks, and the short last strips.

    Capped at ``cap`` (one more than the object holds): a hostile header's
    tile of 2**67 bytes would not fit uint64, and is refused all the same.
    """
    full = np.full(grid.grid_shape, min(grid.raw_chunk_bytes(sample), cap), dtype=np.uint64)
    if grid.partial:
        full[..., -1, :] = min(grid.stored_bytes(sample, grid.last_rows), cap)
    return full.ravel()


def manifest_of(ifd: IFD, grid: ChunkGrid, sample: SampleType, compression: Compression, size: int) -> ChunkManifest:
    """``(url, offset, length)`` per chunk; an empty tile (offset or count 0) reads as fill value."""
    offsets = ifd.array(grid.offsets_tag)
    counts = ifd.array(grid.counts_tag)
    expected = math.prod(grid.grid_shape)
    if offsets.size != expected or counts.size != expected:
        raise ifd.error(
            MalformedTIFFError,
            grid.offsets_tag,
            f"{offsets.size} offsets and {counts.size} byte counts for {expected} chunks",
        )
    present = (offsets > 0) & (counts > 0)
    # Not offsets + counts > size: that sum wraps around uint64 for offsets near 2**64.
    beyond = present & ((counts > size) | (offsets > size - np.minimum(counts, size)))
    if np.any(beyond):
        bad = int(np.argmax(beyond))
        raise ifd.error(
            TruncatedTIFFError,
            grid.offsets_tag,
            f"chunk {bad} at bytes {int(offsets[bad])}+{int(counts[bad])} lies beyond the end ({size} bytes)",
        )
    if compression == Compression.NONE:
        raw = _stored_chunk_bytes(grid, sample, cap=size + 1)
        if np.any(present & (counts < raw)):
            bad = int(np.argmax(present & (counts < raw)))
            need = int(raw[bad])
            expected = f"{need}" if need <= size else f"more than the object's {size}"
            raise ifd.error(
                MalformedTIFFError,
                grid.counts_tag,
                f"uncompressed chunk {bad} has {int(counts[bad])} bytes, {expected} expected",
            )
        counts = np.where(present, raw, counts)
    # Straight into StringDType: np.where(present, url, "") would first make a fixed-width
    # array of 4 bytes per character of the url per chunk (80 MB for 200,000 chunks).
    paths = np.full(present.shape, ifd.url, dtype=np.dtypes.StringDType())
    paths[~present] = ""
    return ChunkManifest.from_arrays(
        paths=paths.reshape(grid.grid_shape),
        offsets=np.where(present, offsets, 0).astype(np.uint64).reshape(grid.grid_shape),
        lengths=np.where(present, counts, 0).astype(np.uint64).reshape(grid.grid_shape),
        validate_paths=False,
    )
