"""``confluence-priors``: workflow step 6, one continent per job (entry of ``continent.json``).

A reach of the run whose SWOT file is missing or unreadable (e.g. one that
``confluence run --keep-going`` left out at input: ``input/left_out.json``
gives the reason, quoted in the warning) gets one warning naming it and the
file, and fill geoBAM priors; every other reach and the gauge statistics go on.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path
from typing import Any, cast

import click
import numpy as np
from confluence_core import branch as run_branch
from confluence_core import index as cindex
from confluence_core import leftout, s3
from confluence_core.cli import index_option, module_command
from confluence_core.errors import InputError
from confluence_core.ids import continent_of
from confluence_core.jsonio import read_json
from confluence_core.sos import MODEL_Q_VARS, sos_name
from confluence_core.volumes import volume_path

from . import io
from .constrain import ModelState, apply_calibration, pick_calibration
from .geobam import geobam_priors, output_names
from .prior_csv import SD_VAR, PriorCsv, apply_prior_csv, read_prior_csv
from .sources import GaugeSeries, GaugeSource, NwisGauges, SosGauges, merge_series, open_gauge_file
from .stats import GaugeStats, gauge_stats, series_problem

LOG = logging.getLogger("confluence-priors")


@module_command("confluence-priors")
@index_option
@click.option("--gauges", "gauge_files", multiple=True, type=click.Path(path_type=Path),
              envvar="CONFLUENCE_GAUGES",
              help="Gauge file(s) to add: CSV (agency,site,reach_id,date,discharge_cms[,cal]) or NetCDF archive; "
                   "a relative path not found is read from the input volume.")
@click.option("--default-cal", type=click.IntRange(0, 1), default=1, show_default=True,
              envvar="CONFLUENCE_GAUGE_CAL",
              help="CAL of new gauges whose file gives none (1 calibration, 0 validation).")
@click.option("--nwis/--no-nwis", default=False, envvar="CONFLUENCE_NWIS",
              help="Refresh the USGS gauges from NWIS daily values (network).")
@click.option("--nwis-start", type=click.DateTime(["%Y-%m-%d"]), default="1980-01-01", show_default=True)
@click.option("--nwis-end", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Default: today.")
@click.option("--branch", type=click.Choice(run_branch.BRANCHES), default=run_branch.DEFAULT, show_default=True,
              envvar=run_branch.BRANCH_ENV, show_envvar=True,
              help="constrained: replace model/*_q of reaches with a calibration gauge (CAL 1) by the gauge "
                   "statistics, keeping the replaced values in model_original; unconstrained: model priors only.")
@click.option("--sword-version", default="16", show_default=True, envvar="CONFLUENCE_SWORD_VERSION")
@click.option("--sos-bucket", default=None, envvar="CONFLUENCE_SOS_BUCKET",
              help="Read the current SoS from this S3 bucket instead of input/sos.")
@click.option("--sos-prefix", default="", envvar="CONFLUENCE_SOS_PREFIX",
              help="Key prefix in --sos-bucket: the SoS of a branch is read from {prefix}/{branch}/.")
@click.option("--upload", default=None, envvar="CONFLUENCE_SOS_UPLOAD",
              help="s3://bucket/prefix: upload the new SoS as {prefix}/{branch}/{version}/{name} (never "
                   "overwrites; one folder per branch, as the public SoS bucket).")
@click.option("--prior-csv", type=click.Path(path_type=Path), default=None, envvar="CONFLUENCE_PRIOR_CSV",
              help="reach_id,mean_q[,sd_ln]: mean flows (m3/s, and sd of ln Q) from a model or survey you "
                   "trust, written into model/mean_q (and mean_q_sd_ln) of those reaches; a relative path not "
                   "found is read from the input volume.  Not for validation gauges.")
def main(index: int | None, gauge_files: tuple[Path, ...], default_cal: int, nwis: bool,
         nwis_start: dt.datetime, nwis_end: dt.datetime | None, branch: str, sword_version: str,
         sos_bucket: str | None, sos_prefix: str, upload: str | None, prior_csv: Path | None = None) -> None:
    """Gauge statistics, (constrained) model flows and geoBAM priors into a new SoS version.

    Reads entry INDEX of input/continent.json, the continent's SoS
    input/sos/{c}_sword_v{N}_SOS_priors.nc and the SWOT files of its reaches
    in reaches.json; writes the next SoS version in place (the previous one is
    kept in input/sos/versions/{old_version}/).  Global attributes ``branch`` / ``run_type`` name the
    branch and ``priors_constrained`` is 1 in the constrained branch.
    """
    constrained = branch == run_branch.CONSTRAINED
    item, where, _ = cindex.job_entry("priors", index)
    continent, _ = cindex.continent_entry(item, where)
    name = sos_name(continent, sword_version)
    sos_dir = volume_path("input", "sos")
    dest = sos_dir / name
    if not sos_bucket and not dest.exists() and not _run_reaches(continent):
        LOG.info("%s: no reaches of this continent in the run and no SoS %s: nothing to do", continent, name)
        return
    user = _read_prior_csv(prior_csv)  # a malformed file stops the step before any work
    with tempfile.TemporaryDirectory(prefix="confluence-priors-") as tmp:
        src = _fetch_sos(sos_bucket, s3.join_key(sos_prefix, branch), name, Path(tmp)) if sos_bucket else dest
        sos = io.read_sos(src)
        new_version = io.next_version(sos.version, src)
        target = _upload_target(upload, new_version, name, branch)

        tables, series, stats, cal = _gauges(sos, gauge_files, default_cal, nwis, nwis_start, nwis_end)
        model, original = sos.model, sos.original
        if constrained:
            model, original = _constrain(sos, series, stats, cal)
        extra = io.SosUpdate(version=new_version)
        if user is not None:
            model = _apply_prior_csv(user, sos, model, extra)
        gb = _gbpriors(sos, model, continent)
        update = io.SosUpdate(version=new_version, model=model if constrained or user else None,
                              original=original, gbpriors=gb, agencies=tables,
                              attrs={"priors_constrained": int(constrained), run_branch.ATTR: branch,
                                     "run_type": branch, **extra.attrs},
                              model_vars=extra.model_vars, model_attrs=extra.model_attrs)
        io.backup_previous(src, sos_dir, name, sos.version)
        io.write_sos(src, dest, update)
    LOG.info("wrote %s version %s (was %s)", dest, new_version, sos.version)
    if target is not None:
        io.upload_sos(target[0], dest, target[1], target[2])


def _read_prior_csv(path: Path | None) -> PriorCsv | None:
    if path is None:
        return None
    if not path.is_absolute() and not path.exists():
        path = volume_path("input", path)
    return read_prior_csv(path)


def _apply_prior_csv(user: PriorCsv, sos: io.Sos, model: ModelState, out: io.SosUpdate) -> ModelState:
    """``model`` with the CSV's mean flows; the sd, flags and provenance into ``out`` (model_vars, attrs)."""
    gauged = model.overwritten_indexes == 1
    res = apply_prior_csv(user, sos.reach_id, model.values["mean_q"], io.read_model_var(sos.path, SD_VAR), gauged)
    for rid in res.gauge_kept.tolist():
        LOG.warning("%s: reach %d keeps its calibration-gauge mean flow (the CSV's is not used)", user.path, rid)
    if res.not_in_sos.size:
        LOG.warning("%s: %d reaches are not in this SoS, ignored (e.g. %d)", user.path, res.not_in_sos.size,
                    int(res.not_in_sos[0]))
    new = model.copy()
    new.values["mean_q"] = res.mean_q
    provenance = {"prior_csv": user.label}
    out.model_vars[SD_VAR] = (res.sd_ln, {"units": "1", "long_name": "log-space standard deviation of mean_q: "
                                          "sd of ln(mean flow)", **provenance})
    out.model_attrs["mean_q"] = provenance
    out.attrs["prior_csv"] = user.label
    flags = io.read_model_var(sos.path, "bad_priors")
    if flags is not None and res.rows.size:
        flags = np.where(np.isfinite(flags), flags, 0).astype(np.int32)
        flags[res.rows] = 0
        out.model_vars["bad_priors"] = (flags, {})
    texts = io.read_model_var(sos.path, "bad_prior_source")
    if texts is not None and res.rows.size:
        texts = np.asarray(texts, dtype=object).copy()
        texts[res.rows] = f"prior CSV {user.path.name}"
        out.model_vars["bad_prior_source"] = (texts, {})
    LOG.info("%s: mean flow of %d reaches from the prior CSV (%s)", sos.path.name, res.rows.size, user.label)
    return new


