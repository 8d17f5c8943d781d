"""From the click to the result in the browser: a Check of each exercise, as a learner sees it.

    python benchmarks/bench_click.py [--repeats 3] [--exercises q_network ...]

Starts ``streamlit run streamlit_app.py`` with Streamlit Community Cloud's
forced settings, opens each exercise page in headless Chromium, waits until the
fork server is warm, then clicks **Check the reference** and times the click
until the page shows "All N checks passed" (the sandbox run, the Streamlit
reruns, the websocket and the browser's drawing included). It does the same
with **Check my code** under the editor, twice: on the exercise file as shipped
(its checks fail, so the time runs to the failure summary), and with the
reference uploaded into the editor (the checks pass, and the page reruns to
open the reference solution). Each repeat is a
fresh page load, so no result is left from the previous one. Targets (issue 13,
quiet 2-core machine): q_network, replay_buffer, save_load <= 0.5 s; train_dqn
<= 4 s; network_sizes <= 2.5 s.

The time is taken by the page's own clock: from the mouse press to the first
animation frame after the text is in the page (a ``MutationObserver`` sees it
arrive). Timing Playwright's ``wait_for`` from Python instead would add up to
half a second: it looks for the text after 0, 20, 50, 100 and 100 ms, and then
only every 500 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from browser_support import (  # type: ignore[import-not-found, unused-ignore]  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    CLOUD_SETTINGS,
    served_app,
    wait_for_app,
)

from playground.checks import EXERCISES, checks_for  # noqa: E402

TARGETS = {"q_network": 0.5, "replay_buffer": 0.5, "save_load": 0.5, "train_dqn": 4.0, "network_sizes": 2.5}
URL_PATHS = {
    "q_network": "q_network",
    "replay_buffer": "replay_buffer",
    "train_dqn": "training",
    "save_load": "save_load",
    "network_sizes": "network_sizes",
}

# In the page: note the time of the next mouse press, then of the first frame drawn once one of ``texts`` is in
# the page.
WATCH_CLICK_TO_TEXT = """texts => {
  const t = window.__clickToText = {click: null, done: null};
  document.addEventListener("pointerdown", () => { if (t.click === null) t.click = performance.now(); },
                            {capture: true});
  const observer = new MutationObserver(() => {
    if (t.click === null || !texts.some(text => document.body.textContent.includes(text))) return;
    observer.disconnect();
    requestAnimationFrame(() => { t.done = performance.now(); });
  });
  observer.observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def click_to_text(tab: Any, button_name: str, texts: list[str]) -> float:
    """Seconds from the press on the button to the first frame that shows one of ``texts``."""
    button = tab.get_by_role("button", name=button_name)
    button.scroll_into_view_if_needed()
    tab.evaluate(WATCH_CLICK_TO_TEXT, texts)
    button.click()
    tab.wait_for_function("window.__clickToText.done !== null", timeout=120_000)
    return float(tab.evaluate("window.__clickToText.done - window.__clickToText.click")) / 1000


def upload_into_editor(tab: Any, path: Path) -> None:
    """Put ``path`` into the page's editor with its *Upload a .py file* button, as a learner restores a file."""
    tab.get_by_text("Upload a .py file").first.click()
    tab.locator('input[type="file"]').last.set_input_files(str(path))
    wait_for_app(tab, timeout=240)
    tab.keyboard.press("Escape")
    wait_for_app(tab, timeout=240)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--exercises", nargs="*", default=list(EXERCISES), choices=EXERCISES, help="default: all")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    rows = []
    with served_app(CLOUD_SETTINGS) as (url, _server), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        tab = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        tab.set_default_timeout(120_000)
        tab.goto(f"{url}/q_network")
        wait_for_app(tab, timeout=240)
        time.sleep(8)  # the fork server imports torch and warms up once, when the first page opens
        for exercise in args.exercises:
            passed = f"All {len(checks_for(exercise))} checks passed"
            times: dict[str, list[float]] = {"reference": [], "unsolved": [], "solved": []}
            for _ in range(args.repeats):
                for case, button_name in (
                    ("reference", "Check the reference"),
                    ("unsolved", "Check my code"),  # the exercise file as shipped: its checks fail
                    ("solved", "Check my code"),  # the reference uploaded into the editor: they pass
                ):
                    # A fresh visit each time, in a new browser context: no work kept in the browser from before.
                    tab.context.close()
                    tab = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
                    tab.set_default_timeout(120_000)
                    tab.goto(f"{url}/{URL_PATHS[exercise]}")
                    wait_for_app(tab, timeout=240)
                    if case == "solved":
                        upload_into_editor(tab, ROOT / "solutions" / f"{exercise}.py")
                    texts = [passed] if case != "unsolved" else [passed, "Fix the first failure first"]
                    times[case].append(click_to_text(tab, button_name, texts))
            rows.append((exercise, times))
            print(f"{exercise}: " + "; ".join(f"{case} {_list(t)} s" for case, t in times.items()), flush=True)
        browser.close()
    print(
        "\nMedian (worst) seconds from the click to the result.\n\n"
        "| exercise | Check the reference | Check my code, unsolved | Check my code, solved | target |\n"
        "|---|---:|---:|---:|---:|"
    )
    for exercise, times in rows:
        cells = " | ".join(f"{statistics.median(t):.2f} ({max(t):.2f})" for t in times.values())
        print(f"| {exercise} | {cells} | {TARGETS[exercise]:g} |")
    met = all(statistics.median(t) <= TARGETS[exercise] for exercise, times in rows for t in times.values())
    return 0 if met else 1


def _list(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    sys.exit(main())
