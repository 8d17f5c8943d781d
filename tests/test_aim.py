"""Aim: on a submission with one planted bug, the first failing message and the first hint name the buggy function.

Checks run in their registered order, as the sandbox runs them; a check that
only uses a function whose own check failed is settled to ``not_run``
("not run: fix `td_loss` first") instead of giving its own diagnosis.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from dqn_variants import make_loop
from test_q_network_checks import ModuleListNet, sequential_net
from test_q_network_checks import module_with as q_module_with
from test_replay_buffer_checks import CapacityLength, DequeBuffer, DropsWhenFull, WithReplacement, module_with
from test_save_load import _load_without_weights, _module, _save_sized
from torch import Tensor, nn
from torch.nn import functional

from playground.checks import EXERCISES, CheckResult, checks_for, exercise_functions, hints, run_check, unstated
from playground.checks.aim import culprits, settle


@pytest.fixture(autouse=True)
def _one_thread() -> None:
    torch.set_num_threads(1)


def first_failure(exercise: str, module: ModuleType) -> tuple[CheckResult, list[CheckResult]]:
    """The first failing result (checks run in order until one fails) and every result so far, settled."""
    results: list[CheckResult] = []
    for spec in checks_for(exercise):
        results.append(run_check(spec, module))
        if not results[-1].passed:
            return settle(exercise, results)[-1], settle(exercise, results)
    raise AssertionError(f"every check of {exercise} passed on {module.__name__}")


def first_hint(exercise: str, results: list[CheckResult]) -> hints.HintStep:
    step = hints.hint_after(exercise, {}, results)
    assert step is not None
    return step


def assert_aimed(exercise: str, module: ModuleType, function: str) -> CheckResult:
    failure, results = first_failure(exercise, module)
    assert failure.status in ("failed", "error"), failure
    assert failure.function == function, (failure.check, failure.message)
    step = first_hint(exercise, results)
    assert step.function == function, failure
    spec = next(spec for spec in checks_for(exercise) if spec.name == failure.check)
    own = spec.hint_for(failure.message, function)
    if own is not None:  # the first hint is about the check that failed (or the cause it names), not the ladder
        assert (step.check, step.text, step.cause) == (failure.check, *own), step
    return failure


# Planted bugs whose first hint was the ladder's generic "idea": now the failing check's own hint.
CHECK_HINTED: dict[str, tuple[str, str]] = {
    # bug: (the first failing check, a phrase of its hint)
    "truncation": ("bootstraps through truncation", "terminated only"),
    "eps_per_episode": ("explores on the epsilon schedule", "not the episode"),
    "eps_next_step": ("explores on the epsilon schedule", "0 for the first action"),
    "starts_at_learning_starts": ("follows the update schedule", "strictly greater"),
    "return_not_reset": ("result is well formed", "set both back to 0"),
    "reset_before_push": ("stores each step's transition", "reset only after the push"),
    "aliased_target": ("keeps a separate target network", "does not copy"),
}


@pytest.mark.parametrize("bug", sorted(CHECK_HINTED))
def test_the_first_hint_of_a_loop_bug_is_about_its_failing_check(bug: str) -> None:
    check_name, phrase = CHECK_HINTED[bug]
    failure, results = first_failure("train_dqn", make_loop(bug))
    assert failure.check == check_name, (failure.check, failure.message)
    step = first_hint("train_dqn", results)
    assert step.check == check_name
    assert phrase in step.text
    if bug == "aliased_target":
        assert "explored with epsilon" not in failure.message


def test_an_aliased_target_network_is_the_only_diagnosis() -> None:
    """``target_network = q_network`` with an in-place Polyak update zeroes the network: every later loop check
    failed with its own diagnosis ("explored with epsilon about 1.2"); now they are not run."""
    module = make_loop("aliased_target", polyak="mul_add")
    loop = [spec for spec in checks_for("train_dqn") if spec.tests == "train_dqn"]
    results = settle("train_dqn", [run_check(spec, module) for spec in loop])
    standing = [r for r in results if r.status in ("failed", "error")]
    assert [r.check for r in standing] == ["keeps a separate target network"]
    assert "target_network = q_network does not copy" in standing[0].message
    explores = next(r for r in results if r.check == "explores on the epsilon schedule")
    assert explores.status == "not_run", explores
    assert "explored with epsilon" not in " ".join(r.message for r in results)


def test_a_target_aliased_then_frozen_is_not_blamed_on_gradient_phase() -> None:
    """The reference's setup with ``target_network = q_network``: freezing the target froze the online network,
    and backward() raised inside gradient_phase, whose own check passes."""
    import solutions.train_dqn as ref

    source = Path(ref.__file__).read_text(encoding="utf-8")
    built = "    target_network = q_network_cls(state_dim, action_dim, list(config.hidden_dims))\n"
    assert built in source
    module = ModuleType("exercises.train_dqn")
    code = source.replace(built, "    target_network = q_network\n")
    exec(compile(code, "/learner/exercises/train_dqn.py", "exec"), module.__dict__)
    names = ["keeps a separate target network", "result is well formed"]
    specs = [spec for spec in checks_for("train_dqn") if spec.name in names]
    results = settle("train_dqn", [run_check(spec, module) for spec in specs])
    assert [(r.status, r.function) for r in results] == [("failed", "train_dqn"), ("not_run", "train_dqn")]
    alone = run_check(specs[1], module)  # without the precondition: the loop's own diagnosis, not gradient_phase
    assert (alone.status, alone.function) == ("failed", "train_dqn"), alone
    assert "target_network = q_network" in alone.message


@pytest.mark.parametrize(
    ("cls", "check_name", "phrase"),
    [
        (WithReplacement, "no duplicates within a batch", "without replacement"),
        (DequeBuffer, "indices name the returned transitions", "not its age counted from the oldest"),
    ],
)
def test_the_first_hint_of_a_sampling_bug_is_about_its_failing_check(cls: type, check_name: str, phrase: str) -> None:
    failure, results = first_failure("replay_buffer", module_with(cls))
    assert failure.check == check_name, (failure.check, failure.message)
    step = first_hint("replay_buffer", results)
    assert (step.function, step.check) == ("ReplayBufferWithIndices.sample_indices", check_name)
    assert phrase in step.text


@pytest.mark.parametrize(
    ("bug", "function"),
    [
        ("truncation", "train_dqn"),  # done includes truncation
        ("eps_per_episode", "train_dqn"),
        ("starts_at_learning_starts", "train_dqn"),  # learning_starts off by one
        ("return_not_reset", "train_dqn"),  # the episode return is wrong
        ("eps_next_step", "train_dqn"),  # epsilon taken at t + 1
        ("reset_before_push", "train_dqn"),  # s' of an episode's last transition is the reset state
        ("aliased_target", "train_dqn"),  # target_network = q_network
        ("unseeded", "train_dqn"),  # seed_everything is right, the loop never calls it
        ("online_target", "td_loss"),  # a wrong td_loss
        ("no_zero_grad", "gradient_phase"),
        ("argmin", "greedy_action"),
        ("lr_ignored", "make_optimizer"),
        ("eval_reseeds", "evaluate"),
        ("plot_cumulative_mean", "plot_rewards"),
    ],
)
def test_a_planted_training_bug_is_blamed_on_its_function(bug: str, function: str) -> None:
    assert_aimed("train_dqn", make_loop(bug), function)


def test_a_loop_that_builds_its_env_with_gym_make_is_told_to_use_make_env() -> None:
    """The app measures a run through the env ``make_env`` makes; a loop with ``gym.make`` trains the same, and
    each loop check raised a bare MonitorError under its own title and hint (a separate target network)."""
    failure, results = first_failure("train_dqn", make_loop("gym_make"))
    assert (failure.check, failure.status, failure.function) == ("makes its env with make_env", "failed", "train_dqn")
    assert "env = make_env(config.env_id)" in failure.message
    assert "MonitorError" not in failure.message
    step = first_hint("train_dqn", results)
    assert (step.function, step.check) == ("train_dqn", "makes its env with make_env")
    assert "env = make_env(config.env_id), not gym.make(config.env_id)" in step.text


# Learner study 4's td_loss (train_dqn.good.py); its td_online and td_nodone change one line each.
STUDY_TD_LOSS = """
def td_loss(q_network, target_network, batch, gamma, loss):
    states, actions, rewards, next_states, dones = batch[:5]
    states_t = torch.as_tensor(np.asarray(states), dtype=torch.float32)
    actions_t = torch.as_tensor(np.asarray(actions), dtype=torch.int64)
    rewards_t = torch.as_tensor(np.asarray(rewards), dtype=torch.float32)
    next_states_t = torch.as_tensor(np.asarray(next_states), dtype=torch.float32)
    dones_t = torch.as_tensor(np.asarray(dones), dtype=torch.float32)
    q_sa = q_network(states_t).gather(1, actions_t.unsqueeze(1)).squeeze(1)
    with torch.no_grad():
        next_q = target_network(next_states_t).max(dim=1).values
        target = rewards_t + gamma * (1.0 - dones_t) * next_q
    if loss == "huber":
        return F.smooth_l1_loss(q_sa, target)
    if loss == "mse":
        return F.mse_loss(q_sa, target)
    raise ValueError(f"unknown loss {loss!r}")
