"""Shared, non-exercise code of DQN Playground, in seven packages with a one-way import rule.

From the bottom up; a package may import the ones below it, never one above:

* ``core``: configuration (``DQNConfig``, presets), environments (LineWorld),
  the run types (``TrainingResult``, ``RunRecord``, progress messages) and the
  facts several parts share (solved returns, evaluation seeds, the choice
  "mine or reference", the project root). Imports no other package.
* ``checks``: the checks of each exercise and their registry; they run
  inside the sandbox child, against ``exercises`` or ``solutions``.
* ``sandbox``: the parent-side runner, the child process, the one message
  format between them, the process pool and the ``check`` command line.
* ``views``: figures and tables from plain data (matplotlib, pandas; no Streamlit).
* ``tasks``: the jobs the pages start in the sandbox (training, the size
  experiment, save/load, the network and buffer demos): the only code that
  imports learner code on behalf of a page, and only inside the child.
* ``sb3``: Stable-Baselines3: the adapter and the reference-vs-SB3 comparison.
* ``ui``: Streamlit: the router, the home page, widgets, session keys.

``solutions`` and ``exercises`` import only ``core``; nothing imports
``exercises`` (learner code is imported by name, inside the sandbox child);
nothing imports ``streamlit_app``. ``pyproject.toml``'s ``[tool.importlinter]``
contracts state these rules and CI (``lint-imports``) enforces them.
See docs/ARCHITECTURE.md.
"""
