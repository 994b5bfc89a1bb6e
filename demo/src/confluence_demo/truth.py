"""The truth of the demo world: ``truth/truth.nc`` and ``truth/README.md``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from confluence_core import ncio
from confluence_core.atomic import write_text

from .hydrology import Hydraulics
from .network import Network
from .observe import BAD_KINDS, START, Observations, time_str

A0_CONVENTION = (
    "A = A0 + d_x_area. A0 (m2) is the flow area at the reach's reference state: the median of its "
    "true daily depth over the simulated period; the reference WSE (wse_ref) and width (width_ref) are "
    "the reach-centre WSE and width at that depth. d_x_area (true and observed) is relative to that "
    "reference: zero at the median stage, negative below it. Observed d_x_area = (width + width_ref)/2 * "
    "(wse - wse_ref) from the observed reach width and WSE. To use the minimum observed area as the "
    "reference instead: A0_min = A0 + min(true d_x_area over the observations)."
)


def write_truth(path: Path, net: Network, hyd: Hydraulics, obs: Observations, facc: np.ndarray,
                prior_bias: np.ndarray, attrs: dict[str, object]) -> None:
    """Write ``truth.nc``: per reach, per node, per day, per reach and node observation."""
    R, D = hyd.Q.shape
    M, L, K = obs.r.size, obs.node.size, net.node_id.size
    with ncio.create(path, title="Confluence demo world: truth", a0_convention=A0_CONVENTION,
                     start_date=START.strftime("%Y-%m-%d"),
                     bad_kinds="; ".join(f"{k} {v}" for k, v in BAD_KINDS.items()), **attrs) as ds:
        for name, size in (("reach", R), ("node", K), ("day", D), ("obs", M), ("nobs", L)):
            ds.createDimension(name, size)
        ncio.write_var(ds, "day", np.arange(D), ("day",), "i4",
                       attrs={"units": f"days since {START:%Y-%m-%d}", "calendar": "standard"})

        g = ds.createGroup("reaches")
        rows = [
            ("reach_id", net.reach_id, "i8", None), ("basin", net.basin, "i4", None),
            ("type", net.rtype, "i4", None), ("n_nodes", net.n_nodes, "i4", None),
            ("length", net.length, "f8", "m"), ("dist_out", net.dist_out, "f8", "m"),
            ("facc", facc, "f8", "km2"), ("manning_n", hyd.n, "f8", "s m-1/3"),
            ("b", hyd.b, "f8", "1"), ("Wb", hyd.Wb, "f8", "m"), ("Db", hyd.Db, "f8", "m"),
            ("bed_slope", hyd.S0, "f8", "m/m"), ("Qbf", hyd.Qbf, "f8", "m3/s"),
            ("A0", hyd.A0, "f8", "m2"), ("depth_ref", hyd.Y_ref, "f8", "m"),
            ("width_ref", hyd.W_ref, "f8", "m"), ("wse_ref", hyd.z_ref, "f8", "m"),
            ("bed", hyd.bed, "f8", "m"), ("prior_bias", prior_bias, "f8", "1"),
            ("mean_q", hyd.Q.mean(axis=1), "f8", "m3/s"),
        ]
        for name, data, dtype, units in rows:
            ncio.write_var(g, name, data, ("reach",), dtype, attrs={"units": units} if units else None)
        up = net.up_ids()
        ds.createDimension("four", 4)
        ncio.write_var(g, "rch_id_up", up, ("reach", "four"), "i8")
        for name, data, units in (("q", hyd.Q, "m3/s"), ("lateral_q", hyd.lateral, "m3/s"),
                                  ("depth", hyd.Y, "m"), ("width", hyd.W, "m"), ("wse", hyd.H, "m"),
                                  ("slope", hyd.S, "m/m"), ("area", hyd.A, "m2"),
                                  ("d_x_area", hyd.A - hyd.A0[:, None], "m2")):
            ncio.write_var(g, name, data, ("reach", "day"), attrs={"units": units}, zlib=True)

        g = ds.createGroup("nodes")
        ncio.write_var(g, "node_id", net.node_id, ("node",), "i8")
        ncio.write_var(g, "reach_id", net.reach_id[net.node_reach], ("node",), "i8")
        ncio.write_var(g, "dist_out", net.node_dist_out, ("node",), attrs={"units": "m"})
        ncio.write_var(g, "width_factor", hyd.node_width_factor, ("node",), attrs={"units": "1"})

        g = ds.createGroup("reach_obs")
        ncio.write_var(g, "reach_id", net.reach_id[obs.r], ("obs",), "i8")
        ncio.write_var(g, "cycle", obs.cycle, ("obs",), "i4")
        ncio.write_var(g, "pass", obs.pass_, ("obs",), "i4")
        ncio.write_var(g, "version_d", (obs.version == "D").astype(np.int32), ("obs",), "i4")
        ncio.write_var(g, "time", obs.time, ("obs",), attrs={"units": "seconds since 2000-01-01 00:00:00"})
        g.createVariable("time_str", str, ("obs",))[:] = time_str(obs.time)
        ncio.write_var(g, "day", obs.day, ("obs",), "i4")
        for name, data, units in (("q", obs.true["q"], "m3/s"), ("wse", obs.true["wse"], "m"),
                                  ("width", obs.true["width"], "m"), ("slope", obs.true["slope"], "m/m"),
                                  ("area", obs.true["area"], "m2"), ("d_x_area", obs.true["d_x_area"], "m2")):
            ncio.write_var(g, f"true_{name}", data, ("obs",), attrs={"units": units})
        for name in ("wse", "width", "slope", "d_x_area"):
            ncio.write_var(g, f"obs_{name}", obs.values[name], ("obs",))
        ncio.write_var(g, "planted_bad", (obs.bad_kind > 0).astype(np.int32), ("obs",), "i4")
        ncio.write_var(g, "bad_kind", obs.bad_kind, ("obs",), "i4",
                       attrs={"meaning": "; ".join(f"{k} {v}" for k, v in BAD_KINDS.items())})
        ncio.write_var(g, "xtrk_outside", obs.xtrk_outside.astype(np.int32), ("obs",), "i4")

        g = ds.createGroup("node_obs")
        ncio.write_var(g, "node_id", net.node_id[obs.node], ("nobs",), "i8", zlib=True)
        ncio.write_var(g, "obs_index", obs.node_obs, ("nobs",), "i4", zlib=True,
                       attrs={"long_name": "index of the reach observation (reach_obs group)"})
        ncio.write_var(g, "true_wse", obs.node_true["wse"], ("nobs",), attrs={"units": "m"}, zlib=True)
        ncio.write_var(g, "true_width", obs.node_true["width"], ("nobs",), attrs={"units": "m"}, zlib=True)
        ncio.write_var(g, "observed", obs.node_observed.astype(np.int32), ("nobs",), "i4", zlib=True)
        ncio.write_var(g, "planted_bad", (obs.node_bad_kind > 0).astype(np.int32), ("nobs",), "i4",
                       zlib=True)
        ncio.write_var(g, "bad_kind", obs.node_bad_kind, ("nobs",), "i4", zlib=True)


README = """# Truth of the Confluence demo world

