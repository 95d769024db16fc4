"""Build cost of a time stack at 100, 1,000 and 10,000 files: ``python -m benchmarks.scale``.

Each file is a small tiled COG-like GeoTIFF (64², 4 tiles of 32²). ``--kind real`` (the default)
gives each file its own GDAL_METADATA (acquisition date, processing baseline, product id) and
its own TIFF DateTime, as real scenes carry; ``--kind identical`` copies one file, the case that
hides per-file metadata costs. Each size is measured in its own fresh process, imports and one
warm-up stack done before the clock:

- wall and CPU seconds of ``open_virtual_mfdataset(..., concat_dim="time", combine="nested")``
  over local files (no network: the per-file CPU is what this measures);
- in a second pass under tracemalloc: bytes the result holds per chunk reference, and the peak.

Not part of pytest/CI. Files go to ``benchmarks/data/scale-<kind>/`` (gitignored), written once.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time

import numpy as np

from benchmarks.data import DATA

SIZES = (100, 1_000, 10_000)


def _write(path, i: int | None) -> None:
    import rasterio
    from rasterio.transform import from_origin

    data = ((np.arange(64 * 64).reshape(1, 64, 64) + 7 * (i or 0)) % 4000).astype("uint16")
    tags = {} if i is None else {
        "TIFFTAG_DATETIME": f"2024:{1 + i % 12:02d}:{1 + i % 28:02d} 10:{i % 60:02d}:{i % 59:02d}",
    }
    with rasterio.open(path, "w", driver="GTiff", height=64, width=64, count=1, dtype="uint16",
                       crs="EPSG:32633", transform=from_origin(500_000, 5_000_000, 10, 10), tiled=True,
                       blockxsize=32, blockysize=32, compress="DEFLATE", **tags) as dst:
        dst.write(data)
        if i is not None:
            dst.update_tags(ACQUISITION_DATE=f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:{i % 60:02d}:00",
                            PROCESSING_BASELINE=f"05.{i % 11:02d}", PRODUCT_ID=f"S2B_MSIL2A_{i:06d}")


def write_files(n: int, kind: str) -> list[str]:
    folder = DATA / f"scale-{kind}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"f{i:05d}.tif" for i in range(n)]
    if kind == "identical":
        source = folder / "source.tif"
        if not source.exists():
            _write(source, None)
        for path in paths:
            if not path.exists():
                shutil.copy(source, path)
    else:
        for i, path in enumerate(paths):
            if not path.exists():
                _write(path, i)
    return [p.resolve().as_uri() for p in paths]


def measure(n: int, kind: str) -> dict:
    """One size, in this process: time the build, then build again under tracemalloc."""
    import gc
    import tracemalloc

    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore

    from virtual_tiff import open_virtual_mfdataset

    urls = write_files(n, kind)
    registry = ObjectStoreRegistry({"file://": LocalStore()})
    open_virtual_mfdataset(urls[:8], registry, concat_dim="time", combine="nested")  # imports, codec registry
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    ds = open_virtual_mfdataset(urls, registry, concat_dim="time", combine="nested")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    entries = int(ds["0"].data.manifest._paths.size)
    del ds
    gc.collect()
    tracemalloc.start()
    ds = open_virtual_mfdataset(urls, registry, concat_dim="time", combine="nested")
    held, peak = tracemalloc.get_traced_memory()  # while ds is alive: what the result holds
    tracemalloc.stop()
    del ds
    return {"files": n, "kind": kind, "references": entries, "wall_s": wall, "cpu_s": cpu,
            "held_bytes_per_reference": held / entries, "peak_bytes_per_reference": peak / entries,
            "peak_mb": peak / 1e6}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, nargs="+", default=list(SIZES))
    ap.add_argument("--kind", choices=["real", "identical"], nargs="+", default=["real", "identical"])
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # the fresh process's own run
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.files[0], args.kind[0])))
        return
    for kind in args.kind:
        write_files(max(args.files), kind)
    print("| files | headers | wall (s) | CPU (s) | CPU per file (ms) | held B/reference | peak B/reference |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for kind in args.kind:
        for n in args.files:
            run = subprocess.run([sys.executable, "-m", "benchmarks.scale", "--one", "--files", str(n),
                                  "--kind", kind], capture_output=True, text=True, timeout=1800, check=True)
            r = json.loads(run.stdout.strip().splitlines()[-1])
            print(f"| {n:,} | {kind} | {r['wall_s']:.2f} | {r['cpu_s']:.2f} | {r['cpu_s'] / n * 1e3:.2f} "
                  f"| {r['held_bytes_per_reference']:.0f} | {r['peak_bytes_per_reference']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
