"""Which files can share one array, and where each lies in it.

Files stack when they are on one *grid family*: same CRS, same pixel size and
orientation (the affine's a, b, d, e). Their origins may differ by whole
pixels (ragged extents, e.g. scenes of one UTM zone clipped to their
footprint): they are then placed in the union extent, and the chunks no file
covers are manifest entries with path ``""``, which readers fill with the
array's fill value (``_FillValue``: the files' nodata, else 0). That is only
honest when every file's chunks fall on the union's chunk grid:

* its offset in the union is a whole number of chunks, in rows and columns;
* its extent is a whole number of chunks, except where it ends at the union's
  last row/column: a TIFF's last tile is padded, and its padding would
  otherwise show up inside the union instead of the fill value (Zarr's regular
  grid has no chunk that decodes to more than it covers; see VirtualiZarr
  issue 1078 and zarr-specs issue 394 on rectilinear grids).

Otherwise :class:`GridAlignmentError` says which file and why. Files of
different families go to different groups of a DataTree, named after the CRS
and resolution (:func:`group_names`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyproj

from virtual_tiff.errors import GridAlignmentError, MixedGridsError, VirtualTIFFError
from virtual_tiff.geo import Affine, pixel_centres

#: Origins this close to a whole pixel (in pixels) count as on the lattice: float round-off in transforms.
PIXEL_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Grid:
    """A file's georeferenced grid: CRS (WKT, None if unstated), GDAL GeoTransform, shape (rows, columns)."""

    crs_wkt: str | None
    transform: tuple[float, float, float, float, float, float] | None
    shape: tuple[int, int]

    @property
    def family(self) -> tuple:
        """What files must share to live in one array: CRS, pixel size and orientation.

        Without a transform, the shape too: there is no way to place them otherwise.
        """
        if self.transform is None:
            return (self.crs_wkt, None, self.shape)
        _, a, b, _, d, e = self.transform
        return (self.crs_wkt, (a, b, d, e), None)

    @property
    def rotated(self) -> bool:
        return self.transform is not None and (self.transform[2] != 0 or self.transform[4] != 0)


def grid_from_attrs(spatial_ref_attrs: dict[str, Any], shape: tuple[int, int]) -> Grid:
    """The grid described by a ``spatial_ref`` variable's CF attributes and the data's (rows, columns)."""
    wkt = spatial_ref_attrs.get("crs_wkt")
    text = spatial_ref_attrs.get("GeoTransform")
    transform = None if text is None else tuple(float(v) for v in str(text).split())
    if transform is not None and len(transform) != 6:
        raise VirtualTIFFError(f"GeoTransform {text!r} does not have 6 numbers")
    return Grid(wkt, transform, tuple(shape))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Placement:
    """The union grid of a family and each file's (row, column) offset in it, in pixels."""

    grid: Grid
    offsets: tuple[tuple[int, int], ...]


def place(grids: Sequence[Grid]) -> Placement:
    """The smallest grid holding every grid of one family, and where each lies in it.

    Raises :class:`GridAlignmentError` when origins differ by a fraction of a
    pixel or the grids are rotated and not identical.
    """
    first = grids[0]
    if any(g.family != first.family for g in grids):
        raise MixedGridsError("grids of different CRS or pixel size cannot share one array")
    if all(g == first for g in grids):
        return Placement(first, tuple((0, 0) for _ in grids))
    if first.transform is None or first.rotated:
        raise GridAlignmentError("files on rotated or ungeoreferenced grids must have identical grids to stack")
    x0, a, _, y0, _, e = first.transform
    rows, cols = [], []
    for g in grids:
        col, row = (g.transform[0] - x0) / a, (g.transform[3] - y0) / e  # type: ignore[index]
        if abs(col - round(col)) > PIXEL_TOLERANCE or abs(row - round(row)) > PIXEL_TOLERANCE:
            raise GridAlignmentError(
                f"origin ({g.transform[0]}, {g.transform[3]}) is {col:.3f}, {row:.3f} pixels from "  # type: ignore[index]
                f"({x0}, {y0}): not on the same pixel lattice; resample, or open as separate groups"
            )
        rows.append(round(row))
        cols.append(round(col))
    top, left = min(rows), min(cols)
    offsets = tuple((r - top, c - left) for r, c in zip(rows, cols, strict=True))
    height = max(r + g.shape[0] for (r, _), g in zip(offsets, grids, strict=True))
    width = max(c + g.shape[1] for (_, c), g in zip(offsets, grids, strict=True))
    transform = (x0 + left * a, a, 0.0, y0 + top * e, 0.0, e)
    return Placement(Grid(first.crs_wkt, transform, (height, width)), offsets)


