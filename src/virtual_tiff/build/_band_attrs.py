"""GDAL's nodata and band metadata as the CF attributes xarray decodes.

``xr.open_zarr`` then masks and scales as ``rioxarray.open_rasterio(...,
mask_and_scale=True)`` does, and ``mask_and_scale=False`` gives the raw samples.
The nodata value is also the Zarr fill value, so sparse (empty) tiles read as
nodata, as GDAL reads them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from xarray.backends.zarr import FillValueCoder

from virtual_tiff.geo import GDALMetadata


@dataclass(frozen=True)
class BandAttributes:
    """The Zarr fill value of the data array and its CF attributes."""

    fill_value: int | float | None = None
    attrs: dict[str, object] = field(default_factory=dict)


def representable(value: float, dtype: np.dtype) -> bool:
    """Whether ``value`` is a sample value of ``dtype`` (GDAL lets nodata be anything)."""
    if dtype.kind in "fc":
        # NaN and infinities are sample values; a finite number beyond the type's range is not
        # (casting it would make infinity the fill value).
        number = float(value)
        return not math.isfinite(number) or abs(number) <= float(np.finfo(dtype).max)
    if not float(value).is_integer():
        return False
    info = np.iinfo(dtype)
    return info.min <= value <= info.max


def band_attributes(
    nodata: int | float | None, metadata: GDALMetadata | None, dtype: np.dtype, bands: int
) -> BandAttributes:
    attrs: dict[str, object] = {}
    fill = None
    if nodata is not None:
        if representable(nodata, dtype):
            fill = nodata
            attrs["_FillValue"] = FillValueCoder.encode(dtype.type(nodata), dtype)
        else:
            attrs["nodata"] = nodata
    attrs.update(metadata_attributes(metadata, bands))
    return BandAttributes(fill, attrs)


#: The attributes :func:`metadata_attributes` may set: all a file's GDAL_METADATA decides.
METADATA_KEYS = frozenset({"scale_factor", "scales", "add_offset", "offsets", "long_name", "units", "AREA_OR_POINT",
                           "gdal_metadata"})


def metadata_attributes(metadata: GDALMetadata | None, bands: int) -> dict[str, object]:
    """The data array's attributes from GDAL metadata (keys among :data:`METADATA_KEYS`): scales and
    offsets, descriptions, units, AREA_OR_POINT and every other item. Files of one producer differ
    here (dates, processing ids) and nowhere else, so a shared build takes each file's own."""
    attrs: dict[str, object] = {}
    if metadata is not None:
        per_band = [metadata.bands.get(i) for i in range(bands)]
        _same_or_list(attrs, "scale_factor", [b.scale if b else None for b in per_band], "scales")
        _same_or_list(attrs, "add_offset", [b.offset if b else None for b in per_band], "offsets")
        descriptions = [b.description if b else None for b in per_band]
        if any(descriptions):
            attrs["long_name"] = descriptions[0] if bands == 1 else [d or "" for d in descriptions]
        units = [b.units if b else None for b in per_band]
        if any(units):
            attrs["units"] = units[0] if len(set(units)) == 1 else [u or "" for u in units]
        area_or_point = metadata.dataset.items.get("AREA_OR_POINT")
        if area_or_point:
            attrs["AREA_OR_POINT"] = area_or_point
        gdal = _gdal_items(metadata, bands)
        if gdal:
            attrs["gdal_metadata"] = gdal
    return attrs


def _gdal_items(metadata: GDALMetadata, bands: int) -> dict[str, object]:
    """Every other GDAL metadata item, as GDAL groups them: dataset domains, then per band."""
    out: dict[str, object] = {}
    if metadata.dataset.items:
        out["dataset"] = dict(metadata.dataset.items)
    out.update({f"dataset:{name}": dict(items) for name, items in metadata.dataset.domains.items()})
    for i in range(bands):
        band = metadata.bands.get(i)
        if band is not None and (band.items or band.domains):
            out[f"band_{i + 1}"] = {**band.items, **{f"{d}:{k}": v for d, kv in band.domains.items() for k, v in kv.items()}}
    return out


def _same_or_list(attrs: dict[str, object], cf_name: str, values: list[float | None], list_name: str) -> None:
    """A CF scalar when every band agrees (xarray then applies it); per-band values otherwise."""
    if all(v is None for v in values):
        return
    if len(set(values)) == 1:
        attrs[cf_name] = values[0]
    else:
        attrs[list_name] = values
