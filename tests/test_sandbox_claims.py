"""Claims of docs/SANDBOX.md that other tests did not prove on their own.

* The seccomp filter alone refuses each call of its deny list: a job holds no capability, so many of
  those calls fail in a job even without the filter (``EPERM`` from the kernel); here a root process
  with its capabilities makes each call before and after loading only the filter.
* The real ``streamlit run`` server logs its sandbox status line when it starts, and is non-dumpable:
  a process of its user with no capability (what a job is) cannot read its ``/proc/<pid>/environ``.
* A job runs one thread of each numeric library (torch's intra-op and inter-op pools, NumPy's BLAS,
  OpenMP) on one CPU, in a child forked from the fork server and in a cold child.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import sandbox_selftest
import seccomp_probe
from browser_support import free_port, start_server, stop_server, wait_healthy
from streamlit.proto.BackMsg_pb2 import BackMsg
from test_sandbox_hostile import NAMES, learner, secret_in_server_env  # noqa: F401 - fixtures
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from playground.sandbox import hardening, seccomp_filter
from playground.sandbox.runner import run_checks

ROOT = Path(__file__).resolve().parent.parent
TESTS_DIR = Path(__file__).resolve().parent
X86_64 = sys.platform.startswith("linux") and os.uname().machine == "x86_64"
_CAP_SYS_ADMIN = 21
# util-linux's setpriv: run a command with no capability left, nor any way to regain one (as root).
NO_CAPABILITIES = ["setpriv", "--bounding-set", "-all", "--inh-caps", "-all", "--ambient-caps", "-all", "--"]


def _has_capabilities() -> bool:
    """Root with CAP_SYS_ADMIN in its effective set (a container's root usually has it)."""
    if os.geteuid() != 0:
        return False
    with open("/proc/self/status") as status:
        effective = next(int(line.split()[1], 16) for line in status if line.startswith("CapEff"))
    return bool(effective & (1 << _CAP_SYS_ADMIN))


# The calls the issue names: each must be probed (the deny list may hold more).
NAMED_IN_THE_ISSUE = {
    "userfaultfd",
    "fanotify_init",
    "pivot_root",
    "unshare",
    "setns",
    "mount",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "process_vm_readv",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "personality",
    "sched_setaffinity",
}


@pytest.mark.skipif(not (X86_64 and seccomp_filter.available()), reason="no seccomp with libseccomp here")
@pytest.mark.skipif(
    not (X86_64 and _has_capabilities()),
    reason="needs root with CAP_SYS_ADMIN: without capabilities most of these "
    "calls fail with EPERM anyway, and the filter's own refusal cannot be told apart",
)
def test_the_filter_alone_refuses_each_denied_call_that_root_could_make() -> None:
    """A fresh root process calls each denied system call with harmless arguments, then loads only the filter
    (``seccomp_filter.build`` + ``install``) and calls it again: the first answer must differ from the
    filter's refusal (else the entry proves nothing), the second must be the refusal."""
    assert set(seccomp_probe.CALLS) >= NAMED_IN_THE_ISSUE, "the calls the issue names"
    done = subprocess.run(
        [sys.executable, "-m", "seccomp_probe"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(TESTS_DIR)])},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    refusal = {name: seccomp_probe.REFUSALS.get(name, "EPERM") for name in seccomp_probe.CALLS}
    not_distinguishable = [name for name, outcome in report["before"].items() if outcome == refusal[name]]
    assert not not_distinguishable, f"fail the same way without the filter, so prove nothing: {not_distinguishable}"
    not_refused = {name: outcome for name, outcome in report["after"].items() if outcome != refusal[name]}
    assert not not_refused, f"the filter let these through (what they did instead): {not_refused}"
    assert report["query"] == "returned", "personality's read-only query form stays allowed"
    probed = set(seccomp_probe.CALLS) - seccomp_probe.OTHER_RULES
    assert set(seccomp_filter.DENIED) == probed | set(seccomp_probe.NOT_CALLED), "probe every denied call"


@pytest.mark.skipif(not (X86_64 and seccomp_filter.available()), reason="no seccomp with libseccomp here")
def test_every_call_number_newer_than_the_filters_table_answers_enosys() -> None:
    """A call a future kernel adds cannot go around a filter that allows what it does not name: the
    filter's own program (libseccomp's pseudo-code of it) answers ENOSYS for every number after the
    newest it knows, and the calls it names by number keep their EPERM."""
    with tempfile.TemporaryFile() as pfc:
        seccomp_filter.build(os.getpid()).export_pfc(pfc)
        pfc.seek(0)
        lines = pfc.read().decode().splitlines()
    actions: dict[int, str] = {}
    for line, following in itertools.pairwise(lines):
        if line.strip().startswith("if ($syscall == "):
            actions[int(line.split("==")[1].strip(" )"))] = following.strip()
    newest_named = max(seccomp_filter._X86_64_NUMBERS.values())
    assert seccomp_filter.FUTURE_CALLS.start == newest_named + 1, "no gap after the newest call named by number"
    assert len(seccomp_filter.FUTURE_CALLS) >= 40
    wrong = {n: actions.get(n) for n in seccomp_filter.FUTURE_CALLS if actions.get(n) != "action ERRNO(38);"}
    assert not wrong, f"future call numbers not answered ENOSYS: {wrong}"
    assert actions[newest_named] == "action ERRNO(1);"