def check_chunk_aligned(placement: Placement, shapes: Sequence[tuple[int, int]], chunk: tuple[int, int],
                        names: Sequence[str]) -> None:
    """Refuse a placement whose files' chunks would not land on the union's chunk grid (see module doc)."""
    height, width = placement.grid.shape
    for (row, col), (h, w), name in zip(placement.offsets, shapes, names, strict=True):
        for what, off, size, full, step in (("row", row, h, height, chunk[0]), ("column", col, w, width, chunk[1])):
            if off % step:
                raise GridAlignmentError(
                    f"lies {off} {what}s into the union extent, not a multiple of its {step}-pixel chunks: "
                    "its chunks cannot be referenced in place", url=name)
            if (off + size) % step and off + size != full:
                raise GridAlignmentError(
                    f"its {size} {what}s are not a whole number of {step}-pixel chunks and it does not end at the "
                    f"union's edge: its padded last chunk would show inside the union", url=name)


def grid_centres(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """1-D x and y pixel-centre coordinates of a north-up grid, as every file's own coordinates are computed."""
    x0, a, b, y0, d, e = grid.transform  # type: ignore[misc]
    centres = pixel_centres(Affine(a, b, x0, d, e, y0), grid.shape)
    assert centres is not None, "a rotated grid has no 1-D coordinates"
    return centres


def group_names(grids: Sequence[Grid]) -> list[str]:
    """Readable, stable DataTree group names, one per grid family: ``EPSG_32633_10m``.

    ``EPSG_<code>`` when the CRS has one (else its name, made safe), then the
    pixel size with the CRS's unit (``10m``, ``0.0001deg``; ``10x20m`` when x
    and y differ); ``no_crs`` / ``<rows>x<cols>px`` without them. A clash gets
    ``_2``, ``_3`` ... in order of first appearance.
    """
    names: list[str] = []
    for grid in grids:
        base = _crs_label(grid.crs_wkt) + "_" + _resolution_label(grid)
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}_{n}"
        names.append(name)
    return names


def _crs_label(wkt: str | None) -> str:
    if wkt is None:
        return "no_crs"
    crs = pyproj.CRS.from_wkt(wkt)
    code = crs.to_epsg()
    return f"EPSG_{code}" if code is not None else re.sub(r"\W+", "_", crs.name).strip("_")


def _resolution_label(grid: Grid) -> str:
    if grid.transform is None:
        return f"{grid.shape[0]}x{grid.shape[1]}px"
    _, a, b, _, d, e = grid.transform
    unit = _unit(grid.crs_wkt)
    xres, yres = math.hypot(a, d), math.hypot(b, e)
    return f"{xres:g}{unit}" if math.isclose(xres, yres) else f"{xres:g}x{yres:g}{unit}"


def _unit(wkt: str | None) -> str:
    if wkt is None:
        return "px"
    axes = pyproj.CRS.from_wkt(wkt).axis_info
    unit = axes[0].unit_name if axes else ""
    return {"metre": "m", "meter": "m", "degree": "deg", "US survey foot": "ftUS", "foot": "ft"}.get(unit, "")
