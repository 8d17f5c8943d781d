"""Checks for exercise 2, ``ReplayBufferWithIndices``.

The checks push transitions that encode their insertion number ``n`` in every
field, so any returned row tells which transition it came from and whether
its fields belong together. They test the public contract only: ``len``, the
ring-buffer overwrite order, the layout of a batch, row alignment, slot
indices, sampling without replacement, uniformity (a seeded chi-square test
with a false-alarm rate far below one in a billion), and the two
``ValueError`` cases. Before every buffer is created, ``random``, ``np.random``
and ``torch`` are seeded, so a buffer that uses any of them is reproducible.
"""

from __future__ import annotations

import functools
import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal

import numpy as np
import torch
from numpy.typing import NDArray

from playground.checks import CheckFailed, check, require

EXERCISE = "replay_buffer"
FIELDS = ("states", "actions", "rewards", "next_states", "dones")
STATE_DIM = 4
Form = Literal["array", "list", "tuple"]
ORDER_HINT = "are the five arrays returned in the order (states, actions, rewards, next_states, dones)?"


# --------------------------------------------------------------------------- transitions that name themselves


def state_of(n: int) -> NDArray[np.float32]:
    return np.array([n, 1.0, -n, 0.5], dtype=np.float32)


def states_of(numbers: NDArray[np.int64]) -> NDArray[np.float32]:
    """:func:`state_of` of many insertion numbers at once, one row each."""
    n = numbers.astype(np.float32)
    return np.stack([n, np.ones_like(n), -n, np.full_like(n, 0.5)], axis=1)


def next_state_of(n: int) -> NDArray[np.float32]:
    return np.array([n + 0.5, 2.0, -n - 0.5, 0.25], dtype=np.float32)


def action_of(n: int) -> int:
    return n % 5


def reward_of(n: int) -> float:
    return n + 0.25


def done_of(n: int) -> bool:
    return n % 3 == 0


def _as_form(values: NDArray[np.float32], form: Form) -> Any:
    if form == "list":
        return [float(v) for v in values]
    if form == "tuple":
        return tuple(float(v) for v in values)
    return values.copy()


# --------------------------------------------------------------------------- calling the learner's buffer


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _describe(err: BaseException, mod: ModuleType) -> str:
    from playground.checks import describe_exception

    return describe_exception(err, mod.__name__.split(".")[0])


def make_buffer(mod: ModuleType, capacity: int, seed: int = 0) -> Any:
    seed_everything(seed)
    try:
        return mod.ReplayBufferWithIndices(capacity)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - learner code may raise anything
        raise CheckFailed(f"ReplayBufferWithIndices({capacity}) {_describe(err, mod)}") from None


def push(buffer: Any, n: int, mod: ModuleType, form: Form = "array") -> None:
    """Push transition ``n`` with states as an array, a list or a tuple."""
    try:
        buffer.push(
            _as_form(state_of(n), form), action_of(n), reward_of(n), _as_form(next_state_of(n), form), done_of(n)
        )
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001
        hint = ""
        if isinstance(err, IndexError):
            hint = ": does the write position wrap around, position = (position + 1) % capacity?"
        raise CheckFailed(
            f"push #{n} (state as a {form}, action {action_of(n)}, reward {reward_of(n)}, done {done_of(n)}) "
            f"{_describe(err, mod)}{hint}"
        ) from None


def push_many(buffer: Any, count: int, mod: ModuleType, start: int = 0) -> None:
    for n in range(start, start + count):
        push(buffer, n, mod)


def length(buffer: Any, mod: ModuleType) -> int:
    try:
        return len(buffer)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001
        raise CheckFailed(f"len(buffer) {_describe(err, mod)}: `__len__` must return an int") from None


