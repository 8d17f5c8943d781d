"""Checks for exercise 4: ``save_model`` / ``load_model``.

Every check builds networks with the module's own ``CustomQNetwork`` (the
stub imports the reference one; a learner may switch to theirs), gives them
distinctive weights, and saves them with the learner's ``save_model``, so any
file layout the learner chose is fine as long as their ``load_model`` reads it
back. The hostile and broken files are written here, by the checks.
"""

from __future__ import annotations

import builtins
import io
import itertools
import pickle
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from playground.checks import CauseHint, CheckFailed, CheckNotRun, check, require
from playground.core.config import DQNConfig
from solutions.q_network import CustomQNetwork as ReferenceNetwork

DEFAULT = (4, 2, (64, 64))
OTHER_ARCHITECTURES: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (3, 5, ()),
    (6, 2, (64,)),
    (8, 3, (32, 16, 8)),
    (1, 1, (1,)),
)


# ---------------------------------------------------------------------------- helpers


def _network_class(mod: ModuleType) -> Callable[..., nn.Module]:
    cls = getattr(mod, "CustomQNetwork", None)
    if isinstance(cls, type) and issubclass(cls, nn.Module):
        return cls
    return ReferenceNetwork


def _describe(sizes: tuple[int, int, Sequence[int]]) -> str:
    state_dim, action_dim, hidden = sizes
    return f"CustomQNetwork({state_dim}, {action_dim}, {list(hidden)})"


def _build(mod: ModuleType, sizes: tuple[int, int, Sequence[int]], seed: int = 0) -> nn.Module:
    """A network of these sizes with distinctive weights (unlike any fresh initialisation)."""
    state_dim, action_dim, hidden = sizes
    try:
        net = _network_class(mod)(state_dim, action_dim, list(hidden))
    except Exception as err:
        raise CheckFailed(
            f"could not build {_describe(sizes)} to save: {type(err).__name__}: {err} "
            "(is the CustomQNetwork this module imports working?)"
        ) from err
    generator = torch.Generator().manual_seed(1234 + seed)
    with torch.no_grad():
        for param in net.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * 0.5 + 0.1)
    return net.train()


def _inputs(state_dim: int, count: int = 64, seed: int = 7) -> Tensor:
    return torch.randn(count, state_dim, generator=torch.Generator().manual_seed(seed)) * 2.0


def _q(net: nn.Module, states: Tensor) -> Tensor:
    with torch.no_grad():
        out = net(states)
    if not isinstance(out, Tensor):
        raise CheckFailed(f"the network returned a {type(out).__name__}, not a tensor of Q-values")
    return out.detach().clone()


def _linear_shapes(net: nn.Module) -> list[tuple[int, int]]:
    return [(m.in_features, m.out_features) for m in net.modules() if isinstance(m, nn.Linear)]


@contextmanager
def _workdir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="dqn_save_load_check_") as name:
        yield Path(name)


def _save(mod: ModuleType, net: nn.Module, path: Path) -> None:
    mod.save_model(net, str(path))
    require(path.exists(), f"save_model did not create the file it was given ({path.name}): call torch.save(..., path)")


def _load(mod: ModuleType, path: Path) -> nn.Module:
    loaded = mod.load_model(str(path))
    if isinstance(loaded, tuple) and hasattr(loaded, "missing_keys"):
        raise CheckFailed(
            "load_model returned the report of load_state_dict (missing_keys / unexpected_keys), not the network: "
            "call model.load_state_dict(...) and then return model"
        )
    require(
        isinstance(loaded, nn.Module),
        f"load_model returned a {type(loaded).__name__}, not a network: build a CustomQNetwork from the saved sizes, "
        "load_state_dict into it, and return the network",
    )
    assert isinstance(loaded, nn.Module)
    return loaded


