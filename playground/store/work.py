"""A learner's work as plain data: what is kept between visits, whichever place keeps it (no Streamlit here).

One :class:`Work` holds, per exercise, the code in the editor, the hint positions, the results of the
last Check of the learner's code and the fingerprint of the code those results are about; and the
settings of the last runs (widget values, plain JSON). The browser's local storage keeps it as JSON
(:meth:`ExerciseWork.to_json`); the database keeps it in tables (:mod:`playground.store.db`).

Whatever comes back from a browser is untrusted: :meth:`ExerciseWork.from_json` and
:func:`clean_settings` keep only known exercises, well-typed fields and bounded sizes, and drop
anything else rather than fail.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from playground.core.facts import EXERCISES

MAX_CODE_CHARS = 100_000  # an exercise file is a few kB; code larger than this is not kept
MAX_MESSAGE_CHARS = 4_000  # a check message is a few lines; longer ones are cut when kept
MAX_NAME_CHARS = 200  # a check or function name
MAX_CHECKS = 100  # checks of one exercise
MAX_SETTINGS_CHARS = 20_000  # all the kept widget values, as JSON
STATUSES: tuple[str, ...] = ("passed", "failed", "error", "not_run")

JsonValue = str | int | float | bool | None | list[Any]


class TooLarge(ValueError):
    """Code larger than :data:`MAX_CODE_CHARS`: it is not kept (what was kept before stays)."""


def check_code_size(code: str) -> str:
    """``code`` if it may be kept, else :class:`TooLarge` saying the limit."""
    if len(code) > MAX_CODE_CHARS:
        raise TooLarge(f"the code is {len(code):,} characters; at most {MAX_CODE_CHARS:,} are kept")
    return code


@dataclass(frozen=True)
class StoredCheck:
    """One check's outcome as kept: its name, status (see :data:`STATUSES`) and message."""

    check: str
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @classmethod
    def of(cls, check: str, status: str, message: str) -> StoredCheck:
        """A bounded copy: an unknown status counts as an error, a long message is cut."""
        if status not in STATUSES:
            status = "error"
        if len(message) > MAX_MESSAGE_CHARS:
            message = message[: MAX_MESSAGE_CHARS - 1] + "…"
        return cls(check[:MAX_NAME_CHARS], status, message)

    @classmethod
    def from_result(cls, result: Any) -> StoredCheck:
        """From a :class:`playground.checks.CheckResult` (its ``status`` when it has one, else passed/failed)."""
        status = getattr(result, "status", None)
        if not isinstance(status, str):
            status = "passed" if result.passed else "failed"
        return cls.of(str(result.check), status, str(result.message))

    def to_json(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "message": self.message}


@dataclass
class ExerciseWork:
    """What is kept of one exercise: code, hints shown per function, the last Check of the learner's code."""

    code: str | None = None
    hints: dict[str, int] = field(default_factory=dict)
    checks: list[StoredCheck] | None = None
    checked: str | None = None  # fingerprint of the code the checks ran on

    def is_empty(self) -> bool:
        return self.code is None and not self.hints and self.checks is None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "hints": dict(self.hints),
            "checks": None if self.checks is None else [c.to_json() for c in self.checks],
            "checked": self.checked,
        }

    @classmethod
    def from_json(cls, data: object) -> ExerciseWork:
        """Parse untrusted JSON: wrong types and oversized parts are dropped."""
        if not isinstance(data, Mapping):
            return cls()
        code = data.get("code")
        if not isinstance(code, str) or len(code) > MAX_CODE_CHARS:
            code = None
        hints = clean_hints(data.get("hints"))
        checks: list[StoredCheck] | None = None
        raw_checks = data.get("checks")
        if isinstance(raw_checks, list):
            checks = [
                StoredCheck.of(item["check"], item["status"], item["message"])
                for item in raw_checks[:MAX_CHECKS]
                if isinstance(item, Mapping)
                and all(isinstance(item.get(k), str) for k in ("check", "status", "message"))
            ]
        checked = data.get("checked")
        return cls(code, hints, checks, checked[:64] if isinstance(checked, str) else None)


def clean_hints(data: object) -> dict[str, int]:
    """Function -> hints shown, from untrusted data: names are strings, counts small non-negative ints."""
    if not isinstance(data, Mapping):
        return {}
    return {
        str(name)[:MAX_NAME_CHARS]: min(count, 10)
        for name, count in data.items()
        if isinstance(count, int) and not isinstance(count, bool) and count > 0
    }


def _plain(value: object) -> bool:
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    return False


def clean_settings(data: object) -> dict[str, JsonValue]:
    """Widget key -> value, keeping only plain JSON values (no dicts) and at most :data:`MAX_SETTINGS_CHARS`."""
    if not isinstance(data, Mapping):
        return {}
    kept: dict[str, JsonValue] = {}
    size = 0
    for key, value in data.items():
        if not isinstance(key, str) or not _plain(value):
            continue
        size += len(json.dumps([key, value]))
        if size > MAX_SETTINGS_CHARS:
            break
        kept[key] = value
    return kept


@dataclass
class Work:
    """Everything kept for one learner: per exercise, and the settings of the last runs."""

    exercises: dict[str, ExerciseWork] = field(default_factory=dict)
    settings: dict[str, JsonValue] = field(default_factory=dict)

    def exercise(self, exercise: str) -> ExerciseWork:
        return self.exercises.setdefault(exercise, ExerciseWork())

    def to_json(self) -> dict[str, Any]:
        return {
            "exercises": {name: work.to_json() for name, work in self.exercises.items()},
            "settings": dict(self.settings),
        }

    @classmethod
    def from_json(cls, data: object) -> Work:
        if not isinstance(data, Mapping):
            return cls()
        raw = data.get("exercises")
        exercises = {
            name: ExerciseWork.from_json(raw[name]) for name in EXERCISES if isinstance(raw, Mapping) and name in raw
        }
        return cls(exercises, clean_settings(data.get("settings")))
