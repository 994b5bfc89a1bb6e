"""Atomic file writes: a reader sees the old file or the whole new one, never half.

Every writer goes through :func:`atomic_path`: it yields a temporary path in
the destination's folder, and only when the block finishes without error is
the temporary file renamed over the destination (``os.replace`` is atomic on
one file system).  On error the temporary file is removed.

Durability: the temporary file is fsynced before the rename and the folder
after it, so a power cut or a killed machine leaves the old file or the whole
new one on disk, never a renamed but empty file (the delayed-allocation case
of ext4/XFS).  File systems that cannot fsync a folder (EINVAL) are accepted.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def _fsync(path: Path, flags: int = 0) -> None:
    """fsync ``path`` (a file, or a folder with ``os.O_DIRECTORY``); EINVAL (not supported) is ignored."""
    fd = os.open(path, os.O_RDONLY | flags)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path that replaces ``dest`` when the block succeeds.

    The temporary file is fsynced before ``os.replace`` and the folder after it.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        _fsync(tmp_path)  # the data is on disk before the name points at it
        os.replace(tmp_path, dest)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    _fsync(dest.parent, getattr(os, "O_DIRECTORY", 0))  # and the rename itself is


def write_text(dest: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``dest`` atomically and return ``dest``."""
    with atomic_path(dest) as tmp:
        tmp.write_text(text)
    return Path(dest)


def write_bytes(dest: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``dest`` atomically and return ``dest``."""
    with atomic_path(dest) as tmp:
        tmp.write_bytes(data)
    return Path(dest)


def is_partial(path: str | os.PathLike[str]) -> bool:
    """True for the temporary files :func:`atomic_path` leaves only while writing."""
    name = Path(path).name
    return name.startswith(".") and name.endswith(".part")
