"""Hostile and broken TIFF headers: each is refused with the right VirtualTIFFError, fast and small.

Every row builds a file, runs ``VirtualTIFF(ifd=...)(url, registry)`` and
expects one *exact* subclass of :class:`VirtualTIFFError` at build time, with
the file's URL in the message. Every build must finish in well under a second
and allocate little Python memory, however large the counts and offsets the
file claims: the parser checks them against :class:`Limits` and the object
size before it allocates or reads anything.

Files come from two sources: a tiny byte-by-byte builder (:func:`build_tiff`,
classic and BigTIFF, both byte orders) for the structures no writer produces,
and valid files written by tifffile that the tests truncate or patch.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tests.helpers.builds import build, expect_error, write
from tests.helpers.tiffbuilder import (
    ASCII,
    BIGTIFF,
    DOUBLE,
    FLAVOURS,
    IFD,
    LONG,
    LONG8,
    PIXELS,
    SHORT,
    SIDE,
    SLONG,
    At,
    Field,
    Flavour,
    build_tiff,
    edit,
    image,
    strip_fields,
    tile_fields,
)
from tests.helpers.virtual import file_url, open_virtual
from virtual_tiff import VirtualTIFF
from virtual_tiff.errors import (
    IFDLoopError,
    LimitExceededError,
    MalformedTIFFError,
    NotATIFFError,
    TruncatedTIFFError,
    UnsupportedTIFFError,
    VirtualTIFFError,
)

#: A hang fails the test instead of blocking the suite; builds are timed and their allocations traced.
pytestmark = [pytest.mark.timeout(20), pytest.mark.usefixtures("traced_allocations", "warm_imports")]


def test_builder_writes_valid_tiffs(tmp_path, registry):
    """The builder's base images are real TIFFs: tifffile and VirtualTIFF read the same pixels."""
    expected = np.frombuffer(PIXELS, np.uint8).reshape(SIDE, SIDE)
    for flavour in FLAVOURS:
        for fields in (strip_fields(), tile_fields()):
            path = write(tmp_path, image(fields, flavour), f"{flavour.id}-{len(fields)}.tif")
            np.testing.assert_array_equal(tifffile.imread(path), expected)
            build(path, registry)
            np.testing.assert_array_equal(open_virtual(file_url(path), registry)["0"].values, expected)


# --------------------------------------------------------------------------- not a TIFF at all

HEADER_CASES = [
    pytest.param(b"", NotATIFFError, id="empty-file"),
    pytest.param(b"\x8f\x13\xc4", NotATIFFError, id="three-random-bytes"),
    pytest.param(b"II*", TruncatedTIFFError, id="three-bytes-of-a-tiff-header"),
    pytest.param(b"GIF89a" + bytes(64), NotATIFFError, id="gif"),
    pytest.param(b"\x89PNG\r\n\x1a\n" + bytes(64), NotATIFFError, id="png"),
    pytest.param(b"II\x29\x00\x08\x00\x00\x00" + bytes(64), NotATIFFError, id="tiff-version-41"),
    pytest.param(b"MM\x00\x29\x00\x00\x00\x08" + bytes(64), NotATIFFError, id="tiff-version-41-MM"),
    pytest.param(b"II\x2b\x00\x04\x00\x00\x00" + struct.pack("<Q", 16) + bytes(64), NotATIFFError,
                 id="bigtiff-offset-size-4"),
    pytest.param(b"II\x2b\x00\x08\x00\x01\x00" + struct.pack("<Q", 16) + bytes(64), NotATIFFError,
                 id="bigtiff-reserved-not-zero"),
    pytest.param(b"II\x2b\x00\x08\x00\x00\x00", TruncatedTIFFError, id="bigtiff-header-cut-at-8"),
    pytest.param(b"II\x2a\x00\x00\x00\x00\x00" + bytes(64), MalformedTIFFError, id="first-ifd-offset-0"),
    pytest.param(b"II\x2a\x00\x00\x00\x00\x10" + bytes(64), TruncatedTIFFError, id="first-ifd-beyond-end"),
    pytest.param(b"MM\x00\x2a\xff\xff\xff\xff" + bytes(64), TruncatedTIFFError, id="first-ifd-at-4GiB"),
    pytest.param(b"II\x2b\x00\x08\x00\x00\x00" + struct.pack("<Q", 2**63) + bytes(64), TruncatedTIFFError,
                 id="bigtiff-first-ifd-at-2**63"),
    pytest.param(b"II\x2a\x00\x08\x00\x00\x00\x00\x00" + bytes(64), MalformedTIFFError, id="ifd-with-no-entries"),
]


