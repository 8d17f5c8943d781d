"""Red-team tests: a submission that tries to get out of the sandbox, for each class of escape, through
Python, through ``ctypes``, and through the 32-bit (``int 0x80``) and x32 entry points where they apply.

Each attempt must end as a failed check with a clear message (or a refused call, which the learner
code reports), while the test process (the "server") keeps serving, another session's job started at
the same time finishes, and no file of the app changes (the fixtures of ``test_sandbox_hostile``).
A test skips, naming the missing layer, on a kernel without it; on this project's machines it runs.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sandbox_selftest
from test_sandbox_hostile import (  # noqa: F401 - fixtures
    NAMES,
    ROOT,
    SECRET_VALUE,
    _run_other_session,
    learner,
    secret_in_server_env,
)

from playground.sandbox import forkserver, landlock, seccomp_filter
from playground.sandbox.runner import TaskOutcome, job_owner, run_checks, start_task

X86_64 = sys.platform.startswith("linux") and os.uname().machine == "x86_64"
HAS_SECCOMP = X86_64 and seccomp_filter.available()
LANDLOCK_ABI = landlock.abi_version()
needs_seccomp = pytest.mark.skipif(not HAS_SECCOMP, reason="no seccomp with libseccomp here (Linux x86-64 only)")
needs_landlock = pytest.mark.skipif(LANDLOCK_ABI < 1, reason="the kernel has no Landlock")
needs_landlock_net = pytest.mark.skipif(LANDLOCK_ABI < 4, reason="Landlock without network rules (ABI < 4)")

# Learner-side helpers, pasted in front of a submission: a system call through the i386 gate
# (``int 0x80``, 32-bit registers and numbers), and a buffer below 4 GB for its pointer arguments.
INT80 = r"""
import ctypes, mmap, struct

def low_buffer(data):
    page = mmap.mmap(-1, 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | 0x40)  # MAP_32BIT
    page.write(data)
    return page, ctypes.addressof(ctypes.c_char.from_buffer(page))

def int80(nr, a=0, b=0, c=0):
    imm = lambda value: struct.pack("<I", value & 0xFFFFFFFF)
    # push rbx; mov eax, nr; mov ebx, a; mov ecx, b; mov edx, c; int 0x80; pop rbx; ret
    code = b"\x53\xb8" + imm(nr) + b"\xbb" + imm(a) + b"\xb9" + imm(b) + b"\xba" + imm(c) + b"\xcd\x80\x5b\xc3"
    page = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    page.write(code)
    return ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(page)))()
"""
LIBC = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def c_open(path, flags=os.O_RDONLY):
    fd = libc.open(str(path).encode(), flags, 0o644)
    return fd if fd >= 0 else -ctypes.get_errno()

def report_open(path):
    raise RuntimeError(f"open: {c_open(path)}")
"""
SIGSYS = "through another ABI (a 32-bit or x32 call), which the sandbox does not allow (SIGSYS)"


def ia32_works() -> bool:
    """Whether this kernel runs ``int 0x80`` calls at all (IA-32 emulation), outside any sandbox."""
    if not X86_64:
        return False
    probe = INT80 + "\nimport os\nprint(int80(20) == os.getpid())\n"  # i386 getpid
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=30, check=False)
    return done.stdout.strip() == "True"


needs_ia32 = pytest.mark.skipif(
    not (HAS_SECCOMP and ia32_works()), reason="the kernel has no IA-32 emulation (int 0x80), or no seccomp"
)
# The x86-64 numbers of calls that reach around the kernel's walls: each must fail with EPERM (1).
AROUND_THE_WALLS = {
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "unshare": 272,
    "setns": 308,
    "mount": 165,
    "bpf": 321,
    "perf_event_open": 298,
    "userfaultfd": 323,
    "keyctl": 250,
    "add_key": 248,
    "request_key": 249,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "personality": 135,
    "ptrace": 101,
    "pidfd_open": 434,
    "pidfd_getfd": 438,
    "kcmp": 312,
    "memfd_create": 319,
    "fanotify_init": 300,
    "open_by_handle_at": 304,
    "sched_setaffinity": 203,
    "setsid": 112,
    "vfork": 58,
    "execve": 59,
    "chroot": 161,
    "pivot_root": 155,
}


