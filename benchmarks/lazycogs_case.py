"""The lazycogs cells of the stack cases, in lazycogs' own environment: ``python -m benchmarks.lazycogs_case CASE``.

lazycogs (STAC + async-geotiff) needs pandas 3, which the locked project environment cannot take
beside stackstac 0.5.1; ``run.py`` runs this module with the interpreter of a separate
environment (``benchmarks/.lazycogs-venv``, made with uv on first use), which has lazycogs, rustac and
DuckDB's extensions and not virtual_tiff. So this module imports only what that environment has:
numpy, obstore, lazycogs, rustac, the standard library and ``benchmarks.data``'s constants (no
``benchmarks.cases``). It prints the same
JSON line as ``benchmarks.cases``; the windows and checksums are those of ``benchmarks.cases``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

from benchmarks.data import ALIGNED, DATA, ORIGIN, OVERVIEW, PIXEL, POINT, UNALIGNED, WHOLE

ENDPOINT = os.environ.get("BENCH_ENDPOINT", "http://127.0.0.1:9")
WINDOWS = {"stack-aligned": ALIGNED, "stack-unaligned": UNALIGNED, "stack-point": POINT, "cube-mean-overview": WHOLE}


def items_parquet() -> Path:
    """The benchmark's STAC items (stack.json) as stac-geoparquet, which lazycogs reads (rustac writes it)."""
    import rustac

    path = DATA / "stack.parquet"
    if not path.exists():
        items = json.loads((DATA / "stack.json").read_text())["features"]
        rustac.write_sync(str(path), items)
    return path


def duckdb_client():
    """rustac's DuckDB client with its extensions from PyPI's wheels (see run.py), never the network."""
    import importlib
    import platform
    import shutil

    import rustac

    root = Path(sys.prefix) / "duckdb-extensions"
    arch = {"x86_64": "linux_amd64", "aarch64": "linux_arm64"}[platform.machine()]
    for name in ("spatial", "icu", "parquet"):
        package = Path(importlib.import_module(f"duckdb_extension_{name}").__path__[0])
        source = next(package.glob("extensions/*/*.duckdb_extension"))
        target = root / source.parent.name / arch / source.name
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return rustac.DuckdbClient(install_extensions=False, extension_directory=str(root))


def bbox(window) -> tuple[float, float, float, float]:
    (left, top), (r, c, h, w) = ORIGIN, window
    return left + c * PIXEL, top - (r + h) * PIXEL, left + (c + w) * PIXEL, top - r * PIXEL


def run(case: str) -> tuple[float, int]:
    import lazycogs
    from obstore.store import S3Store

    store = S3Store("bench", endpoint=ENDPOINT, region="us-east-1", skip_signature=True,
                    client_options={"allow_http": True, "timeout": "60s", "pool_max_idle_per_host": "256"})
    href, client = str(items_parquet()), duckdb_client()
    urllib.request.urlopen(urllib.request.Request(f"{ENDPOINT}/_counters/reset", method="POST"), timeout=10).close()
    t0 = time.perf_counter()
    resolution = PIXEL * (1 << OVERVIEW) if case == "cube-mean-overview" else PIXEL
    da = lazycogs.open(href, bbox=bbox(WINDOWS[case]), crs="EPSG:32633", resolution=resolution, bands=["data"],
                       time_period=None, store=store, dtype="uint16", duckdb_client=client)
    if case == "cube-mean-overview":
        mean = da.isel(band=0).mean("time").values
        return time.perf_counter() - t0, int(round(float(np.asarray(mean, dtype=np.float64).sum()) / 1e3))
    out = da.isel(band=0).values
    return time.perf_counter() - t0, int(np.asarray(out, dtype=np.uint64).sum())


if __name__ == "__main__":
    import lazycogs  # noqa: F401 - imports before the clock
    import rustac  # noqa: F401

    seconds, check = run(sys.argv[1])
    print(json.dumps({"seconds": seconds, "checksum": check}), flush=True)
