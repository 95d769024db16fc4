"""STAC Items -> a virtual datacube: one variable per asset, stacked along ``time``.

Accepts pystac ``Item``s and ``ItemCollection``s, or the same as plain JSON
(dicts, JSON text, or a path to a JSON file): pystac is not required. Items
are sorted by datetime (then id); each requested asset key becomes a variable
(named by the key, or by its single ``eo:bands``/``bands`` name), every
item's datetime a step of the ``time`` coordinate. Headers of every asset are
read concurrently (:mod:`virtual_tiff.stacks._batches`).

Items at the same datetime on the same grid (e.g. a scene reprocessed, or
published twice) are handled by ``duplicates``: ``"keep"`` (default) keeps
each as its own time step, so the time index has repeated values (as
stackstac does); ``"first"``/``"last"`` keep one per datetime (ordered by
item id); ``"raise"`` refuses them. Items at the same datetime on different
grids (adjacent tiles of one overpass) are not duplicates: they land in
different groups, or side by side in the padded union of a shared grid.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urljoin

import numpy as np
import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry

from virtual_tiff.build import MASK_VARIABLE
from virtual_tiff.errors import MixedGridsError, VirtualTIFFError
from virtual_tiff.io import ATTRIBUTE, normalise_url, registry_for, sources_attribute
from virtual_tiff.stacks._batches import (
    OnError,
    Progress,
    ReadOptions,
    VirtualImage,
    read_images,
)
from virtual_tiff.stacks._grids import group_names
from virtual_tiff.stacks._stack import image_grids, record_failures, stack_images
from virtual_tiff.stacks._trees import single_grid, tree_of

Duplicates = Literal["keep", "first", "last", "raise"]
VariableNames = Literal["asset", "eo:bands"]
_TIFF_SUFFIXES = (".tif", ".tiff", ".TIF", ".TIFF")


@dataclass(frozen=True)
class Asset:
    """One requested asset of one item: where it is and which variable it feeds."""

    item: str
    time: np.datetime64
    key: str
    variable: str
    url: str
    #: The item's scalar properties but its datetime: coordinates along time, as stackstac gives them.
    properties: tuple[tuple[str, Any], ...] = ()


def item_dicts(items: Any) -> list[dict[str, Any]]:
    """Plain STAC Item dicts from pystac objects, (Feature)Collections, JSON text, paths, or iterables of them."""
    if hasattr(items, "to_dict") and not isinstance(items, Mapping):
        items = items.to_dict(transform_hrefs=False) if _is_pystac_item(items) else items.to_dict()
    if isinstance(items, (str, os.PathLike)):
        text = str(items)
        items = json.loads(text if text.lstrip().startswith("{") else Path(text).read_text())
    if isinstance(items, Mapping):
        if items.get("type") == "FeatureCollection":
            return [dict(f) for f in items.get("features", [])]
        if items.get("type") == "Feature":
            return [dict(items)]
        raise VirtualTIFFError(f"not a STAC Item or ItemCollection (type {items.get('type')!r})")
    if isinstance(items, Iterable):
        return [d for part in items for d in item_dicts(part)]
    raise TypeError(f"cannot read STAC items from {type(items).__name__}")


def _is_pystac_item(obj: Any) -> bool:
    return type(obj).__name__ == "Item" and hasattr(obj, "assets")


def item_time(item: Mapping[str, Any]) -> np.datetime64:
    """The item's ``datetime`` (else ``start_datetime``) as a UTC ``datetime64[ns]``."""
    props = item.get("properties", {})
    stamp = props.get("datetime") or props.get("start_datetime")
    if not stamp:
        raise VirtualTIFFError(f"STAC item {item.get('id')!r} has neither datetime nor start_datetime")
    moment = datetime.datetime.fromisoformat(stamp)
    if moment.tzinfo is not None:
        moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
    return np.datetime64(moment, "ns")


def tiff_asset_keys(item: Mapping[str, Any]) -> list[str]:
    """Asset keys that look like TIFFs: media type ``image/tiff...`` or a ``.tif(f)`` href."""
    return [
        key for key, asset in item.get("assets", {}).items()
        if "tiff" in str(asset.get("type", "")) or str(asset.get("href", "")).split("?")[0].endswith(_TIFF_SUFFIXES)
    ]


def variable_name(key: str, asset: Mapping[str, Any], names: VariableNames) -> str:
    """The asset key, or with ``names="eo:bands"`` the name of its one band when it lists exactly one."""
    if names == "asset":
        return key
    bands = asset.get("eo:bands") or asset.get("bands") or []
    return str(bands[0]["name"]) if len(bands) == 1 and bands[0].get("name") else key


