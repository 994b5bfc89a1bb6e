"""``confluence-output``: one continent's module results into ``output/{c}_sword_v{N}_SOS_results_{branch}.nc``.

Reads entry ``--index`` of ``input/continent.json``, the continent's SoS
``input/sos/{c}_sword_v{N}_SOS_priors.nc``, the SWOT files of its reaches
(pass times, node order) and every module's per-reach files; writes the
results file to the output volume and, with ``--bucket`` (a bucket name or
``s3://bucket/prefix``) and ``--prefix``, uploads it to
``s3://bucket/{prefix}/{run_id}/{file}`` (never over an earlier object).

Reaches the run left out (``input/left_out.json``, written by ``confluence run
--keep-going`` through :mod:`confluence_core.leftout`) are fill in every module
group whose file is missing (``file_status`` 3: the run left it out, rather than 0)
and keep the results the steps before their failure did write (a reach that failed
at validation keeps its discharge); the file says why in ``reaches/left_out``: a
string per SoS reach, ``"<step>: <reason>"`` for a left-out reach and empty for
every other one.  contracts.md (section 9) fixes the groups of the results file,
not the variables of ``reaches``, so the reason is a variable beside the SoS ones,
readable per reach like them; the root attribute ``n_reaches_left_out`` counts them.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import click
import numpy as np
from confluence_core import branch as run_branch
from confluence_core import index as cindex
from confluence_core import leftout, s3
from confluence_core.cli import index_option, list_option, module_command
from confluence_core.errors import ConfluenceError, InputError
from confluence_core.fill import INT_FILL
from confluence_core.ids import continent_of
from confluence_core.jsonio import read_json
from confluence_core.sos import sos_name
from confluence_core.volumes import volume_path

from . import io
from .gather import TIME, TIME_DIM, Collector, Field, VarSpec
from .sources import Layout, Source, layout, sources

NAME = "confluence-output"
#: What the results key holds, in the "never written over" message.
RESULTS_OBJECT = "a results file"
log = logging.getLogger(NAME)

#: ``file_status`` values of a module group.
NO_FILE, READ, UNREADABLE, LEFT_OUT = 0, 1, 2, 3
STATUS_ATTRS = {
    "long_name": "state of the module's per-reach file",
    "units": "1",
    "flag_values": np.array([NO_FILE, READ, UNREADABLE, LEFT_OUT], dtype=np.int8),
    "flag_meanings": "no_file read unreadable left_out",
}
#: Attributes of ``reaches/left_out``.
LEFT_OUT_ATTRS = {
    "long_name": "why the run left this reach out (empty when it did not)",
    "comment": "\"<step>: <reason>\" from input/left_out.json (confluence run --keep-going); "
               "such a reach is fill (file_status 3) in every group whose file is missing",
}


def results_name(continent: str, sword_version: str, branch: str | None = None) -> str:
    """``{c}_sword_v{N}_SOS_results_{branch}.nc``, the public product's name (``confluence_core.branch``)."""
    return run_branch.results_name(continent, sword_version, branch or run_branch.current())


def validation_attrs() -> dict[str, Any]:
    """The gauge counts of ``validation/summary.json`` (CAL 0 scored, CAL 1 held back) as global attributes."""
    path = volume_path("validation", "summary.json")
    if not path.exists():
        return {}
    got = read_json(path)
    if not isinstance(got, dict):
        return {}
    return {"validation_gauges": np.int32(got.get("validation_gauges", 0)),
            "calibration_gauges_held_back": np.int32(got.get("calibration_gauges_held_back", 0)),
            "validation_comment": "validation scores only validation gauges (CAL 0); calibration gauges (CAL 1) "
                                  "are the constrained branch's priors and are never scored"}


