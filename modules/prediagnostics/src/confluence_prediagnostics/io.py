"""Read a reach's SWOT file and its SWORD priors; rewrite the SWOT file; write the flags.

Inputs (contracts.md sections 6 and 7):

- ``input/swot/{reach_id}_SWOT.nc``: root dims ``nt``, ``nx``; groups
  ``reach`` (vars on ``nt``) and ``node`` (vars on ``nx, nt``).  Every field
  but ``reach`` itself is optional and read by name.
- ``input/sword/{c}_sword_v{N}.nc``: ``reaches`` (reach_id, width,
  reach_length) and ``nodes`` (node_id, width) give the prior width and
  length (``p_width``, ``p_length``) that the SWOT file does not hold.

Outputs, each written whole or not at all:

- the SWOT file, rewritten in place with removed values set to fill; a group
  ``original`` (subgroups ``reach`` and ``node``) keeps the untouched values of
  every variable this step may change.  It is written on the first run and
  read by every later run, so reruns start from the originals (idempotent).
- ``diagnostics/prediagnostics/{reach_id}_prediagnostics.nc``: the per-check
  flags in the layout of the public workflow's file (root dims
  ``num_nodes``, ``time_steps``; groups ``reach`` (time_steps) and ``node``
  (time_steps, num_nodes); int32 flags, 1 = removed, fill -999); each flag
  variable carries ``n_removed`` (observations that check removed) and the
  root the totals (``n_passes``, ``n_passes_removed``, ``n_passes_kept`` and
  the same for node observations).
- ``diagnostics/prediagnostics/{reach_id}_prediagnostics.json``: the same
  counts as a small JSON summary (:func:`write_summary`) for the run record.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import netCDF4
import numpy as np
from confluence_core import ncio
from confluence_core.atomic import atomic_path
from confluence_core.errors import InputError
from confluence_core.fill import FLOAT_FILL, INT_FILL

from .checks import MEASUREMENTS, NODE_CHECKS, REACH_CHECKS, Outcome, apply_removal

log = logging.getLogger("confluence-prediagnostics")

#: Group of the SWOT file that keeps the values before any removal.
ORIGINAL = "original"
LEVELS = ("reach", "node")
REACH_FIELDS = tuple(dict.fromkeys((*MEASUREMENTS, *(c.field for c in REACH_CHECKS))))
NODE_FIELDS = tuple(dict.fromkeys((*MEASUREMENTS, *(c.field for c in NODE_CHECKS))))


@dataclass
class SwotData:
    """One reach's SWOT file: fields as float (fills -> NaN), raw measurement arrays for rewriting."""

    path: Path
    nt: int
    nx: int
    reach: dict[str, np.ndarray | None] = field(default_factory=dict)
    node: dict[str, np.ndarray | None] = field(default_factory=dict)
    node_id: np.ndarray | None = None
    #: (level, name) -> raw values before any removal (as stored, fills kept), canonical order
    raw: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    #: (level, name) of node variables stored as (nt, nx) instead of (nx, nt)
    transposed: set[tuple[str, str]] = field(default_factory=set)
    has_original: bool = False
    #: the file's format (``netCDF4.Dataset.data_model``): NETCDF4 files are rewritten in place of a copy
    data_model: str = "NETCDF4"


# --- reading -----------------------------------------------------------------------------------


def read_swot(path: str | os.PathLike[str], reach_id: int | None = None) -> SwotData:
    """Read ``{reach_id}_SWOT.nc``; measurements come from ``original`` when a rerun finds it.

    Raises
    ------
    InputError
        When the file is missing, unreadable, has no ``reach`` group, or holds
        another reach than ``reach_id``.
    """
    path = Path(path)
    try:
        return _read_swot(path, reach_id)
    except (OSError, RuntimeError, IndexError, ValueError) as exc:  # damaged content past the header
        raise InputError(f"cannot read the SWOT data ({type(exc).__name__}: {exc})", path) from None


def _read_swot(path: Path, reach_id: int | None) -> SwotData:
    with ncio.open_dataset(path) as ds:
        return _read_open(ds, path, reach_id)