@pytest.mark.parametrize("ifd", [0, None], ids=["ifd=0", "ifd=None"])
@pytest.mark.parametrize(("content", "error"), HEADER_CASES)
def test_not_a_tiff_or_broken_header(content, error, ifd, tmp_path, registry):
    expect_error(write(tmp_path, content), registry, error, ifd)


# --------------------------------------------------------------------------- broken structure, every flavour


def absurd(flavour: Flavour) -> int:
    """A count no real file has: the largest classic count, or 2**60 in BigTIFF."""
    return 2**60 if flavour.bigtiff else 2**32 - 1


@dataclass(frozen=True)
class Case:
    """A file ``make(flavour)`` that must fail with ``error`` for each of ``ifds``."""

    id: str
    make: Callable[[Flavour], bytes]
    error: type[VirtualTIFFError]
    ifds: tuple[int | None, ...] = (0, None)
    #: Text the message must contain besides the URL, e.g. the tag name.
    names: tuple[str, ...] = ()
    flavours: tuple[Flavour, ...] = field(default=tuple(FLAVOURS))


def loop_self(f: Flavour) -> bytes:
    return image(strip_fields(), f, next_offsets={0: At(ifd=0)})


def loop_two(f: Flavour) -> bytes:
    return build_tiff([strip_fields(), strip_fields()], f, data=PIXELS, next_offsets={1: At(ifd=0)})


def subifd_to_parent(f: Flavour) -> bytes:
    return image(edit(strip_fields(), Field(330, IFD, (At(ifd=0),))), f)


def subifd_to_sibling_chain(f: Flavour) -> bytes:
    """IFD 0's SubIFD is IFD 1 of the main chain: the same offset reached twice."""
    return build_tiff([edit(strip_fields(), Field(330, LONG, (At(ifd=1),))), strip_fields()], f, data=PIXELS)


def count_on(tag: int, type_: int, base: Callable[[], list[Field]] = strip_fields) -> Callable[[Flavour], bytes]:
    def make(f: Flavour) -> bytes:
        return image(edit(base(), Field(tag, type_, b"", count=absurd(f), offset=At())), f)

    return make


def many_entries(n: int, tail: int = 0) -> Callable[[Flavour], bytes]:
    def make(f: Flavour) -> bytes:
        return build_tiff([strip_fields()], f, data=PIXELS, entry_counts={0: n}, tail=bytes(tail))

    return make


def with_fields(*changes: Field, drop: tuple[int, ...] = (), base=strip_fields, **kw) -> Callable[[Flavour], bytes]:
    return lambda f: image(edit(base(**kw), *changes, drop=drop), f)


