"""Walk a TIFF's IFDs over ranged reads, and decode the values of the IFDs asked for.

Two phases keep requests and memory small. The walk reads only entry tables
(and SubIFD offsets), so reaching IFD 5 of a file does not download IFD 0's
tile offsets. The decode then fetches the out-of-line values of just the
selected IFDs in one batched request. Every count and offset is checked
against the object size and the :class:`Limits` before a byte is allocated.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from virtual_tiff.errors import (
    IFDLoopError,
    LimitExceededError,
    MalformedTIFFError,
    TruncatedTIFFError,
    VirtualTIFFError,
)
from virtual_tiff.io import FIRST_BYTE_TIMEOUT, MIN_BYTES_PER_SECOND, ObjectReader
from virtual_tiff.tiff._fields import FIELD_SIZES, Entry, decode_value
from virtual_tiff.tiff._header import TIFFHeader, parse_header
from virtual_tiff.tiff._ifd import IFD
from virtual_tiff.tiff._tags import FieldType, Tag


@dataclass(frozen=True)
class Limits:
    """Safety bounds on hostile or broken headers and servers. Real files stay far below them.

    Each is checked before the bytes it bounds are fetched, so that a build of any file at the
    defaults takes under a second and 64 MiB, or is refused with a :class:`LimitExceededError`
    naming the limit. Raise one for a legitimately larger file.

    ``max_ifds``, ``max_entries`` (per IFD) and ``max_file_entries`` bound the walk: entry
    tables cost about 40 µs and 300 bytes an entry. ``max_images``: IFDs whose values a build
    fetches and turns into arrays (``ifd=None`` takes every one; about 1 ms each).
    ``max_chunks``: tiles or strips of those IFDs together, refused before their offsets are
    read: a build holds about 200 bytes per chunk at peak (50 MiB at the default; a 262144²
    image of 512² tiles). ``max_value_bytes``: out-of-line tag values fetched for one file.
    ``max_georeferences``: distinct GeoKey directories among those IFDs, each a CRS to
    construct (PROJ may search its database for a name).
    ``first_byte_timeout`` and ``min_bytes_per_second``: a header read of ``n`` bytes fails after
    ``first_byte_timeout + n / min_bytes_per_second`` seconds (None: as long as the store waits).
    """

    max_ifds: int = 4_096
    max_entries: int = 4_096
    max_file_entries: int = 65_536
    max_images: int = 512
    max_value_bytes: int = 16 * 1024 * 1024
    max_subifd_depth: int = 4
    max_chunks: int = 262_144
    max_georeferences: int = 8
    first_byte_timeout: float | None = FIRST_BYTE_TIMEOUT
    min_bytes_per_second: float = MIN_BYTES_PER_SECOND


@dataclass(frozen=True)
class RawIFD:
    """An IFD's entry table, values not yet fetched."""

    path: tuple[int, ...]
    offset: int
    entries: dict[int, Entry]
    next_offset: int
    subifds: tuple[RawIFD, ...] = ()


@dataclass(frozen=True, eq=False)
class TIFFFile:
    """The parsed header of one object: its IFD tree and where it came from."""

    reader: ObjectReader
    header: TIFFHeader
    ifds: tuple[IFD, ...]

    @property
    def url(self) -> str:
        return self.reader.url


#: The tags with one value per chunk: their counts are what a build's memory grows with.
_CHUNK_TAGS = frozenset({Tag.StripOffsets, Tag.StripByteCounts, Tag.TileOffsets, Tag.TileByteCounts})
#: The tags that say where chunks start: one per chunk, counted once per IFD against ``max_chunks``.
_OFFSET_TAGS = (Tag.StripOffsets, Tag.TileOffsets)
#: Tags decoded: only those the reader decides on. Another tag's value (XMP, ICC profiles, private
#: tags of any size) is never fetched, so it can neither cost memory nor change a signature.
_READ_TAGS = frozenset(Tag)
#: The tags whose values together make one georeferencing (one CRS construction).
_GEO_TAGS = (Tag.GeoKeyDirectoryTag, Tag.GeoDoubleParamsTag, Tag.GeoAsciiParamsTag)

