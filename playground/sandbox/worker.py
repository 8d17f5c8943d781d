"""The helper process of :func:`playground.sandbox.pool.run_jobs`: ``python -m playground.sandbox.worker``.

It reads messages (:mod:`playground.sandbox.protocol`) on stdin: first the parent's ``sys.path``,
then one ``(index, func, job)`` at a time, ``"stop"`` to end the current job
early, and ``None`` to exit. It writes ``("progress", index, message)`` and
``("end", index, result, error_text)`` on the pipe whose descriptor is in
``PLAYGROUND_WORKER_FD``. A fresh interpreter (not ``multiprocessing``) so it
never re-runs the parent's main script, and it ignores SIGUSR1 and SIGINT:
stop requests come from the parent, which hears them first.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import traceback
from typing import Any

from playground.sandbox.protocol import read_message, write_message

WORKER_FD_ENV = "PLAYGROUND_WORKER_FD"
STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGUSR1", None), signal.SIGINT) if s is not None)


def main() -> int:
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    commands = sys.stdin.fileno()  # read unbuffered, so select() sees every pending byte
    out = os.fdopen(int(os.environ[WORKER_FD_ENV]), "wb")
    sys.path[:] = read_message(commands) or sys.path
    import torch

    torch.set_num_threads(1)
    stop = False

    def stop_requested() -> bool:
        nonlocal stop
        while not stop and select.select([commands], [], [], 0)[0]:
            command = read_message(commands)
            stop = command is None or command == "stop"
        return stop

    while True:
        item = read_message(commands)
        if item is None:
            return 0
        if item == "stop":
            continue
        index, func, job = item
        stop = False

        def report(message: Any, index: int = index) -> bool:
            write_message(out, ("progress", index, message))
            return not stop_requested()

        try:
            write_message(out, ("end", index, func(job, report), ""))
        except BaseException:  # noqa: BLE001 - the parent raises it again with this text
            write_message(out, ("end", index, None, traceback.format_exc(limit=8)))


if __name__ == "__main__":
    sys.exit(main())
