"""The workflow table (``workflow.toml``): the one declaration of every step's facts.

Both engines (local and AWS Batch) read it to know what to run; a module reads
its own row for its fan-out list (:func:`fanout_list`); steps after FLPE read
the FLPE output contract from the rows' ``[steps.flpe]`` sub-tables
(:mod:`confluence_core.flpe`); the image build reads each image's package and
command; the named volumes come from its ``[volumes]`` table
(:mod:`confluence_core.volumes`).  The file's header documents every field.

A job learns which row it runs from ``CONFLUENCE_STEP`` (set by the engines;
a module run by hand falls back on its own step name), and which table from
``CONFLUENCE_WORKFLOW`` (a path; unset means the packaged table).
"""

from __future__ import annotations

import builtins
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfluenceError

#: Environment variable naming the row a job runs (set by the engines).
STEP_ENV = "CONFLUENCE_STEP"
#: Environment variable naming a workflow table other than the packaged one.
TABLE_ENV = "CONFLUENCE_WORKFLOW"
#: Environment variable of the SWORD version of a run (``{sword_version}`` in output patterns).
SWORD_VERSION_ENV = "CONFLUENCE_SWORD_VERSION"

FANOUTS = ("once", "continent", "reach", "reachset", "basin")
#: Placeholders an output pattern may use.
PLACEHOLDERS = ("continent", "reach_id", "river_id", "basin_id", "set", "sword_version", "branch")
ROLES = ("algorithm", "combiner")
_PLACEHOLDER = re.compile(r"{([^{}]*)}")
#: ``Workflow.source`` of the packaged table.
PACKAGED = "workflow.toml (packaged)"


@dataclass(frozen=True)
class Resource:
    """A resource class: local parallel slots and AWS Batch vCPU/memory/timeout."""

    name: str
    slots: int
    vcpus: int
    memory_mib: int
    timeout_s: int


@dataclass(frozen=True)
class Output:
    """One declared output of a step: ``<volume>:<pattern>[?]``."""

    volume: str
    pattern: str
    optional: bool = False

    @classmethod
    def parse(cls, text: str) -> Output:
        volume, _, pattern = text.partition(":")
        optional = pattern.endswith("?")
        return cls(volume, pattern.rstrip("?"), optional)

    def __str__(self) -> str:
        return f"{self.volume}:{self.pattern}{'?' if self.optional else ''}"

    @property
    def placeholders(self) -> set[str]:
        return set(_PLACEHOLDER.findall(self.pattern))

    def expand(self, fields: Mapping[str, str], reach_ids: Sequence[str] = (),
               river_ids: Sequence[str] = ()) -> list[str]:
        """Paths below the volume for one child.

        ``{reach_id}`` / ``{river_id}`` give one path per reach (per river
        reach) of the child unless ``fields`` names the child's own reach;
        the other placeholders come from ``fields``.
        """
        names = self.placeholders
        if "river_id" in names:
            return [self.pattern.format(**fields, river_id=r) for r in river_ids]
        if "reach_id" in names and "reach_id" not in fields:
            return [self.pattern.format(**fields, reach_id=r) for r in reach_ids]
        return [self.pattern.format(**fields)]


