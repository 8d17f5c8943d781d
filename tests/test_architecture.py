"""The one-way import rule of ``playground/`` (``[tool.importlinter]`` in pyproject.toml) holds, and can fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_import_rule_holds() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_breaks_it(tmp_path: Path) -> None:
    for name in ("playground", "solutions", "exercises"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    config = tmp_path / "playground" / "core" / "config.py"
    config.write_text(config.read_text(encoding="utf-8") + "\nimport playground.sandbox.runner  # noqa\n")
    solution = tmp_path / "solutions" / "replay_buffer.py"
    solution.write_text(solution.read_text(encoding="utf-8") + "\nimport playground.ui.widgets  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "playground.core.config -> playground.sandbox.runner" in result.stdout
    assert "solutions.replay_buffer -> playground.ui.widgets" in result.stdout


def test_a_cycle_inside_the_ui_breaks_it(tmp_path: Path) -> None:
    """A function-level import from a lower ui module back up (the old editor <-> widgets cycle) is caught."""
    for name in ("playground", "solutions", "exercises"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    check_panel = tmp_path / "playground" / "ui" / "check_panel.py"
    check_panel.write_text(
        check_panel.read_text(encoding="utf-8")
        + "\n\ndef _late() -> None:\n    from playground.ui.editor import editor_panel  # noqa\n"
    )
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert "playground.ui.check_panel -> playground.ui.editor" in result.stdout


def test_importing_the_ui_starts_nothing() -> None:
    """Every ui module imports without side effects: no fork server, no job owner, no slots from secrets."""
    code = (
        "import pkgutil, importlib, playground.ui as ui\n"
        "for info in pkgutil.iter_modules(ui.__path__):\n"
        "    importlib.import_module('playground.ui.' + info.name)\n"
        "from playground.sandbox import forkserver, runner\n"
        "assert forkserver._server is None, 'the fork server was started by an import'\n"
        "assert runner._owner_resolver is None, 'the job owner was set by an import'\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("ok")
