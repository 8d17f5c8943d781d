"""The helper process of :func:`playground.experiment.run_jobs`: ``python -m playground.worker``.

It reads length-prefixed pickles on stdin: first the parent's ``sys.path``,
then one ``(index, func, job)`` at a time, ``"stop"`` to end the current job
early, and ``None`` to exit. It writes ``("progress", index, message)`` and
``("end", index, result, error_text)`` on the pipe whose descriptor is in
``PLAYGROUND_WORKER_FD``. A fresh interpreter (not ``multiprocessing``) so it
never re-runs the parent's main script, and it ignores SIGUSR1 and SIGINT:
stop requests come from the parent, which hears them first.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import sys
import traceback
from typing import IO, Any

WORKER_FD_ENV = "PLAYGROUND_WORKER_FD"
HEADER = struct.Struct(">I")
STOP_SIGNALS = tuple(s for s in (getattr(signal, "SIGUSR1", None), signal.SIGINT) if s is not None)


def write_frame(stream: IO[bytes], obj: Any) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_frame(fd: int) -> Any:
    """One object from the unbuffered descriptor ``fd``; ``None`` at end of file."""
    header = _read_exact(fd, HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    return pickle.loads(_read_exact(fd, size))


def main() -> int:
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    commands = sys.stdin.fileno()  # read unbuffered, so select() sees every pending byte
    out = os.fdopen(int(os.environ[WORKER_FD_ENV]), "wb")
    sys.path[:] = read_frame(commands) or sys.path
    import torch

    torch.set_num_threads(1)
    stop = False

    def stop_requested() -> bool:
        nonlocal stop
        while not stop and select.select([commands], [], [], 0)[0]:
            command = read_frame(commands)
            stop = command is None or command == "stop"
        return stop

    while True:
        item = read_frame(commands)
        if item is None:
            return 0
        if item == "stop":
            continue
        index, func, job = item
        stop = False

        def report(message: Any, index: int = index) -> bool:
            write_frame(out, ("progress", index, message))
            return not stop_requested()

        try:
            write_frame(out, ("end", index, func(job, report), ""))
        except BaseException:  # noqa: BLE001 - the parent raises it again with this text
            write_frame(out, ("end", index, None, traceback.format_exc(limit=8)))


if __name__ == "__main__":
    sys.exit(main())
