"""Pepsi-1 rivers as the workflow's own inputs, in memory (ReachObs + Priors per reach).

Pepsi-1 (Durand et al. 2016, doi:10.1002/2015WR018434) gives daily model
truth per reach (``Reach_Timeseries``) and per cross-section
(``XS_Timeseries``); see ``shared/data/README.md``.  A river becomes:

- reaches: the 1-based ``River_Info/gdrch`` (fit for use), each with a
  made-up type-1 reach id ``1{river:04d}{reach:04d}01``... (see :func:`reach_id`);
- observation times: every ``every``-th day of the daily series, starting on day 0;
- reach W, H, S from ``Reach_Timeseries``; node W, H from the cross-sections
  of the reach (``xs_rch``); ``d_x_area`` from W and H
  (:func:`~confluence_flpe.hydraulics.d_x_area_from_obs`), never the true A;
- priors: ``mean_q`` = ``River_Info/QWBM`` (the water-balance-model mean flow)
  and the rest derived from it alone (:func:`priors_from_qwbm`), never from
  the true Q;
- optional SWOT-like noise (:data:`NOISE`) with a fixed seed.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
from confluence_core import ncio, sos
from confluence_core.errors import InputError

from .hydraulics import d_x_area_from_obs, d_x_area_from_obs_2d
from .interface import Priors, ReachObs

#: MATLAB datenum of 2000-01-01 (731218 is 2002-01-01).
DATENUM_2000 = 730486
#: Log-space standard deviation of daily flow around QWBM used to derive the other priors.
#: A fixed, river-independent assumption (a lognormal with coefficient of variation ~0.9).
PRIOR_LOG_SD = 0.8
#: SWOT-like 1-sigma errors: reach wse (m), reach slope (m/m), relative width; node wse (m).
#: Reach values are the SWOT science requirements (10 cm wse over 1 km2, 1.7 cm/km slope,
#: 15 % width; Rodriguez 2016, JPL D-61923); node wse error is taken as 3x the reach's.
NOISE = {"wse": 0.10, "slope": 1.7e-5, "width_rel": 0.15, "node_wse": 0.30}


@dataclass
class PepsiReach:
    """One benchmark reach: inputs as the workflow sees them, and the truth on the same times."""

    river: str
    reach: int  # 1-based Pepsi reach number
    obs: ReachObs
    priors: Priors
    q_true: np.ndarray  # m3/s on obs times


def _var(group: netCDF4.Dataset, name: str, path: Path, time_dim: str = "Time steps") -> np.ndarray:
    """Read a variable as [time, other] whatever its stored order."""
    val = ncio.read_float(group, name)
    if val is None:
        raise InputError(f"no {getattr(group, 'path', '')}/{name}: not a Pepsi-1 file", path)
    dims = group.variables[name].dimensions
    val = np.atleast_2d(val)
    return val.T if dims and dims[-1] == time_dim else val


def reach_id(river_index: int, reach: int) -> int:
    """A made-up but valid type-1 SWORD reach id for Pepsi river ``river_index``, reach ``reach`` (1-based)."""
    return int(f"1{river_index % 10000:04d}{reach % 10000:04d}01")


def priors_from_qwbm(rid: int, qwbm: float, log_sd: float = PRIOR_LOG_SD) -> Priors:
    """SoS-like priors derived from the mean flow ``qwbm`` (m3/s) alone.

    Daily flow is taken as lognormal with arithmetic mean ``qwbm`` and log
    standard deviation ``log_sd``: ``mu = ln(qwbm) - log_sd**2 / 2``.  Then
    min_q / max_q are its 0.1 % / 99.9 % quantiles (a few years of record), flow_duration_q its quantiles
    at the SoS exceedance levels, two_year_return_q the flow exceeded one day a
    year (quantile 1 - 1/365), and monthly_q all equal to ``qwbm`` (no
    seasonality is known).
    """
    nd = statistics.NormalDist()
    mu = np.log(qwbm) - log_sd**2 / 2

    def quantile(p: float) -> float:
        return float(np.exp(mu + log_sd * nd.inv_cdf(p)))

    return Priors(
        reach_id=rid, mean_q=float(qwbm), min_q=quantile(0.001), max_q=quantile(0.999),
        two_year_return_q=quantile(1 - 1 / 365), monthly_q=np.full(12, float(qwbm)),
        flow_duration_q=np.asarray([quantile(1 - e / 100) for e in sos.EXCEEDANCE]),
    )


def load_river(path: str | Path, river_index: int = 0, every: int = 1, noise: bool = False,
               seed: int = 0) -> list[PepsiReach]:
    """Turn one Pepsi-1 file into benchmark reaches (see the module docstring).

    Parameters
    ----------
    path : Pepsi-1 NetCDF file
    river_index : int
        Used only to make distinct reach ids across rivers.
    every : int
        Sample every ``every``-th day (1: daily; 10: a SWOT-like revisit).
    noise : bool
        Add Gaussian SWOT-like errors :data:`NOISE` (seeded by ``seed`` and the river).
    seed : int
    """
    path = Path(path)
    with ncio.open_dataset(path) as ds:
        info, rt, xs = (ncio.get_group(ds, g) for g in ("River_Info", "Reach_Timeseries", "XS_Timeseries"))
        if info is None or rt is None:
            raise InputError("no River_Info or Reach_Timeseries group: not a Pepsi-1 file", path)
        qwbm_values = ncio.read_float(info, "QWBM")
        if qwbm_values is None:
            raise InputError("no River_Info/QWBM: not a Pepsi-1 file", path)
        qwbm = float(np.ravel(qwbm_values)[0])
        good = ncio.read_float(info, "gdrch")
        t = _var(rt, "t", path)[:, 0]
        W, H, S, Q = (_var(rt, v, path) for v in ("W", "H", "S", "Q"))
        bnd = ncio.read_float(info, "rch_bnd")
        xsW = xsH = xs_rch = None
        if xs is not None and ncio.has_var(xs, "xs_rch"):
            xsW, xsH = _var(xs, "W", path), _var(xs, "H", path)
            xs_rch = np.asarray(ncio.read_int(xs, "xs_rch")).ravel()
    n_reach = W.shape[1]
    reaches = [int(r) for r in np.ravel(good)] if good is not None else list(range(1, n_reach + 1))
    idx = np.arange(0, t.size, max(1, int(every)))
    time = (t[idx] - DATENUM_2000) * 86400.0
    days = np.datetime64("2000-01-01T00:00:00") + (time.astype(np.int64)).astype("timedelta64[s]")
    time_str = np.asarray([f"{d}Z" for d in np.datetime_as_string(days, unit="s")], dtype=object)
    rng = np.random.default_rng([seed, river_index])
    out = []
    for r in reaches:
        c = r - 1
        w, h, s = W[idx, c].copy(), H[idx, c].copy(), S[idx, c].copy()
        nw = nh = None
        if xsW is not None and xsH is not None and xs_rch is not None and np.any(xs_rch == r):
            cols = np.flatnonzero(xs_rch == r)
            nw, nh = xsW[idx][:, cols].T.copy(), xsH[idx][:, cols].T.copy()
        if noise:
            h += rng.normal(0, NOISE["wse"], h.shape)
            s += rng.normal(0, NOISE["slope"], s.shape)
            w *= 1 + rng.normal(0, NOISE["width_rel"], w.shape)
            if nw is not None and nh is not None:
                nh += rng.normal(0, NOISE["node_wse"], nh.shape)
                nw *= 1 + rng.normal(0, NOISE["width_rel"], nw.shape)
        rid = reach_id(river_index, r)
        obs = ReachObs(
            reach_id=rid, time=time.copy(), time_str=time_str.copy(), width=w, wse=h, slope=s,
            d_x_area=d_x_area_from_obs(w, h), dA_from_obs=True,
            width_u=np.full(w.shape, NOISE["width_rel"]) * w if noise else None,
            wse_u=np.full(h.shape, NOISE["wse"]) if noise else None,
            slope_u=np.full(s.shape, NOISE["slope"]) if noise else None,
            node_id=None if nw is None else rid // 10 * 10000 + np.arange(1, nw.shape[0] + 1) * 10 + 1,
            node_width=nw, node_wse=nh,
            node_d_x_area=None if nw is None or nh is None else d_x_area_from_obs_2d(nw, nh),
            reach_length=float(bnd[r] - bnd[r - 1]) if bnd is not None and bnd.size > r else float("nan"),
            prior_width=float(np.nanmedian(W[:, c])),
        )
        out.append(PepsiReach(path.stem, r, obs, priors_from_qwbm(rid, qwbm), Q[idx, c].copy()))
    return out
