"""What an import costs: the package and the command line load only what their use needs.

Each probe runs in a fresh interpreter, so modules an earlier test loaded cannot hide a cost.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: Heavy modules loaded only by the feature that needs them (xarray, zarr and pandas bring
#: fsspec and pyarrow themselves, so those two are not ours to keep out).
OPTIONAL = ("icechunk", "kerchunk", "pystac", "distributed", "dask", "rasterio", "tifffile")

#: The stack a store needs, which the bare package import and ``--help`` must not load.
STACK = ("xarray", "virtualizarr", "pyproj", "zarr")


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return set(json.loads(run.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import virtual_tiff",
        "import virtual_tiff.cli; virtual_tiff.cli.parser()",
    ],
    ids=["package", "cli-parser"],
)
def test_the_bare_import_loads_no_stack(code):
    assert not loaded_after(code) & set(STACK + OPTIONAL)


def test_every_public_name_loads_no_optional_feature():
    code = "import virtual_tiff\nfor name in virtual_tiff.__all__: getattr(virtual_tiff, name)"
    assert not loaded_after(code) & set(OPTIONAL)


def test_every_public_name_resolves_and_unknown_names_are_attribute_errors():
    import virtual_tiff

    assert all(getattr(virtual_tiff, name) is not None for name in virtual_tiff.__all__)
    assert set(virtual_tiff.__all__) <= set(dir(virtual_tiff))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        virtual_tiff.nope  # noqa: B018
