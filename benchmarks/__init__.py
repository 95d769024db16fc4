"""Read-path benchmarks for virtual-tiff against GDAL, tifffile and async-geotiff (see README.md)."""
