"""Field tables of the SWOT L2_HR_RiverSP shapefiles written by the demo world.

Two product versions are written (contracts.md section 5):

- **PGA2**: the field names, order and dBASE types of the simulated PGA2_03
  granules in ``shared/data/riversp_simulated`` (97 reach fields, 51 node
  fields), as read from those files.  Their quirks are kept on purpose, so that
  readers meet the real thing: ``time_str`` and ``time_tai`` are integer fields
  (always fill), ``width_u``, ``d_x_area`` and ``xtrk_dist`` are integers (whole
  m / m2), unsimulated fields are integers.  Only field *widths* are widened
  where a value or a fill would not fit (the reference files wrote -9999; we
  write the contract fills).
- **D** (version D, CRID ``PID0``, 2025+): 126 reach fields (the PGA2 ones plus
  ``river_name``, ``wse_c(_u)``, ``width_c(_u)``, the ``dschg_*sf`` family, the
  ``dschg_i`` / ``dschg_gi`` families, ``dschg_q_b``, ``dschg_gq_b``, ``reach_q_b``
  and ``p_low_slp``), in the order PO.DAAC Hydrocron documents; node fields are the
  PGA2 ones plus ``river_name``, ``wse_c(_u)``, ``width_c(_u)`` and ``node_q_b``.
  Types follow the product: text ids and ``time_str``, real measurements, integer
  flags and counts.

A field spec is ``(name, kind, width, decimals)`` with kind ``"C"`` (text),
``"N"`` with decimals 0 (integer) or ``"F"`` (real, written as dBASE ``N`` with
decimals).  Fill values (contracts section 5): real -999999999999.0, small
integer flags -999, 4/8-byte integers -99999999, text ``"no_data"``.
"""

from __future__ import annotations

from dataclasses import dataclass

from confluence_core.fill import FLOAT_FILL, INT_FILL, LONG_FILL, STR_FILL

#: Product versions written by the demo world.
VERSIONS = ("PGA2", "D")
#: CRID (and file counter) of each version in granule names.
CRID = {"PGA2": ("PGA2", "03"), "D": ("PID0", "01")}


@dataclass(frozen=True)
class Field:
    """One dBASE field of a RiverSP shapefile."""

    name: str
    kind: str  # "C" text, "I" integer, "F" real
    width: int
    decimals: int = 0
    small: bool = False  # integer flag or count (fill -999) rather than a 4-byte integer

    @property
    def fill(self) -> float | int | str:
        """The contract fill value of this field."""
        if self.kind == "C":
            return STR_FILL
        if self.kind == "F":
            return FLOAT_FILL
        return INT_FILL if self.small else LONG_FILL

    @property
    def fiona_type(self) -> str:
        """The type as fiona reports it (``str``, ``int32``, ``float``)."""
        return {"C": "str", "I": "int32", "F": "float"}[self.kind]


