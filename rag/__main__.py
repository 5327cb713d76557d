"""`python -m rag`: the command line."""

from rag.cli import main

raise SystemExit(main())
