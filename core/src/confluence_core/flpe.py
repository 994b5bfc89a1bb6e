"""Reading FLPE results by the output contract (``flpe_outputs.toml``), for every later step.

Steps after FLPE (postdiagnostics, MOI, offline, validation, output) never
import an algorithm: they read its per-reach file through :func:`read_result`,
driven by the table in ``flpe_outputs.toml``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from . import ncio
from .errors import InputError


@dataclass(frozen=True)
class FlpeOutput:
    """Where one algorithm's per-reach results live."""

    name: str
    folder: str
    file: str
    q: tuple[str, ...]
    q_u: str
    params: dict[str, str]
    moi: str
    offline: str

    def path(self, flpe_root: Path, reach_id: int | str) -> Path:
        return Path(flpe_root) / self.folder / self.file.format(reach_id=reach_id)


@dataclass
class FlpeReachResult:
    """One algorithm's results for one reach; NaN where missing. ``valid`` from the file attribute."""

    name: str
    reach_id: int
    q: np.ndarray
    q_u: np.ndarray | None = None
    params: dict[str, float] = field(default_factory=dict)
    valid: bool = True


@cache
def _table() -> dict:
    text = resources.files("confluence_core").joinpath("flpe_outputs.toml").read_text()
    return tomllib.loads(text)


def _spec(name: str, row: dict) -> FlpeOutput:
    return FlpeOutput(name=name, folder=row["folder"], file=row["file"], q=tuple(row["q"]), q_u=row["q_u"],
                      params=dict(row["params"]), moi=row["moi"], offline=row["offline"])


def algorithms() -> dict[str, FlpeOutput]:
    """Every FLPE algorithm's output contract (consensus not included), in table order."""
    return {name: _spec(name, row) for name, row in _table()["algorithms"].items()}


def consensus() -> FlpeOutput:
    """The consensus output contract."""
    return _spec("consensus", _table()["consensus"])


def _read(ds: object, path: str, reach_id: int) -> np.ndarray | None:
    group_path, _, name = path.rpartition("/")
    grp = ncio.get_group(ds, group_path) if group_path else ds  # type: ignore[arg-type]
    values = ncio.read_float(grp, name)
    if values is None:
        return None
    if values.ndim == 2 or (values.ndim == 1 and "nr" in grp[name].dimensions):  # [nr, nt] or [nr]
        ids = ncio.read_int(ds, "reach_id")
        row = 0
        if ids is not None and np.ndim(ids) == 1 and int(reach_id) in ids:
            row = int(np.flatnonzero(ids == int(reach_id))[0])
        values = values[row]
    return values


def _mean_of(series: list[np.ndarray]) -> np.ndarray:
    """Per-time mean of several series (chains), NaN where none has a value."""
    if len(series) == 1:
        return series[0]
    stack = np.vstack([np.atleast_1d(s) for s in series])
    count = np.isfinite(stack).sum(axis=0)
    total = np.where(np.isfinite(stack), stack, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def read_result(spec: FlpeOutput, flpe_root: Path, reach_id: int | str) -> FlpeReachResult | None:
    """Read a reach's results, or None when the algorithm wrote no file for it.

    Raises
    ------
    InputError
        When the file exists but is not readable NetCDF.
    """
    path = spec.path(flpe_root, reach_id)
    if not path.exists():
        return None
    rid = int(reach_id)
    with ncio.open_dataset(path) as ds:
        series = [s for s in (_read(ds, p, rid) for p in spec.q) if s is not None]
        if not series:
            raise InputError(f"has none of the discharge variables {', '.join(spec.q)}", path)
        q = _mean_of(series)
        q_u = _read(ds, spec.q_u, rid) if spec.q_u else None
        params = {}
        for key, var in spec.params.items():
            val = _read(ds, var, rid)
            params[key] = float(np.ravel(val)[0]) if val is not None and np.size(val) else float("nan")
        valid = int(np.ravel(ds.getncattr("valid"))[0]) != 0 if "valid" in ds.ncattrs() else True
    q = np.atleast_1d(np.asarray(q, dtype=np.float64))
    q = np.where(q < -1e10, np.nan, q)
    return FlpeReachResult(spec.name, rid, q, None if q_u is None else np.atleast_1d(q_u), params, valid)
