"""Small widget helpers every page uses: widget values that survive page changes, the mine/reference picker.

Nothing here starts a job or reads a page's results; the Check panel, the
source view and the job panels live in their own modules (``check_panel``,
``source_view``, ``job_panel``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import streamlit as st

from playground.core.facts import IMPL_LABELS, IMPLS, Impl, require_impl
from playground.ui.session import KEPT_KEY


def restore_widgets(keys: Iterable[str]) -> None:
    """Put back widget values Streamlit dropped while the learner was on another page.

    Streamlit forgets the state of every widget that a run did not draw, so a
    page's fields would fall back to their defaults after a visit elsewhere.
    Call this before drawing the widgets, and :func:`remember_widgets` after.
    Widgets restored this way must not also get a ``value=`` default.
    """
    kept: dict[str, Any] = st.session_state.setdefault(KEPT_KEY, {})
    for key in keys:
        if key not in st.session_state and key in kept:
            st.session_state[key] = kept[key]


def remember_widgets(keys: Iterable[str]) -> None:
    """Keep the current values of widgets in a key Streamlit does not drop (see :func:`restore_widgets`)."""
    kept: dict[str, Any] = st.session_state.setdefault(KEPT_KEY, {})
    for key in keys:
        if key in st.session_state:
            kept[key] = st.session_state[key]


def keep_widgets(keys: Iterable[str]) -> None:
    """Both halves at the top of a page: keep the widgets' current values, put back the dropped ones.

    At the start of a run, session state already holds the values of the
    widgets the previous run drew, so remembering them here loses nothing.
    """
    keys = tuple(keys)
    remember_widgets(keys)
    restore_widgets(keys)


def escape_markdown(text: str) -> str:
    """``text`` shown literally by ``st.markdown``, except `code spans`, which stay code.

    Without this, ``__init__`` in a check message would render as a bold "init".
    """
    parts = re.split(r"(`[^`]*`)", text)
    return "".join(part if part.startswith("`") else re.sub(r"([\\*_\[\]<>$~|])", r"\\\1", part) for part in parts)


def impl_picker(label: str, key: str, default: Impl = "solutions", horizontal: bool = True) -> Impl:
    """A radio choosing between the learner's code and the reference."""
    choice = st.radio(
        label, IMPLS, index=IMPLS.index(default), key=key, horizontal=horizontal, format_func=IMPL_LABELS.__getitem__
    )
    return require_impl(choice)


def scroll_into_view(key: str) -> None:
    """Scroll the page so the container with ``key`` is in sight, below the app's header (once, when it appears)."""
    st.html(
        "<script>(function(){let n=0;const t=setInterval(()=>{const e=document.querySelector('.st-key-"
        + key
        + "');if(e){e.style.scrollMarginTop='4.5rem';e.scrollIntoView({block:'start'});clearInterval(t);}"
        "if(++n>40){clearInterval(t);}},100);})();</script>",
        unsafe_allow_javascript=True,
    )
