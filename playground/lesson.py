"""The home page: the lesson text (placeholder until issue 2 lands)."""

from __future__ import annotations

import streamlit as st


def render_home() -> None:
    st.title("DQN Playground")