STRUCTURE_CASES = [
    # Loops in the IFD chain and the SubIFD tree.
    Case("next-ifd-is-itself", loop_self, IFDLoopError, ifds=(None, 1)),
    Case("two-ifd-cycle", loop_two, IFDLoopError, ifds=(None, 2)),
    Case("subifd-is-parent", subifd_to_parent, IFDLoopError),
    Case("subifd-is-next-main-ifd", subifd_to_sibling_chain, IFDLoopError, ifds=(None, 1)),
    # Absurd counts: refused from the count alone, before any allocation or read.
    Case("absurd-count-StripOffsets", count_on(273, LONG), LimitExceededError, names=("StripOffsets",)),
    Case("absurd-count-StripByteCounts-LONG8", count_on(279, LONG8), LimitExceededError, names=("StripByteCounts",)),
    Case("absurd-count-TileByteCounts", count_on(325, LONG, tile_fields), LimitExceededError,
         names=("TileByteCounts",)),
    Case("absurd-count-BitsPerSample", count_on(258, SHORT), LimitExceededError, names=("BitsPerSample",)),
    Case("absurd-count-ImageDescription", count_on(270, ASCII), LimitExceededError, names=("ImageDescription",)),
    Case("absurd-count-SubIFDs", count_on(330, IFD), LimitExceededError, names=("SubIFDs",)),
    # Counts under the limits whose values still lie outside a tiny file.
    Case("131072-StripOffsets-in-tiny-file", with_fields(Field(273, LONG, b"", count=2**17, offset=At())),
         TruncatedTIFFError, names=("StripOffsets",)),
    Case("million-StripOffsets-in-tiny-file", with_fields(Field(273, LONG, b"", count=2**20, offset=At())),
         LimitExceededError, names=("StripOffsets",)),
    # Entry tables.
    Case("65535-entries-in-tiny-file", many_entries(65535), TruncatedTIFFError),
    Case("2**60-entries-in-tiny-file", many_entries(2**60), TruncatedTIFFError, flavours=BIGTIFF),
    Case("5000-entries-in-a-file-that-holds-them", many_entries(5000, tail=120_000), LimitExceededError,
         names=("5000 entries",)),
    # Offsets beyond the end of the object.
    Case("value-offset-beyond-end", with_fields(Field(273, LONG, b"", count=3, offset=1 << 20)),
         TruncatedTIFFError, names=("StripOffsets",)),
    Case("value-offset-at-max", lambda f: image(edit(strip_fields(), Field(
        270, ASCII, b"", count=64, offset=2**64 - 8 if f.bigtiff else 2**32 - 8)), f),
         TruncatedTIFFError, names=("ImageDescription",)),
    Case("strip-offset-beyond-end", with_fields(Field(273, LONG, (10_000,))), TruncatedTIFFError,
         names=("StripOffsets",)),
    Case("strip-bytes-run-past-end", with_fields(Field(279, LONG, (100_000,))), TruncatedTIFFError,
         names=("StripOffsets",)),
    Case("tile-offset-beyond-end", with_fields(Field(324, LONG, (2**32 - 1,)), base=tile_fields),
         TruncatedTIFFError, names=("TileOffsets",)),
    Case("tile-offset-wraps-uint64", with_fields(Field(324, LONG8, (2**64 - 16,)), Field(325, LONG8, (256,)),
                                                 base=tile_fields),
         TruncatedTIFFError, names=("TileOffsets",), flavours=BIGTIFF),
    Case("tile-offset-negative-SLONG", with_fields(Field(324, SLONG, (-16,)), base=tile_fields),
         MalformedTIFFError, names=("TileOffsets",)),
    Case("next-ifd-beyond-end", lambda f: image(strip_fields(), f, next_offsets={0: 1 << 20}),
         TruncatedTIFFError, ifds=(None, 1)),
    Case("subifd-beyond-end", with_fields(Field(330, LONG, (1 << 20,))), TruncatedTIFFError),
    # Geometry.
    Case("zero-width", with_fields(Field(256, LONG, (0,))), MalformedTIFFError),
    Case("zero-height", with_fields(Field(257, SHORT, (0,))), MalformedTIFFError),
    Case("negative-width-SLONG", with_fields(Field(256, SLONG, (-16,))), MalformedTIFFError),
    Case("width-as-text", with_fields(Field(256, ASCII, b"16\0")), MalformedTIFFError, names=("ImageWidth",)),
    Case("width-with-no-values", with_fields(Field(256, LONG, b"", count=0)), MalformedTIFFError,
         names=("ImageWidth",)),
    Case("no-width", with_fields(drop=(256,)), MalformedTIFFError, names=("ImageWidth",)),
    Case("zero-samples-per-pixel", with_fields(Field(277, SHORT, (0,))), MalformedTIFFError),
    Case("zero-rows-per-strip", with_fields(Field(278, LONG, (0,))), MalformedTIFFError),
    Case("zero-tile-width", with_fields(Field(322, SHORT, (0,)), base=tile_fields), MalformedTIFFError),
    Case("giant-image-one-tile", with_fields(base=tile_fields, width=2**32 - 1, height=2**32 - 1),
         MalformedTIFFError, names=("TileOffsets",)),
    Case("giant-image-one-strip-per-row", with_fields(Field(278, LONG, (1,)), height=2**32 - 1),
         MalformedTIFFError, names=("StripOffsets",)),
    Case("giant-tile-uncompressed", with_fields(Field(322, LONG, (2**32 - 16,)), Field(323, LONG, (2**32 - 16,)),
                                                Field(258, SHORT, (64,)), Field(339, SHORT, (3,)),
                                                base=tile_fields, width=2**32 - 16, height=2**32 - 16),
         MalformedTIFFError, names=("TileByteCounts",)),
    Case("two-offsets-one-count", with_fields(Field(273, LONG, (At(), At(plus=128))), Field(278, LONG, (8,))),
         MalformedTIFFError, names=("StripOffsets",)),
    Case("one-offset-two-counts", with_fields(Field(279, LONG, (256, 256))), MalformedTIFFError),
    Case("no-byte-counts", with_fields(drop=(279,)), MalformedTIFFError, names=("StripByteCounts",)),
    Case("uncompressed-strip-too-short", with_fields(Field(279, LONG, (100,))), MalformedTIFFError,
         names=("StripByteCounts",)),
    Case("subifds-as-text", with_fields(Field(330, ASCII, b"abcdefgh\0")), MalformedTIFFError, names=("SubIFDs",)),
]


