"""Fuzz inputs: valid TIFFs of every layout (with the pixels they hold), and byte mutations of them.

Both generators take their decisions from a :class:`Draw`, so the same code serves two drivers:
hypothesis in the CI test (``HypothesisDraw``: shrinkable, reproducible failures) and a plain
seeded ``random.Random`` in the long run (``RandomDraw``: ~100x cheaper per input, and an input
is reproducible from its seed alone).

Files are laid out by the struct-based builder of ``tests/helpers/tiffbuilder.py`` (one builder in
the project); this module only decides the fields and encodes the chunks.
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field
from typing import Protocol, Sequence, TypeVar

import numpy as np

from tests.helpers.tiffbuilder import (
    FLAVOURS,
    IFD,
    LONG,
    SHORT,
    At,
    Field,
    Flavour,
    build_tiff,
)

T = TypeVar("T")


class Draw(Protocol):
    """Where the generators' decisions come from."""

    def int(self, lo: int, hi: int) -> int: ...  # inclusive bounds

    def choice(self, options: Sequence[T]) -> T: ...

    def bytes(self, n: int) -> bytes: ...


@dataclass
class RandomDraw:
    rng: random.Random

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def choice(self, options: Sequence[T]) -> T:
        return options[self.rng.randrange(len(options))]

    def bytes(self, n: int) -> bytes:
        return self.rng.randbytes(n)


class HypothesisDraw:
    """A :class:`Draw` over hypothesis' ``st.data()``: failures shrink to small decisions."""

    def __init__(self, data) -> None:  # hypothesis.strategies.DataObject
        from hypothesis import strategies as st

        self._data, self._st = data, st

    def int(self, lo: int, hi: int) -> int:
        return self._data.draw(self._st.integers(lo, hi))

    def choice(self, options: Sequence[T]) -> T:
        return self._data.draw(self._st.sampled_from(list(options)))

    def bytes(self, n: int) -> bytes:
        return self._data.draw(self._st.binary(min_size=n, max_size=n))


# --------------------------------------------------------------------------- valid files

#: (BitsPerSample, SampleFormat, numpy dtype)
SAMPLE_TYPES = [(8, 1, "u1"), (16, 1, "u2"), (16, 2, "i2"), (32, 1, "u4"), (32, 3, "f4"), (64, 3, "f8")]
#: TIFF Compression codes the generator encodes (none, LZW, Deflate, Adobe Deflate, PackBits, ZSTD, LZMA).
COMPRESSIONS = [1, 5, 8, 32946, 32773, 50000, 34925]


@dataclass(frozen=True)
class ImageSpec:
    """One IFD's decisions."""

    width: int
    height: int
    samples: int
    planar: int  # 1 chunky, 2 separate
    sample_type: tuple[int, int, str]
    compression: int
    predictor: int  # 1 none, 2 horizontal differencing
    tile: int | None  # tile side, or None for strips
    rows_per_strip: int
    empty_chunk: int | None  # index of one chunk written as offset 0 / bytecount 0, or None


@dataclass
class Generated:
    """A valid file and what it holds: IFD 0's pixels as ``(band, y, x)`` or ``(y, x)``."""

    content: bytes
    flavour: Flavour
    specs: list[ImageSpec]
    expected: np.ndarray
    description: str = ""
    mutations: list[str] = field(default_factory=list)


def draw_spec(draw: Draw, *, max_side: int = 40) -> ImageSpec:
    samples = draw.choice([1, 1, 2, 3])
    sample_type = draw.choice(SAMPLE_TYPES)
    compression = draw.choice(COMPRESSIONS)
    integer = sample_type[1] in (1, 2)
    predictor = draw.choice([1, 2]) if integer and compression != 1 else 1
    width, height = draw.int(1, max_side), draw.int(1, max_side)
    tile = draw.choice([None, 16, 32])
    rows = draw.int(1, height) if tile is None else 0
    planar = draw.choice([1, 2]) if samples > 1 else 1
    spec = ImageSpec(width, height, samples, planar, sample_type, compression, predictor, tile, rows, None)
    n_chunks = len(chunk_boxes(spec)) * (samples if planar == 2 else 1)
    empty = draw.choice([None, None, None, draw.int(0, n_chunks - 1)])
    return ImageSpec(**{**spec.__dict__, "empty_chunk": empty})


def chunk_boxes(spec: ImageSpec) -> list[tuple[int, int, int, int]]:
    """(y0, x0, rows, cols) of each stored chunk, in TIFF order, before the band loop of planar files."""
    if spec.tile is None:
        return [(y, 0, min(spec.rows_per_strip, spec.height - y), spec.width)
                for y in range(0, spec.height, spec.rows_per_strip)]
    t = spec.tile
    return [(y, x, t, t) for y in range(0, spec.height, t) for x in range(0, spec.width, t)]


