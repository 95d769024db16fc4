"""Security properties: bytes only inside the named object, urls only through the user's registry,
credentials never in errors, stores or written metadata."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import tifffile
import virtualizarr
import zarr
from obspec_utils.registry import ObjectStoreRegistry
from obstore.store import LocalStore, MemoryStore, S3Store

from tests.helpers.s3 import BUCKET, S3
from tests.helpers.tiffbuilder import (
    FLAVOURS,
    LONG,
    Field,
    edit,
    image,
    strip_fields,
    tile_fields,
)
from tests.helpers.virtual import file_url
from virtual_tiff import VirtualTIFF
from virtual_tiff.errors import SourceReadError, TruncatedTIFFError, VirtualTIFFError
from virtual_tiff.read import TIFFManifestStore

pytestmark = pytest.mark.timeout(60)

ACCESS_KEY = "AKIAVIRTUALTIFFKEY01"
SECRET = "sEcReT/virtual-tiff+do-not-leak-8c41"


def write_tiled(path: Path) -> np.ndarray:
    data = (np.arange(96 * 80, dtype=np.uint32) % 251).astype(np.uint8).reshape(96, 80)
    tifffile.imwrite(path, data, tile=(32, 32), compression="zlib")
    return data


# --------------------------------------------------------------------------- bytes inside the object


@pytest.mark.parametrize(
    "fields",
    [
        pytest.param(edit(strip_fields(), Field(273, LONG, (10_000,))), id="strip-offset-past-end"),
        pytest.param(edit(strip_fields(), Field(279, LONG, (100_000,))), id="strip-runs-past-end"),
        pytest.param(edit(tile_fields(), Field(324, LONG, (2**32 - 1,))), id="tile-offset-at-4GiB"),
    ],
)
def test_chunks_outside_the_object_are_refused_at_build(fields, tmp_path, registry):
    path = tmp_path / "outside.tif"
    path.write_bytes(image(fields, FLAVOURS[0]))
    with pytest.raises(TruncatedTIFFError):
        VirtualTIFF(ifd=0)(url=file_url(path), registry=registry)


def test_every_manifest_entry_lies_inside_its_object(tmp_path, registry):
    """What a built store can ever read: ranges of the one url it was built from, within its size."""
    path = tmp_path / "inside.tif"
    write_tiled(path)
    size = path.stat().st_size
    store = VirtualTIFF(ifd=None)(url=file_url(path), registry=registry)
    for array in store._group.arrays.values():
        manifest = array.manifest
        paths = {str(p) for p in np.asarray(manifest._paths).ravel() if p}
        assert paths == {file_url(path)}
        ends = manifest._offsets.astype(np.uint64) + manifest._lengths.astype(np.uint64)
        assert int(ends.max()) <= size


# --------------------------------------------------------------------------- only the user's registry


@pytest.mark.parametrize(
    ("url", "stores"),
    [
        pytest.param("s3://other-bucket/x.tif", {"s3://my-bucket": MemoryStore()}, id="other-bucket"),
        pytest.param("file:///etc/passwd", {"memory://fuzz": MemoryStore()}, id="file-url-memory-registry"),
        pytest.param("https://example.com/x.tif", {"s3://my-bucket": MemoryStore()}, id="https-not-registered"),
        pytest.param("memory://other/x.tif", {"memory://fuzz": MemoryStore()}, id="other-memory-prefix"),
    ],
)
def test_unregistered_url_is_refused_without_fallback(url, stores):
    with pytest.raises(VirtualTIFFError, match="no store registered") as info:
        VirtualTIFF(ifd=0)(url=url, registry=ObjectStoreRegistry(stores))
    assert url in str(info.value)


def test_store_reopened_with_another_registry_refuses_unregistered_urls(tmp_path, registry):
    """The manifest names file:// urls; a registry without file:// never reads them (no fallback)."""
    path = tmp_path / "x.tif"
    write_tiled(path)
    built = VirtualTIFF(ifd=0)(url=file_url(path), registry=registry)
    other = TIFFManifestStore(built._group, registry=ObjectStoreRegistry({"memory://fuzz": MemoryStore()}))
    with pytest.raises(VirtualTIFFError, match="no store registered"):
        zarr.open_group(other, mode="r", zarr_format=3)["0"][...]


# --------------------------------------------------------------------------- no credentials


def secret_store(s3: S3, bucket: str = BUCKET) -> S3Store:
    return S3Store(bucket, endpoint=s3.endpoint, region="us-east-1", access_key_id=ACCESS_KEY,
                   secret_access_key=SECRET, client_options={"allow_http": True, "timeout": "5s"})


def assert_no_secret(text: str) -> None:
    assert SECRET not in text and ACCESS_KEY not in text, "a credential leaked"
    assert not re.search(r"Signature=[0-9a-f]{16}", text), "a request signature leaked"


def test_credentials_never_appear_in_stores_attributes_or_references(s3, tmp_path):
    path = tmp_path / "cred.tif"
    write_tiled(path)
    url = s3.upload(path, "cred.tif")
    registry = ObjectStoreRegistry({f"s3://{BUCKET}": secret_store(s3)})
    store = VirtualTIFF(ifd=0)(url=url, registry=registry)
    assert_no_secret(str(store) + repr(store))
    group = zarr.open_group(store, mode="r", zarr_format=3)
    assert_no_secret(json.dumps(group.attrs.asdict(), default=str))
    for _, array in group.arrays():
        assert_no_secret(json.dumps(array.metadata.to_dict(), default=str))

    from virtual_tiff import to_kerchunk

    vds = virtualizarr.open_virtual_dataset(url, registry=registry, parser=VirtualTIFF(ifd=0))
    out = tmp_path / "refs.json"
    to_kerchunk(vds, out)
    assert_no_secret(out.read_text())


@pytest.mark.parametrize(
    "key", [pytest.param("missing.tif", id="missing-object"), pytest.param("cred.tif", id="wrong-bucket")]
)
def test_credentials_never_appear_in_errors(key, s3, tmp_path):
    bucket = BUCKET if key == "missing.tif" else "no-such-bucket"
    registry = ObjectStoreRegistry({f"s3://{bucket}": secret_store(s3, bucket)})
    with pytest.raises(SourceReadError) as info:
        VirtualTIFF(ifd=0)(url=f"s3://{bucket}/{key}", registry=registry)
    text = str(info.value) + repr(info.value)
    cause = info.value.__cause__
    assert_no_secret(text)
    assert cause is None or SECRET not in str(cause)


def test_local_store_errors_name_the_url_only(tmp_path):
    url = file_url(tmp_path / "absent.tif")
    with pytest.raises(SourceReadError) as info:
        VirtualTIFF(ifd=0)(url=url, registry=ObjectStoreRegistry({"file://": LocalStore()}))
    assert url in str(info.value)
