"""Exercise 4 (reference): save a trained Q-network to a file and load it back safely.

A ``state_dict`` maps each parameter's name to its tensor (``net.0.weight``,
``net.0.bias``, ...): it holds the numbers $\\theta$ but not the shape of the
function they belong to. To rebuild $Q_\\theta$ one must first build a network
of the same sizes and then copy the numbers in, so the file carries both::

    {"format": "dqn-playground-checkpoint", "format_version": 1,
     "state_dim": 4, "action_dim": 2, "hidden_dims": [64, 64],
     "state_dict": {...tensors...}, "config": {...} or None}

Loading uses ``torch.load(..., weights_only=True)``, which only rebuilds
tensors and plain containers. A plain ``pickle`` (or ``weights_only=False``)
would rebuild whatever objects the file names, and rebuilding an object can
call any function: a downloaded checkpoint could run code on your machine.
"""

from __future__ import annotations

import itertools
import math
import os
import pickle
import re
import warnings
from collections.abc import Mapping
from typing import Any, BinaryIO

import torch
from torch import Tensor, nn

from playground.core.config import DQNConfig
from solutions.q_network import CustomQNetwork

FORMAT = "dqn-playground-checkpoint"
FORMAT_VERSION = 1
_ARCHITECTURE_KEYS = ("state_dim", "action_dim", "hidden_dims")
StrPath = str | os.PathLike[str]


def save_model(
    q_network: CustomQNetwork,
    path: StrPath | BinaryIO,
    *,
    config: DQNConfig | Mapping[str, Any] | None = None,
) -> None:
    """Write the network's sizes and weights to ``path`` (a file name or a binary file object).

    ``config`` is the training configuration (a ``DQNConfig`` or a plain dict),
    kept in the file so anyone loading it knows how it was trained. The sizes
    come from the network's ``state_dim`` / ``action_dim`` / ``hidden_dims``
    (or, for a network without them, from its Linear layers). The network
    itself is not changed: its ``state_dict`` is copied, not moved.
    """
    state_dim, action_dim, hidden_dims = _sizes_of(q_network)
    checkpoint = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "state_dim": state_dim,
        "action_dim": action_dim,
        "hidden_dims": hidden_dims,
        "state_dict": {name: tensor.detach().cpu().clone() for name, tensor in q_network.state_dict().items()},
        "config": _plain_config(config),
    }
    torch.save(checkpoint, path)


def _sizes_of(q_network: nn.Module) -> tuple[int, int, list[int]]:
    """``(state_dim, action_dim, hidden_dims)``: the network's attributes, or else read off its Linear layers."""
    if all(hasattr(q_network, name) for name in _ARCHITECTURE_KEYS):
        state_dim, action_dim, hidden = (getattr(q_network, name) for name in _ARCHITECTURE_KEYS)
        return int(state_dim), int(action_dim), [int(width) for width in hidden]
    linears = [module for module in q_network.modules() if isinstance(module, nn.Linear)]
    if not linears:
        raise ValueError("the network has no nn.Linear layers: it is not an MLP Q-network")
    return linears[0].in_features, linears[-1].out_features, [layer.out_features for layer in linears[:-1]]


def load_model(path: StrPath | BinaryIO) -> CustomQNetwork:
    """Rebuild the network saved by :func:`save_model`, in eval mode.

    Raises ``ValueError`` with a plain-words reason for any file that is not
    such a checkpoint: not a PyTorch file at all, a bare ``state_dict`` with no
    sizes, sizes that do not match the weights, or pickled Python objects
    (refused before anything in them can run). A missing file raises
    ``FileNotFoundError`` as usual.
    """
    checkpoint = _read_checkpoint(path)
    state_dim, action_dim, hidden_dims = _architecture(checkpoint)
    state_dict = _state_dict(checkpoint)
    expected = _parameter_count(state_dim, action_dim, hidden_dims)
    found = sum(tensor.numel() for tensor in state_dict.values())
    if expected != found:
        # Checked before building: sizes from an untrusted file must not make us allocate a huge network.
        raise ValueError(
            f"the file says the network is {state_dim} -> {hidden_dims} -> {action_dim} "
            f"({expected:,} parameters) but its weights hold {found:,} numbers: the sizes do not match the weights"
        )
    q_network = CustomQNetwork(state_dim, action_dim, hidden_dims)
    try:
        q_network.load_state_dict(state_dict)
    except RuntimeError as err:
        if not _load_in_order(q_network, state_dict):  # the names differ: maybe only the names
            raise ValueError(
                f"the weights do not fit a {state_dim} -> {hidden_dims} -> {action_dim} network "
                f"(the sizes saved with them): {_first_line(err)}"
            ) from err
    return q_network.eval()


