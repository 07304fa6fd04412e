"""``python -m mscsim.cli`` runs the command line."""

from mscsim.cli import run

run()
