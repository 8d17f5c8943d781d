"""Where a learner's exercise code lives, and whether the app may write it to disk (no Streamlit here).

The code of an exercise is held by the page's editor, per browser session
(:mod:`playground.ui.editor`). It starts as the file ``exercises/<module>.py``:
the stub on a deployed app, the learner's own file in a clone. Check and Run
send it to the sandbox as ``sources`` (:mod:`playground.submitted`), so it is
never written into the app's directory to be run.

**The deployed rule.** Saving the editor's code to ``exercises/<module>.py``
is offered only from a *writable clone*, that is, unless the app counts as
deployed. The app counts as deployed when

1. the environment variable ``PLAYGROUND_DEPLOYED`` is set to a true value
   (``1``, ``true``, ``yes``, ``on``; a teacher sets it on any container; on
   Streamlit Community Cloud a root-level secret ``PLAYGROUND_DEPLOYED = "1"``
   becomes this variable); a false value (``0``, ``false``, ``no``, ``off``)
   forces "not deployed" and skips the next checks;
2. or the app runs from ``/mount/src/``, where Streamlit Community Cloud
   clones apps, or with ``HOSTNAME=streamlit``, as Community Cloud sets it;

and saving is refused as well when ``exercises/`` is not writable. On a
deployed app, nothing a learner submits is written into the app's directory:
:func:`save_exercise` raises ``PermissionError`` there.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from playground.core.facts import EXERCISES, PROJECT_ROOT

EXERCISES_DIR = PROJECT_ROOT / "exercises"
DEPLOYED_ENV = "PLAYGROUND_DEPLOYED"
CLOUD_MOUNT = "/mount/src/"
MAX_SOURCE_BYTES = 200_000  # an exercise file is a few kB; anything far larger is not one
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def is_deployed(env: Mapping[str, str] | None = None, root: Path = PROJECT_ROOT) -> bool:
    """Whether the app counts as deployed (see the module docstring for the rule)."""
    environ = os.environ if env is None else env
    flag = environ.get(DEPLOYED_ENV, "").strip().lower()
    if flag in _TRUE:
        return True
    if flag in _FALSE:
        return False
    return root.as_posix().startswith(CLOUD_MOUNT) or environ.get("HOSTNAME", "") == "streamlit"


def can_save(env: Mapping[str, str] | None = None, root: Path = PROJECT_ROOT) -> bool:
    """Whether "Save to exercises/<module>.py" is offered: a writable clone that is not deployed."""
    return not is_deployed(env, root) and os.access(root / "exercises", os.W_OK)


def exercise_path(exercise: str, root: Path = PROJECT_ROOT) -> Path:
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; choose from {', '.join(EXERCISES)}")
    return root / "exercises" / f"{exercise}.py"


def read_exercise(exercise: str, root: Path = PROJECT_ROOT) -> str:
    """The text of ``exercises/<exercise>.py`` (a comment saying why, when it cannot be read)."""
    try:
        return exercise_path(exercise, root).read_text(encoding="utf-8")
    except OSError as err:
        return f"# could not read exercises/{exercise}.py: {err}\n"


def fingerprint(text: str) -> str:
    """A short hash of a source text: tells whether code changed since it was loaded or checked."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def disk_fingerprint(exercise: str, root: Path = PROJECT_ROOT) -> str:
    return fingerprint(read_exercise(exercise, root))


def save_exercise(exercise: str, code: str, root: Path = PROJECT_ROOT, env: Mapping[str, str] | None = None) -> Path:
    """Write ``code`` to ``exercises/<exercise>.py``; ``PermissionError`` unless :func:`can_save`."""
    if not can_save(env, root):
        raise PermissionError("saving into the app's exercises/ is only possible when the app runs from a clone")
    path = exercise_path(exercise, root)
    path.write_text(code, encoding="utf-8")
    return path


def decode_upload(data: bytes, name: str = "the file") -> str:
    """The text of an uploaded ``.py`` file; ``ValueError`` saying why it is not usable."""
    if len(data) > MAX_SOURCE_BYTES:
        raise ValueError(f"{name} is {len(data):,} bytes; an exercise file is far smaller (limit {MAX_SOURCE_BYTES:,})")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ValueError(f"{name} is not UTF-8 text ({err.reason} at byte {err.start})") from err
    if "\x00" in text:
        raise ValueError(f"{name} contains NUL bytes: it is not a Python source file")
    return text.replace("\r\n", "\n")
