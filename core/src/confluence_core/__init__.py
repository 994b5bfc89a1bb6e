"""Shared library of the Confluence workflow.

Everything every module needs and nothing module-specific: where the volumes
are mounted (:mod:`.volumes`), which array entry a job works on
(:mod:`.index`), SWORD identifiers (:mod:`.ids`), the SWOT fill values
(:mod:`.fill`), atomic JSON and NetCDF writing (:mod:`.atomic`, :mod:`.jsonio`,
:mod:`.ncio`), logging and the one-line error convention (:mod:`.log`,
:mod:`.errors`, :mod:`.cli`).
"""

__version__ = "0.1.0"
