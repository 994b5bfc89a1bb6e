"""Layout of ``{reach_id}_SWOT.nc`` (contracts.md section 6).

Variable order, dtypes, dimensions and attributes are those of the public workflow's
file (``reference_outputs/swot/74269800011_SWOT.nc``; attribute text from the SWOT
RiverSP product description); this table was generated from that file by a script,
not typed.  ``_FillValue`` is set by the writer (floats -999999999999, ints -999,
time_str ``n``), not listed here.  :data:`EXTRA_REACH` and :data:`EXTRA_NODE` are ours:
fields contracts.md section 5 lists as used downstream that the reference file lacks.
"""

from __future__ import annotations

from typing import Any

#: Root variables: name, dtype, attributes.
ROOT_VARS: list[tuple[str, str, dict[str, Any]]] = [('nt', 'int32', {'units': 'pass', 'long_name': 'time steps'}),
 ('nx', 'int32', {'units': 'node', 'long_name': 'number of nodes'}),
 ('observations',
  'int32',
  {'units': 'pass',
   'long_name': 'pass number that indicates cycle/pass observations',
   'comment': 'A list of pass numbers that identify each reach and node observation.'})]

#: Group ``reach``: name, dtype, attributes (in file order).
REACH_VARS: list[tuple[str, str, dict[str, Any]]] = [('reach_id',
  'int64',
  {'long_name': 'reach ID from prior river database',
   'comment': 'Unique reach identifier from the prior river database. The format of the identifier is '
              'CBBBBBRRRRT, where C=continent, B=basin, R=reach, T=type.'}),
 ('time',
  'float64',
  {'long_name': 'time (UTC)',
   'calendar': 'gregorian',
   'tai_utc_difference': '[value of TAI-UTC at time of first record]',
   'leap_second': 'YYYY-MM-DD hh:mm:ss',
   'units': 'seconds since 2000-01-01 00:00:00.000',
   'comment': 'Time of measurement in seconds in the UTC time scale since 1 Jan 2000 00:00:00 UTC. '
              '[tai_utc_difference] is the difference between TAI and UTC reference time (seconds) for '
              'the first measurement of the data set. If a leap second occurs within the data set, the '
              'metadata leap_second is set to the UTC time at which the leap second occurs.'}),
 ('time_str',
  'S1',
  {'long_name': 'UTC time',
   'standard_name': 'time',
   'calendar': 'gregorian',
   'tai_utc_difference': '[value of TAI-UTC at time of first record]',
   'leap_second': 'YYYY-MM-DD hh:mm:ss',
   'comment': 'Time string giving UTC time. The format is YYYY-MM-DDThh:mm:ssZ, where the Z suffix '
              'indicates UTC time.'}),
 ('d_x_area',
  'float64',
  {'long_name': 'change in cross-sectional area',
   'units': 'm^2',
   'valid_min': -10000000.0,
   'valid_max': 10000000.0,
   'comment': 'Change in channel cross sectional area from the value reported in the prior river '
              'database.'}),
 ('d_x_area_u',
  'float64',
  {'long_name': 'total uncertainty of the change in the cross-sectional area',
   'units': 'm^2',
   'valid_min': 0.0,
   'valid_max': 1000000000.0,
   'comment': 'Total one-sigma uncertainty (random and systematic) in the change in the cross-sectional '
              'area.'}),
 ('slope2',
  'float64',
  {'long_name': 'enhanced water surface slope with respect to geoid',
   'units': 'm/m',
   'valid_min': -0.001,
   'valid_max': 0.1,
   'comment': 'Enhanced water surface slope relative to the geoid, produced using a smoothing of the '
              'node wse. The upstream or downstream direction is defined by the prior river database. A '
              'positive slope means that the downstream WSE is lower.'}),
 ('slope2_u',
  'float64',
  {'long_name': 'uncertainty in the enhanced water surface slope',
   'units': 'm/m',
   'valid_min': 0.0,
   'valid_max': 0.1,
   'comment': 'Total one-sigma uncertainty (random and systematic) in the enhanced water surface slope, '
              'including uncertainties of corrections and variation about the fit.'}),
 ('width',
  'float64',
  {'long_name': 'reach width',
   'units': 'm',
   'valid_min': 0.0,
   'valid_max': 100000.0,
   'comment': 'Reach width.'}),
 ('width_u',
  'float64',
  {'long_name': 'total uncertainty in the reach width',
   'units': 'm',
   'valid_min': 0.0,
   'valid_max': 100000.0,
   'comment': 'Total one-sigma uncertainty (random and systematic) in the reach width.'}),
 ('wse',
  'float64',
  {'long_name': 'water surface elevation with respect to the geoid',
   'units': 'm',
   'valid_min': -1000.0,
   'valid_max': 100000.0,
   'comment': 'Fitted reach water surface elevation, relative to the provided model of the geoid '
              '(geoid_hght), with corrections for media delays (wet and dry troposphere, and '
              'ionosphere), crossover correction, and tidal effects (solid_tide, load_tidef, and '
              'pole_tide) applied.'}),
 ('wse_u',
  'float64',
  {'long_name': 'total uncertainty in the water surface elevation',
   'units': 'm',
   'valid_min': 0.0,
   'valid_max': 999999.0,
   'comment': 'Total one-sigma uncertainty (random and systematic) in the reach WSE, including '
              'uncertainties of corrections, and variation about the fit.'}),
 ('reach_q',
  'int32',
  {'long_name': 'summary quality indicator for the reach',
   'standard_name': 'summary quality indicator for the reach',
   'flag_masks': 'TBD',
   'flag_meanings': 'good bad',
   'flag_values': '0 1',
   'valid_min': 0,
   'valid_max': 1,
   'comment': 'Summary quality indicator for the reach measurement. Values of 0 and 1 indicate nominal '
              '(good) and off-nominal (suspect) measurements.'}),
 ('dark_frac',
  'float64',
  {'long_name': 'fractional area of dark water',
   'units': '1',
   'valid_min': -1000.0,
   'valid_max': 10000.0,
   'comment': 'Fraction of reach area_total covered by dark water.'}),
 ('ice_clim_f',
  'int32',
  {'long_name': 'climatological ice cover flag',
   'standard_name': 'status_flag',
   'source': 'Yang et al. (2020)',
   'flag_meanings': 'no_ice_cover uncertain_ice_cover full_ice_cover',
   'flag_values': '0 1 2',
   'valid_min': 0,
   'valid_max': 2,
   'comment': 'Climatological ice cover flag indicating whether the reach is ice-covered on the day of '
              'the observation based on external climatological information (not the SWOT measurement). '
              'Values of 0, 1, and 2 indicate that the reach is likely not ice covered, may or may not '
              'be partially or fully ice covered, and likely fully ice covered, respectively.'}),
 ('ice_dyn_f',
  'int32',
  {'long_name': 'dynamical ice cover flag',
   'standard_name': 'status_flag',
   'source': 'Yang et al. (2020)',
   'flag_meanings': 'no_ice_cover uncertain_ice_cover full_ice_cover',
   'flag_values': '0 1 2',
   'valid_min': 0,
   'valid_max': 2,
   'comment': 'Dynamic ice cover flag indicating whether the surface is ice-covered on the day of the '
              'observation based on analysis of external satellite optical data. Values of 0, 1, and 2 '
              'indicate that the reach is not ice covered, partially ice covered, and fully ice '
              'covered, respectively.'}),
 ('partial_f',
  'int32',
  {'long_name': 'partial reach coverage flag',
   'standard_name': 'status_flag',
   'flag_meanings': 'covered not_covered',
   'flag_values': '0 1',
   'valid_min': 0,
   'valid_max': 1,
   'comment': 'Flag that indicates only partial reach coverage. The flag is 0 if at least half the '
              'nodes of the reach have valid WSE measurements; the flag is 1 otherwise and reach-level '
              'quantities are not computed.'}),
 ('n_good_nod',
  'int32',
  {'long_name': 'number of nodes in the reach that have a valid WSE',
   'units': '1',
   'valid_min': 0,
   'valid_max': 100,
   'comment': 'Number of nodes in the reach that have a valid node WSE. Note that the total number of '
              'nodes from the prior river database is given by p_n_nodes.'}),
 ('obs_frac_n',
  'float64',
  {'long_name': 'fraction of nodes that have a valid WSE',
   'units': '1',
   'valid_min': 0.0,
   'valid_max': 1.0,
   'comment': 'Fraction of nodes (n_good_nod/p_n_nodes) in the reach that have a valid node WSE. The '
              'value is between 0 and 1.'}),
 ('xovr_cal_q',
  'int32',
  {'long_name': 'quality of the cross-over calibration',
   'flag_masks': 'TBD',
   'flag_meanings': 'TBD',
   'flag_values': 'T B D',
   'valid_min': 0,
   'valid_max': 1,
   'comment': 'Quality of the cross-over calibration.'})]

