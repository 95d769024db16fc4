"""Flaky object storage: transient faults are retried to the right pixels, persistent ones fail clearly.

A fault-injecting proxy (:mod:`tests.helpers.faults`) sits between obstore and the moto server. The
S3Store is configured with a short retry policy so every case stays within a few seconds:
``max_retries=3``, backoff from 20 ms, a 5 s retry timeout, and a 1 s request timeout.

Specification, for each fault (HTTP 500/503, reset, slow first byte, short body, wrong
Content-Length) and for both the header build and the chunk reads:

- *transient* (the first two GETs fail): the build / read succeeds and the pixels equal
  rasterio's, for the faults obstore retries; the others fail as below;
- *persistent* (every GET fails): a :class:`SourceReadError` naming the url, within a time bound;
- never other pixels: a response with fewer bytes than asked raises instead of being sliced.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import numpy as np
import pytest
import zarr
from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import S3Store

from tests.helpers.faults import Fault, FaultProxy, Rule, always, first
from tests.helpers.oracles import read_rasterio
from tests.helpers.s3 import BUCKET, S3
from virtual_tiff import VirtualTIFF
from virtual_tiff.errors import SourceReadError

pytestmark = pytest.mark.timeout(60)

RETRY = {
    "max_retries": 3,
    "backoff": {"init_backoff": datetime.timedelta(milliseconds=20),
                "max_backoff": datetime.timedelta(milliseconds=200), "base": 2},
    "retry_timeout": datetime.timedelta(seconds=5),
}
#: Longest a persistent fault may take to surface: 4 attempts of at most 1 s (the request
#: timeout) plus backoff, with margin for a loaded machine.
MAX_FAILURE_SECONDS = 8.0

#: Faults obstore retries (status >= 500, connection errors, timeouts, bodies cut short).
RETRIED = [
    pytest.param(Fault("status", 500), id="http-500"),
    pytest.param(Fault("status", 503), id="http-503"),
    pytest.param(Fault("reset"), id="connection-reset"),
    pytest.param(Fault("slow", seconds=1.5), id="slow-first-byte"),
    pytest.param(Fault("short"), id="short-body"),
]
#: Faults that make a response look complete but wrong: refused at once, never retried.
REFUSED = [
    pytest.param(Fault("long_length"), id="content-length-too-long"),
    pytest.param(Fault("short_length"), id="content-length-and-body-short"),
]


@pytest.fixture(scope="module")
def cog(s3: S3, tmp_path_factory) -> tuple[str, np.ndarray]:
    """A 512 x 512 Deflate COG with 128-pixel tiles on the bucket, and rasterio's pixels."""
    import rasterio

    path: Path = tmp_path_factory.mktemp("flaky") / "flaky.tif"
    data = (np.arange(512 * 512, dtype=np.uint32) * 7919 % 65521).astype(np.uint16).reshape(512, 512)
    with rasterio.open(path, "w", driver="COG", width=512, height=512, count=1, dtype="uint16",
                       blocksize=128, compress="DEFLATE", predictor=2) as dst:
        dst.write(data, 1)
    return s3.upload(path, "flaky.tif"), read_rasterio(path)


def registry_via(proxy: FaultProxy) -> ObjectStoreRegistry:
    store = S3Store(
        BUCKET, endpoint=proxy.endpoint, region="us-east-1", access_key_id="testing", secret_access_key="testing",
        client_options={"allow_http": True, "timeout": "1s", "connect_timeout": "1s"}, retry_config=RETRY,
    )
    return ObjectStoreRegistry({f"s3://{BUCKET}": store})


def read_all(store) -> np.ndarray:
    return zarr.open_group(store, mode="r", zarr_format=3)["0"][...]


def build_with(proxy: FaultProxy, url: str, rule: Rule):
    proxy.rule = rule
    return VirtualTIFF(ifd=0)(url=url, registry=registry_via(proxy))


def expect_source_error(action, url: str) -> SourceReadError:
    """``action`` raises SourceReadError naming ``url`` within MAX_FAILURE_SECONDS."""
    start = time.monotonic()
    with pytest.raises(SourceReadError) as info:
        action()
    elapsed = time.monotonic() - start
    assert elapsed < MAX_FAILURE_SECONDS, f"failing took {elapsed:.1f} s"
    assert url in str(info.value)
    return info.value


