"""``virtual-tiff info URL``: what is inside a TIFF, from its header alone."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from zarr.core.sync import sync

from virtual_tiff.build import Inherited, chunk_grid, describe, ifd_to_array
from virtual_tiff.errors import VirtualTIFFError
from virtual_tiff.io import normalise_url, registry_for
from virtual_tiff.parser import VirtualTIFF
from virtual_tiff.tiff import (
    IFD,
    NewSubfileType,
    PlanarConfiguration,
    TIFFFile,
    is_mask,
)


def _kind(ifd: IFD) -> str:
    if len(ifd.path) > 1:
        return "subifd"
    if is_mask(ifd):
        return "mask"
    if ifd.new_subfile_type & NewSubfileType.REDUCEDIMAGE:
        return "overview"
    return "image" if ifd.path == (0,) else "page"


def ifd_summary(ifd: IFD, size: int, base: Inherited | None) -> dict[str, Any]:
    """One IFD as plain data: geometry, encoding, the Zarr codecs it maps to, georeferencing."""
    out: dict[str, Any] = {"ifd": ifd.label, "kind": _kind(ifd)}
    try:
        grid = chunk_grid(ifd)
        array = ifd_to_array(ifd, object_size=size)
    except VirtualTIFFError as exc:
        out["error"] = f"{type(exc).__name__}: {exc.reason}"
        return out
    out.update(
        width=ifd.width,
        height=ifd.height,
        bands=ifd.samples_per_pixel,
        dtype=str(array.dtype),
        chunks=f"tiles {grid.chunk_width}x{grid.chunk_height}" if ifd.is_tiled
        else f"strips of {grid.chunk_height} rows",
        interleave="band" if ifd.planar_configuration == PlanarConfiguration.SEPARATE else "pixel",
        compression=ifd.compression.name,
        predictor=ifd.predictor.name,
        codecs=[codec.to_dict()["name"] for codec in array.metadata.codecs],
        chunk_count=math.prod(array.manifest.shape_chunk_grid),
    )
    if not is_mask(ifd):
        described = describe(ifd, base)
        georef = described.georef
        if georef is not None:
            crs = georef.crs
            out["crs"] = None if crs is None else (":".join(crs.to_authority()) if crs.to_authority() else crs.name)
            out["transform"] = None if georef.transform is None else list(georef.transform.coefficients)
            out["bounds"] = georef.bounds and list(georef.bounds)
        if described.nodata is not None:
            out["nodata"] = described.nodata
    if ifd.subifds:
        out["subifds"] = [ifd_summary(sub, size, base) for sub in ifd.subifds]
    return out


def tiff_summary(tiff: TIFFFile) -> dict[str, Any]:
    info = tiff.reader.info
    base = describe(tiff.ifds[0])
    return {
        "url": tiff.url,
        "size": info.size,
        "etag": info.etag,
        "last_modified": None if info.last_modified is None else info.last_modified.isoformat(),
        "format": ("BigTIFF" if tiff.header.bigtiff else "TIFF")
        + (" little-endian" if tiff.header.byteorder == "<" else " big-endian"),
        "requests": tiff.reader.requests,
        "bytes_read": tiff.reader.bytes_read,
        "ifds": [ifd_summary(ifd, info.size, None if i == 0 else base) for i, ifd in enumerate(tiff.ifds)],
    }


def _render(summary: dict[str, Any]) -> str:
    lines = [
        f"{summary['url']}",
        f"  {summary['format']}, {summary['size']} bytes, ETag {summary['etag']}",
        f"  header read with {summary['requests']} GET(s), {summary['bytes_read']} bytes",
    ]

    def ifd_lines(entry: dict[str, Any], indent: str) -> None:
        head = f"{indent}IFD {entry['ifd']} ({entry['kind']})"
        if "error" in entry:
            lines.append(f"{head}: {entry['error']}")
            return
        lines.append(
            f"{head}: {entry['width']}x{entry['height']}, {entry['bands']} band(s) {entry['dtype']}, "
            f"{entry['chunks']}, {entry['interleave']} interleave, {entry['compression']}, "
            f"predictor {entry['predictor']}"
        )
        lines.append(f"{indent}  zarr codecs: {' -> '.join(entry['codecs'])}")
        if "crs" in entry:
            lines.append(f"{indent}  crs {entry['crs']}, transform {entry['transform']}, bounds {entry['bounds']}")
        if "nodata" in entry:
            lines.append(f"{indent}  nodata {entry['nodata']}")
        for sub in entry.get("subifds", []):
            ifd_lines(sub, indent + "  ")

    for entry in summary["ifds"]:
        ifd_lines(entry, "  ")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    url = normalise_url(args.url)
    registry = registry_for([url], endpoint=args.endpoint, anonymous=args.anonymous)
    tiff = sync(VirtualTIFF(ifd=None).read_async(url, registry))
    summary = tiff_summary(tiff)
    print(json.dumps(summary, indent=2) if args.json else _render(summary))
    return 0
