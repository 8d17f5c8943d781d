"""Every ``st.session_state`` key written as a string outside ``playground/ui/session.py`` is a page's widget key.

``session.py`` names every other key (its docstring promises so). This test reads the sources of the ui
package, the pages and the entry point, finds each string key given to session state (``[...]``, ``.get``,
``.setdefault``, ``.pop``, ``in``), and fails on one that does not start with a page's widget prefix.
"""

from __future__ import annotations

import ast
from pathlib import Path

from playground.ui.session import WIDGET_PREFIXES

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    [
        *(path for path in (ROOT / "playground" / "ui").glob("*.py") if path.name != "session.py"),
        *(ROOT / "pages").glob("*.py"),
        ROOT / "streamlit_app.py",
    ]
)
KEY_METHODS = {"get", "setdefault", "pop", "__getitem__", "__setitem__", "__delitem__", "__contains__"}


def _aliases(tree: ast.AST) -> set[str]:
    """Names bound to the session state (``state = st.session_state``)."""
    return {
        target.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and _is_state(node.value, set())
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _is_state(node: ast.expr, aliases: set[str]) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "session_state") or (
        isinstance(node, ast.Name) and node.id in aliases
    )


def _literal_start(node: ast.expr) -> str | None:
    """The text a key written as a string starts with; None for a key that is not written as one (a constant)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else ""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_start(node.left)
    return None


def string_keys(source: str) -> list[tuple[int, str]]:
    """(line, start of the key) of every session-state key written as a string in ``source``."""
    tree = ast.parse(source)
    aliases = _aliases(tree)
    keys: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_state(node.value, aliases):
            keys.append(node.slice)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in KEY_METHODS
            and _is_state(node.func.value, aliases)
            and node.args
        ):
            keys.append(node.args[0])
        elif isinstance(node, ast.Compare) and any(
            isinstance(op, ast.In | ast.NotIn) and _is_state(right, aliases)
            for op, right in zip(node.ops, node.comparators, strict=True)
        ):
            keys.append(node.left)
    found = [(key.lineno, _literal_start(key)) for key in keys]
    return [(line, start) for line, start in found if start is not None]


def test_every_string_key_outside_session_py_is_a_page_prefixed_widget_key() -> None:
    bare = [
        f"{path.relative_to(ROOT)}:{line}: {start!r}"
        for path in SOURCES
        for line, start in string_keys(path.read_text(encoding="utf-8"))
        if not start.startswith(WIDGET_PREFIXES)
    ]
    assert not bare, "name these keys in playground/ui/session.py (or give a widget its page's prefix):\n" + "\n".join(
        bare
    )


def test_the_pages_seed_their_widgets_by_key_and_that_is_seen() -> None:
    """The search finds string keys at all: the size page seeds its widgets with literal keys."""
    keys = string_keys((ROOT / "pages" / "5_network_sizes.py").read_text(encoding="utf-8"))
    assert {start for _, start in keys} >= {"ns_sizes", "ns_seeds", "ns_budget_", "ns_window_"}


def test_a_bare_key_in_any_form_is_caught() -> None:
    source = (
        "import streamlit as st\n"
        "st.session_state['results'] = 1\n"
        "x = st.session_state.get('other')\n"
        "st.session_state.setdefault(f'{name}_x', {})\n"
        "if 'flag' not in st.session_state:\n"
        "    pass\n"
        "state = st.session_state\n"
        "state.pop('gone' + suffix, None)\n"
        "st.session_state[SOME_KEY] = 2\n"
        "st.session_state['ns_ok'] = 3\n"
    )
    keys = string_keys(source)
    bare = sorted(start for _, start in keys if not start.startswith(WIDGET_PREFIXES))
    assert bare == ["", "flag", "gone", "other", "results"]  # "": an f-string that starts with a name
    assert len(keys) == 6, "a constant key (SOME_KEY) is not a string key"