#: Decides, from the main-chain IFDs walked so far (inline values only), that the walk can stop.
StopWalk = Callable[[Sequence[IFD]], bool]
#: Picks, from every walked IFD (inline values only), the paths whose out-of-line values to fetch.
ChooseIFDs = Callable[[Sequence[IFD]], Iterable[tuple[int, ...]]]


class _Walk:
    """State of one walk: the visited offsets, entry tables and IFD budget shared by the whole tree."""

    def __init__(self, reader: ObjectReader, header: TIFFHeader, limits: Limits) -> None:
        self.reader = reader
        self.header = header
        self.limits = limits
        self.visited: set[int] = set()
        self.tables: list[tuple[int, int]] = []
        self.entries = 0

    def claim(self, start: int, end: int, path: tuple[int, ...]) -> None:
        """Refuse entry tables that overlap: real files never do, and a hostile one could
        otherwise make thousands of IFDs out of the same few kilobytes."""
        i = bisect.bisect_left(self.tables, (start, end))
        before = self.tables[i - 1] if i else None
        after = self.tables[i] if i < len(self.tables) else None
        if (before and before[1] > start) or (after and after[0] < end):
            raise self.error(MalformedTIFFError, path, f"IFD at offset {start} overlaps another IFD")
        self.tables.insert(i, (start, end))

    def error(self, cls: type[VirtualTIFFError], path: tuple[int, ...], message: str, tag: int | None = None):
        label = "/".join(map(str, path))
        return cls(message, url=self.reader.url, ifd=label, tag=None if tag is None else Tag.label(tag))

    async def chain(self, first: int, stop: StopWalk | None) -> tuple[list[RawIFD], list[IFD]]:
        """The main chain of IFDs linked from ``first``, until ``stop`` says enough, with the
        typed view of each (inline values only) that ``stop`` decides on; without ``stop``, no
        view (building it is half the cost of walking a file of thousands of pages)."""
        out: list[RawIFD] = []
        light: list[IFD] = []
        offset = first
        while offset:
            raw = await self.one(offset, (len(out),), 0)
            out.append(raw)
            if stop is not None:
                light.append(_build(raw, self.reader.url, self.header.byteorder, {}))
            if raw.next_offset in self.visited:
                raise self.error(IFDLoopError, raw.path, f"next IFD offset {raw.next_offset} was already read")
            if stop is not None and stop(light):
                break
            offset = raw.next_offset
        return out, light

    async def one(self, offset: int, path: tuple[int, ...], depth: int) -> RawIFD:
        h = self.header
        if offset in self.visited:
            raise self.error(IFDLoopError, path, f"offset {offset} was already read: the IFD chain loops")
        if len(self.visited) >= self.limits.max_ifds:
            raise self.error(LimitExceededError, path, f"more than {self.limits.max_ifds} IFDs")
        self.visited.add(offset)
        (n,) = struct.unpack(h.count_format, await self.reader.read(offset, h.count_size, "IFD entry count"))
        if n == 0:
            raise self.error(MalformedTIFFError, path, f"IFD at offset {offset} has no entries")
        table_size = n * h.entry_size + h.offset_size
        # Bounds before the limit: a table that cannot fit in the object is a
        # broken file, not one that a larger limit would let through.
        self.reader.check_bounds(offset + h.count_size, table_size, "IFD entries")
        self.claim(offset, offset + h.count_size + table_size, path)
        if n > self.limits.max_entries:
            raise self.error(LimitExceededError, path, f"IFD claims {n} entries (limit {self.limits.max_entries})")
        self.entries += n
        if self.entries > self.limits.max_file_entries:
            raise self.error(
                LimitExceededError, path, f"more than {self.limits.max_file_entries} IFD entries in the file "
                "(Limits(max_file_entries=...))"
            )
        table = await self.reader.read(offset + h.count_size, table_size, "IFD entries")
        entries: dict[int, Entry] = {}
        for tag, type_code, count, slot in struct.iter_unpack(h.entry_format, table[: n * h.entry_size]):
            if tag in _READ_TAGS and type_code in FIELD_SIZES and tag not in entries:
                entries[tag] = self.entry(tag, FieldType(type_code), count, slot, path)
        (next_offset,) = struct.unpack(h.offset_format, table[n * h.entry_size :])
        subifds: tuple[RawIFD, ...] = ()
        if Tag.SubIFDs in entries:
            subifds = tuple(await self.sub(entries[Tag.SubIFDs], path, depth))
        return RawIFD(path, offset, entries, next_offset, subifds)

    def entry(self, tag: int, field_type: FieldType, count: int, slot: bytes, path: tuple[int, ...]) -> Entry:
        """One entry of a tag the reader decides on, bounds-checked (the first of a repeated tag wins)."""
        h = self.header
        if tag in _CHUNK_TAGS and count > self.limits.max_chunks:
            raise self.error(
                LimitExceededError, path, f"{count} chunks (limit {self.limits.max_chunks}: Limits(max_chunks=...))", tag
            )
        nbytes = count * FIELD_SIZES[field_type]
        if nbytes > self.limits.max_value_bytes:
            raise self.error(
                LimitExceededError, path, f"count {count} means {nbytes} bytes (limit {self.limits.max_value_bytes}: "
                "Limits(max_value_bytes=...))", tag
            )
        if nbytes <= h.offset_size:
            return Entry(tag, field_type, count, slot[:nbytes], None)
        (value_offset,) = struct.unpack(h.offset_format, slot)
        if value_offset + nbytes > self.reader.size:
            raise self.error(
                TruncatedTIFFError,
                path,
                f"{count} values at offset {value_offset} run past the end of the object ({self.reader.size} bytes)",
                tag,
            )
        return Entry(tag, field_type, count, None, value_offset)

    async def sub(self, entry: Entry, path: tuple[int, ...], depth: int) -> list[RawIFD]:
        if entry.type not in (FieldType.LONG, FieldType.IFD, FieldType.LONG8, FieldType.IFD8):
            raise self.error(MalformedTIFFError, path, f"SubIFDs of field type {entry.type.name}", Tag.SubIFDs)
        if depth >= self.limits.max_subifd_depth:
            raise self.error(LimitExceededError, path, f"SubIFDs nested deeper than {depth}", Tag.SubIFDs)
        raw = entry.inline
        if raw is None:
            raw = await self.reader.read(entry.offset, entry.nbytes, "SubIFDs offsets")
        offsets = decode_value(entry, raw, self.header.byteorder)
        return [await self.one(int(o), (*path, i), depth + 1) for i, o in enumerate(offsets)]