`truth.nc` (NetCDF4) holds what the SWOT-like files around it were made from.
Generated by `confluence_demo.generate` (seed and kind in the global attributes
and in `../manifest.json`). Fill: floats -999999999999, ints -999.

## Conventions
- Time: `time` is seconds since 2000-01-01T00:00:00 UTC (SWOT convention,
  leap seconds ignored); `time_str` is `YYYY-MM-DDThh:mm:ssZ`. Day `d` of the
  daily series is `START + d days` (`day` variable, `units` attribute); cycle 1
  starts on START ({start}); pass p of cycle c flies at
  `START + (c-1)*21 d + (p-1)*21 d/584`.
- **A0 convention**: {a0}
- Slopes are m/m (positive: water surface falls downstream). The SWORD file
  stores slope in m/km, like SWORD.
- Hydraulics per reach: power-law section `W = Wb (Y/Db)^b`,
  `A = W Y / (b+1)`, hydraulic radius `R = A/W`, Manning
  `Q = A R^(2/3) S^(1/2) / n` holds exactly for every day:
  `q, area, width, slope, manning_n` (and `depth`) satisfy it.
- Mass: `q[r] = lateral_q[r] + sum(q[u] for u upstream of r)` every day
  (routing without delay; headwater reaches have all their flow as lateral).