# ----------------------------------------------------------------------------------------------
# PGA2: names and types read from the simulated PGA2_03 granules (``s`` text, ``i`` integer,
# ``f`` real, then the reference width and decimals).
_PGA2_REACH = """
reach_id:s:11 time:f:17.6 time_tai:i:5 time_str:i:5 p_lat:f:10.6 p_lon:f:10.6 wse:f:11.6
wse_u:f:9.6 wse_r_u:i:5 slope:f:9.6 slope_u:f:9.6 slope_r_u:i:5 slope2:f:9.6 slope2_u:f:9.6
slope2_r_u:i:5 width:f:11.6 width_u:i:3 area_total:i:5 area_tot_u:i:5 area_detct:i:5 area_det_u:i:5
area_wse:i:5 d_x_area:i:3 d_x_area_u:f:10.6 layovr_val:i:5 node_dist:i:5 loc_offset:i:5
xtrk_dist:i:5 dschg_c:i:5 dschg_c_u:i:5 dschg_c_q:i:5 dschg_gc:i:5 dschg_gc_u:i:5 dschg_gc_q:i:5
dschg_m:i:5 dschg_m_u:i:5 dschg_m_q:i:5 dschg_gm:i:5 dschg_gm_u:i:5 dschg_gm_q:i:5 dschg_b:i:5
dschg_b_u:i:5 dschg_b_q:i:5 dschg_gb:i:5 dschg_gb_u:i:5 dschg_gb_q:i:5 dschg_h:i:5 dschg_h_u:i:5
dschg_h_q:i:5 dschg_gh:i:5 dschg_gh_u:i:5 dschg_gh_q:i:5 dschg_o:i:5 dschg_o_u:i:5 dschg_o_q:i:5
dschg_go:i:5 dschg_go_u:i:5 dschg_go_q:i:5 dschg_s:i:5 dschg_s_u:i:5 dschg_s_q:i:5 dschg_gs:i:5
dschg_gs_u:i:5 dschg_gs_q:i:5 reach_q:i:3 dark_frac:f:9.6 ice_clim_f:i:3 ice_dyn_f:i:3
partial_f:i:3 n_good_nod:i:3 obs_frac_n:f:9.6 xovr_cal_q:i:3 geoid_hght:i:5 geoid_slop:i:5
solid_tide:i:5 load_tidef:i:5 load_tideg:i:5 pole_tide:i:5 dry_trop_c:i:5 wet_trop_c:i:5 iono_c:i:5
xovr_cal_c:i:5 n_reach_up:i:3 n_reach_dn:i:3 rch_id_up:s:24 rch_id_dn:s:11 p_wse:f:11.6
p_wse_var:f:9.6 p_width:f:11.6 p_wid_var:f:13.6 p_n_nodes:i:3 p_dist_out:f:15.6 p_length:f:13.6
p_maf:i:5 p_dam_id:i:5 p_n_ch_max:i:3 p_n_ch_mod:i:3
"""

_PGA2_NODE = """
reach_id:s:11 node_id:s:14 time:f:17.6 time_tai:i:5 time_str:i:5 lat:f:10.6 lon:f:10.6 lat_u:i:5
lon_u:i:5 wse:f:12.6 wse_u:f:12.6 wse_r_u:i:5 width:f:12.6 width_u:f:12.6 area_total:i:5
area_tot_u:i:5 area_detct:i:5 area_det_u:i:5 area_wse:i:5 layovr_val:i:5 node_dist:i:5
xtrk_dist:i:5 flow_angle:i:5 node_q:i:3 dark_frac:f:9.6 ice_clim_f:i:3 ice_dyn_f:i:3 partial_f:i:3
n_good_pix:i:3 xovr_cal_q:i:3 rdr_sig0:i:5 rdr_sig0_u:i:5 rdr_pol:i:5 geoid_hght:i:5 solid_tide:i:5
load_tidef:i:5 load_tideg:i:5 pole_tide:i:5 dry_trop_c:i:5 wet_trop_c:i:5 iono_c:i:5 xovr_cal_c:i:5
p_wse:f:11.6 p_wse_var:f:9.6 p_width:f:11.6 p_wid_var:f:13.6 p_dist_out:f:15.6 p_length:f:11.6
p_dam_id:i:5 p_n_ch_max:i:3 p_n_ch_mod:i:3
"""

#: Fields the demo world fills with values (the rest get the fill).  Every field here must
#: hold its values and its fill, which sets the widened widths below.
_PGA2_WIDTH_AT_LEAST = {
    # integer fields holding simulated values or LONG_FILL
    "width_u": 9, "d_x_area": 9, "xtrk_dist": 9, "n_good_nod": 4, "n_good_pix": 5,
    "p_n_nodes": 4, "rch_id_up": 24, "rch_id_dn": 24,
}


def _parse(table: str) -> list[tuple[str, str, int, int]]:
    out = []
    for token in table.split():
        name, kind, size = token.split(":")
        width, _, dec = size.partition(".")
        out.append((name, kind, int(width), int(dec or 0)))
    return out