def _s3_client() -> Any:
    import boto3

    return boto3.client("s3")


def _fetch_sos(bucket: str, prefix: str, name: str, tmp: Path) -> Path:
    dest = tmp / name
    key = io.download_sos(_s3_client(), bucket, prefix, name, dest)
    LOG.info("read the SoS from s3://%s/%s", bucket, key)
    return dest


def _upload_target(upload: str | None, version: str, name: str, branch: str) -> tuple[Any, str, str] | None:
    """Check before any work that the upload key ``{prefix}/{branch}/{version}/{name}`` is free (the public
    SoS bucket's layout: one prefix per branch); return (client, bucket, key)."""
    if not upload:
        return None
    bucket, prefix = s3.parse_url(upload)
    key = io.versioned_key(s3.join_key(prefix, branch), version, name)
    client = _s3_client()
    s3.check_destination(client, bucket, key, io.SOS_OBJECT)
    return client, bucket, key


def _gauges(sos: io.Sos, files: tuple[Path, ...], default_cal: int, nwis: bool,
            start: dt.datetime, end: dt.datetime | None
            ) -> tuple[list[io.AgencyTable], list[GaugeSeries], list[GaugeStats], list[int]]:
    """Load every source (malformed files fail here, before writing), merge, compute statistics."""
    known = set(sos.reach_id.tolist())
    # a relative path that is not found from here is taken inside the input volume (run-wide env settings)
    files = tuple(f if f.is_absolute() or f.exists() else volume_path("input", f) for f in files)
    sources: list[GaugeSource] = [SosGauges(sos.gauges)] + [open_gauge_file(f) for f in files]
    merged: dict[tuple[str, str], GaugeSeries] = {s.key: s for s in sos.gauges}
    for source in sources[1:]:
        _merge_into(merged, source, known)
    if nwis:
        sites = {s.site: s.reach_id for s in merged.values() if s.agency == "USGS"}
        today = dt.date.today()
        _merge_into(merged, NwisGauges(sites, start.date(), end.date() if end else today), known)

    series, stats, cal = [], [], []
    for s in merged.values():
        problem = series_problem(s.q)
        if problem:
            LOG.warning("%s: gauge %s %s kept without statistics: %s", s.origin, s.agency, s.site, problem)
        series.append(s)
        stats.append(GaugeStats.empty() if problem else gauge_stats(s.qt, s.q))
        cal.append(sos.gauge_cal.get(s.key, default_cal) if s.cal is None else s.cal)
    tables: dict[str, io.AgencyTable] = {}
    for s, st, c in zip(series, stats, cal, strict=True):
        t = tables.setdefault(s.agency, io.AgencyTable(s.agency, [], [], []))
        t.series.append(s)
        t.stats.append(st)
        t.cal.append(c)
    LOG.info("%d gauges in %d agencies (%s)", len(series), len(tables), ", ".join(tables) or "none")
    return list(tables.values()), series, stats, cal


