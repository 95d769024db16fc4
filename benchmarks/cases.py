"""One benchmark case with one tool, timed in this (fresh) process: ``python -m benchmarks.cases CASE TOOL``.

Reads ``BENCH_ENDPOINT`` (our S3 server) and prints one JSON line: seconds of the timed part and a
checksum of the pixels (so tools can be compared). Imports happen before the clock starts.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from virtualizarr.manifests import ManifestStore

from benchmarks.data import ALIGNED, COG_SIZE, DATA, OVERVIEW, POINT, STACK, UNALIGNED, WHOLE, cog_path

BUCKET = "bench"
ENDPOINT = os.environ.get("BENCH_ENDPOINT", "http://127.0.0.1:9")
HOSTPORT = ENDPOINT.removeprefix("http://")

# (row_off, col_off, height, width) of each window case
STRIPED_WINDOW = (2048, 1024, 512, 1024)
BIG_WINDOW = (4096, 4096, 2048, 2048)  # 64 tiles of 256² of the 16384² tiled GTiff
#: The warm read of each single-file case: the same kind of read of other bytes, in the same
#: process after the first (imports, codec registry, connections and thread pools are then warm;
#: no tool's cache holds these bytes).
WARM = {"full-cog": ("stack/t01.tif", None), "striped-window": ("striped.tif", (4096, 1024, 512, 1024)),
        "big-window": ("big.tif", (8192, 8192, 2048, 2048))}
OVERVIEW_SIZE = COG_SIZE >> OVERVIEW

os.environ.update({
    "AWS_S3_ENDPOINT": HOSTPORT, "AWS_HTTPS": "NO", "AWS_VIRTUAL_HOSTING": "FALSE",
    "AWS_NO_SIGN_REQUEST": "YES", "AWS_REGION": "us-east-1", "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif", "GDAL_HTTP_TIMEOUT": "60",
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
})


def checksum(a) -> int:
    return int(np.asarray(a, dtype=np.uint64).sum())


def mean_checksum(mean) -> int:
    """A time mean's checksum, in thousands: tools' float accumulations differ in the last bits."""
    return int(round(float(np.asarray(mean, dtype=np.float64).sum()) / 1e3))


def counters() -> dict:
    """The server's counters now: a case that reads again after its timed read reports these."""
    import urllib.request

    with urllib.request.urlopen(f"{ENDPOINT}/_counters", timeout=10) as response:
        return json.loads(response.read())


def reset_counters() -> None:
    """Zero the server's counters as the clock starts: they then count what the clock times (not
    the publishing of a cube a published-path case reads afterwards)."""
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{ENDPOINT}/_counters/reset", method="POST"), timeout=10).close()


def s3_store():
    from obstore.store import S3Store

    return S3Store(BUCKET, endpoint=ENDPOINT, region="us-east-1", skip_signature=True,
                   client_options={"allow_http": True, "timeout": "60s", "connect_timeout": "10s",
                                   "pool_max_idle_per_host": "256"})


def registry(store):
    from obspec_utils.registry import ObjectStoreRegistry

    return ObjectStoreRegistry({f"s3://{BUCKET}": store})


def stack_keys() -> list[str]:
    return [f"stack/{cog_path(i).name}" for i in range(STACK)]


# ------------------------------------------------------------------ rasterio / GDAL (/vsis3/)


def rio_read(key: str, window=None):
    import rasterio
    from rasterio.windows import Window

    with rasterio.open(f"/vsis3/{BUCKET}/{key}") as src:
        if window is None:
            return src.read(1)
        r, c, h, w = window
        return src.read(1, window=Window(c, r, w, h))


def rio_header(key: str):
    import rasterio

    with rasterio.open(f"/vsis3/{BUCKET}/{key}") as src:
        return src.width * src.height


def rio_stack(window):
    with ThreadPoolExecutor(16) as pool:  # GDAL is synchronous: threads are its concurrency
        return list(pool.map(lambda k: rio_read(k, window), stack_keys()))


def rio_overview_mean():
    """Each COG read at the first overview's size (GDAL answers from that overview), then the time mean."""
    import rasterio

    def one(key):
        with rasterio.open(f"/vsis3/{BUCKET}/{key}") as src:
            return src.read(1, out_shape=(OVERVIEW_SIZE, OVERVIEW_SIZE))

    with ThreadPoolExecutor(16) as pool:
        return np.stack(list(pool.map(one, stack_keys()))).mean(axis=0)


