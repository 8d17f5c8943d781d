"""Source text submitted from the browser editor (``sources=``) is what ``exercises.<name>`` is in the sandbox,
for checks and for tasks, and nothing is written into the app's directory."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from pathlib import Path

import pytest

from playground.checks import checks_for
from playground.core.config import PRESETS
from playground.sandbox import runner
from playground.sandbox.runner import run_checks, run_task

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = (ROOT / "solutions" / "q_network.py").read_text(encoding="utf-8")
STUB = ROOT / "exercises" / "q_network.py"


def _digest() -> str:
    return hashlib.sha256(STUB.read_bytes()).hexdigest()


def test_checks_run_the_submitted_source_not_the_file() -> None:
    before = _digest()
    passed = run_checks("q_network", "exercises", names=["output shape"], sources={"q_network": REFERENCE})
    assert passed[0].passed, passed[0].message
    broken = REFERENCE.replace("def forward(", "def forward_renamed(")
    failed = run_checks("q_network", "exercises", names=["output shape"], sources={"q_network": broken})
    assert not failed[0].passed
    assert _digest() == before, "the submitted source must not be written into exercises/"
    assert not list((ROOT / "exercises").glob("_submitted*"))


def test_a_submitted_endless_loop_names_the_line_in_the_submitted_text(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check's own 15 s limit only makes the test wait: 3 s shows the same message.
    shorter = [dataclasses.replace(spec, timeout=3.0) for spec in checks_for("q_network")]
    monkeypatch.setattr(
        runner, "checks_for", lambda exercise: shorter if exercise == "q_network" else checks_for(exercise)
    )
    looping = REFERENCE.replace(
        "def forward(self, x: Tensor) -> Tensor:\n",
        "def forward(self, x: Tensor) -> Tensor:\n        while True:\n            pass\n",
        1,
    )
    assert looping != REFERENCE
    results = run_checks(
        "q_network", "exercises", names=["output shape", "parameter count"], sources={"q_network": looping}
    )
    assert "stuck in `forward` at exercises/q_network.py line" in results[0].message, results[0].message
    assert "`pass`" in results[0].message or "`while True:`" in results[0].message
    assert "not run" in results[1].message


def test_tasks_import_the_submitted_modules() -> None:
    config = PRESETS["lineworld"].replace(total_timesteps=300, learning_starts=100)
    broken = REFERENCE.replace("def forward(", "def forward_renamed(")
    outcome = run_task(
        "playground.tasks.training_task:training_task",
        timeout=120,
        sources={"q_network": broken},
        config=config.to_dict(),
        loop="solutions",
        network="exercises",
        buffer="solutions",
    )
    assert not outcome.ok, "the training must use the submitted (broken) network"
    fine = run_task(
        "playground.tasks.training_task:training_task",
        timeout=120,
        sources={"q_network": REFERENCE},
        config=config.to_dict(),
        loop="solutions",
        network="exercises",
        buffer="solutions",
    )
    assert fine.ok, fine.error


def test_the_stubs_import_after_the_app_root_changed() -> None:
    """A job may not list the app's root (Landlock); the exercise package must not need that listing.

    Python's finder lists a ``sys.path`` folder again once it changed since the fork server's imports:
    a file made and removed in the root after the warm-up used to make ``import exercises`` fail.
    """
    first = run_checks("q_network", "exercises", names=["output shape"])
    assert first[0].message.startswith("not implemented yet"), first[0].message
    probe = ROOT / ".probe-root-changed"
    probe.write_text("", encoding="utf-8")
    time.sleep(0.05)
    probe.unlink()
    again = run_checks("q_network", "exercises", names=["output shape"])
    assert again[0].message.startswith("not implemented yet"), again[0].message
