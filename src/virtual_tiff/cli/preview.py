"""``virtual-tiff preview URL --out preview.png``: a quick look, read through the virtual store.

It reads the coarsest level at least ``--size`` pixels on its longer side, so
a preview of a large COG costs a few of its smallest tiles, not the image.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def choose_level(shapes: list[tuple[int, int]], size: int) -> int:
    """The coarsest level whose longer side is at least ``size`` (level 0 if none is)."""
    for level in sorted(range(len(shapes)), key=lambda i: max(shapes[i])):
        if max(shapes[level]) >= size:
            return level
    return 0


def stretch(values: np.ndarray, low: float = 2, high: float = 98) -> np.ndarray:
    """Percentile stretch to 0..255, ignoring NaN (nodata)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(values.shape, np.uint8)
    lo, hi = np.percentile(finite, [low, high])
    scaled = (values - lo) / (hi - lo if hi > lo else 1)
    return (np.clip(np.nan_to_num(scaled, nan=0), 0, 1) * 255).astype(np.uint8)


def render(data: np.ndarray, attrs: dict, mask: np.ndarray | None) -> np.ndarray:
    """An ``(h, w, 3 or 4)`` or ``(h, w)`` uint8 picture of a ``(y, x)`` or ``(band, y, x)`` array."""
    if attrs.get("photometric") == "PALETTE" and "colormap" in attrs and data.ndim == 2:
        colormap = (np.asarray(attrs["colormap"]) // 257).astype(np.uint8)
        picture = colormap[np.clip(np.nan_to_num(data), 0, len(colormap) - 1).astype(int)]
    elif data.ndim == 3 and data.shape[0] >= 3:
        picture = np.stack([stretch(band) for band in data[:3]], axis=-1)
    else:
        picture = stretch(data if data.ndim == 2 else data[0])
    invalid = ~np.isfinite(data if data.ndim == 2 else data[0])
    if mask is not None:
        invalid |= mask == 0
    if invalid.any():
        rgb = picture if picture.ndim == 3 else np.repeat(picture[..., None], 3, axis=-1)
        alpha = np.where(invalid, 0, 255).astype(np.uint8)
        picture = np.concatenate([rgb[..., :3], alpha[..., None]], axis=-1)
    return picture


def run(args: argparse.Namespace) -> int:
    import imagecodecs
    import xarray as xr

    from virtual_tiff.io import normalise_url, registry_for
    from virtual_tiff.parser import VirtualTIFF

    url = normalise_url(args.url)
    registry = registry_for([url], endpoint=args.endpoint, anonymous=args.anonymous)
    store = VirtualTIFF(ifd=None, ifd_layout="nested")(url=url, registry=registry)
    tree = xr.open_datatree(store, engine="zarr", zarr_format=3, consolidated=False)
    names = sorted(tree.children, key=int)
    shapes = [tuple(tree[name]["data"].shape[-2:]) for name in names]
    level = names[choose_level(shapes, args.size)]
    node = tree[level]
    values = node["data"].values
    # Complex samples (SAR: CInt16, CFloat32) show as their amplitude, as SAR quick looks do.
    data = (np.abs(values) if np.iscomplexobj(values) else values).astype(np.float64)
    mask = node["mask"].values if "mask" in node else None
    picture = render(data, dict(node["data"].attrs), mask)
    Path(args.out).write_bytes(imagecodecs.png_encode(picture))
    print(f"{args.out}: level {level} ({picture.shape[1]}x{picture.shape[0]}) of {url}")
    return 0
