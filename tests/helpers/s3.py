"""A bucket on the session's moto S3 server: an obstore store, uploads, and a log of the requests it answered.

The server itself is the session fixture ``s3`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import S3Store

BUCKET = "virtual-tiff-tests"


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