@dataclass(frozen=True)
class FlpeContract:
    """An FLPE step's output contract: where its per-reach results are and what they hold.

    From its row: the per-reach file is the row's ``flpe:`` output with ``{river_id}``
    (``folder``/``file``, ``{reach_id}`` in ``file``), a reach-set file its output with ``{set}``
    (``set_file``, "" for reach algorithms); the rest is the row's ``[steps.flpe]`` (see the
    table's header).
    """

    name: str
    folder: str
    file: str
    role: str
    q: tuple[str, ...]
    q_u: str
    params: dict[str, tuple[str, ...]]
    moi: str
    offline: str
    set_file: str = ""
    flowlaw: str = ""
    q_u_relative: bool = False

    def path(self, flpe_root: Path, reach_id: int | str) -> Path:
        """The reach's own file (it may not exist)."""
        return Path(flpe_root) / self.folder / self.file.format(reach_id=reach_id)

    def find(self, flpe_root: Path, reach_id: int | str) -> Path | None:
        """The file holding the reach's results: its own file, else the first set file naming it.

        A set file is read at the reach's row: the public workflow writes set files only
        (e.g. ``...-77449100071-..._metroman.nc``), ours writes both.
        """
        own = self.path(flpe_root, reach_id)
        if own.exists() or not self.set_file:
            return own if own.exists() else None
        rid = str(int(reach_id))
        head, _, tail = self.set_file.partition("{set}")
        folder = Path(flpe_root) / self.folder
        for p in sorted(folder.glob(f"{head}*{rid}*{tail}")):
            if rid in p.name.removeprefix(head).removesuffix(tail).split("-"):
                return p
        return None


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
    outputs: tuple[Output, ...]
    resources: str
    local: str = "run"
    status: str = "ready"
    flpe: FlpeContract | None = None
    summary: Output | None = None
    group: int = 1  # list entries one child takes (AWS Batch: array size = entries / group, rounded up)

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    @property
    def volumes(self) -> dict[str, bool]:
        """Volume -> read-only flag for every volume the step mounts."""
        mounts = {v: True for v in self.reads}
        mounts.update({v: False for v in self.writes})
        return mounts

    def output_stems(self, volume: str, suffix: str) -> builtins.list[str]:  # `list` is a field here
        """Names of the outputs in ``volume`` whose pattern ends with ``suffix``, the suffix cut off.

        E.g. datagen's per-continent lists: ``output_stems("input", "_{continent}.json")`` ->
        ``["reaches", "reach_node", ...]``.
        """
        return [o.pattern.removesuffix(suffix) for o in self.outputs
                if o.volume == volume and o.pattern.endswith(suffix) and o.pattern != suffix]

    def environment(self) -> dict[str, str]:
        """What every child of this step gets in its environment from the table (``CONFLUENCE_STEP``)."""
        return {STEP_ENV: self.name}


@dataclass
class Workflow:
    """The ordered steps, the resource classes and the volumes."""

    steps: list[Step]
    resources: dict[str, Resource]
    volumes: dict[str, str]
    source: str = ""
    _by_name: dict[str, Step] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {s.name: s for s in self.steps}

    @property
    def packaged(self) -> bool:
        """True for the table packaged with confluence_core (every image holds it)."""
        return self.source == PACKAGED

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

    def images(self) -> dict[str, Step]:
        """Image name -> the first step that runs it (its package path and default command)."""
        out: dict[str, Step] = {}
        for s in self.steps:
            out.setdefault(s.image, s)
        return out

    def flpe_steps(self) -> list[Step]:
        """Rows with an FLPE output contract, in table order (algorithms, then combiners as they come)."""
        return [s for s in self.steps if s.flpe is not None]


