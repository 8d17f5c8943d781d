"""Keep the Streamlit server's own pauses out of a click: load everything once, then freeze it.

Two pieces of Streamlit's work hold the thread that sends every session's messages,
so while they run no result reaches any browser:

* **The source watcher** (on by default, and Streamlit Community Cloud forces
  ``server.runOnSave``). At the end of a script run it walks all of
  ``sys.modules`` whenever the set changed since that session's last run: with
  torch, pandas and matplotlib loaded, 2,000-odd modules and about 0.15 s.
  Every session has its own watcher, so one module imported late (the checks of
  an exercise, the first time anyone presses its Check) costs that walk once in
  each open session: with a class of ten, 1.5 s of delayed messages.
  :func:`load_server_modules` imports up front what the pages and their Check
  panels import, so the module set stays the same while learners click.
* **The collector.** After every script run Streamlit runs a full garbage
  collection (``runner.postScriptGC``): 250,000 objects, 0.1 s.
  :func:`freeze_loaded_objects` moves what the imports made (modules, classes,
  functions: they live as long as the server) out of the collector's sight with
  :func:`gc.freeze`, so a collection looks only at what sessions made since.

Measured with ``benchmarks/bench_click.py``: without these, a Check of q_network
showed its result after 0.3-0.5 s; with them, after about 0.2 s.
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

from playground.checks import EXERCISES, checks_for


def load_imports_of(source: str) -> None:
    """Run the top-level imports of ``source`` (a page file), without running the page."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                importlib.import_module(alias.name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module != "__future__":
            module = importlib.import_module(node.module)
            for alias in node.names:
                if not hasattr(module, alias.name):  # a submodule: ``from playground.tasks import speed``
                    importlib.import_module(f"{node.module}.{alias.name}")


def load_server_modules(pages: Iterable[Path]) -> int:
    """Import what the ``pages`` import and every exercise's checks, and exercise the lazy imports of a table.

    Returns how many modules are loaded. Learner code is never imported here:
    the pages and the checks name ``exercises`` only as text (the sandbox imports it).
    """
    for page in pages:
        with contextlib.suppress(OSError, SyntaxError, ImportError):  # the page itself then shows what is wrong
            load_imports_of(page.read_text(encoding="utf-8"))
    for exercise in EXERCISES:
        checks_for(exercise)
    import pandas as pd
    import pyarrow as pa  # type: ignore[import-untyped]  # Streamlit's own dependency

    frame = pd.DataFrame({"episode": [1, 2], "return": [9.0, 10.5], "note": ["a", "b"]})
    pa.Table.from_pandas(frame)  # what st.dataframe does to every table
    frame.to_csv()  # the pages' CSV downloads
    return len(sys.modules)


_frozen_at_modules = 0  # how many modules were loaded when the collector last froze what was alive
_freeze_lock = threading.Lock()


def freeze_loaded_objects() -> bool:
    """Collect, then :func:`gc.freeze` what is alive, if modules were loaded since the last time; True when it did.

    Called at the start of every full script run, so the objects of a late import
    (a page opened for the first time) are frozen on the next run. It freezes only
    when the module count grew, a few times per server, so the cyclic garbage a
    freeze could keep alive stays bounded.
    """
    global _frozen_at_modules
    with _freeze_lock:
        loaded = len(sys.modules)
        if loaded <= _frozen_at_modules:
            return False
        _frozen_at_modules = loaded
        gc.collect()
        gc.freeze()
        return True
