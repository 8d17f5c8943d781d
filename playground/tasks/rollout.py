"""A greedy rollout of a trained Q-network, drawn as an animated GIF (Pillow).

Both environments render ``rgb_array`` frames: LineWorld draws itself with
NumPy, CartPole uses Gymnasium's pygame renderer (headless with
``SDL_VIDEODRIVER=dummy``, set here before pygame is imported).
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from playground.core.envs import make_env

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

MAX_GIF_WIDTH = 360


@dataclass(frozen=True)
class Rollout:
    """One greedy episode: its frames (palette images, ready for a GIF), actions and return."""

    frames: list[Image.Image]
    actions: list[int]
    total_reward: float
    terminated: bool

    @property
    def steps(self) -> int:
        return len(self.actions)


def greedy_rollout(
    q_network: nn.Module, env_id: str, seed: int = 0, max_steps: int = 500, frame_every: int = 1
) -> Rollout:
    """Play one episode with $a_t = \\arg\\max_a Q(s_t, a)$, rendering every ``frame_every``-th step (and the last).

    Rendering is the slow part (pygame draws CartPole): a GIF that keeps every
    second frame anyway need not render the others. Each frame is shrunk to the
    GIF's width and mapped to the palette of the first frame as soon as it is
    drawn: one byte per pixel, so 250 CartPole frames take 21 MB instead of the
    65 MB of RGB arrays (or 360 MB at full size).
    """
    env = make_env(env_id, render_mode="rgb_array")
    frames: list[Image.Image] = []
    actions: list[int] = []
    total, terminated = 0.0, False
    try:
        state, _ = env.reset(seed=seed)
        first = _shrink(_image(env.render()))
        palette = _palette(first)
        frames.append(first.quantize(palette=palette, dither=Image.Dither.NONE))
        for _ in range(max_steps):
            with torch.no_grad():
                q = q_network(torch.as_tensor(np.asarray(state, dtype=np.float32)).unsqueeze(0))
            action = int(q.argmax(dim=-1).item())
            state, reward, terminated, truncated, _ = env.step(action)
            actions.append(action)
            total += float(reward)
            if len(actions) % max(1, frame_every) == 0 or terminated or truncated:
                frames.append(_quantize(env.render(), palette))
            if terminated or truncated:
                break
    finally:
        env.close()
    return Rollout(frames=frames, actions=actions, total_reward=total, terminated=bool(terminated))


def gif_bytes(frames: list[Image.Image], fps: float = 20.0, max_frames: int = 250) -> bytes:
    """An animated GIF of ``frames`` (every k-th frame when there are more than ``max_frames``)."""
    if not frames:
        raise ValueError("no frames to draw")
    step = max(1, -(-len(frames) // max_frames))
    chosen = frames[::step]
    if chosen[-1] is not frames[-1]:
        chosen.append(frames[-1])
    buffer = io.BytesIO()
    duration = max(20, int(1000 * step / fps))
    chosen[0].save(buffer, format="GIF", save_all=True, append_images=chosen[1:], duration=duration, loop=0)
    return buffer.getvalue()


def _image(rendered: object) -> Image.Image:
    frame = np.asarray(rendered, dtype=np.uint8)
    if frame.ndim != 3 or frame.shape[2] not in (3, 4):
        raise ValueError(f"the renderer returned an array of shape {frame.shape}, not an RGB image")
    return Image.fromarray(np.ascontiguousarray(frame[..., :3]))


def _palette(first: Image.Image) -> Image.Image:
    """64 colours from the first frame: both scenes show every colour they use from the start
    (Pillow's adaptive palette per frame cost about 3 s for a 500-step CartPole episode)."""
    return first.quantize(colors=64, method=Image.Quantize.MEDIANCUT)


def _quantize(rendered: object, palette: Image.Image) -> Image.Image:
    return _shrink(_image(rendered)).quantize(palette=palette, dither=Image.Dither.NONE)


def _shrink(image: Image.Image) -> Image.Image:
    if image.width <= MAX_GIF_WIDTH:
        return image
    height = max(1, round(image.height * MAX_GIF_WIDTH / image.width))
    return image.resize((MAX_GIF_WIDTH, height), Image.Resampling.BILINEAR)