"""
STUDY_TD_BUGS: dict[str, tuple[str, str, str]] = {
    # bug: (the correct line, the learner's line, words of the hint for that cause)
    "online": (
        "next_q = target_network(next_states_t)",
        "next_q = q_network(next_states_t)",
        "take the next-state values from target_network(next_states), not from q_network",
    ),
    "no_done": (
        "target = rewards_t + gamma * (1.0 - dones_t) * next_q",
        "target = rewards_t + gamma * next_q",
        "Multiply the bootstrap term by (1 - dones)",
    ),
}


def study_td_loss_module(bug: str = "") -> ModuleType:
    """The reference exercise 3 with study 4's own td_loss, correct or with one of its bugs."""
    import solutions.train_dqn as ref

    code = STUDY_TD_LOSS
    if bug:
        right, wrong, _ = STUDY_TD_BUGS[bug]
        assert right in code
        code = code.replace(right, wrong)
    source = Path(ref.__file__).read_text(encoding="utf-8") + "\nimport numpy as np\nimport torch\n" + code
    module = ModuleType("exercises.train_dqn")
    exec(compile(source, "/learner/exercises/train_dqn.py", "exec"), module.__dict__)
    return module


def test_the_learners_td_loss_passes_its_check() -> None:
    [spec] = [spec for spec in checks_for("train_dqn") if spec.name == "td_loss matches the math"]
    assert run_check(spec, study_td_loss_module()).passed


