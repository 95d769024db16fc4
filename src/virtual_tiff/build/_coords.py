"""The coordinate arrays a GeoTIFF's data needs, costing no request: ``spatial_ref`` and ``x``/``y``.

``spatial_ref`` is a scalar with no bytes at all (its manifest entry is empty,
so readers get the fill value 0, as rioxarray writes it); its attributes are
the CRS and GeoTransform. ``x`` and ``y`` are pixel-centre coordinates inlined
in the manifest: a few kilobytes that ``xr.open_zarr`` turns into indexed
coordinates with no extra step and no request, so ``.sel(x=..., y=...)``
works out of the box. Rotated grids get no 1-D coordinates (only the transform), nor do
axes longer than :data:`MAX_INLINED_LENGTH` pixels: their 16 bytes a pixel at build would
exceed any header's budget (an image 2**31 pixels wide claims 32 GiB of x).
"""

from __future__ import annotations

import numpy as np
from virtualizarr.manifests import ChunkManifest, ManifestArray
from virtualizarr.manifests.utils import create_v3_array_metadata

SPATIAL_REF = "spatial_ref"
#: The longest axis given inlined coordinates: 2**21 pixels (16 MiB of float64, 32 MiB at build),
#: 21,000 km at 10 m. Beyond it, ``spatial_ref``'s GeoTransform still georeferences the image.
MAX_INLINED_LENGTH = 2**21


def _bytes_codec() -> list[dict[str, object]]:
    return [{"name": "bytes", "configuration": {"endian": "little"}}]


def spatial_ref_array(attributes: dict[str, object]) -> ManifestArray:
    """A 0-d int64 array with no chunk, carrying the grid-mapping attributes."""
    metadata = create_v3_array_metadata(
        shape=(),
        data_type=np.dtype("int64"),
        chunk_shape=(),
        fill_value=0,
        codecs=_bytes_codec(),
        attributes=attributes,
        dimension_names=(),
    )
    empty = np.array("", dtype=np.dtypes.StringDType())
    manifest = ChunkManifest.from_arrays(
        paths=empty, offsets=np.array(0, dtype=np.uint64), lengths=np.array(0, dtype=np.uint64)
    )
    return ManifestArray(metadata=metadata, chunkmanifest=manifest)


def inlined_coordinate(values: np.ndarray, dim: str, attributes: dict[str, object]) -> ManifestArray:
    """A 1-D float64 coordinate whose one chunk is held inline in the manifest."""
    return inlined_array(np.asarray(values, dtype="<f8"), (dim,), attributes, fill_value=np.nan)


def inlined_array(
    values: np.ndarray, dims: tuple[str, ...], attributes: dict[str, object], fill_value: object = None
) -> ManifestArray:
    """Any small numeric array as one chunk held inline in the manifest (no request to read it)."""
    values = np.asarray(values)  # not ascontiguousarray: it makes a scalar 1-D
    little = np.asarray(values, dtype=values.dtype.newbyteorder("<"), order="C")
    metadata = create_v3_array_metadata(
        shape=values.shape,
        data_type=little.dtype,
        chunk_shape=values.shape,
        fill_value=fill_value,
        codecs=_bytes_codec(),
        attributes=attributes,
        dimension_names=dims,
    )
    grid = (1,) * values.ndim  # one chunk: () for a scalar
    manifest = ChunkManifest.from_arrays(
        paths=np.full(grid, "", dtype=np.dtypes.StringDType()),
        offsets=np.zeros(grid, dtype=np.uint64),
        lengths=np.zeros(grid, dtype=np.uint64),
        inlined={(0,) * values.ndim: little.tobytes()},
    )
    return ManifestArray(metadata=metadata, chunkmanifest=manifest)
