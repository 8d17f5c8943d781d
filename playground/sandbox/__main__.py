"""``python -m playground.sandbox``: the child process (see :mod:`playground.sandbox.child`), or, with
``--self-test``, the report of which layers of the sandbox hold here (:mod:`playground.sandbox.selftest`)."""

import os
import sys

if sys.argv[1:] == ["--self-test"]:
    from playground.sandbox.selftest import main as self_test

    sys.stdout.flush()
    os._exit(self_test())

from playground.sandbox.child import main

# Leave at once: a learner's stray non-daemon thread must not keep us alive.
os._exit(main())