#: Group ``node``: name, dtype, attributes (in file order).
NODE_VARS: list[tuple[str, str, dict[str, Any]]] = [('reach_id',
  'int64',
  {'long_name': 'reach ID from prior river database',
   'comment': 'Unique reach identifier from the prior river database. The format of the identifier is '
              'CBBBBBRRRRT, where C=continent, B=basin, R=reach, T=type.'}),
 ('node_id',
  'int64',
  {'long_name': 'node ID of the node in the prior river database',
   'comment': 'Unique node identifier from the prior river database. The format of the identifier is '
              'CBBBBBRRRRNNNT, where C=continent, B=basin, R=reach, N=node, T=type.'}),
 ('time',
  'float64',
  {'long_name': 'time (UTC)',
   'calendar': 'gregorian',
   'tai_utc_difference': '[value of TAI-UTC at time of first record]',
   'leap_second': 'YYYY-MM-DD hh:mm:ss',
   'units': 'seconds since 2000-01-01 00:00:00.000',
   'comment': 'Time of measurement in seconds in the UTC time scale since 1 Jan 2000 00:00:00 UTC. '
              '[tai_utc_difference] is the difference between TAI and UTC reference time (seconds) for '
              'the first measurement of the data set. If a leap second occurs within the data set, the '
              'metadata leap_second is set to the UTC time at which the leap second occurs.'}),
 ('time_str',
  'S1',
  {'long_name': 'UTC time',
   'standard_name': 'time',
   'calendar': 'gregorian',
   'tai_utc_difference': '[value of TAI-UTC at time of first record]',
   'leap_second': 'YYYY-MM-DD hh:mm:ss',
   'comment': 'Time string giving UTC time. The format is YYYY-MM-DDThh:mm:ssZ, where the Z suffix '
              'indicates UTC time.'}),
 ('d_x_area',
  'float64',
  {'long_name': 'change in cross-sectional area',
   'units': 'm^2',
   'valid_min': -10000000.0,
   'valid_max': 10000000.0,
   'comment': 'Change in channel cross sectional area from the value reported in the prior river '
              'database. Extracted from reach-level and appended to node.'}),
 ('d_x_area_u',
  'float64',
  {'long_name': 'total uncertainty of the change in the cross-sectional area',
   'units': 'm^2',
   'valid_min': 0.0,
   'valid_max': 1000000000.0,
   'comment': 'Total one-sigma uncertainty (random and systematic) in the change in the cross-sectional '
              'area. Extracted from reach-level and appended to node.'}),
 ('slope2',
  'float64',
  {'long_name': 'enhanced water surface slope with respect to geoid',
   'units': 'm/m',
   'valid_min': -0.001,
   'valid_max': 0.1,
   'comment': 'Enhanced water surface slope relative to the geoid, produced using a smoothing of the '
              'node wse. The upstream or downstream direction is defined by the prior river database. A '
              'positive slope means that the downstream WSE is lower. Extracted from reach-level and '
              'appended to node.'}),
 ('slope2_u',
  'float64',
  {'long_name': 'uncertainty in the enhanced water surface slope',
   'units': 'm/m',
   'valid_min': 0.0,
   'valid_max': 0.1,
   'comment': 'Total one-sigma uncertainty (random and systematic) in the enhanced water surface slope, '
              'including uncertainties of corrections and variation about the fit. Extracted from '
              'reach-level and appended to node.'}),
 ('width',
  'float64',
  {'long_name': 'node width',
   'units': 'm',
   'valid_min': 0.0,
   'valid_max': 100000.0,
   'comment': 'Node width.'}),
 ('width_u',
  'float64',
  {'long_name': 'total uncertainty in the node width',
   'units': 'm',
   'valid_min': 0.0,
   'valid_max': 10000.0,
   'comment': 'Total one-sigma uncertainty (random and systematic) in the node width.'}),
 ('wse',
  'float64',
  {'long_name': 'water surface elevation with respect to the geoid',
   'units': 'm',
   'valid_min': -1000.0,
   'valid_max': 100000.0,
   'comment': 'Fitted node water surface elevation, relative to the provided model of the geoid '
              '(geoid_hght), with all corrections for media delays (wet and dry troposphere, and '
              'ionosphere), crossover correction, and tidal effects (solid_tide, load_tidef, and '
              'pole_tide) applied.'}),
 ('wse_u',
  'float64',
  {'long_name': 'total uncertainty in the water surface elevation',
   'units': 'm',
   'valid_min': 0.0,
   'valid_max': 999999.0,
   'comment': 'Total one-sigma uncertainty (random and systematic) in the node WSE, including '
              'uncertainties of corrections, and variation about the fit.'}),
 ('node_q',
  'int32',
  {'long_name': 'summary quality indicator for the node',
   'standard_name': 'status_flag',
   'flag_masks': 'TBD',
   'flag_meanings': 'good bad',
   'flag_values': '0 1',
   'valid_min': 0,
   'valid_max': 1,
   'comment': 'Summary quality indicator for the node measurement. Values of 0 and 1 indicate nominal '
              'and off-nominal measurements.'}),
 ('dark_frac',
  'float64',
  {'long_name': 'fractional area of dark water',
   'units': '1',
   'valid_min': 0.0,
   'valid_max': 1.0,
   'comment': 'Fraction of node area_total covered by dark water.'}),
 ('ice_clim_f',
  'int32',
  {'long_name': 'climatological ice cover flag',
   'standard_name': 'status_flag',
   'source': 'Yang et al. (2020)',
   'flag_meanings': 'no_ice_cover uncertain_ice_cover full_ice_cover',
   'flag_values': '0 1 2',
   'valid_min': 0,
   'valid_max': 2,
   'comment': 'Climatological ice cover flag indicating whether the node is ice-covered on the day of '
              'the observation based on external climatological information (not the SWOT measurement). '
              'Values of 0, 1, and 2 indicate that the node is likely not ice covered, may or may not '
              'be partially or fully ice covered, and likely fully ice covered, respectively.'}),
 ('ice_dyn_f',
  'int32',
  {'long_name': 'dynamical ice cover flag',
   'standard_name': 'status_flag',
   'source': 'Yang et al. (2020)',
   'flag_meanings': 'no_ice_cover uncertain_ice_cover full_ice_cover',
   'flag_values': '0 1 2',
   'valid_min': 0,
   'valid_max': 2,
   'comment': 'Dynamic ice cover flag indicating whether the surface is ice-covered on the day of the '
              'observation based on analysis of external satellite optical data. Values of 0, 1, and 2 '
              'indicate that the node is not ice covered, partially ice covered, and fully ice covered, '
              'respectively.'}),
 ('partial_f',
  'int32',
  {'long_name': 'partial node coverage flag',
   'standard_name': 'status_flag',
   'flag_meanings': 'covered not_covered',
   'flag_values': '0 1',
   'valid_min': 0,
   'valid_max': 2,
   'comment': 'Flag that indicates only partial node coverage. The flag is 0 if at least 10 pixels have '
              'a valid WSE measurement; the flag is 1 otherwise and node-level quantities are not '
              'computed.'}),
 ('n_good_pix',
  'int32',
  {'long_name': 'number of pixels that have a valid WSE',
   'units': '1',
   'valid_min': 0,
   'valid_max': 100000,
   'comment': 'Number of pixels assigned to the node that have a valid node WSE.'}),
 ('xovr_cal_q',
  'int32',
  {'long_name': 'quality of the cross-over calibration',
   'flag_masks': 'TBD',
   'flag_meanings': 'TBD',
   'flag_values': 'T B D',
   'valid_min': 0,
   'valid_max': 1,
   'comment': 'Quality of the cross-over calibration.'})]
