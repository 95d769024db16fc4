"""An ObjectStoreRegistry for a set of urls, for people who have urls and no registry yet.

Local paths become ``file://`` urls; ``s3://bucket/...`` urls get one S3Store
per bucket, configured from the usual AWS environment variables (obstore reads
them), an optional endpoint (MinIO, moto, ...) and anonymous access.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlparse

from obspec_utils.registry import ObjectStoreRegistry
from obspec_utils.wrappers import RequestTrace, TracingReadableStore
from obstore.store import LocalStore, S3Store

from virtual_tiff.errors import VirtualTIFFError


def normalise_url(location: str) -> str:
    """A url for ``location``: local paths become absolute ``file://`` urls."""
    if "://" in location:
        return location
    return Path(location).expanduser().resolve().as_uri()


def registry_for(
    urls: Iterable[str],
    *,
    endpoint: str | None = None,
    anonymous: bool = False,
    trace: RequestTrace | None = None,
) -> ObjectStoreRegistry:
    """Stores for ``urls``; with ``trace``, every request they make is recorded there (for progress lines)."""
    registry = ObjectStoreRegistry()
    seen: set[str] = set()
    for url in urls:
        parsed = urlparse(url)
        prefix = f"{parsed.scheme}://{parsed.netloc}"
        if prefix in seen:
            continue
        seen.add(prefix)
        if parsed.scheme == "file":
            prefix, store = "file://", LocalStore()
        elif parsed.scheme == "s3":
            store = _s3_store(parsed.netloc, endpoint, anonymous)
        else:
            raise VirtualTIFFError(f"unsupported url scheme {parsed.scheme!r} (use a local path or s3://)", url=url)
        registry.register(prefix, store if trace is None else TracingReadableStore(store, trace))
    return registry


def _s3_store(bucket: str, endpoint: str | None, anonymous: bool) -> S3Store:
    options: dict[str, object] = {}
    client_options: dict[str, object] = {"timeout": "60s", "connect_timeout": "10s"}
    if endpoint:
        options["endpoint"] = endpoint
        options["region"] = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        if endpoint.startswith("http://"):
            client_options["allow_http"] = True
    if anonymous:
        options["skip_signature"] = True
    return S3Store(bucket, client_options=client_options, **options)
