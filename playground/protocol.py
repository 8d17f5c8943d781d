"""The byte protocol between the app (parent) and the sandbox (child).

Messages are length-prefixed pickles written by the child on a dedicated pipe
(never on stdout, which belongs to the learner's ``print`` calls). The parent
reads them with :class:`SafeUnpickler`, which only rebuilds plain data: Python
builtins, NumPy arrays and the dataclasses of :mod:`playground`. A message that
names anything else (a class from ``exercises``, ``os.system``...) is refused,
so learner code can never be imported into, or run inside, the app's process.
"""

from __future__ import annotations

import io
import pickle
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

RESULT_FD_ENV = "PLAYGROUND_RESULT_FD"


@dataclass(frozen=True)
class CheckRequest:
    """Run these checks of ``exercise`` against ``impl`` ("exercises" or "solutions")."""

    exercise: str
    impl: str
    checks: tuple[str, ...]
    # exercise module name -> source text (the page's editor): imported as ``exercises.<name>``.
    sources: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskRequest:
    """Call ``target`` ("playground.module:function") with ``kwargs``."""

    target: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    # exercise module name -> source text (the page's editor): imported as ``exercises.<name>``.
    sources: dict[str, str] = field(default_factory=dict)


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


def write_message(stream: BinaryIO, message: Any) -> None:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(payload)))
    stream.write(payload)
    stream.flush()


class MessageReader:
    """Incrementally splits bytes from the pipe into decoded messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()

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
                messages.append(safe_loads(payload))
            except (pickle.UnpicklingError, EOFError):
                raise
            except Exception as err:  # garbage can fail in any way: report it as unreadable
                raise pickle.UnpicklingError(f"{type(err).__name__}: {err}") from err
        return messages