@pytest.mark.parametrize(
    ("case", "flavour", "ifd"),
    [
        pytest.param(case, flavour, ifd, id=f"{case.id}-{flavour.id}-ifd={ifd}")
        for case in STRUCTURE_CASES
        for flavour in case.flavours
        for ifd in case.ifds
    ],
)
def test_broken_structure(case: Case, flavour: Flavour, ifd, tmp_path, registry):
    error = expect_error(write(tmp_path, case.make(flavour)), registry, case.error, ifd)
    for name in case.names:
        assert name in str(error)


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.id)
@pytest.mark.parametrize("make", [loop_self, loop_two, subifd_to_sibling_chain], ids=lambda m: m.__name__)
def test_ifd_k_refuses_a_loop_right_after_k(make, flavour, tmp_path, registry):
    """``ifd=0`` looks one IFD past IFD 0 (for its mask) and checks every next-offset it reads,
    so a chain that loops back is refused even when the loop closes just after IFD 0."""
    path = write(tmp_path, make(flavour))
    expect_error(path, registry, IFDLoopError, 0)


# --------------------------------------------------------------------------- unknown types and tags are skipped


UNKNOWN_FIELDS = [
    Field(65000, 14, b"\x01\x02\x03\x04\x05\x06\x07\x08" * 2, count=16),  # type 14: unassigned
    Field(65001, 99, b"", count=2**32 - 1, offset=2**32 - 1),  # unknown type: count and offset are meaningless
    Field(65002, 0, b"\xff\xff\xff\xff", count=7),  # type 0
    Field(65003, DOUBLE, (1.5, 2.5, -3.0)),  # unknown tag, known type, out of line
    Field(65004, ASCII, b"hello\0"),
    Field(50000, 7, bytes(range(40))),  # UNDEFINED
    Field(65005, DOUBLE, b"", count=2**31, offset=8),  # unknown tag claiming 16 GiB: never fetched
]


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.id)
@pytest.mark.parametrize("base", [strip_fields, tile_fields], ids=["strip", "tile"])
def test_unknown_types_and_tags_are_ignored(base, flavour, tmp_path, registry):
    path = write(tmp_path, image(edit(base(), *UNKNOWN_FIELDS), flavour))
    build(path, registry)
    build(path, registry, None)
    virtual = open_virtual(file_url(path), registry)["0"].values
    np.testing.assert_array_equal(virtual, tifffile.imread(path))
    np.testing.assert_array_equal(virtual, np.frombuffer(PIXELS, np.uint8).reshape(SIDE, SIDE))


