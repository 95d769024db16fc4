"""The one boundary to object storage: how a url names an object, and how store failures are reported."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from obspec_utils.registry import ObjectStoreRegistry
from obstore.exceptions import BaseError, PreconditionError

from virtual_tiff.errors import SourceChangedError, SourceReadError, VirtualTIFFError

#: What a store raises when it cannot deliver bytes: obstore's errors, the OS's (local files,
#: sockets) and timeouts. Anything else (an AttributeError, a TypeError) is a bug and propagates
#: as itself, never disguised as a storage failure.
STORAGE_ERRORS: tuple[type[BaseException], ...] = (BaseError, OSError, TimeoutError)


@contextlib.contextmanager
def storage_errors(url: str, what: str) -> Iterator[None]:
    """Store failures as our errors, naming the url; only the first line of the store's
    message is kept (obstore appends a multi-line debug dump)."""
    try:
        yield
    except PreconditionError as exc:
        raise SourceChangedError(f"{what}: the object changed since it was recorded", url=url) from exc
    except STORAGE_ERRORS as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise SourceReadError(f"{what} failed: {type(exc).__name__}: {first_line}", url=url) from exc


def resolve(url: str, registry: ObjectStoreRegistry) -> tuple[Any, str]:
    """The store and in-store path for ``url``: the one rule for header and chunk reads.

    The path is the registry's (``ObjectStoreRegistry.resolve``: the url's path less the matched
    store's own prefix), for the header and for every chunk, so both always come from the same
    object. Only the user's registry resolves urls: there is never a fallback store.
    """
    try:
        store, path = registry.resolve(url)
    except ValueError as exc:
        raise VirtualTIFFError(f"no store registered for this url ({exc})", url=url) from None
    if not store:
        raise VirtualTIFFError("no store registered for this url", url=url)
    return store, str(path)
