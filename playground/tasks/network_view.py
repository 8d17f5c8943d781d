"""Exercise 1 made visible: a network's layers, parameter counts and Q-values on a real observation.

:func:`describe_network` is a sandbox task (``playground.tasks.network_view:describe_network``):
it builds the learner's (or the reference) ``CustomQNetwork`` in the child
process, records every layer that runs during one forward pass, and returns a
plain :class:`NetworkReport`. :func:`reference_report` builds the same report
for the reference in the app's own process (no child needed). The table and
chart helpers below turn reports into pandas frames for the page.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray
from torch import nn

from playground.core.envs import ACTION_NAMES, env_dims, make_env
from playground.core.facts import impl_module

MAX_HIDDEN_LAYERS = 6
MAX_WIDTH = 1024


@dataclass(frozen=True)
class LayerRow:
    """One leaf module as it ran in the forward pass (shapes without the batch axis)."""

    name: str
    kind: str
    input_shape: tuple[int, ...] | None
    output_shape: tuple[int, ...] | None
    parameters: int


@dataclass(frozen=True)
class NetworkReport:
    """What the page shows about one network: its layers, sizes and Q-values on one observation."""

    impl: str
    env_id: str
    state_dim: int
    action_dim: int
    hidden_dims: tuple[int, ...]
    layers: list[LayerRow]
    total_parameters: int
    expected_parameters: int
    observation: NDArray[np.float32]
    q_values: NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, dtype=np.float32))
    error: str = ""

    @property
    def greedy_action(self) -> int | None:
        if self.q_values.size != self.action_dim or not np.all(np.isfinite(self.q_values)):
            return None
        return int(np.argmax(self.q_values))

    @property
    def action_names(self) -> tuple[str, ...]:
        return action_names(self.env_id, self.action_dim)


def action_names(env_id: str, action_dim: int) -> tuple[str, ...]:
    names = ACTION_NAMES.get(env_id, ())
    if len(names) == action_dim:
        return tuple(f"{i}: {name}" for i, name in enumerate(names))
    return tuple(f"action {i}" for i in range(action_dim))


def parse_widths(text: str) -> tuple[int, ...]:
    """``"64, 64"`` -> ``(64, 64)``; empty (or "none") means no hidden layer. Raises ``ValueError`` with a reason."""
    cleaned = text.strip().strip("[]()").strip()
    if cleaned.lower() in ("", "none", "-"):
        return ()
    parts = [part.strip() for part in cleaned.replace(";", ",").replace(" ", ",").split(",") if part.strip()]
    widths: list[int] = []
    for part in parts:
        try:
            width = int(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a whole number: write widths like 64, 64") from None
        if not 1 <= width <= MAX_WIDTH:
            raise ValueError(f"each width must be between 1 and {MAX_WIDTH}, got {width}")
        widths.append(width)
    if len(widths) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"at most {MAX_HIDDEN_LAYERS} hidden layers here, got {len(widths)}")
    return tuple(widths)


def layer_shapes(state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> list[tuple[int, int]]:
    return list(itertools.pairwise([state_dim, *hidden_dims, action_dim]))


def expected_parameters(state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> int:
    """$\\sum_i (h_{i-1} + 1)\\, h_i$: a weight per input-output pair plus a bias per output."""
    return sum((a + 1) * b for a, b in layer_shapes(state_dim, action_dim, hidden_dims))


def parameter_formula(state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> str:
    """The parameter count written out as a LaTeX sum, e.g. ``(4+1)\\cdot 64 + (64+1)\\cdot 2 = 450``."""
    terms = " + ".join(f"({a}+1)\\cdot {b}" for a, b in layer_shapes(state_dim, action_dim, hidden_dims))
    total = f"{expected_parameters(state_dim, action_dim, hidden_dims):,}".replace(",", "{,}")
    return f"{terms} = {total}"


def architecture_text(state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> str:
    return " → ".join(str(width) for width in [state_dim, *hidden_dims, action_dim])


def observation_for(env_id: str, seed: int, steps: int) -> NDArray[np.float32]:
    """A real observation: reset with ``seed`` and take ``steps`` random actions (resetting at episode ends)."""
    env = make_env(env_id)
    try:
        obs, _ = env.reset(seed=seed)
        env.action_space.seed(seed)
        for _ in range(steps):
            obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                obs, _ = env.reset()
        return np.asarray(obs, dtype=np.float32).copy()
    finally:
        env.close()


@contextmanager
def _record_leaves(net: nn.Module) -> Iterator[list[LayerRow]]:
    rows: list[LayerRow] = []
    names = {module: name for name, module in net.named_modules()}

    def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        first = args[0] if args else None
        rows.append(
            LayerRow(
                name=names.get(module, "?") or "(root)",
                kind=type(module).__name__,
                input_shape=tuple(first.shape[1:]) if isinstance(first, torch.Tensor) else None,
                output_shape=tuple(output.shape[1:]) if isinstance(output, torch.Tensor) else None,
                parameters=sum(p.numel() for p in module.parameters(recurse=False)),
            )
        )

    leaves = [module for module in net.modules() if not list(module.children())]
    handles = [module.register_forward_hook(hook) for module in leaves]
    try:
        yield rows
    finally:
        for handle in handles:
            handle.remove()


def build_report(
    network_cls: Any, impl: str, env_id: str, hidden_dims: Sequence[int], seed: int, obs_steps: int
) -> NetworkReport:
    """Build ``network_cls`` for ``env_id``, run it on one real observation, and describe what ran."""
    from playground.checks import describe_exception

    state_dim, action_dim = env_dims(env_id)
    observation = observation_for(env_id, seed, obs_steps)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net: nn.Module = network_cls(state_dim, action_dim, list(hidden_dims))
    common: dict[str, Any] = {
        "impl": impl,
        "env_id": env_id,
        "state_dim": state_dim,
        "action_dim": action_dim,
        "hidden_dims": tuple(hidden_dims),
        "total_parameters": sum(p.numel() for p in net.parameters()),
        "expected_parameters": expected_parameters(state_dim, action_dim, hidden_dims),
        "observation": observation,
    }
    error = ""
    q_values = np.zeros(0, dtype=np.float32)
    with _record_leaves(net) as rows:
        try:
            with torch.no_grad():
                out = net(torch.as_tensor(observation).unsqueeze(0))
            q_values = np.asarray(out.detach().cpu().numpy(), dtype=np.float32).reshape(-1)
        except Exception as err:  # noqa: BLE001 - the learner's forward may raise anything
            error = describe_exception(err, impl)
    ran = {row.name for row in rows}
    unused = [
        LayerRow(name, type(module).__name__, None, None, sum(p.numel() for p in module.parameters(recurse=False)))
        for name, module in net.named_modules()
        if name and not list(module.children()) and name not in ran
    ]
    return NetworkReport(layers=rows + unused, q_values=q_values, error=error, **common)


def describe_network(
    ctx: Any, impl: str, env_id: str, hidden_dims: Sequence[int], seed: int = 0, obs_steps: int = 0
) -> NetworkReport:
    """Sandbox task: describe ``<impl>.q_network.CustomQNetwork`` (the learner's code runs only here)."""
    module = impl_module(impl, "q_network")
    return build_report(module.CustomQNetwork, impl, env_id, hidden_dims, seed, obs_steps)


def reference_report(env_id: str, hidden_dims: Sequence[int], seed: int = 0, obs_steps: int = 0) -> NetworkReport:
    """The reference network's report, built in this process."""
    from solutions.q_network import CustomQNetwork

    return build_report(CustomQNetwork, "solutions", env_id, hidden_dims, seed, obs_steps)


def _shape_text(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "not used"
    return "(B, " + ", ".join(str(d) for d in shape) + ")" if shape else "(B,)"


def layer_table(report: NetworkReport) -> pd.DataFrame:
    """One row per layer that ran, in order (plus registered layers that never ran)."""
    return pd.DataFrame(
        {
            "layer": [row.name for row in report.layers],
            "type": [row.kind for row in report.layers],
            "input": [_shape_text(row.input_shape) for row in report.layers],
            "output": [_shape_text(row.output_shape) for row in report.layers],
            "parameters": [row.parameters for row in report.layers],
        }
    )


def q_values_frame(reports: Mapping[str, NetworkReport]) -> pd.DataFrame:
    """Q-values per action (rows) for each labelled report (columns) that produced them."""
    usable = {label: r for label, r in reports.items() if r.q_values.size == r.action_dim and not r.error}
    if not usable:
        return pd.DataFrame()
    first = next(iter(usable.values()))
    data = {label: [float(v) for v in r.q_values] for label, r in usable.items() if r.action_dim == first.action_dim}
    return pd.DataFrame(data, index=pd.Index(list(first.action_names), name="action"))


def report_problems(report: NetworkReport) -> list[str]:
    """Plain-language differences between a report and what the contract asks for."""
    problems: list[str] = []
    if report.total_parameters != report.expected_parameters:
        problems.append(
            f"{report.total_parameters:,} parameters registered, the formula gives {report.expected_parameters:,}"
        )
    linears = [row for row in report.layers if row.kind == "Linear"]
    if len(linears) != len(report.hidden_dims) + 1:
        problems.append(f"{len(linears)} Linear layers ran, expected {len(report.hidden_dims) + 1}")
    if any(row.input_shape is None for row in report.layers if row.parameters):
        problems.append("some layers with parameters never ran in forward")
    if report.error:
        problems.append(f"forward failed: {report.error}")
    elif report.q_values.size != report.action_dim:
        problems.append(f"forward returned {report.q_values.size} values for one state, expected {report.action_dim}")
    return problems


def q_values_chart(frame: pd.DataFrame) -> Any:
    """Grouped bars of :func:`q_values_frame`: one group per action (labels level), one bar per implementation."""
    import altair as alt

    long = frame.reset_index().melt(id_vars="action", var_name="implementation", value_name="Q-value")
    return (
        alt.Chart(long, height=240)
        .mark_bar()
        .encode(
            x=alt.X("action:N", axis=alt.Axis(labelAngle=0), title="action"),
            xOffset="implementation:N",
            y=alt.Y("Q-value:Q"),
            color=alt.Color("implementation:N", legend=alt.Legend(orient="bottom", title=None)),
            tooltip=["action:N", "implementation:N", alt.Tooltip("Q-value:Q", format="+.3f")],
        )
    )
