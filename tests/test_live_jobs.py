"""Runs that outlive a script run (playground.ui.live_jobs) and estimates from measured speed (tasks.speed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from playground.core.config import PRESETS
from playground.sandbox.executor import TaskOutcome
from playground.tasks import speed
from playground.tasks.training_task import TrainingReport, TrainingUpdate
from playground.ui import live_jobs

REFERENCE = {"loop": "solutions", "network": "solutions", "buffer": "solutions"}


def _training_step(total_timesteps: int) -> live_jobs.Step:
    config = PRESETS["lineworld"].replace(total_timesteps=total_timesteps, seed=4)
    return live_jobs.Step(
        "playground.tasks.training_task:training_task", "reference", {"config": config.to_dict(), **REFERENCE}
    )


def _wait_for_progress(job: live_jobs.LiveJob, seconds: float = 120.0) -> None:
    deadline = time.monotonic() + seconds
    while not any(isinstance(m, TrainingUpdate) for m in job.step_messages(0)):
        assert time.monotonic() < deadline, "no progress from the job"
        assert not job.done, job.outcomes
        time.sleep(0.1)


def test_a_stopped_job_keeps_its_partial_result_and_is_collected_once() -> None:
    job = live_jobs.start("test_stop", "t", [_training_step(300_000)], {"x": 1}, session_id="s-stop")
    _wait_for_progress(job)
    job.stop("stopped by you")
    assert job.wait(60)
    assert job.stop_reason == "stopped by you"
    report = job.outcomes[0].value
    assert isinstance(report, TrainingReport)
    assert report.stopped
    assert report.run.total_steps < 300_000
    assert report.gif[:3] == b"GIF", "the rollout is recorded after a stop too"
    kept: list[int] = []
    assert live_jobs.collect("test_stop", lambda j: kept.append(j.id), session_id="s-stop") is job
    assert kept == [job.id]
    assert live_jobs.current("test_stop", session_id="s-stop") is None


def test_a_stopped_script_run_without_a_new_run_is_the_toolbar_stop() -> None:
    job = live_jobs.start("test_toolbar", "t", [_training_step(300_000)], session_id="s-toolbar")
    _wait_for_progress(job)
    # A click (fast rerun) stops the script run too, but a new run of the session starts: the job goes on.
    before = live_jobs.script_runs("s-toolbar")
    job.script_stopped("stopped with the toolbar's Stop", before)
    live_jobs._runs["s-toolbar"] = before + 1
    time.sleep(live_jobs.SUSPECT_STOP_SECONDS + 1.0)
    assert not job.stop_reason
    # No new run after the stopped one: the toolbar's Stop (or a closed tab).
    job.script_stopped("stopped with the toolbar's Stop", before + 1)
    assert job.wait(60)
    assert str(job.stop_reason) == "stopped with the toolbar's Stop"
    assert job.outcomes[0].ok


def test_estimates_follow_what_this_machine_measured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(speed, "STORE_PATH", tmp_path / "speed.json")
    monkeypatch.setattr(speed, "_speeds", None)
    config = PRESETS["fast"].replace(reward_threshold=None)
    low, high = speed.estimate("test", config)
    assert high / low <= 2.0 + 1e-9
    assert "first guess" in speed.measured_note("test", config)
    modelled = speed.model_seconds(config)
    speed.record("test", config, train_seconds=3 * modelled, total_seconds=3 * modelled + 4.0)
    low, high = speed.estimate("test", config)
    middle = 3 * modelled + 4.0
    assert low == pytest.approx(middle * speed.SPREAD[0])
    assert high == pytest.approx(middle * speed.SPREAD[1])
    assert high / low <= 2.0 + 1e-9
    assert "1 run measured" in speed.measured_note("test", config)
    monkeypatch.setattr(speed, "_speeds", None)  # a restarted server reads what was measured
    assert speed.speed_for("test", config).samples == 1


def test_runs_that_stop_at_their_threshold_are_estimated_with_the_budget_they_use(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(speed, "STORE_PATH", tmp_path / "speed.json")
    monkeypatch.setattr(speed, "_speeds", None)
    config = PRESETS["fast"]
    assert config.reward_threshold is not None
    half = config.replace(total_timesteps=config.total_timesteps // 2)
    train = 2 * speed.model_seconds(half)
    speed.record("stops", config, train_seconds=train, total_seconds=train + 4.0, steps=half.total_timesteps)
    assert speed.speed_for("stops", config).used == pytest.approx(0.5)
    low, high = speed.estimate("stops", config)
    assert low < train + 4.0 < high, "the next run is expected to stop about where this one did"
    full = config.replace(reward_threshold=None)
    assert speed.estimate("stops", full)[0] > low, "without a threshold the whole budget is trained"


def test_duration_text() -> None:
    assert speed.duration_text((2.47, 4.94)) == "3-5 s", "2-5 s would be 2.5x wide"
    assert speed.duration_text((4.2, 9.4)) == "5-9 s"
    assert speed.duration_text((17.5, 35.0)) == "20-35 s"
    assert speed.duration_text((84.0, 168.0)) == "85-170 s"
    assert speed.duration_text((184.0, 368.0)) == "3-6 min"
    assert speed.duration_text((100.0, 400.0)) == "3-5 min", "a range wider than 2x is narrowed around its middle"
    assert speed.duration_text((0.3, 0.6)) == "about 1 s"


class _HeldTask:
    """A sandbox task stand-in that runs until released (or stopped): a run whose end the test decides."""

    def __init__(self) -> None:
        self.outcome: TaskOutcome | None = None
        self.release = threading.Event()

    def queue_position(self) -> int | None:
        return None

    def progress(self) -> Iterator[Any]:
        while not self.release.wait(0.02):
            yield None
        self.outcome = TaskOutcome(value="done")

    def stop(self, grace: float = 10.0) -> None:
        self.release.set()

    def cancel(self) -> None:
        self.release.set()


def _sidebar_lines() -> None:
    from playground.ui.job_panel import _draw_jobs_note

    _draw_jobs_note()


def test_the_sidebar_never_says_finished_while_a_new_run_of_that_page_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    sid = "s-sidebar"
    tasks: list[_HeldTask] = []

    def start_held_task(target: str, timeout: float = 600.0, **kwargs: Any) -> _HeldTask:
        tasks.append(_HeldTask())
        return tasks[-1]

    monkeypatch.setattr(live_jobs, "start_task", start_held_task)
    monkeypatch.setattr(live_jobs, "current_session_id", lambda: sid)
    step = live_jobs.Step("fake:task", "fake")
    at = AppTest.from_function(_sidebar_lines, default_timeout=30)
    first = live_jobs.start("training", "Training (first run)", [step], session_id=sid, sources={})
    try:
        while not tasks:
            time.sleep(0.01)
        tasks[0].release.set()
        assert first.wait(5)
        at.run()
        assert [c.value for c in at.caption] == [
            ":material/task_alt: Training (first run): finished; the results are on its page."
        ]
        # Train again on that page before its results were collected: the new run replaces the finished one.
        second = live_jobs.start("training", "Training (second run)", [step], session_id=sid, sources={})
        at.run()
        lines = [c.value for c in at.caption]
        assert not [line for line in lines if "finished" in line], lines
        assert len(lines) == 1
        assert "Training (second run): running for" in lines[0]
        tasks[-1].release.set()
        assert second.wait(5)
        at.run()
        assert [c.value for c in at.caption] == [
            ":material/task_alt: Training (second run): finished; the results are on its page."
        ]
    finally:
        for task in tasks:
            task.release.set()
        for job in live_jobs.session_jobs(sid):
            job.wait(5)
        live_jobs.collect("training", lambda job: None, session_id=sid)