@dataclass
class Batch:
    """A validated batch: float64 copies of the five fields (scalars flattened) and int indices."""

    states: NDArray[np.float64]
    actions: NDArray[np.float64]
    rewards: NDArray[np.float64]
    next_states: NDArray[np.float64]
    dones: NDArray[np.float64]
    indices: list[int]
    dtypes: dict[str, np.dtype[Any]]

    def ids(self) -> list[int]:
        """The insertion number of each row, read from its state (-1 when the state was never pushed)."""
        first = np.rint(self.states[:, 0])
        plausible = np.isfinite(first) & (first >= 0) & (first < 2**31)
        numbers = np.where(plausible, first, 0).astype(np.int64)
        pushed = plausible & np.all(self.states == states_of(numbers), axis=1)
        ids: list[int] = np.where(pushed, numbers, -1).tolist()
        return ids


def _scalar_field(name: str, value: NDArray[Any], batch_size: int) -> NDArray[np.float64]:
    if value.shape not in ((batch_size,), (batch_size, 1)):
        raise CheckFailed(
            f"{name} should have shape ({batch_size},) for a batch of {batch_size}, got {value.shape}"
            + (f": {ORDER_HINT}" if value.ndim == 2 and value.shape[1] == STATE_DIM else "")
        )
    return value.reshape(batch_size).astype(np.float64)


def sample(buffer: Any, batch_size: int, mod: ModuleType) -> Batch:
    """Call ``sample_indices`` and validate the layout; any problem becomes a readable failure."""
    try:
        result = buffer.sample_indices(batch_size)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001
        raise CheckFailed(
            f"sample_indices({batch_size}) with {length(buffer, mod)} transitions stored {_describe(err, mod)}"
        ) from None
    if not isinstance(result, tuple | list) or len(result) != 6:
        size = len(result) if isinstance(result, tuple | list) else type(result).__name__
        raise CheckFailed(
            f"sample_indices should return 6 items (states, actions, rewards, next_states, dones, indices), got {size}"
        )
    arrays: dict[str, NDArray[Any]] = {}
    for name, value in zip(FIELDS, result[:5], strict=True):
        if not isinstance(value, np.ndarray):
            hint = " (a torch tensor: the contract returns NumPy arrays)" if isinstance(value, torch.Tensor) else ""
            raise CheckFailed(
                f"{name} should be a NumPy array, got {type(value).__name__}{hint}: build it with np.asarray / np.stack"
            )
        if value.dtype.kind not in "biuf":
            raise CheckFailed(
                f"{name} has dtype {value.dtype}, expected a numeric dtype: the rows differ in shape or hold None "
                "(sampled an empty slot?), or were not converted with np.asarray(..., dtype=np.float32)"
            )
        if value.ndim == 0 or value.shape[0] != batch_size:
            raise CheckFailed(
                f"{name} should have the batch as its first axis, shape ({batch_size}, ...), got {value.shape}"
            )
        arrays[name] = value
    for name in ("states", "next_states"):
        if arrays[name].shape != (batch_size, STATE_DIM):
            raise CheckFailed(
                f"{name} should have shape ({batch_size}, {STATE_DIM}) for {STATE_DIM}-dimensional states, "
                f"got {arrays[name].shape}"
                + (f": {ORDER_HINT}" if arrays[name].ndim == 1 else ": stack the stored states into one array")
            )
    raw_indices = result[5]
    try:
        indices_list = list(raw_indices)
    except TypeError:
        raise CheckFailed(f"indices should be a list of ints, got {type(raw_indices).__name__}") from None
    if len(indices_list) != batch_size or not all(
        isinstance(i, int | np.integer) and not isinstance(i, bool | np.bool_) for i in indices_list
    ):
        raise CheckFailed(f"indices should be a list of {batch_size} ints (one slot per row), got {raw_indices!r:.200}")
    return Batch(
        states=arrays["states"].astype(np.float64),
        actions=_scalar_field("actions", arrays["actions"], batch_size),
        rewards=_scalar_field("rewards", arrays["rewards"], batch_size),
        next_states=arrays["next_states"].astype(np.float64),
        dones=_scalar_field("dones", arrays["dones"], batch_size),
        indices=[int(i) for i in indices_list],
        dtypes={name: value.dtype for name, value in arrays.items()},
    )


