"""``confluence-offline``: the offline discharge product of one reach.

Reads entry ``--index`` of ``input/reaches.json``, the reach's SWOT file, every
FLPE result and the MOI ``{reach_id}_integrator.nc``; writes
``offline/{reach_id}_offline.nc``.  A missing product is fill plus one log line;
a reach without a SWOT file is an error.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from confluence_core import flpe
from confluence_core.cli import index_option, list_option, module_command
from confluence_core.errors import InputError
from confluence_core.index import job_entry, reach_entry
from confluence_core.volumes import volume_path

from . import io
from .science import d_x_area, median_series, yyyymmdd

NAME = "confluence-offline"
log = logging.getLogger(NAME)


def offline_path(reach_id: int) -> Path:
    """``offline/{reach_id}_offline.nc``."""
    return volume_path("offline", f"{reach_id}_offline.nc")


def _area(swot: io.SwotReach) -> tuple[np.ndarray, np.ndarray, str]:
    """d_x_area and d_x_area_u (m2) from the SWOT file, or from width and wse when it has no value."""
    f = swot.fields
    dA = f["d_x_area"]
    if dA is not None and np.isfinite(dA).any():
        dA_u = f["d_x_area_u"] if f["d_x_area_u"] is not None else np.full(swot.nt, np.nan)
        return dA, dA_u, "SWOT reach/d_x_area"
    if f["width"] is None or f["wse"] is None:
        log.warning("%s: no d_x_area and no width/wse to compute it from: d_x_area is fill", swot.path)
        return np.full(swot.nt, np.nan), np.full(swot.nt, np.nan), "none (no d_x_area, width or wse)"
    log.info("%s: d_x_area %s: computed from width and wse", swot.path,
             "absent" if dA is None else "all fill")
    dA, dA_u = d_x_area(f["width"], f["wse"], f["width_u"], f["wse_u"])
    return dA, dA_u, "computed from reach width and wse (trapezoids, relative to the median observed wse)"


def _attempt(read: Callable[[], Any], missing: dict[str, str], key: str) -> Any:
    try:
        return read()
    except InputError as exc:
        missing[key] = f"unreadable: {exc}"
        return None


def _fit(values: np.ndarray | None, nt: int, key: str, missing: dict[str, str], why: str) -> np.ndarray:
    """``values`` when it is a series on ``nt``, else fill (NaN) with the reason in ``missing``."""
    if values is None:
        missing.setdefault(key, why)
        return np.full(nt, np.nan)
    if values.shape != (nt,):
        missing[key] = f"{values.size} values, not nt = {nt}"
        return np.full(nt, np.nan)
    return values


def products(reach_id: int, nt: int, flpe_root: Path, moi_file: Path
             ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, str]]:
    """Constrained and unconstrained discharge per offline prefix, and why any is fill.

    The constrained consensus is the per-time median of the constrained series
    of the algorithms that contributed to the (unconstrained) consensus, or of
    every algorithm when the consensus file does not say.
    """
    missing: dict[str, str] = {}
    integ = _attempt(lambda: io.read_integrator(moi_file), missing, "moi")
    no_moi = "no integrator file" if "moi" not in missing else missing.pop("moi")
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    constrained: dict[str, np.ndarray] = {}
    for spec in flpe.algorithms().values():
        c_key = f"{spec.offline or spec.name}_q_c"
        q_c = _fit(None if integ is None else integ.get(spec.moi), nt, c_key, missing,
                   no_moi if integ is None else f"no group {spec.moi!r} in {moi_file.name}")
        if np.isfinite(q_c).any():
            constrained[spec.name] = q_c
        if not spec.offline:
            missing.pop(c_key, None)
            continue
        q_uc = _attempt(functools.partial(io.read_flpe_q, spec, flpe_root, reach_id), missing,
                        f"{spec.offline}_q_uc")
        out[spec.offline] = (q_c, _fit(q_uc, nt, f"{spec.offline}_q_uc", missing, "no FLPE file"))
    cons = flpe.consensus()
    if cons.offline:
        q_uc = _attempt(lambda: io.read_flpe_q(cons, flpe_root, reach_id), missing, f"{cons.offline}_q_uc")
        q_uc = _fit(q_uc, nt, f"{cons.offline}_q_uc", missing, "no consensus file")
        used = _contributors(io.read_contributing(cons.path(flpe_root, reach_id)), constrained)
        q_c = median_series([constrained[n] for n in used], nt)
        if not np.isfinite(q_c).any():
            missing[f"{cons.offline}_q_c"] = "no constrained series to combine"
        out[cons.offline] = (q_c, q_uc)
    return out, missing


def _contributors(names: list[str] | None, constrained: dict[str, np.ndarray]) -> list[str]:
    """Algorithms (table names) of ``constrained`` named by the consensus file, else all of them."""
    if names:
        specs = flpe.algorithms()
        aliases = {alias: n for n, s in specs.items() for alias in (n, s.moi, s.offline) if alias}
        picked = [aliases[n] for n in names if aliases.get(n) in constrained]
        if picked:
            return picked
    return list(constrained)


def process_reach(entry: dict[str, Any]) -> Path:
    """Build the offline product of one ``reaches.json`` entry; return the file written."""
    item = reach_entry(entry)
    reach_id = item.reach_id
    swot_path = volume_path("input", "swot", item.swot)
    swot = io.read_swot(swot_path, reach_id)
    dA, dA_u, source = _area(swot)
    time = swot.fields["time"]
    dates = yyyymmdd(time) if time is not None else np.full(swot.nt, -999, dtype=np.int32)
    moi_file = volume_path("moi", f"{reach_id}_integrator.nc")
    series, missing = products(reach_id, swot.nt, volume_path("flpe"), moi_file)
    if missing:
        log.warning("reach %s: fill for %s", reach_id, "; ".join(f"{k} ({v})" for k, v in sorted(missing.items())))
    attrs = {"d_x_area_source": source, "swot_file": swot_path.name,
             "fill_products": "; ".join(f"{k}: {v}" for k, v in sorted(missing.items())) or "none"}
    if os.environ.get("CONFLUENCE_RUN_ID"):
        attrs["run_id"] = os.environ["CONFLUENCE_RUN_ID"]
    out = io.write_offline(offline_path(reach_id), reach_id, dates, dA, dA_u, series, attrs)
    n_ok = sum(int(np.isfinite(c).any()) + int(np.isfinite(u).any()) for c, u in series.values())
    log.info("reach %s: %d of %d discharge series filled, d_x_area from %s -> %s",
             reach_id, n_ok, 2 * len(series), source.split(" (")[0], out)
    return out


@module_command(NAME, help=(__doc__ or "").replace("``", ""))
@index_option
@list_option
def main(index: int | None, list_name: str | None) -> None:
    """Write the offline product of one reach (entry INDEX of reaches.json)."""
    entry, _, _ = job_entry("offline", index, list_name, kind=dict)
    process_reach(entry)
