"""A parsed TIFF -> the Zarr hierarchy users see: one image, every IFD side by side, or a tree.

Each image becomes its data array plus, where GDAL wrote one, its ``mask``.
"""

from __future__ import annotations

from virtualizarr.manifests import ManifestArray, ManifestGroup

from virtual_tiff.arrays.array import ifd_to_array, with_dims
from virtual_tiff.levels import Image, images, mask_of
from virtual_tiff.provenance import sources_attribute
from virtual_tiff.tiff.reader import TIFFFile

#: The data variable of each group in the nested layout.
NESTED_VARIABLE = "data"
MASK_VARIABLE = "mask"
#: GDAL's internal masks: 0 where the data is nodata, 1 (255 in GDAL's mask band) where valid.
MASK_ATTRIBUTES = {"flag_values": [0, 1], "flag_meanings": "nodata valid"}


def _suffixed(array: ManifestArray, suffix: str) -> ManifestArray:
    if not suffix:
        return array
    return with_dims(array, tuple(f"{d}_{suffix}" for d in array.metadata.dimension_names))


def image_arrays(image: Image, name: str, size: int, suffix: str = "") -> dict[str, ManifestArray]:
    """The arrays of one image: its data under ``name`` and its mask, on the same y/x dims."""
    data = _suffixed(ifd_to_array(image.ifd, object_size=size), suffix)
    arrays = {name: data}
    if image.mask is not None:
        mask = ifd_to_array(image.mask, object_size=size, attributes=MASK_ATTRIBUTES)
        arrays[MASK_VARIABLE] = with_dims(mask, data.metadata.dimension_names[-2:])
    return arrays


def single(tiff: TIFFFile, index: int) -> ManifestGroup:
    """``ifd=k``: IFD k as array ``"k"``, with its mask."""
    image = Image(tiff.ifds[index], mask_of(index, tiff.ifds))
    return ManifestGroup(
        arrays=image_arrays(image, str(index), tiff.reader.size),
        attributes=sources_attribute([tiff.reader.info]),
    )


def flat(tiff: TIFFFile) -> ManifestGroup:
    """Every main-chain IFD (masks too) as a sibling array ``"k"``.

    Dimension names stay those of IFD 0 where sizes agree and get an ``_k``
    suffix where they differ, so xarray never sees one name with two sizes.
    """
    arrays: dict[str, ManifestArray] = {}
    sizes: dict[str, int] = {}
    for i, ifd in enumerate(tiff.ifds):
        array = ifd_to_array(ifd, object_size=tiff.reader.size)
        dims = tuple(
            d if sizes.setdefault(d, n) == n else f"{d}_{i}"
            for d, n in zip(array.metadata.dimension_names, array.shape, strict=True)
        )
        arrays[str(i)] = with_dims(array, dims)
    return ManifestGroup(arrays=arrays, attributes=sources_attribute([tiff.reader.info]))


def nested(tiff: TIFFFile) -> ManifestGroup:
    """One group per image (``"0"`` full resolution, then overviews or pages), masks inside."""
    groups = {
        str(level): _image_group(image, tiff.reader.size) for level, image in enumerate(images(tiff.ifds))
    }
    return ManifestGroup(groups=groups, attributes=sources_attribute([tiff.reader.info]))


def _image_group(image: Image, size: int) -> ManifestGroup:
    """An image's group, with child groups for its SubIFDs.

    A DataTree child inherits its parent's dimensions, so a SubIFD's dimensions
    carry its path below the main-chain IFD (``y_1`` for SubIFD 1, ``y_1_0``
    for that one's SubIFD 0): the reduced levels of a pyramid cannot clash.
    """
    suffix = "_".join(str(i) for i in image.ifd.path[1:])
    return ManifestGroup(
        arrays=image_arrays(image, NESTED_VARIABLE, size, suffix),
        groups={str(i): _image_group(Image(sub, None), size) for i, sub in enumerate(image.ifd.subifds)},
    )
