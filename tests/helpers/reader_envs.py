"""Throwaway Python environments that have a kerchunk reader's packages and no virtual_tiff.

A reference set is only portable if a reader without our package opens it, so
the read-back runs in a subprocess of such an environment. Each is built once
per session with uv (``uv venv`` + ``uv pip install``), pinned to the versions
this environment holds, so uv's cache serves it without the network; if it is
not cached, uv may fetch from the package index; if that fails too, the test
is skipped and says why.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path

#: What every kerchunk reader needs: fsspec's reference filesystem, zarr, xarray and the v2 codecs.
READER_PACKAGES = ("fsspec", "zarr", "xarray", "numpy", "numcodecs", "imagecodecs", "pandas")
#: Each step's deadline: a cached install takes seconds, a download maybe a minute.
STEP_TIMEOUT = 300


class EnvironmentUnavailable(RuntimeError):
    """The environment could not be built here (no uv, no cache and no index)."""


def uv_command() -> list[str]:
    """uv as ``uv run`` exposes it (``$UV``), or on the PATH."""
    found = os.environ.get("UV") or shutil.which("uv")
    if found is None:
        raise EnvironmentUnavailable("uv is not installed (python3 -m pip install uv)")
    return [found]


def pinned(packages: tuple[str, ...]) -> list[str]:
    """``name==version`` as installed here, so the reader differs from us only in lacking virtual_tiff."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in packages]


def build_reader_env(root: Path, extra: tuple[str, ...]) -> Path:
    """A venv at ``root`` with the reader packages and ``extra``; returns its python."""
    uv = uv_command()
    python = root / "bin" / "python"
    _step([*uv, "venv", "--quiet", "--python", sys.executable, str(root)])
    install = [*uv, "pip", "install", "--quiet", "--python", str(python), *pinned(READER_PACKAGES + extra)]
    try:
        _step([*install, "--offline"])
    except EnvironmentUnavailable:
        _step(install)
    return python


def _step(command: list[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "UV_PROJECT"))}
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=STEP_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        raise EnvironmentUnavailable(f"{command[1:3]} took more than {STEP_TIMEOUT} s") from None
    if result.returncode != 0:
        raise EnvironmentUnavailable(f"{' '.join(command[1:3])} failed: {result.stderr.strip()[-300:]}")


def run_reader(
    python: Path, script: str, cwd: Path, args: list[str] = (), timeout: float = 120
) -> subprocess.CompletedProcess:
    """Run ``script`` with the environment's python in isolated mode (``-I``: no project, no PYTHONPATH)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(python), "-I", "-c", script, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)