# ------------------------------------------------------------------ tifffile over an obstore file-like


class RangeFile:
    """A minimal read-only file over an object store: each unbuffered read is one ranged GET."""

    def __init__(self, store, key: str) -> None:
        import obstore

        self.store, self.key, self.pos = store, key, 0
        self.size = obstore.head(store, key)["size"]
        self.name = key

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = {0: 0, 1: self.pos, 2: self.size}[whence] + offset
        return self.pos

    def readinto(self, buffer) -> int:
        import obstore

        end = min(self.pos + len(buffer), self.size)
        if end <= self.pos:
            return 0
        data = memoryview(obstore.get_range(self.store, self.key, start=self.pos, end=end))
        buffer[: len(data)] = data
        self.pos += len(data)
        return len(data)

    def close(self) -> None:
        pass

    @property
    def closed(self) -> bool:
        return False


def tf_open(store, key: str):
    import io

    import tifffile

    raw = RangeFile(store, key)
    return tifffile.TiffFile(io.BufferedReader(raw, buffer_size=64 * 1024), name=key)  # type: ignore[arg-type]


def tf_read(store, key: str, window=None):
    import zarr

    with tf_open(store, key) as tif:
        if window is None:
            return tif.pages[0].asarray()
        r, c, h, w = window
        z = zarr.open_array(tif.pages[0].aszarr(), mode="r")
        return z[r : r + h, c : c + w]


def tf_stack(store, window):
    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(lambda k: tf_read(store, k, window), stack_keys()))


# ------------------------------------------------------------------ async-geotiff


async def ag_read(store, key: str, window=None):
    from async_geotiff import GeoTIFF, Window

    g = await GeoTIFF.open(key, store=store)
    if window is None:
        arr = await g.read()
    else:
        r, c, h, w = window
        arr = await g.read(window=Window(col_off=c, row_off=r, width=w, height=h))
    return np.asarray(arr.data)


async def ag_stack(store, window):
    return await asyncio.gather(*(ag_read(store, k, window) for k in stack_keys()))


async def ag_overview_mean(store):
    from async_geotiff import GeoTIFF

    async def one(key):
        g = await GeoTIFF.open(key, store=store)
        return np.asarray((await g.overviews[OVERVIEW - 1].read()).data).squeeze()

    return np.stack(await asyncio.gather(*(one(k) for k in stack_keys()))).mean(axis=0)


# ------------------------------------------------------------------ virtual-tiff


#: virtual-tiff's tools: which store and which zarr codec pipeline they read through.
#: ``vt-plain``: VirtualiZarr's ManifestStore and zarr's default pipeline (upstream behaviour: one
#: GET per chunk). ``vt-batched``: our store under zarr's default pipeline (chunk reads merged
#: within a batch window). ``vt``: our store and our pipeline, what ``import virtual_tiff`` gives.
#: ``vt-dask``: the same through ``xr.open_zarr(store)`` with its default dask chunks (one task per
#: tile, as many pending reads as dask has threads); ``vt-dask-auto``: with ``chunks="auto"`` (dask
#: chunks of many tiles, each task's read planned whole).
VT_TOOLS = {
    "vt-plain": (False, "zarr.core.codec_pipeline.BatchedCodecPipeline"),
    "vt-batched": (True, "zarr.core.codec_pipeline.BatchedCodecPipeline"),
    "vt": (True, "virtual_tiff.read.pipeline.TIFFCodecPipeline"),
    "vt-dask": (True, "virtual_tiff.read.pipeline.TIFFCodecPipeline"),
    "vt-dask-auto": (True, "virtual_tiff.read.pipeline.TIFFCodecPipeline"),
    "vt-cube": (True, "virtual_tiff.read.pipeline.TIFFCodecPipeline"),
    "vt-icechunk": (True, "virtual_tiff.read.pipeline.TIFFCodecPipeline"),
    "vt-icechunk-64": (True, "virtual_tiff.read.pipeline.TIFFCodecPipeline"),
}


def vt_store(url: str, reg, coalesced: bool, ifd=0):
    from virtual_tiff import VirtualTIFF
    from virtual_tiff.read import TIFFManifestStore

    ms = VirtualTIFF(ifd=ifd)(url, reg)
    return TIFFManifestStore.from_store(ms) if coalesced else ManifestStore(ms._group, registry=ms._registry)


