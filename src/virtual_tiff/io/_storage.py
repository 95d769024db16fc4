"""The one boundary to object storage: how a url names an object, and how store failures are reported."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from obspec_utils.registry import ObjectStoreRegistry
from obstore.exceptions import PreconditionError

from virtual_tiff.errors import SourceChangedError, SourceReadError, VirtualTIFFError


@contextlib.contextmanager
def storage_errors(url: str, what: str) -> Iterator[None]:
    """Store exceptions as our errors, naming the url; only the first line of the store's
    message is kept (obstore appends a multi-line debug dump)."""
    try:
        yield
    except PreconditionError as exc:
        raise SourceChangedError(f"{what}: the object changed since it was recorded", url=url) from exc
    except Exception as exc:
        if isinstance(exc, VirtualTIFFError):
            raise
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise SourceReadError(f"{what} failed: {type(exc).__name__}: {first_line}", url=url) from exc


def resolve(url: str, registry: ObjectStoreRegistry) -> tuple[Any, str]:
    """The store and in-store path for ``url``, or an error naming the url."""
    try:
        store, path = registry.resolve(url)
    except ValueError as exc:
        raise VirtualTIFFError(f"no store registered for this url ({exc})", url=url) from None
    return store, str(path)
