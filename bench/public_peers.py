"""CPU seconds per reach of our modules beside the public SWOT-Confluence ones, on the same files (issue 18).

Each peer is one of our workflow steps and the public module that does the same work.  Both run as
child processes on the same run folder's files, interleaved (ours then theirs, theirs then ours on
the next repeat), and each is measured as its children's CPU time (user + system,
``resource.getrusage(RUSAGE_CHILDREN)``: interpreter start-up and imports included).  Ours runs as
the workflow runs it (jobs of its workflow-table ``group``); the public module as its AWS Batch
array runs it, one process per list entry (``AWS_BATCH_JOB_ARRAY_INDEX`` or ``-i``).  The table
gives the median CPU seconds per reach of each and their ratio (ours / public: below 1, ours costs
less).  The same algorithm is not claimed: the public MOMMA is an older version of the method, and
what each writes differs (contracts.md); this is the cost of doing the step, not a fidelity check.

Public checkouts (``--public PATH``: one folder per module, fetched by hand, never by this script)::

    git clone https://github.com/SWOT-Confluence/momma    PATH/momma     # R: mommadata/momma_data.R
    git clone https://github.com/SWOT-Confluence/metroman PATH/metroman  # Python: run_metroman.py
    git clone https://github.com/SWOT-Confluence/input    PATH/input     # Python: run_input.py
    # input at its last granule-reading revision (the parent of the commit that moved it to Hydrocron):
    git -C PATH/input checkout "$(git -C PATH/input log --format=%H -S HydrocronWrite -- run_input.py | tail -1)~1"

Expected entry points (the revision of each checkout is printed beside its figures):

- ``momma``: ``Rscript mommadata/momma_data.R LIST`` (reaches.json entries, array index + 1, as in
  its Dockerfile); needs ``Rscript`` with RNetCDF, rjson and R.utils (its Dockerfile installs them):
  skipped, saying so, when ``Rscript`` is not on PATH.
- ``metroman``: ``python run_metroman.py -i K -r metrosets.json`` with ``AWS_BATCH_JOB_ID`` set (its
  switch to the ``/mnt/data`` folders); ``PYTHONPATH`` holds the checkout (package ``metroman``).
- ``input``: ``python run_input.py -i K -r reach_node.json -p cycle_passes.json -s s3_list.json -c river
  -d OUT -l -f SOURCE`` (its README of the granule-reading revision: ``-l`` a local run, ``-f`` the
  shapefile folder), on the granules of the run folder's ``source`` volume.

The public scripts hard-code their folders (``/mnt/data``, and ``/app/mommadata`` for MOMMA's R
sources): the entry script is copied to a scratch folder with exactly those path prefixes replaced
(nothing else changed), and a peer whose script holds none of them is reported as not the expected
revision.  The Python peers run with ``--public-python`` (default: this interpreter; give one whose
environment holds the module's requirements.txt).  Both sides read a scratch mount whose ``input``
lists are copies and whose SWOT, SWORD, SoS and source files are links to the run folder's: the run
folder is never written.  A public run that fails is reported with its log, and the others go on; the
scratch folder keeps the logs.

Without ``--public`` (or ``$CONFLUENCE_PUBLIC``), or without a peer's checkout, each peer prints
``skipped: no checkout of X at PATH/X (give --public)`` and the script exits 0.

Usage: ``python bench/public_peers.py --public PATH [--run RUN_FOLDER] [--repeat 3] [--limit 5]
[--peers momma,metroman,input] [--public-python PYTHON]``
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluence_core import ids, workflow
from peer import child_cpu, demo_run, program

#: What a peer comparison needs of a run folder (the demo world is run this far when no --run is given).
UPSTREAM = "datagen,combine_data,input,prediagnostics,priors"
#: Lists the scratch mount copies from the run folder's input volume.
LISTS = ("reaches.json", "metrosets.json", "basin.json", "reach_node.json", "cycle_passes.json", "s3_list.json")
#: Input files the scratch mount links to, per peer kind.
FLPE_LINKS = ("swot", "sword", "sos")
INPUT_LINKS = ("sword", "sos")


@dataclass(frozen=True)
class Command:
    """One child process: its arguments, extra environment and working folder."""

    args: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None


@dataclass(frozen=True)
class Peer:
    """Our step ``step`` beside the public module checked out at ``PATH/name``.

    ``entry``: the public entry script (relative to the checkout); ``rewrites``: the literal path
    prefixes it hard-codes -> what they become (``{mnt}``: the scratch mount, ``{checkout}``: the
    checkout); ``needs``: the program the public module runs with (``python``: ``--public-python``);
    ``public_args(mnt, index)``: its arguments after the script, for list entry ``index``;
    ``public_env(index)``: its extra environment.
    """

    name: str
    step: str
    list_name: str
    entry: str
    needs: str
    rewrites: Mapping[str, str]
    public_args: Callable[[Path, int], list[str]]
    public_env: Callable[[int], dict[str, str]]
    links: tuple[str, ...] = FLPE_LINKS

    @property
    def url(self) -> str:
        return f"https://github.com/SWOT-Confluence/{self.name}"


def _momma_args(_mnt: Path, _index: int) -> list[str]:
    return ["bench_reaches.json"]


def _metroman_args(_mnt: Path, index: int) -> list[str]:
    return ["-i", str(index), "-r", "metrosets.json"]


def _input_args(mnt: Path, index: int) -> list[str]:
    lists = mnt / "input"
    return ["-i", str(index), "-r", str(lists / "reach_node.json"), "-p", str(lists / "cycle_passes.json"),
            "-s", str(lists / "s3_list.json"), "-c", "river", "-d", str(mnt / "public" / "swot"), "-l",
            "-f", str(mnt / "source")]


PEERS: tuple[Peer, ...] = (
    Peer("momma", "momma", "bench_reaches.json", "mommadata/momma_data.R", "Rscript",
         {'file.path("/mnt", "data", "input")': '"{mnt}/input"',
          'file.path("/mnt", "data", "output")': '"{mnt}/public"',
          "/app/mommadata": "{checkout}/mommadata"},
         _momma_args, lambda index: {"AWS_BATCH_JOB_ARRAY_INDEX": str(index)}),
    Peer("metroman", "metroman", "metrosets.json", "run_metroman.py", "python",
         {"/mnt/data/input": "{mnt}/input", "/mnt/data/output": "{mnt}/public"},
         _metroman_args, lambda _index: {"AWS_BATCH_JOB_ID": "confluence-bench"}),
    Peer("input", "input", "reach_node.json", "run_input.py", "python",
         {"/mnt/data": "{mnt}"}, _input_args, lambda _index: {}, links=INPUT_LINKS),
)


class NotExpectedError(Exception):
    """A checkout that is not the revision this benchmark expects (the reason says why)."""


def checkout_of(peer: Peer, public: Path | None) -> tuple[Path | None, str]:
    """The peer's checkout, or None and the line that says why it is skipped."""
    if public is None:
        return None, f"skipped: no checkout of {peer.name} at PATH/{peer.name} (give --public PATH; {peer.url})"
    path = public / peer.name
    if not (path / peer.entry).is_file():
        return None, f"skipped: no checkout of {peer.name} at {path} (give --public; {peer.url})"
    return path, ""


