"""The exercise-1 checks: the reference and other correct networks pass; each bug fails with a message naming it.

Checks run in-process on small modules built here (fast); a couple of runs go
through the real sandbox with ``playground.sandbox.runner``.
"""

from __future__ import annotations

import itertools
import operator
import types
from collections.abc import Callable, Sequence

import pytest
import torch
import torch.nn.functional as F  # noqa: N812 - the usual alias
from torch import Tensor, nn

import exercises.q_network
import solutions.q_network
from playground.checks import CheckFailed, checks_for, describe_exception
from playground.checks import q_network as qc

CHECKS = checks_for("q_network")
CHECK_BY_NAME = {spec.name: spec for spec in CHECKS}


def run_check(name: str, mod: types.ModuleType) -> tuple[bool, str]:
    """Run one check in-process the way the sandbox does."""
    try:
        return True, CHECK_BY_NAME[name].func(mod)
    except CheckFailed as failure:
        return False, str(failure)
    except Exception as err:  # noqa: BLE001 - mirrors the sandbox
        return False, describe_exception(err, "exercises")


def module_with(cls: type[nn.Module]) -> types.ModuleType:
    mod = types.ModuleType("exercises.q_network")
    mod.CustomQNetwork = cls  # type: ignore[attr-defined]
    return mod


def validate(state_dim: int, action_dim: int, hidden: Sequence[int]) -> None:
    sizes = [state_dim, action_dim, *hidden]
    if not all(isinstance(n, int) for n in sizes) or any(n < 1 for n in sizes):
        raise ValueError("sizes must be positive integers")


# --------------------------------------------------------------------------- correct, differently written


class ModuleListNet(nn.Module):
    """Correct: nn.ModuleList with F.relu in forward, output layer registered before the hidden ones."""

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        validate(state_dim, action_dim, hidden_dims)
        self.state_dim, self.action_dim, self.hidden_dims = state_dim, action_dim, tuple(hidden_dims)
        widths = [state_dim, *hidden_dims]
        self.head = nn.Linear(widths[-1], action_dim)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.hidden:
            x = F.relu(layer(x))
        out: Tensor = self.head(x)
        return out


class TanhNet(nn.Module):
    """Bug (the docstring says ReLU and (action_dim,)): tanh between layers, a batch of one for a single state."""

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        try:
            smallest = min(operator.index(n) for n in [state_dim, action_dim, *hidden_dims])
        except TypeError:
            raise ValueError("sizes must be integers") from None
        if smallest <= 0:
            raise ValueError("bad size")
        layers: list[nn.Module] = []
        last = state_dim
        for width in hidden_dims:
            layers += [nn.Linear(last, width), nn.Tanh()]
            last = width
        self.body = nn.Sequential(*layers, nn.Linear(last, action_dim))

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.body(x.reshape(-1, x.shape[-1]))
        return out


class NumbersOnlyCheckedNet(ModuleListNet):
    """Correct: compares the sizes with 0 and lets a float or None reach nn.Linear, which raises TypeError."""

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        if any(isinstance(n, (int, float)) and n < 1 for n in [state_dim, action_dim, *hidden_dims]):
            raise ValueError("sizes must be positive")
        nn.Module.__init__(self)
        self.state_dim, self.action_dim, self.hidden_dims = state_dim, action_dim, tuple(hidden_dims)
        widths = [state_dim, *hidden_dims]
        self.head = nn.Linear(widths[-1], action_dim)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))


class SequentialListNet(nn.Module):
    """Correct: an nn.Sequential built from a list, hidden_dims kept as a list of ints."""

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        validate(state_dim, action_dim, hidden_dims)
        self.state_dim = state_dim
        self.action_dim = action_dim
        self.hidden_dims = [int(w) for w in hidden_dims]
        sizes = [state_dim, *hidden_dims]
        layers: list[nn.Module] = []
        for a, b in itertools.pairwise(sizes):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.model = nn.Sequential(*layers, nn.Linear(sizes[-1], action_dim))

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.model(x)
        return out


