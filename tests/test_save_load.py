"""Exercise 4 (save/load): the reference, its checks against buggy versions, hostile files, and the page."""

from __future__ import annotations

import io
import itertools
import os
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest
from torch import nn

from playground.checks import CheckFailed, checks_for
from playground.core.config import PRESETS
from playground.sandbox.runner import run_checks
from playground.tasks import model_files
from playground.tasks.rollout import gif_bytes, greedy_rollout
from playground.tasks.snapshot import TrainedNetwork, snapshot_network
from solutions import save_load
from solutions.q_network import CustomQNetwork

ROOT = Path(__file__).resolve().parent.parent
# The buggy loaders below index whatever torch.load returned (even a lone tensor) with a string.
pytestmark = pytest.mark.filterwarnings("ignore:Using a non-tuple sequence:UserWarning")
PAGE = "pages/4_save_load.py"


def _net(state_dim: int = 4, action_dim: int = 2, hidden: list[int] | None = None, seed: int = 0) -> CustomQNetwork:
    torch.manual_seed(seed)
    return CustomQNetwork(state_dim, action_dim, [64, 64] if hidden is None else hidden)


def _bytes_of(obj: Any, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer, **kwargs)
    return buffer.getvalue()


# ---------------------------------------------------------------------------- the reference


@pytest.mark.parametrize("hidden", [[], [64], [32, 16, 8], [64, 64]])
def test_round_trip_keeps_sizes_and_outputs(tmp_path: Path, hidden: list[int]) -> None:
    net = _net(3, 5, hidden)
    save_load.save_model(net, tmp_path / "m.pt")  # a PathLike works as well as a str
    loaded = save_load.load_model(str(tmp_path / "m.pt"))
    states = torch.randn(16, 3)
    assert isinstance(loaded, CustomQNetwork)
    assert loaded.hidden_dims == tuple(hidden)
    assert not loaded.training
    assert torch.equal(loaded(states), net(states))


def test_file_objects_and_config_are_supported() -> None:
    net = _net(8, 2, [32])
    buffer = io.BytesIO()
    save_load.save_model(net, buffer, config=PRESETS["lineworld"])
    checkpoint = torch.load(io.BytesIO(buffer.getvalue()), weights_only=True)
    assert checkpoint["format"] == save_load.FORMAT
    assert checkpoint["format_version"] == save_load.FORMAT_VERSION
    assert checkpoint["config"]["env_id"] == "LineWorld-v0"
    assert checkpoint["hidden_dims"] == [32]
    buffer.seek(0)
    assert torch.equal(save_load.load_model(buffer)(torch.eye(8)), net(torch.eye(8)))


def test_saving_leaves_the_network_alone(tmp_path: Path) -> None:
    net = _net().train()
    before = [p.detach().clone() for p in net.parameters()]
    save_load.save_model(net, str(tmp_path / "m.pt"))
    assert net.training
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_weights_saved_under_other_names_still_load(tmp_path: Path) -> None:
    """A learner's own network class may name its layers differently: same shapes in order load fine."""
    net = _net(4, 2, [16])
    checkpoint = torch.load(io.BytesIO(_bytes_of({"x": 1})), weights_only=True)  # just to exercise the API
    assert checkpoint == {"x": 1}
    renamed = {f"layers.{i}": tensor for i, tensor in enumerate(net.state_dict().values())}
    path = tmp_path / "renamed.pt"
    torch.save({"state_dim": 4, "action_dim": 2, "hidden_dims": [16], "state_dict": renamed}, path)
    assert torch.equal(save_load.load_model(path)(torch.ones(2, 4)), net(torch.ones(2, 4)))


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        save_load.load_model(tmp_path / "nothing_here.pt")