def _stored_range(pushed: int, capacity: int) -> range:
    return range(max(0, pushed - capacity), pushed)


def _span(ids: Sequence[int]) -> str:
    ordered = sorted(ids)
    if ordered and ordered == list(range(ordered[0], ordered[-1] + 1)) and len(ordered) > 3:
        return f"#{ordered[0]}..#{ordered[-1]}"
    return ", ".join(f"#{n}" for n in ordered)


# --------------------------------------------------------------------------- checks

INIT, PUSH = "ReplayBufferWithIndices.__init__", "ReplayBufferWithIndices.push"
LEN = "ReplayBufferWithIndices.__len__"


@check(
    EXERCISE,
    "length grows then caps at capacity",
    timeout=10,
    tests=LEN,
    enforces=("How many transitions are stored: it grows with each push up to ``capacity``, then stays there.",),
)
def length_grows_then_caps(mod: ModuleType) -> str:
    capacity = 5
    buffer = make_buffer(mod, capacity)
    fresh = length(buffer, mod)
    if fresh != 0:
        raise CheckFailed(
            f"a new buffer should have len 0, got {fresh}"
            + (": `__len__` returns the capacity, not the number of stored transitions" if fresh == capacity else ""),
            function=None if fresh == capacity else INIT,
        )
    for n in range(12):
        push(buffer, n, mod)
        expected, seen = min(n + 1, capacity), length(buffer, mod)
        if seen != expected:
            at_fault: str | None = PUSH
            if seen == 0:
                cause = "push does not count the transitions it stores"
            elif seen == capacity and n + 1 < capacity:
                cause, at_fault = "`__len__` returns the capacity, not the number of stored transitions", None
            elif seen > capacity:
                cause = "the size grows past the capacity: cap it, size = min(size + 1, capacity)"
            else:
                cause, at_fault = (
                    "len must count stored transitions: +1 per push until the buffer is full, then stay",
                    None,
                )
            raise CheckFailed(
                f"capacity {capacity}: after {n + 1} pushes len should be {expected}, got {seen}: {cause}",
                function=at_fault,
            )
    return f"len 0, 1, ..., {capacity}, then stays {capacity} for 12 pushes"


@check(
    EXERCISE,
    "batch arrays are batch-first and numeric",
    timeout=10,
    tests="ReplayBufferWithIndices.sample_indices",
    uses=(LEN,),  # it draws from the len(self) stored transitions
    enforces=(
        "Each of the five arrays has the batch as its first axis",
        "``state`` and ``next_state`` may arrive as NumPy arrays, lists or tuples.",
        "NDArray[np.float32], list[int]",
    ),
    hint=(
        "The signature gives each array's dtype: states, rewards, next_states and dones are float32, actions "
        "int64, each with the batch on axis 0. Convert what you stored on the way out (or on the way in): "
        "np.asarray(..., dtype=np.float32) turns a list of states or the booleans of terminated into "
        "float32, which the TD target's (1 - done) needs."
    ),
)
def batch_layout(mod: ModuleType) -> str:
    buffer = make_buffer(mod, 16)
    forms: list[Form] = ["array", "list", "tuple"]
    for n in range(12):
        push(buffer, n, mod, forms[n % 3])
    batch = sample(buffer, 6, mod)
    require(
        batch.states.shape == (6, STATE_DIM) and batch.next_states.shape == (6, STATE_DIM),
        f"states and next_states should be (6, {STATE_DIM}), got {batch.states.shape} and {batch.next_states.shape}",
    )
    bad_rows = [i for i, n in enumerate(batch.ids()) if n < 0]
    if bad_rows:
        raise CheckFailed(
            f"states row {bad_rows[0]} = {batch.states[bad_rows[0]].tolist()} is not one of the pushed states "
            "(pushed as NumPy arrays, lists and tuples): store np.asarray(state, dtype=np.float32), and keep the "
            "float values (not an integer array)"
        )
    dones = batch.dtypes["dones"]
    require(
        dones.kind == "f",
        f"dones has dtype {dones}, but the signature says a float array (NDArray[np.float32]): the TD target "
        "computes 1 - dones, so store or return dones as floats (np.float32)",
    )
    layout = ", ".join(f"{name} {dtype}" for name, dtype in batch.dtypes.items())
    return f"states pushed as arrays, lists and tuples all come back: {layout}"