class InplaceReluNet(nn.Module):
    """Correct: an nn.Sequential with nn.ReLU(inplace=True) (it overwrites the Linear layer's output)."""

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        validate(state_dim, action_dim, hidden_dims)
        self.state_dim, self.action_dim, self.hidden_dims = state_dim, action_dim, tuple(hidden_dims)
        sizes = [state_dim, *hidden_dims]
        layers: list[nn.Module] = []
        for a, b in itertools.pairwise(sizes):
            layers += [nn.Linear(a, b), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*layers, nn.Linear(sizes[-1], action_dim))

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.body(x)
        return out


class TorchReluNet(ModuleListNet):
    """Correct: torch.relu in forward instead of a layer."""

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.hidden:
            x = torch.relu(layer(x))
        out: Tensor = self.head(x)
        return out


@pytest.mark.parametrize(
    "cls",
    [
        solutions.q_network.CustomQNetwork,
        ModuleListNet,
        SequentialListNet,
        NumbersOnlyCheckedNet,
        InplaceReluNet,
        TorchReluNet,
    ],
)
def test_correct_networks_pass_every_check(cls: type[nn.Module]) -> None:
    mod = module_with(cls)
    for spec in CHECKS:
        passed, message = run_check(spec.name, mod)
        assert passed, f"{spec.name}: {message}"
        assert message


def test_reference_module_passes_and_stub_is_not_implemented() -> None:
    for spec in CHECKS:
        assert run_check(spec.name, solutions.q_network)[0]
        passed, message = run_check(spec.name, exercises.q_network)
        assert not passed
        assert message.startswith("not implemented yet"), message


def test_reference_accepts_numpy_integers_and_counts_parameters() -> None:
    import numpy as np

    net = solutions.q_network.CustomQNetwork(np.int64(4), np.int64(2), (np.int64(8),))  # type: ignore[arg-type]
    assert net.state_dim == 4
    assert isinstance(net.action_dim, int)
    assert solutions.q_network.count_parameters(net) == qc.expected_parameter_count(4, 2, [8]) == 58
    for bad in (True, 2.5, "4"):
        with pytest.raises(ValueError, match="state_dim"):
            solutions.q_network.CustomQNetwork(bad, 2, [8])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- buggy networks


def sequential_net(
    *,
    output: Callable[[Tensor], Tensor] | None = None,
    output_module: Callable[[], nn.Module] | None = None,
    activation: Callable[[int, int], bool] = lambda i, n: True,
    with_output_layer: bool = True,
    check_sizes: bool = True,
    bias: bool = True,
) -> type[nn.Module]:
    """A family of almost-correct networks, each with one deliberate bug switched on."""

    class Net(nn.Module):
        def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
            super().__init__()
            if check_sizes:
                validate(state_dim, action_dim, hidden_dims)
            layers: list[nn.Module] = []
            last = state_dim
            for i, width in enumerate(hidden_dims):
                layers.append(nn.Linear(last, width, bias=bias))
                if activation(i, len(hidden_dims)):
                    layers.append(nn.ReLU())
                last = width
            if with_output_layer:
                layers.append(nn.Linear(last, action_dim, bias=bias))
            if output_module is not None:
                layers.append(output_module())
            self.net = nn.Sequential(*layers)

        def forward(self, x: Tensor) -> Tensor:
            out: Tensor = self.net(x)
            return output(out) if output is not None else out

    return Net


class PlainListNet(nn.Module):
    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        validate(state_dim, action_dim, hidden_dims)
        widths = [state_dim, *hidden_dims, action_dim]
        self.layers = [nn.Linear(a, b) for a, b in itertools.pairwise(widths)]

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        out: Tensor = self.layers[-1](x)
        return out


