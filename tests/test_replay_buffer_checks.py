"""The exercise-2 checks: correct buffers written in several styles pass; each bug fails with a message naming it."""

from __future__ import annotations

import random
import types
from collections import deque
from typing import Any

import numpy as np
import pytest
import torch

import exercises.replay_buffer
import solutions.replay_buffer
from playground.checks import CheckFailed, checks_for, describe_exception
from playground.checks import replay_buffer as rc

CHECKS = checks_for("replay_buffer")
CHECK_BY_NAME = {spec.name: spec for spec in CHECKS}
Transition = tuple[Any, int, float, Any, bool]


def run_check(name: str, mod: types.ModuleType) -> tuple[bool, str]:
    try:
        return True, CHECK_BY_NAME[name].func(mod)
    except CheckFailed as failure:
        return False, str(failure)
    except Exception as err:  # noqa: BLE001 - mirrors the sandbox
        return False, describe_exception(err, "exercises")


def module_with(cls: type) -> types.ModuleType:
    mod = types.ModuleType("exercises.replay_buffer")
    mod.ReplayBufferWithIndices = cls  # type: ignore[attr-defined]
    return mod


# --------------------------------------------------------------------------- correct, differently written


class ListBuffer:
    """Correct: a list of tuples, ``random.sample`` (which raises ValueError itself), float64 arrays."""

    def __init__(self, capacity: int) -> None:
        if not isinstance(capacity, int) or capacity <= 0:
            raise ValueError("capacity must be a positive integer")
        self.capacity = capacity
        self.memory: list[Transition] = []
        self.position = 0

    def __len__(self) -> int:
        return len(self.memory)

    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        item = (np.array(state), action, reward, np.array(next_state), done)
        if len(self.memory) < self.capacity:
            self.memory.append(item)
        else:
            self.memory[self.position] = item
        self.position = (self.position + 1) % self.capacity

    def draw(self, batch_size: int) -> list[int]:
        return random.sample(range(len(self.memory)), batch_size)

    def sample_indices(self, batch_size: int) -> tuple[Any, ...]:
        indices = self.draw(batch_size)
        rows = [self.memory[i] for i in indices]
        states, actions, rewards, next_states, dones = zip(*rows, strict=True)
        return (
            np.array(states),
            np.array(actions),
            np.array(rewards),
            np.array(next_states),
            np.array(dones, dtype=np.float64),  # the signature's float dones (bool would be a bug)
            indices,
        )


class TorchRandpermBuffer(ListBuffer):
    """Correct: torch.randperm, column-shaped scalar fields, float32 dones, indices as an array."""

    def draw(self, batch_size: int) -> list[int]:
        if batch_size > len(self):
            raise ValueError("not enough transitions")
        return [int(i) for i in torch.randperm(len(self))[:batch_size]]

    def sample_indices(self, batch_size: int) -> tuple[Any, ...]:
        states, actions, rewards, next_states, dones, indices = super().sample_indices(batch_size)
        return (
            states.astype(np.float32),
            actions.reshape(-1, 1),
            rewards.reshape(-1, 1),
            next_states,
            dones.astype(np.float32),
            np.asarray(indices),
        )


class GlobalNumpyBuffer(ListBuffer):
    """Correct: np.random.choice on the global generator."""

    def draw(self, batch_size: int) -> list[int]:
        if batch_size > len(self):
            raise ValueError("not enough transitions")
        return [int(i) for i in np.random.choice(len(self), batch_size, replace=False)]


class PreallocatedBuffer:
    """Correct: arrays allocated on the first push, a shape test that raises, ``Generator.permutation``."""

    def __init__(self, capacity: int) -> None:
        if isinstance(capacity, bool) or not isinstance(capacity, int | np.integer) or capacity < 1:
            raise ValueError("capacity must be a positive integer")
        self.capacity = int(capacity)
        self.count = 0
        self.rng = np.random.default_rng(int(np.random.randint(1_000_000)))
        self.states: np.ndarray[Any, Any] | None = None
        self.next_states: np.ndarray[Any, Any] | None = None
        self.actions = np.zeros(self.capacity, dtype=np.int64)
        self.rewards = np.zeros(self.capacity)
        self.dones = np.zeros(self.capacity, dtype=np.float32)

    def __len__(self) -> int:
        return min(self.count, self.capacity)

    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        state = np.asarray(state, dtype=np.float64)
        if self.states is None:
            self.states = np.zeros((self.capacity, *state.shape))
            self.next_states = np.zeros_like(self.states)
        if state.shape != self.states.shape[1:]:
            raise ValueError(f"state shape {state.shape}, expected {self.states.shape[1:]}")
        assert self.next_states is not None
        slot = self.count % self.capacity
        self.states[slot], self.next_states[slot] = state, next_state
        self.actions[slot], self.rewards[slot], self.dones[slot] = action, reward, done
        self.count += 1

    def sample_indices(self, batch_size: int) -> tuple[Any, ...]:
        if batch_size > len(self):
            raise ValueError("not enough transitions")
        assert self.states is not None
        assert self.next_states is not None
        idx = self.rng.permutation(len(self))[:batch_size]
        return self.states[idx], self.actions[idx], self.rewards[idx], self.next_states[idx], self.dones[idx], list(idx)


