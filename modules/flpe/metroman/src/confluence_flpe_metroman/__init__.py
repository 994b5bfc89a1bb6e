"""MetroMan FLPE plug-in: discharge of a reach set from SWOT width, slope and area change.

MetroMan (Durand et al. 2014, J. Hydrology 511, 92-104, doi:10.1016/j.jhydrol.2013.12.050) inverts
Manning's equation jointly over a set of consecutive reaches: each reach has its own unobserved
area ``A0`` and roughness, and the reaches must carry the same discharge at each time (mass
conservation, up to lateral inflow).  The posterior of the flow-law parameters, given priors
built from the SoS mean flow, is sampled with Metropolis MCMC.  Roughness varies with depth,
``n = na * (A/W)**x1`` (the MetroMan law of the SWOT RiverSP product, ``dschg_m``; see
docs/science.md).  A set of one reach (or a reach whose neighbours lack data) is
fitted alone: no mass conservation, the priors and the mean-flow prior only.

Modules: :mod:`.flowlaw` (flow law, priors), :mod:`.mcmc` (posterior, sampler),
:mod:`.setfit` (time axis, joint fit and fallback), :mod:`.io` (files), :mod:`.algorithm`
(the plug-in), :mod:`.config` (settings).
"""

from .algorithm import MetroMan
from .config import MetroManConfig

__all__ = ["MetroMan", "MetroManConfig"]