async def read_tiff(
    reader: ObjectReader,
    *,
    stop: StopWalk | None = None,
    choose: ChooseIFDs | None = None,
    limits: Limits = Limits(),
) -> TIFFFile:
    """Parse the header and IFDs of the object behind ``reader``.

    ``stop`` ends the walk of the main chain early (``ifd=k`` needs no IFD far
    past ``k``); ``choose`` limits which IFDs get their out-of-line values
    (offsets, byte counts, tables) fetched: all of them if None. Every IFD
    keeps its inline values, enough to tell levels, masks and sizes apart.
    """
    head = await reader.open()
    header = parse_header(head[:16], url=reader.url)
    walk = _Walk(reader, header, limits)
    raws, light = await walk.chain(header.first_ifd_offset, stop)
    if not raws:
        raise MalformedTIFFError("the header points to no IFD (offset 0)", url=reader.url)
    if choose is not None and stop is None:
        light = [_build(raw, reader.url, header.byteorder, {}) for raw in raws]
    wanted = None if choose is None else set(choose(list(flatten_ifds(light))))
    chosen = [raw for raw in _flatten(raws) if wanted is None or raw.path in wanted]
    _check_budgets(walk, chosen)
    out_of_line = [e for raw in chosen for e in raw.entries.values() if e.offset is not None]
    fetched = await reader.read_many([(e.offset, e.nbytes) for e in out_of_line], "tag values")
    values = {id(e): data for e, data in zip(out_of_line, fetched, strict=True)}
    _check_georeferences(walk, chosen, values)
    ifds = [_build(raw, reader.url, header.byteorder, values) for raw in raws]
    return TIFFFile(reader, header, tuple(ifds))


