"""Many TIFFs -> one virtual dataset, headers read concurrently, manifests stacked directly.

VirtualiZarr's ``open_virtual_mfdataset`` parses files one after another (or
through an executor), so 64 COGs cost 64 round trips, then builds and
concatenates one xarray Dataset per file. Here every header read is a
coroutine on zarr's event loop (at most ``max_concurrency`` in flight, in
batches of ``batch_size`` files: see :mod:`virtual_tiff.stacks._batches`), files with
identical headers share their array metadata, and files on one grid are
stacked by stacking their chunk manifests (numpy arrays) directly: a stack
costs about as much wall time as its slowest header plus well under a
millisecond of CPU per file.

Memory (tracemalloc, 10,000 local files of 4 tiles, ``benchmarks/scale.py``):
the stack holds about 200 bytes per chunk reference (url string, offset,
length); the peak while building with ``batch_size=1024`` is about 790 bytes
per reference, the parsed headers of one batch included. 100,000 COGs of 16
tiles would hold about 320 MB.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import xarray as xr
from obspec_utils.registry import ObjectStoreRegistry
from virtualizarr.manifests import ChunkManifest, ManifestArray
from zarr.core.metadata import ArrayV3Metadata

from virtual_tiff.build import SPATIAL_REF, Template
from virtual_tiff.errors import IncompatibleFilesError, MixedGridsError, VirtualTIFFError
from virtual_tiff.io import ATTRIBUTE, sources_attribute
from virtual_tiff.stacks._batches import (
    OnError,
    Progress,
    ReadOptions,
    VirtualImage,
    read_images,
)
from virtual_tiff.stacks._grids import (
    Grid,
    Placement,
    check_chunk_aligned,
    grid_centres,
    grid_from_attrs,
    group_names,
    place,
)


def image_grid(template: Template) -> Grid:
    """The grid of a template's image: from its ``spatial_ref`` attributes and data shape."""
    ds = template.dataset
    shape = ds[template.variables[0]].shape[-2:]
    if SPATIAL_REF not in ds.variables:
        return Grid(None, None, tuple(shape))  # type: ignore[arg-type]
    return grid_from_attrs(ds[SPATIAL_REF].attrs, tuple(shape))  # type: ignore[arg-type]


def image_grids(images: Sequence[VirtualImage]) -> list[Grid]:
    """Each image's grid, worked out once per template: the files of one build share it."""
    by_template: dict[int, Grid] = {}
    for image in images:
        if id(image.template) not in by_template:
            by_template[id(image.template)] = image_grid(image.template)
    return [by_template[id(image.template)] for image in images]


def _essentials(array: ManifestArray) -> dict[str, object]:
    """What must agree between files for their chunks to share one array (shape aside), by name."""
    m = array.metadata
    return {"sample type": m.data_type.to_native_dtype().str, "chunk shape": tuple(m.chunks),
            "codec chain": [c.to_dict() for c in m.codecs], "nodata (fill value)": m.fill_value}


def _check_compatible(images: Sequence[VirtualImage]) -> None:
    """Refuse files whose arrays differ in dtype, chunking, codecs or fill value, naming one of each."""
    first = images[0]
    seen = {id(first.template)}
    for image in images[1:]:
        if id(image.template) in seen:
            continue
        seen.add(id(image.template))
        if image.template.variables != first.template.variables:
            raise IncompatibleFilesError(
                f"has arrays {image.template.variables}, {first.url} has {first.template.variables}", url=image.url
            )
        for name in first.template.variables:
            mine, theirs = _essentials(image.array(name)), _essentials(first.array(name))
            for field, value in mine.items():
                if value != theirs[field]:
                    raise IncompatibleFilesError(
                        f"array {name!r} has {field} {value} where {first.url} has {theirs[field]}: they "
                        "cannot share one virtual array; stack such files separately", url=image.url)


