"""Hand-made IFDs: typed views of tags no file holds, for unit tests of what reads them (no file, no GDAL).

Tag values are what :mod:`virtual_tiff.tiff._fields` decodes entries to: 1-D numpy arrays of
numbers, ``str`` for ASCII and ``bytes`` for opaque values.
"""

from __future__ import annotations

import numpy as np

from virtual_tiff.tiff import IFD

URL = "file:///hand-made.tif"


def u16(*values: int) -> np.ndarray:
    """A SHORT entry's values."""
    return np.array(values, dtype="u2")


def u32(*values: int) -> np.ndarray:
    """A LONG entry's values."""
    return np.array(values, dtype="u4")


def hand_made_ifd(tags: dict[int, object], *, byteorder: str = "<", url: str = URL) -> IFD:
    """IFD 0 of ``url``, at offset 8, holding ``tags`` (keyed by :class:`virtual_tiff.tiff.Tag` codes)."""
    return IFD(url=url, path=(0,), offset=8, byteorder=byteorder, tags=dict(tags), subifds=())