def asset_url(item: Mapping[str, Any], href: str, *, allow_local: bool = False) -> str:
    """An asset's url: relative hrefs resolve against the item's ``self`` link, as the STAC spec says.

    An item whose ``self`` link is remote (a catalogue served over http(s), s3, ...) may not point
    at local files (``/etc/passwd``, ``file:///...``): a remote catalogue must never make the
    build open them. ``allow_local=True`` lifts that for catalogues you trust.
    """
    self_href = next((link.get("href") for link in item.get("links", []) if link.get("rel") == "self"), None)
    if "://" in href or os.path.isabs(href) or not self_href:
        url = normalise_url(href)
    else:
        url = urljoin(normalise_url(self_href), href)
    remote = self_href is not None and "://" in self_href and not self_href.startswith("file://")
    if remote and url.startswith("file://") and not allow_local:
        raise VirtualTIFFError(
            f"STAC item {item.get('id')!r} of a remote catalogue ({self_href}) points at the local file {href!r}: "
            "refused (pass allow_local_hrefs=True, or --allow-local-hrefs, for a catalogue you trust)")
    return url


def asset_table(items: Sequence[Mapping[str, Any]], keys: Sequence[str] | None,
                names: VariableNames = "asset", *, allow_local: bool = False) -> list[list[Asset]]:
    """Per item (sorted by datetime, then id), its requested assets; every item must have every key."""
    ordered = sorted(items, key=lambda it: (item_time(it), str(it.get("id"))))
    keys = list(keys) if keys is not None else (tiff_asset_keys(ordered[0]) if ordered else [])
    if not keys:
        raise VirtualTIFFError("no TIFF assets found: pass assets=[...]")
    table = []
    for item in ordered:
        missing = [k for k in keys if k not in item.get("assets", {})]
        if missing:
            raise VirtualTIFFError(f"STAC item {item.get('id')!r} has no asset {missing[0]!r}")
        time = item_time(item)
        properties = tuple((key, value) for key, value in (item.get("properties") or {}).items()
                           if key != "datetime" and isinstance(value, (str, int, float, bool)))
        table.append([
            Asset(str(item.get("id")), time, k, variable_name(k, item["assets"][k], names),
                  asset_url(item, item["assets"][k]["href"], allow_local=allow_local), properties)
            for k in keys
        ])
    variables = [a.variable for a in table[0]] if table else []
    if len(set(variables)) != len(variables):
        raise VirtualTIFFError(f"assets {keys} give repeated variable names {variables}")
    return table


def drop_duplicates(rows: list[list[tuple[Asset, VirtualImage]]], policy: Duplicates) -> list[list[tuple[Asset, VirtualImage]]]:
    """Apply ``duplicates`` to items with the same datetime and the same grid (of their first asset)."""
    if policy == "keep":
        return rows
    if policy not in ("first", "last", "raise"):
        raise ValueError(f"duplicates must be 'keep', 'first', 'last' or 'raise', got {policy!r}")
    chosen: dict[tuple, int] = {}
    grids = image_grids([row[0][1] for row in rows])
    for k, (row, grid) in enumerate(zip(rows, grids, strict=True)):
        asset = row[0][0]
        key = (asset.time, grid)
        if key in chosen and policy == "raise":
            raise VirtualTIFFError(
                f"STAC items {rows[chosen[key]][0][0].item!r} and {asset.item!r} share datetime {asset.time} "
                "and grid; pass duplicates='keep', 'first' or 'last'")
        if key not in chosen or policy == "last":
            chosen[key] = k
    keep = set(chosen.values())
    return [row for k, row in enumerate(rows) if k in keep]


def table_urls(table: Sequence[Sequence[Asset]]) -> list[str]:
    """Every asset url of a table, once each, in order."""
    return list(dict.fromkeys(a.url for row in table for a in row))