class RunsCode:
    """A pickle payload that writes a marker file when it is unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str]]:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def _hostile(marker: Path) -> dict[str, bytes]:
    sizes = {"format": save_load.FORMAT, "state_dim": 4, "action_dim": 2, "hidden_dims": [8]}
    return {
        "torch.save of the payload": _bytes_of(RunsCode(marker)),
        "payload inside a real-looking checkpoint": _bytes_of({**sizes, "state_dict": {}, "x": RunsCode(marker)}),
        "legacy torch format": _bytes_of(RunsCode(marker), _use_new_zipfile_serialization=False),
        "plain pickle protocol 2": pickle.dumps(RunsCode(marker), protocol=2),
        "plain pickle protocol 5": pickle.dumps([RunsCode(marker)], protocol=5),
        "a whole pickled model": _bytes_of(_net(4, 2, [8])),
    }


@pytest.mark.parametrize("kind", list(_hostile(Path("x"))))
def test_hostile_files_are_refused_and_nothing_runs(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "marker.txt"
    path = tmp_path / "hostile.pt"
    path.write_bytes(_hostile(marker)[kind])
    with pytest.raises(ValueError, match=r"refused|can be read safely") as info:
        save_load.load_model(path)
    assert "nothing from" in str(info.value)
    assert not marker.exists()


def _zip_of_text() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("folder/hello.txt", "hello")
    return buffer.getvalue()


def _with(**changes: Any) -> bytes:
    net = _net(4, 2, [16])
    checkpoint: dict[str, Any] = {
        "format": save_load.FORMAT,
        "format_version": 1,
        "state_dim": 4,
        "action_dim": 2,
        "hidden_dims": [16],
        "state_dict": net.state_dict(),
    }
    checkpoint.update(changes)
    return _bytes_of({key: value for key, value in checkpoint.items() if value is not None})


BAD_FILES: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty": (lambda: b"", "empty"),
    "random bytes": (lambda: np.random.default_rng(1).bytes(3000), "not a PyTorch checkpoint"),
    "text": (lambda: b"just some text\n", "not a PyTorch checkpoint"),
    "zip of something else": (_zip_of_text, "not a PyTorch checkpoint"),
    "lone tensor": (lambda: _bytes_of(torch.randn(3, 3)), "single tensor"),
    "a list": (lambda: _bytes_of([1, 2, 3]), "holds a list"),
    "bare state_dict": (lambda: _bytes_of(_net().state_dict()), "bare state_dict"),
    "sizes missing": (lambda: _with(hidden_dims=None), "no hidden_dims"),
    "hidden_dims wrong": (lambda: _with(hidden_dims=[32]), "do not match"),
    "same count, other shapes": (lambda: _with(state_dim=5, hidden_dims=[14]), "do not fit"),
    "huge sizes": (lambda: _with(hidden_dims=[10**6, 10**6]), "do not match"),
    "bad size value": (lambda: _with(state_dim="four"), "not a positive integer"),
    "no weights": (lambda: _with(state_dict={}), "no weights"),
    "weights not tensors": (lambda: _with(state_dict={"net.0.weight": [1.0]}), "names to tensors"),
    "foreign format": (lambda: _with(format="something-else"), "not a 'dqn-playground-checkpoint'"),
    "newer version": (lambda: _with(format_version=99), "version"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_files_raise_clear_value_errors(tmp_path: Path, kind: str) -> None:
    make, expected = BAD_FILES[kind]
    path = tmp_path / "bad.pt"
    path.write_bytes(make())
    with pytest.raises(ValueError, match=expected):
        save_load.load_model(path)


def test_same_parameter_count_other_shapes_is_caught() -> None:
    # 4 -> 16 -> 2 and 5 -> 14 -> 2 both hold 114 numbers: the shape check, not the count, refuses it.
    assert save_load._parameter_count(4, 2, [16]) == save_load._parameter_count(5, 2, [14])


# ---------------------------------------------------------------------------- the checks


def _module(
    save: Callable[..., None], load: Callable[..., Any], network: type[nn.Module] = CustomQNetwork
) -> ModuleType:
    module = ModuleType("buggy_save_load")
    module.save_model = save  # type: ignore[attr-defined]
    module.load_model = load  # type: ignore[attr-defined]
    module.CustomQNetwork = network  # type: ignore[attr-defined]
    return module


def _run_all(module: ModuleType) -> dict[str, str | None]:
    """Check name -> None when it passed, else its failure message (checks run in-process here)."""
    outcome: dict[str, str | None] = {}
    for spec in checks_for("save_load"):
        try:
            spec.func(module)
        except CheckFailed as failure:
            outcome[spec.name] = str(failure)
        except Exception as err:  # noqa: BLE001 - the sandbox turns these into failures too
            outcome[spec.name] = f"raised {type(err).__name__}: {err}"
        else:
            outcome[spec.name] = None
    return outcome


def _save_sized(q_network: nn.Module, path: str, *, config: Any = None) -> None:
    sizes = {k: getattr(q_network, k) for k in ("state_dim", "action_dim", "hidden_dims")}
    torch.save({**sizes, "state_dict": q_network.state_dict()}, path)


def _load_without_weights(path: str) -> nn.Module:
    """Bug: builds a network of the saved sizes but never loads the saved weights into it."""
    checkpoint = torch.load(path, weights_only=True)
    if not isinstance(checkpoint, dict):  # a lone tensor indexed with a string would warn (see pytestmark)
        raise ValueError(f"{path} holds a {type(checkpoint).__name__}, not a checkpoint")
    return CustomQNetwork(checkpoint["state_dim"], checkpoint["action_dim"], checkpoint["hidden_dims"]).eval()


def _save_whole(q_network: nn.Module, path: str, *, config: Any = None) -> None:
    torch.save(q_network, path)


def _load_unsafely(path: str) -> nn.Module:
    loaded: nn.Module = torch.load(path, weights_only=False)
    return loaded.eval()


def _load_default_sizes(path: str) -> nn.Module:
    net = CustomQNetwork(4, 2, [64, 64])
    net.load_state_dict(torch.load(path, weights_only=True)["state_dict"])
    return net.eval()


def _load_no_value_errors(path: str) -> nn.Module:
    checkpoint = torch.load(path, weights_only=True)
    net = CustomQNetwork(checkpoint["state_dim"], checkpoint["action_dim"], checkpoint["hidden_dims"])
    net.load_state_dict(checkpoint["state_dict"])
    return net.eval()


def _load_train_mode(path: str) -> nn.Module:
    return save_load.load_model(path).train()


def _save_and_eval(q_network: nn.Module, path: str) -> None:
    q_network.eval()
    save_load.save_model(q_network, path)  # type: ignore[arg-type]


def _load_returns_report(path: str) -> Any:
    checkpoint = torch.load(path, weights_only=True)
    net = CustomQNetwork(checkpoint["state_dim"], checkpoint["action_dim"], checkpoint["hidden_dims"])
    return net.load_state_dict(checkpoint["state_dict"])


def _save_config_object(q_network: nn.Module, path: str, *, config: Any = None) -> None:
    sizes = {k: getattr(q_network, k) for k in ("state_dim", "action_dim", "hidden_dims")}
    torch.save({**sizes, "state_dict": q_network.state_dict(), "config": config}, path)


def _load_by_name_leniently(path: str) -> nn.Module:
    checkpoint = torch.load(path, weights_only=True)
    net = CustomQNetwork(checkpoint["state_dim"], checkpoint["action_dim"], checkpoint["hidden_dims"])
    net.load_state_dict(checkpoint["state_dict"], strict=False)
    return net.eval()


def _load_in_reverse_order(path: str) -> nn.Module:
    """Loads weights under other names by position, but pairs them up wrongly (weights and biases swapped)."""
    checkpoint = torch.load(path, weights_only=True)
    net = CustomQNetwork(checkpoint["state_dim"], checkpoint["action_dim"], checkpoint["hidden_dims"])
    try:
        net.load_state_dict(checkpoint["state_dict"])
    except RuntimeError:
        with torch.no_grad():
            targets = list(net.parameters())
            sources = list(checkpoint["state_dict"].values())
            for target, source in zip(targets, sources[::-1], strict=True):
                if target.shape == source.shape:
                    target.copy_(source)
    return net.eval()


def _load_refusing_other_names(path: str) -> nn.Module:
    try:
        return _load_no_value_errors(path)
    except RuntimeError as err:
        raise ValueError(f"the weights do not fit: {err}") from err


RENAMED = "weights under other names: loaded exactly or refused"


def _load_refusing_size_one(path: str) -> nn.Module:
    checkpoint = torch.load(path, weights_only=True)
    if min(checkpoint["state_dim"], checkpoint["action_dim"], *checkpoint["hidden_dims"]) <= 1:
        raise ValueError("sizes must be positive")
    return save_load.load_model(path)


def _load_by_position_unchecked(path: str) -> nn.Module:
    """Copies weights under other names by position without comparing shapes first."""
    checkpoint = torch.load(path, weights_only=True)
    net = CustomQNetwork(checkpoint["state_dim"], checkpoint["action_dim"], checkpoint["hidden_dims"])
    try:
        net.load_state_dict(checkpoint["state_dict"])
    except RuntimeError:
        with torch.no_grad():
            for target, source in zip(net.parameters(), checkpoint["state_dict"].values(), strict=True):
                target.copy_(source)
    return net.eval()


def test_refusing_a_size_of_one_is_named() -> None:
    message = _run_all(_module(save_load.save_model, _load_refusing_size_one))["other architectures"]
    assert message is not None
    assert "CustomQNetwork(1, 1, [1])" in message
    assert "raised ValueError" in message


def test_copying_by_position_without_comparing_shapes_is_named() -> None:
    message = _run_all(_module(_save_sized, _load_by_position_unchecked))[RENAMED]
    assert message is not None
    assert "every bias first" in message
    assert "raised RuntimeError" in message


def test_saving_the_config_object_is_named() -> None:
    failures = _run_all(_module(_save_config_object, _load_no_value_errors))
    message = failures["round trip"]
    assert message is not None
    assert "config=DQNConfig(...)" in message
    assert "config.to_dict()" in message


def test_weights_under_other_names_loaded_wrongly_or_with_runtime_error_are_named() -> None:
    lenient = _run_all(_module(_save_sized, _load_by_name_leniently))[RENAMED]
    assert lenient is not None
    assert "other Q-values than the saved one" in lenient
    assert "strict=False" in lenient
    swapped = _run_all(_module(_save_sized, _load_in_reverse_order))[RENAMED]
    assert swapped is not None
    assert "copied into the wrong layers" in swapped
    escaped = _run_all(_module(_save_sized, _load_no_value_errors))[RENAMED]
    assert escaped is not None
    assert "raised RuntimeError" in escaped
    assert "raise ValueError" in escaped


def test_refusing_or_loading_weights_under_other_names_both_pass() -> None:
    assert _run_all(_module(_save_sized, _load_refusing_other_names))[RENAMED] is None
    assert _run_all(save_load)[RENAMED] is None
    assert _run_all(_module(_save_inferred, _load_inferred, RenamedNetwork))[RENAMED] is None


def test_checks_pass_on_the_reference_in_the_sandbox() -> None:
    results = run_checks("save_load", "solutions")
    assert len(results) == 8
    assert all(result.passed for result in results), [r.message for r in results if not r.passed]


def test_checks_report_the_stub_as_not_implemented() -> None:
    results = run_checks("save_load", "exercises", names=["round trip"])
    assert not results[0].passed
    assert results[0].message.startswith("not implemented yet")


def test_checks_pass_on_the_reference_in_process() -> None:
    assert _run_all(save_load) == dict.fromkeys(_run_all(save_load))


def test_never_loading_the_weights_is_named() -> None:
    failures = _run_all(_module(_save_sized, _load_without_weights))
    message = failures["round trip"]
    assert message is not None
    assert "different Q-values" in message
    assert "were they loaded" in message


def test_pickling_the_whole_module_and_loading_unsafely_is_caught(tmp_path: Path) -> None:
    failures = _run_all(_module(_save_whole, _load_unsafely))
    assert failures["round trip"] is None  # it "works"... until someone sends you a file
    hostile = failures["code in a file never runs"]
    assert hostile is not None
    assert "RAN CODE" in hostile
    assert "weights_only=True" in hostile
    bad = failures["bad files raise ValueError"]
    assert bad is not None
    assert "a whole pickled model (torch.save(model)): was loaded without error" in bad


def test_assuming_the_default_architecture_is_named() -> None:
    failures = _run_all(_module(_save_sized, _load_default_sizes))
    assert failures["round trip"] is None
    message = failures["other architectures"]
    assert message is not None
    assert "CustomQNetwork(3, 5, [])" in message
    assert "assume the default sizes" in message


def test_letting_torch_errors_escape_is_named() -> None:
    failures = _run_all(_module(_save_sized, _load_no_value_errors))
    assert failures["round trip"] is None
    assert failures["other architectures"] is None
    bad = failures["bad files raise ValueError"]
    assert bad is not None
    assert "random bytes: raised UnpicklingError" in bad
    assert "an empty file: raised EOFError" in bad
    assert "a lone tensor: raised" in bad
    assert "one weight tensor replaced by a list of numbers: raised RuntimeError" in bad
    assert "its weights (the dict of tensors) replaced by a list of tensors: raised" in bad
    hostile = failures["code in a file never runs"]
    assert hostile is not None
    assert "expected ValueError" in hostile
    mismatch = failures["sizes that do not match the weights"]
    assert mismatch is not None
    assert "raised RuntimeError" in mismatch


def test_training_mode_and_changing_the_network_are_named() -> None:
    failures = _run_all(_module(save_load.save_model, _load_train_mode))
    assert failures["eval mode, independent copy"] is not None
    assert "training mode" in str(failures["eval mode, independent copy"])
    failures = _run_all(_module(_save_and_eval, save_load.load_model))
    assert "switched the network to eval mode" in str(failures["saving leaves the network unchanged"])


def test_returning_the_load_state_dict_report_is_named() -> None:
    failures = _run_all(_module(_save_sized, _load_returns_report))
    assert "report of load_state_dict" in str(failures["round trip"])


class RenamedNetwork(nn.Module):
    """A correct network written differently: its own layer names, no size attributes."""

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: list[int]) -> None:
        super().__init__()
        widths = [state_dim, *hidden_dims]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))
        self.head = nn.Linear(widths[-1], action_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.hidden:
            x = torch.relu(layer(x))
        out: torch.Tensor = self.head(x)
        return out


def _save_inferred(q_network: nn.Module, path: str, *, config: Any = None) -> None:
    """Sizes read from the Linear layers, another file layout, a file object."""
    linears = [m for m in q_network.modules() if isinstance(m, nn.Linear)]
    meta = {
        "in": linears[0].in_features,
        "out": linears[-1].out_features,
        "hidden": [m.out_features for m in linears[:-1]],
    }
    extra = {"config": config.to_dict() if config is not None else None, "saved_by": "test"}
    with open(path, "wb") as handle:
        torch.save({"meta": meta, "params": dict(q_network.state_dict()), **extra}, handle)


def _load_inferred(path: str) -> nn.Module:
    try:
        data = torch.load(path, weights_only=True)
        meta, params = data["meta"], data["params"]
        net = RenamedNetwork(meta["in"], meta["out"], list(meta["hidden"]))
        net.load_state_dict(params)
    except Exception as err:  # the learner's way: every failure becomes a ValueError
        raise ValueError(f"cannot load {path}: {err}") from err
    net.eval()
    return net


def test_the_reference_saves_a_network_without_size_attributes() -> None:
    """The lesson's client code may hand save_model its own MLP class: sizes come from the Linear layers."""
    torch.manual_seed(0)
    net = RenamedNetwork(4, 2, [16, 8])
    buffer = io.BytesIO()
    save_load.save_model(net, buffer)  # type: ignore[arg-type]
    buffer.seek(0)
    loaded = save_load.load_model(buffer)
    assert loaded.hidden_dims == (16, 8)
    states = torch.randn(5, 4)
    assert torch.equal(loaded(states), net(states))


