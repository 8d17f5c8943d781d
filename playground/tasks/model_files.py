"""Model files for the save/load page: save, size-check, load, inspect and compare.

The reference ``save_model`` / ``load_model`` run here, in the app's process:
they are ours and safe by design (``torch.load(..., weights_only=True)``
rebuilds tensors and plain data only, so a hostile upload cannot run code).
The learner's versions run in the sandbox (:mod:`playground.tasks.save_load_tasks`).
Nothing here imports Streamlit, so the page's logic can be tested directly.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from numpy.typing import NDArray

from playground.core.config import ENV_IDS
from playground.core.envs import env_dims, make_env
from playground.sandbox.executor import run_task
from playground.tasks.save_load_tasks import LoadReport, report_loaded
from playground.tasks.snapshot import NetworkSnapshot
from solutions import save_load as reference

MAX_UPLOAD_MB = 5
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
TASK_TIMEOUT = 60.0


def check_size(size: int) -> None:
    """Refuse files over the page's limit (the largest network here is well under 1 MB)."""
    if size > MAX_UPLOAD_BYTES:
        raise ValueError(
            f"the file is {size / 1024 / 1024:.1f} MB; this page accepts up to {MAX_UPLOAD_MB} MB "
            "(a Q-network saved here is far smaller: is it the right file?)"
        )


def save_bytes(
    impl: str,
    snapshot: NetworkSnapshot,
    config: dict[str, Any] | None = None,
    *,
    sources: Mapping[str, str] | None = None,
) -> bytes:
    """The file ``<impl>.save_load.save_model`` writes for this network (``ValueError`` if it fails).

    ``sources``: the editors' code, run as ``exercises.<module>`` (see :func:`playground.sandbox.executor.run_task`).
    """
    if impl == "solutions":
        buffer = io.BytesIO()
        reference.save_model(snapshot.to_module(), buffer, config=config)
        return buffer.getvalue()
    outcome = run_task(
        "playground.tasks.save_load_tasks:save_task",
        timeout=TASK_TIMEOUT,
        sources=sources,
        impl=impl,
        snapshot=snapshot,
        config=config,
    )
    if not outcome.ok:
        raise ValueError(f"your save_model failed: {outcome.error}")
    if not isinstance(outcome.value, bytes):
        raise ValueError("your save_model did not produce a file")
    return outcome.value


def load_bytes(impl: str, data: bytes, file_name: str, *, sources: Mapping[str, str] | None = None) -> LoadReport:
    """Load an uploaded file with ``<impl>.save_load.load_model``; a refusal comes back as the report's error."""
    try:
        check_size(len(data))
    except ValueError as err:
        return LoadReport(file_name, len(data), impl, error=str(err))
    if impl == "solutions":
        try:
            loaded = reference.load_model(io.BytesIO(data))
        except ValueError as err:
            return LoadReport(file_name, len(data), impl, error=str(err))
        report = report_loaded(loaded, file_name, len(data), impl)
    else:
        outcome = run_task(
            "playground.tasks.save_load_tasks:load_task",
            timeout=TASK_TIMEOUT,
            sources=sources,
            impl=impl,
            data=data,
            file_name=file_name,
        )
        if not outcome.ok or not isinstance(outcome.value, LoadReport):
            error = outcome.error or "the load task returned nothing readable"
            return LoadReport(file_name, len(data), impl, error=f"your load_model failed: {error}")
        report = outcome.value
    if report.ok:
        report = LoadReport(
            report.file_name,
            report.size_bytes,
            report.impl,
            snapshot=report.snapshot,
            eval_mode=report.eval_mode,
            config=saved_config(data),
        )
    return report


