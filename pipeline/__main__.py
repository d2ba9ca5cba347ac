"""`python -m pipeline` is the `radio` command."""

from pipeline.cli import main

main()