def test_a_correct_but_different_implementation_passes() -> None:
    failures = _run_all(_module(_save_inferred, _load_inferred, RenamedNetwork))
    assert failures == dict.fromkeys(failures), failures


# ---------------------------------------------------------------------------- page helpers


def test_model_files_round_trip_and_refusals() -> None:
    net = _net(8, 2, [16])
    snapshot = snapshot_network(net)
    data = model_files.save_bytes("solutions", snapshot, PRESETS["lineworld"].to_dict())
    report = model_files.load_bytes("solutions", data, "m.pt")
    assert report.ok
    assert report.snapshot is not None
    assert report.snapshot.hidden_dims == (16,)
    assert report.config is not None
    assert report.config["env_id"] == "LineWorld-v0"
    assert model_files.matching_envs(report.snapshot) == ["LineWorld-v0"]
    table, gap = model_files.compare_q_values(
        report.snapshot, snapshot, model_files.probe_states("LineWorld-v0"), ("l", "r")
    )
    assert gap == 0.0
    assert len(table) == 8
    assert {row["entry"] for row in model_files.describe_contents(data)} >= {"state_dim", "hidden_dims"}
    refused = model_files.load_bytes("solutions", os.urandom(64), "junk.bin")
    assert not refused.ok
    assert "not a PyTorch checkpoint" in refused.error
    too_big = model_files.load_bytes("solutions", b"0" * (model_files.MAX_UPLOAD_BYTES + 1), "big.pt")
    assert "accepts up to" in too_big.error


