"""The helpers behind the Q-network and replay-buffer pages: reports, traces, tables and figures."""

from __future__ import annotations

import random
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import Tensor, nn

from playground.core.inspections import BufferTrace, NetworkReport, expected_parameters
from playground.sandbox.protocol import safe_loads
from playground.sandbox.runner import run_task
from playground.tasks.buffer_view import reference_trace
from playground.tasks.buffer_view import trace_buffer as run_trace
from playground.tasks.network_view import build_report, parse_widths, reference_report
from playground.views.buffer_figures import recent_transitions, slot_counts_figure, slots_figure
from playground.views.network_tables import (
    architecture_text,
    layer_table,
    parameter_formula,
    q_values_frame,
    report_problems,
)
from solutions.replay_buffer import ReplayBufferWithIndices


@pytest.mark.parametrize(
    ("text", "widths"),
    [("64, 64", (64, 64)), ("", ()), ("none", ()), ("[128 128]", (128, 128)), ("(32,)", (32,)), ("8;4", (8, 4))],
)
def test_parse_widths(text: str, widths: tuple[int, ...]) -> None:
    assert parse_widths(text) == widths


@pytest.mark.parametrize(
    ("text", "reason"), [("64, x", "whole number"), ("0", "between"), ("1,1,1,1,1,1,1", "at most")]
)
def test_parse_widths_rejects_bad_text(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_widths(text)


def test_formula_and_architecture() -> None:
    assert expected_parameters(4, 2, [64, 64]) == 4610
    assert parameter_formula(4, 2, [8]) == "(4+1)\\cdot 8 + (8+1)\\cdot 2 = 58"
    assert architecture_text(4, 2, []) == "4 → 2"


def test_reference_report_on_cartpole() -> None:
    report = reference_report("CartPole-v1", (16, 8), seed=3, obs_steps=4)
    assert report.state_dim == 4
    assert report.action_dim == 2
    assert report.total_parameters == report.expected_parameters == expected_parameters(4, 2, [16, 8])
    table = layer_table(report)
    assert list(table["type"]) == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert list(table["output"]) == ["(B, 16)", "(B, 16)", "(B, 8)", "(B, 8)", "(B, 2)"]
    assert report.greedy_action in (0, 1)
    assert report_problems(report) == []
    frame = q_values_frame({"ref": report})
    assert frame.shape == (2, 1)
    assert frame.index[0] == "0: push left"
    again = reference_report("CartPole-v1", (16, 8), seed=3, obs_steps=4)
    np.testing.assert_array_equal(report.q_values, again.q_values)


class UnusedLayerNet(nn.Module):
    """A buggy network: a registered layer that forward never calls, and a ReLU on the output."""

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: list[int]) -> None:
        super().__init__()
        self.first = nn.Linear(state_dim, action_dim)
        self.spare = nn.Linear(action_dim, action_dim)

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(self.first(x))


def test_report_shows_unused_layers_and_wrong_counts() -> None:
    report = build_report(UnusedLayerNet, "exercises", "LineWorld-v0", [4], seed=0, obs_steps=0)
    table = layer_table(report)
    assert list(table["layer"]) == ["first", "spare"]
    assert table["input"].iloc[1] == "not used"
    problems = " ".join(report_problems(report))
    assert "never ran" in problems
    assert "the formula gives" in problems


def test_describe_network_task_runs_in_the_sandbox() -> None:
    outcome = run_task(
        "playground.tasks.network_view:describe_network",
        timeout=60,
        impl="solutions",
        env_id="LineWorld-v0",
        hidden_dims=[8],
        seed=1,
    )
    assert outcome.ok, outcome.error
    assert isinstance(outcome.value, NetworkReport)
    assert outcome.value.q_values.shape == (2,)
    stub = run_task(
        "playground.tasks.network_view:describe_network",
        timeout=60,
        impl="exercises",
        env_id="LineWorld-v0",
        hidden_dims=[8],
    )
    assert stub.error.startswith("not implemented yet")


def test_reference_trace_follows_the_contract() -> None:
    trace = reference_trace("LineWorld-v0", capacity=6, steps=15, batch_size=3, n_batches=300, seed=2)
    assert trace.lengths == [min(n, 6) for n in range(1, 16)]
    assert trace.slot_contents(15) == [12, 13, 14, 9, 10, 11]
    assert trace.slot_contents(4) == [0, 1, 2, 3, None, None]
    assert len(trace.batch_indices) == 3
    assert all(trace.batch_rows_match)
    assert trace.slot_counts.sum() == 900
    assert trace.problems() == []
    table = recent_transitions(trace, 15, last=4)
    assert list(table["slot"]) == [5, 0, 1, 2]
    # reproducible, and the global random states are left as they were
    np.random.seed(123)
    again = reference_trace("LineWorld-v0", capacity=6, steps=15, batch_size=3, n_batches=300, seed=2)
    np.testing.assert_array_equal(trace.slot_counts, again.slot_counts)
    after = np.random.random()
    np.random.seed(123)
    assert after == np.random.random()


class SloppyBuffer(ReplayBufferWithIndices):
    """Buggy: len counts pushes, and sampling is with replacement over the whole capacity."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.pushes = 0

    def push(self, *args: Any) -> None:
        super().push(*args)
        self.pushes += 1

    def __len__(self) -> int:
        return self.pushes

    def sample_indices(self, batch_size: int) -> Any:
        idx = np.array([random.randrange(self.capacity) for _ in range(batch_size)])
        return self.states[idx], self.actions[idx], self.rewards[idx], self.next_states[idx], self.dones[idx], idx


def test_trace_of_a_buggy_buffer_lists_its_problems() -> None:
    trace = run_trace(SloppyBuffer, "exercises", "LineWorld-v0", 10, 6, 4, 200, 0)
    problems = " ".join(trace.problems())
    assert "len is 6 after 6 pushes" not in problems  # 6 pushes into 10 slots: len 6 is right
    assert "with replacement" in problems
    assert "empty slots" in problems
    trace = run_trace(SloppyBuffer, "exercises", "LineWorld-v0", 4, 6, 2, 50, 0)
    assert "len is 5 after 5 pushes, expected 4" in " ".join(trace.problems())


def test_trace_records_a_sampling_error() -> None:
    trace = reference_trace("CartPole-v1", capacity=5, steps=3, batch_size=4, n_batches=10, seed=0)
    assert "ValueError" in trace.sample_error
    assert trace.problems()[0].startswith("sampling failed")


def test_buffer_trace_task_round_trips_through_the_safe_unpickler() -> None:
    outcome = run_task(
        "playground.tasks.buffer_view:buffer_trace",
        timeout=60,
        impl="solutions",
        env_id="CartPole-v1",
        capacity=8,
        steps=12,
        batch_size=2,
        n_batches=50,
        seed=0,
    )
    assert outcome.ok, outcome.error
    assert isinstance(outcome.value, BufferTrace)
    assert outcome.value.states.shape == (12, 4)
    import pickle

    assert isinstance(safe_loads(pickle.dumps(outcome.value)), BufferTrace)


def test_figures_draw() -> None:
    trace = reference_trace("LineWorld-v0", capacity=25, steps=30, batch_size=4, n_batches=100, seed=0)
    # One cell per slot (plus the outline of the write position), one bar per slot.
    for fig in (slots_figure(trace, 30, trace.batch_indices), slots_figure(trace, 3)):
        assert len(fig.axes[0].patches) == trace.capacity + 1
        plt.close(fig)
    counts = slot_counts_figure(trace)
    assert len(counts.axes[0].containers[0]) == trace.capacity
    plt.close(counts)
