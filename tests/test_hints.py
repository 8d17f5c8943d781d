"""The hint ladders and ``python -m playground.check EXERCISE --hint``; grouped feedback in the CLI."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from playground.checks import EXERCISES, CheckResult, hints
from playground.checks.feedback import group_results
from playground.sandbox import cli as check_cli

ROOT = Path(__file__).resolve().parent.parent


def public_functions(exercise: str) -> list[str]:
    """Every function and method the learner fills in (those whose body raises NotImplementedError)."""
    tree = ast.parse((ROOT / "exercises" / f"{exercise}.py").read_text(encoding="utf-8"))
    found: list[str] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{child.name}.")
            elif isinstance(child, ast.FunctionDef) and any(
                isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n) for n in ast.walk(child)
            ):
                found.append(prefix + child.name)

    visit(tree, "")
    return found


@pytest.mark.parametrize("exercise", EXERCISES)
def test_every_stub_function_has_a_ladder_of_three(exercise: str) -> None:
    ladder = hints.ladder(exercise)
    assert list(ladder) == public_functions(exercise)
    for function, steps in ladder.items():
        assert len(steps) == len(hints.LEVELS), function
        assert all(step.strip() for step in steps), function


def test_stubs_do_not_give_the_answers_away() -> None:
    giveaways = [
        "torch.optim.Adam(params, lr=learning_rate)",
        "random.seed(seed), np.random.seed(seed)",
        "(position + 1) % capacity",
        "np.random.choice(len(self), batch_size, replace=False)",
        ".gather(1, actions)",
        "load_state_dict(q_network.state_dict())",
        "torch.load(path, weights_only=True)",
        "(not ``truncated``!)",
        "push (s, a, r, s', terminated)",
    ]
    text = "\n".join((ROOT / "exercises" / f"{e}.py").read_text(encoding="utf-8") for e in EXERCISES)
    assert [g for g in giveaways if g in text] == []
    # ... they live in the hints instead, and the truncation trap is explained there.
    assert "`terminated` only" in hints.ladder("train_dqn")["train_dqn"][2]


def test_ladder_follows_the_failing_function_then_moves_on() -> None:
    failing = [CheckResult("replay_buffer", "c", False, "not implemented yet: ReplayBufferWithIndices.push: store")]
    focus = hints.failing_functions("replay_buffer", failing)
    assert focus == ["ReplayBufferWithIndices.push"]
    revealed: dict[str, dict[str, int]] = {}
    levels = []
    for _ in range(4):
        step = hints.next_hint("replay_buffer", revealed, focus)
        assert step is not None
        hints.reveal(revealed, step)
        levels.append((step.function, step.level))
    assert levels == [
        ("ReplayBufferWithIndices.push", 1),
        ("ReplayBufferWithIndices.push", 2),
        ("ReplayBufferWithIndices.push", 3),
        ("ReplayBufferWithIndices.__init__", 1),  # push's ladder is done: the first function with hints left
    ]
    assert [s.level for s in hints.shown_hints("replay_buffer", revealed)] == [1, 1, 2, 3]


def test_identical_failures_are_grouped() -> None:
    results = [
        CheckResult("q_network", "a", False, "not implemented yet: CustomQNetwork.__init__"),
        CheckResult("q_network", "b", True, "ok"),
        CheckResult("q_network", "c", False, "not implemented yet: CustomQNetwork.__init__"),
        CheckResult("q_network", "d", False, "something else"),
    ]
    lines = group_results(results)
    assert [line.text() for line in lines] == [
        "2 checks: not implemented yet: CustomQNetwork.__init__",
        "b: ok",
        "d: something else",
    ]
    assert lines[0].checks == ("a", "c")


def _cli(*args: str, state: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, **{hints.STATE_ENV: str(state)})
    return subprocess.run(
        [sys.executable, "-m", "playground.check", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cli_hint_ladder_on_the_untouched_stub(tmp_path: Path) -> None:
    """Each ``--hint`` shows the next hint of the failing function, one at a time, in order."""
    state = tmp_path / "hints.json"
    first = _cli("q_network", "--hint", state=state)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "9 checks: not implemented yet: CustomQNetwork.__init__" in first.stdout
    assert first.stdout.count("FAIL") == 1  # read once, not once per check
    assert "Hint for CustomQNetwork.__init__: hint 1 of 3 (the idea)" in first.stdout
    assert hints.ladder("q_network")["CustomQNetwork.__init__"][0] in first.stdout
    assert "nn.Sequential(*layers)" not in first.stdout  # the near-code line waits for the third request
    assert json.loads(state.read_text()) == {"q_network": {"CustomQNetwork.__init__": 1}}
    assert not (ROOT / "hints.json").exists()


def test_cli_hint_positions_advance_and_reset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fake_run_checks(exercise: str, impl: str = "exercises", **kwargs: object) -> list[CheckResult]:
        message = "not implemented yet: CustomQNetwork.forward: return the Q-values"
        return [CheckResult(exercise, name, False, message) for name in ("one", "two")]

    monkeypatch.setenv(hints.STATE_ENV, str(tmp_path / "state.json"))
    monkeypatch.setattr(check_cli, "run_checks", fake_run_checks)
    shown = []
    for _ in range(3):
        assert check_cli.main(["q_network", "--hint"]) == 1
        out = capsys.readouterr().out
        assert "2 checks: not implemented yet: CustomQNetwork.forward" in out
        shown.append(next(line for line in out.splitlines() if line.startswith("Hint for")))
    assert shown == [
        "Hint for CustomQNetwork.forward: hint 1 of 3 (the idea):",
        "Hint for CustomQNetwork.forward: hint 2 of 3 (the approach):",
        "Hint for CustomQNetwork.forward: hint 3 of 3 (near code):",
    ]
    assert check_cli.main(["q_network", "--reset-hints"]) == 0
    assert hints.load_state() == {}
    assert check_cli.main(["q_network", "--hint"]) == 1
    assert "hint 1 of 3 (the idea)" in capsys.readouterr().out


def test_cli_help_states_the_exit_codes_and_hint_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        check_cli.main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out
    assert "0  every check passed" in out
    assert "1  at least one check failed" in out
    assert "2  usage error" in out
    with pytest.raises(SystemExit) as done:
        check_cli.main(["q_network", "--hint", "--json"])
    assert done.value.code == 2


def test_the_manifest_names_every_exercise_page_and_function() -> None:
    from playground.core.facts import MANIFEST
    from playground.ui.page_list import PAGES

    assert [exercise.module for exercise in MANIFEST] == list(EXERCISES)
    for exercise in MANIFEST:
        assert (ROOT / exercise.page).is_file(), exercise.page
        assert (ROOT / "solutions" / f"{exercise.module}.py").is_file()
        assert list(exercise.functions) == public_functions(exercise.module)
    assert [page for page, _, _ in PAGES[: len(MANIFEST)]] == [exercise.page for exercise in MANIFEST]


def test_an_incomplete_manifest_is_refused(tmp_path: Path) -> None:
    from playground.core.facts import load_manifest

    broken = tmp_path / "exercises.toml"
    broken.write_text('[[exercise]]\nmodule = "x"\ntitle = "X"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="lacks"):
        load_manifest(broken)


def test_the_failing_checks_own_hint_comes_first_then_the_ladder() -> None:
    function = "ReplayBufferWithIndices.sample_indices"
    results = [
        CheckResult("replay_buffer", "batch arrays are batch-first and numeric", True, "ok"),
        CheckResult("replay_buffer", "not run here", False, "not run: fix `x` first", "not_run", "x"),
        CheckResult("replay_buffer", "no duplicates within a batch", False, "with replacement", "failed", function),
    ]
    revealed: dict[str, dict[str, int]] = {}
    steps = []
    for _ in range(3):
        step = hints.hint_after("replay_buffer", revealed, results)
        assert step is not None
        hints.reveal(revealed, step)
        steps.append((step.function, step.check, step.level))
    assert steps == [(function, "no duplicates within a batch", 1), (function, "", 1), (function, "", 2)]
    assert revealed["replay_buffer"] == {"check: no duplicates within a batch": 1, function: 2}
    shown = hints.shown_hints("replay_buffer", revealed)
    assert [(s.check, s.level) for s in shown] == [("no duplicates within a batch", 1), ("", 1), ("", 2)]
    assert shown[0].label == f"{function}: about the failing check 'no duplicates within a batch'"
    assert "without replacement" in shown[0].text
    assert not shown[0].last
    # A check without a hint of its own goes straight to the ladder of its function.
    plain = [CheckResult("replay_buffer", "overwrites the oldest when full", False, "dropped", "failed", "x")]
    step = hints.hint_after("replay_buffer", {}, plain)
    assert step is not None
    assert (step.check, step.level) == ("", 1)


def test_a_hint_for_the_cause_a_check_names_comes_first_once_then_the_ladder() -> None:
    check = "td_loss matches the math"
    online = "returned 3.09; expected 4.82: the next-state value comes from the online network: use target_network"
    no_done = "returned 5.62; expected 4.82: the terminal flag is ignored: multiply the bootstrap term by (1 - done)"
    revealed: dict[str, dict[str, int]] = {}
    steps = []
    for message in (online, online, no_done):
        results = [CheckResult("train_dqn", check, False, message, "failed", "td_loss")]
        step = hints.hint_after("train_dqn", revealed, results)
        assert step is not None
        hints.reveal(revealed, step)
        steps.append((step.check, step.cause, step.level))
    assert steps == [
        (check, "the next-state value comes from the online network", 1),
        ("", "", 1),  # that cause's hint was shown: the ladder of td_loss
        (check, "the terminal flag is ignored", 1),  # another cause has its own hint
    ]
    assert revealed["train_dqn"] == {
        f"check: {check} / the next-state value comes from the online network": 1,
        f"check: {check} / the terminal flag is ignored": 1,
        "td_loss": 1,
    }
    shown = hints.shown_hints("train_dqn", revealed)
    assert [(s.check, s.cause) for s in shown] == [
        (check, "the next-state value comes from the online network"),
        (check, "the terminal flag is ignored"),
        ("", ""),
    ]
    assert "target_network(next_states)" in shown[0].text


def test_a_cause_hint_may_be_about_another_function_than_the_check_tests() -> None:
    """The round trip tests load_model; a file without the saved weights is save_model's fault, and its hint."""
    message = "the loaded network gives different Q-values, and the file does not hold the saved network's weights"
    step = hints.hint_after(
        "save_load", {}, [CheckResult("save_load", "round trip", False, message, "failed", "save_model")]
    )
    assert step is not None
    assert (step.function, step.check) == ("save_model", "round trip")
    assert "q_network.state_dict()" in step.text
    loading = "the loaded network gives different Q-values, though the file holds the right weights: were they loaded?"
    failed = CheckResult("save_load", "round trip", False, loading, "failed", "load_model")
    step = hints.hint_after("save_load", {}, [failed])
    assert step is not None
    assert (step.function, step.check, step.cause) == (
        "load_model",
        "round trip",
        "though the file holds the right weights",
    )
    # A round-trip failure that names none of its causes (and the check has no hint of its own): the ladder.
    same = "load_model returned the very network that was saved: it must build a new one"
    step = hints.hint_after(
        "save_load", {}, [CheckResult("save_load", "round trip", False, same, "failed", "load_model")]
    )
    assert step is not None
    assert (step.function, step.check, step.level) == ("load_model", "", 1)


def test_every_hint_key_fits_the_stores_column() -> None:
    """Hint positions are stored per key (``hint_positions.function``, a String(200)); a cause adds to the key."""
    from sqlalchemy import String

    from playground.checks import checks_for
    from playground.store.models import HintPosition

    column = HintPosition.__table__.c.function.type
    assert isinstance(column, String)
    width = column.length
    assert width == 200
    for exercise in EXERCISES:
        for spec in checks_for(exercise):
            for cause in spec.cause_hints:
                step = hints.HintStep(exercise, cause.function or spec.tests, 1, 1, cause.text, spec.name, cause.phrase)
                assert len(step.key) <= width, step.key
            assert len(hints.CHECK_KEY + spec.name) <= width
