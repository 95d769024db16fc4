"""The README's Python snippets, run as written, so the README cannot drift from the code.

Every ```python block of README.md runs, in order, in one namespace (a later
block uses the ``registry``, ``urls`` and ``vds`` of an earlier one), against
the session's moto S3 server. The snippets' urls stay as written
(``s3://my-bucket/...``): the bucket is created on moto and reached through
the environment obstore reads (``AWS_ENDPOINT_URL``, ``AWS_ALLOW_HTTP``).
Only what the environment cannot say is rewritten, by :data:`SUBSTITUTIONS`.

Names the README takes as given (``days``, ``times``, ``new_urls``, ``new_times``,
``item_collection``) are defined by :func:`given`, on files written here.
A block preceded by ``<!-- not run: reason -->`` is skipped, with its reason.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.helpers.s3 import S3

README = Path(__file__).resolve().parents[1] / "README.md"
BUCKET = "my-bucket"
#: (as written, as run): Icechunk's container config does not read AWS_ENDPOINT_URL.
SUBSTITUTIONS: list[tuple[str, str]] = [
    ('icechunk.s3_store(region="us-west-2")',
     'icechunk.s3_store(region="us-east-1", endpoint_url=ENDPOINT, allow_http=True, s3_compatible=True, '
     "force_path_style=True)"),
]
_FENCE = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
_NOT_RUN = re.compile(r"<!--\s*not run:\s*(.*?)\s*-->\s*$")


@dataclass(frozen=True)
class Snippet:
    line: int
    code: str
    not_run: str | None


def snippets(text: str) -> list[Snippet]:
    """The ```python blocks, each with its line and the reason of a ``<!-- not run -->`` just before it."""
    found = []
    for match in _FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        reason = _NOT_RUN.search(before)
        found.append(Snippet(text.count("\n", 0, match.start()) + 1, match.group(1),
                             reason.group(1) if reason else None))
    return found


def write_scene(path: Path, seed: int, res: float = 10.0, size: int = 1024) -> Path:
    """A COG of the tour's stacks: EPSG:32633 at (500000, 5000000), overviews at 2x and 4x."""
    import rasterio
    from rasterio.transform import from_origin

    data = ((np.mgrid[0:size, 0:size].sum(axis=0) + 37 * seed) % 4000).astype("uint16")[None]
    with rasterio.open(path, "w", driver="COG", height=size, width=size, count=1, dtype="uint16", crs="EPSG:32633",
                       transform=from_origin(500_000, 5_000_000, res, res), blocksize=256, compress="DEFLATE",
                       nodata=0, overview_count=2) as dst:
        dst.write(data)
    return path


def given(s3: S3, tmp_path: Path) -> dict:
    """What the README's snippets take as given, on files uploaded to ``s3://my-bucket``."""
    from virtual_tiff.cli._sample import sample_path

    client = s3.client
    client.create_bucket(Bucket=BUCKET)
    client.put_object(Bucket=BUCKET, Key="scene.tif", Body=sample_path().read_bytes())
    days = ["2026-01-01", "2026-01-02", "2026-01-03"]
    more = ["2026-01-04", "2026-01-05"]
    for k, day in enumerate(days + more):
        body = write_scene(tmp_path / f"{day}.tif", k).read_bytes()
        client.put_object(Bucket=BUCKET, Key=f"scenes/{day}.tif", Body=body)
        client.put_object(Bucket=BUCKET, Key=f"b08/{day}.tif", Body=body)
        coarse = write_scene(tmp_path / f"{day}-20m.tif", k, res=20.0, size=512).read_bytes()
        client.put_object(Bucket=BUCKET, Key=f"b11/{day}.tif", Body=coarse)
    items = [{"type": "Feature", "id": f"S2_{day}", "properties": {"datetime": f"{day}T10:00:00Z"},
              "assets": {name: {"href": f"s3://{BUCKET}/{key}/{day}.tif", "type": "image/tiff; application=geotiff"}
                         for name, key in (("B04", "scenes"), ("B08", "b08"), ("B11", "b11"))}}
             for day in days]
    return {
        "days": days,
        "times": np.array(days, dtype="datetime64[ns]"),
        "new_urls": [f"s3://{BUCKET}/scenes/{day}.tif" for day in more],
        "new_times": np.array(more, dtype="datetime64[ns]"),
        "item_collection": {"type": "FeatureCollection", "features": items},
        "ENDPOINT": s3.endpoint,
    }


def test_the_substitutions_still_apply():
    code = "".join(snippet.code for snippet in snippets(README.read_text()))
    assert all(old in code for old, _ in SUBSTITUTIONS), "a substitution names text the README no longer has"
    assert sum(1 for s in snippets(README.read_text()) if s.not_run) <= 2, "keep the exceptions few"


def test_the_readmes_python_snippets_run(s3, tmp_path, monkeypatch):
    for name, value in {"AWS_ENDPOINT_URL": s3.endpoint, "AWS_ALLOW_HTTP": "true", "AWS_REGION": "us-east-1",
                        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    work = tmp_path / "work"
    work.mkdir()
    namespace = given(s3, tmp_path)
    monkeypatch.chdir(work)  # relative paths the snippets write (stack.icechunk, refs.json) land here
    ran = []
    try:
        for snippet in snippets(README.read_text()):
            if snippet.not_run:
                continue
            code = snippet.code
            for old, new in SUBSTITUTIONS:
                code = code.replace(old, new)
            try:
                exec(compile(code, f"README.md:{snippet.line}", "exec"), namespace)  # noqa: S102
            except Exception as exc:
                raise AssertionError(f"the README's snippet at line {snippet.line} fails: "
                                     f"{type(exc).__name__}: {exc}") from exc
            ran.append(snippet.line)
    finally:
        for bucket_key in s3.client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            s3.client.delete_object(Bucket=BUCKET, Key=bucket_key["Key"])
        s3.client.delete_bucket(Bucket=BUCKET)
        shutil.rmtree(work, ignore_errors=True)
    assert len(ran) >= 6
    # What the snippets' comments promise, on the names they leave.
    assert namespace["ds"]["0"].sizes["time"] == 5  # Icechunk: 3 scenes, then 2 appended
    assert list(namespace["ds"]["time"].values) == list(namespace["times"]) + list(namespace["new_times"])
    assert namespace["box"] == dict(x=slice(505000, 506000), y=slice(5595000, 5594000))
    assert namespace["tree"]["2"]["data"].sizes["time"] == 3  # open_multiscale: level 2, stacked along time