def _require_round_trip(mod: ModuleType) -> None:
    """``CheckNotRun`` unless saving and loading the default network gives it back: the checks that measure
    through a round trip cannot judge before that works, and the check 'round trip' names the cause."""
    net = _build(mod, DEFAULT)
    try:
        with _workdir() as folder:
            path = folder / "probe.pt"
            _save(mod, net, path)
            _compare(net, _load(mod, path), DEFAULT[0], "a round trip", path)
    except NotImplementedError:
        raise
    except CheckFailed as failure:
        function = failure.function or "load_model"
    except Exception:  # noqa: BLE001 - the check 'round trip' reports the error itself
        function = "load_model"
    else:
        return
    raise CheckNotRun(
        f"not run: fix `{function}` first (saving and loading a network does not give it back yet, see the check "
        "'round trip'; this check measures through a round trip)"
    )


def _file_holds_weights(path: Path | None, saved: nn.Module) -> bool:
    """Whether the file at ``path`` holds ``saved``'s weights (read safely, here), so a mismatch is load_model's."""
    if path is None:
        return True
    try:
        content = torch.load(path, weights_only=True)
    except Exception:  # noqa: BLE001 - any file we cannot read is save_model's to fix
        return False
    found = _find_weights(content, 0) if isinstance(content, dict) else None
    if found is None:
        return False
    holder, key = found
    tensors = list(holder[key].values())
    expected = list(saved.state_dict().values())
    return len(tensors) == len(expected) and all(
        t.shape == e.shape and torch.equal(t.detach().cpu(), e.detach().cpu())
        for t, e in zip(tensors, expected, strict=True)
    )


def _compare(saved: nn.Module, loaded: nn.Module, state_dim: int, what: str, path: Path | None = None) -> float:
    """Largest Q-value difference; fails with the likely cause (blaming save_model when the file is wrong)."""
    states = _inputs(state_dim)
    expected, seen = _q(saved, states).double(), _q(loaded, states).double()
    if seen.shape != expected.shape:
        raise CheckFailed(
            f"{what}: the loaded network gives Q-values of shape {tuple(seen.shape)}, the saved one "
            f"{tuple(expected.shape)}: it was rebuilt with other sizes"
        )
    gap = float((seen - expected).abs().max())
    if not torch.allclose(seen, expected, rtol=0.0, atol=1e-6):
        if not _file_holds_weights(path, saved):
            raise CheckFailed(
                f"{what}: the loaded network gives different Q-values (largest difference {gap:.3g}), and the file "
                "does not hold the saved network's weights: save_model must save q_network.state_dict() with the "
                "sizes",
                function="save_model",
            )
        raise CheckFailed(
            f"{what}: the loaded network gives different Q-values (largest difference {gap:.3g}), though the file "
            "holds the right weights: were they loaded? Build the network, then load_state_dict the saved weights "
            "into it"
        )
    return gap


def _error_text(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:160]}" if text else type(err).__name__


# ---------------------------------------------------------------------------- hostile files


