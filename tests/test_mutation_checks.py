"""A smoke run of tools/mutation.py: a few mutants of a small solution, in a scratch copy, and the table."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_a_few_mutants_run_in_a_scratch_copy_and_make_a_table(tmp_path: Path) -> None:
    before = (ROOT / "solutions" / "q_network.py").read_text()
    command = [sys.executable, "tools/mutation.py", "q_network", "--sample", "2", "--workdir", str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    assert (ROOT / "solutions" / "q_network.py").read_text() == before  # the checkout is never mutated
    assert (tmp_path / "q_network" / "repo" / "solutions" / "q_network.py").exists()
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines() if line[:1].isalpha()}
    assert rows["module"][1:] == ["mutants", "killed", "timeout", "survived", "equiv", "error", "score"]
    mutants, killed, timeout, survived, equivalent, error = map(int, rows["q_network"][1:7])
    assert mutants == 2
    assert killed + timeout + survived + equivalent + error == 2
    assert rows["all"][1] == "2"
