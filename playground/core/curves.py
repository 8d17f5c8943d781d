"""Curves of a run as the pages, the benchmarks and the reference's ``plot_rewards`` draw them."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def moving_average(values: ArrayLike, window: int) -> NDArray[np.float64]:
    """Trailing mean $\\bar r_i = \\frac{1}{k} \\sum_{j=i-k+1}^{i} r_j$ with $k = \\min(w, i + 1)$.

    Same length as ``values``: the first points average what exists so far.
    """
    data = np.asarray(values, dtype=np.float64).reshape(-1)
    if data.size == 0:
        return data
    window = max(1, int(window))
    sums = np.concatenate(([0.0], np.cumsum(data)))
    ends = np.arange(1, data.size + 1)
    starts = np.maximum(0, ends - window)
    averaged: NDArray[np.float64] = (sums[ends] - sums[starts]) / (ends - starts)
    return averaged
