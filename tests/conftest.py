"""Shared fixtures: a local registry, a real S3 API (moto server) on 127.0.0.1 and a fault-injecting
proxy in front of it, a SubIFD pyramid, and
the allocation tracing of bounded builds. Helpers the tests import live in :mod:`tests.helpers`."""

from __future__ import annotations

import logging
import os
import struct
import tracemalloc
from collections.abc import Iterator

import pytest
from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import LocalStore

from tests.helpers.faults import FaultProxy
from tests.helpers.pyramid import write_pyramid
from tests.helpers.s3 import BUCKET, S3, RequestLog


@pytest.fixture
def registry() -> ObjectStoreRegistry:
    return ObjectStoreRegistry({"file://": LocalStore()})


@pytest.fixture(scope="session")
def s3() -> Iterator[S3]:
    """moto's S3 API on an ephemeral loopback port, stopped after the session."""
    import boto3
    from moto.server import ThreadedMotoServer

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    log = RequestLog()
    werkzeug = logging.getLogger("werkzeug")
    werkzeug.addHandler(log)
    werkzeug.setLevel(logging.INFO)
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_bucket(Bucket=BUCKET)
        yield S3(endpoint, client, log)
    finally:
        werkzeug.removeHandler(log)
        server.stop()


@pytest.fixture
def proxy(s3: S3) -> Iterator[FaultProxy]:
    """A fault-injecting proxy in front of the moto server (healthy until a test sets its rule)."""
    p = FaultProxy(s3.endpoint).start()
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(params=["IFD", "LONG", "IFD8"])
def pyramid(request, tmp_path):
    """A tifffile pyramid: level 0 in the main chain, reduced levels as SubIFDs, then a second page.

    SubIFDs (tag 330) are written with each field type the spec allows: tifffile
    writes IFD (classic) or IFD8 (BigTIFF); LONG is patched into the entry.
    """
    import tifffile

    path = write_pyramid(tmp_path / "pyramid.tif", bigtiff=request.param == "IFD8")
    with tifffile.TiffFile(path) as tif:
        entry = tif.pages[0].tags["SubIFDs"]
        assert entry.dtype == {"IFD": 13, "LONG": 13, "IFD8": 18}[request.param]
        entry_offset = entry.offset
    if request.param == "LONG":
        with open(path, "r+b") as f:
            f.seek(entry_offset + 2)
            f.write(struct.pack("<H", 4))
    return path


# ----------------------------------------------------------------------------- bounded builds
# Modules of hostile-file builds request these with ``pytestmark = pytest.mark.usefixtures(...)``.


@pytest.fixture(scope="module")
def traced_allocations() -> Iterator[None]:
    """Trace allocations for the whole module, started and stopped while no build runs:
    stopping tracemalloc while obstore's threads allocate can crash Python 3.12.1."""
    tracemalloc.start()
    yield
    tracemalloc.stop()


@pytest.fixture(scope="module")
def warm_imports(tmp_path_factory) -> None:
    """One build before the timed ones, so lazy imports and codec registries are not timed."""
    from tests.helpers.builds import write
    from tests.helpers.tiffbuilder import FLAVOURS, image, strip_fields
    from tests.helpers.virtual import file_url
    from virtual_tiff import VirtualTIFF

    path = write(tmp_path_factory.mktemp("warm"), image(strip_fields(), FLAVOURS[0]))
    VirtualTIFF(ifd=0)(url=file_url(path), registry=ObjectStoreRegistry({"file://": LocalStore()}))
