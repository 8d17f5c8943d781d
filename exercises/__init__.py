"""Your code: fill in each module, then press Check (or run ``python -m playground.check``)."""