def _cases() -> dict[str, tuple[str, str, list[pytest.MarkDecorator]]]:
    """name -> (the learner's ``first``, what its failed check says, the layers it needs)."""
    server = os.getpid()
    home = str(Path.home())
    return {
        # --- processes ---
        "32-bit fork": (INT80 + "\ndef first():\n    return int80(2)\n", SIGSYS, [needs_ia32]),
        "a thread with its own file table through libc": (
            LIBC + "\ndef first():\n"
            "    # CLONE_VM, CLONE_SIGHAND, CLONE_THREAD, not CLONE_FILES: its files not in /proc/<pid>/fd\n"
            "    tid = libc.syscall(56, 0x100 | 0x800 | 0x10000, 0, 0, 0, 0)\n"
            "    raise RuntimeError(f'clone returned {tid} errno {ctypes.get_errno()}')\n",
            "clone returned -1 errno 1",
            [needs_seccomp],
        ),
        "x32 fork": (
            LIBC + "\ndef first():\n    return libc.syscall(ctypes.c_long(0x40000000 | 57))\n",
            SIGSYS,
            [needs_seccomp],
        ),
        "clone a process through libc": (
            LIBC + "\ndef first():\n"
            "    pid = libc.syscall(56, 17, 0, 0, 0, 0)  # clone(SIGCHLD): a new process\n"
            "    if pid == 0:\n        os._exit(0)\n"
            "    raise RuntimeError(f'clone returned {pid} errno {ctypes.get_errno()}')\n",
            "clone returned -1 errno 1",
            [needs_seccomp],
        ),
        "calls that reach around the walls": (
            LIBC + f"\nCALLS = {AROUND_THE_WALLS!r}\n"
            "def first():\n"
            "    errnos = {}\n"
            "    for name, number in CALLS.items():\n"
            "        result = libc.syscall(number, 8, 0, 0, 0, 0)\n"
            "        errnos[name] = ctypes.get_errno() if result == -1 else f'returned {result}'\n"
            "    raise RuntimeError(f'not refused: {[n for n, e in errnos.items() if e != 1]}')\n",
            "not refused: []",
            [needs_seccomp],
        ),
        "chmod and chown the app's files through libc": (
            LIBC + f"\nAPP_FILE = {str(ROOT / 'README.md')!r}\n"
            "def first():\n"
            "    fd = c_open(APP_FILE)\n"
            "    results = [libc.chmod(APP_FILE.encode(), 0), libc.fchmod(fd, 0), libc.chown(APP_FILE.encode(), 0, 0),"
            " libc.utimes(APP_FILE.encode(), None), libc.setxattr(APP_FILE.encode(), b'user.x', b'1', 1, 0)]\n"
            "    raise RuntimeError(f'results: {results} errno {ctypes.get_errno()}')\n",
            "results: [-1, -1, -1, -1, -1] errno 1",
            [needs_seccomp],
        ),
        # --- network ---
        "32-bit socket": (INT80 + "\ndef first():\n    return int80(359, 2, 1, 0)\n", SIGSYS, [needs_ia32]),
        "32-bit socketcall": (
            INT80 + "\ndef first():\n"
            "    page, args = low_buffer(struct.pack('<III', 2, 1, 0))\n"
            "    return int80(102, 1, args)\n",
            SIGSYS,
            [needs_ia32],
        ),
        "socketpair through libc": (
            LIBC + "\ndef first():\n"
            "    pair = (ctypes.c_int * 2)()\n"
            "    raise RuntimeError(f'socketpair returned {libc.socketpair(1, 1, 0, pair)}')\n",
            "socketpair returned -1",
            [needs_seccomp],
        ),
        # --- reads: secrets, the app's history, the home directory, the system, other processes ---
        "read .streamlit through libc": (
            LIBC + f"\ndef first():\n    report_open({str(ROOT / '.streamlit' / 'config.toml')!r})\n",
            "open: -13",
            [needs_landlock],
        ),
        "read .git through libc": (
            LIBC + f"\ndef first():\n    report_open({str(ROOT / '.git')!r})\n",
            "open: -13",
            [needs_landlock],
        ),
        "list the home directory": (
            f"import os\ndef first():\n    return os.listdir({home!r})\n",
            "PermissionError",
            [needs_landlock],
        ),
        "read /etc/passwd through libc": (
            LIBC + "\ndef first():\n    report_open('/etc/passwd')\n",
            "open: -13",
            [needs_landlock],
        ),
        "list /tmp": ("import os\ndef first():\n    return os.listdir('/tmp')\n", "PermissionError", [needs_landlock]),
        "read the ancestors' /proc through libc": (
            LIBC + f"\ndef first():\n"
            f"    paths = [f'/proc/{{pid}}/{{name}}' for pid in (os.getppid(), {server}, 1)"
            " for name in ('environ', 'maps', 'mem', 'cmdline')]\n"
            "    raise RuntimeError(f'opened: {[p for p in paths if c_open(p) >= 0]}')\n",
            "opened: []",
            [needs_landlock],
        ),
        "32-bit open of the secrets folder": (
            INT80 + f"\ndef first():\n"
            f"    page, path = low_buffer({str(ROOT / '.streamlit' / 'config.toml').encode()!r} + b'\\0')\n"
            "    return int80(5, path, 0, 0)\n",
            SIGSYS,
            [needs_ia32],
        ),
        # --- disk (the quota is 64 MB in these tests) ---
        "100 files of 4 MB through libc": (
            LIBC + "\ndef first():\n"
            "    block = b'x' * (4 << 20)\n"
            "    for i in range(100):\n"
            "        fd = c_open(f'file{i}.bin', os.O_WRONLY | os.O_CREAT)\n"
            "        libc.write(fd, block, len(block))\n"
            "        libc.close(fd)\n"
            "    time.sleep(5)\n"
            "import time\n",
            "your code wrote more than 64 MB of files (the disk limit for one job)",
            [],
        ),
        "removed files kept open": (
            LIBC + "\ndef first():\n"
            "    block = b'x' * (4 << 20)\n"
            "    kept = []\n"
            "    for i in range(40):\n"
            "        fd = c_open(f'hidden{i}.bin', os.O_WRONLY | os.O_CREAT)\n"
            "        libc.write(fd, block, len(block))\n"
            "        libc.unlink(f'hidden{i}.bin'.encode())\n"
            "        kept.append(fd)\n"
            "    time.sleep(5)\n"
            "import time\n",
            "your code wrote more than 64 MB of files (the disk limit for one job)",
            # The parent reads the job's open files in /proc/<pid>/fd: the job stays dumpable only behind Landlock.
            [needs_landlock],
        ),
        "write to /dev/shm and /var/tmp through libc": (
            LIBC + "\ndef first():\n"
            "    fds = [c_open(p, os.O_WRONLY | os.O_CREAT) for p in ('/dev/shm/pwned', '/var/tmp/pwned')]\n"
            "    raise RuntimeError(f'open: {fds}')\n",
            "open: [-13, -13]",
            [needs_landlock],
        ),
        "thousands of folders through libc": (
            LIBC + "\ndef first():\n"
            "    for i in range(5000):\n"
            "        libc.mkdir(f'd{i}'.encode(), 0o700)\n"
            "    time.sleep(5)\n"
            "import time\n",
            "your code created more than 1000 files and folders",
            [],
        ),
    }


