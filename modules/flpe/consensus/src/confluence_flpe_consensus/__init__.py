"""FLPE consensus: one discharge per reach and time from every FLPE algorithm that ran.

The rule (:mod:`.science`) replaces the public workflow's (contracts.md
section 9: drop series with a coefficient of variation <= 0.3, per-time
median of the rest), which dropped every series of a river whose flow itself
varies little and so gave nothing there (issue 16):

- a series is a prior echo when it is flat, or when it varies far less than
  the observed widths say discharge varied (at-a-station hydraulic geometry,
  Leopold & Maddock 1953, doi:10.3133/pp252), not when its variation is
  merely small;
- an algorithm far from the others is rejected with Hampel's MAD test in log
  space (Leys et al. 2013, doi:10.1016/j.jesp.2013.03.013);
- the rest are combined per time in log space, weighted by each algorithm's
  stated uncertainty (where it states one) on top of a common structural error
  (Durand et al. 2016, doi:10.1002/2015WR018434);
- each time records how many algorithms it rests on (``n_algos``), and times
  resting on one are flagged.

See Durand et al. (2023), doi:10.1029/2021WR031614, for the consensus of FLPE
algorithms in the SWOT workflow.

It is a *combiner* plug-in (``combine``, see :mod:`confluence_flpe.interface`):
the framework gathers every other algorithm's series through the output
contract, so adding an FLPE algorithm needs no change here.  ``combine``
also takes, by keyword, the algorithms' uncertainties ``q_u``, the reach's
observations and priors; a caller that passes only the series gets the rule
without the width yardstick and with equal weights.  Output:
``flpe/consensus/{reach_id}_consensus.nc``, the layout of
``reference_outputs/flpe/consensus`` followed by ``n_algos`` and
``consensus_flag``.
"""
