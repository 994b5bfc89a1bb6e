"""Confluence offline (workflow step 11): the per-reach discharge product of every algorithm.

For each reach of ``reaches.json``: each FLPE algorithm's and the consensus'
discharge, unconstrained (the FLPE result, ``{prefix}_q_uc``) and constrained by
the basin integration (MOI's ``{reach}_integrator.nc``, ``{prefix}_q_c``), with
the reach's ``d_x_area`` and ``d_x_area_u`` from its SWOT file (computed from
width and wse when the file has none; see :func:`.science.d_x_area`), in the
layout of the public workflow's ``{reach}_offline.nc`` (contracts.md section 9).
Prefixes come from the ``offline`` fields of ``flpe_outputs.toml``.
"""
