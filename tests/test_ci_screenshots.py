"""``.ci/run`` says where the walkthrough's screenshots are at its end, with their sizes, also when pytest fails."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CI_RUN = ROOT / ".ci" / "run"


def _ci_ending(pytest_command: str) -> str:
    """The end of .ci/run (the screenshot list and its trap, then pytest), with pytest replaced by a command."""
    text = CI_RUN.read_text(encoding="utf-8")
    start = text.index("list_screenshots() {")
    ending = text[start:]
    assert ".venv/bin/python -m pytest" in ending, "pytest runs after the trap is set"
    lines = [pytest_command if line.startswith(".venv/bin/python -m pytest") else line for line in ending.splitlines()]
    return "set -euo pipefail\n" + "\n".join(lines) + "\n"


def _run(tmp_path: Path, pytest_command: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "ending.sh"
    script.write_text(_ci_ending(pytest_command), encoding="utf-8")
    return subprocess.run(["bash", str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False)


def test_the_screenshots_are_listed_with_their_sizes_also_when_pytest_fails(tmp_path: Path) -> None:
    shots = tmp_path / "artifacts" / "screenshots"
    shots.mkdir(parents=True)
    (shots / "walkthrough_01_home.png").write_bytes(b"x" * 1234)
    (shots / "walkthrough_10_phone_home.png").write_bytes(b"y" * 56)
    failed = _run(tmp_path, "echo 'pytest: 1 failed'; exit 3")
    assert failed.returncode == 3, "the list keeps pytest's exit status"
    out = failed.stdout
    assert out.index("pytest: 1 failed") < out.index("== screenshots (CI artifacts) in")
    assert f"{shots}" in out
    assert "1234 bytes  artifacts/screenshots/walkthrough_01_home.png" in out
    assert "56 bytes  artifacts/screenshots/walkthrough_10_phone_home.png" in out

    passed = _run(tmp_path, "true")
    assert passed.returncode == 0
    assert "walkthrough_01_home.png" in passed.stdout


def test_no_screenshots_is_said_too(tmp_path: Path) -> None:
    result = _run(tmp_path, "true")
    assert result.returncode == 0
    assert "none (the browser walkthrough did not run)" in result.stdout