def _field_mismatch(batch: Batch, row: int, n: int) -> str:
    """'' when every field of ``row`` belongs to transition ``n``, else what is wrong."""
    if not np.array_equal(batch.next_states[row], next_state_of(n)):
        seen = batch.next_states[row]
        if np.array_equal(seen, state_of(n)):
            return "next_states holds the state itself: push stores state where next_state belongs"
        other = round(float(seen[0]) - 0.5)
        if np.array_equal(seen, next_state_of(other)):
            return (
                f"its next_state belongs to transition #{other}: all five fields must be read with the same "
                "indices (one index array for the whole batch)"
            )
        return f"its next_state is {seen.tolist()}, expected {next_state_of(n).tolist()}"
    if batch.actions[row] != action_of(n):
        return f"its action is {batch.actions[row]:g}, expected {action_of(n)} (fields taken from different rows?)"
    if batch.rewards[row] != np.float32(reward_of(n)):
        seen_reward = float(batch.rewards[row])
        if seen_reward == math.floor(reward_of(n)):
            return f"its reward is {seen_reward:g}, expected {reward_of(n)}: rewards are stored in an integer array"
        return f"its reward is {seen_reward:g}, expected {reward_of(n)} (fields taken from different rows?)"
    if float(batch.dones[row]) != float(done_of(n)):
        return f"its done is {batch.dones[row]:g}, expected {float(done_of(n)):g} (fields taken from different rows?)"
    return ""


@check(
    EXERCISE,
    "every row is one stored transition",
    timeout=15,
    tests="ReplayBufferWithIndices.sample_indices",
    uses=(LEN,),  # it draws from the len(self) stored transitions
    enforces=("row ``i`` of every array comes from the transition in slot ``indices[i]``.",),
    hint=(
        "This check pushes numbered transitions and looks at each row of a batch: its state, action, reward, "
        "next state and done must all come from the same push. Draw the slot numbers once and index every "
        "field with those same numbers, so row i of each array is the transition in slot indices[i]."
    ),
)
def rows_are_aligned(mod: ModuleType) -> str:
    capacity, pushed, batch_size = 32, 40, 8
    buffer = make_buffer(mod, capacity)
    push_many(buffer, pushed, mod)
    stored = set(_stored_range(pushed, capacity))
    for _ in range(30):
        batch = sample(buffer, batch_size, mod)
        for row, n in enumerate(batch.ids()):
            if n < 0:
                raise CheckFailed(
                    f"states row {row} = {batch.states[row].tolist()} is not any pushed state: empty slot, or the "
                    "state was changed on the way in or out"
                )
            if n not in stored and n < min(capacity, pushed - capacity):
                raise CheckFailed(
                    f"capacity {capacity}, {pushed} pushes: row {row} is transition #{n}, which push #{n + capacity} "
                    f"should have overwritten (only {_span(sorted(stored))} are stored): once full, new transitions "
                    "are dropped instead of replacing the oldest",
                    function=PUSH,
                )
            require(
                n in stored,
                f"capacity {capacity}, {pushed} pushes: row {row} is transition #{n}, which should have been "
                f"overwritten (only {_span(sorted(stored))} are stored)",
            )
            problem = _field_mismatch(batch, row, n)
            if problem:
                raise CheckFailed(f"row {row} has the state of transition #{n}, but {problem}")
    return "240 rows from 30 batches: state, action, reward, next state and done always belong together"