class _RunsCode:
    """Pickles as a call to ``exec`` that writes a marker file: what a malicious checkpoint does."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return (builtins.exec, (f"open({str(self.marker)!r}, 'w').write('this ran')",))


def _hostile_files(mod: ModuleType, marker: Path) -> dict[str, bytes]:
    """Files whose unpickling would run code (they create ``marker``)."""
    net = _build(mod, DEFAULT)
    disguised = {
        "state_dim": 4,
        "action_dim": 2,
        "hidden_dims": [64, 64],
        "state_dict": net.state_dict(),
        "note": _RunsCode(marker),
    }
    files: dict[str, bytes] = {}
    buffer = io.BytesIO()
    torch.save(disguised, buffer)
    files["a torch.save checkpoint with a code-running object inside"] = buffer.getvalue()
    files["a plain pickle that calls exec"] = pickle.dumps(_RunsCode(marker), protocol=2)
    buffer = io.BytesIO()
    torch.save({"model": _RunsCode(marker)}, buffer, _use_new_zipfile_serialization=False)
    files["an old-format torch file that calls exec"] = buffer.getvalue()
    return files


def _not_checkpoints(mod: ModuleType) -> dict[str, bytes]:
    """Files that hold no saved network at all (always to be refused)."""
    files: dict[str, bytes] = {
        "an empty file": b"",
        "random bytes": np.random.default_rng(0).bytes(4096),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes/readme.txt", "a zip archive, but not a PyTorch one")
    files["a zip of something else"] = buffer.getvalue()
    buffer = io.BytesIO()
    torch.save(torch.randn(4, 2), buffer)
    files["a lone tensor"] = buffer.getvalue()
    buffer = io.BytesIO()
    torch.save(_build(mod, DEFAULT), buffer)  # the whole module: its class must be imported to load it
    files["a whole pickled model (torch.save(model))"] = buffer.getvalue()
    return files


def _refusal_problem(mod: ModuleType, path: Path, kind: str) -> str | None:
    """``None`` when ``load_model`` refuses the file with a ValueError that has a message."""
    try:
        loaded = mod.load_model(str(path))
    except ValueError as err:
        if not str(err).strip():
            return f"{kind}: ValueError without a message: say what is wrong with the file"
        return None
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - reporting which exception it was is the point
        return (
            f"{kind}: raised {_error_text(err)}, expected ValueError: catch what torch.load or "
            "load_state_dict raise and raise ValueError('...what is wrong...') from it"
        )
    return f"{kind}: was loaded without error (returned {type(loaded).__name__}), expected ValueError"


# ---------------------------------------------------------------------------- checks


@check(
    "save_load",
    "round trip",
    timeout=20,
    tests="load_model",
    enforces=(
        "Rebuild the network that :func:`save_model` wrote to ``path``",
        "the saved weights.",
        "the weights ``q_network.state_dict()``.",
    ),
    cause_hints=(
        CauseHint(
            "does not hold the saved network's weights",
            "save_model writes the weights of the network it is given, next to its sizes: the stub's \"the "
            'weights q_network.state_dict()". A new CustomQNetwork built from those sizes has fresh '
            "random weights, so its state_dict() is not the trained network's: save q_network.state_dict() itself.",
            function="save_model",
        ),
        CauseHint(
            "though the file holds the right weights",
            "The file holds the trained weights, so load_model must copy them into the network it builds: the "
            'stub\'s "the saved weights". Build CustomQNetwork from the sizes in the file, then call its '
            "load_state_dict with the saved state_dict; a network built from the sizes alone keeps fresh random "
            "weights.",
        ),
    ),
)
def round_trip(mod: ModuleType) -> str:
    net = _build(mod, DEFAULT)
    with _workdir() as folder:
        path = folder / "model.pt"
        _save(mod, net, path)
        loaded = _load(mod, path)
        require(loaded is not net, "load_model returned the very network that was saved: it must build a new one")
        gap = _compare(net, loaded, DEFAULT[0], f"saving and loading {_describe(DEFAULT)}", path)
        size = path.stat().st_size
        with_config = folder / "with_config.pt"
        try:
            mod.save_model(net, str(with_config), config=DQNConfig(hidden_dims=DEFAULT[2]))
            loaded = _load(mod, with_config)
        except (CheckFailed, NotImplementedError):
            raise
        except Exception as err:
            raise CheckFailed(
                f"save_model(..., config=DQNConfig(...)) and load_model raised {_error_text(err)}: keep the config "
                "as plain values (config.to_dict()) that torch.load(weights_only=True) can read, or leave it out"
            ) from err
        _compare(net, loaded, DEFAULT[0], "saving with config=DQNConfig(...) and loading", with_config)
    return (
        f"{_describe(DEFAULT)} saved ({size:,} bytes) and loaded: same Q-values on 64 random states (max gap {gap:g}), "
        "also when saved with its DQNConfig"
    )


@check(
    "save_load",
    "other architectures",
    timeout=20,
    tests="load_model",
    enforces=("The network has the sizes stored in the file (not defaults)",),
)
def other_architectures(mod: ModuleType) -> str:
    for sizes in OTHER_ARCHITECTURES:
        net = _build(mod, sizes, seed=len(sizes[2]))
        with _workdir() as folder:
            path = folder / "model.pt"
            try:
                _save(mod, net, path)
                loaded = _load(mod, path)
            except (CheckFailed, NotImplementedError):
                raise
            except Exception as err:
                raise CheckFailed(
                    f"saving and loading {_describe(sizes)} raised {_error_text(err)}. Does load_model build the "
                    "network from the sizes saved in the file, or does it assume the default sizes?"
                ) from err
            saved_shapes, loaded_shapes = _linear_shapes(net), _linear_shapes(loaded)
            require(
                saved_shapes == loaded_shapes,
                f"{_describe(sizes)} came back with Linear layers (in, out) = {loaded_shapes}, expected "
                f"{saved_shapes}: rebuild the network from the sizes saved in the file",
            )
            _compare(net, loaded, sizes[0], f"{_describe(sizes)}", path)
    names = ", ".join(str(list(sizes[2])) for sizes in OTHER_ARCHITECTURES)
    return f"hidden_dims {names} (with other state and action sizes) all come back exactly"


@check(
    "save_load",
    "eval mode, independent copy",
    timeout=20,
    tests="load_model",
    enforces=("wrote to ``path``, in eval mode.",),
)
def eval_mode_and_independent(mod: ModuleType) -> str:
    net = _build(mod, DEFAULT)
    states = _inputs(DEFAULT[0])
    with _workdir() as folder:
        path = folder / "model.pt"
        _save(mod, net, path)
        loaded = _load(mod, path)
    in_training = [name or "the network" for name, module in loaded.named_modules() if module.training]
    if in_training:
        raise CheckFailed(
            f"the loaded network is in training mode ({in_training[0]}.training is True): call .eval() on it "
            "before returning it, since a loaded network is used to act, not to train"
        )
    require(loaded is not net, "load_model returned the very network that was saved: it must build a new one")
    before_saved, before_loaded = _q(net, states), _q(loaded, states)
    with torch.no_grad():
        for param in loaded.parameters():
            param.add_(1.0)
    require(
        torch.equal(_q(net, states), before_saved),
        "changing the loaded network's weights changed the saved network too: they share tensors. "
        "load_model must build a new network and copy the weights into it",
    )
    after_loaded = _q(loaded, states)
    with torch.no_grad():
        for param in net.parameters():
            param.mul_(-1.0)
    require(
        torch.equal(_q(loaded, states), after_loaded),
        "changing the saved network's weights changed the loaded one: they share tensors",
    )
    require(not torch.equal(after_loaded, before_loaded), "changing the loaded network's weights did not change it")
    return "the loaded network is in eval mode and has weights of its own"


@check(
    "save_load",
    "code in a file never runs",
    timeout=20,
    tests="load_model",
    enforces=("Reading the file must never run code from it",),
)
def hostile_pickles(mod: ModuleType) -> str:
    problems: list[str] = []
    with _workdir() as folder:
        marker = folder / "the_file_ran_code.txt"
        files = _hostile_files(mod, marker)
        for index, (kind, data) in enumerate(files.items()):
            path = folder / f"hostile_{index}.pt"
            path.write_bytes(data)
            problem = _refusal_problem(mod, path, kind)
            if marker.exists():
                raise CheckFailed(
                    f"loading {kind} RAN CODE from the file (it created {marker.name}). torch.load(..., "
                    "weights_only=False) and pickle.load rebuild any object a file names, which can run any "
                    "code: use torch.load(path, weights_only=True)"
                )
            if problem is not None:
                problems.append(problem)
    require(
        not problems, f"{len(problems)} of {len(files)} code-running files were not refused:\n" + "\n".join(problems)
    )
    return f"{len(files)} files that would run code were refused with ValueError, and nothing in them ran"


@check(
    "save_load",
    "bad files raise ValueError",
    timeout=20,
    tests="load_model",
    enforces=("Any bad file must raise ``ValueError`` with a message saying what is wrong",),
)
def bad_files(mod: ModuleType) -> str:
    problems: list[str] = []
    with _workdir() as folder:
        files = _not_checkpoints(mod)
        for index, (kind, data) in enumerate(files.items()):
            path = folder / f"bad_{index}.pt"
            path.write_bytes(data)
            problem = _refusal_problem(mod, path, kind)
            if problem is not None:
                problems.append(problem)
        problem = _bare_state_dict_problem(mod, folder)
        if problem is not None:
            problems.append(problem)
        total = len(files) + 1
        for whole, kind in (
            (False, "a file of yours with one weight tensor replaced by a list of numbers"),
            (True, "a file of yours with its weights (the dict of tensors) replaced by a list of tensors"),
        ):
            listed = _weights_as_list(mod, folder, whole=whole)
            if listed is not None:
                total += 1
                problem = _refusal_problem(mod, listed, kind)
                if problem is not None:
                    problems.append(problem)
    require(
        not problems, f"{len(problems)} of {total} bad files were not refused with ValueError:\n" + "\n".join(problems)
    )
    return (
        f"{total} bad files (empty, random bytes, a foreign zip, a lone tensor, a whole pickled model, "
        "a bare state_dict, and when your layout could be edited: weights as a list) each raised ValueError"
    )


def _bare_state_dict_problem(mod: ModuleType, folder: Path) -> str | None:
    """A bare state_dict has no sizes: refuse it (or, if you infer the sizes, rebuild it exactly)."""
    net = _build(mod, (5, 3, (16,)))
    path = folder / "bare_state_dict.pt"
    torch.save(net.state_dict(), path)
    kind = "a bare state_dict (weights without sizes)"
    try:
        loaded = mod.load_model(str(path))
    except ValueError as err:
        return None if str(err).strip() else f"{kind}: ValueError without a message"
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001
        return f"{kind}: raised {_error_text(err)}, expected ValueError saying the sizes are missing"
    if isinstance(loaded, nn.Module) and _linear_shapes(loaded) == _linear_shapes(net):
        states = _inputs(5)
        if torch.allclose(_q(loaded, states), _q(net, states), rtol=0.0, atol=1e-6):
            return None  # the sizes were inferred from the weights, correctly
    return f"{kind}: was loaded without error (returned {type(loaded).__name__}), expected ValueError"


@check(
    "save_load",
    "sizes that do not match the weights",
    timeout=20,
    tests="load_model",
    enforces=("or sizes that do not match the weights.",),
)
def mismatched_sizes(mod: ModuleType) -> str:
    _require_round_trip(mod)
    problems: list[str] = []
    tried = 0
    with _workdir() as folder:
        spliced = _spliced_checkpoint(mod, folder)
        if spliced is not None:
            tried += 1
            path, donor = spliced
            problem = _mismatch_problem(
                mod, path, donor, "a file whose saved sizes say [64] but whose weights are [32]"
            )
            if problem is not None:
                problems.append(problem)
        tried += 1
        problem = _lying_network_problem(mod, folder)
        if problem is not None:
            problems.append(problem)
    require(not problems, "\n".join(problems))
    return f"{tried} file(s) whose sizes contradict their weights: refused with ValueError"


def _weights_as_list(mod: ModuleType, folder: Path, *, whole: bool = False) -> Path | None:
    """A file saved by the learner's save_model with its first weight tensor turned into a list (None if unfindable)."""
    original = folder / "to_list.pt"
    _save(mod, _build(mod, (4, 2, (8,))), original)
    try:
        checkpoint = torch.load(original, weights_only=True)
    except Exception:  # noqa: BLE001 - a format we cannot edit: skip this file
        return None
    target = _find_weights(checkpoint) if isinstance(checkpoint, dict) else None
    if target is None:
        return None
    holder, key = target
    weights = dict(holder[key])
    first = next(iter(weights))
    weights[first] = weights[first].tolist()
    holder[key] = list(holder[key].values()) if whole else weights
    path = folder / f"list_weights_{int(whole)}.pt"
    torch.save(checkpoint, path)
    return path


