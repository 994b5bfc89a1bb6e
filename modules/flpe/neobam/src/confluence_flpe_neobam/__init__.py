"""neoBAM: Bayesian discharge from SWOT widths and slopes (a Confluence FLPE plug-in).

Manning's equation combined with Dingman's width-depth law, inverted per
reach for discharge at every observation time and the flow-law parameters
``r``, ``logn``, ``logWb``, ``logDb`` by the No-U-Turn Sampler, following
BAM (Hagemann et al. 2017, doi:10.1002/2017WR021626) and geoBAM (Brinkerhoff
et al. 2020, doi:10.1029/2020WR027949) as the neoBAM model of the Confluence
workflow does.  Equations: :mod:`confluence_flpe_neobam.model`; priors:
:mod:`confluence_flpe_neobam.priors`; output layout:
:mod:`confluence_flpe_neobam.plugin`.
"""

from .plugin import NeoBAM

__all__ = ["NeoBAM"]
