"""The errors virtual-tiff raises.

Every error names where it happened (the file, the IFD and the tag) so that a
user looking at one line of a traceback knows which of thousands of files to
open and what to look for in it.
"""

from __future__ import annotations


class VirtualTIFFError(Exception):
    """Base class: catch this to handle anything virtual-tiff refuses."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        ifd: str | int | None = None,
        tag: str | None = None,
    ) -> None:
        self.url = url
        self.ifd = ifd
        self.tag = tag
        self.reason = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = [part for part in (self.url, _ifd_label(self.ifd), self.tag) if part]
        return ": ".join([*where, self.reason])


def _ifd_label(ifd: str | int | None) -> str | None:
    return None if ifd is None else f"IFD {ifd}"


class NotATIFFError(VirtualTIFFError):
    """The object does not start with a TIFF or BigTIFF header."""


class MalformedTIFFError(VirtualTIFFError):
    """The TIFF structure is inconsistent: loops, absurd counts, bad offsets."""


class TruncatedTIFFError(MalformedTIFFError):
    """A structure or a chunk lies (partly) beyond the end of the object."""


class IFDLoopError(MalformedTIFFError):
    """An IFD offset was reached twice: the chain or the SubIFD tree loops."""


class LimitExceededError(MalformedTIFFError):
    """A count is larger than the configured safety limit allows."""


class UnsupportedTIFFError(VirtualTIFFError):
    """A valid TIFF feature that no Zarr codec chain can decode honestly."""


class IncompatibleFilesError(VirtualTIFFError):
    """Files of one grid whose arrays cannot be one array: sample type, chunks, codecs, nodata or scale differ."""


class MissingIFDError(VirtualTIFFError):
    """The IFD asked for (``ifd=k``, or an overview level of a stack) is not in the file."""


class GridAlignmentError(VirtualTIFFError):
    """Files of one grid cannot be placed in one array without rewriting chunks."""


class MixedGridsError(VirtualTIFFError):
    """The files are on several grids (CRS or pixel size) and one Dataset was asked for.

    ``detail`` says which grids and ``remedy`` what to call instead, in Python
    terms; the message is both. They are kept apart so that the command line
    can give its own remedy (an option, not a keyword argument).
    """

    def __init__(self, detail: str, *, remedy: str | None = None, **where) -> None:
        self.detail = detail
        self.remedy = remedy
        super().__init__(detail if remedy is None else f"{detail}; {remedy}", **where)


class SourceReadError(VirtualTIFFError):
    """The object store could not deliver the bytes: missing object, no access, network."""


class SourceNotFoundError(SourceReadError):
    """The object store says there is no object at the url (deleted, moved, or a wrong url)."""


class CorruptChunkError(SourceReadError):
    """A chunk's bytes do not decode to what the header declares: its size, shape or sample type."""


class SourceChangedError(VirtualTIFFError):
    """The source object changed after the virtual store was built."""


class UnknownCRSWarning(UserWarning):
    """The GeoKeys name a CRS that cannot be rebuilt: the image keeps its transform and x/y, without a CRS.

    GDAL reads such keys as a local (engineering) CRS; the grid is still where the file says.
    """
