"""What the server does once when it starts, in one place: :func:`start`, which the router calls on every run.

Importing a module of ``playground.ui`` has no side effect; everything that
reaches outside the script (threads, the fork server, secrets, global settings
of torch and matplotlib) happens here, once per server process.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Hashable, Iterable
from pathlib import Path

import streamlit as st

from playground.sandbox.admission import SLOTS_ENV, admission
from playground.sandbox.executor import RAY_ADDRESS_ENV, configure, warm_up
from playground.sandbox.runner import set_owner_resolver
from playground.sandbox.selftest import server_start
from playground.ui.server_warmup import freeze_loaded_objects, load_server_modules


def session_owner() -> Hashable | None:
    """The browser session a job started now belongs to (one running job per session)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx(suppress_warning=True)
    return None if ctx is None else str(ctx.session_id)


def slots_from_secrets() -> int | None:
    """``PLAYGROUND_MAX_JOBS`` from the app's Streamlit secrets, applied (the environment variable wins)."""
    if os.environ.get(SLOTS_ENV, "").strip():
        return None
    try:
        value = st.secrets.get(SLOTS_ENV, "") if st.runtime.exists() else ""
    except Exception:  # noqa: BLE001 - no secrets file is the normal case
        return None
    with contextlib.suppress(ValueError):
        if value:
            admission().set_slots(int(str(value)))
            return int(str(value))
    return None


def cluster_from_secrets() -> str | None:
    """``PLAYGROUND_RAY_ADDRESS`` from the app's Streamlit secrets: jobs run on that Ray cluster (the environment
    variable wins)."""
    if os.environ.get(RAY_ADDRESS_ENV, "").strip():
        return None
    try:
        value = st.secrets.get(RAY_ADDRESS_ENV, "") if st.runtime.exists() else ""
    except Exception:  # noqa: BLE001 - no secrets file is the normal case
        return None
    if not value:
        return None
    configure(str(value))
    return str(value)


@st.cache_resource(show_spinner="Starting the playground: loading what its pages use (once per server) ...")
def _start_once(pages: tuple[Path, ...]) -> int:
    """Once per server: the settings, the module loads and the fork server; returns how many modules are loaded."""
    import matplotlib  # here, not at the top: the first page load shows the navigation before these imports
    import torch

    server_start()  # no sandbox job may read this process's /proc entries; the log says which layers hold
    torch.set_num_threads(1)  # sessions training at once share the cores fairly
    # Figures are scaled to the column's width: on a phone (about 360 px) the default 10-point text would be
    # far too small to read.
    matplotlib.rcParams.update(
        {
            "font.size": 12,
            "axes.titlesize": 13,
            "axes.labelsize": 12,
            "legend.fontsize": 10.5,
            "xtick.labelsize": 11,
            "ytick.labelsize": 11,
        }
    )
    set_owner_resolver(session_owner)
    slots_from_secrets()
    cluster_from_secrets()
    warm_up()  # in the background: the first Check does not wait for torch to import
    return load_server_modules(pages)


def start(pages: Iterable[Path]) -> None:
    """Everything the server needs before it draws a page: once per server, then a cheap check on every run.

    ``pages``: the page files, whose imports are loaded up front (:mod:`playground.ui.server_warmup`).
    """
    _start_once(tuple(pages))
    freeze_loaded_objects()
