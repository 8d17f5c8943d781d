"""The training page and the pieces behind it: settings <-> URL, plots, the sandbox task, an AppTest run."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")

from pathlib import Path

import numpy as np
import pytest
from apptest_support import settle_runs
from streamlit.testing.v1 import AppTest

from playground.core.config import PRESETS, DQNConfig
from playground.sandbox.runner import run_task, start_task
from playground.tasks.snapshot import TrainedNetwork
from playground.tasks.training_task import TrainingReport, TrainingUpdate, episode_csv, run_label
from playground.ui import training_settings as ts
from playground.views.training_plots import moving_average, probe_figure, q_table_figure, reward_figure, series_figure

ROOT = Path(__file__).resolve().parent.parent
ALL_REFERENCE: dict[str, Any] = {"loop": "solutions", "network": "solutions", "buffer": "solutions"}


def test_settings_round_trip_through_the_url() -> None:
    config = PRESETS["fast"].replace(seed=3, hidden_dims=(64, 32), reward_threshold=None, eval_freq=0)
    impls = {"loop": "exercises", "network": "solutions", "buffer": "exercises"}
    query = ts.settings_to_query(config, impls, "fast")
    assert all(isinstance(value, str) for value in query.values())
    back = ts.settings_from_query(query)
    assert back.config == config
    assert back.impls == impls
    assert back.preset == "fast"
    assert back.problems == []


def test_bad_url_values_are_reported_and_skipped() -> None:
    back = ts.settings_from_query(
        {"preset": "nope", "learning_rate": "fast", "gamma": "2", "hidden_dims": "a,b", "loop": "mine", "seed": "9"}
    )
    assert back.preset == ts.DEFAULT_PRESET
    assert back.config == PRESETS[ts.DEFAULT_PRESET].replace(seed=9)
    assert back.impls == ALL_REFERENCE
    assert len(back.problems) == 5


def test_every_setting_has_a_range_and_a_meaning() -> None:
    rows = ts.settings_table(DQNConfig())
    assert [row["setting"] for row in rows] == list(ts.FIELD_ORDER)
    assert all(row["range"] and row["meaning"] for row in rows)


def test_parse_hidden_dims() -> None:
    assert ts.parse_hidden_dims(" 128, 64 ") == (128, 64)
    with pytest.raises(ValueError, match="whole numbers"):
        ts.parse_hidden_dims("128, x")
    with pytest.raises(ValueError, match="at least one"):
        ts.parse_hidden_dims(" , ")


def test_moving_average_is_trailing() -> None:
    assert moving_average([2.0, 4.0, 6.0, 8.0], 3).tolist() == [2.0, 3.0, 4.0, 6.0]
    assert moving_average([], 5).size == 0


def test_figures_draw_from_plain_data() -> None:
    rewards = {"mine": [1.0, 2.0, 3.0], "reference": [3.0, 2.0]}
    assert len(reward_figure(rewards, 2, threshold=2.5).axes[0].get_lines()) == 5
    assert series_figure({"a": ([1, 2, 3], [0.5, 0.2, 0.1])}, ylabel="loss", title="t", window=2, log_y=True).axes
    assert len(probe_figure([0, 10], [[0.0, 1.0], [0.5, 0.2]], ("left", "right")).axes[0].get_lines()) == 2
    table = q_table_figure(np.arange(16, dtype=float).reshape(8, 2), ("left", "right"))
    assert len(table.axes[0].texts) == 16


def test_training_task_returns_plain_data() -> None:
    config = PRESETS["lineworld"].replace(total_timesteps=1500, seed=1)
    outcome = run_task(
        "playground.tasks.training_task:training_task",
        timeout=180,
        config=config.to_dict(),
        **dict[str, Any](ALL_REFERENCE),
    )
    assert outcome.ok, outcome.error
    report = outcome.value
    assert isinstance(report, TrainingReport)
    assert report.run.label == "reference"
    assert report.run.greedy_returns == pytest.approx([0.4] * 20)
    assert report.q_table is not None
    assert report.q_table.shape == (8, 2)
    assert report.gif[:6] in (b"GIF87a", b"GIF89a")
    assert report.snapshot is not None
    assert report.snapshot.hidden_dims == (32,)
    assert episode_csv(report).splitlines()[0] == "episode,end_step,length,return"
    assert len(episode_csv(report).splitlines()) == len(report.run.episode_rewards) + 1
    assert report.reward_plot is not None, report.reward_plot_error
    assert report.reward_plot[:4] == b"\x89PNG"


def test_a_loop_whose_plot_rewards_fails_still_reports_its_run() -> None:
    """The loop's own ``plot_rewards`` draws the run; when it cannot, that is a message, not a failed run."""
    loop = (ROOT / "solutions" / "train_dqn.py").read_text(encoding="utf-8")
    broken = (
        loop + "\n\ndef plot_rewards(*args: object, **kwargs: object) -> None:\n    raise RuntimeError('no plot')\n"
    )
    config = PRESETS["lineworld"].replace(total_timesteps=600, seed=1)
    outcome = run_task(
        "playground.tasks.training_task:training_task",
        timeout=180,
        sources={"train_dqn": broken},
        config=config.to_dict(),
        loop="exercises",
        network="solutions",
        buffer="solutions",
    )
    assert outcome.ok, outcome.error
    report = outcome.value
    assert isinstance(report, TrainingReport)
    assert report.run.total_steps == 600
    assert report.reward_plot is None
    assert report.reward_plot_error.startswith("plot_rewards failed: raised RuntimeError: no plot")


