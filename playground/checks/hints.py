"""Hints on request: a short ladder per function of each exercise (no Streamlit here).

Each function of an exercise has up to three hints, revealed one at a time
and always in this order: **the idea** (what the function is for, in words),
**the approach** (the steps, the tools to use), and **near code** (the line or
two that do it, or the trap to avoid). The stubs in ``exercises/`` say *what*
to implement and its contract; how to implement it lives here.

Which function a hint is about: the function of the first failing check (each
check declares the function it tests, and :mod:`playground.checks.aim` blames
the function that holds the bug; a check that was not run counts for nothing),
else the first function named in a failing message, else the first function of
the exercise whose ladder has hints left. How many hints a learner has seen is a plain mapping
``{exercise: {function: count}}``: the app keeps it in session state, the
command line (``python -m playground.check EXERCISE --hint``) in a small JSON
file in the user's cache directory (:func:`state_path`), never in the project.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

LEVELS: tuple[str, ...] = ("The idea", "The approach", "Near code")
STATE_ENV = "PLAYGROUND_HINT_STATE"  # overrides where the command line keeps its hint positions

Revealed = Mapping[str, Mapping[str, int]]  # exercise -> function -> hints seen

HINTS: dict[str, dict[str, tuple[str, ...]]] = {
    "q_network": {
        "CustomQNetwork.__init__": (
            "The network is a stack of layers: each hidden width becomes one fully connected layer followed by a "
            "nonlinearity, and one last layer maps to one number per action. Sizes that make no sense are refused "
            "before anything is built.",
            "Check that `state_dim`, `action_dim` and every width are at least 1 (else `raise ValueError`). Walk "
            "over the widths keeping the previous size: `nn.Linear(previous, width)` then `nn.ReLU()`, and the "
            "width becomes the new previous size. Finish with `nn.Linear(previous, action_dim)` and no activation. "
            "Keep the layers in an `nn.Sequential` assigned to `self`, so PyTorch registers their parameters.",
            "`sizes = [state_dim, *hidden_dims]`; `layers = []`; `for a, b in zip(sizes, sizes[1:]): "
            "layers += [nn.Linear(a, b), nn.ReLU()]`; `layers.append(nn.Linear(sizes[-1], action_dim))`; "
            "`self.net = nn.Sequential(*layers)`. Keep the sizes too: `self.state_dim`, `self.action_dim`, "
            "`self.hidden_dims = tuple(hidden_dims)` (exercise 4 saves them).",
        ),
        "CustomQNetwork.forward": (
            "A forward pass feeds the batch of states through the layers in order. Q-values are expected returns: "
            "they can be any real number, so nothing squashes the output.",
            "Call the container you built in `__init__` on `x` and return what comes out of the last `nn.Linear`. "
            "No ReLU, softmax or sigmoid after it.",
            "`return self.net(x)`",
        ),
    },
    "replay_buffer": {
        "ReplayBufferWithIndices.__init__": (
            "A ring buffer needs fixed storage of `capacity` slots, the slot the next push writes, and how many "
            "slots hold a transition so far.",
            "Refuse `capacity <= 0` with `ValueError`. Keep `self.capacity`, `self.position = 0`, `self.size = 0` "
            "and storage for the five fields: five NumPy arrays allocated on the first push (when the state shape "
            "is known), or a list of `capacity` slots.",
            "`self.memory: list[tuple | None] = [None] * capacity`, or on the first push "
            "`self.states = np.zeros((capacity, *np.shape(state)), dtype=np.float32)` and likewise for the others.",
        ),
        "ReplayBufferWithIndices.__len__": (
            "`len` is the number of transitions stored, not the capacity: it grows by one per push until the "
            "buffer is full.",
            "Return the counter that `push` keeps up to date.",
            "`return self.size`",
        ),
        "ReplayBufferWithIndices.push": (
            "Push number n (counting from 0) writes slot n % capacity. Once the buffer is full, the slot it writes "
            "holds the oldest transition, which is overwritten: a full buffer keeps the newest `capacity` "
            "transitions, it never stops accepting new ones.",
            "Write the five fields into slot `self.position` (whatever was there goes), then move the position "
            "one slot on, wrapping around at the end, and count one more stored transition unless the buffer is "
            "already full.",
            "`self.position = (self.position + 1) % self.capacity` and "
            "`self.size = min(self.size + 1, self.capacity)`.",
        ),
        "ReplayBufferWithIndices.sample_indices": (
            "A batch is `batch_size` different stored transitions, each equally likely, returned field by field "
            "with the slots they came from. Only the first `len(self)` slots hold data before the buffer is full.",
            "Refuse `batch_size > len(self)` with `ValueError`. Draw distinct slot numbers uniformly from "
            "`0 .. len(self) - 1` with NumPy's global generator (or one seeded from it), then index each field "
            "array with them.",
            "`indices = np.random.choice(len(self), batch_size, replace=False)`; return "
            "`self.states[indices], ..., self.dones[indices], indices.tolist()`.",
        ),
    },
    "train_dqn": {
        "seed_everything": (
            "Three random number generators drive a run: Python's, NumPy's and PyTorch's. Seed all three, or a "
            "rerun with the same seed differs.",
            "Call the `seed` function of each library's global generator with the same number.",
            "`random.seed(seed)`, `np.random.seed(seed)`, `torch.manual_seed(seed)`",
        ),
        "make_optimizer": (
            "The optimizer updates the online network's parameters from their gradients; DQN usually uses Adam.",
            "Build `torch.optim.Adam` over `params` with the learning rate as its step size.",
            "`return torch.optim.Adam(params, lr=learning_rate)`",
        ),
        "greedy_action": (
            "Acting greedily needs one forward pass on one state and the index of the largest Q-value; no "
            "gradient is needed for acting.",
            "Make a `(1, state_dim)` tensor from the NumPy state, run the network inside `torch.no_grad()`, and "
            "turn the `argmax` into a Python `int`.",
            "`with torch.no_grad(): q = q_network(torch.from_numpy(state).unsqueeze(0))`; `return int(q.argmax())`",
        ),
        "td_loss": (
            "The TD target is a fixed label built from the *target* network: reward now plus the discounted best "
            "value of the next state, and no future after a terminal transition. The prediction is the online "
            "network's Q-value of the action that was taken.",
            "Tensors first (float32 states, int64 actions shaped `(B, 1)`). Under `torch.no_grad()`: the max over "
            "actions of `target_network(next_states)`, times `gamma * (1 - dones)`, plus rewards. The prediction: "
            "pick each row's taken action from `q_network(states)` with `gather`. Then Huber or MSE.",
            "`target = r + gamma * (1 - d) * target_network(s_next).max(dim=1).values`; "
            "`predicted = q_network(s).gather(1, a).squeeze(1)`; "
            '`F.smooth_l1_loss(predicted, target)` if `loss == "huber"` else `F.mse_loss(predicted, target)`.',
        ),
        "update_target": (
            "The target network follows the online network slowly: all at once every so often (tau = 1), or a "
            "small step each time (Polyak averaging).",
            "For tau = 1 copy every weight. Otherwise, under `torch.no_grad()`, move each target parameter a "
            "fraction tau of the way towards the online one, in place.",
            "`target_network.load_state_dict(q_network.state_dict())`, or "
            "`for t, p in zip(target_network.parameters(), q_network.parameters()): t.lerp_(p, tau)`.",
        ),
        "evaluate": (
            "An evaluation plays with epsilon = 0 on its own environment, so it never disturbs the training "
            "environment's episode.",
            "`env = make_env(env_id)`; for each episode reset (with `seed` only the first time), step with "
            "`greedy_action` until `terminated or truncated`, and sum the rewards.",
            "`state, _ = env.reset(seed=seed if episode == 0 else None)`; inside the loop "
            "`state, reward, terminated, truncated, _ = env.step(greedy_action(q_network, state))`.",
        ),
        "gradient_phase": (
            "One update: a fresh minibatch, its TD loss, the gradient, a clip of the gradient's norm, an optimizer "
            "step. Repeat `updates` times and keep each loss value.",
            "In a loop: `buffer.sample_indices(config.batch_size)`, `td_loss(...)`, `optimizer.zero_grad()`, "
            "`loss.backward()`, `nn.utils.clip_grad_norm_(...)`, `optimizer.step()`; append `loss.item()` and "
            "stop after a value that is not finite.",
            "`nn.utils.clip_grad_norm_(q_network.parameters(), config.max_grad_norm)`; "
            "`if not math.isfinite(values[-1]): break`",
        ),
        "train_dqn": (
            "The loop acts (epsilon-greedy, one env step, one transition into the buffer) and learns (a gradient "
            "phase every `train_freq` steps after `learning_starts`, a target update every "
            "`target_update_interval` steps). An episode can end two ways in Gymnasium: `terminated` (a true end: "
            "no future) and `truncated` (a time limit cut it: the state still has a future).",
            "Set up (seed, env, two networks with the same weights, buffer, optimizer, result), reset, then loop "
            "over the env steps: epsilon from `linear_epsilon`, act, step, push, reset at an episode end and call "
            "the callback, then the schedule checks with n = t + 1. Think about which flag belongs in the "
            "transition: the TD target drops the future of a transition exactly when its flag is true.",
            "Push `buffer.push(state, action, reward, next_state, terminated)`: the `done` of a transition is "
            "`terminated` only. A time limit (`truncated`) is not the end of the future, so its target must keep "
            "`gamma * max Q(s', a')`; reset the env on `terminated or truncated`.",
        ),
        "plot_rewards": (
            "Show each episode's return faintly and a moving average on top of it, so the trend is visible "
            "through the noise.",
            "Make a `Figure()` and one axes; plot the returns against the episode number, then the running mean "
            "over the last `window` episodes (fewer at the start), and an `axhline` at `threshold` if given.",
            "`fig = Figure(); ax = fig.add_subplot()`; "
            "`smooth = [np.mean(r[max(0, i - window + 1): i + 1]) for i in range(len(r))]`",
        ),
    },
    "save_load": {
        "save_model": (
            "A file that can be loaded on its own must hold the architecture (the sizes) next to the weights.",
            "Build one dict with the sizes, the `state_dict()` and the format tag, and write it with `torch.save`.",
            '`torch.save({"format": FORMAT, "format_version": FORMAT_VERSION, "state_dim": q_network.state_dim, '
            '"action_dim": q_network.action_dim, "hidden_dims": list(q_network.hidden_dims), '
            '"state_dict": q_network.state_dict()}, path)`',
        ),
        "load_model": (
            "Loading reads the sizes, builds a network of that shape, and copies the weights into it. The file "
            "may come from anyone, so reading it must never run code, and every way it can be wrong becomes a "
            "`ValueError`.",
            "Read with torch's safe mode (tensors and plain containers only), inside `try`/`except` that turns "
            "any failure into `ValueError`. Check that it is a dict with the sizes and weights, build "
            "`CustomQNetwork(...)`, `load_state_dict` (a `RuntimeError` there means the sizes do not match), "
            "`.eval()`.",
            "`checkpoint = torch.load(path, weights_only=True)`; "
            '`network = CustomQNetwork(checkpoint["state_dim"], checkpoint["action_dim"], '
            'checkpoint["hidden_dims"])`; `network.load_state_dict(checkpoint["state_dict"])`.',
        ),
    },
    "network_sizes": {
        "run_network_size_experiment": (
            "Train the same configuration once per (size, seed), changing only the hidden widths and the seed, "
            "and stack every episode of every run into one long table.",
            "Two nested loops over `sizes.items()` and `seeds`; `config = base_config.replace(hidden_dims=dims, "
            "seed=seed)`; `train_dqn(config, callback=...)`; one row per episode from `episode_rewards` and "
            "`episode_end_steps`; stop starting runs once the callback said `False`.",
            '`pd.DataFrame({"size": name, "seed": seed, "episode": range(1, len(r) + 1), '
            '"timestep": result.episode_end_steps, "reward": r})` per run, then `pd.concat(frames, '
            "ignore_index=True)`.",
        ),
        "plot_learning_curves": (
            "Runs have episodes at different env steps, so put every run on one common grid of env steps before "
            "averaging over seeds; the band shows how much the seeds disagree.",
            "Per run: smooth the rewards with a rolling mean over `window` episodes, then read it on a shared grid "
            "of env steps. Per size: the mean over its runs as one line, and `fill_between` min and max (or mean "
            "plus and minus std) as one band.",
            '`grid = np.linspace(0, df["timestep"].max(), 200)`; '
            '`curve = np.interp(grid, run["timestep"], smoothed)`; '
            "`ax.plot(grid, curves.mean(0), label=name)`; `ax.fill_between(grid, curves.min(0), curves.max(0), "
            "alpha=0.2)`",
        ),
        "summarize_experiment": (
            "Optional: one row per size with the numbers behind the chart.",
            '`df.groupby("size")` and aggregate what you want to compare: runs, final returns, area under the curve.',
            '`df.groupby("size").agg(runs=("seed", "nunique"), final=("reward", "last"))`',
        ),
    },
}


class FailedCheck(Protocol):
    """What a hint needs of a check result."""

    @property
    def passed(self) -> bool: ...

    @property
    def message(self) -> str: ...


@dataclass(frozen=True)
class HintStep:
    """One hint: the ``level``-th (from 1) of ``total`` for ``function`` of ``exercise``."""

    exercise: str
    function: str
    level: int
    total: int
    text: str

    @property
    def label(self) -> str:
        return f"{self.function}: hint {self.level} of {self.total} ({LEVELS[self.level - 1].lower()})"


def ladder(exercise: str) -> dict[str, tuple[str, ...]]:
    """Function -> its hints, in the order they are revealed (``KeyError`` for an unknown exercise)."""
    return HINTS[exercise]


def _mentions(message: str, function: str) -> bool:
    short = function.rsplit(".", 1)[-1]
    pattern = rf"(?<![\w]){re.escape(function)}(?!\w)|(?<![\w]){re.escape(short)}(?!\w)"
    return re.search(pattern, message) is not None


def failing_functions(exercise: str, results: Iterable[FailedCheck]) -> list[str]:
    """The functions that hold the bugs, in the order of the checks.

    A result that knows its function (``function``, set by the check registry)
    counts for it unless it was not run; one that does not counts for the
    first function its message names.
    """
    found: list[str] = []
    functions = ladder(exercise)
    for result in results:
        if result.passed or getattr(result, "status", "") == "not_run":
            continue
        own = getattr(result, "function", "")
        if own in functions:
            if own not in found:
                found.append(own)
            continue
        for function in functions:
            if function not in found and _mentions(result.message, function):
                found.append(function)
                break  # the first function a message names is the one it is about
    return found


def next_hint(exercise: str, revealed: Revealed, focus: Iterable[str] = ()) -> HintStep | None:
    """The next unseen hint: for the first of ``focus`` with hints left, else the first function with hints left."""
    hints = ladder(exercise)
    seen = revealed.get(exercise, {})
    for function in [*focus, *hints]:
        if function not in hints:
            continue
        count = seen.get(function, 0)
        if count < len(hints[function]):
            return HintStep(exercise, function, count + 1, len(hints[function]), hints[function][count])
    return None


def shown_hints(exercise: str, revealed: Revealed) -> list[HintStep]:
    """Every hint of ``exercise`` seen so far, function by function."""
    shown: list[HintStep] = []
    seen = revealed.get(exercise, {})
    for function, hints in ladder(exercise).items():
        for level in range(1, min(seen.get(function, 0), len(hints)) + 1):
            shown.append(HintStep(exercise, function, level, len(hints), hints[level - 1]))
    return shown


def reveal(revealed: MutableMapping[str, dict[str, int]], step: HintStep) -> None:
    """Record that ``step`` was shown."""
    per_function = revealed.setdefault(step.exercise, {})
    per_function[step.function] = max(per_function.get(step.function, 0), step.level)


def state_path() -> Path:
    """Where the command line keeps hint positions: ``$PLAYGROUND_HINT_STATE``, else the user's cache directory."""
    override = os.environ.get(STATE_ENV)
    if override:
        return Path(override)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "dqn-playground" / "hints.json"


def load_state(path: Path | None = None) -> dict[str, dict[str, int]]:
    """The saved hint positions (empty when there is no readable file)."""
    try:
        data = json.loads((path or state_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        str(exercise): {str(f): int(n) for f, n in seen.items() if isinstance(n, int)}
        for exercise, seen in data.items()
        if isinstance(seen, dict)
    }


def save_state(state: Mapping[str, Mapping[str, int]], path: Path | None = None) -> None:
    """Write the hint positions (best effort: a read-only home only loses the position)."""
    target = path or state_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
    except OSError:
        pass
