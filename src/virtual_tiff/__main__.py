from virtual_tiff.cli import entry

entry()
