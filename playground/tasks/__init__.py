"""Jobs the pages start in the sandbox; the only code that imports learner code for a page (inside the child)."""
