"""One bound on requests in flight for the whole process, and cancellation that stops requests.

Specification:
- header reads of any number of concurrent builds (``parse_async`` gathered by the user: 1,812
  requests were once in flight) and chunk reads of any number of stores, from any number of
  threads, hold at most ``REQUEST_SLOTS.limit`` requests at once (``VIRTUAL_TIFF_MAX_REQUESTS``);
- a cancelled read or build leaves no request running: a fetch whose every reader was cancelled
  is cancelled too (obstore then closes its connection), even while the server is still silent.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import zarr
from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import S3Store

from tests.helpers.faults import Fault, FaultProxy, always
from tests.helpers.geotiffs import write_geotiff
from tests.helpers.oracles import read_rasterio
from tests.helpers.s3 import BUCKET
from tests.helpers.virtual import file_url
from virtual_tiff import VirtualTIFF
from virtual_tiff.io import _slots
from virtual_tiff.io._slots import RequestSlots

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def slots(monkeypatch) -> Iterator[RequestSlots]:
    """The process's slots replaced by a bound of 3, for the length of one test."""
    bound = RequestSlots(3)
    monkeypatch.setattr(_slots, "REQUEST_SLOTS", bound)
    yield bound


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> list:
    """Eight 256 x 256 GeoTIFFs of 16 tiles each (64-pixel tiles), distinct pixels."""
    root = tmp_path_factory.mktemp("slots")
    return [write_geotiff(root / f"scene_{k}.tif", seed=k, shape=(256, 256), tile=64) for k in range(8)]


def parse_all(urls: list[str], registry) -> list:
    async def go():
        return await asyncio.gather(*(VirtualTIFF(ifd=0).parse_async(u, registry) for u in urls))
    return asyncio.run(go())


def test_header_reads_of_concurrent_builds_share_one_bound(slots, scenes, registry):
    urls = [file_url(p) for p in scenes] * 5
    assert len(parse_all(urls, registry)) == 40
    assert slots.peak == 3 and slots.in_flight == 0


def test_without_the_bound_the_same_builds_have_more_requests_in_flight(monkeypatch, scenes, registry):
    """The control: the bound above is what kept the peak at 3."""
    wide = RequestSlots(1000)
    monkeypatch.setattr(_slots, "REQUEST_SLOTS", wide)
    parse_all([file_url(p) for p in scenes] * 5, registry)
    assert wide.peak > 3


def test_chunk_reads_of_many_stores_in_many_threads_share_one_bound(slots, scenes, registry):
    stores = [VirtualTIFF(ifd=0)(url=file_url(p), registry=registry) for p in scenes]

    def read(store):
        return zarr.open_group(store, mode="r", zarr_format=3)["0"][...]

    with ThreadPoolExecutor(8) as pool:
        arrays = list(pool.map(read, stores))
    for path, array in zip(scenes, arrays, strict=True):
        np.testing.assert_array_equal(array, read_rasterio(path))
    assert 1 <= slots.peak <= 3 and slots.in_flight == 0


# --------------------------------------------------------------------------- cancellation


def registry_via(proxy: FaultProxy) -> ObjectStoreRegistry:
    store = S3Store(BUCKET, endpoint=proxy.endpoint, region="us-east-1", access_key_id="testing",
                    secret_access_key="testing", client_options={"allow_http": True})
    return ObjectStoreRegistry({f"s3://{BUCKET}": store})


async def settled(slots: RequestSlots, within: float = 1.0) -> int:
    """Requests still in flight ``within`` seconds after a cancellation, the loop still running
    (``asyncio.run`` would cancel whatever is left as it closes the loop, hiding a leak)."""
    deadline = time.monotonic() + within
    while slots.in_flight and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return slots.in_flight


@pytest.mark.parametrize("selection", [(slice(0, 10), slice(0, 10)), (slice(None), slice(None))],
                         ids=["one-chunk", "every-chunk"])
def test_a_cancelled_read_leaves_no_request_running(selection, slots, proxy, s3, scenes):
    """The server holds every chunk GET for 8 s; the read is cancelled after 0.3 s."""
    url = s3.upload(scenes[0], "slots/cancel.tif")
    registry = registry_via(proxy)
    store = VirtualTIFF(ifd=0)(url=url, registry=registry)
    proxy.rule = always(Fault("slow", seconds=8))

    async def cancelled_read():
        array = await zarr.api.asynchronous.open_array(store=store, path="0", zarr_format=3)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(array.getitem(selection), 0.3)
        assert slots.peak >= 1
        return await settled(slots)

    assert asyncio.run(cancelled_read()) == 0, "requests still in flight after the read was cancelled"


def test_a_cancelled_build_leaves_no_request_running(slots, proxy, s3, scenes):
    url = s3.upload(scenes[1], "slots/cancel-build.tif")
    proxy.rule = always(Fault("slow", seconds=8))

    async def cancelled_build():
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(VirtualTIFF(ifd=0).parse_async(url, registry_via(proxy)), 0.3)
        assert slots.peak == 1
        return await settled(slots)

    assert asyncio.run(cancelled_build()) == 0