def results_key(bucket: str, prefix: str, run_id: str, name: str) -> str:
    """The results object's key: ``{URL prefix}/{prefix}/{run_id}/{name}``, empty parts left out.

    ``bucket`` is a bare name (the deployment file's ``s3.results_bucket``, passed as
    ``CONFLUENCE_RESULTS_BUCKET``) or an ``s3://bucket/prefix`` URL; ``prefix`` is
    ``s3.results_prefix`` (``CONFLUENCE_RESULTS_PREFIX``).
    """
    _, url_prefix = s3.parse_location(bucket)
    return s3.join_key(url_prefix, prefix, run_id, name)


def software_version() -> str:
    """The installed confluence-output version."""
    try:
        return metadata.version(NAME)
    except metadata.PackageNotFoundError:
        return "unknown"


def _has_reaches(continent: str) -> bool:
    """False only when reaches.json exists and lists no reach of ``continent``."""
    path = volume_path("input", "reaches.json")
    if not path.exists():
        return True
    items = read_json(path)
    return any(isinstance(it, dict) and "reach_id" in it and continent_of(it["reach_id"]) == continent
               for it in items or [])


def _place(collector: Collector, sos: io.Sos, fld: Field, row: int, node_ids: np.ndarray | None) -> str | None:
    """Add one field at the reach's SoS row (or its nodes' rows); return why not, or None."""
    if fld.axis == "reach":
        return collector.add(fld, np.array([row], dtype=np.intp))
    ids = fld.node_ids if fld.node_ids is not None else node_ids
    n = fld.values.shape[0]
    if ids is not None and ids.size == n:
        rows = sos.node_rows(ids)
    else:
        rows = sos.nodes_of(int(sos.reach_id[row]))  # no node ids: the SoS nodes of the reach, if as many
        if rows.size != n:
            return f"{fld.group}/{fld.name}: {n} nodes but no node ids to place them (SoS has {rows.size})"
    keep = rows >= 0
    if not np.all(keep):
        fld.values = fld.values[keep]
        rows = rows[keep]
    return collector.add(fld, rows)


def left_out_rows(sos: io.Sos, left: dict[int, str]) -> np.ndarray:
    """The reason of each SoS reach the run left out, ``""`` for the others (object array of str).

    One warning per left-out reach of the SoS names it and its reason; reaches of
    other continents (not in this SoS) are ignored.
    """
    reasons = np.full(sos.reach_id.size, "", dtype=object)
    for rid, why in sorted(left.items()):
        row = sos.row_of.get(rid)
        if row is None:
            continue
        reasons[row] = why
        log.warning("reach %s: left out by the run (%s): fill where its files are missing, reason in "
                    "reaches/left_out", rid, why)
    return reasons


def _read_swot(sos: io.Sos, collector: Collector) -> dict[int, np.ndarray]:
    """Pass times of every reach with a SWOT file (root ``time``, ``n_times``); node ids per reach."""
    swot = Source("", "input", "swot", "{reach_id}_SWOT.nc", "SWOT observations")
    node_ids: dict[int, np.ndarray] = {}
    n_times = np.full(sos.reach_id.size, INT_FILL, dtype=np.int32)
    attrs: dict[str, Any] | None = None
    for rid, path in sorted(swot.scan().items(), key=lambda kv: sos.row_of.get(kv[0], -1)):
        row = sos.row_of.get(rid)
        if row is None:
            continue
        try:
            axes = io.read_swot_axes(path)
        except InputError as exc:
            log.warning("%s; reach %s has no pass times", exc, rid)
            continue
        n_times[row] = axes.nt
        if axes.node_id is not None:
            node_ids[rid] = axes.node_id
        if axes.time is not None:
            attrs = attrs if attrs is not None else axes.time_attrs
            collector.add(Field("", "", "time", "reach", (TIME_DIM,), (TIME,), axes.time[np.newaxis, :],
                                fill=axes.time_fill, attrs=attrs), np.array([row], dtype=np.intp))
    time = collector.vars.get(("", "time"))
    if time is not None:
        time.attrs = {"long_name": "time (UTC) of each SWOT pass of the reach", **(attrs or {})}
        time.attrs.setdefault("units", "seconds since 2000-01-01 00:00:00.000")
    collector.add_whole(VarSpec("", "", "n_times", "reach", (), (), np.dtype(np.int32), INT_FILL, {
        "long_name": "number of SWOT passes of the reach (length of its series on num_times)",
        "units": "1", "comment": "from the nt dimension of input/swot/{reach_id}_SWOT.nc"}), n_times)
    return node_ids


