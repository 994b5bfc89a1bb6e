"""Read gauges, observation times and discharge products; write and read validation files.

Inputs (contracts.md sections 6, 8, 9), all read by name and tolerant of
absent optional parts:

- ``input/sos/{sos}``: agencies from the global attribute ``gauge_agency``
  (``;`` or ``,`` separated) and from groups holding ``{A}_reach_id``; per
  agency ``{A}_reach_id``, ``{A}_id``, ``{A}_q[gauge, day]``, ``{A}_qt``
  (days since 0001-01-01; ``[gauge, day]`` or ``[day]``), ``{A}_CAL`` (0 =
  validation gauge).
- ``input/swot/{swot}``: ``reach/time`` on ``nt`` (s since 2000-01-01 UTC).
- FLPE results through ``confluence_core.flpe`` (``flpe_outputs.toml``),
  ``moi/{reach}_integrator.nc`` (group per algorithm, ``q[nt]``),
  ``offline/{reach}_offline.nc`` (``{prefix}_q_c`` / ``{prefix}_q_uc`` on ``nt``).

Output: ``validation/{reach}_validation.nc`` (layout in the module README and
:func:`write_validation`), written whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
from confluence_core import flpe, integrator, ncio, scores
from confluence_core.errors import InputError
from confluence_core.volumes import volume_path

log = logging.getLogger("confluence-validation")

PRODUCT_DIM = "num_products"
DAY_DIM = "num_days"
DAY_UNITS = "days since 0001-01-01"


# --- gauges ------------------------------------------------------------------------------------


@dataclass
class GaugeRecord:
    """One gauge row of an SoS agency group: raw day numbers and discharge (fills as NaN)."""

    agency: str
    gauge_id: str
    reach_id: int
    cal: int
    qt: np.ndarray
    q: np.ndarray

    @property
    def label(self) -> str:
        """``AGENCY gauge ID`` for log lines."""
        return f"{self.agency} gauge {self.gauge_id}"


def agencies_of(ds: Any) -> list[str]:
    """Agencies of an SoS: the ``gauge_agency`` attribute (``;`` or ``,`` separated), then gauge groups."""
    names: list[str] = []
    if "gauge_agency" in ds.ncattrs():
        names = [a.strip() for a in re.split(r"[;,]", str(ds.getncattr("gauge_agency"))) if a.strip()]
    names += [g for g in ds.groups if ncio.has_var(ds.groups[g], f"{g}_reach_id")]
    return list(dict.fromkeys(names))


def _agency_group(ds: Any, agency: str) -> Any | None:
    grp = ncio.get_group(ds, agency)
    if ncio.has_var(grp, f"{agency}_reach_id"):
        return grp
    return ds if ncio.has_var(ds, f"{agency}_reach_id") else None


def _row(values: np.ndarray | None, i: int | np.integer, n_days: int | None = None) -> np.ndarray:
    """Row ``i`` of a ``[gauge, day]`` variable (or the whole of a shared ``[day]`` one), a copy (the
    SoS table is shared by the reaches of a job)."""
    if values is None:
        return np.full(n_days or 0, np.nan)
    return np.array(values[i] if values.ndim == 2 else values, dtype=np.float64)


def read_gauges(sos_path: Path, reach_id: int, cal: int | None = 0) -> list[GaugeRecord]:
    """Gauges of ``reach_id`` in the SoS with ``{A}_CAL == cal`` (all gauges of the reach when ``cal`` is None).

    An agency without ``{A}_CAL`` has no validation gauge (logged at debug level).  The SoS is
    read once per process and file version (:func:`_gauge_table`): a grouped job's reaches share it.

    Raises
    ------
    InputError
        When the SoS is missing or unreadable, or an agency group's variables do not fit together.
    """
    found: list[GaugeRecord] = []
    for table in _gauge_table(Path(sos_path)):
        agency = table.agency
        if table.ids is None:
            log.debug("%s: agency %s listed but has no %s_reach_id", sos_path, agency, agency)
            continue
        ids = table.ids
        if table.flags is None and cal is not None:
            log.debug("%s: %s has no %s_CAL; none of its gauges is a validation gauge",
                      sos_path, agency, agency)
            continue
        flags = np.full(ids.size, -999) if table.flags is None else table.flags
        rows = np.flatnonzero((ids == int(reach_id)) & ((flags == cal) if cal is not None else True))
        if rows.size == 0:
            continue
        names, q, qt = table.names, table.q, table.qt
        if q is None or qt is None or q.ndim != 2 or q.shape[0] != ids.size or \
                qt.shape[-1] != q.shape[-1] or (qt.ndim == 2 and qt.shape[0] != ids.size):
            raise InputError(f"agency {agency}: {agency}_q / {agency}_qt absent or not [gauge, day] "
                             f"for {ids.size} gauges", sos_path)
        for i in rows:
            gid = str(names.ravel()[i]).strip() if names is not None and names.size > i else f"#{i}"
            found.append(GaugeRecord(agency, gid, int(reach_id), int(flags[i]), _row(qt, i), _row(q, i)))
    return found


@dataclass(frozen=True)
class AgencyTable:
    """One agency's gauges in an SoS file, as stored (``ids`` None: listed without ``{A}_reach_id``)."""

    agency: str
    ids: np.ndarray | None
    flags: np.ndarray | None = None
    names: np.ndarray | None = None
    q: np.ndarray | None = None
    qt: np.ndarray | None = None


