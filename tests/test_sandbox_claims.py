"""Claims of docs/SANDBOX.md that other tests did not prove on their own.

* The seccomp filter alone refuses each call of its deny list: a job holds no capability, so many of
  those calls fail in a job even without the filter (``EPERM`` from the kernel); here a root process
  with its capabilities makes each call before and after loading only the filter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import seccomp_probe

from playground.sandbox import seccomp_filter

ROOT = Path(__file__).resolve().parent.parent
TESTS_DIR = Path(__file__).resolve().parent
X86_64 = sys.platform.startswith("linux") and os.uname().machine == "x86_64"
_CAP_SYS_ADMIN = 21


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
