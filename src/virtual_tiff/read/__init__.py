"""The zarr-facing read side: plan byte ranges, read them coalesced, decode whole selections.

``_plan`` (pure: which ranges share a request) -> ``_ranges`` (the coalescing reader) ->
``_store`` (:class:`TIFFManifestStore`, VirtualiZarr's ManifestStore reading through it) and
``_decode`` (a chunk's codec chain decoded within what the header declares) -> ``pipeline`` (the
zarr codec pipeline that hands a store a whole selection; it depends only on the
:class:`PlannedReads` shape, not on the store) -> ``_config`` (zarr settings). Importing this
package makes our pipeline zarr's default.
"""

from virtual_tiff.read._config import fast_read_config, use_by_default
from virtual_tiff.read._plan import RangeGroup, plan_ranges
from virtual_tiff.read._ranges import (
    CoalesceOptions,
    RangeReader,
    RangeRequest,
    ReadStats,
    SourceObject,
)
from virtual_tiff.read._store import TIFFManifestStore
from virtual_tiff.read.pipeline import (
    PIPELINE,
    ChunkDecoder,
    PlannedReads,
    TIFFCodecPipeline,
)

__all__ = [
    "PIPELINE",
    "ChunkDecoder",
    "CoalesceOptions",
    "PlannedReads",
    "RangeGroup",
    "RangeReader",
    "RangeRequest",
    "ReadStats",
    "SourceObject",
    "TIFFCodecPipeline",
    "TIFFManifestStore",
    "fast_read_config",
    "plan_ranges",
    "use_by_default",
]

# Every store, parser and opener loads this package first: our pipeline becomes zarr's default
# before any of our arrays is opened (see _config for when a user's choice is kept instead).
use_by_default()