def vt_read(store, key: str, coalesced: bool, window=None, dask=None):
    """``dask``: None (zarr directly), or the ``chunks`` argument of ``xr.open_zarr``."""
    import zarr

    if dask is not None:
        import xarray as xr

        ds = xr.open_zarr(vt_store(f"s3://{BUCKET}/{key}", registry(store), coalesced), zarr_format=3,
                          consolidated=False, chunks=dask)
        if window is None:
            return ds["0"].values
        r, c, h, w = window
        return ds["0"][r : r + h, c : c + w].values

    z = zarr.open_array(vt_store(f"s3://{BUCKET}/{key}", registry(store), coalesced), path="0", mode="r",
                        zarr_format=3)
    if window is None:
        return z[:]
    r, c, h, w = window
    return z[r : r + h, c : c + w]


async def vt_stack_async(store, coalesced: bool, window):
    """Each of the 64 files parsed, opened and read as one chain, the 64 chains gathered on one event loop
    (as ``ag_stack`` does with async-geotiff)."""
    from zarr.api.asynchronous import open_array

    from virtual_tiff import VirtualTIFF

    reg = registry(store)
    r, c, h, w = window

    async def one(key: str):
        built = await VirtualTIFF(ifd=0).parse_async(f"s3://{BUCKET}/{key}", reg)
        source = built if coalesced else ManifestStore(built._group, registry=built._registry)
        array = await open_array(store=source, path="0", mode="r", zarr_format=3)
        return await array.getitem((slice(r, r + h), slice(c, c + w)))

    return await asyncio.gather(*(one(k) for k in stack_keys()))


def vt_cube(store, window):
    """The public cube path: ``open_mfdataset`` (headers read concurrently, one store), then one window."""
    from virtual_tiff import open_mfdataset

    cube = open_mfdataset(stack_urls(), registry(store), combine="nested", concat_dim="time")
    r, c, h, w = window
    return cube["0"][:, r : r + h, c : c + w].values


def vt_cube_overview_mean(store):
    """``resolution=`` picks the first overview of every file; the time mean reads all of it at once."""
    from virtual_tiff import open_mfdataset

    cube = open_mfdataset(stack_urls(), registry(store), combine="nested", concat_dim="time",
                          resolution=10.0 * (1 << OVERVIEW))
    return cube["0"].mean("time").values


PUBLISHED = DATA / "published"  # run.py removes it before each latency: the container's endpoint changes


def _icechunk_reader_parts():
    import icechunk

    from virtual_tiff import icechunk_config

    prefix = f"s3://{BUCKET}/stack/"
    container = icechunk.s3_store(region="us-east-1", endpoint_url=ENDPOINT, allow_http=True, s3_compatible=True,
                                  force_path_style=True)
    credentials = icechunk.containers_credentials(
        {prefix: icechunk.s3_static_credentials(access_key_id="bench", secret_access_key="bench")})
    return icechunk.local_filesystem_storage(str(PUBLISHED)), icechunk_config({prefix: container}), credentials


def published_store():
    """The 64-COG multiscale cube published to a local Icechunk repository (once, before the clock),
    opened as a reader who has only the repository and the credentials (the config is persisted)."""
    import icechunk

    from virtual_tiff import open_virtual_multiscale, to_icechunk

    storage, config, credentials = _icechunk_reader_parts()
    if not PUBLISHED.exists():
        tree = open_virtual_multiscale(stack_urls(), registry(s3_store()), concat_dim="time")
        repo = icechunk.Repository.create(storage, config=config, authorize_virtual_chunk_access=credentials)
        session = repo.writable_session("main")
        to_icechunk(tree, session.store)
        session.commit("benchmark cube")
    return icechunk.Repository.open(storage, authorize_virtual_chunk_access=credentials).readonly_session("main").store


def vt_icechunk(store, window=None):
    """A read from the published cube: no header request, the chunks straight from the COGs."""
    import xarray as xr

    if window is None:  # the time mean at the first overview
        level = xr.open_zarr(store, group=str(OVERVIEW), zarr_format=3, consolidated=False, chunks=None)
        return level["data"].mean("time").values
    r, c, h, w = window
    cube = xr.open_zarr(store, group="0", zarr_format=3, consolidated=False, chunks=None)
    return cube["data"][:, r : r + h, c : c + w].values