def test_training_task_reports_the_stub_clearly() -> None:
    outcome = run_task(
        "playground.tasks.training_task:training_task",
        timeout=120,
        config=PRESETS["lineworld"].to_dict(),
        loop="exercises",
        network="solutions",
        buffer="solutions",
    )
    assert not outcome.ok
    assert "not implemented yet" in outcome.error


def test_run_labels() -> None:
    assert run_label(ALL_REFERENCE) == "reference"
    assert run_label(dict.fromkeys(ALL_REFERENCE, "exercises")) == "mine"
    assert (
        run_label({**ALL_REFERENCE, "buffer": "exercises"})
        == "mixed (loop: reference, network: reference, buffer: mine)"
    )


def test_page_trains_lineworld_and_shows_results() -> None:
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240)
    app.run()
    app.switch_page("pages/3_training.py")
    app.run()
    assert not app.exception
    assert app.query_params["preset"] == ["lineworld"] or app.query_params["preset"] == "lineworld"
    app.number_input(key="tr_total_timesteps").set_value(1200)
    app.run()
    app.button(key="tr_train").click()
    app.run()
    settle_runs(app)
    assert not app.exception
    assert not app.error
    reports = app.session_state["training_reports"]
    assert list(reports) == ["reference"]
    assert reports["reference"].run.total_steps == 1200
    assert any("±" in metric.value for metric in app.metric)
    networks = app.session_state["trained_networks"]
    assert any(isinstance(n, TrainedNetwork) and n.env_id == "LineWorld-v0" for n in networks.values())
    assert app.session_state["training_config"]["total_timesteps"] == 1200
    # LineWorld's solved threshold (a hair below 0.4 for float sums) is shown as 0.4.
    text = " ".join(str(block.value) for block in app.markdown)
    assert "0.399999" not in text
    assert "mean >= 0.4" in text or "needs 0.4)" in text, text


def test_progress_updates_place_each_episode_at_the_env_step_it_ended() -> None:
    """The live chart is drawn against env steps, as the results are."""

    config = PRESETS["lineworld"].replace(total_timesteps=1500, seed=2)
    handle = start_task(
        "playground.tasks.training_task:training_task",
        timeout=300,
        config=config.to_dict(),
        loop="solutions",
        network="solutions",
        buffer="solutions",
    )
    updates = [m for m in handle.progress() if isinstance(m, TrainingUpdate)]
    assert handle.outcome is not None
    report = handle.outcome.value
    assert isinstance(report, TrainingReport), handle.outcome.error
    steps = [s for u in updates for s in u.new_end_steps]
    rewards = [r for u in updates for r in u.new_rewards]
    assert len(steps) == len(rewards) == len(report.run.episode_rewards)
    assert steps == list(report.run.episode_end_steps)


def test_page_reads_settings_from_the_url() -> None:
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    app.run()
    app.query_params["preset"] = "fast"
    app.query_params["seed"] = "11"
    app.query_params["gamma"] = "5"
    app.switch_page("pages/3_training.py")
    app.run()
    assert not app.exception
    assert app.number_input(key="tr_seed").value == 11
    assert app.number_input(key="tr_gamma").value == PRESETS["fast"].gamma
    assert any("gamma" in warning.value for warning in app.warning)


def test_stopping_a_run_keeps_what_was_learned() -> None:
    config = PRESETS["lineworld"].replace(total_timesteps=200_000, seed=2)
    handle = start_task(
        "playground.tasks.training_task:training_task",
        timeout=180,
        config=config.to_dict(),
        **dict[str, Any](ALL_REFERENCE),
    )
    for message in handle.progress():
        if isinstance(message, TrainingUpdate) and message.episodes_done > 0:
            handle.stop()
    outcome = handle.wait()
    assert outcome.ok, outcome.error
    assert outcome.stopped
    report = outcome.value
    assert isinstance(report, TrainingReport)
    assert report.stopped
    assert report.run.stop_reason.startswith("stopped by the callback")
    assert report.run.total_steps < config.total_timesteps
    assert len(report.run.greedy_returns) == 20
    assert report.snapshot is not None


def test_settings_and_implementations_survive_a_visit_to_another_page() -> None:
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=60)
    app.run()
    app.switch_page("pages/3_training.py")
    app.run()
    app.number_input(key="tr_gamma").set_value(0.9)
    app.radio(key="tr_impl_buffer").set_value("exercises")
    app.run()
    app.switch_page("pages/1_q_network.py")
    app.run()
    app.switch_page("pages/3_training.py")
    app.run()
    assert not app.exception
    assert app.number_input(key="tr_gamma").value == 0.9
    assert app.number_input(key="tr_total_timesteps").value == PRESETS["lineworld"].total_timesteps
    assert app.radio(key="tr_impl_buffer").value == "exercises"
    assert app.radio(key="tr_impl_loop").value == "solutions"
    assert not any("cannot run" in error.value for error in app.error)