def gather(sos: io.Sos, srcs: list[Source], lay: Layout,
           left_out: frozenset[int] = frozenset()) -> tuple[Collector, dict[str, dict[str, Any]]]:
    """Read every module's per-reach files of the SoS reaches, one by one, into a :class:`Collector`.

    A file that cannot be read is logged with its name and reason; its reach
    stays fill in that group (``file_status`` 2) and the job goes on.  A reach
    in ``left_out`` with no file in a group is ``file_status`` 3 there (the run
    left it out); the files it does have are read like any other.
    """
    collector = Collector()
    node_ids = _read_swot(sos, collector)
    left_rows = np.asarray(sorted(sos.row_of[r] for r in left_out if r in sos.row_of), dtype=np.intp)
    group_attrs: dict[str, dict[str, Any]] = {}
    for src in srcs:
        files = src.scan()
        status = np.zeros(sos.reach_id.size, dtype=np.int8)
        found = sorted((sos.row_of[r], r, p) for r, p in files.items() if r in sos.row_of)
        if len(found) < len(files):
            log.warning("%s: %d of %d files are of reaches not in the SoS; ignored",
                        src.directory(), len(files) - len(found), len(files))
        dropped: set[str] = set()
        for row, rid, path in found:
            try:
                fields, why_not = io.read_module_file(path, src, lay, rid)
            except InputError as exc:
                log.warning("%s; reach %s left as fill in group %s", exc, rid, src.group)
                status[row] = UNREADABLE
                continue
            status[row] = READ
            for fld in fields:
                problem = _place(collector, sos, fld, row, node_ids.get(rid))
                if problem:
                    why_not.append(problem)
            for item in why_not:
                if item not in dropped:
                    log.warning("%s: %s (reported once per group)", path, item)
                    dropped.add(item)
        status[left_rows[status[left_rows] == NO_FILE]] = LEFT_OUT
        collector.add_whole(VarSpec(src.group, src.group, "file_status", "reach", (), (), np.dtype(np.int8), -1,
                                    {**STATUS_ATTRS, "comment": f"files: {src.label}"}), status)
        n_read, n_bad = int((status == READ).sum()), int((status == UNREADABLE).sum())
        group_attrs[src.group] = {
            "source_files": src.label, "description": src.description,
            "n_reaches_read": np.int32(n_read), "n_reaches_unreadable": np.int32(n_bad),
            "n_reaches_left_out": np.int32((status == LEFT_OUT).sum()),
        }
        if dropped:
            group_attrs[src.group]["not_carried"] = "; ".join(sorted(dropped))
        n_left = int((status == LEFT_OUT).sum())
        log.info("%s: %d reaches read, %d unreadable, %d left out, %d without a file (%s)", src.group, n_read,
                 n_bad, n_left, sos.reach_id.size - n_read - n_bad - n_left, src.label)
    return collector, group_attrs


def _s3_client() -> Any:
    import boto3

    return boto3.client("s3")


@module_command(NAME, help=(__doc__ or "").replace("``", ""))
@index_option
@click.option("--sword-version", default="16", show_default=True, envvar="CONFLUENCE_SWORD_VERSION",
              show_envvar=True, help="SWORD version N of the SoS and results file names.")
@click.option("--run-id", default=None, envvar="CONFLUENCE_RUN_ID", show_envvar=True,
              help="Run identifier: a global attribute, and part of the S3 key (required with --bucket).")