CASES = _cases()


@pytest.mark.parametrize(
    "case", [pytest.param(name, marks=marks) for name, (_, _, marks) in CASES.items()], ids=list(CASES)
)
def test_escape_attempt_is_a_clean_failed_check(learner: Path, case: str, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    source, expected, _ = CASES[case]
    monkeypatch.setenv("PLAYGROUND_JOB_DISK_MB", "64")
    learner.write_text(source + "\n\ndef second():\n    return 'second ran'\n\ndef third():\n    return 'third ran'\n")
    other: list[TaskOutcome] = []
    thread = threading.Thread(target=_run_other_session, args=(other,))
    thread.start()
    with job_owner("hostile learner"):
        results = run_checks(sandbox_selftest.EXERCISE, "solutions", names=NAMES)
    thread.join(timeout=120)
    assert [r.check for r in results] == NAMES
    first = results[0]
    assert not first.passed, first.message
    assert expected in first.message, first.message
    assert SECRET_VALUE not in first.message
    assert [r.passed for r in results[1:]] == [True, True], [r.message for r in results[1:]]
    assert other, "the other session's job never ended"
    assert other[0].ok, other[0].error
    assert other[0].value == ["other 0", "other 1", "other 2"]
    # Only this process's scratch directories (playground-job-<pid>-*): other servers on the host have theirs.
    leftovers = list(Path(tempfile.gettempdir()).glob(f"playground-job-{os.getpid()}-*"))
    assert not [p for p in leftovers if (p / "file0.bin").exists() or (p / "d0").exists()], "scratch not removed"


@needs_landlock
def test_a_job_cannot_read_another_jobs_scratch_directory(learner: Path) -> None:  # noqa: F811
    """Another learner's job holds a submitted file; this job tries Python ``open``, ``ctypes``, a listing."""
    with job_owner("the other learner"):
        handle = start_task(f"{sandbox_selftest.__name__}:hold_a_file", timeout=60)
        progress = handle.progress()
        path = next(message for message in progress if message is not None)
    try:
        assert stat.S_IMODE(os.stat(Path(path).parent).st_mode) == 0o700, "scratch directories are private"
        learner.write_text(
            LIBC
            + textwrap.dedent(
                f"""
                def first():
                    return open({path!r}).read()

                def second():
                    raise RuntimeError(f"open: {{c_open({path!r})}}")

                def third():
                    return os.listdir({str(Path(path).parent)!r})
                """
            )
        )
        with job_owner("the copying learner"):
            results = run_checks(sandbox_selftest.EXERCISE, "solutions", names=NAMES)
        assert "PermissionError" in results[0].message, results[0].message
        assert "open: -13" in results[1].message, results[1].message
        assert "PermissionError" in results[2].message, results[2].message
        assert not any(r.passed for r in results)
    finally:
        handle.stop()
        for _ in progress:
            pass
    assert handle.outcome is not None
    assert handle.outcome.ok, handle.outcome.error


@needs_seccomp
def test_a_job_uses_one_core_whatever_threads_it_starts(learner: Path) -> None:  # noqa: F811
    """Four threads hashing (which releases the GIL) for 2 s: the job's CPU time stays within one core."""
    learner.write_text(
        textwrap.dedent(
            """
            import hashlib, os, threading, time

            def first():
                data = b"x" * (1 << 20)
                stop = time.monotonic() + 2.0

                def burn():
                    while time.monotonic() < stop:
                        hashlib.sha256(data).digest()

                threads = [threading.Thread(target=burn) for _ in range(4)]
                wall, cpu = time.monotonic(), time.process_time()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                return f"cores={(time.process_time() - cpu) / (time.monotonic() - wall):.2f}"

            def second():
                return f"cpus={sorted(os.sched_getaffinity(0))}"

            def third():
                try:
                    os.sched_setaffinity(0, range(os.cpu_count() or 1))
                except PermissionError:
                    return "refused"
                return f"moved to {sorted(os.sched_getaffinity(0))}"
            """
        )
    )
    results = run_checks(sandbox_selftest.EXERCISE, "solutions", names=NAMES)
    assert all(r.passed for r in results), [r.message for r in results]
    cores = float(results[0].message.removeprefix("cores="))
    assert cores <= 1.1, f"the job used {cores} cores"
    assert results[1].message.count(",") == 0, results[1].message  # one CPU
    assert results[2].message == "refused"


@needs_landlock_net
def test_landlock_alone_refuses_tcp_and_signals_out_of_the_job(tmp_path: Path) -> None:
    """The second wall behind seccomp: a process with only the job's Landlock rules cannot use TCP, nor
    (ABI 6) signal a process outside its domain."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    probe = textwrap.dedent(
        f"""
        import os, socket, sys
        from playground.sandbox import landlock
        status = landlock.restrict({str(tmp_path)!r})
        assert status.network, status
        results = []
        for action in ("connect", "bind"):
            sock = socket.socket()
            try:
                sock.connect(("127.0.0.1", {port})) if action == "connect" else sock.bind(("127.0.0.1", 0))
                results.append(action + " worked")
            except PermissionError:
                results.append(action + " refused")
        if status.scoped:  # ABI 6: no signal leaves the job's domain
            try:
                os.kill(os.getppid(), 0)
                results.append("signal sent")
            except PermissionError:
                results.append("signal refused")
        print(results)
        """
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
        )
    finally:
        listener.close()
    expected = ["connect refused", "bind refused"] + (["signal refused"] if LANDLOCK_ABI >= 6 else [])
    assert done.stdout.strip() == repr(expected), done.stdout + done.stderr


def test_the_processes_above_the_jobs_are_not_dumpable() -> None:
    """The fork server says so itself; the check command is still non-dumpable after its run."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_DUMPABLE exists only on Linux")
    server = forkserver.fork_server()
    server.ready.wait(120)
    assert server.zygote_dumpable is False
    code = (
        "from playground.sandbox import cli, hardening\n"
        "cli.main(['q_network', '--impl', 'solutions', '--json'])\n"
        "print('dumpable', hardening.is_dumpable())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "dumpable False" in done.stdout, done.stdout[-2000:] + done.stderr[-2000:]


def test_a_killed_job_leaves_no_scratch_directory_and_the_server_keeps_serving(learner: Path) -> None:  # noqa: F811
    """After a 32-bit call kills a job, its scratch directory is gone and the next job runs normally."""
    if not (HAS_SECCOMP and ia32_works()):
        pytest.skip("the kernel has no IA-32 emulation (int 0x80), or no seccomp")
    learner.write_text(
        INT80 + "\ndef first():\n    return os.getcwd()\n\ndef second():\n    return int80(2)\n"
        "\ndef third():\n    return 'third ran'\nimport os\n"
    )
    results = run_checks(sandbox_selftest.EXERCISE, "solutions", names=NAMES)
    assert [r.passed for r in results] == [True, False, True], [r.message for r in results]
    assert SIGSYS in results[1].message
    deadline = time.monotonic() + 5
    while Path(results[0].message).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(results[0].message).exists()


@pytest.mark.skipif(not HAS_SECCOMP or LANDLOCK_ABI < 6, reason="not every layer exists on this kernel")
@pytest.mark.parametrize("fork_server", ["1", "0"], ids=["forked child", "cold child"])
def test_the_self_test_probes_every_layer_and_reports_that_each_holds(fork_server: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "playground.sandbox", "--self-test"],
        env={**os.environ, "PLAYGROUND_FORKSERVER": fork_server},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    layers = ("seccomp (i386 calls): kill the job", "seccomp (x32 calls): kill the job", "Landlock reads", "disk quota")
    for layer in layers:
        assert f"holds    {layer}" in done.stdout, done.stdout
    assert "MISSING" not in done.stdout.split("\n", 1)[1], done.stdout
    assert "every layer holds here" in done.stdout


def test_strict_mode_refuses_to_run_learner_code_when_a_layer_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no CPU to pin to (as on a platform without ``sched_setaffinity``), strict mode runs nothing."""
    from playground.sandbox.admission import admission

    monkeypatch.setenv("PLAYGROUND_SANDBOX", "strict")
    monkeypatch.setattr(admission(), "cpus", [])
    refused = run_checks("q_network", "solutions")
    assert refused, "no result"
    assert not any(r.passed for r in refused)
    assert "PLAYGROUND_SANDBOX=strict and this server lacks part of the sandbox (" in refused[0].message
    assert "pinning to one CPU" in refused[0].message
    if HAS_SECCOMP and LANDLOCK_ABI >= 6:  # everything there: strict mode runs the checks as usual
        monkeypatch.undo()
        monkeypatch.setenv("PLAYGROUND_SANDBOX", "strict")
        assert all(r.passed for r in run_checks("q_network", "solutions"))


def test_a_cartpole_training_still_draws_its_animation_behind_every_wall() -> None:
    """Legitimate jobs import lazily after the walls are up: pygame renders CartPole, Pillow writes the GIF."""
    from playground.core.config import PRESETS
    from playground.sandbox.runner import run_task

    config = PRESETS["fast"].replace(total_timesteps=300, learning_starts=100)
    outcome = run_task(
        "playground.tasks.training_task:training_task",
        timeout=120,
        config=config.to_dict(),
        loop="solutions",
        network="solutions",
        buffer="solutions",
    )
    assert outcome.ok, outcome.error
    assert outcome.value.notes == [], outcome.value.notes
    assert outcome.value.gif.startswith(b"GIF8")


def test_admission_hands_each_running_job_the_least_held_cpu() -> None:
    from playground.sandbox.admission import Admission

    queue = Admission(3)
    queue.cpus = [0, 1]
    first, second, third = (queue.request(owner) for owner in ("a", "b", "c"))
    assert [first.cpu, second.cpu, third.cpu] == [0, 1, 0]  # a third slot on two cores shares one
    first.release()
    fourth = queue.request("d")
    assert fourth.cpu == 0, "CPU 0 is held by one job now, CPU 1 by one: the lower number"
    second.release()
    fifth = queue.request("e")
    assert fifth.cpu == 1


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or not {0, 1} <= os.sched_getaffinity(0), reason="needs CPUs 0 and 1"
)
def test_a_ray_node_sharing_its_host_pins_its_job_away_from_a_core_another_process_keeps_busy() -> None:
    """Two one-CPU Ray nodes on one host each hold one job: both took CPU 0, and ran at half speed."""
    from playground.sandbox.admission import Admission

    server, node = Admission(1), Admission(1)
    server.cpus = node.cpus = [0, 1]
    node.shares_host = True
    busy = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, time\nos.sched_setaffinity(0, {0})\nend = time.monotonic() + 1.5\n"
            "while time.monotonic() < end:\n    pass\n",
        ]
    )
    try:
        time.sleep(1.0)  # the other process has kept CPU 0 busy for about a second
        assert node.request("a").cpu == 1, "the node takes the core nobody keeps busy"
        assert server.request("a").cpu == 0, "a server owns its cores: the lowest number, as before"
    finally:
        busy.wait(timeout=10)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="capabilities are Linux's")
def test_a_job_holds_no_capability_even_when_the_server_runs_as_root(learner: Path) -> None:  # noqa: F811
    """Run as root (a container's default), a job would keep CAP_SYS_RESOURCE (raise its own rlimits),
    CAP_DAC_OVERRIDE, CAP_SYS_NICE...: it gives them all up before learner code runs."""
    learner.write_text(
        textwrap.dedent(
            """
            def first():
                with open("/proc/self/status") as status:
                    return " ".join(line.split()[1] for line in status if line.startswith(("CapEff", "CapPrm")))

            def second():
                return "second ran"

            def third():
                return "third ran"
            """
        )
    )
    results = run_checks(sandbox_selftest.EXERCISE, "solutions", names=NAMES)
    assert results[0].passed, results[0].message
    assert results[0].message == "0000000000000000 0000000000000000"


def test_an_import_path_that_holds_the_app_or_the_scratch_directories_opens_neither(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server started with ``PYTHONPATH=/tmp`` (or the app's root) must not open other jobs' files."""
    scratch = tmp_path / "playground-job-x"
    scratch.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(tmp_path), str(ROOT), "/"])
    roots = landlock.read_roots(str(scratch), extra=[str(tmp_path)])
    assert str(tmp_path) not in roots
    assert str(ROOT) not in roots
    assert "/" not in roots
    assert str(scratch) in roots
    assert str(ROOT / "playground") in roots
    assert not any(Path(root).name == ".streamlit" for root in roots)