@check(
    EXERCISE,
    "indices name the returned transitions",
    timeout=15,
    tests="ReplayBufferWithIndices.sample_indices",
    uses=(LEN,),  # it draws from the len(self) stored transitions
    enforces=(
        "row ``i`` of every array comes from the transition in slot ``indices[i]``.",
        "as long as slot ``n % capacity`` holds the ``n``-th transition pushed.",
    ),
    hint=(
        "The indices are storage slots: the slot number push wrote the transition to (push n writes slot n % "
        "capacity, which wraps around), not its age counted from the oldest transition. Return the slot "
        "numbers you indexed the fields with, so that row i of each array is the transition stored in slot "
        "indices[i]."
    ),
)
def indices_are_slots(mod: ModuleType) -> str:
    capacity = 10
    buffer = make_buffer(mod, capacity)
    pushed = 0
    for more, batch_size in ((7, 5), (9, 6)):  # first partly filled, then wrapped around
        push_many(buffer, more, mod, start=pushed)
        pushed += more
        for _ in range(10):
            batch = sample(buffer, batch_size, mod)
            ids = batch.ids()
            if -1 in ids:
                raise CheckFailed("a returned row is not a pushed transition (see the row check)")
            expected = [n % capacity for n in ids]
            if batch.indices != expected:
                if sorted(batch.indices) == sorted(expected):
                    cause = (
                        "the right slots, but not in the order of the rows: indices[i] must be the slot of row i "
                        "(do not sort or shuffle them separately)"
                    )
                elif batch.indices == list(range(batch_size)):
                    cause = "indices are positions within the batch; they must be the storage slots"
                elif pushed > capacity and batch.indices == [n - (pushed - capacity) for n in ids]:
                    cause = "indices count from the oldest transition; they must be storage slots (n % capacity)"
                else:
                    cause = "the indices must be the slots the returned rows were read from"
                raise CheckFailed(
                    f"capacity {capacity}, {pushed} pushes: the rows are transitions {ids} so the indices should be "
                    f"their slots {expected}, got {batch.indices}: {cause}"
                )
    return "indices[i] is the slot (n % capacity) of row i, before and after wrap-around"


@check(
    EXERCISE,
    "no duplicates within a batch",
    timeout=15,
    tests="ReplayBufferWithIndices.sample_indices",
    uses=(LEN,),  # it draws from the len(self) stored transitions
    enforces=("A uniform batch without replacement",),
    hint=(
        "A batch holds batch_size different transitions. Drawing slots one at a time (np.random.randint, "
        "random.choices, torch.randint) can draw the same slot twice: draw them all at once without "
        "replacement (np.random.choice with replace=False, random.sample, or the first batch_size of a random "
        "permutation)."
    ),
)
def without_replacement(mod: ModuleType) -> str:
    size = 20
    buffer = make_buffer(mod, size)
    push_many(buffer, size, mod)
    for batch_size, repeats in ((size, 5), (15, 100)):
        for _ in range(repeats):
            batch = sample(buffer, batch_size, mod)
            ids = batch.ids()
            twice = sorted(n for n, count in Counter(ids).items() if count > 1)
            slots_twice = sorted(i for i, count in Counter(batch.indices).items() if count > 1)
            if twice or slots_twice:
                what = f"transition(s) {_span(twice)}" if twice else f"slot(s) {slots_twice}"
                raise CheckFailed(
                    f"a batch of {batch_size} from {size} stored transitions contains {what} more than once: "
                    "sampling is with replacement (np.random.randint, random.choices or replace=True); draw distinct "
                    "slots with random.sample or np.random.choice(..., replace=False)"
                )
    return f"{5 + 100} batches (of {size} and 15 from {size}) never repeat a transition"


