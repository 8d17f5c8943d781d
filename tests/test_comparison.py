"""Reference vs SB3: plain-data results, stop, curves, reading, the hyperparameter table, and the page."""

from __future__ import annotations

import dataclasses
import io
import math
from collections.abc import Iterator

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import torch
from apptest_support import settle_runs
from streamlit.testing.v1 import AppTest

from playground.core.config import PRESETS, DQNConfig
from playground.core.results import RunRecord
from playground.sandbox.protocol import MessageReader, write_message
from playground.sb3 import comparison as cmp
from playground.sb3.adapter import format_value, sb3_default_text
from playground.sb3.hyperparams import (
    HYPERPARAMETER_NOTES,
    MEANING_COLUMNS,
    hyperparameter_markdown,
    hyperparameter_rows,
    value_columns,
)

TINY = PRESETS["lineworld"].replace(total_timesteps=200, learning_starts=50)
PAGE = "pages/6_reference_comparison.py"


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """One intra-op thread, as in the sandbox: on a busy 2-core machine two threads make tiny nets ~20x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _summary(impl: str, seed: int, rewards: list[float], lengths: list[int], greedy: list[float]) -> RunRecord:
    ends = list(np.cumsum(lengths).tolist())
    return RunRecord(
        label=impl,
        env_id="CartPole-v1",
        seed=seed,
        threshold=475.0,
        episode_rewards=rewards,
        episode_lengths=lengths,
        episode_end_steps=ends,
        eval_steps=[],
        eval_means=[],
        greedy_returns=greedy,
        total_steps=ends[-1] if ends else 0,
        gradient_updates=10,
        wall_time=2.0,
        eval_time=0.5,
        stop_reason="finished",
    )


def test_comparison_trains_both_on_the_same_seeds_and_crosses_the_sandbox_as_plain_data() -> None:
    messages: list[object] = []
    result = cmp.run_comparison(TINY, seeds=(0, 1), final_eval_episodes=2, emit=messages.append)
    order = [(r.label, r.seed) for r in result.runs]
    assert order == [("reference", 0), ("sb3", 0), ("reference", 1), ("sb3", 1)]
    assert not result.stopped
    for run in result.runs:
        assert run.total_steps == 200
        assert len(run.greedy_returns) == 2
        assert len(run.episode_rewards) == len(run.episode_end_steps) > 0
    assert sum(isinstance(m, RunRecord) for m in messages) == 4
    progress = [m for m in messages if isinstance(m, cmp.ComparisonProgress)]
    assert progress
    assert all(0.0 <= p.fraction <= 1.0 for p in progress)
    # What the sandbox sends, the app's safe unpickler rebuilds.
    stream = io.BytesIO()
    write_message(stream, result)
    (rebuilt,) = MessageReader().feed(stream.getvalue())
    assert rebuilt == result


def test_stop_keeps_the_finished_run_and_skips_the_rest() -> None:
    calls = [0]

    def stop_after_first_progress() -> bool:
        calls[0] += 1
        return calls[0] > 1

    result = cmp.run_comparison(TINY, seeds=(0, 1), final_eval_episodes=1, should_stop=stop_after_first_progress)
    assert result.stopped
    assert [r.label for r in result.runs] == ["reference"]
    assert result.runs[0].total_steps < 200
    assert result.runs[0].stop_reason.startswith("stopped by the callback")
    assert cmp.plain_reading(result)[0].startswith("The comparison was stopped early")


def test_stop_before_anything_runs() -> None:
    result = cmp.run_comparison(TINY, seeds=(0,), should_stop=lambda: True)
    assert result.stopped
    assert result.runs == ()


def test_bad_arguments_are_refused_with_a_message() -> None:
    with pytest.raises(ValueError, match="at least one seed"):
        cmp.run_comparison(TINY, seeds=())
    with pytest.raises(ValueError, match="final_eval_episodes"):
        cmp.run_comparison(TINY, final_eval_episodes=0)
    with pytest.raises(ValueError, match="implementation"):
        cmp.train_one("yours", TINY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="implementations"):
        cmp.run_comparison(TINY, implementations=("nope",))


def test_curves_csv_and_reading_from_a_hand_made_result() -> None:
    runs = (
        _summary("reference", 0, [-1.0, 0.0, 0.4], [10, 10, 8], [0.4, 0.4]),
        _summary("sb3", 0, [-2.0, 0.4], [20, 8], [0.4, 0.2]),
    )
    result = cmp.ComparisonResult(TINY.replace(loss="mse"), (0,), 2, runs)
    grid = np.array([5.0, 10.0, 15.0, 28.0, 40.0])
    curve = cmp.smoothed_curve(runs[0], 2, grid)
    assert math.isnan(curve[0])
    assert curve[1] == -1.0
    assert curve[2] == pytest.approx(-0.75)
    assert curve[3] == pytest.approx(0.2)
    assert math.isnan(curve[4])
    _, means, per_seed = cmp.mean_curves(result, window=1)
    assert set(means) == {"reference", "sb3"}
    assert len(per_seed["sb3"]) == 1
    figure = cmp.learning_curve_figure(result, window=2)
    assert figure.axes[0].get_xlabel() == "environment steps"
    csv = cmp.episodes_csv(result).splitlines()
    assert csv[0] == "implementation,seed,episode,end_step,reward,length"
    assert len(csv) == 1 + 3 + 2
    assert csv[1] == "reference,0,1,10,-1,10"
    rows = cmp.summary_rows(result)
    assert [r["implementation"] for r in rows] == [cmp.IMPL_TITLES["reference"], cmp.IMPL_TITLES["sb3"]]
    assert rows[0]["env steps / s"] == pytest.approx(28 / 1.5, abs=0.1)
    reading = " ".join(cmp.plain_reading(result))
    assert "mse" in reading
    assert "Huber" in reading
    assert "reference 1 of 1 runs, SB3 0 of 1" in reading
    assert "One seed" in reading


def test_every_hyperparameter_is_explained_with_presets_and_sb3_defaults() -> None:
    names = [f.name for f in dataclasses.fields(DQNConfig)]
    assert set(HYPERPARAMETER_NOTES) == set(names), "a DQNConfig field has no explanation"
    for note in HYPERPARAMETER_NOTES.values():
        assert note.controls
        assert note.too_small
        assert note.too_large
    current = TINY
    rows = hyperparameter_rows(current=current)
    assert [row["Setting"] for row in rows] == names
    by_name = {row["Setting"]: row for row in rows}
    for preset_name, preset in PRESETS.items():
        assert by_name["learning_starts"][preset_name] == format_value(preset.learning_starts)
        assert by_name["hidden_dims"][preset_name] == str(list(preset.hidden_dims))
    assert by_name["total_timesteps"]["This run"] == "200"
    assert by_name["target_update_interval"]["SB3 default"] == sb3_default_text("target_update_interval")
    assert "never trained" in by_name["learning_starts"]["Too large"]
    meaning = hyperparameter_markdown(rows, MEANING_COLUMNS)
    assert meaning.count("\n") == len(names) + 1
    assert "$\\gamma$" in meaning
    values = hyperparameter_markdown(rows, value_columns(rows))
    assert "SB3 default" in values
    assert "Too small" not in values


def _open_page() -> AppTest:
    app = AppTest.from_file("../streamlit_app.py", default_timeout=60)
    app.run()
    app.switch_page(PAGE)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_page_trains_both_with_a_small_budget_and_keeps_the_result() -> None:
    app = _open_page()
    assert any("Every hyperparameter" in h.value for h in app.subheader)
    app.number_input(key="cmp_lineworld_total_timesteps").set_value(400)
    app.button(key="cmp_train").click()
    app.run(timeout=240)
    settle_runs(app)
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    result = app.session_state["comparison_result"]
    assert isinstance(result, cmp.ComparisonResult)
    assert [r.label for r in result.runs] == ["reference", "sb3"]
    assert all(r.total_steps == 400 for r in result.runs)
    assert any("Greedy play" in m.value for m in app.markdown)
    # A rerun (any widget) keeps the result.
    app.slider(key="cmp_window").set_value(5)
    app.run()
    assert app.session_state["comparison_result"] is result


def test_page_refuses_invalid_settings_with_a_message() -> None:
    app = _open_page()
    app.number_input(key="cmp_lineworld_gradient_steps").set_value(0)
    app.run()
    assert any("not valid" in e.value for e in app.error)
    assert app.button(key="cmp_train").disabled


def test_settings_from_the_training_page_are_offered_when_valid() -> None:
    keys = ("training_config",)
    assert cmp.config_from_state({}, keys) is None
    assert cmp.config_from_state({"training_config": TINY}, keys) == TINY
    assert cmp.config_from_state({"training_config": TINY.to_dict()}, keys) == TINY
    broken = {**TINY.to_dict(), "gamma": 7.0}
    assert cmp.config_from_state({"training_config": broken}, keys) is None


def test_page_starts_from_the_training_page_settings() -> None:
    app = _open_page()
    app.session_state["training_config"] = TINY.replace(total_timesteps=1_234).to_dict()
    app.run()
    app.radio(key="cmp_source").set_value("My settings from the training page")
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.number_input(key="cmp_training_total_timesteps").value == 1_234


def test_evaluations_during_training_are_drawn_and_read() -> None:
    config = TINY.replace(eval_freq=10, eval_episodes=2, reward_threshold=0.3)
    solved = dataclasses.replace(
        _summary("reference", 0, [-1.0, 0.4], [10, 8], [0.4]),
        eval_steps=[10],
        eval_means=[0.4],
        stop_reason="solved: greedy mean 0.4 >= 0.3 at env step 10",
        total_steps=10,
    )
    unsolved = dataclasses.replace(_summary("sb3", 0, [-1.0, -2.0], [10, 20], [-5.0]), eval_steps=[10, 20])
    unsolved = dataclasses.replace(unsolved, eval_means=[-1.0, -2.0])
    result = cmp.ComparisonResult(config, (0,), 1, (solved, unsolved))
    figure = cmp.evaluation_figure(result)
    assert figure is not None
    assert len(figure.axes[0].lines) == 3  # two runs and the threshold
    reading = " ".join(cmp.plain_reading(result))
    assert "the reference in 1 of 1 runs, after 10 env steps" in reading
    assert "SB3 in 0 of 1 runs" in reading
    assert cmp.evaluation_figure(cmp.ComparisonResult(TINY, (0,), 1, (unsolved,))) is not None
    no_evals = cmp.ComparisonResult(TINY, (0,), 1, (_summary("sb3", 0, [1.0], [5], [1.0]),))
    assert cmp.evaluation_figure(no_evals) is None


def test_the_learners_loop_joins_the_comparison_and_its_failure_is_a_note() -> None:
    """The stub raises NotImplementedError: the reference and SB3 still run, and the reading says why mine did not."""
    result = cmp.run_comparison(
        TINY.replace(total_timesteps=300), (0,), final_eval_episodes=2, implementations=("mine", "reference")
    )
    assert [r.label for r in result.runs] == ["reference"]
    assert result.notes
    assert "not implemented yet" in result.notes[0]
    assert any("Your loop failed" in line for line in cmp.plain_reading(result))


def test_live_curves_come_from_progress_and_finished_runs() -> None:
    progress = cmp.ComparisonProgress("sb3", 0, 1, 2, 30, 100, 3, 1.0, None, (0.5, 1.0), (10, 30))
    finished = _summary("reference", 0, [-1.0, 0.4], [10, 8], [0.4])
    frame = cmp.live_curve_frame([progress, finished], window=2)
    assert set(frame["implementation"]) == {cmp.IMPL_TITLES["sb3"], cmp.IMPL_TITLES["reference"]}
    assert cmp.live_curve_chart(frame) is not None