def test_learner_code_runs_in_the_sandbox_and_fails_cleanly() -> None:
    snapshot = snapshot_network(_net(8, 2, [16]))
    with pytest.raises(ValueError, match="not implemented yet"):
        model_files.save_bytes("exercises", snapshot)
    report = model_files.load_bytes("exercises", model_files.save_bytes("solutions", snapshot), "m.pt")
    assert not report.ok
    assert "not implemented yet" in report.error


def test_rollout_gif() -> None:
    rollout = greedy_rollout(_net(8, 2, [16]), "LineWorld-v0", max_steps=10)
    assert rollout.steps == len(rollout.frames) - 1 <= 10
    assert gif_bytes(rollout.frames).startswith(b"GIF8")


# ---------------------------------------------------------------------------- the page (AppTest)


def _page(networks: dict[str, TrainedNetwork] | None = None) -> AppTest:
    app = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    app.run()
    app.switch_page(PAGE)
    if networks is not None:
        app.session_state["trained_networks"] = networks
    app.run()
    assert not app.exception, app.exception
    return app


def _texts(elements: Any) -> list[str]:
    return [str(element.value) for element in elements]


def test_page_saves_uploads_evaluates_and_compares() -> None:
    net = _net(8, 2, [16], seed=3)
    app = _page(
        {"net A": TrainedNetwork("net A", snapshot_network(net), "LineWorld-v0", PRESETS["lineworld"].to_dict())}
    )
    app.button(key="save_load_save").click().run()
    assert not app.exception
    assert app.get("download_button")
    assert any("written by solutions/save_load.py" in text for text in _texts(app.success))
    buffer = io.BytesIO()
    save_load.save_model(net, buffer)
    app.file_uploader(key="save_load_upload").set_value(("model.pt", buffer.getvalue(), "application/octet-stream"))
    app.run()
    assert not app.exception
    assert any("Loaded `model.pt`" in text for text in _texts(app.success))
    assert any("Identical Q-values" in text for text in _texts(app.success))
    app.button(key="save_load_evaluate").click().run()
    assert not app.exception
    assert len(app.metric) == 1
    app.button(key="save_load_gif").click().run()
    assert not app.exception
    assert app.get("image")