def _merge_into(merged: dict[tuple[str, str], GaugeSeries], source: GaugeSource, known: set[int]) -> None:
    loaded = source.load()
    off = 0
    for s in loaded:
        if s.reach_id not in known:
            off += 1
            continue
        problem = series_problem(s.q)
        if problem:
            LOG.warning("%s: gauge %s %s skipped: %s", s.origin, s.agency, s.site, problem)
            continue
        merged[s.key] = merge_series(merged.get(s.key), s)
    if off:
        LOG.info("%s: %d of %d gauges are on reaches not in this SoS, ignored", source.name, off, len(loaded))


def _constrain(sos: io.Sos, series: list[GaugeSeries], stats: list[GaugeStats],
               cal: list[int]) -> tuple[ModelState, ModelState]:
    values = {k: np.asarray([st.as_dict()[k] for st in stats], dtype=np.float64) for k in MODEL_Q_VARS}
    if not series:
        values = {k: np.zeros((0, *sos.model.values[k].shape[1:])) for k in MODEL_Q_VARS}
    calib = pick_calibration(
        np.asarray([s.reach_id for s in series], dtype=np.int64), np.asarray([s.agency for s in series], dtype=object),
        np.asarray(cal, dtype=np.int64), np.asarray([st.n_days for st in stats], dtype=np.int64), values,
    )
    if sos.original is None and np.any(sos.model.overwritten_indexes == 1):
        LOG.warning("%s: reaches are marked overwritten but no preserved originals exist: "
                    "their current values are kept as originals", sos.path)
    result = apply_calibration(sos.model, calib, sos.original)
    LOG.info("constrained: %d reaches take gauge statistics, %d given back their model values",
             result.replaced_reaches.size, result.restored_reaches.size)
    return result.model, result.original


def _pad(rows: list[np.ndarray]) -> np.ndarray:
    width = max([1, *(r.shape[-1] for r in rows)])
    out = np.full((len(rows), width), np.nan)
    for i, r in enumerate(rows):
        out[i, :r.shape[-1]] = r
    return out