# --- a server that is not root (the Dockerfile's uid 1000): the job runs as the server's own user ---

NOBODY = 65534
_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT = 47
_PR_CAP_AMBIENT_CLEAR_ALL = 4


def _as_nobody() -> None:
    """``preexec_fn``: become uid/gid 65534 (no groups, so no capability survives)."""
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _as_root_without_capabilities() -> None:
    """``preexec_fn``: stay uid 0 but give up every capability for good (the bounding set, so the
    ``execve`` that follows grants none back): the kernel's permission checks (a directory's mode,
    another process's ``/proc`` entries) then apply to this process as to any ordinary user."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    for capability in range(64):
        libc.prctl(_PR_CAPBSET_DROP, capability, 0, 0, 0)


def _unprivileged_server(home: Path) -> tuple[Any, str]:
    """How to start the check command as a server that is not root: as uid 65534 when that user can run
    this interpreter and read the app (a system Python), else as root without capabilities (here the
    interpreter lives under root's 0700 home). ``home`` is made the server user's own."""
    if os.geteuid() != 0:
        pytest.skip("the test needs root to start a server under another, unprivileged identity")
    if not sys.platform.startswith("linux"):
        pytest.skip("the disk quota's watcher is Linux's (/proc)")
    try:
        probe = subprocess.run(
            [sys.executable, "-c", f"import playground; open({str(ROOT / 'playground' / '__init__.py')!r}).close()"],
            cwd=ROOT,
            preexec_fn=_as_nobody,
            capture_output=True,
            timeout=60,
            check=False,
        ).returncode
    except OSError:  # the interpreter is out of its reach
        probe = -1
    if probe == 0:
        os.chown(home, NOBODY, NOBODY)
        return _as_nobody, "uid 65534"
    return _as_root_without_capabilities, "root without capabilities"


def _check_as_unprivileged_server(
    home: Path, hostile: dict[str, str], disk_mb: int
) -> tuple[list[dict[str, Any]], str]:
    """``python -m playground.check EXERCISE ... --source EXERCISE=FILE ...``, each exercise's reference
    code followed by its ``hostile`` code (run on import), by a server that is not root, its scratch
    directories in ``home``: (the JSON results, how the server was unprivileged)."""
    home.mkdir(mode=0o700)
    preexec, how = _unprivileged_server(home)
    sources = []
    for exercise, code in hostile.items():
        source = home / f"{exercise}.py"
        source.write_text((ROOT / "solutions" / f"{exercise}.py").read_text(encoding="utf-8") + "\n" + code)
        os.chown(source, os.stat(home).st_uid, os.stat(home).st_gid)
        sources += ["--source", f"{exercise}={source}"]
    env = {
        **os.environ,
        "HOME": str(home),
        "TMPDIR": str(home),
        "PLAYGROUND_JOB_DISK_MB": str(disk_mb),
        "PLAYGROUND_RAY_ADDRESS": "",
    }
    done = subprocess.run(
        [sys.executable, "-m", "playground.check", *hostile, *sources, "--json"],
        cwd=ROOT,
        env=env,
        preexec_fn=preexec,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.stdout.strip().startswith("["), f"{how}: {done.stdout[-2000:]}{done.stderr[-3000:]}"
    return json.loads(done.stdout), how


QUOTA_HIT = "your code wrote more than 8 MB of files (the disk limit for one job)"
# Folders the job can write but not list (mode 0300, through mkdir's mode and through the umask).
UNLISTABLE_FOLDERS = """
import os, time
block = b"x" * (1 << 20)
os.mkdir("hidden", 0o300)
os.umask(0o477)
os.makedirs("masked/deeper")  # 0300 each, from the umask
for folder in ("hidden", "masked/deeper"):
    for i in range(6):
        with open(f"{folder}/f{i}.bin", "wb") as out:
            out.write(block)
time.sleep(3)
"""
# Non-dumpable, its /proc/<pid>/fd would be closed to the server, and with it removed files kept open.
NON_DUMPABLE = (
    LIBC
    + """
import time
libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE 0
kept = []
block = b"x" * (1 << 20)
for i in range(12):
    fd = c_open(f"gone{i}.bin", os.O_WRONLY | os.O_CREAT)
    libc.write(fd, block, len(block))
    libc.unlink(f"gone{i}.bin".encode())
    kept.append(fd)
time.sleep(3)
"""
)


@pytest.fixture(scope="module")
def unprivileged_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, list[str]], str, Path]:
    """One check command of a server that is not root, over two hostile submissions (one fork server
    start for both): (messages per exercise, how it was unprivileged, its temporary directory)."""
    if not HAS_SECCOMP:
        pytest.skip("no seccomp with libseccomp here (Linux x86-64 only)")
    home = tmp_path_factory.mktemp("unprivileged") / "server"
    hostile = {"q_network": UNLISTABLE_FOLDERS, "replay_buffer": NON_DUMPABLE}
    results, how = _check_as_unprivileged_server(home, hostile, disk_mb=8)
    messages: dict[str, list[str]] = {exercise: [] for exercise in hostile}
    for result in results:
        messages[result["exercise"]].append(result["message"])
    return messages, how, home


def test_a_folder_the_server_user_cannot_list_still_counts_and_is_removed(
    unprivileged_run: tuple[dict[str, list[str]], str, Path],
) -> None:
    """A job of a server that is not root makes folders it can write but not list and writes 12 MB into
    them: the quota counts them, and the job's scratch directory is removed afterwards all the same."""
    messages, how, home = unprivileged_run
    assert any(QUOTA_HIT in message for message in messages["q_network"]), f"{how}: {messages['q_network']}"
    assert not list(home.glob("playground-job-*")), f"{how}: a scratch directory was left"


@needs_landlock  # the job is dumpable (its fd list open to the server) only behind Landlock
def test_a_job_cannot_hide_its_open_removed_files_by_becoming_non_dumpable(
    unprivileged_run: tuple[dict[str, list[str]], str, Path],
) -> None:
    """``prctl(PR_SET_DUMPABLE, 0)`` would close the job's ``/proc/<pid>/fd`` to a server that is not root:
    the call is refused, and the quota counts the 12 MB of removed files the job keeps open."""
    messages, how, _ = unprivileged_run
    assert any(QUOTA_HIT in message for message in messages["replay_buffer"]), f"{how}: {messages['replay_buffer']}"