# --------------------------------------------------------------------------- corrupting files tifffile wrote


def written_by_tifffile(path: Path, *, bigtiff: bool, byteorder: str) -> np.ndarray:
    """A 64 x 64 uint16 image in four uncompressed 32 x 32 tiles, with out-of-line extra tags."""
    data = (np.arange(64 * 64, dtype=np.uint64) * 7919 % 65521).astype(np.uint16).reshape(64, 64)
    tifffile.imwrite(
        path, data, tile=(32, 32), bigtiff=bigtiff, byteorder=byteorder, description="malformed-tests",
        extratags=[(65000, "B", 3, b"\x01\x02\x03", True), (65001, "I", 6, [1, 2, 3, 4, 5, 6], True)],
    )
    return data


@dataclass(frozen=True)
class Layout:
    """Where tifffile put each structure of the file: the places to cut it."""

    header_size: int
    ifd_offset: int
    count_size: int
    entry_size: int
    n_entries: int
    value_offset: int
    value_size: int
    data_offsets: tuple[int, ...]
    data_size: int

    @classmethod
    def of(cls, path: Path) -> Layout:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            big = tif.is_bigtiff
            offsets_tag = page.tags["TileOffsets"]
            return cls(
                header_size=16 if big else 8,
                ifd_offset=page.offset,
                count_size=8 if big else 2,
                entry_size=20 if big else 12,
                n_entries=len(page.tags),
                value_offset=offsets_tag.valueoffset,
                value_size=offsets_tag.count * (8 if big else 4),
                data_offsets=tuple(page.dataoffsets),
                data_size=page.databytecounts[-1],
            )


#: name -> where to cut, in a tifffile-written file, and what the cut file raises.
CUTS: dict[str, tuple[Callable[[Layout], int], type[VirtualTIFFError]]] = {
    "at-0": (lambda lo: 0, NotATIFFError),
    "after-one-byte": (lambda lo: 1, NotATIFFError),
    "after-byte-order": (lambda lo: 2, TruncatedTIFFError),
    "inside-header": (lambda lo: lo.header_size - 1, TruncatedTIFFError),
    "after-header": (lambda lo: lo.header_size, TruncatedTIFFError),
    "inside-entry-count": (lambda lo: lo.ifd_offset + 1, TruncatedTIFFError),
    "after-entry-count": (lambda lo: lo.ifd_offset + lo.count_size, TruncatedTIFFError),
    "inside-first-entry": (lambda lo: lo.ifd_offset + lo.count_size + 5, TruncatedTIFFError),
    "inside-last-entry": (lambda lo: lo.ifd_offset + lo.count_size + lo.n_entries * lo.entry_size - 1,
                          TruncatedTIFFError),
    "inside-next-ifd-offset": (lambda lo: lo.ifd_offset + lo.count_size + lo.n_entries * lo.entry_size + 1,
                               TruncatedTIFFError),
    "inside-TileOffsets-values": (lambda lo: lo.value_offset + lo.value_size - 1, TruncatedTIFFError),
    "before-tile-data": (lambda lo: lo.data_offsets[0], TruncatedTIFFError),
    "inside-first-tile": (lambda lo: lo.data_offsets[0] + 100, TruncatedTIFFError),
    "inside-last-tile": (lambda lo: lo.data_offsets[-1] + lo.data_size - 1, TruncatedTIFFError),
}

