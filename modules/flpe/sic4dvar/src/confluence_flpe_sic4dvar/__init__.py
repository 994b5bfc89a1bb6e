"""SIC4DVar as a Confluence FLPE plug-in (entry point ``sic4dvar`` in group ``confluence.flpe``).

Oubanas, Gejadze, Malaterre, Durand, Wei, Frasson & Domeneghetti (2018), "Discharge estimation in
ungauged basins through variational data assimilation: the potential of the SWOT mission", WRR
54(3), 2405-2423, doi:10.1002/2017WR021735; the low-cost chain of the public SWOT-Confluence
SIC4DVar (algo31 then algo5).  :mod:`.bathymetry` builds the node cross-sections,
:mod:`.science` estimates the discharge and the flow-law parameters, :mod:`.algorithm` is the
plug-in and its file.  Citation table and departures: ``docs/science.md`` (section SIC4DVar).
"""

from .algorithm import Sic4dvar

__all__ = ["Sic4dvar"]
