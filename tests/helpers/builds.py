"""Bounded builds of hostile files, and the exact error each must raise.

A build must finish in well under a second and allocate little Python memory, however large the
counts and offsets the file claims. :func:`bounded` measures with tracemalloc, which must already
be tracing: test modules that use it request the module fixture ``traced_allocations`` (and
``warm_imports``, so lazy imports are not timed) from ``tests/conftest.py``.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers.virtual import file_url
from virtual_tiff import VirtualTIFF
from virtual_tiff.errors import VirtualTIFFError

#: Behaviour bounds of one build, whatever the file claims.
MAX_SECONDS = 1.0
MAX_PEAK_BYTES = 64 * 1024 * 1024


@contextmanager
def bounded() -> Iterator[None]:
    """The body must take under MAX_SECONDS and a Python allocation peak under MAX_PEAK_BYTES."""
    baseline, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    start = time.perf_counter()
    try:
        yield
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        assert elapsed < MAX_SECONDS, f"build took {elapsed:.2f} s"
        assert peak - baseline < MAX_PEAK_BYTES, f"build allocated {(peak - baseline) / 2**20:.0f} MiB"


def build(path: Path, registry, ifd: int | None = 0):
    with bounded():
        return VirtualTIFF(ifd=ifd)(url=file_url(path), registry=registry)


def expect_error(path: Path, registry, error: type[VirtualTIFFError], ifd: int | None = 0) -> VirtualTIFFError:
    """The build raises exactly ``error`` (not a parent, not a sibling), naming the file."""
    with pytest.raises(VirtualTIFFError) as info:
        build(path, registry, ifd)
    assert type(info.value) is error, f"expected {error.__name__}, got {type(info.value).__name__}: {info.value}"
    assert file_url(path) in str(info.value)
    return info.value


def write(tmp_path: Path, content: bytes, name: str = "case.tif") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path