TIFFFILE_FLAVOURS = [
    pytest.param(False, "<", id="classic-II"),
    pytest.param(False, ">", id="classic-MM"),
    pytest.param(True, "<", id="bigtiff-II"),
    pytest.param(True, ">", id="bigtiff-MM"),
]


@pytest.mark.parametrize("ifd", [0, None], ids=["ifd=0", "ifd=None"])
@pytest.mark.parametrize(("bigtiff", "byteorder"), TIFFFILE_FLAVOURS)
@pytest.mark.parametrize("cut", list(CUTS))
def test_truncated_tifffile_file(cut, bigtiff, byteorder, ifd, tmp_path, registry):
    whole = tmp_path / "whole.tif"
    written_by_tifffile(whole, bigtiff=bigtiff, byteorder=byteorder)
    where, error = CUTS[cut]
    content = whole.read_bytes()
    at = where(Layout.of(whole))
    assert 0 <= at < len(content)
    expect_error(write(tmp_path, content[:at]), registry, error, ifd)


@pytest.mark.parametrize(("bigtiff", "byteorder"), TIFFFILE_FLAVOURS)
def test_untouched_tifffile_file_reads(bigtiff, byteorder, tmp_path, registry):
    """The control for the cuts above: the whole file builds and reads the written pixels."""
    path = tmp_path / "whole.tif"
    data = written_by_tifffile(path, bigtiff=bigtiff, byteorder=byteorder)
    build(path, registry)
    np.testing.assert_array_equal(open_virtual(file_url(path), registry)["0"].values, data)


@pytest.mark.parametrize("type_code", [14, 15, 99, 0, 65535])
@pytest.mark.parametrize(("bigtiff", "byteorder"), TIFFFILE_FLAVOURS)
def test_tifffile_file_with_unknown_field_types(type_code, bigtiff, byteorder, tmp_path, registry):
    """Patching the type of two extra tags to one the spec does not define leaves the image readable."""
    path = tmp_path / "patched.tif"
    data = written_by_tifffile(path, bigtiff=bigtiff, byteorder=byteorder)
    with tifffile.TiffFile(path) as tif:
        entry_offsets = [tif.pages[0].tags[code].offset for code in (65000, 65001)]
    content = bytearray(path.read_bytes())
    for offset in entry_offsets:
        content[offset + 2 : offset + 4] = struct.pack(byteorder + "H", type_code)
    path.write_bytes(content)

    build(path, registry)
    build(path, registry, None)
    virtual = open_virtual(file_url(path), registry)["0"].values
    np.testing.assert_array_equal(virtual, data)
    np.testing.assert_array_equal(virtual, tifffile.imread(path))


def test_errors_name_the_ifd_and_tag(tmp_path, registry):
    """Beyond the URL: an error found in an entry says which IFD and which tag."""
    content = build_tiff([strip_fields(), edit(strip_fields(), Field(259, SHORT, (6,)))], data=PIXELS)
    error = expect_error(write(tmp_path, content), registry, UnsupportedTIFFError, ifd=1)
    assert "IFD 1" in str(error) and "Compression (259)" in str(error)
    assert error.url == file_url(tmp_path / "case.tif") and error.tag == "Compression (259)"


def test_limits_are_configurable(tmp_path, registry):
    """The same file is fine under the default limits and refused under tighter ones."""
    from virtual_tiff.tiff import Limits

    path = write(tmp_path, image(strip_fields(), FLAVOURS[0]))
    build(path, registry)
    with pytest.raises(LimitExceededError, match="entries"):
        VirtualTIFF(ifd=0, limits=Limits(max_entries=4))(url=file_url(path), registry=registry)
    with pytest.raises(LimitExceededError, match="StripOffsets|BitsPerSample|bytes"):
        VirtualTIFF(ifd=0, limits=Limits(max_value_bytes=1))(url=file_url(path), registry=registry)
