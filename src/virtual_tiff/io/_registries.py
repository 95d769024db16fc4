"""An ObjectStoreRegistry for a set of urls, for people who have urls and no registry yet.

Local paths become ``file://`` urls; ``s3://bucket/...`` urls get one S3Store
per bucket. obstore configures each store from the usual AWS environment
(credentials, ``AWS_REGION``, ``AWS_ENDPOINT_URL``, ``AWS_ALLOW_HTTP``,
``AWS_SKIP_SIGNATURE``, ...), exactly as ``obstore.store.from_url`` does; an
explicit endpoint (MinIO, moto, ...) or anonymous access only overrides it.
Nothing else is passed: obstore's ``client_options`` replace the client options
the environment set, so passing any (even a timeout) breaks ``AWS_ALLOW_HTTP``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import LocalStore, S3Store

from virtual_tiff.errors import VirtualTIFFError

#: The environment variables obstore reads for each setting, first wins (obstore's S3Config docs).
_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT")
_REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
_TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class S3Settings:
    """Where and how S3 is reached: the environment, with the command line's overrides applied.

    obstore reads the environment itself; this is for the places that do not
    (an Icechunk virtual chunk container) and must say the same thing.
    """

    endpoint: str | None
    region: str
    allow_http: bool
    anonymous: bool


def s3_settings(
    endpoint: str | None = None, anonymous: bool = False, environ: Mapping[str, str] = os.environ
) -> S3Settings:
    """The S3 endpoint, region, HTTP permission and signing an S3Store built here will use."""
    endpoint = endpoint or next((environ[name] for name in _ENDPOINT_VARIABLES if environ.get(name)), None)
    region = next((environ[name] for name in _REGION_VARIABLES if environ.get(name)), "us-east-1")
    allow_http = bool(endpoint and endpoint.startswith("http://")) or _flag(environ.get("AWS_ALLOW_HTTP"))
    return S3Settings(endpoint, region, allow_http, anonymous or _flag(environ.get("AWS_SKIP_SIGNATURE")))


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in _TRUE


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
    wrap: Callable[[Any], Any] | None = None,
) -> ObjectStoreRegistry:
    """Stores for ``urls``; with ``wrap``, each store is registered as ``wrap(store)`` (the CLI counts bytes so)."""
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
            store = s3_store(parsed.netloc, endpoint=endpoint, anonymous=anonymous)
        else:
            raise VirtualTIFFError(f"unsupported url scheme {parsed.scheme!r} (use a local path or s3://)", url=url)
        registry.register(prefix, store if wrap is None else wrap(store))
    return registry


def s3_store(bucket: str, *, endpoint: str | None = None, anonymous: bool = False) -> S3Store:
    """obstore's S3Store for ``bucket`` from the environment, with only the overrides given.

    An ``http://`` endpoint needs ``allow_http``, a client option; obstore then
    drops the environment's client options, so the environment's ``AWS_ALLOW_HTTP``
    and the like are not at stake there: the endpoint itself says HTTP.
    """
    overrides: dict[str, object] = {}
    if endpoint:
        overrides["endpoint"] = endpoint
    if anonymous:
        overrides["skip_signature"] = True
    if endpoint and endpoint.startswith("http://"):
        return S3Store(bucket, client_options={"allow_http": True}, **overrides)
    return S3Store(bucket, **overrides)
