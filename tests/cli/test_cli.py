"""The ``virtual-tiff`` command through its real entry point, on files the tests write."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
import rasterio
import xarray as xr
from rasterio.transform import from_origin

from tests.helpers.samples import sample_data

CLI = [sys.executable, "-m", "virtual_tiff"]


def run(*args, env=None, check=True):
    result = subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=120,
                            env={**os.environ, **(env or {})})
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}: {result.stderr}")
    return result


def write_cog(path, value=0, size=256):
    with rasterio.open(path, "w", driver="COG", height=size, width=size, count=1, dtype="uint16",
                       crs="EPSG:32633", transform=from_origin(500000, 5600000, 10, 10), blocksize=128,
                       compress="DEFLATE", overview_count=2) as dst:
        dst.write(sample_data("uint16", 1, size, size) + value)
    return path


def test_info_json_matches_rasterio(tmp_path):
    path = write_cog(tmp_path / "cog.tif")
    info = json.loads(run("info", path, "--json").stdout)
    with rasterio.open(path) as src:
        level0 = info["ifds"][0]
        assert (level0["width"], level0["height"], level0["dtype"]) == (src.width, src.height, src.dtypes[0])
        assert level0["crs"] == src.crs.to_string()
        assert level0["transform"] == list(src.transform)[:6]
        assert [i["kind"] for i in info["ifds"]] == ["image", "overview", "overview"]
        assert len(info["ifds"]) - 1 == len(src.overviews(1))
    assert level0["codecs"] == ["bytes", "numcodecs.zlib"]
    assert info["requests"] == 1 and info["etag"]


def test_info_over_s3_with_an_endpoint(s3, tmp_path):
    url = s3.upload(write_cog(tmp_path / "cog.tif"), "cli/cog.tif")
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
    info = json.loads(run("info", url, "--json", "--endpoint", s3.endpoint, env=env).stdout)
    assert info["url"] == url and info["ifds"][0]["width"] == 256


@pytest.mark.parametrize("fmt", ["icechunk", "json"])
def test_build_reopens_equal_to_the_sources(fmt, tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    paths = [write_cog(sources / f"t{i}.tif", value=i) for i in range(3)]
    out = tmp_path / ("repo" if fmt == "icechunk" else "refs.json")
    result = run("build", str(sources / "t*.tif"), "--out", out, "--format", fmt, "--quiet")
    assert "3 files" in result.stdout and "0 failed" in result.stdout
    ds = _open(out, fmt, sources)
    with rasterio.open(paths[2]) as src:
        np.testing.assert_array_equal(ds["0"].values[2], src.read(1))
    assert ds["0"].shape == (3, 256, 256)


def test_build_takes_its_time_coordinate_from_the_file_names(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    days = ["20240305", "20240301", "20240303"]
    paths = [write_cog(sources / f"S2B_MSIL2A_{day}T101559_T33UUP.tif", value=i) for i, day in enumerate(days)]
    out = tmp_path / "repo"
    result = run("build", *map(str, paths), "--out", out, "--time-from-name", r"_(\d{8}T\d{6})_", "--quiet")
    assert "3 files" in result.stdout
    ds = _open(out, "icechunk", sources)
    assert [str(t)[:10] for t in ds["time"].values] == ["2024-03-05", "2024-03-01", "2024-03-03"]
    with rasterio.open(paths[1]) as src:
        np.testing.assert_array_equal(ds.sel(time=np.datetime64("2024-03-01T10:15:59"))["0"].values, src.read(1))

    bad = run("build", *map(str, paths), "--out", tmp_path / "bad", "--time-from-name", "_(\\d{4})X", check=False)
    assert bad.returncode == 2 and "does not match the file name" in bad.stderr


def _open(out, fmt, sources):
    if fmt == "icechunk":
        import icechunk

        prefix = sources.as_uri() + "/"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            repo = icechunk.Repository.open(icechunk.local_filesystem_storage(str(out)),
                                            authorize_virtual_chunk_access={prefix: None})
        return xr.open_zarr(repo.readonly_session("main").store, zarr_format=3, consolidated=False)
    import fsspec
    import imagecodecs.numcodecs
    import zarr

    imagecodecs.numcodecs.register_codecs()
    fs = fsspec.filesystem("reference", fo=str(out), remote_protocol="file")
    store = zarr.storage.FsspecStore.from_mapper(fs.get_mapper(""), read_only=True)
    return xr.open_zarr(store, zarr_format=2, consolidated=False)


def test_build_from_a_stac_item_collection_takes_its_times(tmp_path):
    paths = [write_cog(tmp_path / f"s{i}.tif", value=i) for i in range(2)]
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"s{i}", "properties": {"datetime": f"2026-0{i + 1}-01T00:00:00Z"},
         "assets": {"data": {"href": str(p)}}} for i, p in enumerate(paths)]}
    (tmp_path / "items.json").write_text(json.dumps(collection))
    out = tmp_path / "stac.json"
    run("build", "--stac", tmp_path / "items.json", "--out", out, "--format", "json", "--quiet")
    ds = _open(out, "json", tmp_path)
    assert [str(t)[:10] for t in ds["time"].values] == ["2026-01-01", "2026-02-01"]


def test_preview_reads_the_coarsest_suitable_overview(tmp_path):
    import imagecodecs

    path = write_cog(tmp_path / "cog.tif", size=512)
    result = run("preview", path, "--out", tmp_path / "p.png", "--size", 200)
    picture = imagecodecs.png_decode((tmp_path / "p.png").read_bytes())
    assert picture.shape[:2] == (256, 256)  # levels 512, 256, 128: 256 is the coarsest >= 200
    assert "level 1" in result.stdout
    assert picture.std() > 10  # a stretched picture, not a flat one


def test_preview_of_complex_samples_shows_their_amplitude(tmp_path):
    """A SAR CInt16 image: the quick look is |z|, with no ComplexWarning on stderr."""
    import imagecodecs

    path = tmp_path / "slc.tif"
    rows, cols = np.mgrid[0:128, 0:128]
    with rasterio.open(path, "w", driver="GTiff", height=128, width=128, count=1, dtype="complex_int16",
                       tiled=True, blockxsize=64, blockysize=64) as dst:
        dst.write(((cols * 100) + 1j * (rows * 100)).astype("complex64")[None])
    result = run("preview", path, "--out", tmp_path / "slc.png", "--size", 64)
    picture = imagecodecs.png_decode((tmp_path / "slc.png").read_bytes()).astype(float)
    assert "ComplexWarning" not in result.stderr
    assert picture[-1, -1].mean() > picture[0, -1].mean() > picture[0, 0].mean()  # brighter with |z|


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback_before_or_after_the_command(where, tmp_path):
    path = tmp_path / "not.tif"
    path.write_bytes(b"hello")
    args = ["--debug", "info", path] if where == "before" else ["info", path, "--debug"]
    result = run(*args, check=False)
    assert "Traceback" in result.stderr and "NotATIFFError" in result.stderr


def test_check_flags_a_modified_source(tmp_path):
    sources = tmp_path / "sources"
    sources.mkdir()
    paths = [write_cog(sources / f"c{i}.tif", value=i) for i in range(2)]
    out = tmp_path / "refs.json"
    run("build", *paths, "--out", out, "--format", "json", "--quiet")
    assert run("check", out).returncode == 0
    shutil.copy(write_cog(tmp_path / "other.tif", value=9, size=300), paths[1])
    result = run("check", out, check=False)
    assert result.returncode == 1
    assert f"CHANGED {paths[1].resolve().as_uri()}" in result.stdout
    assert "1 of 2 sources unchanged, 1 changed, 0 missing, 0 unreadable" in result.stdout


def test_check_tells_changed_from_missing_from_unreadable(s3, proxy, tmp_path):
    """Each verdict has its own line and exit status (the worst wins): 1 changed, 3 missing, 4 unreadable."""
    from tests.helpers.faults import Fault, always

    env = _env_endpoint(s3)
    urls = [s3.upload(write_cog(tmp_path / f"m{i}.tif", value=i), f"cli-check/m{i}.tif") for i in range(3)]
    refs = tmp_path / "m.json"
    run("build", *urls, "--out", refs, "--format", "json", "--quiet", env=env)
    s3.upload(write_cog(tmp_path / "other.tif", value=7, size=200), "cli-check/m1.tif")
    assert run("check", refs, env=env, check=False).returncode == 1
    s3.client.delete_object(Bucket=urls[2].split("/")[2], Key="cli-check/m2.tif")

    result = run("check", refs, env=env, check=False)
    assert result.returncode == 3
    assert f"CHANGED {urls[1]}: ETag" in result.stdout and f"MISSING {urls[2]}:" in result.stdout
    assert "1 of 3 sources unchanged, 1 changed, 1 missing, 0 unreadable" in result.stdout

    proxy.rule = always(Fault("status", status=403), method="HEAD")  # no access: neither changed nor missing
    denied = run("check", refs, "--endpoint", proxy.endpoint, env=env, check=False)
    assert denied.returncode == 4
    assert all(f"UNREADABLE {url}:" in denied.stdout for url in urls)
    assert "CHANGED" not in denied.stdout and "MISSING" not in denied.stdout


@pytest.mark.parametrize("target, message", [
    ("does-not-exist.tif", "SourceNotFoundError"),
    ("garbage.tif", "NotATIFFError"),
])
def test_errors_are_one_line_with_exit_code_2(target, message, tmp_path):
    (tmp_path / "garbage.tif").write_bytes(b"GIF89a" + bytes(100))
    result = run("info", tmp_path / target, check=False)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr




def test_build_and_check_over_s3(s3, tmp_path):
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
    urls = [s3.upload(write_cog(tmp_path / f"s{i}.tif", value=i), f"cli-stack/s{i}.tif") for i in range(2)]
    out = tmp_path / "s3refs.json"
    result = run("build", *urls, "--out", out, "--format", "json", "--endpoint", s3.endpoint, "--quiet", env=env)
    assert "2 files" in result.stdout
    refs = json.loads(out.read_text())["refs"]
    assert any(isinstance(v, list) and v[0] == urls[1] for v in refs.values())
    assert run("check", out, "--endpoint", s3.endpoint, env=env).returncode == 0
    s3.upload(write_cog(tmp_path / "other.tif", value=5, size=200), "cli-stack/s1.tif")
    changed = run("check", out, "--endpoint", s3.endpoint, env=env, check=False)
    assert changed.returncode == 1 and f"CHANGED {urls[1]}" in changed.stdout


def _env_endpoint(s3):
    """The environment obstore reads by itself: an http endpoint and HTTP allowed, no --endpoint."""
    return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": s3.endpoint, "AWS_ALLOW_HTTP": "true"}


def test_every_command_reaches_s3_through_the_environment_alone(s3, tmp_path):
    import icechunk

    env = _env_endpoint(s3)
    urls = [s3.upload(write_cog(tmp_path / f"e{i}.tif", value=i), f"cli-env/e{i}.tif") for i in range(2)]
    info = json.loads(run("info", urls[0], "--json", env=env).stdout)
    assert info["url"] == urls[0] and info["ifds"][0]["width"] == 256
    run("preview", urls[0], "--out", tmp_path / "p.png", env=env)
    refs = tmp_path / "env.json"
    assert "2 files" in run("build", *urls, "--out", refs, "--format", "json", "--quiet", env=env).stdout
    assert run("check", refs, env=env).returncode == 0

    repo_path = tmp_path / "env.icechunk"
    run("build", *urls, "--out", repo_path, "--quiet", env=env)
    prefix = f"s3://{urls[0].split('/')[2]}/"
    credentials = icechunk.containers_credentials(
        {prefix: icechunk.s3_static_credentials(access_key_id="testing", secret_access_key="testing")})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        repo = icechunk.Repository.open(icechunk.local_filesystem_storage(str(repo_path)),
                                        authorize_virtual_chunk_access=credentials)
    ds = xr.open_zarr(repo.readonly_session("main").store, zarr_format=3, consolidated=False)
    with rasterio.open(tmp_path / "e1.tif") as src:
        np.testing.assert_array_equal(ds["0"].values[1], src.read(1))


def test_open_stac_without_a_registry_reaches_s3_through_the_environment(s3, tmp_path, monkeypatch):
    from virtual_tiff import open_stac

    for name, value in _env_endpoint(s3).items():
        monkeypatch.setenv(name, value)
    url = s3.upload(write_cog(tmp_path / "stac.tif"), "cli-env/stac.tif")
    items = [{"type": "Feature", "id": "a", "properties": {"datetime": "2026-01-01T00:00:00Z"},
              "assets": {"data": {"href": url}}}]
    cube = open_stac(items)
    assert cube["data"].shape == (1, 256, 256)


def test_s3_globs_are_expanded_by_listing_the_prefix(s3, tmp_path):
    env = _env_endpoint(s3)
    for name in ("scene_1.tif", "scene_2.tif", "other_1.tif", "deeper/scene_3.tif"):
        s3.upload(write_cog(tmp_path / "g.tif"), f"cli-glob/{name}")
    refs = tmp_path / "glob.json"
    bucket = s3.upload(tmp_path / "g.tif", "cli-glob/readme.tif").split("/")[2]
    result = run("build", f"s3://{bucket}/cli-glob/scene_*.tif", "--out", refs, "--format", "json", "--quiet",
                 env=env)
    assert "2 files" in result.stdout
    sources = json.loads(json.loads(refs.read_text())["refs"][".zattrs"])["virtual_tiff"]["sources"]
    assert sorted(sources) == [f"s3://{bucket}/cli-glob/scene_{i}.tif" for i in (1, 2)]
    none = run("build", f"s3://{bucket}/cli-glob/nothing_*.tif", "--out", refs, env=env, check=False)
    assert none.returncode == 2 and "matches no file" in none.stderr


def _help(capsys, *argv: str) -> str:
    """What the command line prints for ``argv`` and exits on (``--help``, ``--version``), in-process."""
    from virtual_tiff.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(list(argv))
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_version_and_help_with_examples(capsys):
    from virtual_tiff import __version__

    assert _help(capsys, "--version").strip() == f"virtual-tiff {__version__}"
    for command in ("demo", "info", "build", "preview", "check"):
        text = _help(capsys, command, "--help")
        assert "examples:" in text and f"virtual-tiff {command}" in text
        assert "``" not in text and ":class:" not in text  # plain text, no reST markup
    build = _help(capsys, "build", "--help")
    assert "--format" in build and "kerchunk" in build and "--checksum" in build and "last_modified" in build
    assert "``" not in _help(capsys, "--help")


def test_output_into_a_closed_pipe_ends_quietly(tmp_path):
    """``virtual-tiff info x.tif | head``: the reader left; no error line, the shell's SIGPIPE status."""
    path = write_cog(tmp_path / "cog.tif")
    child = subprocess.Popen([*CLI, "info", str(path), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.close()  # the reader is gone before the first line
    try:
        _, stderr = child.communicate(timeout=120)
    finally:
        child.kill()
    assert stderr == b"" and child.returncode == 141


def test_mixed_grids_are_refused_with_the_cli_option_and_built_with_it(tmp_path):
    a = write_cog(tmp_path / "a.tif")
    with rasterio.open(tmp_path / "b.tif", "w", driver="COG", height=256, width=256, count=1, dtype="uint16",
                       crs="EPSG:32634", transform=from_origin(300000, 5600000, 10, 10), blocksize=128) as dst:
        dst.write(sample_data("uint16", 1, 256, 256))
    refused = run("build", a, tmp_path / "b.tif", "--out", tmp_path / "mixed.json", "--format", "json",
                  check=False)
    assert refused.returncode == 2 and "MixedGridsError" in refused.stderr
    assert "--group-by-grid" in refused.stderr and "open_virtual_mftree" not in refused.stderr
    built = run("build", a, tmp_path / "b.tif", "--out", tmp_path / "mixed.json", "--format", "json",
                "--group-by-grid", "--quiet")
    assert "2 files" in built.stdout
    tree = xr.open_datatree(_store(tmp_path / "mixed.json"), engine="zarr", zarr_format=2, consolidated=False)
    assert sorted(tree.children) == ["EPSG_32633_10m", "EPSG_32634_10m"]


def test_the_python_hint_stays_for_python_users(tmp_path, registry):
    from virtual_tiff import MixedGridsError, open_virtual_mfdataset

    a = write_cog(tmp_path / "a.tif")
    with rasterio.open(tmp_path / "b.tif", "w", driver="COG", height=256, width=256, count=1, dtype="uint16",
                       crs="EPSG:32634", transform=from_origin(300000, 5600000, 10, 10), blocksize=128) as dst:
        dst.write(sample_data("uint16", 1, 256, 256))
    with pytest.raises(MixedGridsError, match="open_virtual_mftree") as info:
        open_virtual_mfdataset([a.as_uri(), (tmp_path / "b.tif").as_uri()], registry)
    assert "--group-by-grid" not in str(info.value)


def test_progress_bars_count_bytes_fetched_not_object_sizes(tmp_path):
    """On a terminal: tqdm bars for the headers and the write, with files/s and the bytes fetched."""
    import fcntl
    import pty
    import struct
    import termios

    sources = tmp_path / "sources"
    sources.mkdir()
    for i in range(3):
        write_cog(sources / f"p{i}.tif", value=i, size=1024)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 200, 0, 0))  # a 200-column terminal
    try:
        result = subprocess.run([*CLI, "build", str(sources / "p*.tif"), "--out", str(tmp_path / "p.icechunk")],
                                stdout=subprocess.PIPE, stderr=secondary, timeout=120, env=dict(os.environ))
        os.close(secondary)
        secondary = None
        bar = _drain(primary)
    finally:
        os.close(primary)
        if secondary is not None:
            os.close(secondary)
    assert result.returncode == 0
    assert "headers: 100%" in bar and "3/3" in bar and "file/s" in bar and "MB fetched" in bar
    assert "writing p.icechunk: 100%" in bar
    fetched = float(result.stdout.decode().split(" MB fetched")[0].rsplit(" ", 1)[-1])
    assert fetched == pytest.approx(3 * 65536 / 1e6, abs=0.005)  # one 64 KiB header GET per file, not the files
    quiet = run("build", str(sources / "p*.tif"), "--out", tmp_path / "q.icechunk")  # stderr is a pipe here
    assert quiet.stderr == ""


