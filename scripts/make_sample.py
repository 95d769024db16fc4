"""Write the embedded sample: a small georeferenced COG with one overview, made by GDAL.

Run with ``uv run python scripts/make_sample.py``; the result is committed at
``src/virtual_tiff/data/sample_cog.tif`` so the demo needs no network and no GDAL.
"""

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

OUT = Path(__file__).resolve().parents[1] / "src" / "virtual_tiff" / "data" / "sample_cog.tif"


def main() -> None:
    y, x = np.mgrid[0:512, 0:512]
    terrain = 1200 + 300 * np.sin(x / 60.0) * np.cos(y / 45.0) + 0.8 * x - 0.5 * y
    data = terrain.astype("uint16")[np.newaxis]
    profile = dict(
        driver="COG",
        height=512,
        width=512,
        count=1,
        dtype="uint16",
        crs="EPSG:32633",
        transform=from_origin(500000.0, 5600000.0, 30.0, 30.0),
        nodata=0,
        compress="DEFLATE",
        predictor=2,
        blocksize=256,
        overview_count=1,
    )
    with rasterio.open(OUT, "w", **profile) as dst:
        dst.write(data)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
