"""A virtual xarray object (a Dataset or DataTree of ManifestArrays) -> the ManifestGroup a store reads.

``open_virtual_mfdataset``, ``open_stac`` and VirtualiZarr's openers return xarray objects whose
variables are ManifestArrays (pixels, by reference) or numpy arrays (coordinates xarray loaded or
we computed: x/y, time labels, item properties). A store needs every variable as a ManifestArray:
the numpy ones are CF-encoded (xarray's own encoding, so datetimes read back as datetimes) and
inlined in the manifest, costing no request. Each ManifestArray takes its variable's dimension
names and attributes, which xarray may have changed since it was built (renames, combine).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr
from virtualizarr.manifests import ManifestArray, ManifestGroup

from virtual_tiff.build import inlined_array


def virtual_group(obj: xr.Dataset | xr.DataTree) -> ManifestGroup:
    """The hierarchy of ``obj``: one group per DataTree node, its own variables only."""
    if isinstance(obj, xr.DataTree):
        return ManifestGroup(
            arrays=_arrays(obj.to_dataset(inherit=False)),
            groups={name: virtual_group(child) for name, child in obj.children.items()},
            attributes=dict(obj.attrs),
        )
    return ManifestGroup(arrays=_arrays(obj), attributes=dict(obj.attrs))


def _arrays(ds: xr.Dataset) -> dict[str, ManifestArray]:
    # Non-dimension coordinates (spatial_ref, item properties along time) are named in each data
    # variable's CF "coordinates" attribute, so xarray reopens them as coordinates.
    extra = " ".join(str(n) for n in ds.coords if n not in ds.dims)
    arrays = {}
    for name, variable in ds.variables.items():
        attrs = dict(variable.attrs)
        if extra and name in ds.data_vars:
            attrs["coordinates"] = extra
        arrays[str(name)] = _array(str(name), variable, attrs)
    return arrays


def _array(name: str, variable: xr.Variable, attrs: dict) -> ManifestArray:
    data = variable.data
    if isinstance(data, ManifestArray):
        # _FillValue stays an attribute, as in the parser's own stores: xarray masks Zarr v3 data
        # by that attribute (the metadata's fill_value only fills missing chunks)
        metadata = dataclasses.replace(data.metadata, dimension_names=tuple(map(str, variable.dims)),
                                       attributes=attrs)
        return ManifestArray(metadata=metadata, chunkmanifest=data.manifest)
    encoded = xr.conventions.encode_cf_variable(xr.Variable(variable.dims, np.asarray(variable.values), attrs,
                                                            variable.encoding), name=name)
    values = np.asarray(encoded.values)
    if values.dtype.kind == "O" and all(isinstance(v, str) for v in values.ravel()):
        values = values.astype(str)  # fixed-width text, which Zarr v3 stores as fixed_length_utf32
    if values.dtype.kind in "OS":
        raise TypeError(f"variable {name!r} holds {values.dtype} values, which a virtual store cannot inline")
    encoded_attrs = dict(encoded.attrs)
    fill = encoded_attrs.pop("_FillValue", None)
    return inlined_array(values, tuple(map(str, encoded.dims)), encoded_attrs, fill_value=fill)
