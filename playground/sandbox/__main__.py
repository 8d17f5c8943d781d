"""``python -m playground.sandbox``: the child process (see :mod:`playground.sandbox.child`)."""

import os

from playground.sandbox.child import main

# Leave at once: a learner's stray non-daemon thread must not keep us alive.
os._exit(main())
