"""Memory of the Streamlit server process itself with N browser sessions open (no training inside it).

    python benchmarks/bench_server_memory.py [--sessions 10]

Starts ``streamlit run streamlit_app.py``, opens N headless-Chromium sessions
(Debian's ``/usr/bin/chromium``, as the browser tests do), each on the
training page and then an exercise page, and prints the PSS and USS of the
server process alone and of its whole process tree (the fork server is part
of the tree). Target (issue 13): the server process at most 400 MB with 10
sessions open.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser_support import (  # type: ignore[import-not-found, unused-ignore]  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    served_app,
    wait_for_app,
)

MB = 1024 * 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=10)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with served_app() as (url, server), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        contexts = []
        for _ in range(args.sessions):
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            tab = context.new_page()
            tab.set_default_timeout(120_000)
            tab.goto(f"{url}/training?preset=lineworld")
            wait_for_app(tab, timeout=240)
            tab.goto(f"{url}/q_network")
            wait_for_app(tab, timeout=240)
            contexts.append(context)
        time.sleep(3)
        proc = psutil.Process(server.pid)
        info = proc.memory_full_info()
        tree = sum(p.memory_full_info().pss for p in [proc, *proc.children(recursive=True)])
        print()
        print("| measure | value |")
        print("|---|---:|")
        print(f"| sessions open | {len(contexts)} |")
        print(f"| server process PSS | {info.pss / MB:.0f} MB |")
        print(f"| server process USS | {info.uss / MB:.0f} MB |")
        print(f"| server process RSS | {info.rss / MB:.0f} MB |")
        print(f"| whole tree PSS (server + fork server) | {tree / MB:.0f} MB |")
        print(f"| torch imported in the server | {'torch' in ' '.join(m.path for m in proc.memory_maps())} |")
        for context in contexts:
            context.close()
        browser.close()

    return 0


if __name__ == "__main__":
    sys.exit(main())