def _spliced_checkpoint(mod: ModuleType, folder: Path) -> tuple[Path, nn.Module] | None:
    """Save a [64] network with the learner's format, then swap in a [32] network's weights."""
    saved, donor = _build(mod, (4, 2, (64,))), _build(mod, (4, 2, (32,)), seed=5)
    original = folder / "original.pt"
    _save(mod, saved, original)
    try:
        checkpoint = torch.load(original, weights_only=True)
    except Exception:  # noqa: BLE001 - a format we cannot edit: use the other test only
        return None
    if not isinstance(checkpoint, dict):
        return None
    target = _find_weights(checkpoint)
    if target is None:
        return None
    holder, key = target
    holder[key] = donor.state_dict()
    path = folder / "spliced.pt"
    torch.save(checkpoint, path)
    return path, donor


def _find_weights(tree: dict[Any, Any], depth: int = 0) -> tuple[dict[Any, Any], Any] | None:
    for key, value in tree.items():
        if isinstance(value, Mapping) and value and all(isinstance(v, Tensor) for v in value.values()):
            return tree, key
    if depth < 2:
        for value in tree.values():
            if isinstance(value, dict):
                found = _find_weights(value, depth + 1)
                if found is not None:
                    return found
    return None


def _mismatch_problem(mod: ModuleType, path: Path, donor: nn.Module, kind: str) -> str | None:
    try:
        loaded = mod.load_model(str(path))
    except ValueError as err:
        return None if str(err).strip() else f"{kind}: ValueError without a message"
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001
        return (
            f"{kind}: raised {_error_text(err)}, expected ValueError. load_state_dict raises RuntimeError "
            "when the weights do not fit the network: catch it and raise ValueError saying the sizes do not match"
        )
    states = _inputs(4)
    same_layers = isinstance(loaded, nn.Module) and _linear_shapes(loaded) == _linear_shapes(donor)
    if same_layers and torch.allclose(_q(loaded, states), _q(donor, states), rtol=0.0, atol=1e-6):
        return None  # sizes taken from the weights themselves: also correct
    return f"{kind}: was loaded without error (returned {type(loaded).__name__}), expected ValueError"


