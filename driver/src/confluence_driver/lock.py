"""One run per run folder: an exclusive ``flock`` on ``run.lock``, which names its holder.

The lock file holds JSON ``{"pid", "host", "started"}`` of the run holding it.
The kernel drops an ``flock`` when its process dies (even by SIGKILL), so a
lock file whose lock can be taken but that names another process is stale: it
is taken over, and :meth:`RunLock.acquire` says so.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import socket
from pathlib import Path
from typing import Any

from confluence_core.errors import ConfluenceError

LOCK_NAME = "run.lock"


def _holder(text: str) -> dict[str, Any]:
    try:
        got = json.loads(text)
    except ValueError:
        return {}
    return got if isinstance(got, dict) else {}


def _describe(holder: dict[str, Any]) -> str:
    if not holder:
        return "an unknown process"
    return f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}, started {holder.get('started', '?')}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class RunLock:
    """The exclusive lock of one run folder, held from :meth:`acquire` to :meth:`release`."""

    def __init__(self, root: Path) -> None:
        self.path = Path(root) / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> str:
        """Take the lock; return a note when a stale lock was taken over ('' otherwise).

        Raises
        ------
        ConfluenceError
            Another run holds the lock: the message names its pid, host and start time.
        """
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(os.pread(fd, 4096, 0).decode(errors="replace"))
            os.close(fd)
            raise ConfluenceError(
                f"another run holds this run folder ({_describe(holder)}): wait for it to end, "
                "or use another --workdir", self.path.parent) from None
        except OSError:
            os.close(fd)
            raise
        previous = _holder(os.pread(fd, 4096, 0).decode(errors="replace"))
        me = {"pid": os.getpid(), "host": socket.gethostname(),
              "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        data = json.dumps(me).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)
        self._fd = fd
        pid = previous.get("pid")
        if previous and pid != os.getpid():
            state = "is gone" if isinstance(pid, int) and not _alive(pid) else "no longer holds it"
            return f"took over a stale lock of {_describe(previous)}: that process {state}"
        return ""

    def release(self) -> None:
        """Empty the lock file and drop the lock (the file stays: removing it would race)."""
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)
        except OSError:
            pass
        finally:
            os.close(self._fd)
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