def _read_open(ds: netCDF4.Dataset, path: Path, reach_id: int | None) -> SwotData:
    """:func:`read_swot` from an open dataset (``path``: the file named in errors and kept in the data)."""
    reach_grp = ncio.get_group(ds, "reach")
    if reach_grp is None:
        raise InputError("no 'reach' group: not a SWOT reach file (contracts.md section 6)", path)
    nt = _dim(ds, "nt", path)
    nx = _dim(ds, "nx", path) if "nx" in ds.dimensions else 0
    _check_reach_id(reach_grp, reach_id, path)
    data = SwotData(path=path, nt=nt, nx=nx, has_original=ncio.get_group(ds, ORIGINAL) is not None,
                    data_model=str(ds.data_model))
    data.reach = _read_level(ds, "reach", REACH_FIELDS, data)
    node_grp = ncio.get_group(ds, "node")
    if node_grp is None:
        log.warning("%s: no 'node' group; node checks skipped", path)
        data.node = {}
    else:
        data.node = _read_level(ds, "node", NODE_FIELDS, data)
        if ncio.has_var(node_grp, "node_id"):
            data.node_id = np.asarray(ncio.read_int(node_grp, "node_id"), dtype=np.int64).ravel()
    return data


def _dim(ds: netCDF4.Dataset, name: str, path: Path) -> int:
    if name not in ds.dimensions:
        raise InputError(f"no root dimension {name!r}: not a SWOT reach file", path)
    return len(ds.dimensions[name])


def _check_reach_id(grp: Any, reach_id: int | None, path: Path) -> None:
    if reach_id is None or not ncio.has_var(grp, "reach_id"):
        return
    stored = np.asarray(ncio.read_int(grp, "reach_id")).ravel()
    if stored.size and stored[0] > 0 and int(stored[0]) != int(reach_id):
        raise InputError(f"holds reach {int(stored[0])}, not {reach_id}", path)


def _read_level(ds: netCDF4.Dataset, level: str, names: tuple[str, ...], data: SwotData) -> dict[str, Any]:
    grp = ds[level]
    orig = ncio.get_group(ds, f"{ORIGINAL}/{level}")
    out: dict[str, np.ndarray | None] = {}
    for name in names:
        if not ncio.has_var(grp, name):
            out[name] = None
            log.debug("%s: %s/%s absent", data.path, level, name)
            continue
        source = orig if name in MEASUREMENTS and ncio.has_var(orig, name) else grp
        values = cast(np.ndarray, ncio.read_float(source, name))  # present: has_var above
        var = source[name]
        if level == "node" and var.dimensions[:2] == ("nt", "nx"):
            data.transposed.add((level, name))
            values = values.T
        if name in MEASUREMENTS:
            data.raw[(level, name)] = np.asarray(var[...])
        out[name] = values
    return out


@dataclass
class Prior:
    """Prior (SWORD) geometry of a reach: width and length (m), node widths (m, NaN unknown)."""

    p_width: float = np.nan
    p_length: float = np.nan
    node_p_width: np.ndarray | None = None


def read_prior(path: str | os.PathLike[str], reach_id: int, node_id: np.ndarray | None) -> Prior | None:
    """Read the prior width and length of ``reach_id`` (and its nodes) from a SWORD file.

    Returns None when the file is absent (the caller skips the checks).  A
    non-positive SWORD value (SWORD fill -9999) is treated as unknown.  The file is
    read once per process (:func:`_sword_table`): a grouped job reads it once for
    all its reaches.
    """
    path = Path(path)
    if not path.exists():
        return None
    table = _sword_table(path)
    prior = Prior()
    hits = np.flatnonzero(table.reach_id == int(reach_id))
    if hits.size:
        row = int(hits[0])
        prior.p_width = _positive(table.width, row)
        prior.p_length = _positive(table.reach_length, row)
    else:
        log.warning("%s: reach %s not in SWORD; p_width / p_length checks skipped", path, reach_id)
    if node_id is not None and table.node_id is not None and table.node_width is not None:
        sword_ids = table.node_id
        order = table.node_order
        pos = np.clip(np.searchsorted(sword_ids[order], node_id), 0, max(sword_ids.size - 1, 0))
        widths = np.full(node_id.shape, np.nan)
        if sword_ids.size > 0:
            rows = order[pos]
            match = sword_ids[rows] == node_id
            widths[match] = table.node_width[rows[match]]
        widths[~(widths > 0)] = np.nan
        prior.node_p_width = widths
    return prior


@dataclass(frozen=True)
class SwordTable:
    """What this step reads of a SWORD file: reach ids with their width and length (m, NaN where
    absent), node ids (their stable sort order) and node widths (m); node fields None when absent."""

    reach_id: np.ndarray
    width: np.ndarray | None
    reach_length: np.ndarray | None
    node_id: np.ndarray | None
    node_order: np.ndarray
    node_width: np.ndarray | None


