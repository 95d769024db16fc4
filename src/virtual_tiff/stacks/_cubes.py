"""Stacks you compute on: the virtual stacks of this package opened as lazy xarray objects.

``open_virtual_mfdataset`` and ``open_stac`` return virtual objects (ManifestArrays), made to be
persisted (Icechunk, kerchunk). :func:`open_mfdataset`, :func:`open_multiscale` and :func:`load_stac` return the same cube
as lazily loaded xarray objects over one :class:`~virtual_tiff.TIFFManifestStore`, so every read
of the cube, across all its files, is planned as one set of merged, ETag-checked requests.
``chunks=None`` (default) gives xarray's lazily indexed arrays: a selection is read whole, in as
few requests as its chunks allow. ``chunks={}`` gives dask arrays of the files' own tiles, for
dask's parallelism (each task then reads its own tile; concurrent tasks still merge).
"""

from __future__ import annotations

from typing import Any

import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry

from virtual_tiff.errors import VirtualTIFFError
from virtual_tiff.io import registry_for
from virtual_tiff.read import CoalesceOptions, TIFFManifestStore
from virtual_tiff.stacks._grids import Grid
from virtual_tiff.stacks._multiscale import level_for, naming_missing_levels, open_virtual_multiscale, pyramid_of
from virtual_tiff.stacks._stac import asset_table, item_dicts, open_stac, table_urls
from virtual_tiff.stacks._stack import grid_attrs, open_virtual_mfdataset

#: A bounding box: (xmin, ymin, xmax, ymax).
BBox = tuple[float, float, float, float]


def open_virtual(obj: xr.Dataset | xr.DataTree, registry: ObjectStoreRegistry, *, chunks: Any = None,
                 options: CoalesceOptions | None = None, bbox: BBox | None = None,
                 bbox_crs: Any = None) -> xr.Dataset | xr.DataTree:
    """A virtual Dataset or DataTree opened lazily through one TIFFManifestStore.

    ``bbox`` keeps the pixels whose centres lie in it, in the cube's CRS, or in ``bbox_crs``
    (e.g. ``"EPSG:4326"`` for lon/lat, transformed with its densified bounds); only the tiles
    it overlaps are ever read.
    """
    store = TIFFManifestStore.from_virtual(obj, registry, options)
    if isinstance(obj, xr.DataTree):
        tree = xr.open_datatree(store, engine="zarr", zarr_format=3, consolidated=False, chunks=chunks)
        return tree if bbox is None else tree.map_over_datasets(lambda ds: _clip(ds, bbox, bbox_crs))
    ds = xr.open_zarr(store, zarr_format=3, consolidated=False, chunks=chunks)
    return ds if bbox is None else _clip(ds, bbox, bbox_crs)


def _clip(ds: xr.Dataset, bbox: BBox, bbox_crs: Any) -> xr.Dataset:
    """``ds`` limited to ``bbox`` along its x/y coordinates (a node without them is kept whole)."""
    if "x" not in ds.coords or "y" not in ds.coords:
        return ds
    xmin, ymin, xmax, ymax = bbox
    if bbox_crs is not None:
        import pyproj

        wkt = ds["spatial_ref"].attrs.get("crs_wkt")
        if wkt is None:  # an UnknownCRSWarning's files: a grid, no CRS to transform into
            raise VirtualTIFFError("bbox_crs= needs files with a CRS and these have none: give bbox in their "
                                   "own x/y, without bbox_crs")
        target = pyproj.CRS.from_wkt(wkt)
        transformer = pyproj.Transformer.from_crs(pyproj.CRS.from_user_input(bbox_crs), target, always_xy=True)
        xmin, ymin, xmax, ymax = transformer.transform_bounds(xmin, ymin, xmax, ymax, densify_pts=21)
    if not (xmin <= xmax and ymin <= ymax):
        raise ValueError(f"bbox {bbox} is not (xmin, ymin, xmax, ymax)")
    x, y = ds["x"].values, ds["y"].values
    xs = slice(xmin, xmax) if x.size < 2 or x[1] > x[0] else slice(xmax, xmin)
    ys = slice(ymin, ymax) if y.size < 2 or y[1] > y[0] else slice(ymax, ymin)
    clipped = ds.sel(x=xs, y=ys)
    if not clipped.sizes["x"] or not clipped.sizes["y"]:
        raise VirtualTIFFError(f"bbox {bbox} (in the cube's CRS: {(xmin, ymin, xmax, ymax)}) holds no pixel centre "
                               "of the cube")
    return _described_grid(clipped)


