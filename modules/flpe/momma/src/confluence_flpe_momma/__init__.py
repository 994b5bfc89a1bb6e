"""MOMMA, the Modified Optimized Manning Method Algorithm, as an FLPE plug-in.

Bjerklie, D. M., Birkett, C. M., Jones, J. W., Carabajal, C., Rover, J. A.,
Fulton, J. W., Garambois, P.-A. (2018): Satellite remote sensing estimation of
river discharge: Application to the Yukon River Alaska. J. Hydrology 561,
1000-1018, doi:10.1016/j.jhydrol.2018.04.005.  Its use on SWOT reaches:
Frasson et al. (2021), doi:10.1029/2020WR028519; Durand et al. (2023),
doi:10.1029/2021WR031614.

Runs per reach (``reaches.json``) and writes ``flpe/momma/{reach_id}_momma.nc``
in the layout of the public workflow's file (``reference_outputs/flpe/momma``).
The science is in :mod:`.science`; :mod:`.algorithm` adapts it to the
:class:`confluence_flpe.interface.Algorithm` protocol.  Run it with
``confluence-flpe momma --index N``.
"""
