"""A built group as the xarray Dataset that stacks combine: the request-free arrays loaded.

Stacks compare, index and concatenate coordinates, which xarray can only do with values: so
``x``, ``y`` and ``spatial_ref`` (inlined, or without chunks) are decoded here, without zarr,
which also lets this run inside the event loop while other headers are being read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from virtualizarr.manifests import ManifestArray, ManifestGroup

from virtual_tiff.io import ATTRIBUTE


@dataclass(frozen=True, eq=False)
class Template:
    """What all files of one header signature share, as a virtual dataset of one of them.

    Its data variables carry the metadata (codecs, attributes); its coordinates (``x``, ``y``,
    ``spatial_ref``) are loaded numpy values; its attributes are the group's without the
    per-file provenance.
    """

    dataset: xr.Dataset

    @property
    def variables(self) -> list[str]:
        """The virtual (chunked, per-file) variables."""
        return [str(n) for n, v in self.dataset.variables.items() if isinstance(v.data, ManifestArray)]


def template_of(group: ManifestGroup) -> Template:
    ds = virtual_dataset(group)
    ds.attrs = {k: v for k, v in ds.attrs.items() if k != ATTRIBUTE}
    return Template(ds)


def virtual_dataset(group: ManifestGroup) -> xr.Dataset:
    """The group's virtual dataset with the arrays that cost no request as loaded coordinates."""
    vds = group.to_virtual_dataset()
    for name, variable in vds.variables.items():
        values = _free_values(variable.data)
        if values is not None:
            vds[name] = xr.Variable(variable.dims, values, variable.attrs)
    return vds.set_coords([n for n in vds.variables if not isinstance(vds[n].data, ManifestArray)])


def _free_values(array: ManifestArray) -> np.ndarray | None:
    """The values of an array with no chunk at all (fill value) or one inlined raw chunk; else None."""
    # VirtualiZarr has no public accessor for a manifest's paths array or its inlined chunks:
    # ChunkManifest._paths and ChunkManifest._inlined are read here.
    manifest, metadata = array.manifest, array.metadata
    if np.any(np.asarray(manifest._paths) != ""):
        return None
    dtype = metadata.data_type.to_native_dtype()
    inlined = manifest._inlined or {}
    if not inlined:
        return np.full(array.shape, metadata.fill_value, dtype=dtype)
    codecs = [c.to_dict() for c in metadata.codecs]
    if len(inlined) != 1 or tuple(array.metadata.chunks) != array.shape or [c["name"] for c in codecs] != ["bytes"]:
        return None
    endian = codecs[0].get("configuration", {}).get("endian", "little")
    raw = np.frombuffer(next(iter(inlined.values())), dtype=dtype.newbyteorder("<" if endian == "little" else ">"))
    return raw.astype(dtype).reshape(array.shape)
