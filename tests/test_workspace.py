"""The deployed rule, and that submitted code never lands in the app's directory on a deployed configuration."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from playground.core import workspace
from playground.sandbox.hardening import install_sources
from playground.sandbox.runner import run_checks, run_task

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
SKIP_DIRS = {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", "artifacts"}


@pytest.mark.parametrize(
    ("env", "root", "deployed"),
    [
        ({}, "/home/me/dqn-playground", False),
        ({"PLAYGROUND_DEPLOYED": "1"}, "/home/me/dqn-playground", True),
        ({"PLAYGROUND_DEPLOYED": "true"}, "/home/me/dqn-playground", True),
        ({}, "/mount/src/dqn-playground", True),  # Streamlit Community Cloud clones apps here
        ({"HOSTNAME": "streamlit"}, "/app", True),
        ({"PLAYGROUND_DEPLOYED": "0"}, "/mount/src/dqn-playground", False),  # an explicit false wins
        ({"PLAYGROUND_DEPLOYED": ""}, "/home/me/dqn-playground", False),
    ],
)
def test_the_deployed_rule(env: dict[str, str], root: str, deployed: bool) -> None:
    assert workspace.is_deployed(env, Path(root)) is deployed


def test_save_only_from_a_writable_clone(tmp_path: Path) -> None:
    (tmp_path / "exercises").mkdir()
    clone = {"PLAYGROUND_DEPLOYED": "0"}
    assert workspace.can_save(clone, tmp_path)
    path = workspace.save_exercise("q_network", "# mine\n", tmp_path, clone)
    assert path.read_text() == "# mine\n"
    with pytest.raises(PermissionError):
        workspace.save_exercise("q_network", "# deployed\n", tmp_path, {"PLAYGROUND_DEPLOYED": "1"})
    assert path.read_text() == "# mine\n"
    (tmp_path / "exercises").chmod(0o500)
    try:
        assert not workspace.can_save(clone, tmp_path) or os.geteuid() == 0
    finally:
        (tmp_path / "exercises").chmod(0o700)
    with pytest.raises(ValueError, match="unknown exercise"):
        workspace.save_exercise("../evil", "x", tmp_path, clone)


def test_uploads_are_decoded_or_refused() -> None:
    assert workspace.decode_upload(b"\xef\xbb\xbfx = 1\r\n") == "x = 1\n"
    with pytest.raises(ValueError, match="UTF-8"):
        workspace.decode_upload(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="far smaller"):
        workspace.decode_upload(b"#" * (workspace.MAX_SOURCE_BYTES + 1))


def test_source_names_are_module_names(tmp_path: Path) -> None:
    for bad in ("../x", "a/b", "__init__", "x.py", ""):
        scratch = tmp_path / f"bad{len(list(tmp_path.iterdir()))}"
        scratch.mkdir()
        with pytest.raises(ValueError, match="not an exercise module name"):
            install_sources({bad: "x = 1"}, str(scratch))
    saved = {name: module for name, module in sys.modules.items() if name.split(".")[0] == "exercises"}
    try:
        install_sources({"q_network": "x = 1\n"}, str(tmp_path))
        package = sys.modules["exercises"]
        assert Path(package.__path__[0], "q_network.py").read_text() == "x = 1\n"
        assert Path(package.__path__[1]) == ROOT / "exercises"  # what was not submitted comes from disk
        assert str(tmp_path) in package.__path__[0]
    finally:
        for name in [name for name in sys.modules if name.split(".")[0] == "exercises"]:
            del sys.modules[name]
        sys.modules.update(saved)


def _files_containing(marker: str) -> Iterator[Path]:
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            path = Path(folder) / name
            if marker in name:
                yield path
                continue
            try:
                if path.stat().st_size < 5_000_000 and marker.encode() in path.read_bytes():
                    yield path
            except OSError:
                continue


def test_submitted_code_never_lands_in_the_app_directory_when_deployed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Check, a task and the page's editor on a deployed configuration: the app's directory never holds the code."""
    monkeypatch.setenv(workspace.DEPLOYED_ENV, "1")
    marker = f"SUBMITTED_{uuid.uuid4().hex}"
    solution = (ROOT / "solutions" / "q_network.py").read_text(encoding="utf-8")
    code = f"{solution}\n# {marker}\nopen('{marker}.txt', 'w').write('written by learner code')\n"
    before = {p: p.read_bytes() for p in (ROOT / "exercises").glob("*.py")}

    results = run_checks("q_network", sources={"q_network": code})
    assert all(r.passed for r in results), [(r.check, r.message) for r in results if not r.passed]
    outcome = run_task(
        "playground.tasks.network_view:describe_network",
        timeout=60,
        sources={"q_network": code},
        impl="exercises",
        env_id="CartPole-v1",
        hidden_dims=[8],
        seed=0,
        obs_steps=1,
    )
    assert outcome.ok, outcome.error

    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("pages/1_q_network.py").run()
    at.toggle(key="editor_plain_text").set_value(True).run()
    [box] = [t for t in at.text_area if str(t.key).startswith("plain_editor_q_network_")]
    box.set_value(code).run()
    assert not [b for b in at.button if b.label.startswith("Save to exercises/")]
    [check] = [b for b in at.button if b.label == "Check my code"]
    check.click().run()
    assert not at.exception

    assert list(_files_containing(marker)) == []
    assert {p: p.read_bytes() for p in (ROOT / "exercises").glob("*.py")} == before


def test_the_training_swap_runs_submitted_components_beside_the_reference() -> None:
    """The training page's component swap (my loop with the reference network, ...) imports submitted code."""
    from playground.core.config import PRESETS
    from playground.tasks.training_task import TrainingReport

    config = PRESETS["lineworld"].replace(total_timesteps=300, learning_starts=50, eval_freq=0, reward_threshold=None)
    loop = (ROOT / "solutions" / "train_dqn.py").read_text(encoding="utf-8")
    network = (ROOT / "solutions" / "q_network.py").read_text(encoding="utf-8")
    outcome = run_task(
        "playground.tasks.training_task:training_task",
        timeout=120,
        sources={"train_dqn": loop, "q_network": network},
        config=config.to_dict(),
        loop="exercises",
        network="exercises",
        buffer="solutions",
    )
    assert outcome.ok, outcome.error
    assert isinstance(outcome.value, TrainingReport)
    stub = run_task(
        "playground.tasks.training_task:training_task",
        timeout=120,
        sources={"q_network": network},  # the loop is still the stub on disk
        config=config.to_dict(),
        loop="exercises",
        network="exercises",
        buffer="solutions",
    )
    assert not stub.ok
    assert "not implemented yet" in stub.error
