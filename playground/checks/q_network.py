"""Checks for exercise 1 (placeholder, to be written in issue 3)."""

from __future__ import annotations

from types import ModuleType

import torch

from playground.checks import check, require


@check("q_network", "output shape", timeout=10)
def output_shape(mod: ModuleType) -> str:
    net = mod.CustomQNetwork(4, 2, [16])
    out = net(torch.zeros(5, 4))
    require(tuple(out.shape) == (5, 2), f"expected (5, 2), got {tuple(out.shape)}")
    return "ok (5, 2)"
