"""Loading our read side (any store, parser or opener) makes our pipeline zarr's default, only while
zarr's own default is in effect."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import zarr

from virtual_tiff.read import PIPELINE
from virtual_tiff.read._config import zarr_default_pipeline

PROBE = "from virtual_tiff import VirtualTIFF; import zarr; print(zarr.config.get('codec_pipeline.path'))"


def pipeline_after_import(**env: str) -> str:
    run = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                         env={**{k: v for k, v in os.environ.items() if not k.startswith("ZARR_")}, **env})
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_zarrs_default_is_read_from_zarr_not_assumed():
    assert zarr_default_pipeline() == zarr.config.defaults[0]["codec_pipeline"]["path"]


def test_loading_the_parser_makes_ours_the_default():
    assert pipeline_after_import() == PIPELINE


@pytest.mark.parametrize(
    "chosen", ["zarr.core.codec_pipeline.BatchedCodecPipeline", "zarr.core.codec_pipeline.FusedCodecPipeline"]
)
def test_a_pipeline_chosen_through_the_environment_is_kept(chosen):
    assert pipeline_after_import(ZARR_CODEC_PIPELINE__PATH=chosen) == chosen
