"""Confluence step 13, output: one continent's results in one NetCDF file.

Gathers every module's per-reach results (prediagnostics, each FLPE
algorithm, consensus, MOI, postdiagnostics, offline, validation) into
``output/{c}_sword_v{N}_SOS_results_{branch}.nc``, beside the SoS ``reaches`` and
``nodes`` groups, every array aligned on the SoS reach (or node) order with
fill where a module wrote nothing (contracts.md section 9, "output").  Module
files are read generically (every variable of every group), so a module that
adds a variable needs no change here; ``layout.toml`` lists where the files are
and what their dimensions mean.  Optionally uploads the file to S3 under a key
that names the run, never over an earlier object.
"""