@pytest.mark.parametrize("bug", sorted(STUDY_TD_BUGS))
def test_a_td_loss_bug_gets_the_hint_for_its_cause(bug: str) -> None:
    """Learner study 4: bootstrapping from the online network and a missing (1 - done) got the ladder's first
    rung, about the TD target in general; the check tells the two causes apart, and so does its hint."""
    module = study_td_loss_module(bug)
    failure, results = first_failure("train_dqn", module)
    assert (failure.check, failure.function) == ("td_loss matches the math", "td_loss")
    step = first_hint("train_dqn", results)
    assert (step.function, step.check) == ("td_loss", "td_loss matches the math")
    assert step.cause
    assert step.cause in failure.message
    assert STUDY_TD_BUGS[bug][2] in step.text
    other = next(words for name, (_, _, words) in STUDY_TD_BUGS.items() if name != bug)
    assert other not in step.text
    assert_aimed("train_dqn", module, "td_loss")


def test_a_td_loss_cause_without_its_own_hint_gets_the_checks_hint() -> None:
    """A summed loss: the check's hint, which states the whole target and loss."""
    failure, results = first_failure("train_dqn", make_loop("loss_sum"))
    assert "summed over the batch" in failure.message
    step = first_hint("train_dqn", results)
    assert (step.check, step.cause) == ("td_loss matches the math", "")
    for words in ("target_network (not q_network)", "(1 - d_j)", "the mean over the batch"):
        assert words in step.text


def test_a_wrong_td_loss_leaves_the_checks_that_use_it_not_run() -> None:
    module = make_loop("online_target")
    names = ["td_loss matches the math", "gradient_phase: sample, loss, clip, step", "honours the target network"]
    specs = [spec for spec in checks_for("train_dqn") if spec.name in names]
    results = settle("train_dqn", [run_check(spec, module) for spec in specs])
    assert [r.status for r in results] == ["failed", "not_run", "not_run"]
    assert all("fix `td_loss` first" in r.message for r in results[1:])
    assert culprits(results) == ["td_loss"]


def test_sampling_with_replacement_is_blamed_on_sample_indices_not_on_push() -> None:
    module = module_with(WithReplacement)
    failure = assert_aimed("replay_buffer", module, "ReplayBufferWithIndices.sample_indices")
    assert "with replacement" in failure.message
    results = settle("replay_buffer", [run_check(spec, module) for spec in checks_for("replay_buffer")])
    overwrite = next(r for r in results if r.check == "overwrites the oldest when full")
    assert overwrite.status in ("passed", "not_run"), overwrite
    assert "same slot" not in " ".join(r.message for r in results)