def interpreter(peer: Peer, public_python: str) -> tuple[str | None, str]:
    """The program the public module runs with, or None and the line that says why it is skipped."""
    if peer.needs == "python":
        return public_python, ""
    found = shutil.which(peer.needs)
    if found is None:
        return None, f"skipped: {peer.name}: {peer.needs} is not on PATH (the public {peer.name} runs with it)"
    return found, ""


def revision(checkout: Path) -> str:
    """The checkout's commit (short), or why it is unknown."""
    try:
        out = subprocess.run(["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=False)
    except OSError:
        return "unknown (no git)"
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "unknown (not a git checkout)"


def rewrite_entry(peer: Peer, checkout: Path, mnt: Path, scratch: Path) -> Path:
    """Copy the peer's entry script to ``scratch`` with its hard-coded folders replaced; return the copy.

    Raises :class:`NotExpectedError` when the script holds none of the folders the expected revision has.
    """
    text = (checkout / peer.entry).read_text()
    found = [old for old in peer.rewrites if old in text]
    if not found:
        raise NotExpectedError(f"{checkout / peer.entry} holds none of {', '.join(peer.rewrites)}: not the expected "
                          f"revision (see bench/public_peers.py)")
    for old in found:
        text = text.replace(old, peer.rewrites[old].format(mnt=mnt, checkout=checkout))
    dest = scratch / f"{peer.name}_{Path(peer.entry).name}"
    dest.write_text(text)
    return dest


def public_command(peer: Peer, program_path: str, script: Path, checkout: Path, mnt: Path, index: int) -> Command:
    """The public module's process for list entry ``index``."""
    env = peer.public_env(index)
    if peer.needs == "python":
        env["PYTHONPATH"] = os.pathsep.join([str(checkout), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return Command([program_path, str(script), *peer.public_args(mnt, index)], env, checkout)


def our_commands(peer: Peer, mnt: Path, indices: Sequence[int]) -> tuple[list[Command], int]:
    """Our step's processes on the compared entries, in jobs of its workflow-table group (as the engines
    pack them), and the number of reaches they cover.

    Ours runs input per basin: every basin job, covering every reach of ``reach_node.json``.
    """
    step = workflow.load().step(peer.step)
    args = [program(step.command[0]), *step.command[1:]]
    if peer.list_name != step.list:
        args += ["--list", peer.list_name]
    n_reaches = _reaches_of(peer, mnt, indices)
    if peer.name == "input":
        indices = list(range(len(json.loads((mnt / "input" / step.list).read_text()))))
        n_reaches = len(json.loads((mnt / "input" / "reach_node.json").read_text()))
    group = max(1, step.group)
    jobs = [Command(args, {**step.environment(), "CONFLUENCE_ENTRIES": ",".join(map(str, indices[k:k + group]))})
            for k in range(0, len(indices), group)]
    return jobs, n_reaches


def _reaches_of(peer: Peer, mnt: Path, indices: Sequence[int]) -> int:
    """Reaches in the entries ``indices`` of the peer's list (a MetroMan entry is a set of reaches)."""
    entries: list[Any] = json.loads((mnt / "input" / peer.list_name).read_text())
    return sum(len(entries[i]) if isinstance(entries[i], list) and peer.name == "metroman" else 1 for i in indices)


def scratch_mount(peer: Peer, run: Path, scratch: Path, limit: int) -> tuple[Path, list[int]]:
    """A mount for both sides (copies of the run's lists, links to its files) and the list indices compared."""
    mnt = scratch / f"mnt_{peer.name}"
    for sub in ("input", "flpe", "output", "public/sets", "public/swot", "diagnostics", "logs"):
        (mnt / sub).mkdir(parents=True, exist_ok=True)
    for name in LISTS:
        if (run / "input" / name).is_file():
            shutil.copy(run / "input" / name, mnt / "input" / name)
    for sub in peer.links:
        (mnt / "input" / sub).symlink_to(run / "input" / sub)
    if peer.name == "input":
        (mnt / "input" / "swot").mkdir()
        (mnt / "source").symlink_to(run / "source")
    if peer.name == "momma":  # river reaches only: ours skips the others, the public one has no such test
        reaches = json.loads((run / "input" / "reaches.json").read_text())
        rivers = [e for e in reaches if ids.is_river(int(e["reach_id"]))]
        (mnt / "input" / "bench_reaches.json").write_text(json.dumps(rivers))
    n = len(json.loads((mnt / "input" / peer.list_name).read_text()))
    return mnt, list(range(min(limit, n) if limit > 0 else n))


def run_all(commands: Sequence[Command], base_env: Mapping[str, str], log: Path) -> tuple[float, list[int]]:
    """CPU seconds of ``commands`` run one after the other, and the exit codes that were not 0."""
    cpu, bad = 0.0, []
    for c in commands:
        used, code = child_cpu(c.args, {**base_env, **c.env}, log, c.cwd)
        cpu += used
        if code != 0:
            bad.append(code)
    return cpu, bad


def compare(peer: Peer, checkout: Path, program_path: str, run: Path, scratch: Path, repeat: int,
            limit: int) -> str:
    """Time ours and the public module, interleaved; return the peer's table row (or why it failed)."""
    mnt, indices = scratch_mount(peer, run, scratch, limit)
    script = rewrite_entry(peer, checkout, mnt, scratch)
    base_env = {**os.environ, "CONFLUENCE_MNT": str(mnt), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
                "MKL_NUM_THREADS": "1", "MPLCONFIGDIR": str(scratch)}
    base_env.pop("AWS_BATCH_JOB_ARRAY_INDEX", None)
    ours_jobs, n_ours = our_commands(peer, mnt, indices)
    theirs = [public_command(peer, program_path, script, checkout, mnt, i) for i in indices]
    n_reaches = _reaches_of(peer, mnt, indices)
    ours_log, public_log = scratch / f"{peer.name}_ours.log", scratch / f"{peer.name}_public.log"
    ours_cpu: list[float] = []
    public_cpu: list[float] = []
    for k in range(repeat):
        sides = [("ours", ours_jobs), ("public", theirs)]
        for side, commands in sides if k % 2 == 0 else sides[::-1]:
            cpu, bad = run_all(commands, base_env, ours_log if side == "ours" else public_log)
            if bad:
                log = ours_log if side == "ours" else public_log
                return (f"failed: {peer.name}: {side} exited {bad[0]} ({len(bad)} of {len(commands)} processes); "
                        f"see {log}")
            (ours_cpu if side == "ours" else public_cpu).append(cpu)
    shutil.rmtree(mnt)  # links and copies, and what both sides wrote (the logs stay)
    ours = statistics.median(ours_cpu) / n_ours
    public = statistics.median(public_cpu) / n_reaches
    return (f"{peer.name:<9} {n_reaches:>7} {ours:>12.3f} {public:>14.3f} {ours / public:>13.3f}  "
            f"{revision(checkout)}")


def _folder(text: str) -> Path | None:
    """``--public``: a folder, or None for an empty value (``--public "${CONFLUENCE_PUBLIC:-}"`` in bench/run.sh)."""
    return Path(text) if text.strip() else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--public", type=_folder, default=_folder(os.environ.get("CONFLUENCE_PUBLIC", "")),
                        help="folder holding checkouts of the public modules (PATH/momma, PATH/metroman, PATH/input); "
                             "empty: none")
    parser.add_argument("--run", type=Path, default=None,
                        help=f"run folder holding {UPSTREAM}'s outputs (default: run the demo world first)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=int, default=5, help="list entries compared per peer (0: all)")
    parser.add_argument("--peers", default=",".join(p.name for p in PEERS))
    parser.add_argument("--public-python", default=sys.executable,
                        help="the Python the public Python modules run with (one holding their requirements)")
    args = parser.parse_args(argv)
    wanted = [p for p in PEERS if p.name in args.peers.split(",")]
    ready: list[tuple[Peer, Path, str]] = []
    for peer in wanted:
        checkout, why = checkout_of(peer, args.public)
        program_path, why_not = interpreter(peer, args.public_python) if checkout is not None else (None, why)
        if checkout is None or program_path is None:
            print(why or why_not, flush=True)
            continue
        ready.append((peer, checkout, program_path))
    if not ready:
        return 0
    scratch = Path(tempfile.mkdtemp(prefix="public_peers_"))
    run = args.run.resolve() if args.run is not None else demo_run(scratch, UPSTREAM)
    print(f"run folder: {run}; scratch and logs: {scratch}")
    print(f"{'peer':<9} {'reaches':>7} {'ours s/reach':>12} {'public s/reach':>14} {'ours / public':>13}  "
          "public revision   (CPU seconds per reach, median of interleaved runs)", flush=True)
    for peer, checkout, program_path in ready:
        try:
            print(compare(peer, checkout, program_path, run, scratch, args.repeat, args.limit), flush=True)
        except NotExpectedError as exc:
            print(f"skipped: {peer.name}: {exc}", flush=True)
    if args.run is None:
        shutil.rmtree(run, ignore_errors=True)  # the demo world made for this run
    return 0


if __name__ == "__main__":
    sys.exit(main())