def vt_stack(store, coalesced: bool, window):
    from zarr.core.sync import sync

    return sync(vt_stack_async(store, coalesced, window))


# ------------------------------------------------------------------ STAC loaders (GDAL underneath)


def stac_items():
    import pystac

    return list(pystac.ItemCollection.from_file(str(DATA / "stack.json")))


def stac_bounds(window):
    from benchmarks.data import _transform

    t = _transform(COG_SIZE)
    r, c, h, w = window
    left, top = t * (c, r)
    right, bottom = t * (c + w, r + h)
    return left, bottom, right, top


def stackstac_stack(window, resolution=10.0):
    import dask
    import stackstac

    items = stac_items()
    for it in items:  # GDAL reads s3:// hrefs as /vsis3/
        it.assets["data"].href = it.assets["data"].href.replace("s3://", "/vsis3/")
    da = stackstac.stack(items, assets=["data"], epsg=32633, resolution=resolution, bounds=stac_bounds(window),
                         dtype=np.dtype("uint16"), fill_value=np.uint16(0), rescale=False, chunksize=512, snap_bounds=False)
    with dask.config.set(scheduler="threads", num_workers=16):
        if resolution != 10.0:
            return da.mean("time").compute().values
        return da.compute().values


def odc_stack(window, resolution=10.0):
    import dask
    import odc.stac

    items = stac_items()
    left, bottom, right, top = stac_bounds(window)
    ds = odc.stac.load(items, bands=["data"], crs="EPSG:32633", resolution=resolution, x=(left, right),
                       y=(bottom, top), chunks={}, groupby="id")
    with dask.config.set(scheduler="threads", num_workers=16):
        if resolution != 10.0:
            return ds["data"].mean("time").compute().values
        return ds["data"].compute().values


# ------------------------------------------------------------------ building a virtual stack (issue 6)


def stack_urls() -> list[str]:
    return [f"s3://{BUCKET}/{k}" for k in stack_keys()]


def build_stack(tool: str):
    """A lazy 64-COG time stack, no pixels read; returns its number of elements (all tools agree)."""
    if tool == "vt-mfdataset":
        from virtual_tiff import open_virtual_mfdataset

        ds = open_virtual_mfdataset(stack_urls(), registry(s3_store()), concat_dim="time", combine="nested")
        return ds["0"].size
    if tool == "vt-stac":
        from virtual_tiff import open_stac

        return open_stac(str(DATA / "stack.json"), assets=["data"], registry=registry(s3_store()))["data"].size
    if tool == "virtualizarr":  # upstream: one file after another, then xarray's combine
        import virtualizarr

        from virtual_tiff import VirtualTIFF

        ds = virtualizarr.open_virtual_mfdataset(stack_urls(), registry=registry(s3_store()), parser=VirtualTIFF(),
                                                 concat_dim="time", combine="nested", coords="minimal",
                                                 compat="override")
        return ds["0"].size
    if tool == "rioxarray":  # GDAL opens each file (serially), dask keeps the concat lazy
        import rioxarray
        import xarray as xr

        arrays = [rioxarray.open_rasterio(f"/vsis3/{BUCKET}/{k}", chunks={}) for k in stack_keys()]
        return xr.concat(arrays, dim="time").size
    if tool == "stackstac":  # from the STAC metadata alone (proj extension): no request
        import stackstac

        items = stac_items()
        for it in items:
            it.assets["data"].href = it.assets["data"].href.replace("s3://", "/vsis3/")
        return stackstac.stack(items, assets=["data"], epsg=32633, resolution=10.0, dtype=np.dtype("uint16"),
                               fill_value=np.uint16(0), rescale=False, chunksize=512, snap_bounds=False,
                               bounds=stac_bounds((0, 0, COG_SIZE, COG_SIZE))).size
    raise KeyError(tool)


# ------------------------------------------------------------------ decoding (no network)

DECODE_READS = 15


