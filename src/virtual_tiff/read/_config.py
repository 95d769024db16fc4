"""zarr's configuration for our reads: our pipeline as the default, and settings for chunk-by-chunk reads.

zarr picks a codec pipeline from one process-wide setting, ``codec_pipeline.path``, when an
array is opened; it offers no way for a store to choose its own (``from_array_metadata_and_store``
is asked of the configured pipeline class, not of the store). So ``import virtual_tiff`` sets that
path to ours, but only while it still holds zarr's shipped default: a path the user set (in code,
in a zarr config file, or through ``ZARR_CODEC_PIPELINE__PATH``) is never overridden. Our
pipeline behaves exactly as zarr's for every store but ours. To opt out, set
``codec_pipeline.path`` after the import.
"""

from __future__ import annotations

import os

from zarr.core.config import config

from virtual_tiff.read.pipeline import PIPELINE

#: The environment variable through which zarr's configuration sets the pipeline (donfig's naming).
PIPELINE_ENV = "ZARR_CODEC_PIPELINE__PATH"


def zarr_default_pipeline() -> str | None:
    """The pipeline path zarr ships as its default (read from zarr's defaults, not hard-coded here)."""
    for defaults in config.defaults:
        path = defaults.get("codec_pipeline", {}).get("path")
        if path is not None:
            return str(path)
    return None


def use_by_default() -> bool:
    """Make our pipeline zarr's default, unless the user chose a pipeline; True if it is ours now."""
    current = config.get("codec_pipeline.path")
    if current == zarr_default_pipeline() and PIPELINE_ENV not in os.environ:
        config.set({"codec_pipeline.path": PIPELINE})
        return True
    return current == PIPELINE


def fast_read_config(concurrency: int = 64) -> dict[str, object]:
    """zarr settings for reading our stores chunk by chunk; for ``zarr.config.set``.

    Our pipeline plans a whole selection itself. ``concurrency`` matters where zarr still reads
    chunk by chunk (dask tasks, or another pipeline the user chose): that many chunk reads may be
    pending at once, so the store's batch window can merge them; requests stay bounded by
    :attr:`~virtual_tiff.CoalesceOptions.max_concurrent_requests`. The pipeline must be in effect
    when the array is opened.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    return {"async.concurrency": concurrency, "codec_pipeline.path": PIPELINE}