#: SWORD tables read by this process: (path, inode, size, mtime) -> table (a job reads each file once).
_SWORD_CACHE: dict[tuple[str, int, int, int], SwordTable] = {}


def _sword_table(path: Path) -> SwordTable:
    """The SWORD table of ``path``, read once per process and file version (inode, size and mtime)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    table = _SWORD_CACHE.get(key)
    if table is None:
        table = _read_sword_table(path)
        if len(_SWORD_CACHE) >= 8:  # a job reads one or two continents' files
            _SWORD_CACHE.clear()
        _SWORD_CACHE[key] = table
    return table


def clear_caches() -> None:
    """Forget the SWORD tables read once per process (a job starts with none: its inputs are fixed while it runs)."""
    _SWORD_CACHE.clear()


def _read_sword_table(path: Path) -> SwordTable:
    with ncio.open_dataset(path) as ds:
        reaches = ncio.get_group(ds, "reaches")
        if reaches is None or not ncio.has_var(reaches, "reach_id"):
            raise InputError("no reaches/reach_id: not a SWORD file", path)
        ids = np.asarray(reaches["reach_id"][:], dtype=np.int64)
        width, length = ncio.read_float(reaches, "width"), ncio.read_float(reaches, "reach_length")
        nodes = ncio.get_group(ds, "nodes")
        node_id = node_width = None
        order = np.zeros(0, dtype=np.int64)
        if ncio.has_var(nodes, "node_id") and ncio.has_var(nodes, "width"):
            node_id = np.asarray(nodes["node_id"][:], dtype=np.int64)
            order = np.argsort(node_id, kind="stable")
            node_width = cast(np.ndarray, ncio.read_float(nodes, "width"))  # present: has_var above
    return SwordTable(ids, width, length, node_id, order, node_width)


def _positive(values: np.ndarray | None, row: int) -> float:
    if values is None:
        return np.nan
    value = float(values[row])
    return value if value > 0 else np.nan


# --- writing the SWOT file ---------------------------------------------------------------------


class _UnchangedError(Exception):
    """Ends an :func:`update_swot` block that wrote nothing: the copy is dropped, the file left as it was."""


@dataclass
class SwotUpdate:
    """A reach's SWOT file opened by :func:`update_swot`: its data, and :meth:`write` to rewrite it."""

    data: SwotData
    ds: netCDF4.Dataset
    written: bool = False

    def write(self, outcome: Outcome) -> None:
        """Set the removed values to fill (the ``original`` group added on the first run); the file
        is replaced when the ``update_swot`` block ends."""
        replace = _replacements(self.data, outcome)
        if self.data.data_model != "NETCDF4":  # only NETCDF4 holds groups: rebuild it as one
            write_swot(self.data, outcome)
            return
        for rel, values in replace.items():
            level, name = rel.split("/")
            var = self.ds[level][name]
            var.set_auto_maskandscale(False)  # stored values, as ncio.copy_variable writes them
            var[...] = values
        _add_originals(self.ds, self.ds, self.data)
        self.written = True


@contextlib.contextmanager
def update_swot(path: str | os.PathLike[str], reach_id: int | None = None) -> Iterator[SwotUpdate]:
    """Read a reach's SWOT file (as :func:`read_swot`) from a private copy that :meth:`SwotUpdate.write`
    changes in place and that replaces the file, atomically, when the block ends; a block that does
    not write (or fails) leaves the file untouched.

    One file open per reach: the copy (byte for byte) is both read and written, so every group,
    variable and attribute the step does not change stays as it was.

    Raises
    ------
    InputError
        As :func:`read_swot`, naming ``path``.
    """
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path)
    try:
        with atomic_path(path) as tmp:
            shutil.copyfile(path, tmp)
            try:
                ds = netCDF4.Dataset(tmp, "r+")
            except OSError as exc:
                raise InputError(f"not a readable NetCDF file ({exc.strerror or exc})", path) from None
            try:
                ds.set_auto_mask(False)
                try:
                    data = _read_open(ds, path, reach_id)
                except (OSError, RuntimeError, IndexError, ValueError) as exc:  # damaged content past the header
                    raise InputError(f"cannot read the SWOT data ({type(exc).__name__}: {exc})", path) from None
                update = SwotUpdate(data, ds)
                yield update
            finally:
                ds.close()
            if not update.written:
                raise _UnchangedError
    except _UnchangedError:
        pass