def test_a_push_that_drops_new_transitions_is_blamed_on_push() -> None:
    failure = assert_aimed("replay_buffer", module_with(DropsWhenFull), "ReplayBufferWithIndices.push")
    assert "dropped instead of replacing the oldest" in failure.message


def test_a_push_that_drops_new_transitions_gets_a_hint_about_overwriting_not_sampling() -> None:
    """The first failing check tests sample_indices and carries a hint about indexing every field with the
    same slots; the failure blames push, so that hint does not fit: push's ladder opens instead."""
    failure, results = first_failure("replay_buffer", module_with(DropsWhenFull))
    spec = next(spec for spec in checks_for("replay_buffer") if spec.name == failure.check)
    assert spec.hint
    assert spec.tests != failure.function
    step = first_hint("replay_buffer", results)
    assert (step.function, step.check, step.level) == ("ReplayBufferWithIndices.push", "", 1)
    assert "overwritten" in step.text
    assert "n % capacity" in step.text
    assert "Draw the slot numbers" not in step.text


@pytest.mark.parametrize(
    ("output", "function"),
    [
        ({"output_module": nn.ReLU}, "CustomQNetwork.__init__"),  # nn.ReLU() appended to the nn.Sequential
        ({"output_module": nn.Sigmoid}, "CustomQNetwork.__init__"),
        ({"output": torch.relu}, "CustomQNetwork.forward"),  # forward returns torch.relu(self.net(x))
        ({"output": functional.relu}, "CustomQNetwork.forward"),
    ],
)
def test_an_activation_on_the_q_values_is_blamed_where_it_is_written(output: dict[str, Any], function: str) -> None:
    module = q_module_with(sequential_net(**output))
    failure = assert_aimed("q_network", module, function)
    assert failure.check == "no activation on the Q-values"
    assert ("__init__" in failure.message) == (function == "CustomQNetwork.__init__"), failure.message
    # Learner study 4 (qn_outrelu, F.relu in forward): the first hint was forward's general rung.
    step = first_hint("q_network", first_failure("q_network", module)[1])
    assert (step.function, step.check) == (function, "no activation on the Q-values")
    assert "no activation on the output" in step.text
    assert ("last module is the Linear layer to action_dim" in step.text) == (function == "CustomQNetwork.__init__")


class StudyNoSizesNet(nn.Module):
    """Learner study 4 (qn_noattr): a correct network that keeps no sizes (exercise 4 needs them)."""

    def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
        super().__init__()
        dims = [state_dim, *hidden_dims, action_dim]
        for d in dims:
            if isinstance(d, bool) or not isinstance(d, int) or d <= 0:
                raise ValueError(f"sizes must be positive integers, got {d!r}")
        layers: list[nn.Module] = []
        for i in range(len(dims) - 1):
            layers.append(nn.Linear(dims[i], dims[i + 1]))
            if i < len(dims) - 2:
                layers.append(nn.ReLU())
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        out: Tensor = self.net(x)
        return out


def test_a_network_without_its_sizes_gets_the_hint_to_keep_them() -> None:
    """The first hint was the ladder's rung about building the layers, which the learner's network did."""
    failure, results = first_failure("q_network", q_module_with(StudyNoSizesNet))
    assert (failure.check, failure.function) == ("keeps its sizes as attributes", "CustomQNetwork.__init__")
    step = first_hint("q_network", results)
    assert (step.function, step.check) == ("CustomQNetwork.__init__", "keeps its sizes as attributes")
    for phrase in ("self.state_dim", "self.action_dim", "self.hidden_dims", "exercise 4 saves them"):
        assert phrase in step.text


def test_an_output_relu_kept_as_its_own_attribute_is_blamed_on_forward() -> None:
    """A module registered in __init__ but applied by forward to the output: forward chose to apply it."""

    class OwnAttribute(ModuleListNet):
        def __init__(self, state_dim: int, action_dim: int, hidden_dims: Sequence[int]) -> None:
            super().__init__(state_dim, action_dim, hidden_dims)
            self.out_act = nn.ReLU()

        def forward(self, x: Tensor) -> Tensor:
            out: Tensor = self.out_act(super().forward(x))
            return out

    assert_aimed("q_network", q_module_with(OwnAttribute), "CustomQNetwork.forward")