def _gauge_table(path: Path) -> tuple[AgencyTable, ...]:
    """Every agency's gauges of the SoS ``path``, read once per process and file version (inode, size, mtime)."""
    try:
        stat = path.stat()
    except OSError:
        return _read_gauge_table(str(path))  # raises the reader's error, naming the file
    return _cached_gauge_table(str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _cached_gauge_table(path: str, _inode: int, _size: int, _mtime_ns: int) -> tuple[AgencyTable, ...]:
    return _read_gauge_table(path)


def clear_caches() -> None:
    """Forget the SoS tables read once per process (a job starts with none: its inputs are fixed while it runs)."""
    _cached_gauge_table.cache_clear()


def _read_gauge_table(path: str) -> tuple[AgencyTable, ...]:
    out: list[AgencyTable] = []
    with ncio.open_dataset(path) as ds:
        for agency in agencies_of(ds):
            grp = _agency_group(ds, agency)
            if grp is None:
                out.append(AgencyTable(agency, None))
                continue
            ids = np.asarray(ncio.read_int(grp, f"{agency}_reach_id"), dtype=np.int64).ravel()
            flags = ncio.read_int(grp, f"{agency}_CAL")
            out.append(AgencyTable(
                agency, ids, None if flags is None else np.asarray(flags).ravel(),
                ncio.read_strings(grp, f"{agency}_id"), ncio.read_float(grp, f"{agency}_q"),
                ncio.read_float(grp, f"{agency}_qt")))
    return tuple(out)


def read_gauge(sos_path: Path, agency: str, gauge_id: str, reach_id: int) -> GaugeRecord | None:
    """One gauge (any CAL) by agency and id on ``reach_id``, or None when the SoS no longer has it."""
    for rec in read_gauges(sos_path, reach_id, cal=None):
        if rec.agency == agency and rec.gauge_id == gauge_id:
            return rec
    return None


# --- observations and products ----------------------------------------------------------------


def read_times(swot_path: Path, reach_id: int) -> np.ndarray:
    """``reach/time`` of a SWOT file (s since 2000-01-01 UTC), NaN where fill.

    Raises
    ------
    InputError
        When the file is missing, unreadable or has no ``reach/time``.
    """
    with ncio.open_dataset(swot_path) as ds:
        times = ncio.read_float(ncio.get_group(ds, "reach"), "time")
        if times is None:
            raise InputError("no reach/time variable: cannot place the observations in time", swot_path)
        stored = ncio.read_int(ds["reach"], "reach_id")
    if stored is not None and np.size(stored) and 0 < int(np.ravel(stored)[0]) != int(reach_id):
        raise InputError(f"holds reach {int(np.ravel(stored)[0])}, not {reach_id}", swot_path)
    return np.atleast_1d(times).astype(np.float64)


@dataclass
class Product:
    """One discharge product of a reach on the SWOT time axis."""

    name: str
    family: str
    source: str
    q: np.ndarray


def _as_series(values: np.ndarray | None, nt: int, where: str) -> np.ndarray | None:
    if values is None:
        return None
    q = np.atleast_1d(np.asarray(values, dtype=np.float64)).ravel()
    if q.size != nt:
        log.warning("%s: %d values where the SWOT file has nt = %d; product skipped", where, q.size, nt)
        return None
    return q


def read_flpe(reach_id: int, nt: int, flpe_root: Path) -> list[Product]:
    """Unconstrained discharge of every FLPE algorithm and of consensus that wrote a file for the reach."""
    out: list[Product] = []
    specs = [*flpe.algorithms().values(), flpe.consensus()]
    for spec in specs:
        path = spec.path(flpe_root, reach_id)
        try:
            res = flpe.read_result(spec, flpe_root, reach_id)
        except (InputError, OSError, KeyError, ValueError, IndexError) as exc:
            log.warning("%s: cannot read %s results (%s); product skipped", path, spec.name, exc)
            continue
        if res is None:
            log.debug("%s: absent; no %s product", path, spec.name)
            continue
        if not res.valid:
            log.info("%s: flagged valid = 0; scored on whatever values it holds", path)
        where = f"{path}:{'+'.join(spec.q)}"
        q = _as_series(res.q, nt, where)
        if q is not None:
            family = "consensus" if spec.name == "consensus" else "flpe"
            out.append(Product(spec.name, family, f"flpe/{spec.folder}/{path.name}:{'+'.join(spec.q)}", q))
    return out


def read_moi(reach_id: int, nt: int, path: Path) -> list[Product]:
    """MOI-integrated discharge ``{group}/q`` of every algorithm with an MOI group (``moi`` field)."""
    try:
        groups = integrator.read_integrator(path)
    except InputError as exc:
        log.warning("%s: cannot read MOI results (%s); MOI products skipped", path, exc.reason)
        return []
    if groups is None:
        log.debug("%s: absent; no MOI products", path)
        return []
    out: list[Product] = []
    for spec in flpe.algorithms().values():
        group = groups.get(spec.moi) if spec.moi else None
        q = _as_series(group.q, nt, f"{path}:{spec.moi}/q") if group is not None else None
        if q is not None:
            out.append(Product(f"moi_{spec.name}", "moi", f"moi/{path.name}:{spec.moi}/q", q))
    return out


def read_offline(reach_id: int, nt: int, path: Path) -> list[Product]:
    """Offline constrained / unconstrained discharge ``{prefix}_q_c`` / ``{prefix}_q_uc`` (``offline`` field)."""
    if not path.exists():
        log.debug("%s: absent; no offline products", path)
        return []
    out: list[Product] = []
    specs = [*flpe.algorithms().values(), flpe.consensus()]
    try:
        with ncio.open_dataset(path) as ds:
            for spec in specs:
                if not spec.offline:
                    continue
                for kind in ("c", "uc"):
                    var = f"{spec.offline}_q_{kind}"
                    q = _as_series(ncio.read_float(ds, var), nt, f"{path}:{var}")
                    if q is not None:
                        out.append(Product(f"offline_{spec.name}_{kind}", "offline", f"offline/{path.name}:{var}",
                                           q))
    except (InputError, OSError, RuntimeError) as exc:
        log.warning("%s: cannot read offline results (%s); offline products skipped", path, exc)
        return []
    return out


def read_products(reach_id: int, nt: int) -> list[Product]:
    """Every product of a reach from the flpe, moi and offline volumes, in a fixed order."""
    return [
        *read_flpe(reach_id, nt, volume_path("flpe")),
        *read_moi(reach_id, nt, volume_path("moi", f"{reach_id}_integrator.nc")),
        *read_offline(reach_id, nt, volume_path("offline", f"{reach_id}_offline.nc")),
    ]


# --- the validation file -----------------------------------------------------------------------


def validation_path(reach_id: int) -> Path:
    """``validation/{reach_id}_validation.nc``."""
    return volume_path("validation", f"{reach_id}_validation.nc")


def _char_dim(ds: Any, name: str, values: list[str]) -> str:
    ds.createDimension(name, max([1, *(len(v.encode()) for v in values)]))
    return name


def write_validation(path: Path, products: list[Product], stats: Mapping[str, np.ndarray], days: np.ndarray,
                     gauge_q: np.ndarray, est_q: np.ndarray, attrs: Mapping[str, Any]) -> Path:
    """Write ``{reach}_validation.nc`` atomically.

    Layout: dims ``num_products``, ``num_days`` (observation days) and char
    dims; ``products``, ``family``, ``source`` [num_products] (strings);
    one f8 variable per statistic (``nse r2 kge rmse nrmse nbias r``) and
    ``n_matched`` (i4) [num_products]; ``day`` [num_days] (days since
    0001-01-01, gauge local day), ``gauge_q`` [num_days] and ``product_q``
    [num_products, num_days] (daily mean estimates) in m3/s; global attributes
    from ``attrs``.  NaN is written as -999999999999.
    """
    names = [p.name for p in products]
    with ncio.create(path, **dict(attrs)) as ds:
        ds.createDimension(PRODUCT_DIM, len(products))
        ds.createDimension(DAY_DIM, int(np.size(days)))
        for var, values, long_name in (
            ("products", names, "product name: FLPE algorithm, consensus, moi_<algo>, offline_<algo>_<c|uc>"),
            ("family", [p.family for p in products], "flpe, consensus, moi or offline"),
            ("source", [p.source for p in products], "file (below the mount root) and variable read"),
        ):
            ncio.write_strings(ds, var, values, (PRODUCT_DIM,), char_dim=_char_dim(ds, f"nchar_{var}", values),
                               fill=None, attrs={"long_name": long_name})
        for name in scores.NAMES:
            ncio.write_var(ds, name, stats[name], (PRODUCT_DIM,),
                           attrs={"long_name": scores.DEFINITIONS[name], "units": scores.UNITS[name]})
        ncio.write_var(ds, "n_matched", stats["n_matched"], (PRODUCT_DIM,), "i4",
                       attrs={"long_name": scores.DEFINITIONS["n_matched"], "units": "1"})
        ncio.write_var(ds, "day", np.asarray(days, dtype=np.int64), (DAY_DIM,), "i4",
                       attrs={"units": DAY_UNITS, "long_name": "observation day in the gauge's local time"})
        ncio.write_var(ds, "gauge_q", gauge_q, (DAY_DIM,),
                       attrs={"units": "m3/s", "long_name": "gauge daily discharge on the observation day"})
        ncio.write_var(ds, "product_q", np.reshape(est_q, (len(products), int(np.size(days)))),
                       (PRODUCT_DIM, DAY_DIM),
                       attrs={"units": "m3/s", "long_name": "mean estimate of the product on the observation day"})
    return path


@dataclass
class ValidationFile:
    """What the summary needs from one validation file."""

    path: Path
    reach_id: int
    attrs: dict[str, Any]
    products: list[str]
    family: list[str]
    stats: dict[str, np.ndarray] = field(default_factory=dict)
    days: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    gauge_q: np.ndarray = field(default_factory=lambda: np.zeros(0))
    product_q: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))


