"""Property-based fuzzing of the header parser and the array-metadata step (short CI run).

The property (:mod:`fuzz.harness`): for any bytes, ``VirtualTIFF(ifd=0)`` and
``VirtualTIFF(ifd=None)`` build a store or raise a VirtualTIFFError subclass, in under 1 s and
under 64 MiB of Python allocations; a store that builds reads its pixels or raises a
VirtualTIFFError or a codec's decode error. Valid generated files (classic/BigTIFF, II/MM,
tiles/strips, chunky/planar, seven compressions, predictor 2, empty chunks, SubIFDs) must read
exactly the pixels written. The long run is ``python -m fuzz.run`` (docs/reliability.md); each
of its findings is a row of :data:`REGRESSIONS`.
"""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz.harness import MAX_PEAK_BYTES, Harness
from fuzz.tiffgen import HypothesisDraw, generate, mutated
from tests.helpers.tiffbuilder import (
    BIGTIFF,
    DOUBLE,
    FLAVOURS,
    LONG,
    LONG8,
    PIXELS,
    RATIONAL,
    SHORT,
    Field,
    build_tiff,
    edit,
    image,
    strip_fields,
    tile_fields,
)
from virtual_tiff.errors import MalformedTIFFError

pytestmark = pytest.mark.timeout(120)

#: Deterministic in CI (the same examples every run); the long run explores.
CI = settings(derandomize=True, deadline=None, database=None, print_blob=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def harness() -> Harness:
    return Harness()


def assert_holds(outcome) -> None:
    assert outcome.problem is None, outcome.problem
    assert outcome.peak < MAX_PEAK_BYTES


@settings(CI, max_examples=40)
@given(data=st.data())
def test_valid_generated_files_read_exactly(harness, data):
    g = generate(HypothesisDraw(data))
    outcome = harness.check(g.content, g.expected)
    assert outcome.builds == ["ok", "ok"], (g.description, outcome)
    assert_holds(outcome)


@settings(CI, max_examples=150)
@given(data=st.data())
def test_mutated_files_build_or_refuse_within_bounds(harness, data):
    g = mutated(HypothesisDraw(data))
    assert_holds(harness.check(g.content))


@settings(CI, max_examples=60)
@given(content=st.binary(max_size=256))
def test_arbitrary_bytes_build_or_refuse_within_bounds(harness, content):
    assert_holds(harness.check(content))


# --------------------------------------------------------------------------- findings of the long run


def samples_per_pixel(value: int, type_: int):
    return lambda f: image(edit(strip_fields(), Field(277, type_, (value,))), f)


def mask_with_three_samples(flavour):
    """An image followed by a 'mask' IFD (NewSubfileType 4) of the same size with 3 samples per pixel."""
    mask = edit(strip_fields(), Field(254, LONG, (4,)), Field(277, SHORT, (3,)), Field(258, SHORT, (8, 8, 8)),
                Field(279, LONG, (3 * len(PIXELS),)))
    return build_tiff([strip_fields(), mask], flavour, data=PIXELS * 3)


def extra_samples(raw: bytes, type_: int):
    return lambda f: image(edit(strip_fields(), Field(277, SHORT, (1,)), Field(338, type_, raw, count=1)), f)


def palette_16(flavour):
    """A 16-bit palette image (libtiff's flower-palette-16, mutated): 65,536 ColorMap rows."""
    fields = edit(strip_fields(), Field(258, SHORT, (16,)), Field(262, SHORT, (3,)), Field(279, LONG, (512,)),
                  Field(320, SHORT, np.arange(3 * 65536, dtype="<u2").tobytes() if flavour.byteorder == "<"
                        else np.arange(3 * 65536, dtype=">u2").tobytes()))
    return build_tiff([fields], flavour, data=PIXELS * 2)


def user_defined_crs(flavour):
    """User-defined projected keys (Transverse Mercator on WGS 84): PROJ's identification took 0.5 s."""
    keys = (1, 1, 0, 7, 1024, 0, 1, 1, 2048, 0, 1, 4326, 3072, 0, 1, 32767, 3074, 0, 1, 32767, 3075, 0, 1, 1,
            3088, 34736, 1, 0, 3092, 34736, 1, 1)
    fields = edit(strip_fields(), Field(33550, DOUBLE, (10.0, 10.0, 0.0)),
                  Field(33922, DOUBLE, (0.0, 0.0, 0.0, 500_000.0, 0.0, 0.0)),
                  Field(34735, SHORT, keys), Field(34736, DOUBLE, (15.0, 0.9996)))
    return image(fields, flavour)


#: (id, file maker, flavours, what the build must do: an error class, or None for "builds and reads").
REGRESSIONS = [
    # fuzz seed 0 #3535, #3814, #6855: SamplesPerPixel = 5e18 (a LONG8) made a per-band loop run for hours.
    pytest.param(samples_per_pixel(2**62 + 1, LONG8), BIGTIFF, MalformedTIFFError, id="samples-per-pixel-2**62"),
    pytest.param(samples_per_pixel(2**32 - 1, LONG), FLAVOURS, MalformedTIFFError, id="samples-per-pixel-2**32-1"),
    pytest.param(samples_per_pixel(65536, LONG), FLAVOURS, MalformedTIFFError, id="samples-per-pixel-65536"),
    # fuzz seed 0 #5197: ExtraSamples typed RATIONAL n/0 decoded to inf; int(inf) raised OverflowError.
    pytest.param(extra_samples(struct.pack("<II", 1, 0), RATIONAL), FLAVOURS[:1], None, id="extra-samples-rational-inf"),
    pytest.param(extra_samples(struct.pack("<d", float("nan")), DOUBLE), FLAVOURS[:1], None, id="extra-samples-nan"),
    # fuzz seed 1 #6639: a mask IFD with 3 samples was paired with a 2-D image: ValueError on its dims.
    pytest.param(mask_with_three_samples, FLAVOURS, None, id="mask-with-three-samples"),
    # real-file seed 2 #7763: an ExtraSamples count of 32,767 made 32,767 names (2.1 s).
    pytest.param(lambda f: image(edit(strip_fields(), Field(338, SHORT, bytes(2 * 32767))), f), FLAVOURS[:1], None,
                 id="extra-samples-32767"),
    # real-file seed 2 (libtiff pics): every zarr.json of a 16-bit palette re-serialized 65,536
    # ColorMap rows; past 10 s under tracing (5 hangs).
    pytest.param(palette_16, FLAVOURS, None, id="palette-16-bit"),
    # real-file seed 2 #3734: identifying a user-defined CRS against PROJ's database took 0.5 s a build.
    pytest.param(user_defined_crs, FLAVOURS, None, id="user-defined-crs"),
]


@pytest.mark.parametrize(("make", "flavours", "error"), REGRESSIONS)
def test_fuzz_findings(make, flavours, error, harness):
    for flavour in flavours:
        outcome = harness.check(make(flavour))
        assert_holds(outcome)
        if error is None:
            assert outcome.builds == ["ok", "ok"] and outcome.read == "ok", outcome
        else:
            assert outcome.builds == [error.__name__] * 2, outcome


def test_tile_file_with_every_unknown_extreme_still_reads(harness):
    """The control: the builder's base images pass the harness with their pixels."""
    expected = np.frombuffer(bytes(range(256)), np.uint8).reshape(16, 16)
    for flavour in FLAVOURS:
        for fields in (strip_fields(), tile_fields()):
            outcome = harness.check(image(fields, flavour), expected)
            assert outcome.builds == ["ok", "ok"] and outcome.read == "ok", outcome
