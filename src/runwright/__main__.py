"""`python -m runwright` is the `runwright` command."""

from runwright.cli import main

main()
