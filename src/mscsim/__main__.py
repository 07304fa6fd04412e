"""``python -m mscsim`` runs the command line."""

from mscsim.cli import run

run()
