"""The fuzz property, shared by the CI test and the long run.

For any bytes, ``VirtualTIFF(ifd=0)`` and ``VirtualTIFF(ifd=None)`` either build a store or raise a
:class:`~virtual_tiff.errors.VirtualTIFFError` subclass; never another exception, never in more
than :data:`MAX_BUILD_SECONDS`, never with a Python allocation peak above :data:`MAX_PEAK_BYTES`.
When a build succeeds, reading its arrays either returns pixels or raises a VirtualTIFFError or
one of :data:`CODEC_ERRORS` (a codec refusing bytes that are not what the header says they are).
For an unmutated generated file, the pixels must equal the ones written.

Files live in an in-memory obstore ``MemoryStore`` registered under ``memory://fuzz``: no disk
I/O, and the registry resolution path is the same as for S3.
"""

from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass

import numpy as np
import zarr
from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import MemoryStore

from virtual_tiff import VirtualTIFF
from virtual_tiff.errors import VirtualTIFFError

URL = "memory://fuzz/case.tif"
MAX_BUILD_SECONDS = 1.0
MAX_PEAK_BYTES = 64 * 1024 * 1024
#: Arrays larger than this are read one chunk at a time (their first and last chunk only): the
#: header's claimed size is the user's to accept; decoding 4 GiB is not a parser property.
MAX_READ_BYTES = 16 * 1024 * 1024


#: Compiled codec libraries, whose frames carry no ``self``.
CODEC_LIBRARIES = ("imagecodecs", "numcodecs")


def raised_by_codec(error: BaseException) -> bool:
    """True when ``error`` came out of a codec's decode (see docs/reliability.md, "Reading"):
    a frame of its traceback is a method of a zarr codec, or is in a compiled codec library."""
    from zarr.abc.codec import BaseCodec

    tb = error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if isinstance(frame.f_locals.get("self"), BaseCodec):
            return True
        if any(name in frame.f_code.co_filename for name in CODEC_LIBRARIES):
            return True
        tb = tb.tb_next
    return False


@dataclass
class Outcome:
    """What one input did. ``problem`` is None when the property held."""

    builds: list[str]  # per ifd mode: "ok" or the VirtualTIFFError class name
    read: str  # "ok", "skipped", the error class name, or "" when nothing built
    seconds: float  # slowest build
    peak: int  # largest tracemalloc peak over the builds
    problem: str | None = None


class Harness:
    """One in-memory store and registry, reused across inputs (a fresh one per input costs more)."""

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.registry = ObjectStoreRegistry({"memory://fuzz": self.store})
        # Traced for the harness' whole life, peaks reset per build: stopping tracemalloc while
        # obstore's runtime threads allocate crashes CPython 3.12.1 (a race fixed in later 3.12s).
        if not tracemalloc.is_tracing():
            tracemalloc.start()
        self._warm_up()

    def _warm_up(self) -> None:
        """Build and read one georeferenced COG untimed: the first build imports codecs and loads
        pyproj's database (~0.7 s, 16 MiB), which is not what the bounds are about."""
        from importlib.resources import files

        self.check((files("virtual_tiff") / "data" / "sample_cog.tif").read_bytes())

    def check(self, content: bytes, expected: np.ndarray | None = None, *, read: bool = True) -> Outcome:
        self.store.put("case.tif", content)
        builds, stores, slowest, peak = [], [], 0.0, 0
        problem = None
        for ifd in (0, None):
            baseline, _ = tracemalloc.get_traced_memory()
            tracemalloc.reset_peak()
            start = time.perf_counter()
            try:
                stores.append(VirtualTIFF(ifd=ifd)(url=URL, registry=self.registry))
                builds.append("ok")
            except VirtualTIFFError as error:
                builds.append(type(error).__name__)
            except Exception as error:  # noqa: BLE001 - the property under test
                builds.append(type(error).__name__)
                problem = problem or f"ifd={ifd}: build raised {type(error).__name__}: {error}"
            finally:
                elapsed = time.perf_counter() - start
                _, this_peak = tracemalloc.get_traced_memory()
                this_peak -= baseline
            slowest, peak = max(slowest, elapsed), max(peak, this_peak)
            if elapsed > MAX_BUILD_SECONDS:
                problem = problem or f"ifd={ifd}: build took {elapsed:.2f} s"
            if this_peak > MAX_PEAK_BYTES:
                problem = problem or f"ifd={ifd}: build allocated {this_peak / 2**20:.0f} MiB"
        outcome = Outcome(builds, "", slowest, peak, problem)
        if read and stores and problem is None:
            outcome.read, outcome.problem = self.read(stores, expected)
        return outcome

    def read(self, stores: list, expected: np.ndarray | None) -> tuple[str, str | None]:
        status = "ok"
        for store in stores:
            try:
                group = zarr.open_group(store, mode="r", zarr_format=3)
                for name, array in group.arrays():
                    values = read_bounded(array)
                    if expected is not None and name == "0" and values is not None:
                        if not np.array_equal(values, expected, equal_nan=True):
                            return "wrong-pixels", f"array {name!r}: pixels differ from the ones written"
                    if values is None:
                        status = "skipped"
            except VirtualTIFFError as error:
                status = type(error).__name__
            except Exception as error:  # noqa: BLE001 - the property under test
                if expected is None and raised_by_codec(error):
                    status = f"codec:{type(error).__name__}"
                    self.last_codec_error = error
                    continue
                return type(error).__name__, f"read raised {type(error).__name__}: {error}"
        return status, None


def read_bounded(array: zarr.Array) -> np.ndarray | None:
    """The whole array when small; otherwise its first and last chunk, and None."""
    if array.nbytes <= MAX_READ_BYTES:
        return np.asarray(array[...])
    chunk_bytes = np.prod(array.chunks, dtype=np.float64) * array.dtype.itemsize
    if chunk_bytes <= MAX_READ_BYTES:
        array[tuple(slice(0, c) for c in array.chunks)]
        array[tuple(slice(max(0, s - 1), s) for s in array.shape)]
    return None
