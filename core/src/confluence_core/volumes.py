"""Named volumes and where a module finds them (contracts.md section 1).

In a container every volume is mounted under ``/mnt/data``.  The process
engine (and tests) run the same entry points outside a container, with the
environment variable ``CONFLUENCE_MNT`` pointing at a run folder that has one
sub-folder per volume, laid out exactly like ``/mnt/data``.
"""

from __future__ import annotations

import os
from pathlib import Path

from .workflow import packaged

#: Root of every mount inside a container.
DEFAULT_MOUNT_ROOT = "/mnt/data"

#: Environment variable that relocates the mount root (process engine, tests).
MOUNT_ENV = "CONFLUENCE_MNT"

#: Every named volume, in the order of the workflow table's ``[volumes]``
#: (contracts.md section 1, plus ``source`` and ``previous``, ours).  A volume is
#: mounted at ``/mnt/data/<name>``; ``flpe`` holds one folder per algorithm.
VOLUMES: tuple[str, ...] = tuple(packaged().volumes)


def mount_root() -> Path:
    """Return the folder that holds every volume (``/mnt/data`` in a container)."""
    return Path(os.environ.get(MOUNT_ENV) or DEFAULT_MOUNT_ROOT)


def container_path(volume: str) -> str:
    """Return where ``volume`` is mounted inside a container."""
    _check(volume)
    return f"{DEFAULT_MOUNT_ROOT}/{volume}"


def volume_path(volume: str, *parts: str | os.PathLike[str]) -> Path:
    """Return the path of ``parts`` inside ``volume`` for the current process.

    Parameters
    ----------
    volume : str
        One of :data:`VOLUMES`.
    *parts : str
        Path components below the volume's root.
    """
    _check(volume)
    return mount_root().joinpath(volume, *map(str, parts))


def _check(volume: str) -> None:
    if volume not in VOLUMES:
        raise KeyError(f"unknown volume {volume!r}; known volumes: {', '.join(VOLUMES)}")