class HardCodedNet(nn.Module):
    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        validate(state_dim, action_dim, hidden_dims)
        self.net = nn.Sequential(nn.Linear(state_dim, 64), nn.ReLU(), nn.Linear(64, action_dim))

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.net(x)
        return out


class ListConcatNet(ModuleListNet):
    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        _ = hidden_dims + [action_dim]  # type: ignore[operator]  # noqa: RUF005 - the bug: tuples can't add lists
        super().__init__(state_dim, action_dim, hidden_dims)


class FirstWidthNet(ModuleListNet):
    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        _ = hidden_dims[0]  # the bug: assumes at least one hidden layer
        super().__init__(state_dim, action_dim, hidden_dims)


class DetachedNet(ModuleListNet):
    def forward(self, x: Tensor) -> Tensor:
        with torch.no_grad():
            return super().forward(x)


class BatchMeanNet(ModuleListNet):
    def forward(self, x: Tensor) -> Tensor:
        return super().forward(x).mean(dim=0)


class IgnoresInputNet(ModuleListNet):
    def forward(self, x: Tensor) -> Tensor:
        return super().forward(torch.zeros_like(x))


class DoubleNet(ModuleListNet):
    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__(state_dim, action_dim, hidden_dims)
        self.double()


class RefusesWidthOneNet(ModuleListNet):
    """Bug: `< 2` where `< 1` was meant, so a width of 1 is refused."""

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        if min([state_dim, action_dim, *hidden_dims]) < 2:
            raise ValueError("sizes must be positive")
        super().__init__(state_dim, action_dim, hidden_dims)


class ReluOnInputOnlyNet(ModuleListNet):
    def forward(self, x: Tensor) -> Tensor:
        x = torch.relu(x)
        for layer in self.hidden:
            x = layer(x)
        out: Tensor = self.head(x)
        return out


class DropoutNet(ModuleListNet):
    """Bug: Dropout after each ReLU (the docstring says ReLU between the layers, nothing else)."""

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.hidden:
            x = F.dropout(F.relu(layer(x)), p=0.2, training=self.training)
        out: Tensor = self.head(x)
        return out


class NoSizesNet(nn.Module):
    """Bug: a correct network that does not keep its sizes (exercise 4 needs them)."""

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        validate(state_dim, action_dim, hidden_dims)
        sizes = [state_dim, *hidden_dims]
        layers: list[nn.Module] = []
        for a, b in itertools.pairwise(sizes):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers, nn.Linear(sizes[-1], action_dim))

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.net(x)
        return out