def _stacked_manifest(
    manifests: Sequence[ChunkManifest], chunk_offsets: Sequence[tuple[int, int]], grid_shape: tuple[int, ...]
) -> ChunkManifest:
    """One manifest of shape ``(n, *grid_shape)``: each file's chunks at its offset, ``""`` (fill value) elsewhere."""
    # VirtualiZarr builds manifests from arrays (ChunkManifest.from_arrays) but has no public accessor
    # for them: stacking numpy arrays directly reads ChunkManifest._paths, _offsets and _lengths.
    if all(m.shape_chunk_grid == grid_shape for m in manifests) and not any(any(o) for o in chunk_offsets):
        return ChunkManifest.from_arrays(
            paths=np.stack([m._paths for m in manifests]),
            offsets=np.stack([m._offsets for m in manifests]),
            lengths=np.stack([m._lengths for m in manifests]),
            validate_paths=False,
        )
    shape = (len(manifests), *grid_shape)
    paths = np.full(shape, "", dtype=np.dtypes.StringDType())
    offsets = np.zeros(shape, dtype=np.uint64)
    lengths = np.zeros(shape, dtype=np.uint64)
    for i, (manifest, (row, col)) in enumerate(zip(manifests, chunk_offsets, strict=True)):
        *lead, gy, gx = manifest.shape_chunk_grid
        where = (i, *(slice(0, n) for n in lead), slice(row, row + gy), slice(col, col + gx))
        paths[where], offsets[where], lengths[where] = manifest._paths, manifest._offsets, manifest._lengths
    return ChunkManifest.from_arrays(paths=paths, offsets=offsets, lengths=lengths, validate_paths=False)


#: Attributes by which xarray turns stored values into physical ones (CF): one array has one of each.
_SCALING_KEYS = ("scale_factor", "add_offset", "scales", "offsets")


@dataclass(frozen=True)
class StackedAttrs:
    """A stacked variable's attributes: what every file agrees on; ``per_file``: the GDAL dataset
    metadata items that differ between files (acquisition dates, processing baselines), one value
    per file ("" where a file has none), for coordinates along the stacking axis."""

    attrs: dict[str, Any]
    per_file: dict[str, list[str]]


def stacked_attrs(images: Sequence[VirtualImage], name: str, *, items_as_coords: bool = True) -> StackedAttrs:
    """What the files' own attributes of ``name`` say together. A scale or offset that differs is
    refused: one array read with one file's scale gives every other file's pixels wrong values.

    With ``items_as_coords`` every GDAL dataset item (the producer's tags: dates, baselines,
    platform) is per file, even where all files agree, so a stack's variables and coordinates do
    not depend on how many files it has (a one-file append matches the stack it extends);
    without, the items all files agree on stay attributes and the others are left out."""
    by_source: dict[tuple[int, int], dict[str, Any]] = {}  # files of one build with equal metadata share both
    own = []
    for image in images:
        key = (id(image.template), id(image.attributes.get(name)))
        if key not in by_source:
            by_source[key] = image.attrs(name)
        own.append(by_source[key])
    distinct = list(by_source.values())
    first = distinct[0]
    for key in _SCALING_KEYS:
        values = [a.get(key) for a in own]
        if any(v != values[0] for v in values):
            k = next(i for i, v in enumerate(values) if v != values[0])
            raise IncompatibleFilesError(
                f"has {key}={values[k]!r} where {images[0].url} has {values[0]!r}: one array cannot hold values "
                "scaled two ways; stack such files separately (e.g. by processing baseline)", url=images[k].url)
    attrs = {k: v for k, v in first.items() if k != "gdal_metadata" and all(a.get(k) == v for a in distinct)}
    gdal = [a.get("gdal_metadata") or {} for a in own]
    distinct_gdal = [a.get("gdal_metadata") or {} for a in distinct]
    common: dict[str, dict[str, Any]] = {}
    for domain, items in distinct_gdal[0].items():
        agreed = {k: v for k, v in items.items() if all(g.get(domain, {}).get(k, None) == v for g in distinct_gdal)}
        if agreed and not (items_as_coords and domain == "dataset"):
            common[domain] = agreed
    if common:
        attrs["gdal_metadata"] = common
    if not items_as_coords:
        return StackedAttrs(attrs, {})
    keys = sorted({k for g in distinct_gdal for k in g.get("dataset", {})})
    return StackedAttrs(attrs, {k: [str(g.get("dataset", {}).get(k, "")) for g in gdal] for k in keys})


