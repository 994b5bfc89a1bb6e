"""SAD, SWOT Assimilated Discharge, as an FLPE plug-in.

Andreadis, K. M., Brinkerhoff, C. B., Gleason, C. J. (2020): Constraining the assimilation of
SWOT observations with hydraulic geometry relations. Water Resources Research 56(5),
e2019WR026611, doi:10.1029/2019WR026611.  The public implementations (Sad.jl,
SWOT-Confluence/sad) give the structure: gradually varied flow on Dingman (2007) sections
(:mod:`.gvf`), priors from the SoS (:mod:`.priors`), prior members rejected against the observed
WSE profile and a Local Ensemble Transform Kalman Filter (Hunt et al. 2007, :mod:`.letkf`) per
observation time (:mod:`.science`), then Manning's n and A0 from the analysis.

Runs per reach (``reaches.json``) and writes ``flpe/sad/{reach_id}_sad.nc`` in the layout of the
public workflow's file (``reference_outputs/flpe/sad``); the output contract (``Qa``, ``Q_u``,
the ``manning`` law with ``n`` and ``A0``) is the ``sad`` row of the workflow table.  Run it with
``confluence-flpe sad --index N``.  Equations, sources and deliberate departures:
``docs/science.md``, section SAD.
"""
