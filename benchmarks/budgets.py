"""What hostile headers cost to build or refuse: ``python -m benchmarks.budgets``.

The build-amplification reproducers of the hostile-input issue (many IFDs, many pages, many
tags, millions of tiles, a giant ColorMap, garbage citations, many CRSs, a 2**31-wide image),
each built with ``ifd=None`` in this process: the outcome, the wall time without tracing, and
the tracemalloc peak of a second, traced build. Not part of pytest/CI: ``tests/tiff/test_budgets.py``
asserts the outcomes (under tracemalloc, at smaller sizes where tracing slows the walk).
"""

from __future__ import annotations

import struct
import tempfile
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import LocalStore

from tests.helpers.tiffbuilder import (
    ASCII,
    DOUBLE,
    LONG,
    PIXELS,
    SHORT,
    Field,
    build_tiff,
    edit,
    strip_fields,
    tile_fields,
)
from virtual_tiff import VirtualTIFF


def one_entry_ifds(n: int) -> bytes:
    ifds = b"".join(struct.pack("<HHHII", 1, 256, SHORT, 1, 1) + struct.pack("<I", 8 + 18 * (k + 1) if k + 1 < n else 0)
                    for k in range(n))
    return b"II*\0" + struct.pack("<I", 8) + ifds


def pages(n: int, each: Callable[[int], tuple[Field, ...]] = lambda i: ()) -> bytes:
    return build_tiff([edit(strip_fields(width=1, height=1), *each(i)) for i in range(n)], data=bytes(16))


def geokeys(epsg: int) -> tuple[Field, ...]:
    return (Field(33550, DOUBLE, (10.0, 10.0, 0.0)), Field(33922, DOUBLE, (0.0, 0.0, 0.0, 500_000.0, 0.0, 0.0)),
            Field(34735, SHORT, (1, 1, 0, 2, 1024, 0, 1, 1, 3072, 0, 1, epsg)))


def garbage_citation(i: int) -> tuple[Field, ...]:
    text = f"garbage citation {i}|".encode() + b"\0"
    keys = (1, 1, 0, 3, 1024, 0, 1, 1, 1026, 34737, len(text) - 1, 0, 3072, 0, 1, 32767)
    return (*geokeys(0)[:2], Field(34735, SHORT, keys), Field(34737, ASCII, text))


def cases() -> dict[str, bytes]:
    tiles = 2048 * 2048
    return {
        "16,000 one-entry IFDs": one_entry_ifds(16_000),
        "4,000 valid 1x1 pages": pages(4000),
        "4,000 private UNDEFINED tags": build_tiff([edit(strip_fields(), *(Field(50_000 + k, 7, bytes(20))
                                                                              for k in range(4000)))], data=PIXELS),
        "4M empty 16x16 tiles": build_tiff([edit(tile_fields(width=16 * 2048, height=16 * 2048),
                                                 Field(324, LONG, bytes(4 * tiles)), Field(325, LONG, bytes(4 * tiles)))]),
        "12.6M-entry ColorMap": build_tiff([edit(strip_fields(), Field(262, SHORT, (3,)),
                                                 Field(320, SHORT, np.full(12_600_000, 7, "<u2").tobytes()))], data=PIXELS),
        "50 pages, distinct garbage citations": pages(50, garbage_citation),
        "8 pages, distinct garbage citations": pages(8, garbage_citation),
        "9 pages, 9 CRSs": pages(9, lambda i: geokeys(32601 + i)),
        "2**31-1 pixels wide": build_tiff([edit(strip_fields(width=2**31 - 1, height=1), Field(259, SHORT, (8,)),
                                                Field(279, LONG, (16,)), *geokeys(32633))], data=PIXELS),
    }


def outcome(parser: VirtualTIFF, url: str, registry) -> str:
    try:
        parser(url=url, registry=registry)
        return "built"
    except Exception as exc:  # noqa: BLE001 - reported
        return f"{type(exc).__name__}: {str(exc).split(': ', 2)[-1][:90]}"


def main() -> None:
    warnings.simplefilter("ignore")
    registry = ObjectStoreRegistry({"file://": LocalStore()})
    with tempfile.TemporaryDirectory() as tmp:
        warm = Path(tmp) / "warm.tif"
        warm.write_bytes(build_tiff([strip_fields()], data=PIXELS))
        outcome(VirtualTIFF(ifd=None), f"file://{warm}", registry)
        print("| header | size | outcome (`ifd=None`) | time | peak |\n|---|---|---|---|---|")
        for name, content in cases().items():
            path = Path(tmp) / "case.tif"
            path.write_bytes(content)
            url = f"file://{path}"
            start = time.perf_counter()
            result = outcome(VirtualTIFF(ifd=None), url, registry)
            elapsed = time.perf_counter() - start
            tracemalloc.start()
            outcome(VirtualTIFF(ifd=None), url, registry)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"| {name} | {len(content) / 1e6:.2f} MB | {result} | {elapsed:.2f} s | {peak / 2**20:.1f} MiB |")


if __name__ == "__main__":
    main()
