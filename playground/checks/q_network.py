"""Checks for exercise 1, ``CustomQNetwork``.

Every check builds networks through the public contract
(``CustomQNetwork(state_dim, action_dim, hidden_dims)`` and ``forward``) and
tests what they do: shapes, layers, parameters and gradients, the
nonlinearity, the unbounded output, input validation, and a real CartPole
observation. A correct network written in any style (``nn.Sequential``,
``nn.ModuleList``, ``F.relu`` in ``forward``...) passes; each common bug fails
at least one check whose message names it.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from playground.checks import CauseHint, CheckFailed, check, require, require_refused

EXERCISE = "q_network"
SEED = 0


# --------------------------------------------------------------------------- helpers


def _impl_name(mod: ModuleType) -> str:
    return mod.__name__.split(".")[0]


def _describe(err: BaseException, mod: ModuleType) -> str:
    from playground.checks import describe_exception

    return describe_exception(err, _impl_name(mod))


def _call_text(state_dim: int, action_dim: int, hidden: Sequence[int]) -> str:
    return f"CustomQNetwork({state_dim}, {action_dim}, {hidden!r})"


def build(mod: ModuleType, state_dim: int, action_dim: int, hidden: Sequence[int], hint: str = "") -> nn.Module:
    """Construct a network with a fixed seed; any error but NotImplementedError becomes a readable failure."""
    torch.manual_seed(SEED)
    try:
        net: object = mod.CustomQNetwork(state_dim, action_dim, hidden)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - learner code may raise anything
        if "before Module.__init__() call" in str(err):
            hint = "call `super().__init__()` first thing in `__init__`, before creating layers"
        raise CheckFailed(
            f"{_call_text(state_dim, action_dim, hidden)} should build a network but {_describe(err, mod)}"
            + (f". {hint}" if hint else "")
        ) from None
    if not isinstance(net, nn.Module):
        raise CheckFailed(
            f"CustomQNetwork(...) should be an nn.Module, got {type(net).__name__}: subclass nn.Module "
            "and call `super().__init__()` first"
        )
    return net


def forward(net: nn.Module, x: Tensor, mod: ModuleType, what: str) -> Tensor:
    """Call the network; errors and non-tensor results become readable failures."""
    try:
        out = net(x)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - learner code may raise anything
        cause = ""
        if "dtype" in str(err) or "Double" in str(err):
            cause = ": observations are float32, so keep the layers float32 (no .double())"
        elif "shape" in str(err) or "size" in str(err):
            cause = ": do consecutive layer sizes connect (state_dim -> h1 -> ... -> action_dim)?"
        raise CheckFailed(f"forward on {what} {_describe(err, mod)}{cause}") from None
    if not isinstance(out, Tensor):
        raise CheckFailed(f"forward on {what} should return a torch.Tensor, got {type(out).__name__}")
    return out


def linear_layers(net: nn.Module) -> list[nn.Linear]:
    return [m for m in net.modules() if isinstance(m, nn.Linear)]


def hidden_containers(net: nn.Module) -> list[str]:
    """Attributes that hold modules in a plain list, tuple or dict (invisible to PyTorch)."""
    found: list[str] = []
    for module_name, module in net.named_modules():
        for attr, value in vars(module).items():
            items: list[Any] = []
            if isinstance(value, list | tuple):
                items = list(value)
            elif isinstance(value, dict) and not attr.startswith("_"):
                items = list(value.values())
            if any(isinstance(item, nn.Module) for item in items):
                prefix = f"self.{module_name}." if module_name else "self."
                found.append(f"{prefix}{attr} (a plain {type(value).__name__})")
    return found


def plain_list_hint(net: nn.Module) -> str:
    containers = hidden_containers(net)
    if not containers:
        return ""
    return (
        f" Layers kept in {', '.join(containers)} are invisible to PyTorch (no parameters, no training, "
        "no saving): use nn.ModuleList or nn.Sequential."
    )


def expected_shapes(state_dim: int, action_dim: int, hidden: Sequence[int]) -> list[tuple[int, int]]:
    widths = [state_dim, *hidden, action_dim]
    return list(itertools.pairwise(widths))


def expected_parameter_count(state_dim: int, action_dim: int, hidden: Sequence[int]) -> int:
    """$\\sum_i (h_{i-1} + 1) h_i$ with $h_0$ = state_dim and the last width action_dim."""
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in expected_shapes(state_dim, action_dim, hidden))


def _chain_text(shapes: Sequence[tuple[int, int]]) -> str:
    return ", ".join(f"Linear({a}->{b})" for a, b in shapes) or "no Linear layers"


@dataclass
class LinearCall:
    layer: nn.Linear
    inputs: Tensor
    output: Tensor


@contextmanager
def record_linear_calls(net: nn.Module) -> Iterator[list[LinearCall]]:
    """Record (input, output) of every nn.Linear call, in call order."""
    calls: list[LinearCall] = []

    def hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        if isinstance(module, nn.Linear) and args and isinstance(args[0], Tensor) and isinstance(output, Tensor):
            calls.append(LinearCall(module, args[0].detach().clone(), output.detach().clone()))

    handles = [layer.register_forward_hook(hook) for layer in linear_layers(net)]
    try:
        yield calls
    finally:
        for handle in handles:
            handle.remove()


def reinitialise(net: nn.Module, seed: int = 1) -> None:
    """Fresh N(0, 1/fan_in) weights and N(0, 0.25) biases in every Linear layer, whatever the learner's init."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in linear_layers(net):
            weight = torch.randn(layer.weight.shape, generator=generator) / math.sqrt(layer.in_features)
            layer.weight.copy_(weight)
            if layer.bias is not None:
                layer.bias.copy_(torch.randn(layer.bias.shape, generator=generator) * 0.5)