def _described_grid(ds: xr.Dataset) -> xr.Dataset:
    """The GeoZarr ``spatial:`` attributes and ``spatial_ref``'s GeoTransform of a clipped cube:
    its own extent, not the full one's (what a writer records onward)."""
    transform = ds.attrs.get("spatial:transform")
    if transform is None:
        return ds
    a, b, _, d, e, _ = transform
    x0, y0 = float(ds["x"][0]) - a / 2, float(ds["y"][0]) - e / 2
    clipped = Grid(None, (x0, a, b, y0, d, e), (ds.sizes["y"], ds.sizes["x"]))
    ds = ds.copy()
    ds.attrs = grid_attrs(ds.attrs, clipped)
    if "spatial_ref" in ds.coords and "GeoTransform" in ds["spatial_ref"].attrs:
        ds["spatial_ref"].attrs["GeoTransform"] = " ".join(map(str, clipped.transform))
    return ds


def open_mfdataset(
    urls: Any, registry: ObjectStoreRegistry, *, resolution: float | None = None, bbox: BBox | None = None,
    bbox_crs: Any = None, chunks: Any = None, options: CoalesceOptions | None = None, **kwargs: Any,
) -> xr.Dataset:
    """:func:`~virtual_tiff.open_virtual_mfdataset` (same arguments), opened lazily: a cube to compute on.

    ``cube = open_mfdataset(urls, registry, combine="nested", concat_dim="time")`` then
    ``cube.sel(x=..., y=...).mean("time").compute()`` reads only the tiles the selection needs.
    ``resolution`` (in the CRS's units) picks the coarsest overview level at least that fine,
    from the first file's pyramid: no resampling, so the cube's pixel size is that level's.
    The image keeps the name ``"0"`` whatever level ``resolution`` picks. ``bbox`` / ``bbox_crs``:
    see :func:`open_virtual`.
    """
    urls = list(urls)
    if resolution is not None:
        if "ifd" in kwargs:
            raise ValueError("give resolution= or ifd=, not both")
        if not resolution > 0:
            raise ValueError(f"resolution must be a positive number of the CRS's units, got {resolution!r}")
        pyramid = pyramid_of(urls[0], registry)
        level = level_for(pyramid, resolution)
        kwargs["ifd"] = level.ifd
        with naming_missing_levels(urls[0], pyramid.index(level), level,
                                   f"resolution={resolution} picked it; pick one every file has"):
            vds = open_virtual_mfdataset(urls, registry, **kwargs)
    else:
        vds = open_virtual_mfdataset(urls, registry, **kwargs)
    if resolution is not None:  # the image is "0" whatever level was picked: the same code at every resolution
        vds = vds.rename({str(kwargs["ifd"]): "0"})
    return open_virtual(vds, registry, chunks=chunks, options=options, bbox=bbox, bbox_crs=bbox_crs)


def open_multiscale(
    urls: Any, registry: ObjectStoreRegistry, *, bbox: BBox | None = None, bbox_crs: Any = None,
    chunks: Any = None, options: CoalesceOptions | None = None, **kwargs: Any,
) -> xr.DataTree:
    """:func:`~virtual_tiff.open_virtual_multiscale` (same arguments), opened lazily: ``tree["2"]``
    is the stack at the second overview, ``tree["0"]`` at full resolution, for the same code."""
    return open_virtual(open_virtual_multiscale(list(urls), registry, **kwargs), registry, chunks=chunks,
                        options=options, bbox=bbox, bbox_crs=bbox_crs)


def load_stac(
    items: Any, *, registry: ObjectStoreRegistry | None = None, bbox: BBox | None = None, bbox_crs: Any = None,
    chunks: Any = None, options: CoalesceOptions | None = None, **kwargs: Any,
) -> xr.Dataset | xr.DataTree:
    """:func:`~virtual_tiff.open_stac` (same arguments), opened lazily, as ``odc.stac.load`` and
    ``stackstac.stack`` return their cubes (a DataTree with ``group_by="grid"``)."""
    items = item_dicts(items)
    if registry is None:  # the one open_stac would build, which the store must read through too
        table = asset_table(items, kwargs.get("assets"), kwargs.get("variable_names", "asset"),
                            allow_local=kwargs.get("allow_local_hrefs", False))
        registry = registry_for(table_urls(table))
    return open_virtual(open_stac(items, registry=registry, **kwargs), registry, chunks=chunks, options=options,
                        bbox=bbox, bbox_crs=bbox_crs)
