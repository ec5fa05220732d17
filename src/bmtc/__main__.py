"""`python -m bmtc` runs the command-line interface."""

from bmtc.cli import main

main()
