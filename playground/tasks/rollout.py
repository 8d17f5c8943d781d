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
from numpy.typing import NDArray
from PIL import Image
from torch import nn

from playground.core.envs import make_env

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

MAX_GIF_WIDTH = 360


@dataclass(frozen=True)
class Rollout:
    """One greedy episode: its frames, actions and return."""

    frames: list[NDArray[np.uint8]]
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
    second frame anyway need not render the others.
    """
    env = make_env(env_id, render_mode="rgb_array")
    frames: list[NDArray[np.uint8]] = []
    actions: list[int] = []
    total, terminated = 0.0, False
    try:
        state, _ = env.reset(seed=seed)
        frames.append(_frame(env.render()))
        for _ in range(max_steps):
            with torch.no_grad():
                q = q_network(torch.as_tensor(np.asarray(state, dtype=np.float32)).unsqueeze(0))
            action = int(q.argmax(dim=-1).item())
            state, reward, terminated, truncated, _ = env.step(action)
            actions.append(action)
            total += float(reward)
            if len(actions) % max(1, frame_every) == 0 or terminated or truncated:
                frames.append(_frame(env.render()))
            if terminated or truncated:
                break
    finally:
        env.close()
    return Rollout(frames=frames, actions=actions, total_reward=total, terminated=bool(terminated))


def gif_bytes(frames: list[NDArray[np.uint8]], fps: float = 20.0, max_frames: int = 250) -> bytes:
    """An animated GIF of ``frames`` (every k-th frame when there are more than ``max_frames``)."""
    if not frames:
        raise ValueError("no frames to draw")
    step = max(1, -(-len(frames) // max_frames))
    chosen = frames[::step]
    if chosen[-1] is not frames[-1]:
        chosen.append(frames[-1])
    images = [_shrink(Image.fromarray(frame)) for frame in chosen]
    # One palette for all frames, from the first, middle and last frame: Pillow's per-frame adaptive
    # palette cost about 3 s for a 500-step CartPole episode, this about 0.5 s (the scenes have few colours).
    sample = np.vstack([np.asarray(images[i].convert("RGB")) for i in (0, len(images) // 2, -1)])
    palette = Image.fromarray(sample).quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    frames_p = [image.convert("RGB").quantize(palette=palette, dither=Image.Dither.NONE) for image in images]
    buffer = io.BytesIO()
    duration = max(20, int(1000 * step / fps))
    frames_p[0].save(buffer, format="GIF", save_all=True, append_images=frames_p[1:], duration=duration, loop=0)
    return buffer.getvalue()


def _frame(rendered: object) -> NDArray[np.uint8]:
    """A rendered frame, shrunk to the GIF's width at once: 500 full CartPole frames would take 360 MB."""
    frame = np.asarray(rendered, dtype=np.uint8)
    if frame.ndim != 3 or frame.shape[1] <= MAX_GIF_WIDTH:
        return frame
    return np.asarray(_shrink(Image.fromarray(frame)), dtype=np.uint8)


def _shrink(image: Image.Image) -> Image.Image:
    if image.width <= MAX_GIF_WIDTH:
        return image
    height = max(1, round(image.height * MAX_GIF_WIDTH / image.width))
    return image.resize((MAX_GIF_WIDTH, height), Image.Resampling.BILINEAR)