@click.option("--bucket", default=None, envvar="CONFLUENCE_RESULTS_BUCKET", show_envvar=True,
              help="A bucket name or s3://bucket/prefix: also upload the results as {prefix}/{run_id}/{file} "
                   "(never overwrites).")
@click.option("--prefix", default="", envvar="CONFLUENCE_RESULTS_PREFIX", show_envvar=True,
              help="Key prefix in --bucket (after the URL's own prefix, if any).")
@list_option
def main(index: int | None, sword_version: str, run_id: str | None, bucket: str | None, prefix: str,
         list_name: str | None) -> None:
    """Write one continent's results file (entry INDEX of continent.json)."""
    item, where, _ = cindex.job_entry("output", index, list_name)
    continent, _ = cindex.continent_entry(item, where)
    branch = run_branch.current()
    name = results_name(continent, sword_version, branch)
    dest = volume_path("output", name)
    sos_path = volume_path("input", "sos", sos_name(continent, sword_version))
    if not sos_path.exists() and not _has_reaches(continent):
        log.info("%s: no reaches of this continent in the run and no SoS %s: nothing to write", continent,
                 sos_path.name)
        return

    # every destination problem is found before any work, so nothing is half-done
    target = None
    if bucket:
        if not run_id:
            raise ConfluenceError("--bucket needs a run id (--run-id or CONFLUENCE_RUN_ID) for its versioned key")
        key = results_key(bucket, prefix, run_id, name)
        bkt = s3.parse_location(bucket)[0]
        client = _s3_client()
        s3.check_destination(client, bkt, key, RESULTS_OBJECT)
        target = (client, bkt, key)
    io.check_writable(dest.parent)

    sos = io.read_sos(sos_path)
    if sos.sword_version is not None and sos.sword_version != str(sword_version):
        log.warning("%s: sword_version attribute %s differs from --sword-version %s",
                    sos.path, sos.sword_version, sword_version)
    lay, srcs = layout(), sources()
    reasons = left_out_rows(sos, leftout.read(volume_path("input")))
    left = frozenset(int(r) for r in sos.reach_id[reasons != ""])
    collector, group_attrs = gather(sos, srcs, lay, left)
    attrs = {
        "title": f"Confluence results, continent {continent}",
        "Conventions": "CF-1.8",
        "continent": continent,
        run_branch.ATTR: branch,
        "run_type": branch,
        "run_id": run_id or "unset",
        "sword_version": str(sword_version),
        "sos_product_version": sos.product_version,
        "sos_file": sos.path.name,
        "software": NAME,
        "software_version": software_version(),
        "date_created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "groups": ", ".join(s.group for s in srcs),
        "n_reaches_left_out": np.int32(len(left)),
        **validation_attrs(),
        "comment": "Every array is on the SoS reach order (num_reaches) or node order (num_nodes); "
                   "num_times is the pass index of each reach's SWOT file (see time, n_times); "
                   "fill where a module wrote nothing for a reach or the run left it out "
                   "(reaches/left_out says why).",
    }
    labels = {s.group: s.description for s in srcs}
    if target is None:
        io.write_results(dest, sos, collector, group_attrs, labels, lay, attrs, (reasons, LEFT_OUT_ATTRS))
        log.info("wrote %s (%d reaches, %d nodes, %d times)", dest, sos.reach_id.size, sos.node_id.size,
                 collector.n_times)
        return
    client, bkt, key = target
    with tempfile.TemporaryDirectory(prefix=".confluence-output-", dir=dest.parent) as tmp:
        staged = io.write_results(Path(tmp) / name, sos, collector, group_attrs, labels, lay, attrs,
                                  (reasons, LEFT_OUT_ATTRS))
        s3.upload(client, staged, bkt, key, RESULTS_OBJECT)
        staged.replace(dest)
    log.info("wrote %s and uploaded it to s3://%s/%s", dest, bkt, key)
