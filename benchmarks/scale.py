"""Memory per chunk reference and time of a 10,000-file stack: ``python -m benchmarks.scale [--files N]``.

Writes N copies of one small tiled GeoTIFF (4 tiles each) under benchmarks/data/scale/, builds the
time stack with ``open_virtual_mfdataset`` in batches, and reports (tracemalloc) the memory the
result holds and the peak during the build, per manifest entry. Not part of pytest/CI
(``tests/stacks/test_stack.py`` runs 500 files under a time bound).
"""

from __future__ import annotations

import argparse
import shutil
import time
import tracemalloc

import numpy as np

from benchmarks.data import DATA


def write_files(n: int) -> list[str]:
    import rasterio
    from rasterio.transform import from_origin

    folder = DATA / "scale"
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "source.tif"
    if not source.exists():
        data = (np.arange(64 * 64).reshape(1, 64, 64) % 4000).astype("uint16")
        with rasterio.open(source, "w", driver="GTiff", height=64, width=64, count=1, dtype="uint16",
                           crs="EPSG:32633", transform=from_origin(500_000, 5_000_000, 10, 10), tiled=True,
                           blockxsize=32, blockysize=32, compress="DEFLATE") as dst:
            dst.write(data)
    paths = [folder / f"f{i:05d}.tif" for i in range(n)]
    for path in paths:
        if not path.exists():
            shutil.copy(source, path)
    return [p.resolve().as_uri() for p in paths]


def main(argv: list[str] | None = None) -> None:
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore

    from virtual_tiff import open_virtual_mfdataset

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--batch-size", type=int, default=1024)
    args = ap.parse_args(argv)
    urls = write_files(args.files)
    registry = ObjectStoreRegistry({"file://": LocalStore()})
    open_virtual_mfdataset(urls[:8], registry, concat_dim="time", combine="nested")  # warm imports and caches
    tracemalloc.start()
    started = time.perf_counter()
    ds = open_virtual_mfdataset(urls, registry, concat_dim="time", combine="nested", batch_size=args.batch_size)
    seconds = time.perf_counter() - started
    held, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    entries = ds["0"].data.manifest._paths.size
    print(f"{args.files} files, {entries} chunk references, batch {args.batch_size}: {seconds:.2f} s "
          f"({seconds / args.files * 1e3:.2f} ms/file); held {held / 1e6:.1f} MB = {held / entries:.0f} B/reference, "
          f"peak {peak / 1e6:.1f} MB = {peak / entries:.0f} B/reference")


if __name__ == "__main__":
    main()