def test_page_shows_each_bad_upload_and_keeps_working(tmp_path: Path) -> None:
    app = _page()
    marker = tmp_path / "marker.txt"
    uploads = {
        "junk.pt": (os.urandom(200), "not a PyTorch checkpoint"),
        "empty.pt": (b"", "empty"),
        "state_dict.pt": (_bytes_of(_net().state_dict()), "bare state_dict"),
        "evil.pt": (_bytes_of(RunsCode(marker)), "refused"),
    }
    for name, (data, expected) in uploads.items():
        app.file_uploader(key="save_load_upload").set_value((name, data, "application/octet-stream"))
        app.run()
        assert not app.exception
        errors = _texts(app.error)
        assert any(name in text and expected in text for text in errors), errors
    assert not marker.exists()
    app.file_uploader(key="save_load_upload").set_value(
        ("huge.pt", b"\0" * (model_files.MAX_UPLOAD_BYTES + 1), "application/octet-stream")
    )
    app.run()
    assert any("huge.pt" in text and "accepts up to" in text for text in _texts(app.error))
    buffer = io.BytesIO()
    save_load.save_model(_net(8, 2, [4]), buffer)
    app.file_uploader(key="save_load_upload").set_value(("good.pt", buffer.getvalue(), "application/octet-stream"))
    app.run()
    assert not app.exception
    assert not app.error
    assert any("Loaded `good.pt`" in text for text in _texts(app.success))


def test_page_loads_uploads_with_the_learners_code_in_the_sandbox() -> None:
    app = _page()
    app.radio(key="save_load_load_impl").set_value("mine (exercises/)").run()
    buffer = io.BytesIO()
    save_load.save_model(_net(8, 2, [4]), buffer)
    app.file_uploader(key="save_load_upload").set_value(("good.pt", buffer.getvalue(), "application/octet-stream"))
    app.run()
    assert not app.exception
    assert any("not implemented yet" in text for text in _texts(app.error))


def test_page_trains_a_small_network_then_saves_and_reloads_it() -> None:
    app = _page()
    app.button(key="save_load_train").click().run()
    assert not app.exception
    assert app.selectbox(key="save_load_network").value is not None
    app.button(key="save_load_save").click().run()
    app.button(key="save_load_use_saved").click().run()
    assert not app.exception
    assert any("Identical Q-values" in text for text in _texts(app.success))
