"""Cancel works on a Check: queued or running, it stops within a second, frees its place, and the page says so."""

from __future__ import annotations

import time

import pytest
from apptest_support import open_page
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Button

from playground.sandbox import runner
from playground.sandbox.admission import Admission, admission
from playground.ui import live_jobs
from playground.ui.live_jobs import LiveJob
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


# --- the long runs of the network-sizes and comparison pages (live_job_panel, as training) -------------------

LONG_RUN_PAGES = {
    "network sizes": ("pages/5_network_sizes.py", "ns_run", "network_sizes"),
    "comparison": ("pages/6_reference_comparison.py", "cmp_train", "comparison"),
}


def _start_long_run(page: str, button: str, settings: dict[str, int]) -> AppTest:
    at = open_page(page)
    for key, value in settings.items():
        at.number_input(key=key).set_value(value).run()
    at.button(key=button).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _live_job(slot: str) -> LiveJob:
    [job] = [job for job in live_jobs.running_jobs() if job.slot == slot]
    return job


def _texts(at: AppTest) -> list[str]:
    """What the page says: info boxes, captions, Markdown and progress bars' texts."""
    texts = [str(block.value) for kind in (at.info, at.caption, at.markdown) for block in kind]
    return texts + [str(bar.proto.text) for bar in at.get("progress")]


@pytest.mark.parametrize("name", list(LONG_RUN_PAGES))
def test_cancel_on_a_queued_long_run_leaves_the_queue_and_says_so(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    page, button, slot = LONG_RUN_PAGES[name]
    queue = Admission(1)
    monkeypatch.setattr(runner, "admission", lambda: queue)
    holder = queue.request("another learner")  # one job at a time, and another session has it
    try:
        at = _start_long_run(page, button, {})
        job = _live_job(slot)
        deadline = time.monotonic() + 5
        while job.queue_position() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert job.queue_position() == 1
        at.run()  # the panel as its fragment draws it while the job waits
        texts = _texts(at)
        assert any("You are number 1 in the queue" in text for text in texts), texts
        assert not any("starting a sandbox process" in text for text in texts), "a queued run only waits"
        assert not [b for b in at.button if b.label == "Stop"], "nothing runs yet: nothing to stop"
        assert queue.snapshot() == (1, 1)

        pressed = time.monotonic()
        _cancel_button(at).click().run()
        assert job.wait(1.0), "Cancel ends a queued run within a second"
        assert time.monotonic() - pressed < 1.0 + 1.0
        assert queue.snapshot() == (1, 0), "it left the queue"
        if not job.collected:  # the click's run drew the panel before the job ended: the poller reruns the page
            at.run()
        assert job.collected
        assert not at.exception, [e.value for e in at.exception]
        assert any("cancelled while it waited in the queue; nothing ran" in block.value for block in at.info)
        assert not [b for b in at.button if b.label in ("Cancel", "Stop")]
        assert not at.error, [e.value for e in at.error]
    finally:
        holder.release()


@pytest.mark.parametrize(
    ("name", "settings", "stopped_in"),
    [
        ("network sizes", {"ns_seeds": 1, "ns_budget_Quick: LineWorld-v0": 20_000}, "ns_results"),
        ("comparison", {"cmp_lineworld_total_timesteps": 200_000}, "comparison_result"),
    ],
)
def test_stop_on_a_running_long_run_ends_it_and_keeps_what_it_learned(
    name: str, settings: dict[str, int], stopped_in: str
) -> None:
    page, button, slot = LONG_RUN_PAGES[name]
    runner.warm_up()  # the fork server is warm: the run starts at once
    at = _start_long_run(page, button, settings)
    job = _live_job(slot)
    deadline = time.monotonic() + 30
    while not job.messages and time.monotonic() < deadline:  # it runs: progress came back
        time.sleep(0.05)
    assert job.messages, "no progress within 30 s"
    assert not job.done, "the run ended before Stop: raise its budget"
    at.run()
    [stop] = [b for b in at.button if b.label == "Stop"]
    stop.click().run()
    assert job.stop_reason == "stopped by you"
    assert any("stopped by you: finishing" in text for text in _texts(at))
    assert job.wait(30), "Stop ends the run (it evaluates what it learned first)"
    assert admission().snapshot() == (0, 0), "its slot is free"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert stopped_in in at.session_state, "what it learned is kept"
    assert any("stopped by you" in block.value for block in at.caption)
    assert not [b for b in at.button if b.label == "Stop"]
