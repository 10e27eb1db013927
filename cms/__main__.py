"""``python -m cms`` runs the command-line interface."""

from cms.cli import main

main()