def _shape(t: Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


# --------------------------------------------------------------------------- checks


@check(
    EXERCISE,
    "output shape",
    timeout=15,
    tests="CustomQNetwork.forward",
    enforces=(
        "a single ``(state_dim,)`` state gives ``(action_dim,)``",
        "``(B, state_dim) -> (B, action_dim)``",
    ),
    hint=(
        "A batch (B, state_dim) gives (B, action_dim), and a single state (state_dim,) gives (action_dim,): "
        "nn.Linear maps a 1-D input to a 1-D output, so a single state needs nothing extra. An unsqueeze(0) or "
        "reshape(-1, state_dim) in forward adds a batch axis of 1 that the caller did not ask for."
    ),
)
def output_shape(mod: ModuleType) -> str:
    """(B, state_dim) -> (B, action_dim) for several batch sizes; a single state gives (action_dim,)."""
    state_dim, action_dim, hidden = 5, 3, [16]
    net = build(mod, state_dim, action_dim, hidden)
    for batch in (7, 1):
        out = forward(net, torch.randn(batch, state_dim), mod, f"a batch of shape ({batch}, {state_dim})")
        if _shape(out) != (batch, action_dim):
            if _shape(out) == (batch, hidden[-1]):
                cause = "the output has the hidden width: the final Linear(hidden, action_dim) layer is missing"
            elif _shape(out) in ((action_dim,), (1, action_dim)) and batch != 1:
                cause = "the batch axis was lost: Q-values of each state are needed (no sum/mean over the batch)"
            elif out.dim() == 0:
                cause = "forward returns a scalar: return the whole tensor of Q-values, not a reduction"
            else:
                cause = "forward should map every state of the batch to action_dim Q-values"
            raise CheckFailed(
                f"{_call_text(state_dim, action_dim, hidden)} on input ({batch}, {state_dim}): expected output "
                f"shape ({batch}, {action_dim}), got {_shape(out)}: {cause}"
            )
    single = forward(net, torch.randn(state_dim), mod, f"a single state of shape ({state_dim},)")
    require(
        _shape(single) == (action_dim,),
        f"a single state of shape ({state_dim},) should give {action_dim} Q-values, shape ({action_dim},), got "
        f"{_shape(single)}: do not add a batch axis (unsqueeze) or reshape the input; nn.Linear takes both shapes",
    )
    require(
        single.is_floating_point(),
        f"Q-values should be floating point, got dtype {single.dtype}: no rounding or argmax inside forward",
    )
    return (
        f"(7, {state_dim}) -> (7, {action_dim}), (1, {state_dim}) -> (1, {action_dim}), "
        f"({state_dim},) -> ({action_dim},)"
    )


@check(
    EXERCISE,
    "one Linear layer per hidden width",
    timeout=15,
    tests="CustomQNetwork.__init__",
    enforces=(
        "is ``Linear(4, 64) -> ReLU -> Linear(64, 64) -> ReLU -> Linear(64, 2)``",
        "``hidden_dims`` may be a list or a tuple, and may be empty.",
    ),
)
def layers_follow_hidden_dims(mod: ModuleType) -> str:
    """state_dim -> h1 -> ... -> hk -> action_dim, one nn.Linear each, for lists, tuples and the empty list."""
    state_dim, action_dim = 4, 2
    cases: list[Sequence[int]] = [[], [64], [32, 16, 8], (24, 12)]
    for hidden in cases:
        hint = ""
        if not hidden:
            hint = "hidden_dims may be empty: the network is then one Linear(state_dim, action_dim)"
        elif isinstance(hidden, tuple):
            hint = "hidden_dims may be a tuple (DQNConfig passes one): loop over it, or copy it with list(...)"
        net = build(mod, state_dim, action_dim, hidden, hint)
        expected = expected_shapes(state_dim, action_dim, hidden)
        seen = [(layer.in_features, layer.out_features) for layer in linear_layers(net)]
        if sorted(seen) != sorted(expected):
            if not seen and plain_list_hint(net):
                cause = "no nn.Linear layer is registered." + plain_list_hint(net)
            elif not seen and not hidden:
                cause = (
                    f"the output layer Linear({state_dim}->{action_dim}) is missing: with hidden_dims=[] "
                    "the network is that single layer"
                )
            elif not seen:
                cause = "no nn.Linear layer is registered: build the layers from nn.Linear and assign them to self"
            elif len(seen) == len(expected) - 1 and sorted(seen) == sorted(expected[:-1]):
                cause = f"the output layer Linear({expected[-1][0]}->{action_dim}) is missing"
            elif len(seen) < len(expected):
                cause = "a layer is missing: one Linear per hidden width, plus the output layer." + plain_list_hint(net)
            elif len(seen) > len(expected):
                cause = "there are extra layers: use exactly the widths in hidden_dims (do not hard-code sizes)"
            else:
                cause = "the layer sizes do not follow hidden_dims in order (are the widths hard-coded or reversed?)"
            raise CheckFailed(
                f"{_call_text(state_dim, action_dim, hidden)}: expected {_chain_text(expected)}; "
                f"found {_chain_text(seen)}: {cause}"
            )
        out = forward(
            net, torch.randn(3, state_dim), mod, f"a batch of shape (3, {state_dim}) with hidden_dims={hidden!r}"
        )
        require(
            _shape(out) == (3, action_dim),
            f"{_call_text(state_dim, action_dim, hidden)}: expected output (3, {action_dim}), got {_shape(out)}",
        )
    return "[] -> 1 layer, [64] -> 2, [32, 16, 8] -> 4, (24, 12) -> 3, sizes in order"


@check(
    EXERCISE,
    "parameter count",
    timeout=15,
    tests="CustomQNetwork.__init__",
    enforces=(
        "``CustomQNetwork(4, 2, [])`` is a single ``Linear(4, 2)``",
        "is ``Linear(4, 64) -> ReLU -> Linear(64, 64) -> ReLU -> Linear(64, 2)``",
    ),
)
def parameter_count(mod: ModuleType) -> str:
    """sum(p.numel() for p in parameters()) equals the formula sum_i (h_{i-1} + 1) h_i."""
    state_dim, action_dim = 4, 2
    counts: list[str] = []
    for hidden in ([64, 64], [32, 16, 8], []):
        net = build(mod, state_dim, action_dim, hidden)
        expected = expected_parameter_count(state_dim, action_dim, hidden)
        seen = sum(p.numel() for p in net.parameters())
        if seen != expected:
            layers = linear_layers(net)
            if seen < expected and any(layer.bias is None for layer in layers):
                cause = "a Linear layer has bias=False: keep the biases, each layer computes W z + b"
            elif seen < expected:
                cause = "some layers are not registered or missing." + (
                    plain_list_hint(net) or " Every layer must be an attribute, an nn.ModuleList or nn.Sequential."
                )
            else:
                cause = "there are more parameters than the layers need (extra layers or parameters?)"
            raise CheckFailed(
                f"{_call_text(state_dim, action_dim, hidden)}: expected {expected} parameters "
                f"(sum of (fan_in + 1) * fan_out over {_chain_text(expected_shapes(state_dim, action_dim, hidden))}), "
                f"counted {seen}: {cause}"
            )
        counts.append(f"{list(hidden)}: {seen}")
    return "matches the formula (" + ", ".join(counts) + ")"


@check(
    EXERCISE,
    "parameters registered and trained",
    timeout=15,
    tests="CustomQNetwork.__init__",
    enforces=(
        "Every layer's parameters must be registered with the module, so that ``parameters()`` (and so the "
        "optimizer) sees them.",
    ),
)
def parameters_get_gradients(mod: ModuleType) -> str:
    """Every layer's parameters are registered and receive a gradient from the Q-values."""
    state_dim, action_dim, hidden = 4, 2, [32, 16]
    net = build(mod, state_dim, action_dim, hidden)
    params = list(net.named_parameters())
    expected = expected_parameter_count(state_dim, action_dim, hidden)
    total = sum(p.numel() for _, p in params)
    if total < expected:
        raise CheckFailed(
            f"{_call_text(state_dim, action_dim, hidden)} registers {total} trainable scalars, expected {expected}: "
            "an optimizer built from net.parameters() would not train every layer."
            + (plain_list_hint(net) or " Assign layers to self or keep them in nn.ModuleList / nn.Sequential.")
        )
    frozen = [name for name, p in params if not p.requires_grad]
    require(not frozen, f"parameters {frozen} have requires_grad=False: the optimizer could not train them")
    out = forward(net, torch.randn(16, state_dim), mod, f"a batch of shape (16, {state_dim})")
    require(
        out.requires_grad,
        "the Q-values carry no gradient: forward cuts the graph (torch.no_grad(), .detach(), .item() or NumPy "
        "inside forward), so the TD loss could not train the network",
    )
    net.zero_grad()
    torch.autograd.backward((out**2).mean())
    unused = [name for name, p in params if p.grad is None]
    require(
        not unused,
        f"parameters {unused} got no gradient: those layers are registered but never used in forward"
        " (is every layer applied, in order?)",
    )
    bad = [name for name, p in params if p.grad is not None and not bool(torch.isfinite(p.grad).all())]
    require(not bad, f"parameters {bad} got NaN or infinite gradients")
    return f"{len(params)} parameter tensors ({total} scalars), all registered, all receive gradients"


@check(
    EXERCISE,
    "nonlinearity between layers",
    timeout=15,
    tests="CustomQNetwork.__init__",
    enforces=("$z_i = \\\\mathrm{ReLU}(W_i z_{i-1} + b_i)$",),
    hint=(
        "The contract's activation is ReLU: z_i = ReLU(W_i z_(i-1) + b_i) after every hidden Linear layer "
        "(nn.ReLU in the layers, or F.relu / torch.relu in forward). With nothing between two Linear layers "
        "they collapse into one linear map; Tanh, Sigmoid or Dropout make another network than the lesson's."
    ),
)
def not_affine(mod: ModuleType) -> str:
    """The network is not an affine map, and every pair of consecutive Linear layers has an activation between."""
    state_dim, action_dim, hidden = 4, 2, [32, 32]
    net = build(mod, state_dim, action_dim, hidden)
    reinitialise(net)
    generator = torch.Generator().manual_seed(2)
    x1 = torch.randn(64, state_dim, generator=generator) * 3
    x2 = torch.randn(64, state_dim, generator=generator) * 3
    with torch.no_grad():
        mixed = forward(net, 0.3 * x1 + 0.7 * x2, mod, "a batch of states")
        f1 = forward(net, x1, mod, "a batch of states")
        f2 = forward(net, x2, mod, "a batch of states")
    gap = float((mixed - (0.3 * f1 + 0.7 * f2)).abs().max())
    scale = float(torch.cat([f1, f2]).abs().max()) + 1e-6
    require(
        gap > 1e-4 * scale,
        "the network is affine: Q(0.3 x + 0.7 y) = 0.3 Q(x) + 0.7 Q(y) for every pair of states tried, so "
        "stacking layers added nothing. The class docstring says z_i = ReLU(W_i z_(i-1) + b_i): a ReLU after each "
        "hidden Linear layer.",
    )
    with record_linear_calls(net) as calls, torch.no_grad():
        forward(net, x1, mod, "a batch of states")
    n_layers = len(hidden) + 1
    chained = len(calls) == n_layers and all(
        a.layer.out_features == b.layer.in_features for a, b in itertools.pairwise(calls)
    )
    if chained:
        net.train()  # as the optimizer sees it: a Dropout would act here
        with record_linear_calls(net) as calls, torch.no_grad():
            forward(net, x1, mod, "a batch of states")
        for position, (before, after) in enumerate(itertools.pairwise(calls), start=1):
            between = f"between Linear layer {position} ({before.layer.in_features}->{before.layer.out_features}) "
            between += f"and Linear layer {position + 1}"
            if before.output.shape != after.inputs.shape:
                continue
            if torch.allclose(before.output, after.inputs):
                raise CheckFailed(
                    f"Linear layer {position} ({before.layer.in_features}->{before.layer.out_features}) feeds "
                    f"Linear layer {position + 1} directly, with no activation between them: put a ReLU after "
                    "every hidden Linear layer (not only some of them, and not only on the input)"
                )
            if torch.allclose(torch.relu(before.output), after.inputs, atol=1e-6):
                continue
            if torch.allclose(torch.tanh(before.output), after.inputs, atol=1e-6):
                cause = "a Tanh"
            elif torch.allclose(torch.sigmoid(before.output), after.inputs, atol=1e-6):
                cause = "a Sigmoid"
            elif bool((after.inputs == 0).any()) and not torch.allclose(after.inputs, torch.relu(before.output)):
                cause = "a Dropout (or another random layer): it zeroes activations while training"
            else:
                cause = "something other than ReLU"
            raise CheckFailed(
                f"{between} there is {cause}; the class docstring says z_i = ReLU(W_i z_(i-1) + b_i): a ReLU between "
                "consecutive Linear layers and nothing else there, and nothing after the last Linear layer "
                "(nn.ReLU, F.relu and torch.relu all do)"
            )
        return f"not affine, and a ReLU sits between each of the {n_layers} Linear layers"
    return "not affine (an activation between layers)"


def _output_module(net: nn.Module, x: Tensor) -> str:
    """Where an output activation that is a module lives: its name (``net.4``) when __init__ registered it.

    A parameterless module called after the last Linear layer, and placed after the last Linear layer of
    the nn.Sequential or nn.ModuleList that holds it, is part of the layers built in ``__init__``; an
    activation that ``forward`` applies (``torch.relu`` on the output, or a module kept as its own
    attribute) gives ``""``.
    """
    names: dict[int, str] = {id(module): name for name, module in net.named_modules()}
    parents: dict[int, tuple[list[nn.Module], int]] = {}  # a module in a container -> its siblings, its position
    for container in net.modules():
        if isinstance(container, nn.Sequential | nn.ModuleList):
            siblings = list(container.children())
            for position, child in enumerate(siblings):
                parents[id(child)] = (siblings, position)
    calls: list[nn.Module] = []
    leaves = [m for m in net.modules() if not any(True for _ in m.children())]
    handles = [m.register_forward_hook(lambda module, _args, _out: calls.append(module)) for m in leaves]
    try:
        with torch.no_grad():
            net(x)
    except Exception:  # noqa: BLE001 - learner code may raise anything; the check already called it once
        return ""
    finally:
        for handle in handles:
            handle.remove()
    last_linear = max((i for i, m in enumerate(calls) if isinstance(m, nn.Linear)), default=-1)
    for module in calls[last_linear + 1 :]:
        if isinstance(module, nn.Linear) or any(True for _ in module.parameters()) or id(module) not in parents:
            continue
        siblings, position = parents[id(module)]
        linear_positions = [i for i, child in enumerate(siblings) if isinstance(child, nn.Linear)]
        if linear_positions and position > max(linear_positions):
            return names.get(id(module), type(module).__name__)
    return ""


def _fail_output(message: str, net: nn.Module, x: Tensor) -> CheckFailed:
    """The failure of an output activation, blamed on ``__init__`` when the layers it builds end with it."""
    registered = _output_module(net, x)
    if not registered:
        return CheckFailed(message + " (forward applies it to the output).")
    module = dict(net.named_modules())[registered]
    return CheckFailed(
        f"{message}: the layers built in __init__ end with {type(module).__name__} (self.{registered}) after the "
        "last Linear layer; build them so that the last one is the Linear layer to action_dim.",
        function="CustomQNetwork.__init__",
    )


@check(
    EXERCISE,
    "no activation on the Q-values",
    timeout=15,
    tests="CustomQNetwork.forward",
    enforces=("no activation on the output, because Q-values are unbounded returns that can be negative.",),
    hint=(
        "The stub says: no activation on the output, because Q-values are unbounded returns that can be "
        "negative. forward returns the last Linear layer's output as it is: no relu, sigmoid, softmax, tanh, abs "
        "or clamp around it. The ReLUs go only between the hidden layers."
    ),
    cause_hints=(
        CauseHint(
            "the layers built in __init__ end with",
            "The stub says: no activation on the output, because Q-values are unbounded returns that can be "
            "negative. The layers built in __init__ end with an activation after the last Linear layer: add a "
            "ReLU after each hidden Linear layer only, so that the last module is the Linear layer to action_dim.",
            function="CustomQNetwork.__init__",
        ),
    ),
)
def unbounded_output(mod: ModuleType) -> str:
    """Q-values are plain Linear outputs: they can be negative, exceed 1, and are not probabilities."""
    state_dim, action_dim, hidden = 4, 3, [64]
    net = build(mod, state_dim, action_dim, hidden)
    reinitialise(net)
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(512, state_dim, generator=generator) * 10
    with torch.no_grad():
        out = forward(net, x, mod, "a batch of 512 states")
    require(
        _shape(out) == (512, action_dim),
        f"expected output shape (512, {action_dim}), got {_shape(out)} (see the output-shape check)",
    )
    require(bool(torch.isfinite(out).all()), "the Q-values contain NaN or infinity for ordinary inputs")
    low, high = float(out.min()), float(out.max())
    seen = f"all {out.numel()} Q-values lie in [{low:.3g}, {high:.3g}]"
    remove = "Remove the activation after the last Linear layer"
    if low >= 0.0:
        sums = out.sum(dim=1)
        if high <= 1.0 and bool(torch.allclose(sums, torch.ones_like(sums), atol=1e-4)):
            raise _fail_output(
                f"expected Q-values of both signs, {seen} and every row sums to 1: the output has a softmax, but "
                "Q-values are expected returns, not probabilities. Return the last Linear layer's output as it is",
                net,
                x,
            )
        if high <= 1.0:
            raise _fail_output(
                f"expected Q-values of both signs and beyond 1, {seen}: the output is squashed (a sigmoid?). "
                "Return the last Linear layer's output as it is",
                net,
                x,
            )
        raise _fail_output(
            f"expected some negative Q-values, {seen}: the output has a ReLU (or abs), so Q-values can't be "
            f"negative, yet returns often are (CartPole's are not, but LineWorld's step penalty is). {remove}",
            net,
            x,
        )
    if not (high > 1.0 and low < -1.0):
        raise _fail_output(
            f"expected Q-values well beyond [-1, 1] for large inputs, {seen}: the output is squashed (tanh or "
            "clamp?). Return the last Linear layer's output as it is",
            net,
            x,
        )
    return f"unbounded, both signs (range [{low:.1f}, {high:.1f}] on large inputs)"


def _expect_value_error(mod: ModuleType, state_dim: int, action_dim: int, hidden: Sequence[int]) -> str:
    """'' when the call raises ValueError, else a description of what happened instead."""
    call = _call_text(state_dim, action_dim, hidden)
    try:
        mod.CustomQNetwork(state_dim, action_dim, hidden)
    except ValueError:
        return ""
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - learner code may raise anything
        return f"{call} {_describe(err, mod)}, expected ValueError: check the sizes yourself before building layers"
    return (
        f"{call} built a network, expected ValueError: nn.Linear accepts a size of 0 without complaint, so "
        "check that state_dim, action_dim and every hidden width are >= 1 and raise ValueError"
    )


@check(
    EXERCISE,
    "keeps its sizes as attributes",
    timeout=10,
    tests="CustomQNetwork.__init__",
    enforces=(
        "Keep the sizes as attributes ``self.state_dim``, ``self.action_dim`` and ``self.hidden_dims`` (the "
        "widths as a tuple of ints): exercise 4 saves them.",
    ),
    hint=(
        "The stub asks you to keep the sizes as attributes self.state_dim, self.action_dim and self.hidden_dims "
        "(the widths as a tuple of ints): exercise 4 saves them to rebuild the network. Building the layers "
        "alone is not enough; in __init__ set self.state_dim = state_dim, self.action_dim = action_dim and "
        "self.hidden_dims = tuple(hidden_dims)."
    ),
)
def keeps_sizes(mod: ModuleType) -> str:
    """state_dim, action_dim and hidden_dims are attributes with the sizes given (exercise 4 saves them)."""
    for state_dim, action_dim, hidden in ((4, 2, [8, 4]), (3, 5, ())):
        net = build(mod, state_dim, action_dim, hidden)
        missing = [name for name in ("state_dim", "action_dim", "hidden_dims") if not hasattr(net, name)]
        require(
            not missing,
            f"{_call_text(state_dim, action_dim, hidden)} has no attribute {', '.join(missing)}: keep the sizes as "
            "self.state_dim, self.action_dim and self.hidden_dims (exercise 4 saves them to rebuild the network)",
        )
        seen = (getattr(net, "state_dim", None), getattr(net, "action_dim", None))
        require(
            seen == (state_dim, action_dim), f"state_dim and action_dim are {seen}, expected {(state_dim, action_dim)}"
        )
        widths = getattr(net, "hidden_dims", None)
        try:
            as_tuple = tuple(int(w) for w in widths)  # type: ignore[union-attr]
        except TypeError:
            as_tuple = None
        require(
            as_tuple == tuple(hidden),
            f"hidden_dims is {widths!r}, expected the widths given, {tuple(hidden)} (as a tuple of ints)",
        )
    return "state_dim, action_dim and hidden_dims hold the sizes given"


@check(
    EXERCISE,
    "invalid sizes raise ValueError",
    timeout=10,
    tests="CustomQNetwork.__init__",
    enforces=(
        "Raise ``ValueError`` unless ``state_dim``, ``action_dim`` and every hidden width are positive integers",
    ),
)
def invalid_sizes(mod: ModuleType) -> str:
    build(mod, 4, 2, [8])  # a valid network first: an unfinished stub fails here as "not implemented"
    cases: list[tuple[int, int, list[int]]] = [(0, 2, [8]), (-1, 2, [8]), (4, 0, [8]), (4, 2, [8, 0]), (4, 2, [-5])]
    for state_dim, action_dim, hidden in cases:
        problem = _expect_value_error(mod, state_dim, action_dim, hidden)
        if problem:
            raise CheckFailed(problem)
    net = build(
        mod, 1, 1, [1], "a width of 1 is a valid layer size (state_dim, action_dim and hidden widths >= 1 are all fine)"
    )
    with torch.no_grad():
        out = forward(net, torch.ones(3, 1), mod, "a batch of shape (3, 1)")
    require(_shape(out) == (3, 1), f"CustomQNetwork(1, 1, [1]) on shape (3, 1) should give (3, 1), got {_shape(out)}")
    not_sizes: tuple[Any, ...] = (2.5, None)
    for hidden_width in not_sizes:
        # Not an int at all (the signature says Sequence[int]): refusing it with ValueError or TypeError is fine.
        require_refused(
            functools.partial(mod.CustomQNetwork, 4, 2, [hidden_width]),
            _call_text(4, 2, [hidden_width]),
            lambda err: _describe(err, mod),
            f"a hidden width of {hidden_width!r} is not a size; check that every width is an integer "
            "(operator.index(width) raises TypeError for anything else)",
        )
    return (
        "ValueError for state_dim 0 or -1, action_dim 0, hidden widths 0 or -5; widths 2.5 and None refused; "
        "sizes of 1 work"
    )


def _rounded(values: np.ndarray[Any, Any]) -> list[float]:
    return [round(float(v), 3) for v in values.reshape(-1)]


def _cartpole_observations(count: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    from playground.core.envs import make_env

    env = make_env("CartPole-v1")
    try:
        observations = []
        obs, _ = env.reset(seed=SEED)
        env.action_space.seed(SEED)
        for _ in range(count):
            observations.append(np.asarray(obs, dtype=np.float32))
            obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
            if terminated or truncated:
                obs, _ = env.reset()
        return np.stack(observations)
    finally:
        env.close()


@check(
    EXERCISE,
    "works on a CartPole-v1 observation",
    timeout=20,
    tests="CustomQNetwork.forward",
    enforces=(
        "``(B, state_dim) -> (B, action_dim)``",
        "``hidden_dims`` may be a list or a tuple",
    ),
)
def cartpole_observation(mod: ModuleType) -> str:
    """Real float32 CartPole states (single and batch) give finite Q-values that depend on the state."""
    observations = _cartpole_observations(32)
    state_dim, action_dim, hidden = observations.shape[1], 2, (64, 64)
    net = build(mod, state_dim, action_dim, hidden, "DQNConfig passes hidden_dims as a tuple like (64, 64)")
    single_in = torch.as_tensor(observations[0])
    with torch.no_grad():
        single = forward(net, single_in, mod, f"one CartPole observation {_rounded(observations[0])}")
        batch = forward(net, torch.as_tensor(observations), mod, "a batch of 32 CartPole observations")
    require(
        _shape(single) in ((action_dim,), (1, action_dim)),
        f"one CartPole observation should give {action_dim} Q-values, got shape {_shape(single)}",
    )
    require(
        _shape(batch) == (32, action_dim),
        f"32 CartPole observations should give shape (32, {action_dim}), got {_shape(batch)}",
    )
    require(
        bool(torch.isfinite(batch).all()),
        "some Q-values are NaN or infinite on CartPole observations (a division, log or sqrt in forward?)",
    )
    require(
        float(batch.std(dim=0).max()) > 1e-6,
        "every CartPole state gets the same Q-values: forward ignores its input (is x passed through the layers?)",
    )
    values = single.reshape(-1)
    greedy = int(values.argmax())
    return f"Q({_rounded(observations[0])}) = {_rounded(values.numpy())}, greedy action {greedy}"
