"""Many files -> one datacube: batched header reads, grids and placement, stacks, STAC, trees.

``_batches`` (headers read concurrently in batches, one build per header signature, within
:class:`ReadOptions`) -> ``_grids`` (which files share a grid, where each lies in the union) ->
``_stack`` (one grid: manifests stacked directly; ``open_virtual_mfdataset``) -> ``_trees`` (a
group per grid: ``open_virtual_mftree``) and ``_stac`` (STAC items: a variable per asset) ->
``_multiscale`` (a stack per overview level) -> ``_cubes`` (the same, opened lazily to compute on:
``open_mfdataset``, ``open_multiscale``, ``load_stac``).
"""

from virtual_tiff.stacks._batches import (
    Batch,
    OnError,
    Progress,
    ReadOptions,
    VirtualImage,
    read_batch_async,
    read_images,
)
from virtual_tiff.stacks._cubes import load_stac, open_mfdataset, open_multiscale, open_virtual
from virtual_tiff.stacks._grids import Grid, Placement, group_names, place
from virtual_tiff.stacks._multiscale import PyramidLevel, open_virtual_multiscale, pyramid_of
from virtual_tiff.stacks._stac import asset_table, item_dicts, open_stac
from virtual_tiff.stacks._stack import open_virtual_mfdataset, stack_images
from virtual_tiff.stacks._trees import open_virtual_mftree, tree_of

__all__ = [
    "Batch",
    "Grid",
    "OnError",
    "Placement",
    "Progress",
    "PyramidLevel",
    "ReadOptions",
    "VirtualImage",
    "asset_table",
    "group_names",
    "item_dicts",
    "load_stac",
    "open_mfdataset",
    "open_multiscale",
    "open_stac",
    "open_virtual",
    "open_virtual_mfdataset",
    "open_virtual_mftree",
    "open_virtual_multiscale",
    "place",
    "pyramid_of",
    "read_batch_async",
    "read_images",
    "stack_images",
    "tree_of",
]
