"""Files on several grids -> a DataTree with one group per grid, each group a stack.

Files are never merged across CRSs or pixel sizes: each grid family (:mod:`virtual_tiff.stacks._grids`)
is its own group, named after its CRS and resolution, and stacked as
:func:`~virtual_tiff.stacks.stack_images` stacks one family.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import Any

import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry

from virtual_tiff.errors import MixedGridsError
from virtual_tiff.io import ATTRIBUTE, sources_attribute
from virtual_tiff.stacks._batches import (
    OnError,
    Progress,
    ReadOptions,
    VirtualImage,
    read_images,
)
from virtual_tiff.stacks._grids import group_names
from virtual_tiff.stacks._stack import (
    families,
    image_grid,
    kept_images,
    record_failures,
    stack_images,
)


def open_virtual_mftree(
    urls: Sequence[str],
    registry: ObjectStoreRegistry,
    *,
    concat_dim: str = "time",
    labels: Sequence[Any] | None = None,
    ifd: int = 0,
    max_concurrency: int = 64,
    batch_size: int = 1024,
    on_error: OnError = "raise",
    progress: Progress | None = None,
    executor: Executor | None = None,
) -> xr.DataTree:
    """Files on disparate grids side by side: one DataTree group per grid, each stacked along ``concat_dim``.

    A *grid* here is a CRS plus a pixel size and orientation; files of one grid
    whose extents differ are padded to their union extent (chunks no file
    covers read as the fill value), or refused with a
    :class:`~virtual_tiff.errors.GridAlignmentError` where their chunks do not
    align (see :mod:`virtual_tiff.stacks._grids`). Groups are named ``EPSG_32633_10m``
    (CRS code and pixel size, see :func:`~virtual_tiff.stacks.group_names`), in
    the order their first file appears; within a group files keep the order of
    ``urls``, and ``labels`` (one per url, e.g. datetimes) become the
    ``concat_dim`` coordinate. The root's ``virtual_tiff`` attribute lists
    every source (what :func:`~virtual_tiff.to_icechunk` checksums) and the
    failures skipped with ``on_error="skip"``.
    """
    urls = list(urls)
    if not urls:
        raise ValueError("no urls given")
    if labels is not None and len(labels) != len(urls):
        raise ValueError(f"{len(labels)} labels for {len(urls)} urls")
    batch = read_images(urls, registry, ReadOptions(ifd, max_concurrency, batch_size, on_error, progress, executor))
    kept_labels = None if labels is None else [lab for lab, i in zip(labels, batch.images, strict=True) if i]
    images = [image for _, image in kept_images(urls, batch.images, batch.failures)]
    groups = stack_by_grid(images, concat_dim=concat_dim, labels=kept_labels)
    root = sources_attribute(image.info for image in images)
    record_failures(root, batch.failures)
    return tree_of(groups, root)


def stack_by_grid(
    images: Sequence[VirtualImage], *, concat_dim: str, labels: Sequence[Any] | None = None,
    names: Mapping[str, str] | None = None,
) -> dict[str, xr.Dataset]:
    """One stacked dataset per grid family, keyed by its group name."""
    by_family = families(images)
    grids = [image_grid(images[indices[0]].template) for indices in by_family.values()]
    return {
        name: stack_images(
            [images[k] for k in indices], concat_dim=concat_dim, names=names,
            labels=None if labels is None else [labels[k] for k in indices],
        )
        for name, indices in zip(group_names(grids), by_family.values(), strict=True)
    }


def tree_of(groups: Mapping[str, xr.Dataset], root_attrs: Mapping[str, Any]) -> xr.DataTree:
    """A DataTree with one child per group; provenance on the root only (to_icechunk reads it there)."""
    children = {}
    for name, ds in groups.items():
        ds = ds.copy()
        ds.attrs = {k: v for k, v in ds.attrs.items() if k != ATTRIBUTE}
        children[name] = xr.DataTree(ds)
    return xr.DataTree(xr.Dataset(attrs=dict(root_attrs)), children=children)


def single_grid(groups: Mapping[str, xr.Dataset]) -> xr.Dataset:
    """The one dataset of a single grid family, or a :class:`MixedGridsError` listing the families."""
    if len(groups) != 1:
        raise MixedGridsError(
            f"the files are on {len(groups)} grids ({', '.join(groups)})",
            remedy="open them as a DataTree (group_by='grid' / open_virtual_mftree), one group per grid",
        )
    return next(iter(groups.values()))
