"""SoS ``{c}_sword_v{N}_SOS_priors.nc`` layout (contracts.md section 8).

Dimensions live at the root: ``num_reaches``, ``num_nodes``, ``num_months``
(12), ``probability`` (20 flow-duration exceedance levels), and per gauge
agency ``num_{A}_reaches`` and ``num_days``-like ``{A}_num_days``.

Groups and variables (all floats with ``_FillValue`` -999999999999, flags -999):

- ``reaches``: reach_id (i8), x, y (f8), river_name (str)
- ``nodes``: node_id (i8), reach_id (i8), x, y
- ``model``: mean_q, min_q, max_q, two_year_return_q [num_reaches];
  monthly_q [num_reaches, num_months]; flow_duration_q [num_reaches, probability];
  probability [probability] (exceedance, %); overwritten_indexes (i4, 1 where a
  gauge replaced the model values) and overwritten_source (str) [num_reaches];
  bad_priors (i4), bad_prior_source (str) [num_reaches]
- ``gbpriors/reach`` and ``gbpriors/node``: geoBAM priors on num_reaches /
  num_nodes (names in :data:`GB_PARAMS` with suffixes ``_hat``, ``_sd``,
  ``lower_``/``upper_`` prefixes, plus :data:`GB_EXTRA`)
- one group per gauge agency ``{A}`` (USGS, WSC, GRDC ...): ``{A}_reach_id`` (i8),
  ``{A}_id`` (str) [num_{A}_reaches]; ``{A}_q`` [num_{A}_reaches, {A}_num_days] (m3/s),
  ``{A}_qt`` [num_{A}_reaches, {A}_num_days] (days since 0001-01-01, proleptic
  Gregorian: ``date.toordinal() - 1``); ``{A}_mean_q``, ``{A}_min_q``, ``{A}_max_q``,
  ``{A}_two_year_return_q`` [num_{A}_reaches]; ``{A}_monthly_q`` [.., num_months];
  ``{A}_flow_duration_q`` [.., probability]; ``{A}_CAL`` (i4, 1 calibration, 0 validation).

Global attributes: ``gauge_agency`` (agencies separated by ``;``), ``product_version``
(text, e.g. ``"0001"``), ``sword_version``, ``continent``.
"""

from __future__ import annotations

import datetime as _dt

REACH_DIM = "num_reaches"
NODE_DIM = "num_nodes"
MONTH_DIM = "num_months"
PROB_DIM = "probability"
N_MONTHS = 12
#: Flow-duration exceedance levels (%): 20 points from 1 to 96.
EXCEEDANCE = [1, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90, 96]

MODEL_Q_VARS = ["mean_q", "min_q", "max_q", "monthly_q", "flow_duration_q", "two_year_return_q"]

#: geoBAM prior parameters: each has ``{p}_hat``, ``{p}_sd``, ``lower_{p}``, ``upper_{p}``.
GB_PARAMS = ["logA0", "logn", "b", "logWb", "logDb", "logr", "logWc", "logQc"]
#: Other geoBAM prior variables.
GB_EXTRA = ["river_type", "logQ_sd", "Werr_sd", "Serr_sd", "dAerr_sd", "sigma_man", "sigma_amhg"]

#: Day 0 of ``{A}_qt``.
QT_EPOCH = _dt.date(1, 1, 1)


def sos_name(continent: str, version: int | str = 16) -> str:
    """Return the SoS priors file name, e.g. ``na_sword_v16_SOS_priors.nc``."""
    return f"{continent}_sword_v{version}_SOS_priors.nc"


def agency_dim(agency: str) -> str:
    """Gauge dimension of an agency group, e.g. ``num_USGS_reaches``."""
    return f"num_{agency}_reaches"


def agency_days_dim(agency: str) -> str:
    """Day dimension of an agency group, e.g. ``USGS_num_days``."""
    return f"{agency}_num_days"


def date_to_qt(day: _dt.date) -> int:
    """Days since 0001-01-01 of ``day``."""
    return day.toordinal() - QT_EPOCH.toordinal()


def qt_to_date(qt: int | float) -> _dt.date:
    """Inverse of :func:`date_to_qt`."""
    return _dt.date.fromordinal(int(qt) + QT_EPOCH.toordinal())