BUGS: list[tuple[str, str, type[nn.Module], tuple[str, ...]]] = [
    (
        "tanh between layers",
        "nonlinearity between layers",
        TanhNet,
        ("a Tanh", "a ReLU between consecutive Linear layers", "nothing after the last Linear layer"),
    ),
    ("dropout between layers", "nonlinearity between layers", DropoutNet, ("a Dropout",)),
    ("batch of one for one state", "output shape", TanhNet, ("shape (3,), got (1, 3)",)),
    ("sizes not kept", "keeps its sizes as attributes", NoSizesNet, ("no attribute state_dim", "exercise 4")),
    ("missing output layer", "output shape", sequential_net(with_output_layer=False), ("final Linear",)),
    (
        "missing output layer",
        "one Linear layer per hidden width",
        sequential_net(with_output_layer=False),
        ("output layer",),
    ),
    ("batch mean", "output shape", BatchMeanNet, ("batch axis was lost",)),
    ("plain list", "one Linear layer per hidden width", PlainListNet, ("self.layers (a plain list)", "ModuleList")),
    ("plain list", "parameter count", PlainListNet, ("plain list", "expected 4610")),
    ("plain list", "parameters registered and trained", PlainListNet, ("plain list", "optimizer")),
    (
        "hard-coded widths",
        "one Linear layer per hidden width",
        HardCodedNet,
        ("expected Linear(4->2)", "found Linear(4->64)"),
    ),
    ("tuple hidden_dims", "one Linear layer per hidden width", ListConcatNet, ("(24, 12)", "tuple")),
    ("empty hidden_dims", "one Linear layer per hidden width", FirstWidthNet, ("IndexError", "may be empty")),
    ("bias=False", "parameter count", sequential_net(bias=False), ("bias=False",)),
    ("detached forward", "parameters registered and trained", DetachedNet, ("cuts the graph",)),
    ("no activation", "nonlinearity between layers", sequential_net(activation=lambda i, n: False), ("affine",)),
    (
        "activation only after the first layer",
        "nonlinearity between layers",
        sequential_net(activation=lambda i, n: i == 0),
        ("Linear layer 2", "no activation"),
    ),
    ("relu only on the input", "nonlinearity between layers", ReluOnInputOnlyNet, ("Linear layer 1", "no activation")),
    ("relu on output", "no activation on the Q-values", sequential_net(output=torch.relu), ("ReLU", "negative")),
    (
        "nn.ReLU() after the last Linear in the Sequential",
        "no activation on the Q-values",
        sequential_net(output_module=nn.ReLU),
        ("negative", "built in __init__ end with ReLU (self.net."),
    ),
    (
        "softmax on output",
        "no activation on the Q-values",
        sequential_net(output=lambda q: torch.softmax(q, dim=-1)),
        ("softmax",),
    ),
    ("sigmoid on output", "no activation on the Q-values", sequential_net(output=torch.sigmoid), ("sigmoid",)),
    ("tanh on output", "no activation on the Q-values", sequential_net(output=torch.tanh), ("tanh",)),
    (
        "no size validation",
        "invalid sizes raise ValueError",
        sequential_net(check_sizes=False),
        ("expected ValueError",),
    ),
    (
        "width of 1 refused",
        "invalid sizes raise ValueError",
        RefusesWidthOneNet,
        ("CustomQNetwork(1, 1, [1]) should build", "a width of 1 is a valid layer size", "raised ValueError"),
    ),
    ("ignores input", "works on a CartPole-v1 observation", IgnoresInputNet, ("ignores its input",)),
    ("float64 layers", "works on a CartPole-v1 observation", DoubleNet, ("float32",)),
]


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
@pytest.mark.parametrize(("bug", "check_name", "cls", "phrases"), BUGS, ids=[f"{b[1]}: {b[0]}" for b in BUGS])
def test_bug_fails_the_check_with_a_message_naming_it(
    bug: str, check_name: str, cls: type[nn.Module], phrases: tuple[str, ...]
) -> None:
    passed, message = run_check(check_name, module_with(cls))
    assert not passed, f"{bug} passed {check_name}: {message}"
    for phrase in phrases:
        assert phrase in message, f"{bug}: {phrase!r} not in {message!r}"


def test_every_check_is_shown_failing_by_some_bug() -> None:
    assert {check_name for _, check_name, _, _ in BUGS} == set(CHECK_BY_NAME)


def test_hidden_containers_names_plain_lists() -> None:
    net = PlainListNet(4, 2, [8])
    assert qc.hidden_containers(net) == ["self.layers (a plain list)"]
    assert qc.hidden_containers(solutions.q_network.CustomQNetwork(4, 2, [8])) == []


def test_checks_through_the_sandbox() -> None:
    from playground.sandbox.runner import run_checks

    results = run_checks("q_network", "solutions")
    assert [r.check for r in results] == [spec.name for spec in CHECKS]
    assert all(r.passed for r in results), results
    stub = run_checks("q_network", "exercises", names=["output shape"])
    assert not stub[0].passed
    assert stub[0].message.startswith("not implemented yet")


class NoSuperNet(nn.Module):
    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        self.head = nn.Linear(state_dim, action_dim)  # the bug: nn.Module.__init__ was never called

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.head(x)
        return out


def test_missing_super_init_gets_a_hint() -> None:
    passed, message = run_check("output shape", module_with(NoSuperNet))
    assert not passed
    assert "super().__init__()" in message
