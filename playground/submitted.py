"""Submitted exercise code (from a page's editor) made importable as ``exercises.<name>``.

The sandbox child calls :func:`install_sources` before it imports anything of
``exercises``: it writes a complete ``exercises`` package into a fresh
temporary directory (the files on disk, with the submitted modules in place
of theirs) and puts that directory first on ``sys.path``. Checks, tasks, and
the helper processes of an experiment (which copy the child's ``sys.path``)
then import the submitted code under its real name. Nothing is ever written
into the app's directory.
"""

from __future__ import annotations

import importlib
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

EXERCISES_DIR = Path(__file__).resolve().parent.parent / "exercises"
_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def validate_sources(sources: Mapping[str, str]) -> dict[str, str]:
    """``sources`` as a plain dict; ``ValueError`` for a name that is not a module name or text that is not str."""
    checked: dict[str, str] = {}
    for name, text in sources.items():
        if not isinstance(name, str) or not _MODULE_NAME.fullmatch(name) or name == "__init__":
            raise ValueError(f"not an exercise module name: {name!r}")
        if not isinstance(text, str):
            raise ValueError(f"the source of {name} must be text, got {type(text).__name__}")
        checked[name] = text
    return checked


def write_package(sources: Mapping[str, str], root: Path, exercises_dir: Path = EXERCISES_DIR) -> Path:
    """Write the ``exercises`` package under ``root``: files from ``exercises_dir``, then ``sources`` over them."""
    package = root / "exercises"
    package.mkdir(parents=True, exist_ok=True)
    if exercises_dir.is_dir():
        for path in exercises_dir.glob("*.py"):
            shutil.copyfile(path, package / path.name)
    init = package / "__init__.py"
    if not init.exists():
        init.write_text("", encoding="utf-8")
    for name, text in validate_sources(sources).items():
        (package / f"{name}.py").write_text(text, encoding="utf-8")
    return package


def install_sources(sources: Mapping[str, str]) -> str:
    """Make ``sources`` importable as ``exercises.<name>`` in this process; return the scratch directory."""
    scratch = tempfile.mkdtemp(prefix="playground-submitted-")
    write_package(sources, Path(scratch))
    for name in [m for m in sys.modules if m == "exercises" or m.startswith("exercises.")]:
        del sys.modules[name]
    sys.path.insert(0, scratch)
    importlib.invalidate_caches()
    return scratch
