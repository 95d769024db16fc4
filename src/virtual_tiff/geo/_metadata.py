"""GDAL's private TIFF tags: GDAL_METADATA (XML items) and GDAL_NODATA (text).

These carry what CF calls ``scale_factor``/``add_offset``, ``long_name``,
``units`` and ``_FillValue``: GDAL writes per-band items with a ``sample``
attribute and a ``role`` (scale, offset, description, unittype), and
dataset items without one, optionally in a named ``domain``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from virtual_tiff.errors import MalformedTIFFError
from virtual_tiff.tiff import IFD, Tag

_INTEGER = re.compile(r"[+-]?[0-9]+")
#: Longer than any number GDAL writes (``%.18g``, or a 64-bit integer): refused before parsing.
_MAX_NUMBER_CHARS = 64

#: Text-valued roles and the BandMetadata field each fills.
_TEXT_ROLES = {"description": "description", "unittype": "units"}


@dataclass(frozen=True)
class Items:
    """Free-form items: the default domain, and named domains (e.g. ``IMAGE_STRUCTURE``)."""

    items: dict[str, str] = field(default_factory=dict)
    domains: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class BandMetadata(Items):
    """One band's items; the role-tagged ones decoded, the rest left as text."""

    scale: float | None = None
    offset: float | None = None
    description: str | None = None
    units: str | None = None


@dataclass(frozen=True)
class GDALMetadata:
    """Dataset items (e.g. ``AREA_OR_POINT``) and bands by 0-based sample index."""

    dataset: Items = field(default_factory=Items)
    bands: dict[int, BandMetadata] = field(default_factory=dict)


def _over_items(own: Items, base: Items) -> dict:
    domains = {name: {**base.domains.get(name, {}), **items} for name, items in own.domains.items()}
    return {"items": {**base.items, **own.items}, "domains": {**base.domains, **domains}}


def inherit_metadata(own: GDALMetadata | None, base: GDALMetadata | None) -> GDALMetadata | None:
    """A reduced-resolution image's metadata: the full-resolution image's, with what the overview
    states itself on top. GDAL writes an overview's own GDAL_METADATA with only how it was made
    (``RESAMPLING``); its pixels are the same quantity, so the scale, offset, descriptions and
    dataset items of the full resolution still hold (else a stack's overview level read raw DNs
    where full resolution read reflectances)."""
    if own is None or base is None:
        return own if base is None else base
    bands = dict(base.bands)
    for i, band in own.bands.items():
        under = base.bands.get(i, BandMetadata())
        bands[i] = BandMetadata(
            **_over_items(band, under),
            scale=under.scale if band.scale is None else band.scale,
            offset=under.offset if band.offset is None else band.offset,
            description=band.description or under.description,
            units=band.units or under.units,
        )
    return GDALMetadata(dataset=Items(**_over_items(own.dataset, base.dataset)), bands=bands)


def parse_gdal_metadata(ifd: IFD) -> GDALMetadata | None:
    """The IFD's GDAL_METADATA, or None when it has none."""
    text = _text(ifd, Tag.GDAL_METADATA)
    if text is None or not text.strip():
        return None
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise ifd.error(MalformedTIFFError, Tag.GDAL_METADATA, f"not well-formed XML: {e}") from None
    if root.tag != "GDALMetadata":
        raise ifd.error(MalformedTIFFError, Tag.GDAL_METADATA, f"root element is <{root.tag}>, not <GDALMetadata>")
    dataset = Items()
    bands: dict[int, dict[str, float | str]] = {}
    band_items: dict[int, Items] = {}
    for item in root.iter("Item"):
        name, value = item.get("name"), item.text or ""
        if name is None:
            raise ifd.error(MalformedTIFFError, Tag.GDAL_METADATA, "an <Item> has no name")
        sample = item.get("sample")
        if sample is None:
            _put(dataset, item.get("domain"), name, value)
            continue
        if not (sample.isascii() and sample.isdigit()) or len(sample) > 5:
            raise ifd.error(MalformedTIFFError, Tag.GDAL_METADATA, f"item {name!r} has sample={sample!r}")
        index = int(sample)
        decoded = bands.setdefault(index, {})
        role = item.get("role")
        if role in ("scale", "offset"):
            decoded[role] = _number(ifd, name, value)
        elif role in _TEXT_ROLES:
            decoded[_TEXT_ROLES[role]] = value
        else:
            _put(band_items.setdefault(index, Items()), item.get("domain"), name, value)
    return GDALMetadata(
        dataset=dataset,
        bands={
            index: BandMetadata(
                items=band_items.get(index, Items()).items,
                domains=band_items.get(index, Items()).domains,
                **bands.get(index, {}),  # type: ignore[arg-type]
            )
            for index in sorted(bands.keys() | band_items.keys())
        },
    )


def parse_nodata(ifd: IFD) -> int | float | None:
    """GDAL_NODATA as a number: an int when written as one (exact for 64-bit integers), else a float.

    GDAL writes ``nan``, ``inf`` and ``-inf`` for those values, which ``float`` reads.
    """
    text = _text(ifd, Tag.GDAL_NODATA)
    if text is None:
        return None
    text = text.strip()
    if len(text) > _MAX_NUMBER_CHARS:
        raise ifd.error(MalformedTIFFError, Tag.GDAL_NODATA, f"{len(text)} characters, not a number GDAL writes")
    if _INTEGER.fullmatch(text):
        return int(text)
    try:
        return float(text)
    except ValueError:
        raise ifd.error(MalformedTIFFError, Tag.GDAL_NODATA, f"{text!r} is not a number") from None


def _text(ifd: IFD, tag: int) -> str | None:
    value = ifd.get(tag)
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.split(b"\x00", 1)[0].decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise ifd.error(MalformedTIFFError, tag, "expected ASCII text")
    return value


def _put(target: Items, domain: str | None, name: str, value: str) -> None:
    if domain:
        target.domains.setdefault(domain, {})[name] = value
    else:
        target.items[name] = value


def _number(ifd: IFD, name: str, text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ifd.error(MalformedTIFFError, Tag.GDAL_METADATA, f"item {name!r} is {text!r}, not a number") from None
