"""Exercise 1 made visible: a network's layers, parameter counts and Q-values on a real observation.

:func:`describe_network` is a sandbox task (``playground.tasks.network_view:describe_network``):
it builds the learner's (or the reference) ``CustomQNetwork`` in the child
process, records every layer that runs during one forward pass, and returns a
plain :class:`~playground.core.inspections.NetworkReport`. :func:`reference_report`
builds the same report for the reference in the app's own process (no child
needed); :mod:`playground.views.network_tables` turns reports into tables and a chart.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from playground.core.envs import env_dims, make_env
from playground.core.facts import impl_module
from playground.core.inspections import LayerRow, NetworkReport, expected_parameters

MAX_HIDDEN_LAYERS = 6
MAX_WIDTH = 1024


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
