"""Time of ``to_icechunk`` with and without checksums as the number of sources grows:
``python -m benchmarks.icechunk_write [--files 250 1000 4000]``.

Copies one small COG (6 tiles) to N files under benchmarks/data/icechunk_write/, stacks them with
``open_virtual_mfdataset`` and writes the stack to a fresh local Icechunk repository. Linear is the
target: the checksummed write used to be quadratic (one call over the whole grid per source).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import warnings

from benchmarks.data import DATA


def files(n: int) -> list[str]:
    import rasterio

    folder = DATA / "icechunk_write"
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "source.tif"
    if not source.exists():
        import numpy as np
        with rasterio.open(source, "w", driver="COG", height=64, width=96, count=1, dtype="int16",
                           blocksize=32, compress="DEFLATE") as dst:
            dst.write(np.arange(64 * 96, dtype="int16").reshape(1, 64, 96))
    paths = []
    for k in range(n):
        path = folder / f"t{k:06d}.tif"
        if not path.exists():
            shutil.copyfile(source, path)
        paths.append(f"file://{path}")
    return paths


def write(urls: list[str], checksum) -> float:
    import icechunk
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore

    from virtual_tiff import open_virtual_mfdataset
    from virtual_tiff.writers.icechunk import to_icechunk

    ds = open_virtual_mfdataset(urls, ObjectStoreRegistry({"file://": LocalStore()}), combine="nested",
                                concat_dim="time")
    prefix = f"file://{DATA / 'icechunk_write'}/"
    config = icechunk.RepositoryConfig.default()
    config.set_virtual_chunk_container(icechunk.VirtualChunkContainer(prefix, icechunk.local_filesystem_store(prefix[7:])))
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        repo = icechunk.Repository.create(icechunk.local_filesystem_storage(tmp), config=config,
                                          authorize_virtual_chunk_access={prefix: None})
        session = repo.writable_session("main")
        start = time.perf_counter()
        to_icechunk(ds, session.store, checksum=checksum)
        elapsed = time.perf_counter() - start
        session.commit("bench")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, nargs="+", default=[250, 1000, 4000])
    args = parser.parse_args()
    print("| files | references | checksum='etag' | checksum=None |\n|---|---|---|---|")
    for n in args.files:
        urls = files(n)
        print(f"| {n} | {6 * n} | {write(urls, 'etag'):.2f} s | {write(urls, None):.2f} s |")


if __name__ == "__main__":
    main()
