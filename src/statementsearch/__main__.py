"""`python -m statementsearch`: the same command line as the `statementsearch` script."""

from .cli import main

main(prog_name="statementsearch")
