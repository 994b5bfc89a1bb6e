"""FLPE consensus: one discharge per reach and time from every FLPE algorithm that ran.

The rule of the public workflow (contracts.md section 9): negative discharge
becomes missing; a series is dropped when it has no valid value, when its
length differs from the reach's ``nt`` ("odd length"), or when its coefficient
of variation is at most 0.3 (an algorithm that echoed its mean-flow prior back);
the consensus is the per-time median of the series left.  See Durand et al.
(2023), doi:10.1029/2021WR031614, for why a median of algorithms is used.

It is a *combiner* plug-in (``combine``, see :mod:`confluence_flpe.interface`):
the framework gathers every other installed algorithm's series through its
``read_q``, so adding an FLPE algorithm needs no change here.  Output:
``flpe/consensus/{reach_id}_consensus.nc`` as in ``reference_outputs/flpe/consensus``.
"""