def decode_reader(tool: str):
    """A function reading the whole local COG with ``tool``, every call from the file again, on every core."""
    path = cog_path(0)
    if tool == "rasterio":
        import rasterio

        def read():  # reopened each time: GDAL's block cache would otherwise answer from memory
            with rasterio.Env(GDAL_NUM_THREADS="ALL_CPUS"), rasterio.open(path) as src:
                return src.read(1)

        return read
    if tool == "tifffile":
        import tifffile

        return lambda: tifffile.imread(path, maxworkers=os.cpu_count())
    if tool == "imagecodecs":  # the floor: libdeflate + delta on the raw tiles, one thread per core
        import imagecodecs
        import tifffile

        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            raw = path.read_bytes()
            tiles = [raw[o : o + n] for o, n in zip(page.dataoffsets, page.databytecounts, strict=True)]
            tile, across = page.tilelength, page.imagewidth // page.tilewidth

        def tile_into(out, i):
            decoded = imagecodecs.deflate_decode(tiles[i], out=tile * tile * 2)
            r, c = divmod(i, across)
            out[r * tile : (r + 1) * tile, c * tile : (c + 1) * tile] = imagecodecs.delta_decode(
                np.frombuffer(decoded, "<u2").reshape(tile, tile), axis=-1)

        pool = ThreadPoolExecutor(os.cpu_count())

        def read():
            out = np.empty((COG_SIZE, COG_SIZE), "uint16")
            list(pool.map(lambda i: tile_into(out, i), range(len(tiles))))
            return out

        return read
    if tool in VT_TOOLS:
        import zarr
        from obspec_utils.registry import ObjectStoreRegistry
        from obstore.store import LocalStore

        from virtual_tiff import VirtualTIFF
        from virtual_tiff.read import TIFFManifestStore

        ms = VirtualTIFF(ifd=0)(path.resolve().as_uri(), ObjectStoreRegistry({"file://": LocalStore()}))
        coalesced, pipeline = VT_TOOLS[tool]
        store = TIFFManifestStore.from_store(ms) if coalesced else ManifestStore(ms._group, registry=ms._registry)
        with zarr.config.set({"codec_pipeline.path": pipeline}):
            z = zarr.open_array(store, path="0", mode="r", zarr_format=3)
        return lambda: z[:]
    raise KeyError(tool)


# ------------------------------------------------------------------ the cases


#: Extra timings a case reports besides its total (the decode case splits opening from reading).
SPLITS: dict[str, float] = {}