def _drain(fd: int) -> str:
    """What a pseudo-terminal received, until its writer closed it."""
    chunks = []
    for _ in range(10_000):
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode(errors="replace")


def _store(refs):
    import fsspec
    import imagecodecs.numcodecs
    import zarr

    imagecodecs.numcodecs.register_codecs()
    fs = fsspec.filesystem("reference", fo=str(refs), remote_protocol="file")
    return zarr.storage.FsspecStore.from_mapper(fs.get_mapper(""), read_only=True)


def test_list_files_expand_and_a_list_naming_itself_is_refused(tmp_path):
    from virtual_tiff.cli.build import expand_inputs
    from virtual_tiff.errors import VirtualTIFFError

    for name in ("a.tif", "b.tif"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "inner.txt").write_text(f"# scenes\n{tmp_path / 'a.tif'}\n\n")
    (tmp_path / "outer.txt").write_text(f"@{tmp_path / 'inner.txt'}\n{tmp_path / '*.tif'}\n")
    urls = expand_inputs([f"@{tmp_path / 'outer.txt'}"])
    assert urls == [(tmp_path / n).as_uri() for n in ("a.tif", "a.tif", "b.tif")]
    (tmp_path / "self.txt").write_text(f"@{tmp_path / 'self.txt'}\n")
    with pytest.raises(VirtualTIFFError, match="nested more than"):
        expand_inputs([f"@{tmp_path / 'self.txt'}"])