def read_safely(data: bytes) -> Any:
    """``torch.load(weights_only=True)`` of the bytes, or ``None`` when they are not such a file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 - only for display: an unreadable file simply has no summary
        return None


def saved_config(data: bytes) -> dict[str, Any] | None:
    """The training config stored in a checkpoint, when there is one."""
    content = read_safely(data)
    config = content.get("config") if isinstance(content, dict) else None
    return config if isinstance(config, dict) else None


def describe_contents(data: bytes) -> list[dict[str, str]]:
    """One row per entry of a checkpoint dict (tensors by shape), for a table on the page."""
    content = read_safely(data)
    if not isinstance(content, dict):
        return []
    rows: list[dict[str, str]] = []
    for key, value in content.items():
        if isinstance(value, dict) and value and all(isinstance(v, torch.Tensor) for v in value.values()):
            for name, tensor in value.items():
                rows.append({"entry": f"{key}[{name!r}]", "value": f"tensor {tuple(tensor.shape)} {tensor.dtype}"})
        elif isinstance(value, dict):
            rows.append({"entry": str(key), "value": f"dict with {len(value)} entries"})
        elif isinstance(value, torch.Tensor):
            rows.append({"entry": str(key), "value": f"tensor {tuple(value.shape)} {value.dtype}"})
        else:
            rows.append({"entry": str(key), "value": repr(value)[:80]})
    return rows


def matching_envs(snapshot: NetworkSnapshot) -> list[str]:
    """The environments whose observation and action sizes fit this network."""
    return [env_id for env_id in ENV_IDS if env_dims(env_id) == (snapshot.state_dim, snapshot.action_dim)]


def probe_states(env_id: str, count: int = 8, seed: int = 0) -> NDArray[np.float32]:
    """States to compare networks on: every LineWorld cell, or states from a seeded random CartPole walk."""
    env = make_env(env_id)
    try:
        state, _ = env.reset(seed=seed)
        if env_id == "LineWorld-v0":
            size = int(np.prod(env.observation_space.shape or (1,)))
            return np.eye(size, dtype=np.float32)
        env.action_space.seed(seed)
        states = [np.asarray(state, dtype=np.float32)]
        while len(states) < count:
            state, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                state, _ = env.reset()
            states.append(np.asarray(state, dtype=np.float32))
        return np.stack(states)
    finally:
        env.close()


def q_values(snapshot: NetworkSnapshot, states: NDArray[np.float32]) -> NDArray[np.float32]:
    with torch.no_grad():
        out = snapshot.to_module()(torch.as_tensor(states))
    return np.asarray(out.numpy(), dtype=np.float32)


def compare_q_values(
    loaded: NetworkSnapshot, original: NetworkSnapshot, states: NDArray[np.float32], action_names: Sequence[str]
) -> tuple[pd.DataFrame, float]:
    """Q-values of both networks on the same states, side by side, and the largest difference."""
    if (loaded.state_dim, loaded.action_dim) != (original.state_dim, original.action_dim):
        raise ValueError(
            f"the networks have different sizes ({loaded.state_dim} -> {loaded.action_dim} and "
            f"{original.state_dim} -> {original.action_dim}): their Q-values cannot be compared"
        )
    q_loaded, q_original = q_values(loaded, states), q_values(original, states)
    table: dict[str, Any] = {"state": [_state_label(s) for s in states]}
    for index, name in enumerate(action_names):
        table[f"Q loaded: {name}"] = q_loaded[:, index]
        table[f"Q original: {name}"] = q_original[:, index]
    gap = float(np.abs(q_loaded - q_original).max())
    return pd.DataFrame(table), gap


def _state_label(state: NDArray[np.float32]) -> str:
    if np.count_nonzero(state) == 1 and float(state.max()) == 1.0:
        return f"cell {int(state.argmax())}"
    return "[" + ", ".join(f"{x:+.2f}" for x in state) + "]"


def architecture_rows(snapshot: NetworkSnapshot) -> list[dict[str, Any]]:
    """One row per Linear layer: sizes and parameter count."""
    rows: list[dict[str, Any]] = []
    for index, (weight, bias) in enumerate(zip(snapshot.weights, snapshot.biases, strict=True)):
        out_features, in_features = weight.shape
        kind = "output" if index == len(snapshot.weights) - 1 else f"hidden {index + 1} (+ ReLU)"
        rows.append({"layer": kind, "in": in_features, "out": out_features, "parameters": int(weight.size + bias.size)})
    return rows