def _lying_network_problem(mod: ModuleType, folder: Path) -> str | None:
    """A network whose size attributes disagree with its layers: refuse it, or save what the layers really are."""
    net = _build(mod, (4, 2, (64,)))
    try:
        setattr(net, "hidden_dims", (32,))  # noqa: B010 - any attribute type, whatever the class declares
    except (AttributeError, TypeError):
        return None
    path = folder / "lying.pt"
    kind = "a network whose hidden_dims attribute says [32] but whose layers are [64]"
    try:
        mod.save_model(net, str(path))
    except ValueError:
        return None  # refused at save time: fine
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001
        return f"{kind}: save_model raised {_error_text(err)}"
    return _mismatch_problem(mod, path, net, kind)


@check(
    "save_load",
    "saving leaves the network unchanged",
    timeout=20,
    tests="save_model",
    enforces=("Saving must not change the network",),
)
def save_keeps_network(mod: ModuleType) -> str:
    net = _build(mod, DEFAULT)
    states = _inputs(DEFAULT[0])
    params = {name: p.detach().clone() for name, p in net.named_parameters()}
    grads = {name: p.requires_grad for name, p in net.named_parameters()}
    q_before = _q(net, states)
    with _workdir() as folder:
        _save(mod, net, folder / "first.pt")
        _save(mod, net, folder / "second.pt")
        loaded = _load(mod, folder / "second.pt")
    changed = [name for name, p in net.named_parameters() if not torch.equal(p.detach(), params[name])]
    if changed:
        raise CheckFailed(f"save_model changed the network's weights ({changed[0]}): it should only read them")
    require(
        [name for name, p in net.named_parameters()] == list(params),
        "save_model added or removed parameters of the network",
    )
    require(net.training, "save_model switched the network to eval mode: leave the caller's network as it was")
    frozen = [name for name, p in net.named_parameters() if p.requires_grad != grads[name]]
    if frozen:
        raise CheckFailed(f"save_model changed requires_grad of {frozen[0]}: the network could no longer be trained")
    require(torch.equal(_q(net, states), q_before), "the network gives different Q-values after save_model")
    _require_round_trip(mod)  # the file is judged by loading it back: only once a round trip works
    _compare(net, loaded, DEFAULT[0], "saving the same network twice")
    return "weights, training mode and requires_grad are unchanged after saving twice"


