"""A 10,000-file cube built and read on a local dask.distributed cluster: ``python -m benchmarks.cluster``.

The files are ``benchmarks.scale``'s real-scene set (64² GeoTIFFs, 4 tiles, each with its own
GDAL_METADATA and DateTime). A ``LocalCluster`` of worker processes (2 by default, one thread
each) reads the headers in batches (``open_virtual_mfdataset(..., executor=client.get_executor())``),
then computes the time mean of a window through dask on the same workers. Reports the build and
read times, the size of the pickled store (what each dask task carries) and each worker's peak
of requests in flight. Not part of pytest/CI (``tests/stacks/test_cubes.py`` runs a small cube
on a cluster).
"""

from __future__ import annotations

import argparse
import pickle
import time

import numpy as np

from benchmarks.scale import write_files


def _peak() -> int:
    from virtual_tiff.io._slots import REQUEST_SLOTS

    return REQUEST_SLOTS.peak


def main(argv: list[str] | None = None) -> None:
    import distributed
    from obspec_utils.registry import ObjectStoreRegistry
    from obstore.store import LocalStore

    from virtual_tiff import TIFFManifestStore, open_virtual, open_virtual_mfdataset

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=1024)
    args = ap.parse_args(argv)
    urls = write_files(args.files, "real")
    registry = ObjectStoreRegistry({"file://": LocalStore()})
    with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        client.run(lambda: __import__("virtual_tiff.stacks"))  # the workers' imports, before the clock
        started = time.perf_counter()
        vds = open_virtual_mfdataset(urls, registry, combine="nested", concat_dim="time",
                                     batch_size=args.batch_size, executor=client.get_executor())
        built = time.perf_counter() - started
        pickled = len(pickle.dumps(TIFFManifestStore.from_virtual(vds, registry)))
        started = time.perf_counter()
        cube = open_virtual(vds, registry, chunks={"time": 1024})
        mean = cube["0"].isel(y=slice(0, 32), x=slice(0, 64)).mean("time").compute()
        read = time.perf_counter() - started
        peaks = client.run(_peak)
    references = int(vds["0"].data.manifest._paths.size)
    print(f"{args.files:,} files, {references:,} chunk references, {args.workers} worker processes: "
          f"build {built:.1f} s ({built / args.files * 1e3:.2f} ms/file), window mean {read:.1f} s "
          f"(mean {float(np.asarray(mean).mean()):.1f}); store pickles to {pickled / 1e6:.2f} MB "
          f"({pickled / references:.0f} B/reference); peak requests in flight per worker: {sorted(peaks.values())}")


if __name__ == "__main__":
    main()
