"""A parsed TIFF -> the Zarr hierarchy users see: one image, every IFD side by side, or a tree."""

from __future__ import annotations

from virtualizarr.manifests import ManifestArray, ManifestGroup

from virtual_tiff.build._array import ifd_to_array, with_dims
from virtual_tiff.build._chunks import chunk_grid
from virtual_tiff.build._coords import SPATIAL_REF
from virtual_tiff.build._images import Inherited, describe, image_node
from virtual_tiff.geo import Level, merge_attrs, multiscales_attrs
from virtual_tiff.io import sources_attribute
from virtual_tiff.tiff import Image, TIFFFile, images, is_mask, is_reduced, mask_of

#: The data variable of each group in the nested layout.
NESTED_VARIABLE = "data"


def _base(tiff: TIFFFile, index: int) -> Inherited | None:
    """What a reduced-resolution image inherits: the full-resolution image's georeference and metadata."""
    return describe(tiff.ifds[0]) if index and is_reduced(tiff.ifds[index]) else None


def single(tiff: TIFFFile, index: int) -> ManifestGroup:
    """``ifd=k``: IFD k as array ``"k"``, with its mask and georeferencing."""
    image = Image(tiff.ifds[index], mask_of(index, tiff.ifds))
    node = image_node(image, str(index), tiff.reader.size, base=_base(tiff, index))
    return ManifestGroup(
        arrays=node.arrays, attributes=merge_attrs(sources_attribute([tiff.reader.info]), node.group_attrs)
    )


def flat(tiff: TIFFFile) -> ManifestGroup:
    """Every main-chain IFD (masks too) as a sibling array ``"k"``.

    Dimension names stay those of IFD 0 where sizes agree and get an ``_k``
    suffix where they differ, so xarray never sees one name with two sizes;
    each georeferenced image gets its own grid mapping (``spatial_ref_k``).
    """
    arrays: dict[str, ManifestArray] = {}
    sizes: dict[str, int] = {}
    base = describe(tiff.ifds[0])
    size = tiff.reader.size
    for i, ifd in enumerate(tiff.ifds):
        grid = chunk_grid(ifd)
        dims = tuple(
            d if sizes.setdefault(d, n) == n else f"{d}_{i}" for d, n in zip(grid.dims, grid.shape, strict=True)
        )
        if is_mask(ifd):
            arrays[str(i)] = with_dims(ifd_to_array(ifd, object_size=size), dims)
            continue
        ref = SPATIAL_REF if i == 0 else f"{SPATIAL_REF}_{i}"
        node = image_node(Image(ifd, None), str(i), size, base=base, dims=dims, spatial_ref=ref)
        arrays.update(node.arrays)
    return ManifestGroup(arrays=arrays, attributes=sources_attribute([tiff.reader.info]))


def nested(tiff: TIFFFile) -> ManifestGroup:
    """One group per image (``"0"`` full resolution, then overviews or pages), masks inside.

    The root carries the GeoZarr ``multiscales`` layout of the levels when the
    full-resolution image is georeferenced.
    """
    levels = images(tiff.ifds)
    base = describe(levels[0].ifd)
    groups = {}
    multiscale = []
    for level, image in enumerate(levels):
        group, node_georef = _image_group(image, tiff.reader.size, base if level else None)
        groups[str(level)] = group
        if node_georef is not None:
            multiscale.append(Level(str(level), node_georef.shape, node_georef.transform))
    attrs = sources_attribute([tiff.reader.info])
    if base.georef is not None and len(multiscale) == len(levels):
        attrs = merge_attrs(attrs, multiscales_attrs(multiscale))
    return ManifestGroup(groups=groups, attributes=attrs)


def _image_group(image: Image, size: int, base: Inherited | None):
    """An image's group, with child groups for its SubIFDs.

    A DataTree child inherits its parent's dimensions, so a SubIFD's dimensions
    carry its path below the main-chain IFD (``y_1`` for SubIFD 1, ``y_1_0``
    for that one's SubIFD 0): the reduced levels of a pyramid cannot clash.
    """
    suffix = "_".join(str(i) for i in image.ifd.path[1:])
    dims = tuple(f"{d}_{suffix}" for d in chunk_grid(image.ifd).dims) if suffix else None
    node = image_node(image, NESTED_VARIABLE, size, base=base, dims=dims)
    children = {
        str(i): _image_group(Image(sub, None), size, node.described)[0] for i, sub in enumerate(image.ifd.subifds)
    }
    group = ManifestGroup(arrays=node.arrays, groups=children, attributes=node.group_attrs)
    return group, node.described.georef