def _pga2_fields(table: str, text_fill_ok: bool = True) -> list[Field]:
    fields = []
    for name, kind, width, dec in _parse(table):
        if kind == "s":
            w = max(width, _PGA2_WIDTH_AT_LEAST.get(name, 0), 7 if text_fill_ok else 0)
            fields.append(Field(name, "C", w))
        elif kind == "i":
            # width 3 flags hold -999; wider integers hold -99999999 (9 characters)
            small = width <= 3
            w = max(width, _PGA2_WIDTH_AT_LEAST.get(name, 0), 4 if small else 9)
            fields.append(Field(name, "I", w, small=small))
        else:
            # room for the real fill with the reference number of decimals
            fields.append(Field(name, "F", max(width, 14 + dec), dec))
    return fields


#: PGA2 reach fields (97) and node fields (51).
PGA2_REACH: list[Field] = _pga2_fields(_PGA2_REACH)
PGA2_NODE: list[Field] = _pga2_fields(_PGA2_NODE)

# ----------------------------------------------------------------------------------------------
# Version D.  Names in product order; types from the product description.
_D_REACH_NAMES = """
reach_id time time_tai time_str p_lat p_lon river_name
wse wse_u wse_r_u wse_c wse_c_u slope slope_u slope_r_u slope2 slope2_u slope2_r_u
width width_u width_c width_c_u area_total area_tot_u area_detct area_det_u area_wse
d_x_area d_x_area_u layovr_val node_dist loc_offset xtrk_dist
dschg_c dschg_c_u dschg_csf dschg_c_q dschg_gc dschg_gc_u dschg_gcsf dschg_gc_q
dschg_m dschg_m_u dschg_msf dschg_m_q dschg_gm dschg_gm_u dschg_gmsf dschg_gm_q
dschg_b dschg_b_u dschg_bsf dschg_b_q dschg_gb dschg_gb_u dschg_gbsf dschg_gb_q
dschg_h dschg_h_u dschg_hsf dschg_h_q dschg_gh dschg_gh_u dschg_ghsf dschg_gh_q
dschg_o dschg_o_u dschg_osf dschg_o_q dschg_go dschg_go_u dschg_gosf dschg_go_q
dschg_s dschg_s_u dschg_ssf dschg_s_q dschg_gs dschg_gs_u dschg_gssf dschg_gs_q
dschg_i dschg_i_u dschg_isf dschg_i_q dschg_gi dschg_gi_u dschg_gisf dschg_gi_q
dschg_q_b dschg_gq_b reach_q reach_q_b
dark_frac ice_clim_f ice_dyn_f partial_f n_good_nod obs_frac_n xovr_cal_q
geoid_hght geoid_slop solid_tide load_tidef load_tideg pole_tide dry_trop_c wet_trop_c iono_c
xovr_cal_c n_reach_up n_reach_dn rch_id_up rch_id_dn
p_wse p_wse_var p_width p_wid_var p_n_nodes p_dist_out p_length p_maf p_dam_id
p_n_ch_max p_n_ch_mod p_low_slp
"""

_D_NODE_NAMES = """
reach_id node_id time time_tai time_str lat lon lat_u lon_u river_name
wse wse_u wse_r_u wse_c wse_c_u width width_u width_c width_c_u
area_total area_tot_u area_detct area_det_u area_wse layovr_val node_dist xtrk_dist
flow_angle node_q node_q_b dark_frac ice_clim_f ice_dyn_f partial_f n_good_pix
xovr_cal_q rdr_sig0 rdr_sig0_u rdr_pol geoid_hght solid_tide load_tidef load_tideg pole_tide
dry_trop_c wet_trop_c iono_c xovr_cal_c
p_wse p_wse_var p_width p_wid_var p_dist_out p_length p_dam_id p_n_ch_max p_n_ch_mod
"""

_D_TEXT = {"reach_id": 11, "node_id": 14, "time_str": 20, "river_name": 50,
           "rch_id_up": 47, "rch_id_dn": 47, "rdr_pol": 7}
