"""Whether a class is set up, from the app's secrets alone: cheap enough for the router's first lines.

The router asks this before it draws the navigation (a class's sign-in form hides it, and teachers see one
more page), while a cold server has not yet imported torch, pandas or the class database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st


@dataclass(frozen=True)
class ClassSetup:
    """What the app's secrets say about a class (all empty: anonymous)."""

    class_code: str = ""
    teacher_emails: frozenset[str] = frozenset()
    teacher_code: str = ""
    sign_in: bool = False  # an identity provider is configured ([auth]): st.login works

    @property
    def active(self) -> bool:
        return bool(self.class_code or self.sign_in)


def app_secrets() -> dict[str, Any]:
    """The app's Streamlit secrets as a dict (empty without a secrets file)."""
    try:
        return st.secrets.to_dict() if st.secrets.load_if_toml_exists() else {}
    except Exception:  # noqa: BLE001 - no (or an unreadable) secrets file means: no class
        return {}


def class_setup(secrets: Mapping[str, Any] | None = None) -> ClassSetup:
    """The class set-up in ``secrets`` (the app's own by default)."""
    found = app_secrets() if secrets is None else secrets
    section = found.get("class")
    section = section if isinstance(section, Mapping) else {}
    emails = section.get("teachers", [])
    emails = [emails] if isinstance(emails, str) else emails
    return ClassSetup(
        class_code=str(section.get("code", "") or ""),
        teacher_emails=frozenset(str(e).strip().casefold() for e in emails if str(e).strip()),
        teacher_code=str(section.get("teacher_code", "") or ""),
        sign_in=isinstance(found.get("auth"), Mapping),
    )
