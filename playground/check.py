"""Command line: ``python -m playground.check [EXERCISE ...] [--impl exercises|solutions] [--json]``.

The entry point learners type; the command itself lives in :mod:`playground.sandbox.cli`.
"""

from __future__ import annotations

import sys

from playground.sandbox.cli import main

if __name__ == "__main__":
    sys.exit(main())
