"""The server loads what its pages import once, up front, and hides it from the collector."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from playground.ui.server_warmup import load_imports_of

ROOT = Path(__file__).resolve().parent.parent


def test_a_pages_top_level_imports_run_and_its_body_does_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "warm_probe"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("speed", "late", "plain"):
        (package / f"{name}.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    page = textwrap.dedent(
        """
        from __future__ import annotations
        import warm_probe.plain
        from warm_probe import speed

        def later():
            import warm_probe.late

        raise SystemExit("the page itself must not run")
        """
    )
    try:
        load_imports_of(page)
        assert "warm_probe.speed" in sys.modules  # ``from package import submodule`` loads the submodule
        assert "warm_probe.plain" in sys.modules
        assert "warm_probe.late" not in sys.modules  # only the top level
    finally:
        for name in [m for m in sys.modules if m.startswith("warm_probe")]:
            del sys.modules[name]


# In a fresh interpreter (a freeze would last for the rest of this test process).
FRESH_SERVER = """
import sys
from playground.checks import EXERCISES, checks_for
from playground.core.facts import PROJECT_ROOT
from playground.ui.router import PAGES
from playground.ui.server_warmup import freeze_loaded_objects, load_server_modules
sys.path.insert(0, "tests")
from apptest_support import open_page

load_server_modules(PROJECT_ROOT / path for path, _, _ in PAGES)
assert freeze_loaded_objects(), "the first call freezes"
assert not freeze_loaded_objects(), "nothing was imported since"
import gc
assert gc.get_freeze_count() > 100_000, gc.get_freeze_count()
loaded = set(sys.modules)
for path, _, _ in PAGES:
    open_page(path)
for exercise in EXERCISES:
    checks_for(exercise)  # what a Check click loads in the server
ours = ("playground", "solutions", "exercises")
print("LATE", sorted(m for m in set(sys.modules) - loaded if m.split(".")[0] in ours))
print("LEARNER", sorted(m for m in sys.modules if m.split(".")[0] == "exercises"))
"""


def test_opening_every_page_and_checking_loads_no_module_of_ours_late() -> None:
    """Streamlit's source watcher walks all modules in every session after any late import (0.15 s each)."""
    result = subprocess.run(
        [sys.executable, "-c", FRESH_SERVER], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in result.stdout.splitlines() if line.startswith(("LATE", "LEARNER")))
    assert lines["LATE"] == "[]", f"imported only after the warm-up: {lines['LATE']}"
    assert lines["LEARNER"] == "[]", "learner code must never be imported in the server"