def test_a_len_that_returns_the_capacity_is_the_only_diagnosis() -> None:
    """The sampling checks failed with their own diagnoses ("check batch_size <= len(self) first") or were
    not run for `sample_indices`, though only `__len__` was wrong; they use it, so they are not run for it."""
    length = "ReplayBufferWithIndices.__len__"
    assert_aimed("replay_buffer", module_with(CapacityLength), length)
    module = module_with(CapacityLength)
    results = settle("replay_buffer", [run_check(spec, module) for spec in checks_for("replay_buffer")])
    standing = [r.check for r in results if r.status in ("failed", "error")]
    assert standing == ["length grows then caps at capacity"], results
    skipped = [r for r in results if r.status == "not_run"]
    assert skipped
    assert all(r.message.startswith(f"not run: fix `{length}` first") for r in skipped), skipped
    assert "batch_size <= len(self)" not in " ".join(r.message for r in results)
    assert first_hint("replay_buffer", results).function == length


def test_a_load_model_that_never_loads_the_weights_is_blamed_on_load_model() -> None:
    failure = assert_aimed("save_load", _module(_save_sized, _load_without_weights), "load_model")
    assert "load_state_dict" in failure.message
    # Learner study 4 (sl_noload): the first hint was load_model's general rung; now the cause's.
    step = first_hint("save_load", first_failure("save_load", _module(_save_sized, _load_without_weights))[1])
    assert (step.function, step.check, step.cause) == (
        "load_model",
        "round trip",
        "though the file holds the right weights",
    )
    assert "load_state_dict with the saved state_dict" in step.text


def test_the_checks_that_measure_through_a_round_trip_are_not_run_while_load_model_loads_nothing() -> None:
    """They failed under their own titles ("saving leaves the network unchanged") with the loading message."""
    module = _module(_save_sized, _load_without_weights)
    results = settle("save_load", [run_check(spec, module) for spec in checks_for("save_load")])
    status = {r.check: r.status for r in results}
    through = ["sizes that do not match the weights", "saving leaves the network unchanged"]
    through.append("weights under other names: loaded exactly or refused")
    assert [status[name] for name in through] == ["not_run"] * 3, results
    for result in results:
        if result.check in through:
            assert result.message.startswith("not run: fix `load_model` first"), result.message
    assert culprits(results) == ["load_model"]
    assert status["round trip"] == "failed"


def test_a_plot_bug_of_exercise_5_is_blamed_on_plot_learning_curves(monkeypatch: pytest.MonkeyPatch) -> None:
    from test_network_sizes import experiment_module, plot_by_episode

    from playground.checks import network_sizes as ns_checks
    from playground.tasks.experiment import WORKERS_ENV

    monkeypatch.setenv(WORKERS_ENV, "1")
    ns_checks._CACHE.clear()
    assert_aimed("network_sizes", experiment_module(plot=plot_by_episode), "plot_learning_curves")


def test_a_zero_padded_start_window_is_told_as_such_not_as_smoothing_across_seeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Learner study 4: each run smoothed on its own with ``np.convolve(...)[:len(run)]`` (a full window padded
    with zeros at the start) was told to stop smoothing across the boundary between two seeds' runs."""
    from test_network_sizes import experiment_module, plot_across_seeds, plot_zero_padded

    from playground.checks import network_sizes as ns_checks
    from playground.tasks.experiment import WORKERS_ENV

    monkeypatch.setenv(WORKERS_ENV, "1")
    ns_checks._CACHE.clear()
    failure = assert_aimed("network_sizes", experiment_module(plot=plot_zero_padded), "plot_learning_curves")
    assert failure.check == "plot: each run smoothed on its own, from its first episode"
    assert "padded with zeros" in failure.message
    assert "pulled toward 0" in failure.message
    assert "min_periods=1" in failure.message
    assert "seed 1 returns 100" not in failure.message
    assert "across" not in failure.message
    [spec] = [spec for spec in checks_for("network_sizes") if spec.name == failure.check]
    across = run_check(spec, experiment_module(plot=plot_across_seeds))  # the other cause keeps its message
    assert "across the boundary" in across.message
    assert "padded with zeros" not in across.message