class _LayerListNetwork(nn.Module):
    """Exercise 1 written another way: an ``nn.ModuleList`` named ``layers`` (so other parameter names)."""

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        self.state_dim, self.action_dim, self.hidden_dims = state_dim, action_dim, tuple(hidden_dims)
        widths = [state_dim, *hidden_dims, action_dim]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        out: Tensor = self.layers[-1](x)
        return out


class _BiasesFirstNetwork(nn.Module):
    """The same function with its parameters in another order: every bias, then every weight."""

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        self.state_dim, self.action_dim, self.hidden_dims = state_dim, action_dim, tuple(hidden_dims)
        layers = [nn.Linear(a, b) for a, b in itertools.pairwise([state_dim, *hidden_dims, action_dim])]
        self.biases = nn.ParameterList(layer.bias for layer in layers)
        self.weights = nn.ParameterList(layer.weight for layer in layers)

    def forward(self, x: Tensor) -> Tensor:
        last = len(self.weights) - 1
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.nn.functional.linear(x, weight, bias)
            x = x if i == last else torch.relu(x)
        return x


@check(
    "save_load",
    "weights under other names: loaded exactly or refused",
    timeout=20,
    tests="load_model",
    enforces=("The network has the sizes stored in the file (not defaults) and the saved weights.",),
)
def renamed_weights(mod: ModuleType) -> str:
    """Weights saved from a network whose parameters have other names: the same Q-values, or a ValueError."""
    _require_round_trip(mod)
    sizes = (4, 2, (8, 8))
    outcomes = []
    for cls, names in (
        (_LayerListNetwork, "an nn.ModuleList `layers` (parameters layers.0.weight, ...)"),
        (_BiasesFirstNetwork, "every bias first, then every weight (parameters biases.0, ..., weights.0, ...)"),
    ):
        outcomes.append(_renamed_outcome(mod, cls, sizes, f"a {_describe(sizes)} written with {names}"))
    return "; ".join(outcomes)