def _split(values: Iterable[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def packaged_text() -> str:
    """The text of the packaged ``workflow.toml``."""
    return resources.files("confluence_core").joinpath("workflow.toml").read_text()


@cache
def packaged() -> Workflow:
    """The packaged workflow table (parsed once per process)."""
    return _parse(packaged_text(), PACKAGED, None)


def load(path: str | Path | None = None) -> Workflow:
    """Load and check a workflow table: ``path``, else ``$CONFLUENCE_WORKFLOW``, else the packaged one.

    Raises
    ------
    ConfluenceError
        One line naming the table and the first problem found.
    """
    path = path or os.environ.get(TABLE_ENV) or None
    if path is None:
        return packaged()
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfluenceError(f"cannot read workflow table ({exc.strerror})", path) from None
    return _parse(text, str(Path(path).resolve()), packaged().volumes)


def current_step(default: str) -> Step:
    """The row this job runs: ``$CONFLUENCE_STEP`` (set by the engines), else ``default``."""
    return load().step(os.environ.get(STEP_ENV) or default)


def fanout_list(default_step: str) -> str:
    """The fan-out list of the row this job runs (see :func:`current_step`), e.g. ``reaches.json``."""
    step = current_step(default_step)
    if not step.list:
        raise ConfluenceError(f"step {step.name} runs once: it has no fan-out list")
    return step.list


def _parse(text: str, source: str, volumes: dict[str, str] | None) -> Workflow:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfluenceError(f"not valid TOML ({exc})", source) from None
    vols = {str(k): str(v) for k, v in data.get("volumes", {}).items()} or dict(volumes or {})
    if not vols:
        raise ConfluenceError("the workflow table declares no [volumes]", source)
    try:
        res = {name: Resource(name=name, **{k: int(v) for k, v in spec.items()})
               for name, spec in data.get("resources", {}).items()}
    except (TypeError, ValueError) as exc:
        raise ConfluenceError(f"bad [resources] table ({exc})", source) from None
    steps = [_step(row, res, vols, source) for row in data.get("steps", [])]
    if not steps:
        raise ConfluenceError("the workflow table has no steps", source)
    names = [s.name for s in steps]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfluenceError(f"duplicate step names: {', '.join(dupes)}", source)
    combiners = [s.name for s in steps if s.flpe is not None and s.flpe.role == "combiner"]
    if len(combiners) > 1:
        raise ConfluenceError(f"more than one FLPE combiner: {', '.join(combiners)}", source)
    return Workflow(steps=steps, resources=res, volumes=vols, source=source)


def _contract(name: str, spec: Any, outputs: Sequence[Output]) -> FlpeContract | str:
    """The contract of an FLPE row, or what is wrong with it."""
    own = next((o for o in outputs if o.volume == "flpe" and "river_id" in o.placeholders and "/" in o.pattern),
               None)
    if own is None:
        return "an FLPE step needs a per-reach output 'flpe:<folder>/...{river_id}...'"
    folder, _, pattern = own.pattern.partition("/")
    set_file = next((o.pattern.partition("/")[2] for o in outputs if o.volume == "flpe" and "set" in o.placeholders),
                    "")
    return FlpeContract(
        name=name, folder=folder, file=pattern.replace("{river_id}", "{reach_id}"), set_file=set_file,
        role=str(spec.get("role", "algorithm")), q=tuple(spec.get("q", ())), q_u=str(spec.get("q_u", "")),
        params={str(k): (str(v),) if isinstance(v, str) else tuple(str(x) for x in v)
                for k, v in dict(spec.get("params", {})).items()},
        moi=str(spec.get("moi", "")), offline=str(spec.get("offline", "")), flowlaw=str(spec.get("flowlaw", "")),
        q_u_relative=bool(spec.get("q_u_relative", False)),
    )


def _step(row: dict[str, Any], res: dict[str, Resource], volumes: Mapping[str, str], source: str) -> Step:
    required = ("name", "stage", "image", "path", "command", "fanout", "resources")
    missing = [k for k in required if k not in row]
    if missing:
        raise ConfluenceError(f"step {row.get('name', '?')!r} lacks {', '.join(missing)}", source)
    problems = []
    outputs = []
    for text in row.get("outputs", ()):
        out = Output.parse(str(text))
        if ":" not in str(text) or out.volume not in volumes or not out.pattern:
            problems.append(f"output {text!r} is not '<volume>:<pattern>'")
            continue
        unknown = sorted(out.placeholders - set(PLACEHOLDERS))
        if unknown:
            problems.append(f"output {text!r} uses unknown placeholders {', '.join(unknown)}")
        outputs.append(out)
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
        outputs=tuple(outputs),
        resources=row["resources"],
        local=row.get("local", "run"),
        status=row.get("status", "ready"),
    )
    try:
        step = replace(step, group=int(row.get("group", 1)))
    except (TypeError, ValueError):
        problems.append(f"group {row.get('group')!r} is not a whole number")
    if step.group < 1:
        problems.append(f"group {step.group} is not 1 or more")
    if step.group > 1 and step.fanout in ("once", "continent"):
        problems.append(f"group: a {step.fanout} step cannot group its entries")
    if "summary" in row:
        summary = Output.parse(str(row["summary"]))
        if ":" not in str(row["summary"]) or summary.volume not in volumes or not summary.pattern.endswith(".json"):
            problems.append(f"summary {row['summary']!r} is not '<volume>:<pattern>.json'")
        else:
            step = replace(step, summary=summary)
    if "flpe" in row:
        contract = _contract(step.name, row["flpe"], outputs)
        if isinstance(contract, str):
            problems.append(contract)
        else:
            step = replace(step, flpe=contract)
    if step.fanout not in FANOUTS:
        problems.append(f"fanout {step.fanout!r} is not one of {', '.join(FANOUTS)}")
    if step.fanout != "once" and not step.list:
        problems.append("a fanned-out step needs a list")
    if step.resources not in res:
        problems.append(f"resource class {step.resources!r} is not defined")
    unknown_vols = [v for v in (*step.reads, *step.writes) if v not in volumes]
    if unknown_vols:
        problems.append(f"unknown volumes {', '.join(unknown_vols)}")
    if step.local not in ("run", "noop"):
        problems.append(f"local {step.local!r} is not run or noop")
    if step.status not in ("ready", "planned"):
        problems.append(f"status {step.status!r} is not ready or planned")
    if step.flpe is not None:
        if step.flpe.role not in ROLES:
            problems.append(f"flpe role {step.flpe.role!r} is not one of {', '.join(ROLES)}")
        if not step.flpe.q:
            problems.append("flpe contract names no discharge variable (q)")
    if problems:
        raise ConfluenceError(f"step {step.name!r}: " + "; ".join(problems), source)
    return step
