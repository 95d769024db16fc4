"""STAC Items as a virtual datacube: assets as variables, datetimes as time, grids as groups."""

from __future__ import annotations

import json

import numpy as np
import pystac
import pytest
import rioxarray  # noqa: F401 - the .rio accessor the tests check CRSs with
import xarray as xr

from tests.helpers.geotiffs import write_geotiff
from tests.helpers.oracles import read_rasterio
from tests.helpers.virtual import file_url, load
from virtual_tiff import MixedGridsError, VirtualTIFFError, open_stac

ASSETS = ("red", "nir")


def collection(folder, n=12, *, href=file_url, crs=lambda i: "EPSG:32633", res=lambda key: 10.0, times=None):
    """n items (shuffled), each with a red and a nir asset written by rasterio; returns (dict, paths by item id)."""
    order = np.random.default_rng(0).permutation(n)
    features, paths = [], {}
    for i in order:
        item_id = f"scene-{i:02d}"
        stamp = times[i] if times else f"2024-{1 + i % 12:02d}-{1 + i // 12:02d}T10:00:00Z"
        assets = {}
        for b, key in enumerate(ASSETS):
            path = write_geotiff(folder / f"{item_id}-{key}.tif", seed=10 * i + b, crs=crs(i), res=res(key))
            paths[(item_id, key)] = path
            assets[key] = {"href": href(path), "type": "image/tiff; application=geotiff",
                           "eo:bands": [{"name": f"B{b + 4:02d}", "common_name": key}]}
        features.append({"type": "Feature", "stac_version": "1.0.0", "id": item_id, "geometry": None,
                         "properties": {"datetime": stamp}, "assets": assets, "links": []})
    return {"type": "FeatureCollection", "features": features}, paths


def expected(doc, paths, key):
    """``xr.concat`` of rasterio reads, in datetime order: the oracle."""
    ids = [f["id"] for f in sorted(doc["features"], key=lambda f: f["properties"]["datetime"])]
    return xr.concat([xr.DataArray(read_rasterio(paths[(i, key)]), dims=("y", "x")) for i in ids], dim="time").values


FORMS = {
    "pystac ItemCollection": lambda doc, tmp: pystac.ItemCollection.from_dict(doc),
    "list of pystac Items": lambda doc, tmp: [pystac.Item.from_dict(f) for f in doc["features"]],
    "dict": lambda doc, tmp: doc,
    "JSON text": lambda doc, tmp: json.dumps(doc),
    "JSON file": lambda doc, tmp: (tmp / "items.json").write_text(json.dumps(doc)) and str(tmp / "items.json"),
}


@pytest.mark.parametrize("form", FORMS.values(), ids=FORMS.keys())
def test_twelve_local_items_equal_rasterio_reads_in_time_order(tmp_path, registry, form):
    doc, paths = collection(tmp_path)
    ds = open_stac(form(doc, tmp_path), assets=list(ASSETS), registry=registry)
    assert list(ds.data_vars) == list(ASSETS)
    times = ds["time"].values
    assert len(times) == 12 and np.all(times[1:] > times[:-1])
    assert times[0] == np.datetime64("2024-01-01T10:00:00", "ns")
    for key in ASSETS:
        np.testing.assert_array_equal(load(ds[key], registry), expected(doc, paths, key))
    assert len(ds.attrs["virtual_tiff"]["sources"]) == 24
    assert ds.rio.crs.to_epsg() == 32633


def test_twelve_items_on_s3_equal_rasterio_reads(tmp_path, s3):
    doc, paths = collection(tmp_path, href=lambda p: s3.upload(p, f"stac/{p.name}"))
    s3.log.clear()
    ds = open_stac(pystac.ItemCollection.from_dict(doc), assets=list(ASSETS), registry=s3.registry())
    assert sum(s3.log.count("GET", f"stac/{p.name}") for p in paths.values()) == 24  # one GET per header
    for key in ASSETS:
        np.testing.assert_array_equal(load(ds[key], s3.registry()), expected(doc, paths, key))


def test_eo_bands_names_and_default_assets(tmp_path, registry):
    doc, _ = collection(tmp_path, n=2)
    ds = open_stac(doc, registry=registry, variable_names="eo:bands")
    assert list(ds.data_vars) == ["B04", "B05"]


DUPLICATES = {"keep": ["a", "b", "c"], "first": ["a", "c"], "last": ["b", "c"]}


@pytest.mark.parametrize("policy, kept", DUPLICATES.items(), ids=DUPLICATES.keys())
def test_items_at_one_datetime_on_one_grid(tmp_path, registry, policy, kept):
    doc, _ = collection(tmp_path, n=3, times=["2024-05-01T00:00:00Z"] * 2 + ["2024-06-01T00:00:00Z"])
    for feature, name in zip(sorted(doc["features"], key=lambda f: f["id"]), "abc"):
        feature["id"] = name
    ds = open_stac(doc, assets=["red"], registry=registry, duplicates=policy)
    assert ds.sizes["time"] == len(kept)
    urls = np.asarray(ds["red"].data.manifest._paths)[:, 0, 0]
    assert [u.rsplit("/", 1)[1][:8] for u in urls] == [f"scene-{0 if k == 'a' else 1 if k == 'b' else 2:02d}" for k in kept]