def _gbpriors(sos: io.Sos, model: ModelState, continent: str) -> dict[str, dict[str, np.ndarray]]:
    """geoBAM priors for every SoS reach and node (fill where no usable SWOT observations)."""
    run = _run_reaches(continent)
    left = leftout.read(volume_path("input"))
    obs: dict[int, io.SwotObs] = {}
    for rid in run:
        path = volume_path("input", "swot", f"{rid}_SWOT.nc")
        try:
            obs[rid] = io.read_swot(path)
        except InputError as exc:
            why = f" (left out upstream: {left[rid]})" if rid in left else ""
            LOG.warning("reach %d: no geoBAM priors: %s%s", rid, exc, why)
    missing = set(run) - set(sos.reach_id.tolist())
    if missing:
        LOG.warning("%d reaches of reaches.json are not in the SoS, e.g. %d", len(missing), min(missing))
    reach_rows = np.flatnonzero(np.isin(sos.reach_id, list(obs)))
    reach = _priors_for(sos.reach_id.size, reach_rows, [obs[int(r)] for r in sos.reach_id[reach_rows]],
                        model, reach_rows)
    bad = reach_rows[~np.isfinite(reach["river_type"][reach_rows])]
    for r in sos.reach_id[bad]:
        LOG.warning("reach %d: no usable width observations: geoBAM priors are fill", r)
    for r in sos.reach_id[reach_rows[reach["river_type"][reach_rows] == 0]]:
        LOG.warning("reach %d: too few widths to classify: geoBAM's global priors", r)
    LOG.info("geoBAM priors for %d of %d reaches (%d SoS reaches not in this run)",
             reach_rows.size - bad.size, sos.reach_id.size, sos.reach_id.size - reach_rows.size)
    return {"reach": reach, "node": _node_priors(sos, obs, model)}


def _run_reaches(continent: str) -> list[int]:
    path = volume_path("input", "reaches.json")
    items = read_json(path)
    if not isinstance(items, list):
        raise InputError("is not a JSON list", path)
    try:
        ids = [int(it["reach_id"]) for it in items]
    except (KeyError, TypeError, ValueError):
        raise InputError("every entry needs an integer reach_id", path) from None
    return [r for r in ids if continent_of(r) == continent]


def _stack(obs: list[io.SwotObs], attr: str, rows: list[int] | None = None) -> np.ndarray | None:
    """Pad one observation field of many reaches (or, with ``rows``, one node row each) to [n, t]."""
    vals = [getattr(o, attr) for o in obs]
    if all(v is None for v in vals):
        return None
    if rows is not None:
        vals = [None if v is None else v[k] for v, k in zip(vals, rows, strict=True)]
    return _pad([np.full(1, np.nan) if v is None else np.ravel(v) for v in vals])


def _priors_for(n: int, rows: np.ndarray, obs: list[io.SwotObs], model: ModelState,
                model_rows: np.ndarray, node_rows: list[int] | None = None) -> dict[str, np.ndarray]:
    """geoBAM priors for ``rows`` of ``n`` (NaN elsewhere); node rows use node widths, reach slopes."""
    if rows.size == 0:
        return {key: np.full(n, np.nan) for key in output_names()}
    node = node_rows is not None
    mv = {k: v[model_rows] for k, v in model.values.items()}
    # widths and slopes are never None in a SwotObs (and obs is not empty): their stacks are arrays
    sub = geobam_priors(
        cast(np.ndarray, _stack(obs, "node_width" if node else "width", node_rows)),
        cast(np.ndarray, _stack(obs, "slope")),
        mv["mean_q"], mv["min_q"], mv["max_q"], mv["flow_duration_q"],
        _stack(obs, "node_width_u" if node else "width_u", node_rows), _stack(obs, "slope_u"),
        _stack(obs, "d_x_area_u"),
    )
    out = {}
    for key, arr in sub.items():
        full = np.full(n, np.nan)
        full[rows] = arr
        out[key] = full
    return out


def _node_priors(sos: io.Sos, obs: dict[int, io.SwotObs], model: ModelState) -> dict[str, np.ndarray]:
    rows, reach_obs, node_k, model_rows = [], [], [], []
    reach_row = {int(r): i for i, r in enumerate(sos.reach_id)}
    node_row = {int(n): i for i, n in enumerate(sos.node_id)}
    for rid, o in obs.items():
        for k, nid in enumerate(o.node_id.tolist()):
            if nid in node_row and rid in reach_row:
                rows.append(node_row[nid])
                reach_obs.append(o)
                node_k.append(k)
                model_rows.append(reach_row[rid])
    LOG.info("geoBAM priors for nodes of %d reaches (%d nodes)", len(obs), len(rows))
    return _priors_for(sos.node_id.size, np.asarray(rows, dtype=np.int64), reach_obs, model,
                       np.asarray(model_rows, dtype=np.int64), node_rows=node_k)
