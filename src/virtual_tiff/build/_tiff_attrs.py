"""TIFF facts a user needs to interpret the samples, as array attributes.

virtual-tiff returns samples as stored (palette indices, MinIsWhite values,
raw CIELab, CMYK) like GDAL and tifffile do; these attributes say what the
samples mean so a user can apply a colormap or invert a bilevel image.
"""

from __future__ import annotations

import warnings

import numpy as np

from virtual_tiff.build._chains import decoded_photometric
from virtual_tiff.tiff import IFD, ExtraSamples, Tag

#: The largest palette kept as the ``colormap`` attribute: 8-bit samples' (1 to 8 bits). A 16-bit
#: palette's 65,536 rows are 1.5 MB of JSON that every open parses (a second in xarray).
MAX_COLORMAP_ENTRIES = 256


def tiff_attributes(ifd: IFD) -> dict[str, object]:
    attrs: dict[str, object] = {}
    photometric = decoded_photometric(ifd)
    if photometric is not None:
        attrs["photometric"] = photometric.name
    colormap = ifd.get(Tag.ColorMap)
    if isinstance(colormap, np.ndarray) and colormap.size != 3 * 2 ** min(ifd.bits_per_sample[0], 16):
        # libtiff ignores a ColorMap of another count than 3 x 2**BitsPerSample ("tag ignored"), as
        # GDAL then does: the samples are still right, and a 12.6M-entry map is no attribute.
        warnings.warn(f"{ifd.url}: IFD {ifd.label}: ColorMap of {colormap.size} values for {ifd.bits_per_sample[0]}-bit "
                      "samples ignored", stacklevel=2)
        colormap = None
    if isinstance(colormap, np.ndarray) and colormap.size > 3 * MAX_COLORMAP_ENTRIES:
        warnings.warn(f"{ifd.url}: IFD {ifd.label}: ColorMap of {colormap.size // 3} entries not kept as an "
                      f"attribute (more than {MAX_COLORMAP_ENTRIES}: megabytes of JSON in every zarr.json)",
                      stacklevel=2)
        colormap = None
    if isinstance(colormap, np.ndarray):
        # TIFF stores all reds, then greens, then blues, 16 bits each: rows of (r, g, b) read naturally.
        attrs["colormap"] = colormap.reshape(3, -1).T.astype(int).tolist()
    extra = ifd.get(Tag.ExtraSamples)
    # Not RATIONAL inf/nan; and never more extra samples than samples (libtiff refuses the tag then:
    # a mutated count of 32,767 made as many names).
    if isinstance(extra, np.ndarray) and 0 < extra.size <= ifd.samples_per_pixel and extra.dtype.kind in "ui":
        attrs["extra_samples"] = [_extra_sample_name(int(code)) for code in extra]
    return attrs


def _extra_sample_name(code: int) -> str:
    try:
        return ExtraSamples(code).name
    except ValueError:
        return ExtraSamples.UNSPECIFIED.name