def _renamed_outcome(mod: ModuleType, cls: type[nn.Module], sizes: tuple[int, int, Sequence[int]], kind: str) -> str:
    torch.manual_seed(4)
    net = cls(*sizes)
    with _workdir() as folder:
        path = folder / "renamed.pt"
        try:
            mod.save_model(net, str(path))
        except NotImplementedError:
            raise
        except Exception as err:  # noqa: BLE001 - refusing a network that is not the module's own is fine
            return f"save_model refused {kind} ({type(err).__name__}): fine, it is not this module's network"
        try:
            loaded = mod.load_model(str(path))
        except ValueError as err:
            require(bool(str(err).strip()), f"loading {kind}: ValueError without a message")
            return f"{kind}: refused with ValueError"
        except NotImplementedError:
            raise
        except Exception as err:
            raise CheckFailed(
                f"loading {kind} raised {_error_text(err)}, expected the network back or a ValueError: "
                "load_state_dict raises RuntimeError for unexpected or missing keys; catch it and raise ValueError"
            ) from err
    require(
        isinstance(loaded, nn.Module), f"loading {kind}: load_model returned a {type(loaded).__name__}, not a network"
    )
    states = _inputs(sizes[0])
    gap = float((_q(loaded, states).double() - _q(net, states).double()).abs().max())
    require(
        gap <= 1e-6,
        f"loading {kind}: the network returned gives other Q-values than the saved one (largest difference "
        f"{gap:.3g}): weights were left out or copied into the wrong layers (load_state_dict(strict=False) "
        "skips every key it does not know). Load them exactly or raise ValueError",
    )
    return f"{kind}: loaded with the same Q-values"