def read_validation(path: Path) -> ValidationFile:
    """Read a ``{reach}_validation.nc`` written by :func:`write_validation`.

    Raises
    ------
    InputError
        When the file is unreadable or lacks the variables of the layout.
    """
    with ncio.open_dataset(path) as ds:
        attrs = {k: ds.getncattr(k) for k in ds.ncattrs()}
        names = ncio.read_strings(ds, "products")
        if names is None or any(not ncio.has_var(ds, s) for s in (*scores.NAMES, "n_matched")):
            raise InputError("not a validation file: products or statistics variables missing", path)
        family = ncio.read_strings(ds, "family", np.full(names.shape, "", dtype=object))
        # present: checked above
        stats = {s: np.atleast_1d(cast(np.ndarray, ncio.read_float(ds, s))) for s in scores.NAMES}
        stats["n_matched"] = np.atleast_1d(cast(np.ndarray, ncio.read_int(ds, "n_matched"))).astype(np.int64)
        days = np.atleast_1d(ncio.read_int(ds, "day", np.zeros(0, np.int64))).astype(np.int64)
        gauge_q = np.atleast_1d(ncio.read_float(ds, "gauge_q", np.zeros(0)))
        product_q = ncio.read_float(ds, "product_q", np.zeros((len(names), 0)))
    reach_id = int(attrs.get("reach_id", str(path.name).split("_")[0]))
    return ValidationFile(path, reach_id, attrs, [str(n) for n in names.ravel()],
                          [str(f) for f in np.ravel(family)], stats, days, gauge_q,
                          np.reshape(product_q, (len(names), days.size)))


def now_utc() -> str:
    """Creation time stamp, ``YYYY-MM-DDThh:mm:ssZ``."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run_id() -> str:
    """``CONFLUENCE_RUN_ID`` or ``""``."""
    return os.environ.get("CONFLUENCE_RUN_ID", "")
