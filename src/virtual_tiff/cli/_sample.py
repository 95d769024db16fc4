"""The embedded sample: a 512 x 512 uint16 COG (Deflate + predictor 2, one overview, EPSG:32633).

Shipped inside the package so the first command of the README needs no
network; ``scripts/make_sample.py`` is how GDAL wrote it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def sample_path() -> Path:
    return Path(str(files("virtual_tiff") / "data" / "sample_cog.tif"))


def sample_url() -> str:
    return sample_path().resolve().as_uri()
