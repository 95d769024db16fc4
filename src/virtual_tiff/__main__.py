import sys

from virtual_tiff.cli import main

sys.exit(main())