def _replacements(data: SwotData, outcome: Outcome) -> dict[str, np.ndarray]:
    """``level/name`` -> stored values with the removed observations set to fill."""
    replace: dict[str, np.ndarray] = {}
    for level, removed in (("reach", outcome.reach_removed), ("node", outcome.node_removed)):
        for name, mask in removed.items():
            raw = data.raw[(level, name)]
            m = mask.T if (level, name) in data.transposed else mask
            fill = FLOAT_FILL if raw.dtype.kind == "f" else INT_FILL
            replace[f"{level}/{name}"] = apply_removal(raw, m, fill)
    return replace


def write_swot(data: SwotData, outcome: Outcome) -> None:
    """Rewrite ``data.path`` atomically, variable by variable (any input format; the result is
    NETCDF4): every group, variable and attribute copied, removed values set to fill, and the
    ``original`` group added on the first run.  The step itself uses :func:`update_swot`."""
    replace = _replacements(data, outcome)
    with ncio.create(data.path) as dst, ncio.open_dataset(data.path) as src:
        ncio.copy_group(src, dst, replace=replace)
        _add_originals(src, dst, data)


def _add_originals(src: Any, dst: Any, data: SwotData) -> None:
    """Add to ``original/<level>`` every measurement not kept there yet (all of them the first time)."""
    for level, name in data.raw:
        og = ncio.get_group(dst, f"{ORIGINAL}/{level}")
        if og is None:
            root = ncio.get_group(dst, ORIGINAL) or dst.createGroup(ORIGINAL)
            root.setncattr(
                "comment",
                "Values before confluence-prediagnostics removed any; reruns start from these.",
            )
            og = root.createGroup(level)
        if name not in og.variables:
            ncio.copy_variable(src[level][name], og, data.raw[(level, name)], compress=True)


# --- writing the diagnostics file --------------------------------------------------------------

#: The reference file's variables first (same order and long names), then ours.
REACH_FLAGS: tuple[str, ...] = (
    "ice_clim_f", "ice_dyn_f", "dark_frac", "n_good_nod", "obs_frac_n",
    "width_outliers", "wse_outliers", "slope2_outliers",
    "slope_outliers", "xovr_cal_q", "p_width", "p_length", "xtrk_dist", "reach_q", "reach_q_b", "removed",
)
NODE_FLAGS: tuple[str, ...] = (
    "ice_clim_f", "ice_dyn_f", "dark_frac", "width_outliers", "wse_outliers", "slope2_outliers",
    "slope_outliers", "xovr_cal_q", "p_width", "xtrk_dist", "n_good_pix", "node_q", "node_q_b", "removed",
)
CHECK_NOTES = {
    "dark_frac": ", and only where the observation also fails the WSE-width relation of the other passes (or cannot be"
    " checked): above the threshold the width is partly the prior's (area_total fills dark water from a"
    " prior water likelihood map), so the pass is judged, not dropped",
    "n_good_nod": " (the contract sets no n_good_nod threshold: the default n_good_nod_min = 0 removes nothing;"
    " obs_frac_n covers reach coverage)",
    "reach_q": " (SWOT summary quality: 0 good, 1 suspect, 2 degraded, 3 bad; degraded is kept)",
    "node_q": " (SWOT summary quality: 0 good, 1 suspect, 2 degraded, 3 bad; degraded is kept)",
    "reach_q_b": " (default mask: the bad bits 22-31, a word >= 4194304; mask 0: bit check off)",
    "node_q_b": " (default mask: the bad bits 22-31, a word >= 4194304; mask 0: bit check off)",
    "p_width": " (prior width from SWORD, m)",
    "p_length": " (prior reach length from SWORD, m)",
    "xtrk_dist": " (m)",
}
FLAG_ATTRS = {"flag_values": "0 1", "flag_meanings": "not_overwritten overwritten"}


