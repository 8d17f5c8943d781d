"""A figure drawn by an implementation's own plotting function, as PNG bytes that can leave the sandbox."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any


def figure_png(draw: Callable[[], Any], what: str) -> tuple[bytes | None, str]:
    """``draw()`` (a learner's or the reference's plot function) saved as PNG; or ``None`` and why not.

    The function may fail in any way, or return something that is not a
    matplotlib figure: that becomes the message, and the run's data survives.
    """
    import matplotlib.pyplot as plt

    from playground.checks import describe_exception

    try:
        figure = draw()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=100)
    except Exception as err:  # noqa: BLE001 - a learner's plot may fail in any way; the data survives
        return None, f"{what} failed: {describe_exception(err)}"
    finally:
        plt.close("all")
    return buffer.getvalue(), ""
