"""What a finished child wrote and what it was made from, and whether that still holds.

Each finished child leaves a marker (``state/<step>/<index>.json``) that records

- ``outputs``: every file it wrote (required, and the optional ones present) with its
  size, modification time and SHA-256, taken when the child finished;
- ``inputs``: the fingerprints it was made from: the code version, its settings (the
  environment the workflow gives it, with the content of any run file a setting names)
  and, per upstream step, a hash of the upstream files it read as they were recorded
  by their own markers.

A later run counts the child as done only when all of that still holds, the way make
or Snakemake decide (content, not time stamps, as Snakemake's ``--rerun-triggers``):

- each output exists and matches the checksum recorded when it was written, or the
  checksum a *later* step recorded when it rewrote the file on purpose (prediagnostics
  rewrites the input step's ``{reach_id}_SWOT.nc``); a truncated or hand-edited file
  is not trusted;
- its inputs' fingerprints are those of now: an upstream child that was redone with
  different results, other settings or another code version make it out of date.

Which upstream files a child reads comes from the workflow table, with no list kept by
hand: every earlier step that writes a volume the step reads or writes, and of that
step the children that share a reach with this child (all of them when either side
is per continent or once), and of those children the files of the shared reaches.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluence_core.branch import DEFAULT as DEFAULT_BRANCH
from confluence_core.errors import ConfluenceError
from confluence_core.index import ARRAY_INDEX_ENV, SELECTED_REACHES_ENV
from confluence_core.jsonio import read_json, write_json
from confluence_core.workflow import TABLE_ENV, Step, Workflow

from .fanout import Child, children, expected_outputs

#: Environment keys that change from run to run without changing what a child computes.
VOLATILE_ENV = frozenset({ARRAY_INDEX_ENV, "CONFLUENCE_RUN_ID", "CONFLUENCE_ENGINE", "MPLCONFIGDIR", TABLE_ENV})
#: Environment that changes how a child runs or logs, not what it computes: not part of its settings.
#: (SELFTEST_* is the fault injection of the engine tests' image, images/test-image.)
NOT_SETTINGS = frozenset({"CONFLUENCE_LOG_LEVEL", "CONFLUENCE_DEBUG", SELECTED_REACHES_ENV, "SELFTEST_FAIL_ON",
                          "SELFTEST_SKIP_ON"})
_CHUNK = 1 << 20


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def digest(path: Path) -> dict[str, Any]:
    """Size, modification time (ns) and SHA-256 of a file."""
    st = path.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256(path)}


#: The repository checkout the packages are installed from (editable installs), when there is one.
REPO = Path(__file__).resolve().parents[3]
#: Packages every module image holds besides its own (their code is part of each step's code version).
SHARED_CODE = ("core",)


def source_digest(folders: Sequence[Path]) -> str:
    """Hash of the Python and TOML files under ``folders`` (their paths and contents)."""
    h = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in (".py", ".toml") and path.is_file() and "egg-info" not in path.as_posix() \
                    and "/tests/" not in path.as_posix():
                h.update(path.relative_to(folder).as_posix().encode())
                h.update(path.read_bytes())
    return h.hexdigest()[:16]


def code_version(version: str, step_path: str, repo: Path = REPO) -> str:
    """The code a step runs: the release version, plus a hash of its package's and the shared
    library's sources when they are a checkout (development: an edit makes the step out of date)."""
    folders = [repo / step_path / "src", *(repo / p / "src" for p in SHARED_CODE)]
    if not all(f.is_dir() for f in folders):
        return version
    return f"{version}+{source_digest(folders)}"