def test_duplicates_can_be_refused(tmp_path, registry):
    doc, _ = collection(tmp_path, n=2, times=["2024-05-01T00:00:00Z"] * 2)
    with pytest.raises(VirtualTIFFError, match="share datetime"):
        open_stac(doc, assets=["red"], registry=registry, duplicates="raise")


def test_two_utm_zones_need_a_tree(tmp_path, registry):
    doc, paths = collection(tmp_path, n=4, crs=lambda i: "EPSG:32633" if i % 2 else "EPSG:32634")
    with pytest.raises(MixedGridsError, match="EPSG_32634_10m, EPSG_32633_10m|EPSG_32633_10m, EPSG_32634_10m"):
        open_stac(doc, assets=list(ASSETS), registry=registry)
    tree = open_stac(doc, assets=list(ASSETS), registry=registry, group_by="grid")
    assert sorted(tree.children) == ["EPSG_32633_10m", "EPSG_32634_10m"]
    zone33 = tree["EPSG_32633_10m"].to_dataset()
    assert zone33.sizes["time"] == 2 and list(zone33.data_vars) == list(ASSETS)
    np.testing.assert_array_equal(load(zone33["nir"], registry)[0], read_rasterio(paths[("scene-01", "nir")]))


def test_assets_at_two_resolutions_go_to_two_groups(tmp_path, registry):
    doc, _ = collection(tmp_path, n=3, res=lambda key: 10.0 if key == "red" else 20.0)
    tree = open_stac(doc, registry=registry, group_by="grid")
    assert {k: list(node.data_vars) for k, node in tree.children.items()} == {
        "EPSG_32633_10m": ["red"], "EPSG_32633_20m": ["nir"]}
    assert all(node.sizes["time"] == 3 for node in tree.children.values())


def test_missing_asset_is_named(tmp_path, registry):
    doc, _ = collection(tmp_path, n=2)
    del doc["features"][1]["assets"]["nir"]
    with pytest.raises(VirtualTIFFError, match=f"{doc['features'][1]['id']}.*no asset 'nir'"):
        open_stac(doc, assets=list(ASSETS), registry=registry)


def test_relative_hrefs_resolve_against_the_self_link(tmp_path, registry):
    """STAC catalogs written with relative asset hrefs: resolved against the item's self link."""
    folder = tmp_path / "catalog" / "item"
    folder.mkdir(parents=True)
    write_geotiff(folder / "b04.tif", seed=4)
    item = {
        "type": "Feature", "stac_version": "1.0.0", "id": "relative", "geometry": None,
        "properties": {"datetime": "2026-01-01T00:00:00Z"},
        "links": [{"rel": "self", "href": str(folder / "item.json")}],
        "assets": {"B04": {"href": "./b04.tif", "type": "image/tiff; application=geotiff"}},
    }
    (folder / "item.json").write_text(json.dumps(item))
    cube = open_stac(str(folder / "item.json"), registry=registry)
    assert list(cube.attrs["virtual_tiff"]["sources"]) == [(folder / "b04.tif").resolve().as_uri()]


def remote_item(href: str) -> dict:
    return {
        "type": "Feature", "stac_version": "1.0.0", "id": "remote", "geometry": None,
        "properties": {"datetime": "2026-01-01T00:00:00Z"},
        "links": [{"rel": "self", "href": "https://stac.example.com/collections/c/items/remote.json"}],
        "assets": {"B04": {"href": href, "type": "image/tiff; application=geotiff"}},
    }


@pytest.mark.parametrize("href", ["/etc/passwd", "file:///etc/passwd"])
def test_a_remote_catalogue_may_not_point_at_local_files(href, tmp_path, registry):
    with pytest.raises(VirtualTIFFError, match="remote catalogue .* points at the local file"):
        open_stac(remote_item(href), registry=registry)


def test_local_hrefs_of_a_remote_catalogue_when_allowed(tmp_path, registry):
    path = write_geotiff(tmp_path / "b04.tif", seed=4)
    cube = open_stac(remote_item(str(path)), registry=registry, allow_local_hrefs=True)
    np.testing.assert_array_equal(load(cube["B04"], registry)[0], read_rasterio(path))


def test_relative_hrefs_of_a_remote_catalogue_stay_remote():
    from virtual_tiff.stacks._stac import asset_url

    assert asset_url(remote_item("../b04.tif"), "../b04.tif") == "https://stac.example.com/collections/c/b04.tif"
