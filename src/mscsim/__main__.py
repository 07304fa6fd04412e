"""``python -m mscsim`` runs the command line."""

import sys

from mscsim.cli import main

sys.exit(main())
