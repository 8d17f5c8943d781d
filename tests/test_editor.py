"""AppTest runs of the exercise editor: the editor's code is what Check and "Run mine" use; hints; the solution gate.

AppTest cannot type into the code-editor component (a custom component), so
these tests switch to the plain text box, which holds the same code; the
browser test (``test_browser_editor.py``) types into the real editor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from apptest_support import APP, click, open_page
from streamlit.testing.v1 import AppTest

from playground.checks import CheckResult
from playground.core.inspections import BufferTrace, NetworkReport
from playground.core.workspace import DEPLOYED_ENV
from playground.ui import editor
from playground.ui.editor import NO_HINTS_NEEDED
from playground.ui.session import CHECKS_KEY, CODE_KEY, HINTS_KEY, PLAIN_KEY

ROOT = Path(__file__).resolve().parent.parent
MINE = "mine (exercises/)"
SOLUTION_Q = (ROOT / "solutions" / "q_network.py").read_text(encoding="utf-8")
SOLUTION_RB = (ROOT / "solutions" / "replay_buffer.py").read_text(encoding="utf-8")
RELU_ON_OUTPUT = SOLUTION_Q.replace("self.net = nn.Sequential(*layers)", "self.net = nn.Sequential(*layers, nn.ReLU())")
DROPS_WHEN_FULL = SOLUTION_RB.replace(
    "        state_arr = np.asarray(state, dtype=np.float32)\n",
    "        if self.size == self.capacity:\n"
    "            return\n"
    "        state_arr = np.asarray(state, dtype=np.float32)\n",
    1,
)


def type_code(at: AppTest, exercise: str, code: str) -> None:
    """Switch to the plain text box (once) and put ``code`` in it."""
    toggle = at.toggle(key=PLAIN_KEY)
    if not toggle.value:
        toggle.set_value(True).run()
    [box] = [t for t in at.text_area if str(t.key).startswith(f"plain_editor_{exercise}_")]
    box.set_value(code).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[CODE_KEY][exercise] == code


def test_variants_are_real_bugs() -> None:
    assert RELU_ON_OUTPUT != SOLUTION_Q
    assert DROPS_WHEN_FULL != SOLUTION_RB


def test_q_network_editor_fail_then_pass_then_run_mine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEPLOYED_ENV, "1")  # a deployed app: the code stays in the session
    before = (ROOT / "exercises" / "q_network.py").read_text(encoding="utf-8")
    at = open_page("pages/1_q_network.py")
    assert "class CustomQNetwork" in at.session_state[CODE_KEY]["q_network"]  # the stub, to start with
    assert not [b for b in at.button if b.label.startswith("Save to exercises/")]

    # Nothing written yet: the hint is about __init__, the idea first.
    click(at, "Show a hint")
    assert at.session_state[HINTS_KEY]["q_network"] == {"CustomQNetwork.__init__": 1}
    assert any("hint 1 of 3 (the idea)" in block.value for block in at.markdown)

    type_code(at, "q_network", RELU_ON_OUTPUT)
    click(at, "Check my code")
    results = at.session_state[CHECKS_KEY][("q_network", "exercises")]
    failed = [r for r in results if not r.passed]
    assert [r.check for r in failed] == ["no activation on the Q-values"], [(r.check, r.message) for r in failed]
    assert "ReLU" in failed[0].message
    assert not any("Reference solution" in e.label for e in at.expander)  # not until all checks pass

    type_code(at, "q_network", SOLUTION_Q)
    click(at, "Check my code")
    assert all(r.passed for r in at.session_state[CHECKS_KEY][("q_network", "exercises")])
    assert any("Q-network: done" in block.value and "All 9 checks passed" in block.value for block in at.success)
    assert any("Reference solution" in e.label for e in at.expander)  # opens by itself now
    # The way on, and the learner's code beside the reference.
    [link] = [e for e in at.get("page_link") if "Next exercise" in e.proto.label]
    assert link.proto.label == "Next exercise: 2. Replay buffer"
    [beside] = [e for e in at.expander if e.label == "Your code beside the reference"]
    codes = [block.value for block in beside.code]
    assert codes[0].strip() == SOLUTION_Q.strip()
    assert codes[1].strip() == (ROOT / "solutions" / "q_network.py").read_text(encoding="utf-8").strip()

    at.radio(key="qn_impl").set_value(MINE).run()
    click(at, "Build and run")
    mine = at.session_state["q_network_reports"]["exercises"]
    assert isinstance(mine, NetworkReport), mine  # the editor's code ran in the sandbox, not the stub on disk
    assert (ROOT / "exercises" / "q_network.py").read_text(encoding="utf-8") == before

    # The code survives a page change and the home page's progress reflects it.
    at.switch_page("pages/2_replay_buffer.py").run()
    at.switch_page("pages/1_q_network.py").run()
    assert at.session_state[CODE_KEY]["q_network"] == SOLUTION_Q


def test_replay_buffer_editor_names_the_bug_then_passes_and_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEPLOYED_ENV, "1")
    at = open_page("pages/2_replay_buffer.py")
    type_code(at, "replay_buffer", DROPS_WHEN_FULL)
    click(at, "Check my code")
    results = at.session_state[CHECKS_KEY][("replay_buffer", "exercises")]
    failed = [r for r in results if not r.passed]
    assert failed
    # The checks that look at a full buffer name the bug (others may fail on the same buffer too).
    named = [r for r in failed if r.check == "overwrites the oldest when full"]
    assert named, [(r.check, r.message) for r in failed]
    assert all("dropped" in r.message for r in named), [(r.check, r.message) for r in named]

    type_code(at, "replay_buffer", SOLUTION_RB)
    click(at, "Check my code")
    assert all(r.passed for r in at.session_state[CHECKS_KEY][("replay_buffer", "exercises")])
    at.number_input(key="rb_batches").set_value(200).run()
    at.radio(key="rb_impl").set_value(MINE).run()
    click(at, "Fill and sample")
    assert isinstance(at.session_state["replay_buffer_traces"]["exercises"], BufferTrace)


def test_solution_opens_early_only_after_confirmation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEPLOYED_ENV, "1")
    at = open_page("pages/4_save_load.py")
    assert not any("def load_model" in block.value and "weights_only=True)" in block.value for block in at.code)
    click(at, "Show me the solution")
    assert any("Show the solution anyway" in block.value for block in at.warning)
    click(at, "No, keep trying")
    assert not any("Reference solution" in e.label for e in at.expander)
    click(at, "Show me the solution")
    click(at, "Yes, show the solution")
    assert any("Reference solution" in e.label for e in at.expander)
    assert any("def load_model" in block.value for block in at.code)


def test_save_is_offered_from_a_writable_clone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEPLOYED_ENV, "0")
    at = open_page("pages/1_q_network.py")
    assert [b for b in at.button if b.label == "Save to exercises/q_network.py"]


def test_home_progress_checks_the_code_in_the_editors(monkeypatch: pytest.MonkeyPatch) -> None:
    from playground.checks import CheckResult
    from playground.sandbox import runner

    seen: dict[str, dict[str, str]] = {}

    def fake_run_checks(exercise: str, impl: str = "exercises", **kwargs: Any) -> list[CheckResult]:
        seen[exercise] = dict(kwargs.get("sources") or {})
        passed = "class CustomQNetwork(nn.Module)" in seen[exercise].get(exercise, "") and exercise == "q_network"
        return [CheckResult(exercise, "only", passed, "fine" if passed else "not implemented yet: x")]

    monkeypatch.setenv(DEPLOYED_ENV, "1")
    monkeypatch.setattr(runner, "run_checks", fake_run_checks)
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state[CODE_KEY] = {"q_network": SOLUTION_Q + "\n# mine\n"}  # as typed on the Q-network page
    at.run()
    click(at, "Check all exercises")
    assert seen["q_network"]["q_network"] == SOLUTION_Q + "\n# mine\n"  # the editor's code, not the file
    assert "class ReplayBufferWithIndices" in seen["q_network"]["replay_buffer"]  # the others: from their files
    [table] = at.dataframe
    row = table.value.set_index("Exercise").loc["1. Q-network"]
    assert row["Checks passed"] == "1 of 1"


def test_from_a_clone_save_writes_the_file_and_a_change_on_disk_offers_a_reload(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playground.core import workspace

    saved: dict[str, str] = {}
    disk = {"text": workspace.read_exercise("q_network")}
    monkeypatch.setenv(DEPLOYED_ENV, "0")
    monkeypatch.setattr(workspace, "read_exercise", lambda exercise, root=ROOT: disk["text"])

    def fake_save(exercise: str, code: str, root: Path = ROOT, env: Any = None) -> Path:
        saved[exercise] = code
        disk["text"] = code
        return root / "exercises" / f"{exercise}.py"

    monkeypatch.setattr(workspace, "save_exercise", fake_save)
    at = open_page("pages/1_q_network.py")
    type_code(at, "q_network", SOLUTION_Q)
    click(at, "Save to exercises/q_network.py")
    assert saved == {"q_network": SOLUTION_Q}
    assert not [b for b in at.button if b.label.startswith("Reload exercises/")]  # the file is what we saved

    # Untouched in the page since the save: the editor follows the file by itself.
    disk["text"] = SOLUTION_Q + "# edited in my own editor\n"
    at.run()
    assert at.session_state[CODE_KEY]["q_network"] == SOLUTION_Q + "# edited in my own editor\n"
    assert not [b for b in at.button if b.label.startswith("Reload exercises/")]

    # Changed in the page and on disk: nothing is replaced until the learner asks.
    type_code(at, "q_network", SOLUTION_Q + "# edited in the page\n")
    disk["text"] = "# edited in my own editor\n"
    at.run()
    assert at.session_state[CODE_KEY]["q_network"] == SOLUTION_Q + "# edited in the page\n"
    assert any("changed on disk" in block.value for block in at.info)
    click(at, "Reload exercises/q_network.py into the editor")
    assert at.session_state[CODE_KEY]["q_network"] == "# edited in my own editor\n"
    assert not [b for b in at.button if b.label.startswith("Reload exercises/")]
    [box] = [t for t in at.text_area if str(t.key).startswith("plain_editor_q_network_")]
    assert box.value == "# edited in my own editor\n"  # the editor was remounted with the file's text


def test_the_hint_button_is_never_a_click_behind_and_says_when_none_is_left(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEPLOYED_ENV, "1")
    at = open_page("pages/1_q_network.py")
    [button] = [b for b in at.button if b.key == "hint_q_network"]
    assert button.label == "Show a hint"
    button.click().run()
    [button] = [b for b in at.button if b.key == "hint_q_network"]
    assert button.label == "Next hint", "the click that showed the first hint also renames the button"
    shown = 1
    while not button.disabled:
        assert shown < 40, "the hint ladders never end"
        button.click().run()
        shown += 1
        [button] = [b for b in at.button if b.key == "hint_q_network"]
        revealed = sum(at.session_state[HINTS_KEY]["q_network"].values())
        assert revealed == shown, "each click shows exactly one more hint"
    assert button.label == "No hints left", "the click that showed the last hint already says so"


def test_once_every_check_passes_the_hint_button_says_no_hint_is_needed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEPLOYED_ENV, "1")
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state[CHECKS_KEY] = {("q_network", "exercises"): [CheckResult("q_network", "c", True, "ok")]}
    at.run()
    at.switch_page("pages/1_q_network.py").run()
    assert not at.exception, [e.value for e in at.exception]
    [button] = [b for b in at.button if b.key == "hint_q_network"]
    assert button.label == NO_HINTS_NEEDED
    assert button.disabled
    at.session_state[CHECKS_KEY] = {("q_network", "exercises"): [CheckResult("q_network", "c", False, "wrong")]}
    at.run()
    [button] = [b for b in at.button if b.key == "hint_q_network"]
    assert button.label == "Show a hint", "a failing check brings the hints back"
    assert not button.disabled


def test_the_code_editor_gets_no_buttons_inside_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A button inside the editor (the component's ``buttons``) covered its last visible line: Check sits under it."""
    calls: list[dict[str, Any]] = []

    def fake_code_editor(code: str, **kwargs: Any) -> None:
        calls.append(kwargs)

    monkeypatch.setenv(DEPLOYED_ENV, "1")
    monkeypatch.setattr(editor, "CODE_EDITOR", fake_code_editor)
    at = open_page("pages/1_q_network.py")
    assert calls, "the page drew the code editor"
    for kwargs in calls:
        assert "buttons" not in kwargs
        for props in ("props", "component_props", "editor_props", "options"):
            assert "buttons" not in (kwargs.get(props) or {}), props
    assert any(b.label == "Check my code" for b in at.button)


def test_a_failed_check_says_it_once_without_a_status_box(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEPLOYED_ENV, "1")
    at = open_page("pages/1_q_network.py")
    click(at, "Check my code")
    assert len(at.error) == 1, [e.value for e in at.error]
    assert not [e for e in at.expander if "checks passed" in e.label], "no status box repeating the summary"
    assert not at.success


@pytest.mark.parametrize("deployed", [True, False], ids=["deployed", "local"])
def test_the_reference_panel_names_the_terminal_only_from_a_clone(
    monkeypatch: pytest.MonkeyPatch, deployed: bool
) -> None:
    monkeypatch.setenv(DEPLOYED_ENV, "1" if deployed else "0")
    at = open_page("pages/4_save_load.py")
    [caption] = [c.value for c in at.caption if "The same checks on the reference solution" in c.value]
    assert "**Check my code** under the editor" in caption
    if deployed:
        assert "python -m playground.check" not in caption
        assert "terminal" not in caption
    else:
        assert "`python -m playground.check save_load` in a terminal" in caption
