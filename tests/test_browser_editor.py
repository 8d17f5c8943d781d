"""A real browser writes exercise code in the page's editor: a failing version, then a passing one; checks it
(Ctrl+Enter and the button), runs it beside the reference, downloads it, and restores it by upload."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_support import assert_no_errors, open_page, screenshot, wait_for_app

from playground.checks import checks_for

if TYPE_CHECKING:
    from playwright.sync_api import Frame, Page

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
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
CHECK_SECONDS = 240


def editor_frame(page: Page) -> Frame:
    """The code editor's iframe, once Ace is ready in it."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        page.locator('iframe[title*="code_editor"]').first.wait_for(state="visible", timeout=60_000)
    except PlaywrightError as err:  # say what the page showed instead, so a failure in CI can be read
        shot = screenshot(page, "no_code_editor")
        state = page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state")
        frames = page.evaluate(
            "() => [...document.querySelectorAll('iframe')].map(f => [f.title, f.getBoundingClientRect().height])"
        )
        raise AssertionError(
            f"no visible code editor on {page.url} (script {state}; frames {frames}; screenshot {shot}):\n"
            + page.locator("body").inner_text()[:3000]
        ) from err
    for _ in range(100):
        for frame in page.frames:
            try:
                if "code_editor" in frame.url and frame.locator(".ace_editor").count():
                    return frame
            except PlaywrightError:  # a frame detached while we looked (a rerun replaced it): look again
                continue
        page.wait_for_timeout(200)
    raise AssertionError("the code editor did not load")


def in_editor(page: Page, script: str, arg: object = None) -> object:
    """Run `script` in the editor's iframe; a rerun that replaces the iframe meanwhile makes us find it again."""
    from playwright.sync_api import Error as PlaywrightError

    for _ in range(30):
        frame = editor_frame(page)
        try:
            return frame.evaluate(script, arg)
        except PlaywrightError:  # "Frame was detached": the app reran and drew a new editor
            page.wait_for_timeout(200)
    raise AssertionError("the code editor kept being replaced")


def editor_text(page: Page) -> str:
    return str(in_editor(page, "() => document.querySelector('.ace_editor').env.editor.getValue()"))


def set_code(page: Page, code: str) -> Frame:
    """Replace the editor's text (as a paste would) and let the app receive it."""
    in_editor(
        page,
        "(code) => { const ed = document.querySelector('.ace_editor').env.editor; ed.setValue(code, 1); ed.focus(); }",
        code,
    )
    frame = editor_frame(page)
    frame.locator(".ace_text-input").press("End")  # a real key press in the editor
    page.wait_for_timeout(1500)  # the editor sends its text after a short debounce
    wait_for_app(page)
    return frame


def body(page: Page) -> str:
    return page.locator("body").inner_text()


def wait_for_text(page: Page, text: str, timeout: float = CHECK_SECONDS) -> None:
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout * 1000)
    wait_for_app(page, timeout=timeout)


def download_code(page: Page, expected_name: str) -> str:
    with page.expect_download() as info:
        page.get_by_role("button", name="Download my code").click()
    download = info.value
    assert download.suggested_filename == expected_name
    return Path(download.path()).read_text(encoding="utf-8")


def test_q_network_in_the_editor_fail_pass_run_download(page: Page, app_url: str) -> None:
    page.goto(app_url)
    wait_for_app(page)
    open_page(page, "1. Q-network")
    frame = editor_frame(page)
    assert "class CustomQNetwork" in editor_text(page), "the editor starts with the exercise file"
    assert frame.locator(".ace_gutter-cell").count() > 10, "the editor shows line numbers"

    frame = set_code(page, RELU_ON_OUTPUT)
    assert frame.get_by_text("Check (Ctrl+Enter)").count() == 0, "no button inside the editor covers a line"
    frame.locator(".ace_text-input").press("Control+Enter")  # the keyboard shortcut to Check
    wait_for_text(page, f"{len(checks_for('q_network')) - 1} of {len(checks_for('q_network'))} checks passed")
    assert "no activation on the Q-values" in body(page)
    assert "ReLU" in body(page)
    assert_no_errors(page, "q_network after a failing check")

    frame = set_code(page, SOLUTION_Q)
    frame.locator(".ace_text-input").press("Control+End")
    frame.locator(".ace_text-input").type("# checked in a browser")
    frame.locator(".ace_text-input").press("Escape")  # no completion pop-up may take the Enter
    frame.locator(".ace_text-input").press("Enter")
    page.wait_for_timeout(1500)
    wait_for_app(page)
    page.get_by_role("button", name="Check my code").click()
    wait_for_text(page, f"All {len(checks_for('q_network'))} checks passed")
    assert "Reference solution (solutions/q_network.py)" in body(page)

    page.get_by_text("mine (exercises/)").first.click()
    wait_for_app(page)
    page.get_by_role("button", name="Build and run").click()
    wait_for_text(page, "Your network (exercises/)")
    text = body(page)
    assert "Reference (solutions/)" in text
    assert "not implemented yet" not in text, "Run mine must use the editor's code, not the stub on disk"
    assert text.count("trainable parameters") >= 2, "both networks side by side"
    assert_no_errors(page, "q_network after running mine")
    screenshot(page, "editor_q_network")

    downloaded = download_code(page, "q_network.py")
    assert downloaded.startswith(SOLUTION_Q.rstrip("\n"))
    assert "# checked in a browser" in downloaded


def test_replay_buffer_in_the_editor_fail_pass_run_download_upload(page: Page, app_url: str, tmp_path: Path) -> None:
    page.goto(app_url)
    wait_for_app(page)
    open_page(page, "2. Replay buffer")
    set_code(page, DROPS_WHEN_FULL)
    page.get_by_role("button", name="Check my code").click()
    wait_for_text(page, "checks passed")
    assert "new transitions are dropped instead of replacing the oldest" in body(page)

    set_code(page, SOLUTION_RB)
    page.get_by_role("button", name="Check my code").click()
    wait_for_text(page, f"All {len(checks_for('replay_buffer'))} checks passed")

    page.get_by_text("mine (exercises/)").first.click()
    wait_for_app(page)
    page.get_by_role("button", name="Fill and sample").click()
    wait_for_text(page, "Your buffer (exercises/)")
    assert page.get_by_text("behave as the contract says").count() == 2, "mine and the reference, side by side"
    assert_no_errors(page, "replay_buffer after running mine")
    assert download_code(page, "replay_buffer.py") == SOLUTION_RB

    # Upload restores a file into the editor.
    upload = tmp_path / "replay_buffer.py"
    upload.write_text(DROPS_WHEN_FULL, encoding="utf-8")
    page.get_by_text("Upload a .py file").first.click()
    page.locator('input[type="file"]').last.set_input_files(str(upload))
    wait_for_app(page)
    page.keyboard.press("Escape")
    for _ in range(50):
        if editor_text(page) == DROPS_WHEN_FULL:
            break
        page.wait_for_timeout(200)
    assert editor_text(page) == DROPS_WHEN_FULL
    screenshot(page, "editor_replay_buffer")