# --------------------------------------------------------------------------- transient faults


@pytest.mark.parametrize("fault", RETRIED)
def test_transient_fault_in_header_read_is_retried(fault, proxy, cog):
    url, expected = cog
    store = build_with(proxy, url, first(2, fault))
    assert proxy.faults() == 2 and proxy.requests() >= 3  # two failed attempts, then the retry
    proxy.rule = lambda m, p, k: None
    np.testing.assert_array_equal(read_all(store), expected)


@pytest.mark.parametrize("fault", RETRIED)
def test_transient_fault_in_chunk_reads_is_retried(fault, proxy, cog):
    url, expected = cog
    store = build_with(proxy, url, lambda m, p, k: None)
    proxy._counts.clear()
    proxy.rule = first(2, fault)
    np.testing.assert_array_equal(read_all(store), expected)
    assert proxy.faults() == 2


# --------------------------------------------------------------------------- persistent faults


@pytest.mark.parametrize("fault", RETRIED + REFUSED)
def test_persistent_fault_in_header_read_fails_clearly(fault, proxy, cog):
    url, _ = cog
    expect_source_error(lambda: build_with(proxy, url, always(fault)), url)


@pytest.mark.parametrize("fault", RETRIED + REFUSED)
def test_persistent_fault_in_chunk_reads_fails_clearly(fault, proxy, cog):
    url, _ = cog
    store = build_with(proxy, url, lambda m, p, k: None)
    proxy.rule = always(fault)
    expect_source_error(lambda: read_all(store), url)


@pytest.mark.parametrize("fault", REFUSED)
def test_transient_wrong_length_is_refused_not_sliced(fault, proxy, cog):
    """One wrong-length response is enough to fail, and no pixels come out of it."""
    url, _ = cog
    store = build_with(proxy, url, lambda m, p, k: None)
    proxy._counts.clear()
    proxy.rule = first(1, fault)
    expect_source_error(lambda: read_all(store), url)


def test_retry_timing_is_bounded_by_the_policy(proxy, cog):
    """Four attempts at 503 with 20-200 ms backoff: well under a second, and exactly 4 GETs."""
    url, _ = cog
    start = time.monotonic()
    expect_source_error(lambda: build_with(proxy, url, always(Fault("status", 503))), url)
    assert time.monotonic() - start < 2.0
    assert proxy.requests("GET") == 1 + RETRY["max_retries"]


# --------------------------------------------------------------------------- a server that ignores If-Match


@pytest.mark.parametrize("change", ["same-size", "other-size"])
def test_a_rewritten_source_is_refused_even_where_if_match_is_ignored(change, proxy, s3, tmp_path):
    """The response's own ETag and size are compared with the recorded ones: never the new pixels."""
    import rasterio

    from virtual_tiff import SourceChangedError

    def write(path, values):
        with rasterio.open(path, "w", driver="GTiff", width=64, height=64, count=1, dtype="uint16",
                           tiled=True, blockxsize=32, blockysize=32) as dst:
            dst.write(values, 1)
        return path

    key = f"rewritten-{change}.tif"
    values = np.arange(64 * 64, dtype="uint16").reshape(64, 64)
    url = s3.upload(write(tmp_path / "v1.tif", values), key)
    store = build_with(proxy, url, lambda m, p, k: Fault("ignore_if_match") if m == "GET" else None)
    np.testing.assert_array_equal(read_all(store), values)
    other = write(tmp_path / "v2.tif", values[::-1].copy())
    if change == "other-size":
        other.write_bytes(other.read_bytes() + b"\0" * 100)
    s3.upload(other, key)
    with pytest.raises(SourceChangedError, match="changed since"):
        read_all(store)
    with pytest.raises(SourceChangedError, match="changed since"):  # one chunk: the store's get path
        zarr.open_group(store, mode="r", zarr_format=3)["0"][0, 0]
    assert proxy.faults("ignore_if_match") > 0
