"""The registry of module results: where each per-reach file lives (``layout.toml``).

FLPE algorithms come from ``confluence_core.flpe`` (``flpe_outputs.toml``), so an
algorithm added there gets its group here with no change to this module.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from confluence_core import flpe
from confluence_core.volumes import volume_path

REACH_ID_FIELD = "{reach_id}"


@dataclass(frozen=True)
class Source:
    """One module's per-reach files and the results group they fill."""

    group: str
    volume: str
    folder: str
    file: str
    description: str

    @property
    def label(self) -> str:
        """Where the files are, e.g. ``flpe/sad/{reach_id}_sad.nc``."""
        return "/".join(p for p in (self.volume, self.folder, self.file) if p)

    def directory(self) -> Path:
        """The folder holding the files under the current mount root."""
        return volume_path(self.volume, self.folder) if self.folder else volume_path(self.volume)

    def pattern(self) -> re.Pattern[str]:
        """Regular expression of a file name; group ``reach_id`` is the 11-digit id."""
        head, sep, tail = self.file.partition(REACH_ID_FIELD)
        if not sep:
            raise ValueError(f"file pattern {self.file!r} of group {self.group!r} has no {REACH_ID_FIELD}")
        return re.compile(rf"^{re.escape(head)}(?P<reach_id>\d{{11}}){re.escape(tail)}$")

    def scan(self) -> dict[int, Path]:
        """Every file of this source present on the volume: reach id -> path (one directory listing)."""
        folder = self.directory()
        if not folder.is_dir():
            return {}
        regex = self.pattern()
        found: dict[int, Path] = {}
        with os.scandir(folder) as entries:
            for item in entries:
                m = regex.match(item.name)
                if m:
                    found[int(m.group("reach_id"))] = Path(item.path)
        return found


@dataclass(frozen=True)
class Layout:
    """How to read a per-reach file: dimension roles, skipped variables, default attributes."""

    time_dims: frozenset[str]
    node_dims: frozenset[str]
    set_dims: frozenset[str]
    skip: frozenset[str]
    attributes: dict[str, dict[str, str]]


@cache
def _table() -> dict[str, Any]:
    text = resources.files("confluence_output").joinpath("layout.toml").read_text()
    return tomllib.loads(text)


def layout() -> Layout:
    """The dimension roles and attribute defaults of ``layout.toml``."""
    t = _table()
    return Layout(
        time_dims=frozenset(t["dims"]["time"]), node_dims=frozenset(t["dims"]["node"]),
        set_dims=frozenset(t["dims"]["set"]), skip=frozenset(t["variables"]["skip"]),
        attributes={k: dict(v) for k, v in t.get("attributes", {}).items()},
    )


def _expand(kind: str) -> list[Source]:
    if kind == "flpe_algorithms":
        specs = list(flpe.algorithms().values())
    elif kind == "flpe_consensus":
        specs = [flpe.consensus()]
    else:
        raise ValueError(f"layout.toml: unknown source expansion {kind!r}")
    what = "FLPE algorithm {}" if kind == "flpe_algorithms" else "FLPE {}"
    return [Source(s.name, "flpe", s.folder, s.file, what.format(s.name)) for s in specs]


def sources() -> list[Source]:
    """Every results source in group order (prediagnostics, FLPE algorithms, consensus, ...)."""
    out: list[Source] = []
    for row in _table()["sources"]:
        if "expand" in row:
            out.extend(_expand(row["expand"]))
        else:
            out.append(Source(row["group"], row["volume"], row.get("folder", ""), row["file"],
                              row.get("description", row["group"])))
    groups = [s.group for s in out]
    dup = sorted({g for g in groups if groups.count(g) > 1})
    if dup:
        raise ValueError(f"layout.toml: results group(s) {', '.join(dup)} defined twice")
    return out
