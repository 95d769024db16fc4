"""Stacks with their overviews: one group per level, each stacked along time, georeferenced.

Specification: ``open_multiscale`` gives a lazy DataTree whose group ``"k"`` is the k-th level of
every file (``"0"`` full resolution) stacked along time, pixels equal to rasterio's overview reads,
transforms equal to rasterio's, the GeoZarr ``multiscales`` attribute on the root; the same code
runs on a coarse level and at full resolution. ``resolution=`` picks the coarsest level at least
that fine. A file without one of the levels is named.
"""

from __future__ import annotations

import numpy as np
import pytest
import rioxarray  # noqa: F401 - the .rio accessor

from tests.helpers.virtual import file_url
from virtual_tiff import MissingIFDError, open_mfdataset, open_multiscale


def write_cogs(folder, n=3, overviews=2):
    """``n`` 512² COGs (128-pixel tiles, ``overviews`` levels, 10 m), each with its own acquisition date."""
    import rasterio
    from rasterio.transform import from_origin

    paths = []
    for k in range(n):
        rows, cols = np.mgrid[0:512, 0:512]
        data = ((rows * 3 + cols * 7 + 101 * k) % 4000).astype("uint16")[None]
        path = folder / f"cog_{k}_{overviews}.tif"
        with rasterio.open(path, "w", driver="COG", height=512, width=512, count=1, dtype="uint16",
                           crs="EPSG:32633", transform=from_origin(500_000, 5_000_000, 10, 10), blocksize=128,
                           compress="DEFLATE", overview_count=overviews, overview_resampling="average") as dst:
            dst.write(data)
            dst.update_tags(ACQUISITION_DATE=f"2024-05-{k + 1:02d}")
        paths.append(path)
    return paths


def overview(path, level):
    """rasterio's read and transform of level ``level`` (0: full resolution)."""
    import rasterio

    with rasterio.open(path, overview_level=level - 1) if level else rasterio.open(path) as src:
        return src.read(1), src.transform


def test_every_level_is_a_georeferenced_time_stack(tmp_path, registry):
    paths = write_cogs(tmp_path)
    tree = open_multiscale([file_url(p) for p in paths], registry)
    assert list(tree.children) == ["0", "1", "2"]
    assert [entry["asset"] for entry in tree.attrs["multiscales"]["layout"]] == ["0", "1", "2"]
    for level in range(3):
        ds = tree[str(level)].to_dataset()
        truth = [overview(p, level) for p in paths]
        np.testing.assert_array_equal(ds["data"].values, np.stack([data for data, _ in truth]))
        assert ds.rio.transform() == truth[0][1]
        assert ds.rio.crs.to_epsg() == 32633
    means = {level: float(tree[level]["data"].mean()) for level in ("2", "0")}  # the same code on both
    assert abs(means["2"] - means["0"]) < 5


def test_resolution_picks_the_coarsest_level_at_least_that_fine(tmp_path, registry):
    paths = write_cogs(tmp_path)
    urls = [file_url(p) for p in paths]
    for asked, level in ((40, 2), (39, 1), (20, 1), (10, 0), (5, 0)):
        cube = open_mfdataset(urls, registry, combine="nested", concat_dim="time", resolution=asked)
        assert cube.rio.resolution()[0] == 10 * 2**level
        np.testing.assert_array_equal(cube["0"].values[1], overview(paths[1], level)[0])  # "0" at every level


def test_a_file_without_a_level_is_named(tmp_path, registry):
    paths = write_cogs(tmp_path, n=2) + write_cogs(tmp_path, n=1, overviews=1)
    with pytest.raises(MissingIFDError) as info:
        open_multiscale([file_url(p) for p in paths], registry)
    assert paths[-1].name in str(info.value) and "has no level 2" in str(info.value) and "levels=" in str(info.value)
    tree = open_multiscale([file_url(p) for p in paths], registry, levels=[0, 1])  # the levels every file has
    assert list(tree.children) == ["0", "1"]


def test_a_resolution_some_file_has_no_level_for_is_named(tmp_path, registry):
    paths = write_cogs(tmp_path, n=2) + write_cogs(tmp_path, n=1, overviews=1)
    urls = [file_url(p) for p in paths]
    with pytest.raises(MissingIFDError) as info:
        open_mfdataset(urls, registry, combine="nested", concat_dim="time", resolution=40)
    assert paths[-1].name in str(info.value) and "has no level 2" in str(info.value)
    assert "resolution=40" in str(info.value)
    assert open_mfdataset(urls, registry, combine="nested", concat_dim="time", resolution=20).rio.resolution()[0] == 20


@pytest.mark.parametrize("writer", ["gtiff-build-overviews", "cog"])
def test_every_level_means_what_full_resolution_means(writer, tmp_path, registry):
    """Scale, offset, nodata and each scene's own metadata hold at every level: GDAL writes an
    overview's own GDAL_METADATA with only how it was resampled, and the stack must not read raw
    numbers at a coarse level where full resolution reads reflectances."""
    import rasterio
    from rasterio.enums import Resampling
    from rasterio.transform import from_origin

    paths = []
    for k in range(2):
        path = tmp_path / f"{writer}_{k}.tif"
        rows, cols = np.mgrid[0:512, 0:512]
        data = ((rows * 5 + cols * 3 + 7 * k) % 9000 + 1).astype("uint16")
        data[:64, :64] = 0  # nodata
        options = (dict(driver="COG", blocksize=128, overview_count=2, overview_resampling="nearest")
                   if writer == "cog" else dict(driver="GTiff", tiled=True, blockxsize=128, blockysize=128))
        with rasterio.open(path, "w", height=512, width=512, count=1, dtype="uint16", crs="EPSG:32633",
                           transform=from_origin(500_000, 5_000_000, 10, 10), compress="DEFLATE", nodata=0,
                           **options) as dst:
            dst.write(data[None])
            dst.scales, dst.offsets = (0.0001,), (-0.1,)
            dst.update_tags(ACQUISITION_DATE=f"2024-05-{k + 1:02d}")
            if writer != "cog":
                dst.build_overviews([2, 4], Resampling.nearest)
        paths.append(path)
    urls = [file_url(p) for p in paths]
    cube = open_mfdataset(urls, registry, combine="nested", concat_dim="time", resolution=20)
    tree = open_multiscale(urls, registry)
    raw = np.stack([overview(p, 1)[0] for p in paths])
    truth = np.where(raw == 0, np.nan, raw * 0.0001 - 0.1)
    np.testing.assert_allclose(cube["0"].values, truth, rtol=1e-6)
    np.testing.assert_allclose(tree["1"]["data"].values, truth, rtol=1e-6)
    assert list(cube["ACQUISITION_DATE"].values) == ["2024-05-01", "2024-05-02"]
    full = open_mfdataset(urls, registry, combine="nested", concat_dim="time")["0"].values
    raw = np.stack([overview(p, 0)[0] for p in paths])
    np.testing.assert_allclose(full, np.where(raw == 0, np.nan, raw * 0.0001 - 0.1), rtol=1e-6)
