"""Which IFDs are images and which are their masks: GDAL's layout of a TIFF's main chain.

GDAL writes a dataset's internal nodata mask as a separate IFD with
NewSubfileType MASK (and MASK | REDUCEDIMAGE for the masks of overviews). A
mask belongs to the image of the same size that precedes it; it is a
``mask`` variable beside that image, never an image or overview of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from virtual_tiff.tiff._ifd import IFD
from virtual_tiff.tiff._tags import NewSubfileType, Tag
from virtual_tiff.tiff._walk import StopWalk


@dataclass(frozen=True, eq=False)
class Image:
    """One image of the main chain (full resolution, overview or page) and its mask IFD."""

    ifd: IFD
    mask: IFD | None


def is_mask(ifd: IFD) -> bool:
    return bool(ifd.new_subfile_type & NewSubfileType.MASK)


def is_reduced(ifd: IFD) -> bool:
    """A reduced-resolution version of another image: an overview (NewSubfileType REDUCEDIMAGE) or a SubIFD.

    Only these inherit the full-resolution image's georeferencing, nodata and GDAL metadata (they
    carry none of their own, as GDAL writes them); a page of a multi-page TIFF is an image of its own.
    """
    return bool(ifd.new_subfile_type & NewSubfileType.REDUCEDIMAGE) or len(ifd.path) > 1


def _size(ifd: IFD) -> tuple[int, int] | None:
    if Tag.ImageWidth not in ifd.tags or Tag.ImageLength not in ifd.tags:
        return None
    return ifd.height, ifd.width


def mask_of(index: int, ifds: Sequence[IFD]) -> IFD | None:
    """The first one-sample mask after IFD ``index`` with its size, unless a new page starts first."""
    image = ifds[index]
    for ifd in ifds[index + 1 :]:
        if is_mask(ifd) and _size(ifd) == _size(image) and ifd.samples_per_pixel == 1:
            return ifd
        if not ifd.new_subfile_type & (NewSubfileType.MASK | NewSubfileType.REDUCEDIMAGE):
            return None
    return None


def images(ifds: Sequence[IFD]) -> list[Image]:
    """The main chain's images in order, each with its mask: what the nested layout shows."""
    return [Image(ifd, mask_of(i, ifds)) for i, ifd in enumerate(ifds) if not is_mask(ifd)]


def walk_until_mask_of(index: int) -> StopWalk:
    """For ``ifd=index``: walk past it only as far as its mask can be (overviews and masks)."""

    def stop(walked: Sequence[IFD]) -> bool:
        if len(walked) <= index + 1:
            return False
        last = walked[-1]
        if is_mask(last) and _size(last) == _size(walked[index]):
            return True
        return not last.new_subfile_type & (NewSubfileType.MASK | NewSubfileType.REDUCEDIMAGE)

    return stop
