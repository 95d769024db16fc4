"""What the writers accept: virtual datasets, whose data variables reference bytes of the sources.

A cube opened to compute on (``open_mfdataset``, ``load_stac``, ``open_virtual``) holds lazily
read pixels; written as it is, every pixel would be read and copied into the output (inlined
into kerchunk JSON, native chunks in Icechunk), the opposite of a virtual dataset. So a data
variable that is neither virtual nor already in memory is refused before anything is written.
"""

from __future__ import annotations

import xarray as xr
from virtualizarr.manifests import ManifestArray


def require_virtual(obj: xr.Dataset | xr.DataTree, writer: str) -> None:
    """Raise ``TypeError`` naming the first data variable that would be read and copied."""
    datasets = [node.to_dataset(inherit=False) for node in obj.subtree] if isinstance(obj, xr.DataTree) else [obj]
    for ds in datasets:
        for name, variable in ds.data_vars.items():
            # ``_in_memory``: xarray's own test for values held as numpy (no read behind them).
            if not isinstance(variable.variable._data, ManifestArray) and not variable.variable._in_memory:
                raise TypeError(
                    f"{writer} writes virtual datasets, but data variable {name!r} holds lazily read pixels "
                    "(a cube from open_mfdataset / load_stac / open_virtual): writing it would copy every pixel. "
                    "Pass the virtual form instead (open_virtual_mfdataset, open_stac, open_virtual_multiscale)")