def chi_square_threshold(dof: int, z: float = 6.5) -> float:
    """Upper quantile of chi-square(dof) by the Wilson-Hilferty approximation; z = 6.5 is a tail of about 4e-11."""
    k = float(dof)
    return k * (1.0 - 2.0 / (9.0 * k) + z * math.sqrt(2.0 / (9.0 * k))) ** 3


def _uniformity_problem(counts: NDArray[np.int64], stored: Sequence[int], expected: float, situation: str) -> str:
    """'' when the counts (ordered oldest to newest) look uniform, else a description of the bias."""
    statistic = float(((counts - expected) ** 2 / expected).sum())
    threshold = chi_square_threshold(len(counts) - 1)
    never = [n for n, c in zip(stored, counts, strict=True) if c == 0]
    if statistic <= threshold and not never:
        return ""
    quarter = max(1, len(counts) // 4)
    oldest, newest = float(counts[:quarter].mean()), float(counts[-quarter:].mean())
    seen = (
        f"{situation}: each stored transition should be drawn about {expected:.0f} times; the oldest quarter was "
        f"drawn {oldest:.0f} times on average, the newest quarter {newest:.0f} (chi-square {statistic:.0f}, limit "
        f"{threshold:.0f})"
    )
    if never == [stored[-1]]:
        return (
            f"{seen}; the newest transition (#{never[0]}) was never drawn: an off-by-one in the sampling range "
            "(range(len(self) - 1), or randint with an exclusive upper end of len(self) - 1?)"
        )
    if never:
        if never == list(stored[-len(never) :]):
            which = f"the newest {len(never)}"
        elif never == list(stored[: len(never)]):
            which = f"the oldest {len(never)}"
        else:
            which = f"{len(never)}"
        return (
            f"{seen}; {which} transitions ({_span(never)}) were never drawn: sampling covers only part of the "
            "buffer. Draw from all len(self) stored slots (after wrap-around they are 0..capacity-1, not "
            "0..position-1)"
        )
    if newest > 1.5 * oldest:
        return f"{seen}: sampling favours recent transitions; every stored transition must be equally likely"
    if oldest > 1.5 * newest:
        return f"{seen}: sampling favours old transitions; every stored transition must be equally likely"
    return f"{seen}: some transitions are drawn far more often than others; sampling must be uniform"


@check(
    EXERCISE,
    "uniform sampling over stored transitions",
    timeout=20,
    tests="ReplayBufferWithIndices.sample_indices",
    uses=(LEN,),  # it draws from the len(self) stored transitions
    enforces=(
        "A uniform batch without replacement",
        "drawn uniformly *without replacement* from the stored transitions",
    ),
    hint=(
        "This check draws many batches and counts how often each stored transition appears: every slot that "
        "holds a transition (the first len(self) slots, all of them once the buffer is full) must be equally "
        "likely, however old it is. Draw from range(len(self)), not from the slots before the write position "
        "or from the whole capacity."
    ),
)
def uniform_sampling(mod: ModuleType) -> str:
    batch_size, batches = 8, 1500
    summary: list[str] = []
    for capacity, pushed, seed in ((64, 40, 11), (40, 100, 12)):
        buffer = make_buffer(mod, capacity, seed)
        push_many(buffer, pushed, mod)
        stored = list(_stored_range(pushed, capacity))
        position = {n: k for k, n in enumerate(stored)}
        counts = np.zeros(len(stored), dtype=np.int64)
        situation = (
            f"capacity {capacity} with {pushed} pushed"
            + (" (not full)" if pushed < capacity else f" (wrapped, write position {pushed % capacity})")
            + f", {batches} batches of {batch_size}"
        )
        for _ in range(batches):
            batch = sample(buffer, batch_size, mod)
            for n in batch.ids():
                if n not in position and 0 <= n < min(capacity, pushed - capacity):
                    raise CheckFailed(
                        f"{situation}: drew transition #{n}, which push #{n + capacity} should have overwritten: "
                        "once full, new transitions are dropped instead of replacing the oldest. A push into a "
                        "full buffer overwrites slot (insertion number % capacity), the oldest transition",
                        function=PUSH,
                    )
                if n not in position:
                    raise CheckFailed(
                        f"{situation}: drew a row that is not a stored transition (zeros or stale data): sampling "
                        "reaches empty slots. Draw from the len(self) stored transitions, not from the whole capacity"
                    )
                counts[position[n]] += 1
        problem = _uniformity_problem(counts, stored, batch_size * batches / len(stored), situation)
        if problem:
            raise CheckFailed(problem)
        state = "not full" if pushed < capacity else "wrapped"
        summary.append(f"{state}, {len(stored)} of {capacity} stored: counts {counts.min()}..{counts.max()}")
    return "uniform (chi-square, false-alarm rate < 1e-9): " + "; ".join(summary)


def _expect_value_error(action: str, call: Any, mod: ModuleType, hint: str) -> str:
    try:
        result = call()
    except ValueError:
        return ""
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001
        return f"{action} {_describe(err, mod)}, expected ValueError: {hint}"
    rows = ""
    if isinstance(result, tuple | list) and result and isinstance(result[0], np.ndarray) and result[0].ndim:
        rows = f" (it returned {result[0].shape[0]} rows)"
    return f"{action} returned without an error{rows}, expected ValueError: {hint}"


@check(
    EXERCISE,
    "batch larger than len raises ValueError",
    timeout=10,
    tests="ReplayBufferWithIndices.sample_indices",
    uses=(LEN,),  # it draws from the len(self) stored transitions
    enforces=("Raises ``ValueError`` when ``batch_size > len(self)``.",),
    hint=(
        "A batch without replacement cannot be larger than what is stored: compare batch_size with len(self) "
        "(the transitions pushed so far, not the capacity) before drawing, and raise ValueError when it is "
        "larger."
    ),
)
def too_large_batch(mod: ModuleType) -> str:
    hint = "check batch_size <= len(self) first and raise ValueError with a clear message"
    empty = make_buffer(mod, 10)
    problem = _expect_value_error("sample_indices(1) on an empty buffer", lambda: empty.sample_indices(1), mod, hint)
    require(not problem, problem)
    partial = make_buffer(mod, 10)
    push_many(partial, 4, mod)
    sample(partial, 4, mod)
    problem = _expect_value_error(
        "sample_indices(5) with 4 stored",
        lambda: partial.sample_indices(5),
        mod,
        hint + " (sampling with replacement?)",
    )
    require(not problem, problem)
    full = make_buffer(mod, 3)
    push_many(full, 6, mod)
    problem = _expect_value_error(
        "sample_indices(4) with capacity 3 after 6 pushes",
        lambda: full.sample_indices(4),
        mod,
        "compare with len(self), the number stored, not with the number of pushes",
    )
    require(not problem, problem)
    return "ValueError for 1 from empty, 5 from 4, and 4 from a full buffer of 3; 4 from 4 works"


@check(
    EXERCISE,
    "overwrites the oldest when full",
    timeout=10,
    tests="ReplayBufferWithIndices.push",
    uses=(LEN, "ReplayBufferWithIndices.sample_indices"),
    enforces=("Once the buffer is full, that slot holds the oldest transition, which the new one replaces.",),
)
def overwrites_oldest(mod: ModuleType) -> str:
    capacity, pushed = 5, 13
    buffer = make_buffer(mod, capacity)
    push_many(buffer, pushed, mod)
    require(length(buffer, mod) == capacity, f"after {pushed} pushes len should be {capacity}, got {len(buffer)}")
    batch = sample(buffer, capacity, mod)
    ids = batch.ids()
    expected = set(_stored_range(pushed, capacity))
    if set(ids) != expected:
        if set(ids) == set(range(capacity)):
            cause = "once full, new transitions are dropped instead of replacing the oldest"
        elif pushed - 1 in ids and not expected <= set(ids):
            cause = "new pushes keep landing in the same slot: advance position = (position + 1) % capacity"
        elif -1 in ids:
            cause = "some rows are not pushed transitions at all (empty or corrupted slots)"
        else:
            cause = "a push must overwrite slot (insertion number % capacity), which holds the oldest transition"
        seen = _span([n for n in ids if n >= 0])
        raise CheckFailed(
            f"capacity {capacity}, {pushed} pushes (#0..#{pushed - 1}): sampling all {capacity} should return the "
            f"newest {_span(sorted(expected))}, got {seen}: {cause}"
        )
    for n, index in zip(ids, batch.indices, strict=True):
        if index != n % capacity:
            age_order = sorted(expected)
            if all(i == age_order.index(m) for m, i in zip(ids, batch.indices, strict=True)):
                cause = (
                    "indices count from the oldest stored transition (a deque or a list that shifts?), "
                    "but an index must be the storage slot, n % capacity, which does not move"
                )
            else:
                cause = f"transition #n lives in slot n % {capacity}"
            raise CheckFailed(
                f"capacity {capacity}, {pushed} pushes: transition #{n} should be in slot {n % capacity}, "
                f"but came back with index {index}: {cause}"
            )
    return (
        f"after {pushed} pushes into {capacity} slots it holds {_span(sorted(expected))}, each in slot n % {capacity}"
    )


@check(
    EXERCISE,
    "capacity <= 0 raises ValueError",
    timeout=10,
    tests="ReplayBufferWithIndices.__init__",
    enforces=("``ValueError`` when ``capacity <= 0``.",),
)
def invalid_capacity(mod: ModuleType) -> str:
    make_buffer(mod, 3)  # a valid buffer first: an unfinished stub fails here as "not implemented"
    for capacity in (0, -5):
        problem = _expect_value_error(
            f"ReplayBufferWithIndices({capacity})",
            functools.partial(mod.ReplayBufferWithIndices, capacity),
            mod,
            "a buffer needs at least one slot: raise ValueError when capacity <= 0",
        )
        require(not problem, problem)
    return "ValueError for capacity 0 and -5"


@check(
    EXERCISE,
    "capacities 1 and 1000 work",
    timeout=10,
    tests="ReplayBufferWithIndices.__init__",
    uses=(LEN, "ReplayBufferWithIndices.push", "ReplayBufferWithIndices.sample_indices"),
    enforces=(
        "An empty buffer of ``capacity`` slots",
        "``ValueError`` when ``capacity <= 0``.",
    ),
)
def capacity_one_and_non_numbers(mod: ModuleType) -> str:
    try:
        single = mod.ReplayBufferWithIndices(1)
    except NotImplementedError:
        raise
    except Exception as err:  # noqa: BLE001 - learner code may raise anything
        raise CheckFailed(
            f"a capacity of 1 is a valid buffer size (one slot), but ReplayBufferWithIndices(1) {_describe(err, mod)}: "
            "refuse only capacities below 1"
        ) from None
    push_many(single, 3, mod)
    require(
        length(single, mod) == 1, f"a buffer of capacity 1 after 3 pushes should hold 1, len is {length(single, mod)}"
    )
    batch = sample(single, 1, mod)
    require(
        np.allclose(batch.states, state_of(2)[None]),
        f"a buffer of capacity 1 after pushes #0..#2 should hold push #2 {state_of(2).tolist()}, "
        f"sampled {batch.states.tolist()}",
    )
    large = make_buffer(mod, 1000)
    push_many(large, 3, mod)
    require(
        length(large, mod) == 3, f"a buffer of capacity 1000 after 3 pushes should hold 3, len is {length(large, mod)}"
    )
    return "capacity 1 keeps the newest transition, 1000 takes pushes"