def _check_budgets(walk: _Walk, chosen: Sequence[RawIFD]) -> None:
    """The whole-file budgets over the IFDs whose values are about to be fetched, each refused at
    the IFD that crosses it. Per-entry bounds were checked during the walk."""
    limits = walk.limits
    if len(chosen) > limits.max_images:
        raise walk.error(
            LimitExceededError, chosen[limits.max_images].path,
            f"{len(chosen)} images to build (limit {limits.max_images}: Limits(max_images=...), or pick one with ifd=k)",
        )
    chunks = value_bytes = 0
    for raw in chosen:
        offsets = [raw.entries[t] for t in _OFFSET_TAGS if t in raw.entries]
        chunks += max((e.count for e in offsets), default=0)
        if chunks > limits.max_chunks:
            raise walk.error(
                LimitExceededError, raw.path,
                f"more than {limits.max_chunks} chunks in the IFDs to build (Limits(max_chunks=...))", offsets[0].tag,
            )
        value_bytes += sum(e.nbytes for e in raw.entries.values() if e.offset is not None)
        if value_bytes > limits.max_value_bytes:
            raise walk.error(
                LimitExceededError, raw.path,
                f"more than {limits.max_value_bytes} bytes of tag values to fetch (Limits(max_value_bytes=...))",
            )


def _check_georeferences(walk: _Walk, chosen: Sequence[RawIFD], values: dict[int, bytes]) -> None:
    """At most ``max_georeferences`` distinct GeoKey directories (by content: every page of a
    GDAL file repeats its own copy) among the IFDs to build, each a CRS to construct."""
    seen: set[tuple] = set()
    for raw in chosen:
        geo = tuple(e.inline if e.offset is None else values[id(e)] for t in _GEO_TAGS if (e := raw.entries.get(t)))
        if not geo or geo in seen:
            continue
        seen.add(geo)
        if len(seen) > walk.limits.max_georeferences:
            raise walk.error(
                LimitExceededError, raw.path,
                f"more than {walk.limits.max_georeferences} distinct GeoKey directories, each a CRS to construct "
                "(Limits(max_georeferences=...))", Tag.GeoKeyDirectoryTag,
            )


def _flatten(raws: Iterable[RawIFD]) -> Iterable[RawIFD]:
    for raw in raws:
        yield raw
        yield from _flatten(raw.subifds)


def flatten_ifds(ifds: Iterable[IFD]) -> Iterable[IFD]:
    """Every IFD of the tree, each followed by its SubIFDs."""
    for ifd in ifds:
        yield ifd
        yield from flatten_ifds(ifd.subifds)


def _build(raw: RawIFD, url: str, byteorder: str, values: dict[int, bytes]) -> IFD:
    """A typed IFD with its inline values and those out-of-line values that were fetched."""
    tags = {}
    for tag, e in raw.entries.items():
        data = e.inline if e.offset is None else values.get(id(e))
        if data is not None:
            tags[tag] = decode_value(e, data, byteorder)
    return IFD(
        url=url,
        path=raw.path,
        offset=raw.offset,
        byteorder=byteorder,
        tags=tags,
        subifds=tuple(_build(s, url, byteorder, values) for s in raw.subifds),
    )