def flag_descriptions(level: str, cfg: Any) -> dict[str, tuple[str, str]]:
    """Flag name -> (long_name, rule) for one level, from the check registry and the thresholds."""
    rules = {
        "max": "{f} > {0}", "min": "{f} < {0}", "above": "{f} <= {0}",
        "abs_range": "|{f}| < {0} or |{f}| > {1}", "bits": "{f} & {0} != 0",
    }
    out: dict[str, tuple[str, str]] = {}
    for check in REACH_CHECKS if level == "reach" else NODE_CHECKS:
        values = [getattr(cfg, k) for k in check.keys]
        rule = "1 where " + rules[check.rule].format(*values, f=check.field)
        out[check.flag] = (check.long_name, rule + CHECK_NOTES.get(check.flag, ""))
    k = cfg.outlier_k
    relation = (f"1 where |residual| > {k} robust scales (1.4826 MAD, at least the measurement error) from a"
                " robust monotone (isotonic) fit of the WSE-width relation over time")
    out["wse_outliers"] = ("Outliers detected in wse observations.", relation + ": WSE given width")
    out["width_outliers"] = ("Outliers detected in width observations.", relation + ": width given WSE")
    for name in ("slope2", "slope"):
        rule = (f"1 where |{name} - median {name} of the {cfg.slope_neighbours} passes nearest in WSE| > {k}"
                " robust scales")
        if level == "node":
            rule += "; node slopes are the reach slope: the reach flag repeated on every node"
        out[f"{name}_outliers"] = (f"Outliers detected in {name} observations.", rule)
    if level == "node":
        for name in ("wse", "width"):
            long_name, rule = out[f"{name}_outliers"]
            out[f"{name}_outliers"] = (long_name, rule + ", per node")
    out["removed"] = ("observation lost a value to any check", "1 where any other flag of this group is 1")
    return out


def write_diagnostics(
    path: str | os.PathLike[str], reach_id: int, nt: int, nx: int, outcome: Outcome, cfg: Any,
    notes: dict[str, str], global_attrs: dict[str, Any],
) -> Path:
    """Write the flags file (layout of the public workflow's ``{reach_id}_prediagnostics.nc``).

    ``notes``: flag path (``"reach/p_width"``) -> why it is all 0 (check skipped).
    """
    path = Path(path)
    totals = {}
    for level, label in (("reach", "passes"), ("node", "node_observations")):
        tally = outcome.counts(level)
        totals[f"n_{label}"] = np.int32(tally["observations"])
        totals[f"n_{label}_removed"] = np.int32(tally["removed"])
        totals[f"n_{label}_kept"] = np.int32(tally["kept"])
    with ncio.create(path, reach_id=np.int64(reach_id), **global_attrs, **totals) as ds:
        ds.createDimension("num_nodes", nx)
        ds.createDimension("time_steps", nt)
        ncio.write_var(ds, "num_nodes", np.arange(1, nx + 1), ("num_nodes",), "i4", fill=None,
                       attrs={"units": "number of nodes"})
        ncio.write_var(ds, "time_steps", np.arange(1, nt + 1), ("time_steps",), "i4", fill=None,
                       attrs={"units": "number of observations"})
        for level, names, flags, dims in (
            ("reach", REACH_FLAGS, outcome.reach_flags, ("time_steps",)),
            ("node", NODE_FLAGS, outcome.node_flags, ("time_steps", "num_nodes")),
        ):
            grp = ds.createGroup(level)
            described = flag_descriptions(level, cfg)
            shape = (nt,) if level == "reach" else (nx, nt)
            tally = outcome.counts(level)
            for name in names:
                mask = flags.get(name)
                mask = np.zeros(shape, dtype=bool) if mask is None else mask
                long_name, rule = described[name]
                n_removed = tally["removed"] if name == "removed" else tally["removed_by"].get(name, 0)
                attrs = {"long_name": long_name, **FLAG_ATTRS, "comment": rule, "n_removed": np.int32(n_removed)}
                note = notes.get(f"{level}/{name}")
                if note:
                    attrs["skipped"] = f"check not run, all 0: {note}"
                values = mask.astype(np.int32)
                ncio.write_var(grp, name, values if level == "reach" else values.T, dims, "i4", attrs=attrs)
    return path


def summary(reach_id: int, outcome: Outcome, swot_file_updated: bool) -> dict[str, Any]:
    """The per-reach JSON summary (see :func:`write_summary`)."""
    return {
        "reach_id": int(reach_id),
        "reach": outcome.counts("reach"),
        "node": outcome.counts("node"),
        "swot_file_updated": bool(swot_file_updated),
    }


def write_summary(path: str | os.PathLike[str], reach_id: int, outcome: Outcome, swot_file_updated: bool) -> Path:
    """Write ``{reach_id}_prediagnostics.json`` atomically.

    Format: ``{"reach_id": int, "reach": C, "node": C, "swot_file_updated": bool}`` with
    ``C = {"observations": n, "removed_by": {flag: n, ...}, "removed": n, "kept": n}``: reach
    observations are passes, node observations node-passes; an observation removed by several
    checks is counted under each of them and once in ``removed``; ``kept = observations - removed``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f".{path.name}.part")
    part.write_text(json.dumps(summary(reach_id, outcome, swot_file_updated), indent=1) + "\n")
    os.replace(part, path)
    return path
