"""The one boundary to object storage: how a url names an object, and how store failures are reported."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from obspec_utils.registry import ObjectStoreRegistry
from obstore.exceptions import BaseError, NotFoundError, PreconditionError

from virtual_tiff.errors import SourceChangedError, SourceNotFoundError, SourceReadError, VirtualTIFFError

#: What a store raises when it cannot deliver bytes: obstore's errors, the OS's (local files,
#: sockets) and timeouts. Anything else (an AttributeError, a TypeError) is a bug and propagates
#: as itself, never disguised as a storage failure.
STORAGE_ERRORS: tuple[type[BaseException], ...] = (BaseError, OSError, TimeoutError)


#: A request fails after FIRST_BYTE_TIMEOUT + its bytes / MIN_BYTES_PER_SECOND seconds: a stalled
#: or trickling (slow-loris) server fails within seconds, a large read on a slow link completes.
FIRST_BYTE_TIMEOUT = 10.0
MIN_BYTES_PER_SECOND = 64 * 1024


def request_deadline(nbytes: int, first_byte_timeout: float | None = FIRST_BYTE_TIMEOUT,
                     min_bytes_per_second: float = MIN_BYTES_PER_SECOND) -> float | None:
    """Seconds a request of ``nbytes`` may take (store retries included), or None for no bound."""
    return None if first_byte_timeout is None else first_byte_timeout + nbytes / min_bytes_per_second


@contextlib.contextmanager
def storage_errors(url: str, what: str) -> Iterator[None]:
    """Store failures as our errors, naming the url, with the store's exception type and summary.

    Only the first line of the store's message is kept, up to any response body (obstore appends
    a multi-line debug dump, and an S3 error body can echo the signed request). The cause is a
    fresh exception of the store's type with that line, and the original is suppressed from
    tracebacks (``__suppress_context__``): neither ``str``, ``repr``, a formatted traceback nor
    ``__cause__`` carries a body or a credential.
    """
    try:
        yield
        return
    except PreconditionError as exc:
        failure: VirtualTIFFError = SourceChangedError(f"{what}: the object changed since it was recorded", url=url)
        cause = _summary_of(exc)
    except STORAGE_ERRORS as exc:
        cause = _summary_of(exc)
        missing = isinstance(exc, NotFoundError | FileNotFoundError)
        failure = (SourceNotFoundError if missing else SourceReadError)(f"{what} failed: {type(exc).__name__}: {cause}", url=url)
    raise failure from cause


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an exception's message, at most ``limit`` characters: what our errors quote
    of another library's (whose messages may append dumps, tracebacks or response bodies)."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else ""


def _summary_of(exc: BaseException) -> BaseException:
    """An exception of ``exc``'s type whose message is its first line, cut before any response body."""
    line = first_line(exc, limit=10_000).split("<", 1)[0].rstrip(" :")[:300]
    try:
        return type(exc)(line)
    except Exception:  # noqa: BLE001 - a type that takes other arguments: the summary as a plain error
        return RuntimeError(f"{type(exc).__name__}: {line}")


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
