"""The one message format between the playground's processes.

Every message, in every direction, is a pickle prefixed with its length (four
bytes, big-endian): :func:`write_message` writes one, :class:`MessageReader`
splits a byte stream back into messages, and :func:`read_message` reads one
from a blocking descriptor. The sandbox child writes its messages on a
dedicated pipe (never on stdout, which belongs to the learner's ``print``
calls); the helper of the process pool (:mod:`playground.sandbox.pool`) reads
its jobs and writes its results the same way.

Messages from the sandbox child are untrusted. The parent
reads them with :class:`SafeUnpickler`, which only rebuilds plain data: Python
builtins, NumPy arrays and the dataclasses of :mod:`playground`. A message that
names anything else (a class from ``exercises``, ``os.system``...) is refused,
so learner code can never be imported into, or run inside, the app's process.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

RESULT_FD_ENV = "PLAYGROUND_RESULT_FD"


@dataclass(frozen=True)
class CheckRequest:
    """Run these checks of ``exercise`` against ``impl`` ("exercises" or "solutions")."""

    exercise: str
    impl: str
    checks: tuple[str, ...]
    # Exercise module name -> source text submitted from the browser editor; in the child,
    # ``exercises.<name>`` is then this text instead of the file on disk.
    sources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskRequest:
    """Call ``target`` ("playground.module:function") with ``kwargs``."""

    target: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox job (applied in the child before learner code runs)."""

    memory_bytes: int = 1024 * 1024 * 1024  # address space on top of what the warm process already maps
    cpu_seconds: int = 600
    file_bytes: int = 32 * 1024 * 1024  # largest file (and the learner's printed output)
    open_files: int = 256
    files_written: int = 64  # files the job may create or open for writing
    disk_bytes: int = 256 * 1024 * 1024  # all the job's files together (the parent watches)


@dataclass(frozen=True)
class Job:
    """What the parent hands a sandbox child on its stdin: the request and where and how to run it."""

    request: CheckRequest | TaskRequest
    scratch: str  # a fresh, empty working directory; the only place the job may write
    limits: Limits = field(default_factory=Limits)
    python_path: tuple[str, ...] = ()  # extra import paths (the test suite's helper modules)
    test_modules: tuple[str, ...] = ()  # see playground.sandbox.TEST_MODULES_ENV
    cpu: int | None = None  # the CPU the job is pinned to (from its admission slot)
    strict: bool = False  # PLAYGROUND_SANDBOX=strict: refuse to run when a layer of the sandbox is missing


_HEADER = struct.Struct(">I")
MAX_MESSAGE_BYTES = 256 * 1024 * 1024

_SAFE_BUILTINS = frozenset(
    {
        "list",
        "dict",
        "tuple",
        "set",
        "frozenset",
        "int",
        "float",
        "str",
        "bytes",
        "bytearray",
        "bool",
        "complex",
        "slice",
        "range",
    }
)
_SAFE_GLOBALS = frozenset(
    {
        ("collections", "OrderedDict"),
        ("copyreg", "_reconstructor"),
        ("copyreg", "__newobj__"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "scalar"),
        ("numpy", "_reconstruct"),
        # Protocol 5 pickles contiguous arrays as _frombuffer(bytes, dtype, shape, order).
        ("numpy.core.numeric", "_frombuffer"),
        ("numpy._core.numeric", "_frombuffer"),
    }
)
_NUMPY_DTYPE_MODULES = ("numpy.dtypes",)


class UnsafeMessage(pickle.UnpicklingError):
    """A message named a global that the app does not rebuild."""


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds plain data and playground dataclasses only."""

    def find_class(self, module: str, name: str) -> Any:
        allowed = (
            (module == "builtins" and name in _SAFE_BUILTINS)
            or (module, name) in _SAFE_GLOBALS
            or module in _NUMPY_DTYPE_MODULES
            or (module.startswith("playground.") and name[:1].isupper())
        )
        if not allowed:
            raise UnsafeMessage(f"refused to rebuild {module}.{name} from the child process")
        return super().find_class(module, name)


def safe_loads(data: bytes) -> Any:
    return SafeUnpickler(io.BytesIO(data)).load()


def write_message(stream: BinaryIO | IO[bytes], message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


def _read_exact(fd: int, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def read_message(fd: int) -> Any:
    """One message from the blocking descriptor ``fd`` of a *trusted* peer; ``None`` at end of file."""
    header = _read_exact(fd, _HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    return pickle.loads(_read_exact(fd, size))


class MessageReader:
    """Incrementally splits bytes from a pipe into decoded messages.

    By default a message may only rebuild plain data (:class:`SafeUnpickler`);
    ``trusted=True`` rebuilds anything, for the pool's helper, which runs the
    same code as its parent inside the sandbox.
    """

    def __init__(self, trusted: bool = False) -> None:
        self._buffer = bytearray()
        self._loads = pickle.loads if trusted else safe_loads

    def feed(self, data: bytes) -> list[Any]:
        self._buffer.extend(data)
        messages: list[Any] = []
        while len(self._buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buffer)
            if size > MAX_MESSAGE_BYTES:
                raise UnsafeMessage(f"a message of {size} bytes is larger than the {MAX_MESSAGE_BYTES} allowed")
            end = _HEADER.size + size
            if len(self._buffer) < end:
                break
            payload = bytes(self._buffer[_HEADER.size : end])
            del self._buffer[:end]
            try:
                messages.append(self._loads(payload))
            except (pickle.UnpicklingError, EOFError):
                raise
            except Exception as err:  # garbage can fail in any way: report it as unreadable
                raise pickle.UnpicklingError(f"{type(err).__name__}: {err}") from err
        return messages
