"""Load and query the workflow table (``workflow.toml``), the one definition both engines read."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from confluence_core.errors import ConfluenceError
from confluence_core.volumes import VOLUMES

FANOUTS = ("once", "continent", "reach", "reachset", "basin")


@dataclass(frozen=True)
class Resource:
    """A resource class: local parallel slots and AWS Batch vCPU/memory/timeout."""

    name: str
    slots: int
    vcpus: int
    memory_mib: int
    timeout_s: int


@dataclass(frozen=True)
class Step:
    """One row of the workflow table."""

    name: str
    stage: int
    image: str
    path: str
    command: tuple[str, ...]
    fanout: str
    list: str
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    outputs: tuple[str, ...]
    resources: str
    local: str = "run"
    status: str = "ready"

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    @property
    def volumes(self) -> dict[str, bool]:
        """Volume -> read-only flag for every volume the step mounts."""
        mounts = {v: True for v in self.reads}
        mounts.update({v: False for v in self.writes})
        return mounts


@dataclass
class Workflow:
    """The ordered steps and the resource classes."""

    steps: list[Step]
    resources: dict[str, Resource]
    source: str = ""
    _by_name: dict[str, Step] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {s.name: s for s in self.steps}

    def step(self, name: str) -> Step:
        if name not in self._by_name:
            raise ConfluenceError(f"unknown step {name!r}; steps are: {', '.join(self._by_name)}")
        return self._by_name[name]

    def select(
        self,
        steps: Sequence[str] | None = None,
        start: str | None = None,
        until: str | None = None,
    ) -> list[Step]:
        """Return the chosen steps in workflow order (names checked)."""
        chosen = self.steps
        if start is not None:
            chosen = chosen[self.steps.index(self.step(start)):]
        if until is not None:
            last = self.step(until)
            chosen = [s for s in chosen if self.steps.index(s) <= self.steps.index(last)]
        if steps:
            names = {self.step(n).name for n in _split(steps)}
            chosen = [s for s in chosen if s.name in names]
        return chosen

    def images(self) -> dict[str, str]:
        """Image name -> package path, for every image in the table."""
        return {s.image: s.path for s in self.steps}


def _split(values: Iterable[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def load(path: str | Path | None = None) -> Workflow:
    """Load the workflow table (the packaged ``workflow.toml`` by default) and check it."""
    if path is None:
        text = resources.files("confluence_driver").joinpath("workflow.toml").read_text()
        source = "workflow.toml (packaged)"
    else:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise ConfluenceError(f"cannot read workflow table ({exc.strerror})", path) from None
        source = str(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfluenceError(f"not valid TOML ({exc})", source) from None
    res = {
        name: Resource(name=name, **{k: int(v) for k, v in spec.items()})
        for name, spec in data.get("resources", {}).items()
    }
    steps = [_step(row, res, source) for row in data.get("steps", [])]
    if not steps:
        raise ConfluenceError("the workflow table has no steps", source)
    names = [s.name for s in steps]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfluenceError(f"duplicate step names: {', '.join(dupes)}", source)
    return Workflow(steps=steps, resources=res, source=source)


def _step(row: dict[str, Any], res: dict[str, Resource], source: str) -> Step:
    required = ("name", "stage", "image", "path", "command", "fanout", "resources")
    missing = [k for k in required if k not in row]
    if missing:
        raise ConfluenceError(f"step {row.get('name', '?')!r} lacks {', '.join(missing)}", source)
    step = Step(
        name=row["name"],
        stage=int(row["stage"]),
        image=row["image"],
        path=row["path"],
        command=tuple(row["command"]),
        fanout=row["fanout"],
        list=row.get("list", ""),
        reads=tuple(row.get("reads", ())),
        writes=tuple(row.get("writes", ())),
        outputs=tuple(row.get("outputs", ())),
        resources=row["resources"],
        local=row.get("local", "run"),
        status=row.get("status", "ready"),
    )
    problems = []
    if step.fanout not in FANOUTS:
        problems.append(f"fanout {step.fanout!r} is not one of {', '.join(FANOUTS)}")
    if step.fanout != "once" and not step.list:
        problems.append("a fanned-out step needs a list")
    if step.resources not in res:
        problems.append(f"resource class {step.resources!r} is not defined")
    unknown = [v for v in (*step.reads, *step.writes) if v not in VOLUMES]
    if unknown:
        problems.append(f"unknown volumes {', '.join(unknown)}")
    for out in step.outputs:
        if ":" not in out or out.split(":", 1)[0] not in VOLUMES:
            problems.append(f"output {out!r} is not '<volume>:<pattern>'")
    if step.local not in ("run", "noop"):
        problems.append(f"local {step.local!r} is not run or noop")
    if step.status not in ("ready", "planned"):
        problems.append(f"status {step.status!r} is not ready or planned")
    if problems:
        raise ConfluenceError(f"step {step.name!r}: " + "; ".join(problems), source)
    return step
