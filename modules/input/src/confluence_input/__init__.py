"""Confluence step 3, input: one ``{reach_id}_SWOT.nc`` per reach of a basin.

Reads the SWOT L2_HR_RiverSP Reach and Node granules (SWOT Product Description,
JPL D-56413) that hold a basin's reaches, each granule once for all its reaches,
and writes every reach's time series in the layout of the public workflow's
input files (contracts.md section 6): root ``nt``/``nx``/``observations``, group
``reach`` on ``nt`` and group ``node`` on ``nx, nt``.
"""
