"""Confluence postdiagnostics (workflow steps 8 and 10): is the discharge believable, and did it move?

For every FLPE algorithm (and the consensus) of a reach, and for every
integrated (MOI) series of the reaches of a basin:

- realism: negative, infinite or no flow; flow outside the SoS model prior range
  widened by a tolerance factor; flow-law parameters outside their physical
  range (the data table ``ranges.toml``);
- stability: relative change of the mean flow against a previous run (a run
  folder or an S3 prefix), "no reference" when there is nothing to compare;
- pre/post (MOI only): relative change of the mean flow by the integration.

Algorithms are read through ``confluence_core.flpe`` (``flpe_outputs.toml``),
never imported.  Outputs follow the public workflow's
``{reach}_flpe_diag.nc`` / ``{reach}_moi_diag.nc`` (contracts.md section 9).
"""