def _hash(items: Iterable[Any]) -> str:
    h = hashlib.sha256()
    for item in items:
        h.update(repr(item).encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


@dataclass
class Ledger:
    """Reads and writes the markers of a run folder, and judges whether a child is up to date."""

    workflow: Workflow
    root: Path
    version: str
    sword_version: str = "16"
    branch: str = DEFAULT_BRANCH
    _markers: dict[Path, dict[str, Any] | None] = field(default_factory=dict, repr=False)
    _lists: dict[str, tuple[int, list[Child], dict[str, list[Child]], list[Child]]] = field(
        default_factory=dict, repr=False)
    _sha: dict[tuple[str, int, int], str] = field(default_factory=dict, repr=False)
    _code: dict[str, str] = field(default_factory=dict, repr=False)

    def code(self, step: Step) -> str:
        """The code version of ``step`` (cached per package folder)."""
        if step.path not in self._code:
            self._code[step.path] = code_version(self.version, step.path)
        return self._code[step.path]

    # -- files --------------------------------------------------------------------------------
    def rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def current_sha(self, path: Path) -> str | None:
        """SHA-256 of ``path`` now (cached by size and modification time), None when missing."""
        try:
            st = path.stat()
        except OSError:
            return None
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in self._sha:
            self._sha[key] = sha256(path)
        return self._sha[key]

    def matches(self, path: Path, rec: Mapping[str, Any]) -> bool:
        """True when ``path`` is the file ``rec`` (a :func:`digest`) describes."""
        try:
            st = path.stat()
        except OSError:
            return False
        if st.st_size != rec.get("size"):
            return False
        if st.st_mtime_ns == rec.get("mtime_ns"):
            return True  # untouched since it was recorded
        return self.current_sha(path) == rec.get("sha256")

    # -- markers ------------------------------------------------------------------------------
    def marker_path(self, step: Step, child: Child) -> Path:
        return self.root / "state" / step.name / f"{child.index}.json"

    def marker(self, step: Step, child: Child) -> dict[str, Any] | None:
        path = self.marker_path(step, child)
        if path not in self._markers:
            try:
                data = read_json(path) if path.exists() else None
            except ConfluenceError:
                data = None
            self._markers[path] = data if isinstance(data, dict) else None
        return self._markers[path]

    def forget(self, step: Step, child: Child) -> None:
        """Remove the child's marker (it is about to run again)."""
        path = self.marker_path(step, child)
        path.unlink(missing_ok=True)
        self._markers[path] = None

    def write_marker(self, step: Step, child: Child, inputs: Mapping[str, Any], extra: Mapping[str, Any],
                     started_ns: int = 0, previous: Mapping[str, Any] | None = None) -> None:
        """Record a finished child: its outputs' digests and its inputs' fingerprints.

        A file the child did not write this time (not modified since ``started_ns``: e.g. the input
        step with ``--reaches`` writes only the selected reaches of its basin) keeps the digest its
        ``previous`` marker recorded when it did write it, if any.
        """
        before = (previous or {}).get("outputs")
        before = before if isinstance(before, dict) else {}
        outputs = {}
        for path in self.outputs(step, child, present_optional=True):
            rel = self.rel(path)
            if path.stat().st_mtime_ns < started_ns and isinstance(before.get(rel), dict):
                outputs[rel] = before[rel]
            else:
                outputs[rel] = digest(path)
        data = {"key": child.key, **extra, "inputs": dict(inputs), "outputs": outputs}
        path = self.marker_path(step, child)
        write_json(path, data)
        self._markers[path] = data

    def outputs(self, step: Step, child: Child, present_optional: bool = False) -> list[Path]:
        paths = expected_outputs(step, child, self.root, self.sword_version, branch=self.branch)
        if present_optional:
            paths += [p for p in expected_outputs(step, child, self.root, self.sword_version, optional=True,
                                                  branch=self.branch) if p.exists()]
        return paths

    # -- the graph ----------------------------------------------------------------------------
    def all_children(self, step: Step) -> tuple[list[Child], dict[str, list[Child]], list[Child]]:
        """Every child of ``step`` (no ``--reaches`` filter), by reach, and those without reaches."""
        if step.fanout == "once":
            kids = children(step, self.root / "input")
            return kids, {}, kids
        path = self.root / "input" / step.list
        try:
            stamp = path.stat().st_mtime_ns
        except OSError:
            return [], {}, []
        cached = self._lists.get(step.name)
        if cached is None or cached[0] != stamp:
            kids = children(step, self.root / "input")
            by_reach: dict[str, list[Child]] = defaultdict(list)
            for k in kids:
                for r in k.reach_ids:
                    by_reach[r].append(k)
            cached = (stamp, kids, dict(by_reach), [k for k in kids if not k.reach_ids])
            self._lists[step.name] = cached
        return cached[1], cached[2], cached[3]

    def upstream_steps(self, step: Step) -> list[Step]:
        """Earlier steps that write a volume ``step`` reads or writes."""
        touched = set(step.reads) | set(step.writes)
        out = []
        for s in self.workflow.steps:
            if s.name == step.name:
                break
            if s.ready and s.local == "run" and set(s.writes) & touched:
                out.append(s)
        return out

    def overlapping(self, other: Step, child: Child) -> list[Child]:
        """The children of ``other`` that share a reach with ``child`` (all when either covers no reach list)."""
        kids, by_reach, no_reach = self.all_children(other)
        if not child.reach_ids:
            return kids
        seen: dict[int, Child] = {k.index: k for k in no_reach}
        for r in child.reach_ids:
            for k in by_reach.get(r, ()):
                seen[k.index] = k
        return [seen[i] for i in sorted(seen)]

    def shared_files(self, other: Step, theirs: Child, child: Child) -> list[Path]:
        """The files of ``other``'s child ``theirs`` that ``child`` reads: those of their shared reaches."""
        if child.reach_ids and theirs.reach_ids:
            common = tuple(r for r in theirs.reach_ids if r in set(child.reach_ids))
            theirs = Child(theirs.index, theirs.key, common, theirs.fields)
        return (expected_outputs(other, theirs, self.root, self.sword_version, branch=self.branch)
                + expected_outputs(other, theirs, self.root, self.sword_version, optional=True,
                                   branch=self.branch))

    # -- fingerprints ---------------------------------------------------------------------------
    def settings(self, env: Mapping[str, str]) -> str:
        """Hash of a child's settings: its environment, and the content of run files it names."""
        items: list[tuple[str, ...]] = []
        for key in sorted(env):
            if key in VOLATILE_ENV or key in NOT_SETTINGS:
                continue
            value = env[key]
            items.append((key, value))
            named = self.root / "input" / value if value and not os.path.isabs(value) else None
            if named is not None and "\0" not in value and named.is_file():
                items.append((key, "content", self.current_sha(named) or ""))
        return _hash(items)

    def inputs(self, step: Step, child: Child, env: Mapping[str, str]) -> dict[str, Any]:
        """The fingerprints of what ``child`` is made from (see the module docstring)."""
        upstream = {}
        for other in self.upstream_steps(step):
            items: list[tuple[str, str]] = []
            for theirs in self.overlapping(other, child):
                recorded = (self.marker(other, theirs) or {}).get("outputs")
                for path in self.shared_files(other, theirs, child):
                    rel = self.rel(path)
                    if not isinstance(recorded, dict):
                        items.append((rel, "not run"))
                    else:
                        rec = recorded.get(rel)
                        items.append((rel, str(rec.get("sha256")) if isinstance(rec, dict) else "absent"))
            upstream[other.name] = _hash(sorted(items))
        return {"code": self.code(step), "settings": self.settings(env), "upstream": upstream}

    # -- the judgement ---------------------------------------------------------------------------
    def out_of_date(self, step: Step, child: Child, env: Mapping[str, str],
                    pending: Mapping[str, Sequence[str]] | None = None) -> str | None:
        """Why ``child`` must run (None when it is done and up to date).

        ``pending`` (step name -> reach ids, ``"*"`` for all) names upstream children that will
        run before this one (``--dry-run``): a child reading them is out of date too.
        """
        marker = self.marker(step, child)
        if marker is None:
            return "not run yet"
        if marker.get("key") != child.key:
            return f"its list entry changed (was {marker.get('key')}, now {child.key})"
        if pending:
            for other in self.upstream_steps(step):
                wanted = pending.get(other.name)
                if wanted and ("*" in wanted or not child.reach_ids or set(child.reach_ids) & set(wanted)):
                    return f"upstream {other.name} will run first"
        why = self.outputs_changed(step, child, marker)
        if why:
            return why
        recorded = marker.get("inputs")
        if not isinstance(recorded, dict):
            return None  # a marker of an older driver: outputs checked above, inputs unknown
        now = self.inputs(step, child, env)
        if recorded.get("code") != now["code"]:
            return f"code version changed ({recorded.get('code')} -> {now['code']})"
        if recorded.get("settings") != now["settings"]:
            return "its settings changed (environment or a file it names)"
        old_up = recorded.get("upstream") or {}
        changed = [name for name, h in now["upstream"].items() if old_up.get(name) != h]
        if changed:
            return "upstream changed: " + ", ".join(changed)
        return None

    def outputs_changed(self, step: Step, child: Child, marker: Mapping[str, Any]) -> str | None:
        recorded = marker.get("outputs")
        required = self.outputs(step, child)
        missing = [p for p in required if not p.exists()]
        if missing:
            return f"output missing: {self.rel(missing[0])}"
        if not isinstance(recorded, dict):  # an older marker: the files must at least open
            for path in required:
                problem = opens(path)
                if problem:
                    return f"output does not open: {self.rel(path)} ({problem})"
            return None
        for rel, rec in recorded.items():
            path = self.root / rel
            if not path.exists():
                return f"output missing: {rel}"
            if isinstance(rec, dict) and not self.matches(path, rec) and not self.rewritten_later(step, child, rel):
                return f"output changed since it was written: {rel}"
        return None

    def rewritten_later(self, step: Step, child: Child, rel: str) -> bool:
        """True when a later step recorded ``rel`` as it is now (it rewrote the file on purpose)."""
        path = self.root / rel
        later = False
        for other in self.workflow.steps:
            if other.name == step.name:
                later = True
                continue
            if not later or not other.ready or other.local != "run":
                continue
            if not any(o.volume == rel.split("/", 1)[0] for o in other.outputs):
                continue
            try:
                theirs = self.overlapping(other, child)
            except ConfluenceError:
                continue
            for kid in theirs:
                rec = ((self.marker(other, kid) or {}).get("outputs") or {}).get(rel)
                if isinstance(rec, dict) and self.matches(path, rec):
                    return True
        return False


def opens(path: Path) -> str | None:
    """Why ``path`` does not open as the file its name says (None when it does)."""
    try:
        if path.suffix == ".nc":
            import netCDF4

            with netCDF4.Dataset(path):
                return None
        if path.suffix == ".json":
            read_json(path)
            return None
        return None if path.stat().st_size > 0 or path.suffix not in (".csv", ".png") else "empty"
    except (OSError, ConfluenceError, ValueError) as exc:
        return str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
