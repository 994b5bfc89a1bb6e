"""A small launcher between the driver and one child: honest resource use, no orphans.

Run as ``python -I launch.py USAGE_FILE COMMAND...`` (standard library only, so it
starts small).  It runs COMMAND, waits for it with :func:`os.wait4` and writes the
child's own peak resident memory and CPU seconds to USAGE_FILE as JSON.

Why a launcher: on Linux a child's ``ru_maxrss`` starts at the resident size of
the process that forked it (the kernel carries the old memory's high-water mark
across ``exec``), so a child forked straight from the driver reports the driver's
memory (about 160 MiB) however small it is.  Forked from this small launcher, the
child's figure is its own (plus the launcher's few MiB at most).

The launcher is the leader of the child's process group, which the driver signals
as a whole.  It forwards SIGTERM, SIGINT and SIGHUP to the child, and asks the
kernel to send it SIGTERM if the driver dies (``PR_SET_PDEATHSIG``), so a killed
driver leaves no child behind.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import subprocess
import sys

PR_SET_PDEATHSIG = 1
FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def _die_with_parent(parent: int) -> None:
    """Get SIGTERM when the driver dies; exit now if it already has."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the driver's own signal handling still applies
        return
    if os.getppid() != parent:
        sys.exit(143)


def main(argv: list[str]) -> int:
    """Run ``argv[1:]``, write its usage to ``argv[0]``, return its exit status."""
    usage_file, command = argv[0], argv[1:]
    parent = int(os.environ.pop("CONFLUENCE_LAUNCH_PARENT", "0") or 0)
    if parent:
        _die_with_parent(parent)
    child: list[int] = []
    pending: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if child:
            os.kill(child[0], signum)
        else:
            pending.append(signum)

    for sig in FORWARDED:
        signal.signal(sig, forward)
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    except OSError as exc:
        print(f"error: cannot start {command[0]}: {exc.strerror}", flush=True)
        return 127
    child.append(proc.pid)
    for signum in pending:
        os.kill(proc.pid, signum)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    record = {
        "peak_mib": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
        "returncode": code,
    }
    tmp = usage_file + ".tmp"
    try:
        with open(tmp, "w") as out:
            json.dump(record, out)
        os.replace(tmp, usage_file)
    except OSError as exc:
        print(f"warning: cannot write {usage_file}: {exc.strerror}", flush=True)
    return 128 - code if code < 0 else code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
