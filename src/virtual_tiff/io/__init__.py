"""url -> bytes: ranged, cached reads of one object through the user's registry, and what they record.

``_storage`` (the url -> store/path rule and store failures as our errors) -> ``_object``
(:class:`ObjectReader`: the header's ranged GETs, held by block; ``_slots``, the process's
bound on requests in flight) -> ``_provenance`` (ETag,
last-modified and size per source, as the ``virtual_tiff`` attribute) and ``_registries``
(registries built from urls, for the CLI and STAC).
"""

from virtual_tiff.io._object import BLOCK_BYTES, HEAD_BYTES, ObjectInfo, ObjectReader
from virtual_tiff.io._provenance import (
    ATTRIBUTE,
    current_info,
    current_infos,
    read_sources,
    sources_attribute,
    unquoted,
)
from virtual_tiff.io._registries import S3Settings, normalise_url, registry_for, s3_settings, s3_store
from virtual_tiff.io._slots import MAX_REQUESTS_ENV, REQUEST_SLOTS, RequestSlots, request_slot
from virtual_tiff.io._storage import (
    FIRST_BYTE_TIMEOUT,
    MIN_BYTES_PER_SECOND,
    first_line,
    request_deadline,
    resolve,
    storage_errors,
)
from virtual_tiff.io._tasks import gather_all

__all__ = [
    "ATTRIBUTE",
    "BLOCK_BYTES",
    "FIRST_BYTE_TIMEOUT",
    "HEAD_BYTES",
    "MAX_REQUESTS_ENV",
    "MIN_BYTES_PER_SECOND",
    "ObjectInfo",
    "ObjectReader",
    "REQUEST_SLOTS",
    "RequestSlots",
    "S3Settings",
    "current_info",
    "current_infos",
    "first_line",
    "gather_all",
    "normalise_url",
    "read_sources",
    "registry_for",
    "s3_settings",
    "s3_store",
    "request_deadline",
    "request_slot",
    "resolve",
    "sources_attribute",
    "storage_errors",
    "unquoted",
]
