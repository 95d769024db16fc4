"""Shared test helpers: writers, oracles and servers, imported by test modules (never a test module).

- ``virtual``: ``file_url``, ``open_virtual`` and ``load``: how tests open files as virtual datasets.
- ``samples``: deterministic pixel data (``sample_data``) and the default image size.
- ``variants``: :class:`Variant` rows of the feature matrices, written by tifffile or GDAL.
- ``oracles``: the independent readers (tifffile, rasterio) and the pixel comparison against them.
- ``pyramid``: a tifffile pyramid with SubIFDs, and what a nested tree of it must hold.
- ``geotiffs``: tiled GeoTIFFs written by GDAL whose pixels depend on a seed, for stacks and STAC.
- ``tiffbuilder``: the byte-by-byte TIFF builder (classic and BigTIFF, both byte orders) for hostile files.
- ``builds``: bounded builds (time and allocations) and the exact error a hostile file raises.
- ``s3``: the moto S3 bucket wrapper and its request log (the server itself is a fixture in conftest).
- ``faults``: a fault-injecting HTTP proxy for tests of flaky object storage.

Fixtures stay in ``tests/conftest.py``.
"""
