"""AppTest runs of the Q-network and replay-buffer pages: build/fill, both implementations, and Check."""

from __future__ import annotations

from apptest_support import click, open_page

from playground.checks import checks_for
from playground.core.inspections import BufferTrace, NetworkReport
from playground.ui.session import CHECKS_KEY

MINE, REFERENCE = "mine (exercises/)", "reference (solutions/)"


def test_q_network_page_runs_both_implementations_and_checks() -> None:
    at = open_page("pages/1_q_network.py")
    assert "class CustomQNetwork" in at.session_state["editor_code"]["q_network"]  # the stub is in the editor
    at.text_input(key="qn_hidden").set_value("32, 16").run()
    at.radio(key="qn_impl").set_value(REFERENCE).run()
    click(at, "Build and run")
    reports = at.session_state["q_network_reports"]
    assert set(reports) == {"solutions"}
    reference = reports["solutions"]
    assert isinstance(reference, NetworkReport)
    assert reference.hidden_dims == (32, 16)
    assert any("matches 722" in block.value for block in at.markdown)
    assert not at.error

    at.radio(key="qn_impl").set_value(MINE).run()
    click(at, "Build and run")
    mine = at.session_state["q_network_reports"]["exercises"]
    assert isinstance(mine, str)
    assert mine.startswith("not implemented yet")
    assert any("not implemented yet" in block.value for block in at.error)
    assert isinstance(at.session_state["q_network_reports"]["solutions"], NetworkReport)  # still beside it

    at.text_input(key="qn_hidden").set_value("64, lots").run()
    assert any("whole number" in block.value for block in at.error)
    [run_button] = [b for b in at.button if b.label == "Build and run"]
    assert run_button.disabled

    click(at, "Check the reference")
    click(at, "Check my code")
    results = at.session_state[CHECKS_KEY]
    assert all(r.passed for r in results[("q_network", "solutions")])
    assert not any(r.passed for r in results[("q_network", "exercises")])
    assert any("All 9 checks passed" in block.value for block in at.success)


def test_replay_buffer_page_fills_samples_and_checks() -> None:
    at = open_page("pages/2_replay_buffer.py")
    at.number_input(key="rb_capacity").set_value(6).run()
    at.number_input(key="rb_steps").set_value(10).run()
    at.number_input(key="rb_batches").set_value(200).run()
    at.radio(key="rb_impl").set_value(REFERENCE).run()
    click(at, "Fill and sample")
    traces = at.session_state["replay_buffer_traces"]
    assert set(traces) == {"solutions"}
    reference = traces["solutions"]
    assert isinstance(reference, BufferTrace)
    assert reference.lengths[-1] == 6
    assert reference.slot_counts.sum() == 200 * 4
    assert any(block.value.startswith("Sampled slots") for block in at.markdown)
    assert any("behave as the contract says" in block.value for block in at.success)

    at.slider(key="rb_pushes").set_value(3).run()  # replay the filling: no batch highlighted yet
    assert not at.exception
    assert not any(block.value.startswith("Sampled slots") for block in at.markdown)

    at.radio(key="rb_impl").set_value(MINE).run()
    click(at, "Fill and sample")
    mine = at.session_state["replay_buffer_traces"]["exercises"]
    assert isinstance(mine, str)
    assert mine.startswith("not implemented yet")

    click(at, "Check my code")
    results = at.session_state[CHECKS_KEY][("replay_buffer", "exercises")]
    assert len(results) == len(checks_for("replay_buffer"))
    assert all(r.message.startswith("not implemented yet") for r in results)
    click(at, "Check the reference")
    assert any(f"All {len(checks_for('replay_buffer'))} checks passed" in block.value for block in at.success)