def pixels(spec: ImageSpec, seed: int) -> np.ndarray:
    """Deterministic data as ``(y, x, band)``, spanning the dtype's range."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(spec.sample_type[2])
    shape = (spec.height, spec.width, spec.samples)
    if dtype.kind == "f":
        return (rng.standard_normal(shape) * 1000).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)


def encode(block: np.ndarray, spec: ImageSpec, byteorder: str) -> bytes:
    """One chunk ``(rows, cols, bands)`` as the file stores it: predictor, byte order, compression."""
    import imagecodecs

    if spec.predictor == 2:
        block = imagecodecs.delta_encode(block, axis=1)
    raw = block.astype(block.dtype.newbyteorder(byteorder)).tobytes()
    c = spec.compression
    if c == 1:
        return raw
    if c == 5:
        return imagecodecs.lzw_encode(raw)
    if c in (8, 32946):
        return imagecodecs.zlib_encode(raw)
    if c == 32773:
        return imagecodecs.packbits_encode(raw)
    if c == 50000:
        return imagecodecs.zstd_encode(raw)
    if c == 34925:
        return imagecodecs.lzma_encode(raw)
    raise ValueError(c)


def image_fields(spec: ImageSpec, data: np.ndarray, byteorder: str, blob: bytearray, data_base: int) -> list[Field]:
    """The IFD fields of ``spec``; appends its encoded chunks to ``blob`` (at ``At(plus=...)``)."""
    offsets, counts = [], []
    k = 0
    bands = range(spec.samples) if spec.planar == 2 else [None]
    for band in bands:
        for y0, x0, rows, cols in chunk_boxes(spec):
            block = np.zeros((rows, cols, spec.samples), data.dtype)
            part = data[y0 : y0 + rows, x0 : x0 + cols]
            block[: part.shape[0], : part.shape[1]] = part
            if band is not None:
                block = block[:, :, band : band + 1]
            if k == spec.empty_chunk:
                offsets.append(0)
                counts.append(0)
            else:
                encoded = encode(np.ascontiguousarray(block), spec, byteorder)
                offsets.append(At(plus=data_base + len(blob)))
                counts.append(len(encoded))
                blob += encoded + b"\0" * (len(encoded) % 2)
            k += 1
    bits, fmt, _ = spec.sample_type
    fields = [
        Field(256, LONG, (spec.width,)),
        Field(257, LONG, (spec.height,)),
        Field(258, SHORT, (bits,) * spec.samples),
        Field(259, SHORT, (spec.compression,)),
        Field(262, SHORT, (2 if spec.samples == 3 and bits == 8 else 1,)),
        Field(277, SHORT, (spec.samples,)),
        Field(284, SHORT, (spec.planar,)),
        Field(339, SHORT, (fmt,) * spec.samples),
    ]
    if spec.samples > 1 and not (spec.samples == 3 and bits == 8):
        fields.append(Field(338, SHORT, (0,) * (spec.samples - 1)))  # MinIsBlack + unspecified extras
    if spec.predictor != 1:
        fields.append(Field(317, SHORT, (spec.predictor,)))
    if spec.tile is None:
        fields += [Field(273, LONG, tuple(offsets)), Field(278, LONG, (spec.rows_per_strip,)),
                   Field(279, LONG, tuple(counts))]
    else:
        fields += [Field(322, SHORT, (spec.tile,)), Field(323, SHORT, (spec.tile,)),
                   Field(324, LONG, tuple(offsets)), Field(325, LONG, tuple(counts))]
    return fields


def generate(draw: Draw) -> Generated:
    """A valid file: IFD 0, optionally a second main IFD (a page) and SubIFDs of IFD 0."""
    flavour = draw.choice(FLAVOURS)
    seed = draw.int(0, 2**16)
    n_main = draw.int(1, 2)
    n_sub = draw.choice([0, 0, 1, 2])
    subifd_type = draw.choice([LONG, IFD])
    specs = [draw_spec(draw) for _ in range(n_main + n_sub)]
    arrays = [pixels(s, seed + i) for i, s in enumerate(specs)]
    blob = bytearray()
    ifds = [image_fields(s, a, flavour.byteorder, blob, 0) for s, a in zip(specs, arrays, strict=True)]
    next_offsets: dict[int, int | At] = {}
    if n_sub:
        ifds[0].append(Field(330, subifd_type, tuple(At(ifd=n_main + i) for i in range(n_sub))))
        next_offsets = {n_main - 1: 0, **{n_main + i: 0 for i in range(n_sub)}}
    content = build_tiff(ifds, flavour, data=bytes(blob), next_offsets=next_offsets)
    expected = arrays[0]
    if specs[0].empty_chunk is not None:
        expected = expected_with_hole(specs[0], expected)
    expected = np.moveaxis(expected, -1, 0)
    if specs[0].samples == 1:
        expected = expected[0]
    description = f"{flavour.id} " + "; ".join(describe(s) for s in specs) + f"; subifds={n_sub}"
    return Generated(content, flavour, specs, expected, description)


def expected_with_hole(spec: ImageSpec, data: np.ndarray) -> np.ndarray:
    """The pixels readers give when one chunk is empty: zeros (the fill value) there."""
    out = data.copy()
    boxes = chunk_boxes(spec)
    k = spec.empty_chunk
    band, box = (k // len(boxes), boxes[k % len(boxes)]) if spec.planar == 2 else (None, boxes[k])
    y0, x0, rows, cols = box
    region = out[y0 : y0 + rows, x0 : x0 + cols]
    if band is None:
        region[...] = 0
    else:
        region[..., band] = 0
    return out


def describe(s: ImageSpec) -> str:
    layout = f"tile{s.tile}" if s.tile else f"strip{s.rows_per_strip}"
    return (f"{s.width}x{s.height}x{s.samples} {s.sample_type[2]} planar{s.planar} c{s.compression} "
            f"p{s.predictor} {layout} empty={s.empty_chunk}")


# --------------------------------------------------------------------------- mutations

#: Values no honest field holds, and the boundaries arithmetic trips on.
EXTREMES = [0, 1, 2, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x10000, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1,
            2**63, 2**64 - 1]


def pack_extreme(value: int, width: int, byteorder: str) -> bytes:
    return (value % 2 ** (8 * width)).to_bytes(width, "little" if byteorder == "<" else "big")


def entry_positions(content: bytes) -> list[tuple[int, bool, str]]:
    """(offset of each IFD entry in IFD 0 and the next few, bigtiff, byte order), found without our parser."""
    if len(content) < 16 or content[:2] not in (b"II", b"MM"):
        return []
    bo = "<" if content[:2] == b"II" else ">"
    (version,) = struct.unpack(bo + "H", content[2:4])
    big = version == 43
    out: list[tuple[int, bool, str]] = []
    offset = struct.unpack(bo + ("Q" if big else "I"), content[8:16] if big else content[4:8])[0]
    for _ in range(4):
        count_size, entry_size, slot = (8, 20, 8) if big else (2, 12, 4)
        if not 0 < offset <= len(content) - count_size:
            break
        (n,) = struct.unpack(bo + ("Q" if big else "H"), content[offset : offset + count_size])
        n = min(n, 64)
        first = offset + count_size
        out += [(first + i * entry_size, big, bo) for i in range(n) if first + (i + 1) * entry_size <= len(content)]
        nxt = first + n * entry_size
        if nxt + slot > len(content):
            break
        offset = struct.unpack(bo + ("Q" if big else "I"), content[nxt : nxt + slot])[0]
    return out


def mutate(draw: Draw, content: bytes) -> tuple[bytes, str]:
    """One mutation of ``content``, and a short name for reports."""
    data = bytearray(content)
    n = len(data)
    kind = draw.choice(["flip", "truncate", "splice", "overwrite", "entry", "entry", "entry", "zero-run"])
    if n == 0:
        return bytes(draw.bytes(draw.int(0, 16))), "random"
    if kind == "flip":
        at = draw.int(0, n - 1)
        data[at] ^= 1 << draw.int(0, 7)
        return bytes(data), f"flip@{at}"
    if kind == "truncate":
        at = draw.int(0, n - 1)
        return bytes(data[:at]), f"truncate@{at}"
    if kind == "splice":
        a, b = sorted((draw.int(0, n), draw.int(0, n)))
        at = draw.int(0, n)
        if draw.choice([True, False]):
            return bytes(data[:at] + data[a:b] + data[at:]), f"insert[{a}:{b}]@{at}"
        data[at : at + (b - a)] = data[a:b]
        return bytes(data), f"copy[{a}:{b}]@{at}"
    if kind == "zero-run":
        at = draw.int(0, n - 1)
        length = draw.int(1, 64)
        data[at : at + length] = bytes(min(length, n - at))
        return bytes(data), f"zeros@{at}+{length}"
    width = draw.choice([2, 4, 8])
    value = draw.choice(EXTREMES)
    entries = entry_positions(content)
    if kind == "entry" and entries:
        at, big, bo = draw.choice(entries)
        part = draw.choice(["type", "count", "value", "tag"])
        where = {"tag": (at, 2), "type": (at + 2, 2), "count": (at + 4, 8 if big else 4),
                 "value": (at + (12 if big else 8), 8 if big else 4)}[part]
        at, width = where
        if part == "type":
            value = draw.choice([0, 1, 2, 3, 4, 5, 7, 11, 12, 13, 16, 17, 18, 19, 0xFFFF])
        elif part == "tag":
            value = draw.choice([256, 257, 258, 259, 273, 277, 278, 279, 284, 317, 322, 323, 324, 325, 330, 338, 339])
        data[at : at + width] = pack_extreme(value, width, bo)
        return bytes(data), f"entry-{part}={value}@{at}"
    at = draw.int(0, max(0, n - width))
    bo = "<" if content[:2] == b"II" else ">"
    data[at : at + width] = pack_extreme(value, width, bo)[: n - at]
    return bytes(data), f"overwrite{width}={value}@{at}"


def mutated(draw: Draw, max_mutations: int = 3) -> Generated:
    """A valid file with 1..``max_mutations`` mutations; ``expected`` then means nothing."""
    g = generate(draw)
    content = g.content
    for _ in range(draw.int(1, max_mutations)):
        content, name = mutate(draw, content)
        g.mutations.append(name)
    g.content = content
    return g
