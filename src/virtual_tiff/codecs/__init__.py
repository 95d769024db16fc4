"""The Zarr codecs no library provides, one per module as zarr-python's are.

Each is registered with zarr on import and through the ``zarr.codecs`` entry point, so a store
that names one opens wherever virtual-tiff is installed; only the files that need one use it.
"""

from virtual_tiff.codecs.bitorder import NAME as BITORDER
from virtual_tiff.codecs.bitorder import Bitorder
from virtual_tiff.codecs.complex_int import NAME as COMPLEX_INT
from virtual_tiff.codecs.complex_int import ComplexInt
from virtual_tiff.codecs.masked_lerc import NAME as MASKED_LERC
from virtual_tiff.codecs.masked_lerc import MaskedLerc, json_number
from virtual_tiff.codecs.reinterpret import NAME as REINTERPRET
from virtual_tiff.codecs.reinterpret import Reinterpret
from virtual_tiff.codecs.short_strip import NAME as SHORT_STRIP
from virtual_tiff.codecs.short_strip import ShortStrip
from virtual_tiff.codecs.ycbcr import NAME as YCBCR
from virtual_tiff.codecs.ycbcr import SUBSAMPLINGS as YCBCR_SUBSAMPLINGS
from virtual_tiff.codecs.ycbcr import YCbCr
from virtual_tiff.codecs.zero_pad import NAME as ZERO_PAD
from virtual_tiff.codecs.zero_pad import ZeroPad

__all__ = [
    "BITORDER",
    "COMPLEX_INT",
    "MASKED_LERC",
    "REINTERPRET",
    "SHORT_STRIP",
    "YCBCR",
    "YCBCR_SUBSAMPLINGS",
    "ZERO_PAD",
    "Bitorder",
    "ComplexInt",
    "MaskedLerc",
    "Reinterpret",
    "ShortStrip",
    "YCbCr",
    "ZeroPad",
    "json_number",
]
