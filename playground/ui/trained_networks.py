"""Networks trained on one page and offered to the others (the save/load page lists them)."""

from __future__ import annotations

import streamlit as st

from playground.tasks.snapshot import TrainedNetwork
from playground.ui.session import TRAINED_KEY


def remember_network(network: TrainedNetwork) -> None:
    """Offer a network trained on one page to the other pages (newest first)."""
    store: dict[str, TrainedNetwork] = st.session_state.setdefault(TRAINED_KEY, {})
    store.pop(network.label, None)
    st.session_state[TRAINED_KEY] = {network.label: network, **store}


def trained_networks() -> dict[str, TrainedNetwork]:
    """Label -> network trained in this session, newest first."""
    store: dict[str, TrainedNetwork] = st.session_state.get(TRAINED_KEY, {})
    return store