def test_an_error_raised_in_a_helper_names_that_helper() -> None:
    import solutions.train_dqn as ref

    source = Path(ref.__file__).read_text(encoding="utf-8")
    source += "\n\ndef td_loss(*args, **kwargs):\n    raise RuntimeError('\\x1b[31mmat1 and mat2 shapes\\x1b[0m')\n"
    module = ModuleType("exercises.train_dqn")
    exec(compile(source, "/learner/exercises/train_dqn.py", "exec"), module.__dict__)
    [spec] = [spec for spec in checks_for("train_dqn") if spec.name == "honours the target network"]
    result = run_check(spec, module)
    assert result.status == "error"
    assert result.function == "td_loss"
    assert "exercises/train_dqn.py" in result.message
    assert "mat1 and mat2 shapes" in result.message
    assert "\x1b" not in result.message


def test_quoted_errors_are_plain_text() -> None:
    result = CheckResult("train_dqn", "c", False, "raised RuntimeError: \x1b[31mshape mismatch\x1b[0m")
    assert result.message == "raised RuntimeError: shape mismatch"


def test_a_save_model_that_never_saves_the_weights_is_blamed_on_save_model() -> None:
    """Learner study 4 (sl_fresh): the sizes and a new network's weights; the first hint was the ladder's rung
    about saving the architecture, which the file held."""
    from solutions.q_network import CustomQNetwork

    def save_fresh_weights(q_network: CustomQNetwork, path: str, *, config: object = None) -> None:
        checkpoint: dict[str, Any] = {
            "state_dim": int(q_network.state_dim),
            "action_dim": int(q_network.action_dim),
            "hidden_dims": [int(h) for h in q_network.hidden_dims],
            "state_dict": CustomQNetwork(
                q_network.state_dim, q_network.action_dim, list(q_network.hidden_dims)
            ).state_dict(),
        }
        torch.save(checkpoint, path)

    def load_sized(path: str) -> nn.Module:
        checkpoint = torch.load(path, weights_only=True)
        network = CustomQNetwork(checkpoint["state_dim"], checkpoint["action_dim"], checkpoint["hidden_dims"])
        network.load_state_dict(checkpoint["state_dict"])
        return network.eval()

    failure, results = first_failure("save_load", _module(save_fresh_weights, load_sized))
    assert (failure.check, failure.function) == ("round trip", "save_model")
    assert "does not hold the saved network's weights" in failure.message
    step = first_hint("save_load", results)
    assert (step.function, step.check) == ("save_model", "round trip")
    assert "q_network.state_dict()" in step.text
    assert "fresh random weights" in step.text
    assert "architecture" not in step.text
    assert_aimed("save_load", _module(save_fresh_weights, load_sized), "save_model")


@pytest.mark.parametrize("exercise", EXERCISES)
def test_checks_of_a_function_come_before_the_checks_that_only_use_it(exercise: str) -> None:
    specs = checks_for(exercise)
    for position, spec in enumerate(specs):
        assert spec.tests in exercise_functions(exercise), spec.name
        for used in spec.uses:
            later = [other.name for other in specs[position + 1 :] if other.tests == used]
            assert not later, f"{spec.name!r} uses {used}, whose checks {later} run after it"
            assert any(other.tests == used for other in specs[:position]), f"{used} has no check before {spec.name!r}"


def test_the_json_of_a_result_has_its_status_and_function() -> None:
    result = CheckResult("q_network", "c", False, "not run: fix `x` first", "not_run", "CustomQNetwork.__init__")
    assert result.to_json()["status"] == "not_run"
    assert CheckResult("q_network", "c", True, "ok").status == "passed"
    with pytest.raises(ValueError, match="status"):
        CheckResult("q_network", "c", True, "ok", "failed")


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_check_stands_on_sentences_of_the_stub(exercise: str) -> None:
    stub = (Path(__file__).resolve().parent.parent / "exercises" / f"{exercise}.py").read_text(encoding="utf-8")
    assert unstated(exercise, stub) == []


def test_a_sentence_missing_from_the_stub_is_noticed() -> None:
    stub = (Path(__file__).resolve().parent.parent / "exercises" / "replay_buffer.py").read_text(encoding="utf-8")
    cut = stub.replace("Raises ``ValueError`` when ``batch_size > len(self)``.", "")
    assert unstated("replay_buffer", cut) == [
        ("batch larger than len raises ValueError", "Raises ``ValueError`` when ``batch_size > len(self)``.")
    ]