def _stacked_variable(
    images: Sequence[VirtualImage], name: str, concat_dim: str, union: Grid, pixel_offsets: Sequence[tuple[int, int]],
    attrs: dict[str, Any],
) -> xr.Variable:
    """Variable ``name`` of every image stacked along ``concat_dim``, in the union extent, with ``attrs``."""
    template = images[0].template.dataset[name]
    array: ManifestArray = template.data
    *_, th, tw = array.metadata.chunks
    shapes = {id(i.template): i.template.dataset[name].shape[-2:] for i in images}
    if any(any(o) for o in pixel_offsets) or any(s != union.shape for s in shapes.values()):
        check_chunk_aligned(
            Placement(union, tuple(pixel_offsets)),
            [shapes[id(image.template)] for image in images],
            (th, tw),
            [image.url for image in images],
        )
    shape = (*array.shape[:-2], *union.shape)
    grid_shape = tuple(-(-s // c) for s, c in zip(shape, array.metadata.chunks, strict=True))
    manifest = _stacked_manifest(
        [image.manifests[name] for image in images], [(r // th, c // tw) for r, c in pixel_offsets], grid_shape
    )
    metadata = _with_leading_axis(array.metadata, [len(images), *shape], [1, *array.metadata.chunks],
                                  [concat_dim, *template.dims])
    return xr.Variable((concat_dim, *template.dims), ManifestArray(metadata, manifest), attrs)


def _with_leading_axis(metadata: ArrayV3Metadata, shape: list[int], chunks: list[int],
                       dims: list[str]) -> ArrayV3Metadata:
    """The metadata of an array stacked along a new first axis of one-element chunks.

    A ``transpose`` codec's order (pixel-interleaved bands: ``(1, 2, 0)``) gains the new axis in
    front, which VirtualiZarr's ``copy_and_replace_metadata`` leaves as it was (an invalid order).
    """
    document = metadata.to_dict()
    document.update(shape=shape, dimension_names=dims)
    document["chunk_grid"] = {"name": "regular", "configuration": {"chunk_shape": chunks}}
    for codec in document["codecs"]:
        if isinstance(codec, dict) and codec.get("name") == "transpose":
            order = codec["configuration"]["order"]
            codec["configuration"] = {**codec["configuration"], "order": [0, *(int(o) + 1 for o in order)]}
    return ArrayV3Metadata.from_dict(document)


def _union_coords(template: xr.Dataset, union: Grid) -> dict[Hashable, xr.Variable]:
    """``x``, ``y`` and ``spatial_ref`` of the union grid, keeping the template's attributes."""
    coords = {n: v.variable for n, v in template.coords.items()}
    if union.transform is None or union.shape == tuple(template[SPATIAL_REF].shape):
        return coords
    ref = coords[SPATIAL_REF]
    coords[SPATIAL_REF] = xr.Variable(ref.dims, ref.values, {**ref.attrs, "GeoTransform": " ".join(map(str, union.transform))})
    x, y = grid_centres(union)
    y_dim, x_dim = template[next(iter(template.data_vars))].dims[-2:]
    if x_dim in coords:
        coords[x_dim] = xr.Variable(x_dim, x, coords[x_dim].attrs)
    if y_dim in coords:
        coords[y_dim] = xr.Variable(y_dim, y, coords[y_dim].attrs)
    return coords


def grid_attrs(attrs: Mapping[str, Any], union: Grid) -> dict[str, Any]:
    """``attrs`` with the GeoZarr ``spatial:`` attributes of ``union`` (a stack's union grid, a
    clipped cube's extent); the rest as they were."""
    out = dict(attrs)
    if union.transform is None or "spatial:transform" not in out:
        return out
    x0, a, b, y0, d, e = union.transform
    rows, cols = union.shape
    out["spatial:transform"] = [a, b, x0, d, e, y0]
    out["spatial:shape"] = [rows, cols]
    xs, ys = (x0, x0 + cols * a), (y0, y0 + rows * e)
    out["spatial:bbox"] = [min(xs), min(ys), max(xs), max(ys)]
    return out


def stack_images(
    images: Sequence[VirtualImage],
    *,
    concat_dim: str = "time",
    labels: Sequence[Any] | None = None,
    names: Mapping[str, str] | None = None,
    metadata_coords: bool = True,
) -> xr.Dataset:
    """Images of one grid family stacked along ``concat_dim``, padded to their union extent.

    Each variable keeps the attributes every file agrees on; with ``metadata_coords`` the GDAL
    dataset metadata items (``ACQUISITION_DATE``, ``PROCESSING_BASELINE``, ...) become coordinates
    along ``concat_dim``, one value per file (a name already taken is left out); a scale or offset
    that differs is refused (:func:`stacked_attrs`).

    ``labels`` become the ``concat_dim`` coordinate; ``names`` renames the
    variables (e.g. ``{"0": "red", "mask": "red_mask"}``). Raises
    :class:`~virtual_tiff.errors.MixedGridsError` for several families and
    :class:`~virtual_tiff.errors.GridAlignmentError` for extents whose chunks
    do not align (see :mod:`virtual_tiff.stacks._grids`).
    """
    if not images:
        raise ValueError("no images to stack")
    if labels is not None and len(labels) != len(images):
        raise ValueError(f"{len(labels)} labels for {len(images)} images")
    _check_compatible(images)
    placement = place(image_grids(images))
    template = images[0].template.dataset
    if concat_dim in template.dims:
        raise ValueError(f"concat_dim {concat_dim!r} is already a dimension of the files")
    together = {name: stacked_attrs(images, name, items_as_coords=metadata_coords)
                for name in images[0].template.variables}
    variables = {
        name: _stacked_variable(images, name, concat_dim, placement.grid, placement.offsets, together[name].attrs)
        for name in images[0].template.variables
    }
    coords = _union_coords(template, placement.grid)
    if labels is not None:
        coords[concat_dim] = xr.Variable(concat_dim, np.asarray(labels))
    for key, values in (item for stacked in together.values() for item in stacked.per_file.items()):
        if key not in coords and key not in variables and key != concat_dim:
            coords[key] = xr.Variable(concat_dim, np.asarray(values))
    ds = xr.Dataset(variables, coords=coords, attrs=grid_attrs(template.attrs, placement.grid))
    ds.attrs.update(sources_attribute(image.info for image in images))
    return ds.rename({k: v for k, v in (names or {}).items() if k in ds.variables})


def _per_file_dataset(image: VirtualImage) -> xr.Dataset:
    """One file's virtual dataset, for xarray's own combine (the general, slower path)."""
    ds = image.template.dataset.copy()
    for name in image.template.variables:
        ds[name] = xr.Variable(ds[name].dims, image.array(name), image.attrs(name))
    ds.attrs.update(sources_attribute([image.info]))
    return ds


def kept_images(urls: Sequence[str], images: Sequence[VirtualImage | None], failures: Mapping[str, VirtualTIFFError]):
    kept = [(url, image) for url, image in zip(urls, images, strict=True) if image is not None]
    if not kept:
        raise VirtualTIFFError(f"all {len(urls)} files failed; first: {next(iter(failures.values()))}")
    return kept


def record_failures(attrs: dict[str, Any], failures: Mapping[str, VirtualTIFFError]) -> None:
    """List the files ``on_error="skip"`` left out, with why, in the provenance attribute."""
    if failures:
        attrs[ATTRIBUTE]["failed"] = {url: str(exc) for url, exc in failures.items()}


def families(images: Sequence[VirtualImage]) -> dict[tuple, list[int]]:
    """Indices of the images of each grid family, in order of first appearance."""
    out: dict[tuple, list[int]] = {}
    for k, grid in enumerate(image_grids(images)):
        out.setdefault(grid.family, []).append(k)
    return out


def _check_one_grid(images: Sequence[VirtualImage]) -> None:
    """Refuse files no one array can hold, whatever ``combine`` and ``join`` say: several grid
    families (:class:`MixedGridsError`, naming each group) or extents whose chunks would not land
    on their union's chunk grid (:class:`GridAlignmentError`, naming the file)."""
    by_family = families(images)
    if len(by_family) > 1:
        names = group_names([image_grid(images[indices[0]].template) for indices in by_family.values()])
        detail = "; ".join(f"{name}: {len(indices)} files, e.g. {images[indices[0]].url}"
                           for name, indices in zip(names, by_family.values(), strict=True))
        raise MixedGridsError(f"the files are on {len(names)} grids ({detail}): no one array holds them "
                              "without resampling", remedy="open_virtual_mftree keeps each grid in its own group")
    grids = image_grids(images)
    placement = place(grids)
    if any(any(offset) for offset in placement.offsets) or any(g.shape != placement.grid.shape for g in grids):
        first = images[0].template
        chunk = tuple(first.dataset[first.variables[0]].data.metadata.chunks[-2:])
        check_chunk_aligned(placement, [g.shape for g in grids], chunk, [image.url for image in images])


def open_virtual_mfdataset(
    urls: Sequence[str],
    registry: ObjectStoreRegistry,
    *,
    ifd: int = 0,
    concat_dim: str | None = None,
    labels: Sequence[Any] | Callable[[str], Any] | None = None,
    compat: str = "no_conflicts",
    preprocess: Callable[[xr.Dataset], xr.Dataset] | None = None,
    data_vars: str | list[str] = "all",
    coords: str = "different",
    combine: Literal["by_coords", "nested"] = "by_coords",
    join: str = "outer",
    attrs_file: str | None = None,
    combine_attrs: str = "override",
    max_concurrency: int = 64,
    on_error: OnError = "raise",
    progress: Progress | None = None,
    batch_size: int = 1024,
    executor: Executor | None = None,
) -> xr.Dataset:
    """VirtualiZarr's ``open_virtual_mfdataset`` for TIFFs, minus ``parser``, plus ``ifd``.

    Files on several grids (CRS or pixel size) raise :class:`~virtual_tiff.MixedGridsError`
    naming the groups, and extents whose chunks do not fall on their union's chunk grid raise
    :class:`~virtual_tiff.GridAlignmentError` naming the file, whatever ``combine`` and ``join``
    say: never one array labelled with one CRS over pixels of several. With ``combine="nested"``,
    a ``concat_dim`` and no ``preprocess``, the manifests are stacked directly in the union
    extent (:func:`stack_images`): the dataset xarray's outer-join combine would give, without a
    Dataset per file. Anything else goes through xarray's ``combine_nested``/``combine_by_coords``
    with these options.

    ``labels`` become the ``concat_dim`` coordinate of a nested stack: one per url, or a function
    of the url (e.g. a date parsed from the file name); files skipped by ``on_error="skip"`` drop
    their label.

    The combined dataset's ``virtual_tiff`` attribute lists every source with its
    ETag, last-modified time and size; files skipped with ``on_error="skip"`` are
    listed under ``virtual_tiff.failed`` with the reason. ``progress(done, total)``
    is called as each header is read. ``ifd``, ``max_concurrency``, ``batch_size``,
    ``on_error``, ``progress``, ``executor``: see :class:`~virtual_tiff.ReadOptions`.
    """
    urls = list(urls)
    if not urls:
        raise ValueError("no urls given")
    if isinstance(labels, str):
        raise TypeError(f"labels takes one label per url or a function of the url, not the string {labels!r}; a "
                        "GDAL metadata item of the files is already a coordinate along concat_dim: e.g. "
                        "cube.assign_coords(time=cube['ACQUISITION_DATE'].astype('datetime64[ns]'))")
    if labels is not None and not (combine == "nested" and isinstance(concat_dim, str)):
        raise ValueError("labels label the concat_dim of combine='nested'")
    if labels is not None and not callable(labels) and len(labels) != len(urls):
        raise ValueError(f"{len(labels)} labels for {len(urls)} urls")
    if combine not in ("nested", "by_coords"):
        raise ValueError(f"combine must be 'nested' or 'by_coords', got {combine!r}")
    if combine == "by_coords" and concat_dim is not None:
        raise ValueError("concat_dim has no effect with combine='by_coords'; use combine='nested'")
    batch = read_images(urls, registry, ReadOptions(ifd, max_concurrency, batch_size, on_error, progress, executor))
    kept = kept_images(urls, batch.images, batch.failures)
    images = [image for _, image in kept]
    _check_one_grid(images)
    if labels is not None:  # the kept files' labels: a function of the url, or the given ones in order
        by_url = dict(zip(urls, labels, strict=True)) if not callable(labels) else {u: labels(u) for u, _ in kept}
        labels = [by_url[url] for url, _ in kept]
    if combine == "nested" and isinstance(concat_dim, str) and preprocess is None and attrs_file is None:
        combined = stack_images(images, concat_dim=concat_dim, labels=labels)
    else:
        datasets = [_per_file_dataset(image) for image in images]
        if preprocess is not None:
            datasets = [preprocess(ds) for ds in datasets]
        options: dict[str, Any] = dict(
            compat=compat, data_vars=data_vars, coords=coords, join=join, combine_attrs=combine_attrs
        )
        if combine == "nested":
            combined = xr.combine_nested(datasets, concat_dim=concat_dim, **options)
            if labels is not None:
                combined = combined.assign_coords({concat_dim: np.asarray(labels)})
        else:
            combined = xr.combine_by_coords(datasets, **options)
        if attrs_file is not None:
            combined.attrs = dict(datasets[[url for url, _ in kept].index(attrs_file)].attrs)
        combined.attrs.update(sources_attribute(image.info for image in images))
    record_failures(combined.attrs, batch.failures)
    return combined