def run(case: str, tool: str):
    """Returns (seconds, checksum)."""
    coalesced = False
    if tool in VT_TOOLS:
        import zarr

        coalesced, pipeline = VT_TOOLS[tool]
        zarr.config.set({"codec_pipeline.path": pipeline})
    store = s3_store() if tool in ("tifffile", "async-geotiff", "vt-all-ifds", *VT_TOOLS) else None
    if tool.startswith("vt-icechunk"):
        store = published_store()
        if tool == "vt-icechunk-64":  # zarr reads 10 chunks at a time by default; a reader may raise it
            zarr.config.set({"async.concurrency": 64})
    if case != "decode":  # decode reads local files, with no server
        reset_counters()
    t0 = time.perf_counter()
    if case == "header":
        key = "big.tif"
        if tool == "rasterio":
            out = rio_header(key)
        elif tool == "tifffile":
            with tf_open(store, key) as tif:
                out = int(np.prod(tif.pages[0].shape))
        elif tool == "async-geotiff":
            from async_geotiff import GeoTIFF
            from zarr.core.sync import sync

            g = sync(GeoTIFF.open(key, store=store))
            out = g.width * g.height
        elif tool in ("vt", "vt-all-ifds"):
            ms = vt_store(f"s3://{BUCKET}/{key}", registry(store), True, ifd=None if tool == "vt-all-ifds" else 0)
            out = int(np.prod(ms._group.arrays["0"].shape))
        else:
            raise KeyError(tool)
        return time.perf_counter() - t0, int(out)
    if case in ("full-cog", "striped-window", "big-window"):
        key, window = {"full-cog": ("stack/t00.tif", None), "striped-window": ("striped.tif", STRIPED_WINDOW),
                       "big-window": ("big.tif", BIG_WINDOW)}[case]

        def read(key, window):
            if tool == "rasterio":
                return rio_read(key, window)
            if tool == "tifffile":
                return tf_read(store, key, window)
            if tool == "async-geotiff":
                from zarr.core.sync import sync

                return sync(ag_read(store, key, window))
            if tool in VT_TOOLS:
                return vt_read(store, key, coalesced, window, dask={"vt-dask": {}, "vt-dask-auto": "auto"}.get(tool))
            raise KeyError(tool)

        out = read(key, window)
        seconds = time.perf_counter() - t0
        SPLITS["counters"] = counters()  # the first read's; the warm read's requests are not in the table
        t1 = time.perf_counter()
        read(*WARM[case])
        SPLITS["warm_seconds"] = time.perf_counter() - t1
        return seconds, checksum(out)
    if case in ("stack-aligned", "stack-unaligned", "stack-point"):
        window = {"stack-aligned": ALIGNED, "stack-unaligned": UNALIGNED, "stack-point": POINT}[case]
        if tool == "rasterio":
            out = rio_stack(window)
        elif tool == "tifffile":
            out = tf_stack(store, window)
        elif tool == "async-geotiff":
            from zarr.core.sync import sync

            out = sync(ag_stack(store, window))
        elif tool == "vt-cube":
            out = vt_cube(store, window)
        elif tool.startswith("vt-icechunk"):
            out = vt_icechunk(store, window)
        elif tool in VT_TOOLS:
            out = vt_stack(store, coalesced, window)
        elif tool == "stackstac":
            out = stackstac_stack(window)
        elif tool == "odc-stac":
            out = odc_stack(window)
        else:
            raise KeyError(tool)
        return time.perf_counter() - t0, checksum(np.stack([np.asarray(o).squeeze() for o in out]))
    if case == "cube-mean-overview":
        if tool == "rasterio":
            out = rio_overview_mean()
        elif tool == "async-geotiff":
            from zarr.core.sync import sync

            out = sync(ag_overview_mean(store))
        elif tool == "vt-cube":
            out = vt_cube_overview_mean(store)
        elif tool.startswith("vt-icechunk"):
            out = vt_icechunk(store)
        elif tool == "stackstac":
            out = stackstac_stack(WHOLE, resolution=10.0 * (1 << OVERVIEW))
        elif tool == "odc-stac":
            out = odc_stack(WHOLE, resolution=10.0 * (1 << OVERVIEW))
        else:
            raise KeyError(tool)
        return time.perf_counter() - t0, mean_checksum(out)
    if case == "build-stack":
        out = build_stack(tool)
        return time.perf_counter() - t0, int(out)
    if case == "decode":  # one local 2048² Deflate+predictor-2 COG, read whole again and again
        read = decode_reader(tool)
        out = read()
        SPLITS["first_seconds"] = time.perf_counter() - t0  # opening and the first read
        times = []
        for _ in range(DECODE_READS):
            t1 = time.perf_counter()
            read()
            times.append(time.perf_counter() - t1)
        return statistics.median(times), checksum(out)
    raise KeyError(case)


def _warm_imports(tool: str) -> None:
    import rasterio  # noqa: F401
    import tifffile  # noqa: F401
    import xarray  # noqa: F401
    import zarr  # noqa: F401

    # What a user's script imports at its top: the public names (which load what they need; the
    # first read's own first-time costs stay on the clock, as a fresh process pays them).
    from virtual_tiff import TIFFManifestStore, VirtualTIFF, open_mfdataset  # noqa: F401
    if tool == "async-geotiff":
        import async_geotiff  # noqa: F401
    if tool.startswith("vt-dask"):  # dask looks for a distributed client on its first compute
        import dask.array  # noqa: F401
        import distributed  # noqa: F401
    if tool == "stackstac":
        import stackstac  # noqa: F401
    if tool in ("vt-mfdataset", "vt-stac", "vt-cube", "vt-icechunk", "vt-icechunk-64", "virtualizarr", "rioxarray", "stackstac"):
        # What a session that built a stack before has loaded: xarray imports dask on its first
        # Variable when dask is installed, zarr loads its codec entry points on first use.
        import dask.array  # noqa: F401
        import rioxarray  # noqa: F401
        import virtualizarr  # noqa: F401
        import xarray.backends.zarr  # noqa: F401 - xr.open_zarr's backend (vt-cube opens the cube with it)
        import zarr.registry

        import virtual_tiff.stacks._stac  # noqa: F401

        zarr.registry.get_codec_class("numcodecs.zlib")
    if tool == "odc-stac":
        import odc.stac  # noqa: F401


if __name__ == "__main__":
    case, tool = sys.argv[1], sys.argv[2]
    _warm_imports(tool)
    seconds, check = run(case, tool)
    print(json.dumps({"seconds": seconds, "checksum": check, **SPLITS}), flush=True)