#: 4-byte integer fields (fill -99999999).
_D_LONG = {"reach_q_b", "node_q_b", "dschg_q_b", "dschg_gq_b", "p_dam_id"}
#: small integer flag and count fields (fill -999).
_D_SMALL = {
    "reach_q", "node_q", "ice_clim_f", "ice_dyn_f", "partial_f", "n_good_nod", "n_good_pix",
    "xovr_cal_q", "n_reach_up", "n_reach_dn", "p_n_nodes", "p_n_ch_max", "p_n_ch_mod", "p_low_slp",
}
#: real fields that need many decimals (m/m slopes).
_D_SLOPES = {"slope", "slope_u", "slope_r_u", "slope2", "slope2_u", "slope2_r_u"}


def _d_field(name: str) -> Field:
    if name in _D_TEXT:
        return Field(name, "C", _D_TEXT[name])
    if name in _D_LONG or (name.startswith("dschg_") and name.endswith("_q")):
        return Field(name, "I", 9)
    if name in _D_SMALL:
        return Field(name, "I", 5, small=True)
    if name in _D_SLOPES:
        return Field(name, "F", 26, 12)
    return Field(name, "F", 20, 6)


#: Version D reach fields (126) and node fields.
D_REACH: list[Field] = [_d_field(n) for n in _D_REACH_NAMES.split()]
D_NODE: list[Field] = [_d_field(n) for n in _D_NODE_NAMES.split()]

SCHEMAS: dict[tuple[str, str], list[Field]] = {
    ("PGA2", "Reach"): PGA2_REACH, ("PGA2", "Node"): PGA2_NODE,
    ("D", "Reach"): D_REACH, ("D", "Node"): D_NODE,
}

#: Units written in the .shp.xml metadata of the fields that have one.
UNITS: dict[str, str] = {
    "time": "s", "time_tai": "s", "p_lat": "degrees_north", "p_lon": "degrees_east",
    "lat": "degrees_north", "lon": "degrees_east", "wse": "m", "wse_u": "m", "wse_c": "m",
    "wse_c_u": "m", "slope": "m/m", "slope_u": "m/m", "slope2": "m/m", "slope2_u": "m/m",
    "width": "m", "width_u": "m", "width_c": "m", "width_c_u": "m", "d_x_area": "m^2",
    "d_x_area_u": "m^2", "xtrk_dist": "m", "dark_frac": "1", "obs_frac_n": "1", "p_wse": "m",
    "p_wse_var": "m^2", "p_width": "m", "p_wid_var": "m^2", "p_dist_out": "m", "p_length": "m",
}

#: Short descriptions written in the .shp.xml metadata.
LONG_NAMES: dict[str, str] = {
    "reach_id": "reach ID with format CBBBBBRRRRT", "node_id": "node ID with format CBBBBBRRRRNNNT",
    "time": "time (UTC) in seconds since 2000-01-01T00:00:00",
    "time_str": "UTC time as YYYY-MM-DDThh:mm:ssZ", "wse": "water surface elevation",
    "wse_u": "total uncertainty in the water surface elevation", "slope": "water surface slope",
    "slope2": "enhanced water surface slope", "width": "river width",
    "d_x_area": "change in cross-sectional area", "reach_q": "summary quality indicator",
    "reach_q_b": "bitwise quality indicator", "node_q": "summary quality indicator",
    "dark_frac": "fractional area of dark water", "ice_clim_f": "climatological ice cover flag",
    "ice_dyn_f": "dynamical ice cover flag", "partial_f": "partial reach coverage flag",
    "n_good_nod": "number of nodes in the reach that have a valid WSE",
    "obs_frac_n": "fraction of nodes that have a valid WSE", "xovr_cal_q": "crossover calibration quality",
    "xtrk_dist": "distance to the satellite ground track", "p_width": "prior width",
    "p_length": "length of reach", "n_good_pix": "number of pixels that have a valid WSE",
}
