"""atomic_path: fsync of the file before the rename and of the folder after it (issue 17)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest
from confluence_core import atomic
from confluence_core.atomic import atomic_path, write_text


def _record_fsyncs(monkeypatch: pytest.MonkeyPatch, fail_dir_with: int | None = None) -> list[tuple[str, str]]:
    """Patch os.fsync to record (event, kind of what was synced) and os.replace to record the rename."""
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        kind = "dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(("fsync", kind))
        if kind == "dir" and fail_dir_with is not None:
            raise OSError(fail_dir_with, os.strerror(fail_dir_with))
        real_fsync(fd)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        events.append(("replace", Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    monkeypatch.setattr(atomic.os, "replace", replace)
    return events


def test_file_is_synced_before_the_rename_and_the_folder_after(tmp_path, monkeypatch):
    events = _record_fsyncs(monkeypatch)
    dest = write_text(tmp_path / "sub" / "out.json", "{}")
    assert dest.read_text() == "{}"
    assert events == [("fsync", "file"), ("replace", "out.json"), ("fsync", "dir")]


def test_the_synced_file_is_the_one_written(tmp_path, monkeypatch):
    """fsync sees the temporary file with its full content (the data reaches disk before the name)."""
    seen: list[bytes] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            seen.append(os.pread(fd, 100, 0))
        real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", fsync)
    with atomic_path(tmp_path / "a.bin") as tmp:
        tmp.write_bytes(b"payload")
    assert seen == [b"payload"]


def test_a_folder_that_cannot_be_synced_is_accepted(tmp_path, monkeypatch):
    events = _record_fsyncs(monkeypatch, fail_dir_with=errno.EINVAL)
    write_text(tmp_path / "out.txt", "x")
    assert (tmp_path / "out.txt").read_text() == "x"
    assert events[-1] == ("fsync", "dir")


def test_other_fsync_errors_are_raised(tmp_path, monkeypatch):
    _record_fsyncs(monkeypatch, fail_dir_with=errno.EIO)
    with pytest.raises(OSError) as info:
        write_text(tmp_path / "out.txt", "x")
    assert info.value.errno == errno.EIO


def test_failed_block_syncs_nothing_and_leaves_no_part(tmp_path, monkeypatch):
    events = _record_fsyncs(monkeypatch)
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "out.txt") as tmp:
        tmp.write_text("half")
        raise RuntimeError("writer failed")
    assert events == []
    assert list(tmp_path.iterdir()) == []
