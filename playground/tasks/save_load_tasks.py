"""Sandbox tasks of the save/load page: they run in ``python -m playground.sandbox.child``.

The learner's ``save_model`` / ``load_model`` may do anything, so the app calls
them only through these tasks (:func:`playground.sandbox.runner.start_task`). What
comes back is plain data: the bytes of a file, or a :class:`LoadReport` whose
network is a :class:`~playground.tasks.snapshot.NetworkSnapshot` (never a module of
a learner's class).
"""

from __future__ import annotations

import inspect
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import nn

from playground.checks import describe_exception
from playground.core.facts import impl_module
from playground.sandbox.child import TaskContext
from playground.tasks.snapshot import NetworkSnapshot, snapshot_network


@dataclass(frozen=True)
class LoadReport:
    """What loading one file gave: a network (as a snapshot) or the reason it was refused."""

    file_name: str
    size_bytes: int
    impl: str
    snapshot: NetworkSnapshot | None = None
    error: str = ""
    eval_mode: bool = True
    config: dict[str, Any] | None = field(default=None)

    @property
    def ok(self) -> bool:
        return self.snapshot is not None and not self.error


def _module(impl: str) -> ModuleType:
    return impl_module(impl, "save_load")


def build_network(mod: ModuleType, snapshot: NetworkSnapshot) -> nn.Module:
    """The snapshot as a network of the module's own ``CustomQNetwork`` class (its parameter names)."""
    cls = getattr(mod, "CustomQNetwork", None)
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        return snapshot.to_module()
    net = cls(snapshot.state_dim, snapshot.action_dim, list(snapshot.hidden_dims))
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    if len(linears) != len(snapshot.weights):
        return snapshot.to_module()
    with torch.no_grad():
        for layer, weight, bias in zip(linears, snapshot.weights, snapshot.biases, strict=True):
            layer.weight.copy_(torch.from_numpy(weight))
            if layer.bias is not None:
                layer.bias.copy_(torch.from_numpy(bias))
    return net


def report_loaded(loaded: object, file_name: str, size: int, impl: str) -> LoadReport:
    """Turn what ``load_model`` returned into a report (a snapshot, or why it is not a network)."""
    if not isinstance(loaded, nn.Module):
        return LoadReport(file_name, size, impl, error=f"load_model returned a {type(loaded).__name__}, not a network")
    try:
        snapshot = snapshot_network(loaded)
    except ValueError as err:
        return LoadReport(file_name, size, impl, error=f"load_model returned a network this page cannot show: {err}")
    return LoadReport(file_name, size, impl, snapshot=snapshot, eval_mode=not loaded.training)


def _accepts_config(func: Any) -> bool:
    try:
        return "config" in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def save_task(ctx: TaskContext, *, impl: str, snapshot: NetworkSnapshot, config: dict[str, Any] | None = None) -> bytes:
    """``<impl>.save_load.save_model`` of this network; returns the bytes of the file it wrote."""
    mod = _module(impl)
    net = build_network(mod, snapshot)
    with tempfile.TemporaryDirectory(prefix="dqn_save_") as folder:
        path = Path(folder) / "model.pt"
        if config is not None and _accepts_config(mod.save_model):
            mod.save_model(net, str(path), config=config)
        else:
            mod.save_model(net, str(path))
        if not path.exists():
            raise ValueError("save_model did not write the file it was given")
        return path.read_bytes()


def load_task(ctx: TaskContext, *, impl: str, data: bytes, file_name: str) -> LoadReport:
    """``<impl>.save_load.load_model`` of these bytes (written to a temporary file first)."""
    mod = _module(impl)
    with tempfile.TemporaryDirectory(prefix="dqn_load_") as folder:
        path = Path(folder) / "uploaded.pt"
        path.write_bytes(data)
        try:
            loaded = mod.load_model(str(path))
        except ValueError as err:
            return LoadReport(file_name, len(data), impl, error=str(err) or "ValueError (with no message)")
        except Exception as err:  # noqa: BLE001 - a learner's load_model may raise anything: report it
            advice = (
                ""
                if isinstance(err, NotImplementedError)
                else " (a file it cannot load should make it raise ValueError with a clear message; any other "
                "exception means load_model itself failed)"
            )
            return LoadReport(file_name, len(data), impl, error=f"load_model {describe_exception(err, impl)}{advice}")
    return report_loaded(loaded, file_name, len(data), impl)