_SLOPE = {"long_name": "water surface slope with respect to the geoid", "units": "m/m",
          "valid_min": -0.001, "valid_max": 0.1,
          "comment": "Fitted water surface slope relative to the geoid. The upstream or downstream direction "
                     "is defined by the prior river database. A positive slope means that the downstream "
                     "WSE is lower."}
_SLOPE_U = {"long_name": "total uncertainty in the water surface slope", "units": "m/m",
            "valid_min": 0.0, "valid_max": 0.1,
            "comment": "Total one-sigma uncertainty (random and systematic) in the water surface slope."}
_XTRK = {"long_name": "distance to the satellite ground track", "units": "m",
         "valid_min": -75000.0, "valid_max": 75000.0,
         "comment": "Distance of the observed feature to the spacecraft nadir track; negative on the left "
                    "side of the swath, positive on the right."}
_P_WIDTH = {"long_name": "width from the prior river database", "units": "m",
            "valid_min": 0.0, "valid_max": 100000.0, "comment": "Width from the prior river database."}
_QB = {"long_name": "quality bitwise flag", "units": "1",
       "comment": "Bitwise quality flag of the observation (version D products; fill where the product "
                  "has none)."}

#: Ours, reach group (on ``nt``): downstream fields absent from the reference file.
EXTRA_REACH: list[tuple[str, str, dict[str, Any]]] = [
    ("slope", "float64", _SLOPE),
    ("slope_u", "float64", _SLOPE_U),
    ("reach_q_b", "int64", _QB),
    ("xtrk_dist", "float64", _XTRK),
    ("p_width", "float64", _P_WIDTH),
    ("p_length", "float64", {"long_name": "length from the prior river database", "units": "m",
                             "valid_min": 0.0, "valid_max": 100000.0,
                             "comment": "Length of the reach from the prior river database."}),
    ("p_lat", "float64", {"long_name": "latitude of the reach centre", "units": "degrees_north",
                          "valid_min": -80.0, "valid_max": 80.0,
                          "comment": "Geodetic latitude of the reach centre from the prior river database."}),
    ("p_lon", "float64", {"long_name": "longitude of the reach centre", "units": "degrees_east",
                          "valid_min": -180.0, "valid_max": 180.0,
                          "comment": "Longitude of the reach centre from the prior river database."}),
]

#: Ours, node group (on ``nx, nt``); slope and slope_u are the reach values tiled.
EXTRA_NODE: list[tuple[str, str, dict[str, Any]]] = [
    ("slope", "float64", {**_SLOPE, "comment": _SLOPE["comment"] + " Extracted from reach-level and "
                          "appended to node."}),
    ("slope_u", "float64", {**_SLOPE_U, "comment": _SLOPE_U["comment"] + " Extracted from reach-level and "
                            "appended to node."}),
    ("node_q_b", "int64", _QB),
    ("xtrk_dist", "float64", _XTRK),
    ("p_width", "float64", _P_WIDTH),
]

#: Node variables that repeat the reach value of the same time on every node.
TILED_FROM_REACH = ("d_x_area", "d_x_area_u", "slope", "slope_u", "slope2", "slope2_u")