def open_stac(
    items: Any,
    *,
    assets: Sequence[str] | None = None,
    registry: ObjectStoreRegistry | None = None,
    group_by: Literal["grid"] | None = None,
    duplicates: Duplicates = "keep",
    variable_names: VariableNames = "asset",
    concat_dim: str = "time",
    ifd: int = 0,
    max_concurrency: int = 64,
    batch_size: int = 1024,
    on_error: OnError = "raise",
    progress: Progress | None = None,
    executor: Executor | None = None,
    allow_local_hrefs: bool = False,
) -> xr.Dataset | xr.DataTree:
    """A virtual datacube of STAC items: ``assets`` as variables, item datetimes as ``time``.

    ``assets`` defaults to the first item's TIFF assets. ``registry`` defaults
    to one built from the hrefs (local paths, ``s3://`` with the usual AWS
    environment). ``group_by=None`` returns one Dataset and raises
    :class:`~virtual_tiff.MixedGridsError` when the assets are on several
    grids (CRS or pixel size; ragged extents of one grid are padded, see
    :mod:`virtual_tiff.stacks._grids`); ``group_by="grid"`` always returns a DataTree
    with one group per grid (``EPSG_32633_10m``, ...), each holding the
    variables on that grid. A file's mask becomes ``<variable>_mask``.
    ``duplicates``: see the module docstring. With ``on_error="skip"`` an item
    any of whose assets fails is left out and listed under
    ``virtual_tiff.failed``. Items of a remote catalogue (a remote ``self`` link) may not point at
    local files unless ``allow_local_hrefs=True``.
    """
    if group_by not in (None, "grid"):
        raise ValueError(f"group_by must be None or 'grid', got {group_by!r}")
    table = asset_table(item_dicts(items), assets, variable_names, allow_local=allow_local_hrefs)
    if not table:
        raise VirtualTIFFError("no STAC items given")
    urls = table_urls(table)
    registry = registry or registry_for(urls)
    batch = read_images(urls, registry, ReadOptions(ifd, max_concurrency, batch_size, on_error, progress, executor))
    by_url = dict(zip(urls, batch.images, strict=True))
    rows = [[(a, by_url[a.url]) for a in row] for row in table if all(by_url[a.url] is not None for a in row)]
    if not rows:
        raise VirtualTIFFError(f"every item failed; first: {next(iter(batch.failures.values()))}")
    rows = drop_duplicates(rows, duplicates)  # type: ignore[arg-type]
    groups = _groups(rows, concat_dim)
    root = sources_attribute(image.info for row in rows for _, image in row)
    record_failures(root, batch.failures)
    if group_by == "grid":
        return tree_of(groups, root)
    ds = single_grid(groups)
    ds.attrs.update(root)
    return ds


def _groups(rows: list[list[tuple[Asset, VirtualImage]]], concat_dim: str) -> dict[str, xr.Dataset]:
    """Per grid family, the variables on it, each stacked over the items whose asset is on it."""
    cells: dict[tuple, dict[str, list[tuple[Asset, VirtualImage]]]] = {}
    representative = {}
    pairs = [pair for row in rows for pair in row]
    for (asset, image), grid in zip(pairs, image_grids([image for _, image in pairs]), strict=True):
        cells.setdefault(grid.family, {}).setdefault(asset.variable, []).append((asset, image))
        representative.setdefault(grid.family, grid)
    names = group_names([representative[f] for f in cells])
    return {name: _merge(variables, concat_dim, name) for name, variables in zip(names, cells.values(), strict=True)}


def _merge(variables: Mapping[str, list[tuple[Asset, VirtualImage]]], concat_dim: str, group: str) -> xr.Dataset:
    """The variables of one grid, stacked, in one Dataset; they must cover the same items."""
    stacks = {}
    for variable, cells in variables.items():
        names = {"0": variable, MASK_VARIABLE: f"{variable}_mask"}
        # The items' own properties are the coordinates along time; the assets' GDAL metadata
        # items that differ stay out (each asset would name its own, and they would conflict).
        stacks[variable] = stack_images([image for _, image in cells], concat_dim=concat_dim,
                                        labels=[a.time for a, _ in cells], names=names, metadata_coords=False)
    first_name, first = next(iter(stacks.items()))
    items = [a.item for a, _ in variables[first_name]]
    for variable, ds in stacks.items():
        if [a.item for a, _ in variables[variable]] != items:
            raise MixedGridsError(
                f"in group {group}, asset variable {variable!r} covers other items than {first_name!r}: "
                "an item's assets are on different grids", remedy="open with group_by='grid' and select per asset")
        if ds.indexes.keys() != first.indexes.keys() or any(
            not np.array_equal(ds[n].values, first[n].values) for n in first.indexes if n != concat_dim
        ):
            raise VirtualTIFFError(f"in group {group}, {variable!r} and {first_name!r} cover different extents")
    merged = first.copy()
    for variable, ds in stacks.items():
        for name in ds.data_vars:
            merged[name] = ds[name].variable
    merged.attrs = {k: v for k, v in first.attrs.items() if k != ATTRIBUTE}
    return merged.assign_coords(_item_coords([a for a, _ in variables[first_name]], concat_dim))


def _item_coords(assets: Sequence[Asset], concat_dim: str) -> dict[str, xr.Variable]:
    """``id`` and every scalar property of the items, along ``concat_dim``: numbers as float64
    (NaN where an item lacks it), text as text ("" where missing), flags as bool; a property
    whose items disagree on its type is left out."""
    coords = {"id": xr.Variable(concat_dim, np.array([a.item for a in assets]))}
    keys = dict.fromkeys(key for a in assets for key, _ in a.properties)
    for key in keys:
        if key in ("id", concat_dim):
            continue
        values = [dict(a.properties).get(key) for a in assets]
        kinds = {type(v) for v in values if v is not None}
        if kinds <= {int, float}:
            column = np.array([np.nan if v is None else float(v) for v in values])
        elif kinds == {str}:
            column = np.array(["" if v is None else v for v in values])
        elif kinds == {bool} and None not in values:
            column = np.array(values, dtype=bool)
        else:
            continue
        coords[key] = xr.Variable(concat_dim, column)
    return coords
