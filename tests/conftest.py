"""Shared fixtures: a local registry, a real S3 API (moto server) on 127.0.0.1, and readers."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import LocalStore, S3Store

from virtual_tiff import VirtualTIFF

BUCKET = "virtual-tiff-tests"


@pytest.fixture
def registry() -> ObjectStoreRegistry:
    return ObjectStoreRegistry({"file://": LocalStore()})


def file_url(path: Path) -> str:
    return Path(path).resolve().as_uri()


def open_virtual(url: str, registry: ObjectStoreRegistry, ifd: int = 0) -> xr.Dataset:
    store = VirtualTIFF(ifd=ifd)(url=url, registry=registry)
    return xr.open_zarr(store, zarr_format=3, consolidated=False)


class RequestLog(logging.Handler):
    """Counts the HTTP requests the moto server answered, by method and key."""

    _line = re.compile(r'"(?:\x1b\[[0-9;]*m)*(GET|HEAD|PUT|POST|DELETE) (\S+) HTTP')

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = self._line.search(record.getMessage())
        if match:
            self.requests.append((match.group(1), match.group(2)))

    def count(self, method: str, key: str) -> int:
        return sum(1 for m, path in self.requests if m == method and path.endswith(f"/{BUCKET}/{key}"))

    def clear(self) -> None:
        self.requests.clear()


@dataclass
class S3:
    """A bucket on the local moto server, with an obstore store and a request log."""

    endpoint: str
    client: object
    log: RequestLog
    store: S3Store = field(init=False)

    def __post_init__(self) -> None:
        self.store = S3Store(
            BUCKET,
            endpoint=self.endpoint,
            region="us-east-1",
            access_key_id="testing",
            secret_access_key="testing",
            client_options={"allow_http": True, "timeout": "10s", "connect_timeout": "5s"},
        )

    def registry(self) -> ObjectStoreRegistry:
        return ObjectStoreRegistry({f"s3://{BUCKET}": self.store})

    def upload(self, path: Path, key: str | None = None) -> str:
        key = key or Path(path).name
        self.client.put_object(Bucket=BUCKET, Key=key, Body=Path(path).read_bytes())
        return f"s3://{BUCKET}/{key}"


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
