"""The TIFF layer: bytes of a header in, typed IFDs out. Knows nothing of Zarr."""
