"""1-D x and y coordinates of pixel centres, as rioxarray computes them.

The store itself does not hold x/y arrays (they are a pure function of the
transform); this is for callers that ask for them materialised.
"""

from __future__ import annotations

import numpy as np

from virtual_tiff.geo.transform import Affine


def pixel_centres(transform: Affine, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """(x, y) float64 arrays of length width and height; None for a rotated or sheared grid.

    A rotated grid has no 1-D coordinates: x depends on both row and column.
    """
    if not transform.is_rectilinear:
        return None
    height, width = shape
    # Same operation order as rioxarray (origin moved to the first centre, then stepped) so
    # that the values agree bit for bit, which xarray alignment on float indexes needs.
    x = transform.a * np.arange(width, dtype=np.float64) + (transform.a * 0.5 + transform.c)
    y = transform.e * np.arange(height, dtype=np.float64) + (transform.e * 0.5 + transform.f)
    return x, y