# A process of the server's user holding no capability, as a sandbox job is: which ``/proc/<pid>/environ`` it reads.
READ_ENVIRON = """
import sys
from playground.sandbox import hardening
assert hardening.drop_capabilities(), "capabilities left"
for pid in sys.argv[1:]:
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ:
            environ.read()
        print(pid, "read")
    except PermissionError:
        print(pid, "refused")
"""


def _run_the_app(session: ClientConnection) -> None:
    """What a browser tab sends first once its WebSocket is open: run the app's script."""
    message = BackMsg()
    message.rerun_script.query_string = ""
    message.rerun_script.page_script_hash = ""
    session.send(message.SerializeToString())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_DUMPABLE and /proc are Linux's")
def test_the_streamlit_server_logs_its_sandbox_status_and_no_job_can_read_its_proc_entries() -> None:
    """``streamlit run``: once the first session starts the app, the log has the status line, and a
    capability-less process of the same user is refused the server's ``environ`` (but reads a plain process's)."""
    # As root, capabilities alone keep a capability-less process out of the server's /proc (the kernel refuses a
    # reader whose capabilities are not a superset of its target's, dumpable or not): run the server and the
    # control then as root without any capability, as a server of an ordinary user is (Community Cloud's).
    launcher = NO_CAPABILITIES if os.geteuid() == 0 else []
    port = free_port()
    log = Path(tempfile.mkdtemp()) / "server.log"
    server = start_server(port, log, launcher=launcher)
    plain = subprocess.Popen([*launcher, "sleep", "60"])  # the control: a dumpable process of the same user
    try:
        wait_healthy(f"http://127.0.0.1:{port}", server, log)
        with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=[Subprotocol("streamlit")]) as session:
            _run_the_app(session)  # the server starts what it starts once (ui.startup) at the first script run
            deadline = time.monotonic() + 60
            while "sandbox: " not in log.read_text() and time.monotonic() < deadline and server.poll() is None:
                time.sleep(0.1)
        lines = [line for line in log.read_text().splitlines() if line.startswith("sandbox: ")]
        assert len(lines) == 1, log.read_text()
        assert "server non-dumpable" in lines[0], lines[0]
        assert lines[0].endswith("(details: python -m playground.sandbox --self-test)"), lines[0]
        done = subprocess.run(
            [sys.executable, "-c", READ_ENVIRON, str(server.pid), str(plain.pid)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == [str(server.pid), "refused", str(plain.pid), "read"], done.stdout
    finally:
        plain.kill()
        plain.wait()
        stop_server(server)


# Learner code that reports the thread pools it runs with (through the checks' messages).
THREADS = """
import os

def first():
    import torch
    return f"torch {torch.get_num_threads()} interop {torch.get_num_interop_threads()}"

def second():
    import numpy
    import threadpoolctl
    numpy.ones((64, 64)) @ numpy.ones((64, 64))  # BLAS loaded and used
    pools = threadpoolctl.threadpool_info()
    return " ".join(sorted(f"{pool['internal_api']} {pool['num_threads']}" for pool in pools))

def third():
    return f"cpus {len(os.sched_getaffinity(0))}"
"""


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU pinning on this platform")
@pytest.mark.parametrize(
    ("fork_server", "torch_variables"),
    [("1", True), ("0", False)],
    ids=["forked child", "cold child without torch's thread variables"],
)
def test_a_job_runs_one_thread_of_each_numeric_library_on_one_cpu(
    learner: Path,  # noqa: F811
    fork_server: str,
    torch_variables: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """torch's intra-op and inter-op pools, NumPy's BLAS and OpenMP report one thread, on one CPU.

    The cold child starts without ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` (from which torch would take one
    thread at import), so only the child's own ``torch.set_num_threads(1)`` and ``set_num_interop_threads(1)``
    hold it to one: torch's default here is one thread per core."""
    monkeypatch.setenv("PLAYGROUND_FORKSERVER", fork_server)
    if not torch_variables:
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            monkeypatch.delitem(hardening.JOB_SETTINGS, name)  # the parent's copy: the child's environment
    learner.write_text(THREADS)
    results = run_checks(sandbox_selftest.EXERCISE, "solutions", names=NAMES)
    assert all(result.passed for result in results), [result.message for result in results]
    torch_threads, pools, cpus = (result.message for result in results)
    assert cpus == "cpus 1"
    assert torch_threads == "torch 1 interop 1"
    found = dict(zip(pools.split()[::2], pools.split()[1::2], strict=True))
    assert "openblas" in found, pools  # NumPy's BLAS
    assert set(found.values()) == {"1"}, pools
