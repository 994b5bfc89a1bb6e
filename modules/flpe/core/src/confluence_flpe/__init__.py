"""FLPE framework: run any flow-law parameter estimation (FLPE) algorithm on a reach.

Stage 7 of the workflow.  Each algorithm is a plug-in (its own package and
image) that implements :class:`~confluence_flpe.interface.Algorithm` and
registers itself under the entry-point group ``confluence.flpe``.  This
package holds what they share:

- :mod:`.interface`: ReachObs, Priors, FlpeResult and the Algorithm protocol;
- :mod:`.registry`: the plug-ins found through entry points;
- :mod:`.io`: reading ``{reach_id}_SWOT.nc`` (contracts.md section 6), SWORD
  and the SoS priors (section 8) into ReachObs / Priors;
- :mod:`.output`: helpers for the algorithms' writers (fills, ``valid``);
- :mod:`.runner` / :mod:`.cli`: ``confluence-flpe ALGO [--index N]``;
- :mod:`.pepsi`, :mod:`.metrics`, :mod:`.bench`: the Pepsi-1 accuracy benchmark
  (Durand et al. 2016, doi:10.1002/2015WR018434).
"""

__version__ = "0.1.0"
