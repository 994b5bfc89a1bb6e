"""Confluence priors (workflow step 6, one job per continent): a new SoS version.

For the continent of entry ``--index`` of ``continent.json`` the module

1. reads the current SoS (``input/sos/{c}_sword_v{N}_SOS_priors.nc`` or S3),
2. gathers gauge records from the SoS agency groups, gauge files (CSV or
   NetCDF) and optionally USGS NWIS daily values (:mod:`.sources`), and
   computes each gauge's mean, min, max, monthly means, flow-duration curve
   and two-year return flow (:mod:`.stats`);
3. in constrained runs replaces ``model/*_q`` of calibration-gauged reaches by
   the gauge statistics, keeping the replaced values in ``model_original``
   (:mod:`.constrain`; contracts.md section 8);
4. computes geoBAM priors for every reach and node from its SWOT widths and
   slopes (:mod:`.geobam`; Brinkerhoff et al. 2020, Water Resources Research,
   doi:10.1029/2020WR027949);
5. writes the SoS with ``product_version`` raised, keeping the previous
   version, and optionally uploads it under a new S3 key (:mod:`.io`).
"""

__version__ = "0.1.0"
