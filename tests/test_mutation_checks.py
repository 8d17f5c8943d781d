"""A smoke run of tools/mutation.py: a few mutants of a small solution, in a scratch copy, and the table."""

from __future__ import annotations

import ast
import importlib.util
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


def _function_lines(module: str) -> dict[str, set[str]]:
    """Function name -> the stripped source lines of its body, for solutions/<module>.py ("<module>": the rest)."""
    source = (ROOT / "solutions" / f"{module}.py").read_text(encoding="utf-8")
    lines = source.splitlines()
    found: dict[str, set[str]] = {"<module>": set()}
    inside: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            span = range(node.lineno - 1, node.end_lineno or node.lineno)
            found.setdefault(node.name, set()).update(lines[i].strip() for i in span)
            inside.update(span)
    found["<module>"] = {line.strip() for i, line in enumerate(lines) if i not in inside}
    return found


def test_every_equivalent_mutant_names_a_line_of_the_solutions() -> None:
    spec = importlib.util.spec_from_file_location("mutation_tool", ROOT / "tools" / "mutation.py")
    assert spec is not None
    assert spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = tool  # dataclasses look their module up there
    try:
        spec.loader.exec_module(tool)
    finally:
        del sys.modules[spec.name]
    assert tool.EQUIVALENT, "the table is read from tools/equivalent_mutants.toml"
    by_module = {module: _function_lines(module) for module in tool.MODULES}
    stale = [
        f"{e.module}.{e.function}: {e.line}"
        for e in tool.EQUIVALENT
        if e.line not in by_module.get(e.module, {}).get(e.function, set())
    ]
    assert not stale, "entries of tools/equivalent_mutants.toml that match no line of solutions/: " + "; ".join(stale)


def test_a_stale_entry_is_noticed() -> None:
    lines = _function_lines("q_network")
    assert "result: Tensor = self.net(x)" in lines["forward"]
    assert "result: Tensor = self.net(x) + 1" not in lines["forward"]
    assert "result: Tensor = self.net(x)" not in lines["__init__"]
