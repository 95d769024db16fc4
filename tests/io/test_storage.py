"""The boundary to object storage: one url -> path rule, and only storage failures become SourceReadError."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
import tifffile
import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry
from obstore.exceptions import GenericError, PreconditionError
from obstore.store import MemoryStore
from zarr.core.sync import sync

from virtual_tiff import SourceChangedError, SourceReadError, VirtualTIFF, VirtualTIFFError
from virtual_tiff.io import ObjectReader, resolve, storage_errors


class Failing:
    """An obspec-like store whose every read raises ``error``."""

    def __init__(self, error: BaseException) -> None:
        self.error = error

    async def get_async(self, path, *, options=None):
        raise self.error

    async def head_async(self, path):
        raise self.error

    async def get_range_async(self, path, *, start, end):
        raise self.error


@pytest.mark.parametrize(
    "error, expected",
    [
        (OSError("connection reset"), SourceReadError),
        (TimeoutError("read timed out"), SourceReadError),
        (GenericError("Generic S3 error: 503 Slow Down"), SourceReadError),
        (FileNotFoundError("no such object"), SourceReadError),
        (PreconditionError("ETag mismatch"), SourceChangedError),
    ],
)
def test_storage_failures_are_our_errors_naming_the_url(error, expected):
    with pytest.raises(expected) as info, storage_errors("s3://b/scene.tif", "reading chunks"):
        raise error
    assert info.value.url == "s3://b/scene.tif" and type(error).__name__ in str(info.value) or expected is SourceChangedError


@pytest.mark.parametrize("bug", [AttributeError("'NoneType' object has no attribute 'get'"), TypeError("bad call"), KeyError("e_tag")])
def test_a_bug_is_not_disguised_as_a_storage_failure(bug):
    with pytest.raises(type(bug)), storage_errors("s3://b/scene.tif", "reading chunks"):
        raise bug


def test_a_bug_in_a_store_reaches_the_user_as_itself():
    registry = ObjectStoreRegistry({"s3://b": Failing(AttributeError("broken store wrapper"))})
    with pytest.raises(AttributeError, match="broken store wrapper"):
        sync(ObjectReader("s3://b/x.tif", registry).open())


def test_header_and_chunks_resolve_by_the_registrys_one_rule(tmp_path):
    """``ObjectStoreRegistry.resolve`` (the url's path, less the store's own prefix) for header and chunks."""
    values = np.arange(40 * 30, dtype="uint16").reshape(40, 30)
    tifffile.imwrite(tmp_path / "a.tif", values, tile=(16, 16), compression="zlib")
    memory = MemoryStore()
    memory.put("scenes/a.tif", (tmp_path / "a.tif").read_bytes())
    registry = ObjectStoreRegistry({"s3://bucket/scenes": memory})
    assert resolve("s3://bucket/scenes/a.tif", registry) == (memory, "scenes/a.tif")
    store = VirtualTIFF(ifd=0)("s3://bucket/scenes/a.tif", registry)
    np.testing.assert_array_equal(xr.open_zarr(store, zarr_format=3, consolidated=False)["0"].values, values)


def test_an_unregistered_url_is_named():
    with pytest.raises(VirtualTIFFError, match="no store registered") as info:
        resolve("s3://elsewhere/a.tif", ObjectStoreRegistry({"s3://bucket": MemoryStore()}))
    assert info.value.url == "s3://elsewhere/a.tif"


def test_a_response_body_never_reaches_the_error_or_its_traceback():
    """An S3 error body echoes the signed request; only the store's first line, before the body, is kept."""
    import traceback

    body = "Generic S3 error: 403 Forbidden: <Error><StringToSign>AKIASECRET</StringToSign></Error>\nAKIASECRET"
    with pytest.raises(SourceReadError) as info, storage_errors("s3://b/scene.tif", "reading chunks"):
        raise GenericError(body)
    assert "403 Forbidden" in str(info.value)
    assert isinstance(info.value.__cause__, GenericError) and str(info.value.__cause__) == "Generic S3 error: 403 Forbidden"
    assert "AKIASECRET" not in "".join(traceback.format_exception(info.value)) + repr(info.value)


class Stalled:
    """A store that never answers: a server that accepted the connection and went quiet."""

    async def get_async(self, path, *, options=None):
        await asyncio.sleep(3600)

    async def get_range_async(self, path, *, start, end):
        await asyncio.sleep(3600)


def test_a_stalled_server_fails_the_header_read_within_its_deadline():
    from virtual_tiff import Limits

    registry = ObjectStoreRegistry({"s3://b": Stalled()})
    start = time.monotonic()
    with pytest.raises(SourceReadError, match="TimeoutError") as info:
        VirtualTIFF(ifd=0, limits=Limits(first_byte_timeout=0.2))("s3://b/x.tif", registry)
    assert time.monotonic() - start < 5 and info.value.url == "s3://b/x.tif"


def test_a_stalled_server_fails_a_chunk_read_within_its_deadline():
    from virtual_tiff.read import CoalesceOptions, RangeReader

    reader = RangeReader(CoalesceOptions(first_byte_timeout=0.2))
    start = time.monotonic()
    with pytest.raises(SourceReadError, match="TimeoutError"):
        asyncio.run(reader.read(Stalled(), "x.tif", 0, 1000, url="s3://b/x.tif"))
    assert time.monotonic() - start < 5


def test_deadlines_grow_with_the_bytes_asked_for():
    from virtual_tiff.io import request_deadline

    assert request_deadline(0) == 10.0 and request_deadline(64 * 1024 * 100) == 110.0
    assert request_deadline(10**9, None) is None