class TorchStorageBuffer:
    """Correct: preallocated torch tensors, ``torch.randperm``, NumPy arrays out through ``Tensor.numpy()``."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.position = 0
        self.size = 0
        self.states = torch.empty(0)  # allocated by the first push, once the state's shape is known
        self.next_states = torch.empty(0)
        self.actions = torch.zeros(capacity, dtype=torch.int64)
        self.rewards = torch.zeros(capacity)
        self.dones = torch.zeros(capacity)

    def __len__(self) -> int:
        return self.size

    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        state_t = torch.as_tensor(np.asarray(state, dtype=np.float32))
        if self.states.dim() == 1:
            self.states = torch.zeros((self.capacity, *state_t.shape))
            self.next_states = torch.zeros_like(self.states)
        slot = self.position
        self.states[slot] = state_t
        self.next_states[slot] = torch.as_tensor(np.asarray(next_state, dtype=np.float32))
        self.actions[slot], self.rewards[slot], self.dones[slot] = action, reward, float(done)
        self.position = (slot + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample_indices(self, batch_size: int) -> tuple[Any, ...]:
        if batch_size > self.size:
            raise ValueError(f"cannot draw {batch_size} from {self.size}")
        idx = torch.randperm(self.size)[:batch_size]
        fields = (self.states, self.actions, self.rewards, self.next_states, self.dones)
        return (*(field[idx].numpy() for field in fields), idx.tolist())


class DequeSlotsBuffer:
    """Correct: ``deque(maxlen=capacity)``; position p of the deque is push ``pushes - len + p``, so its slot."""

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.pushes = 0
        self.queue: deque[Transition] = deque(maxlen=capacity)

    def __len__(self) -> int:
        return len(self.queue)

    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        self.queue.append((np.asarray(state, dtype=np.float32), action, reward, np.asarray(next_state), done))
        self.pushes += 1

    def sample_indices(self, batch_size: int) -> tuple[Any, ...]:
        positions = random.sample(range(len(self.queue)), batch_size)  # ValueError when batch_size > len
        rows = [self.queue[p] for p in positions]
        oldest = self.pushes - len(self.queue)  # the insertion number of the deque's left end
        return (
            np.stack([row[0] for row in rows]),
            np.array([row[1] for row in rows], dtype=np.int64),
            np.array([row[2] for row in rows], dtype=np.float32),
            np.stack([row[3] for row in rows]).astype(np.float32),
            np.array([row[4] for row in rows], dtype=np.float32),
            [(oldest + p) % self.capacity for p in positions],
        )


CORRECT = [
    solutions.replay_buffer.ReplayBufferWithIndices,
    ListBuffer,
    TorchRandpermBuffer,
    GlobalNumpyBuffer,
    PreallocatedBuffer,
    TorchStorageBuffer,
    DequeSlotsBuffer,
]


# --------------------------------------------------------------------------- correct by the contract
# Behaviour no stub sentence states is not checked (each check's ``enforces=(...)`` names its sentences).


class NoTypeCheck(ListBuffer):
    """Correct by the contract: ValueError only for ``capacity <= 0`` (all the stub asks), so 2.5 is taken."""

    def __init__(self, capacity: int) -> None:
        if isinstance(capacity, int | float) and capacity <= 0:
            raise ValueError("capacity must be positive")
        self.capacity = capacity
        self.memory = []
        self.position = 0


class BroadcastsStates(PreallocatedBuffer):
    """Correct by the contract: no shape test, so a state of another shape would broadcast into the storage.

    The stub says nothing of states whose shape changes between pushes, so this is not checked (SB3's
    preallocated buffer does the same).
    """

    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        state = np.asarray(state, dtype=np.float64)
        if self.states is None:
            self.states = np.zeros((self.capacity, *state.shape))
            self.next_states = np.zeros_like(self.states)
        assert self.next_states is not None
        slot = self.count % self.capacity
        self.states[slot], self.next_states[slot] = state, next_state
        self.actions[slot], self.rewards[slot], self.dones[slot] = action, reward, done
        self.count += 1


CORRECT_BY_THE_CONTRACT: list[type] = [NoTypeCheck, BroadcastsStates]


@pytest.mark.parametrize("cls", CORRECT, ids=lambda cls: cls.__name__)
def test_correct_buffers_pass_every_check(cls: type) -> None:
    mod = module_with(cls)
    for spec in CHECKS:
        passed, message = run_check(spec.name, mod)
        assert passed, f"{spec.name}: {message}"


def test_reference_module_passes_and_stub_is_not_implemented() -> None:
    for spec in CHECKS:
        assert run_check(spec.name, solutions.replay_buffer)[0]
        passed, message = run_check(spec.name, exercises.replay_buffer)
        assert not passed
        assert message.startswith("not implemented yet"), message


def test_checks_are_reproducible() -> None:
    mod = module_with(GlobalNumpyBuffer)
    assert run_check("uniform sampling over stored transitions", mod) == run_check(
        "uniform sampling over stored transitions", mod
    )


def test_chi_square_threshold_is_far_in_the_tail() -> None:
    # chi-square(39) has mean 39 and sd about 8.8: the limit sits more than 10 sd above the mean
    assert 120 < rc.chi_square_threshold(39) < 135
    assert rc.chi_square_threshold(100) > 100 + 6 * (200**0.5)


# --------------------------------------------------------------------------- buggy buffers


class UncappedLength(ListBuffer):
    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.pushes = 0

    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        super().push(state, action, reward, next_state, done)
        self.pushes += 1

    def __len__(self) -> int:
        return self.pushes


class CapacityLength(ListBuffer):
    def __len__(self) -> int:
        return self.capacity


class DropsWhenFull(ListBuffer):
    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        if len(self.memory) < self.capacity:
            super().push(state, action, reward, next_state, done)


class StuckPosition(ListBuffer):
    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        item = (np.array(state), action, reward, np.array(next_state), done)
        if len(self.memory) < self.capacity:
            self.memory.append(item)
        else:
            self.memory[-1] = item


class DequeBuffer(ListBuffer):
    """Bug: returns positions in the deque (ages, which shift with each push) as indices, not the slots."""

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.queue: deque[Transition] = deque(maxlen=capacity)

    def __len__(self) -> int:
        return len(self.queue)

    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        self.queue.append((np.array(state), action, reward, np.array(next_state), done))
        self.memory = list(self.queue)


class TorchTensors(ListBuffer):
    def sample_indices(self, batch_size: int) -> tuple[Any, ...]:
        *arrays, indices = super().sample_indices(batch_size)
        return (*[torch.as_tensor(a) for a in arrays], indices)


class ObjectDones(ListBuffer):
    def sample_indices(self, batch_size: int) -> tuple[Any, ...]:
        result = list(super().sample_indices(batch_size))
        result[4] = np.array([*result[4], None], dtype=object)[:-1]
        return tuple(result)


class SwappedOrder(ListBuffer):
    def sample_indices(self, batch_size: int) -> tuple[Any, ...]:
        states, actions, rewards, next_states, dones, indices = super().sample_indices(batch_size)
        return states, actions, next_states, rewards, dones, indices


class IntegerStates(solutions.replay_buffer.ReplayBufferWithIndices):
    def sample_indices(self, batch_size: int) -> Any:
        states, *rest = super().sample_indices(batch_size)
        return (states.astype(np.int64), *rest)


class IndependentFields(ListBuffer):
    def sample_indices(self, batch_size: int) -> tuple[Any, ...]:
        columns = [super(IndependentFields, self).sample_indices(batch_size) for _ in range(2)]
        first, second = columns
        return first[0], first[1], second[2], first[3], first[4], first[5]


class NextStateIsState(ListBuffer):
    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        super().push(state, action, reward, state, done)


class IntegerRewards(solutions.replay_buffer.ReplayBufferWithIndices):
    def __init__(self, capacity: int) -> None:
        super().__init__(capacity)
        self.rewards = np.zeros(capacity, dtype=np.int64)


class SortedIndices(ListBuffer):
    def sample_indices(self, batch_size: int) -> tuple[Any, ...]:
        *arrays, indices = super().sample_indices(batch_size)
        return (*arrays, sorted(indices))


class BatchPositions(ListBuffer):
    def sample_indices(self, batch_size: int) -> tuple[Any, ...]:
        *arrays, _ = super().sample_indices(batch_size)
        return (*arrays, list(range(batch_size)))


class WithReplacement(ListBuffer):
    def draw(self, batch_size: int) -> list[int]:
        return [random.randrange(len(self.memory)) for _ in range(batch_size)]


class BeforePosition(solutions.replay_buffer.ReplayBufferWithIndices):
    """Draws from slots 0..position-1 once wrapped: the oldest transitions are never drawn."""

    def sample_indices(self, batch_size: int) -> Any:
        limit = self.position if self.size == self.capacity and self.position >= batch_size else self.size
        idx = self.rng.choice(limit, size=batch_size, replace=False)
        return (
            *(a[idx] for a in (self.states, self.actions, self.rewards, self.next_states, self.dones)),
            idx.tolist(),
        )


class WholeCapacity(solutions.replay_buffer.ReplayBufferWithIndices):
    def sample_indices(self, batch_size: int) -> Any:
        if batch_size > self.size:
            raise ValueError("too many")
        idx = self.rng.choice(self.capacity, size=batch_size, replace=False)
        return (
            *(a[idx] for a in (self.states, self.actions, self.rewards, self.next_states, self.dones)),
            idx.tolist(),
        )


class SkipsNewest(ListBuffer):
    def draw(self, batch_size: int) -> list[int]:
        return random.sample(range(len(self.memory) - 1), batch_size)


class FavoursRecent(ListBuffer):
    def draw(self, batch_size: int) -> list[int]:
        n = len(self.memory)
        age = (np.arange(n) - self.position) % n  # 0 = oldest
        weights = (age + 1.0) / (age + 1.0).sum()
        return [int(i) for i in np.random.choice(n, batch_size, replace=False, p=weights)]


class TruncatesBatch(ListBuffer):
    def draw(self, batch_size: int) -> list[int]:
        return random.sample(range(len(self.memory)), min(batch_size, len(self.memory)))


class ComparesPushes(UncappedLength):
    def __len__(self) -> int:
        return len(self.memory)

    def draw(self, batch_size: int) -> list[int]:
        if batch_size > self.pushes:
            raise ValueError("too many")
        return [random.randrange(len(self.memory)) for _ in range(batch_size)]


class NoCapacityCheck(ListBuffer):
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.memory = []
        self.position = 0


class RefusesCapacityOne(ListBuffer):
    def __init__(self, capacity: int) -> None:
        if capacity < 2:
            raise ValueError("capacity must be positive")
        super().__init__(capacity)


class BoolDones(ListBuffer):
    """Bug: dones come back as a bool array, where the signature says float32."""

    def sample_indices(self, batch_size: int) -> tuple[Any, ...]:
        result = list(super().sample_indices(batch_size))
        result[4] = np.asarray(result[4]).astype(bool)
        return tuple(result)


class RefusesLargeCapacity(ListBuffer):
    """Bug: an identity test (`is not`) on ints goes wrong above 256: a second push into a large buffer fails."""

    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        if self.capacity > 256 and self.memory:
            raise ValueError("state shape differs from the stored one")
        super().push(state, action, reward, next_state, done)


BUGS: list[tuple[str, str, type, tuple[str, ...]]] = [
    ("len counts pushes", "length grows then caps at capacity", UncappedLength, ("grows past the capacity",)),
    ("len is capacity", "length grows then caps at capacity", CapacityLength, ("returns the capacity",)),
    ("drops when full", "overwrites the oldest when full", DropsWhenFull, ("dropped",)),
    ("drops when full", "uniform sampling over stored transitions", DropsWhenFull, ("dropped",)),
    ("drops when full", "every row is one stored transition", DropsWhenFull, ("dropped",)),
    ("stuck position", "overwrites the oldest when full", StuckPosition, ("same slot",)),
    ("deque indices", "overwrites the oldest when full", DequeBuffer, ("deque", "storage slot")),
    ("torch tensors", "batch arrays are batch-first and numeric", TorchTensors, ("NumPy array", "torch tensor")),
    ("object dtype", "batch arrays are batch-first and numeric", ObjectDones, ("dones has dtype object",)),
    ("swapped order", "batch arrays are batch-first and numeric", SwappedOrder, ("order (states, actions, rewards",)),
    ("integer states", "batch arrays are batch-first and numeric", IntegerStates, ("not one of the pushed states",)),
    ("independent fields", "every row is one stored transition", IndependentFields, ("different rows",)),
    ("next state is state", "every row is one stored transition", NextStateIsState, ("next_states holds the state",)),
    ("integer rewards", "every row is one stored transition", IntegerRewards, ("integer array",)),
    ("sorted indices", "indices name the returned transitions", SortedIndices, ("not in the order of the rows",)),
    ("batch positions", "indices name the returned transitions", BatchPositions, ("positions within the batch",)),
    ("deque indices", "indices name the returned transitions", DequeBuffer, ("count from the oldest",)),
    ("with replacement", "no duplicates within a batch", WithReplacement, ("with replacement",)),
    ("range(position)", "uniform sampling over stored transitions", BeforePosition, ("the oldest 20", "never drawn")),
    ("whole capacity", "uniform sampling over stored transitions", WholeCapacity, ("empty slots",)),
    (
        "skips the newest",
        "uniform sampling over stored transitions",
        SkipsNewest,
        ("newest transition (#39)", "off-by-one"),
    ),
    ("favours recent", "uniform sampling over stored transitions", FavoursRecent, ("favours recent",)),
    ("no batch check", "batch larger than len raises ValueError", TruncatesBatch, ("expected ValueError", "4 rows")),
    ("compares pushes", "batch larger than len raises ValueError", ComparesPushes, ("number of pushes",)),
    ("no capacity check", "capacity <= 0 raises ValueError", NoCapacityCheck, ("capacity <= 0",)),
    (
        "capacity 1 refused",
        "capacities 1 and 1000 work",
        RefusesCapacityOne,
        ("a capacity of 1 is a valid buffer size", "raised ValueError"),
    ),
    (
        "second push into a large buffer fails",
        "capacities 1 and 1000 work",
        RefusesLargeCapacity,
        ("push #1", "raised ValueError"),
    ),
    ("bool dones", "batch arrays are batch-first and numeric", BoolDones, ("dones has dtype bool", "float")),
]


@pytest.mark.parametrize(("bug", "check_name", "cls", "phrases"), BUGS, ids=[f"{b[1]}: {b[0]}" for b in BUGS])
def test_bug_fails_the_check_with_a_message_naming_it(
    bug: str, check_name: str, cls: type, phrases: tuple[str, ...]
) -> None:
    passed, message = run_check(check_name, module_with(cls))
    assert not passed, f"{bug} passed {check_name}: {message}"
    for phrase in phrases:
        assert phrase in message, f"{bug}: {phrase!r} not in {message!r}"


@pytest.mark.parametrize("cls", CORRECT_BY_THE_CONTRACT, ids=lambda cls: cls.__name__)
def test_behaviour_no_sentence_states_is_not_checked(cls: type) -> None:
    mod = module_with(cls)
    for spec in CHECKS:
        passed, message = run_check(spec.name, mod)
        assert passed, f"{spec.name}: {message}"


def test_every_check_is_shown_failing_by_some_bug() -> None:
    assert {check_name for _, check_name, _, _ in BUGS} == set(CHECK_BY_NAME)


def test_checks_through_the_sandbox() -> None:
    from playground.sandbox.runner import run_checks

    results = run_checks("replay_buffer", "solutions")
    assert [r.check for r in results] == [spec.name for spec in CHECKS]
    assert all(r.passed for r in results), results
    stub = run_checks("replay_buffer", "exercises", names=["capacity <= 0 raises ValueError"])
    assert not stub[0].passed
    assert stub[0].message.startswith("not implemented yet")


class NoWrap(solutions.replay_buffer.ReplayBufferWithIndices):
    def push(self, state: Any, action: int, reward: float, next_state: Any, done: bool) -> None:
        super().push(state, action, reward, next_state, done)
        self.position = len(self)  # the bug: no modulo, so the next write after filling is out of range


def test_missing_wrap_around_gets_a_hint() -> None:
    passed, message = run_check("overwrites the oldest when full", module_with(NoWrap))
    assert not passed
    assert "IndexError" in message
    assert "(position + 1) % capacity" in message
