"""Cancel works on a Check: queued or running, it stops within a second, frees its place, and the page says so."""

from __future__ import annotations

import time

import pytest
from apptest_support import open_page
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Button

from playground.sandbox import runner
from playground.sandbox.admission import Admission, admission
from playground.ui.session import CHECK_JOBS_KEY, CHECKS_KEY


def _cancel_button(at: AppTest) -> Button:
    buttons = [b for b in at.button if b.label == "Cancel"]
    assert len(buttons) == 1, [b.label for b in at.button]
    return buttons[0]


@pytest.mark.parametrize("label", ["Check my code", "Check the reference"])
def test_cancel_on_a_queued_check_leaves_the_queue_and_says_so(monkeypatch: pytest.MonkeyPatch, label: str) -> None:
    queue = Admission(1)
    monkeypatch.setattr(runner, "admission", lambda: queue)
    holder = queue.request("another learner")  # one job at a time, and another session has it
    at = open_page("pages/1_q_network.py")
    [button] = [b for b in at.button if b.label == label]
    button.click().run()
    assert not at.exception
    [job] = at.session_state[CHECK_JOBS_KEY].values()
    assert job.position == 1
    assert queue.snapshot() == (1, 1)
    assert any("You are number 1 in the queue" in block.value for block in at.info)

    pressed = time.monotonic()
    _cancel_button(at).click().run()
    assert job.done
    assert job.cancelled
    assert time.monotonic() - pressed < 1.0 + 1.0  # the job ended within a second (plus this rerun)
    assert queue.snapshot() == (1, 0), "it left the queue"
    assert any("Check cancelled: it left the queue before anything ran" in block.value for block in at.info)
    assert not any("in the queue" in block.value for block in at.info)
    assert not [b for b in at.button if b.label == "Cancel"]
    assert CHECKS_KEY not in at.session_state or not at.session_state[CHECKS_KEY], "nothing ran, nothing stored"
    holder.release()


def test_cancel_on_a_running_check_ends_its_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """train_dqn's reference checks take a few seconds: Cancel ends them within a second."""
    runner.run_checks("q_network", "solutions")  # the fork server is warm: the Check's child runs at once
    at = open_page("pages/3_training.py")
    [button] = [b for b in at.button if b.label == "Check the reference"]
    button.click().run()
    [job] = at.session_state[CHECK_JOBS_KEY].values()
    assert not job.done, "the Check goes on after the click's run"
    time.sleep(0.5)
    pressed = time.monotonic()
    _cancel_button(at).click().run()
    assert job.done
    assert job.cancelled
    assert time.monotonic() - pressed < 2.0
    assert admission().snapshot() == (0, 0), "its slot is free"
    assert any("Check cancelled" in block.value for block in at.info)