## Groups and variables
- root: `day` [day].
- `reaches` [reach]: `reach_id`, `basin` (4 digits), `type` (1 river, 3 lake,
  4 dam), `n_nodes`, `length` (m), `dist_out` (m, upstream end), `facc` (km2),
  `manning_n`, `b`, `Wb` (bankfull width, m), `Db` (bankfull depth, m),
  `bed_slope` (m/m), `Qbf` (bankfull discharge, m3/s), `A0` (m2),
  `depth_ref`, `width_ref`, `wse_ref` (reference state, m), `bed` (bed
  elevation at the reach centre, m), `prior_bias` (SoS model prior / truth
  multiplier), `mean_q` (m3/s), `rch_id_up` [reach, 4] (0 = none);
  daily [reach, day]: `q`, `lateral_q` (m3/s), `depth`, `width`, `wse`
  (reach centre, m), `slope` (water-surface, m/m), `area` (m2), `d_x_area`
  (m2, = area - A0).
- `nodes` [node]: `node_id`, `reach_id`, `dist_out` (m), `width_factor`
  (node width / reach width, mean 1 per reach). True node WSE = reach `wse` +
  `slope` * (node dist_out - reach centre dist_out).
- `reach_obs` [obs] (one per reach and overpass; match granule records on
  `reach_id` + `cycle` + `pass`): `reach_id`, `cycle`, `pass`,
  `version_d` (1 = version D granule, 0 = PGA2), `time`, `time_str`, `day`;
  truth at the pass: `true_q`, `true_wse`, `true_width`, `true_slope`,
  `true_area`, `true_d_x_area`; what the granule says: `obs_wse`,
  `obs_width`, `obs_slope`, `obs_d_x_area` (NaN/fill when too few nodes);
  `planted_bad` (1 = corrupted on purpose), `bad_kind` (0 none, 1 ice,
  2 dark, 3 xovr, 4 outlier), `xtrk_outside` (1 = |xtrk_dist| outside
  10-60 km: values are good but prediagnostics removes them).
- `node_obs` [nobs] (every node of every reach observation, as in the
  Node granules): `node_id`, `obs_index` (index into `reach_obs`), `true_wse`,
  `true_width`, `observed` (0 = fill in the granule), `planted_bad`,
  `bad_kind` (the reach observation's kind for all its observed nodes, or 4
  for a node-only outlier; 0 for unobserved nodes).

## Planted bad observations
- ice (1): arctic basin, 10 Dec - 20 Mar: `ice_clim_f` 2, `ice_dyn_f` 1-2,
  `reach_q` 2; WSE raised 0.3-1.5 m, width x0.3-0.8. (Nov, early Dec, late
  Mar and Apr: `ice_clim_f` 1, values good.)
- dark (2): `dark_frac` 0.62-0.95, width x0.4-0.7, `reach_q` 3.
- xovr (3): `xovr_cal_q` 2, WSE offset +-0.5-3 m, `reach_q` 2.
- outlier (4): WSE +-3-8 m or width x2.5-3.5 with no flag at all.
- node-only outliers (node `bad_kind` 4): one node's WSE +-3-8 m or width x3,
  no flag; the reach fit leaves them out.
Reach values are a least-squares WSE line (wse at the reach centre, slope)
and the mean width through the observed nodes (node-only outliers excluded),
so corrupted nodes give corrupted reach values.

## Errors of good observations
Node WSE: Gaussian, sd `wse_u` = clip(0.1 sqrt(150/W), 0.05, 0.25) m plus a
random along-reach tilt (sd 1.5e-5) common to the reach observation; node width
sd 10-15 % (`width_u`); reach `slope_u` ~ 1.7e-5; `slope2` = truth + 0.6 x
(slope error); `wse_c`/`width_c` of version D granules equal `wse`/`width`.
"""


def write_readme(path: Path) -> None:
    """Write ``truth/README.md``."""
    write_text(path, README.replace("{start}", START.strftime("%Y-%m-%d")).replace("{a0}", A0_CONVENTION))
