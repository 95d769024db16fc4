"""The Zarr layer: a typed IFD in, Zarr v3 array metadata and a chunk manifest out."""
