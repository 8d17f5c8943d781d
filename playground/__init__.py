"""Shared, non-exercise code of DQN Playground.

Environments, configuration and result types, the checks, the runner that
executes learner code in a child process, and the user-interface pieces the
pages share. Nothing here imports the learner's ``exercises`` package: learner
code only ever runs inside :mod:`playground.sandbox`, in a separate process.
"""
