"""Throwaway Python environments that have a reader's packages and no virtual_tiff.

A reference set or a published repository is only portable if a reader without our package
opens it, so the read-back runs in a subprocess of such an environment. Each is a venv of the
standard library's ``venv`` whose site-packages holds links to exactly the installed
distributions a reader needs and what they require (their closure, from the installed
metadata), nothing else: the same versions as this environment, no download, no network, no
uv. The editable ``virtual_tiff`` is never linked, so ``import virtual_tiff`` fails there.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

#: What every kerchunk reader needs: fsspec's reference filesystem, zarr, xarray and the v2 codecs.
READER_PACKAGES = ("fsspec", "zarr", "xarray", "numpy", "numcodecs", "imagecodecs", "pandas")
#: Each step's deadline: making a venv and linking takes seconds.
STEP_TIMEOUT = 300


class EnvironmentUnavailable(RuntimeError):
    """The environment could not be built here (a distribution is not installed, or venv failed)."""


def closure(names: tuple[str, ...]) -> list[importlib.metadata.Distribution]:
    """The installed distributions ``names`` are and require (without extras), each once."""
    found: dict[str, importlib.metadata.Distribution] = {}
    todo = list(names)
    while todo:
        name = canonicalize_name(todo.pop())
        if name in found:
            continue
        try:
            found[name] = dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            raise EnvironmentUnavailable(f"{name} is not installed here") from None
        for text in dist.requires or ():
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)
    if "virtual-tiff" in found:
        raise EnvironmentUnavailable("a reader package requires virtual_tiff")
    return list(found.values())


def build_reader_env(root: Path, extra: tuple[str, ...]) -> Path:
    """A venv at ``root`` with the reader packages and ``extra`` linked in; returns its python."""
    _step([sys.executable, "-m", "venv", "--without-pip", str(root)])
    python = root / "bin" / "python"
    purelib = Path(subprocess.run([str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                  capture_output=True, text=True, timeout=STEP_TIMEOUT, check=True).stdout.strip())
    here = Path(sysconfig.get_path("purelib"))
    for dist in closure(READER_PACKAGES + extra):
        tops = {Path(str(f)).parts[0] for f in dist.files or () if not str(f).startswith("..")}
        base = Path(dist.locate_file(""))
        for top in sorted(tops):
            source, target = base / top, purelib / top
            if source.exists() and not target.exists() and base == here:
                target.symlink_to(source)
    return python


def _step(command: list[str]) -> None:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=STEP_TIMEOUT)
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
