"""Command line: ``python -m playground.check [EXERCISE ...] [--impl exercises|solutions] [--json]``.

The entry point learners type; the command itself lives in :mod:`playground.sandbox.cli`.
"""

from __future__ import annotations

from playground.sandbox.cli import run

if __name__ == "__main__":
    run()