def _read_checkpoint(path: StrPath | BinaryIO) -> dict[str, Any]:
    """``torch.load(path, weights_only=True)``, with every failure turned into a clear ``ValueError``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "pickle protocol 5": we explain problems ourselves
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise
    except EOFError as err:
        raise ValueError("the file is empty (or cut short): it is not a saved model") from err
    except Exception as err:  # any failure to parse means "not a checkpoint"
        raise ValueError(_why_unreadable(err)) from err
    if isinstance(checkpoint, Tensor):
        raise ValueError("the file holds a single tensor, not a saved model: there are no layer sizes or weight names")
    if not isinstance(checkpoint, dict):
        raise ValueError(
            f"the file holds a {type(checkpoint).__name__}, not a saved model (a dict of sizes and weights)"
        )
    if checkpoint and all(isinstance(value, Tensor) for value in checkpoint.values()):
        raise ValueError(
            "the file is a bare state_dict: it has the weights but not the layer sizes, so the network cannot be "
            "rebuilt. Build CustomQNetwork(state_dim, action_dim, hidden_dims) with the sizes it was trained with and "
            "call load_state_dict, or save with save_model, which stores the sizes too"
        )
    fmt = checkpoint.get("format", FORMAT)
    if fmt != FORMAT:
        raise ValueError(f"the file is a {fmt!r} file, not a {FORMAT!r} checkpoint")
    version = checkpoint.get("format_version", FORMAT_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"the file has format version {version!r}; this app reads versions up to {FORMAT_VERSION}")
    return checkpoint


def _why_unreadable(err: Exception) -> str:
    text = str(err)
    refused = re.search(r"Unsupported global: GLOBAL (\S+)", text)
    if refused:
        return (
            f"refused: the file contains pickled Python objects ({refused.group(1)}), and rebuilding them could run "
            "code. A saved model should hold only tensors, numbers and names (torch.save of a state_dict, not of "
            "the whole model); nothing from the file was run"
        )
    if isinstance(err, pickle.UnpicklingError) and "WeightsUnpickler" in text and "operand" not in text:
        return "refused: the file is a pickle with content other than tensors and plain data; nothing from it was run"
    if isinstance(err, pickle.UnpicklingError):
        return (
            f"this is not a PyTorch checkpoint that can be read safely (torch.load: {type(err).__name__}); "
            "nothing from the file was run"
        )
    return f"this is not a PyTorch checkpoint (torch.load could not read it: {type(err).__name__})"


def _architecture(checkpoint: Mapping[str, Any]) -> tuple[int, int, list[int]]:
    missing = [key for key in _ARCHITECTURE_KEYS if key not in checkpoint]
    if missing:
        raise ValueError(
            f"the file has no {', '.join(missing)}: the network's sizes must be saved with its weights to rebuild it"
        )
    state_dim, action_dim, hidden = (checkpoint[key] for key in _ARCHITECTURE_KEYS)
    for name, value in (("state_dim", state_dim), ("action_dim", action_dim)):
        if not _is_size(value):
            raise ValueError(f"the file's {name} is {value!r}, not a positive integer")
    if not isinstance(hidden, (list, tuple)) or not all(_is_size(width) for width in hidden):
        raise ValueError(f"the file's hidden_dims is {hidden!r}, not a list of positive integers")
    return int(state_dim), int(action_dim), [int(width) for width in hidden]


def _state_dict(checkpoint: Mapping[str, Any]) -> dict[str, Tensor]:
    weights = checkpoint.get("state_dict")
    if not isinstance(weights, Mapping) or not weights:
        raise ValueError("the file has no weights (no 'state_dict' entry of named tensors)")
    if not all(isinstance(name, str) and isinstance(tensor, Tensor) for name, tensor in weights.items()):
        raise ValueError("the file's 'state_dict' must map parameter names to tensors")
    return dict(weights)


def _load_in_order(q_network: CustomQNetwork, state_dict: dict[str, Tensor]) -> bool:
    """Copy weights saved under other names (a differently written network) when their shapes match in order."""
    targets = list(q_network.state_dict().values())
    sources = list(state_dict.values())
    if len(targets) != len(sources) or any(t.shape != s.shape for t, s in zip(targets, sources, strict=True)):
        return False
    if not all(source.is_floating_point() for source in sources):
        return False
    with torch.no_grad():
        for target, source in zip(targets, sources, strict=True):
            target.copy_(source)
    return True


def _first_line(err: Exception) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return "; ".join(lines[:3])


def _parameter_count(state_dim: int, action_dim: int, hidden_dims: list[int]) -> int:
    """$\\sum_i (h_{i-1} + 1) h_i$ over the layers $h_0 = d_s, h_1, \\dots, h_{k+1} = |\\mathcal{A}|$."""
    widths = [state_dim, *hidden_dims, action_dim]
    return sum((w_in + 1) * w_out for w_in, w_out in itertools.pairwise(widths))


def _is_size(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _plain_config(config: DQNConfig | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The config as plain values that ``weights_only`` loading accepts (``None`` when unknown)."""
    if config is None:
        return None
    data = config.to_dict() if isinstance(config, DQNConfig) else dict(config)
    return {str(key): _plain(value) for key, value in data.items()}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    return str(value)
