"""Confluence prediagnostics (workflow step 5): drop poor SWOT observations before the flow laws.

Per reach, on ``input/swot/{reach_id}_SWOT.nc``:

1. Quality flags as the SWOT RiverSP product description intends (JPL D-56413)
   with the thresholds of contracts.md section 9 (overridable with
   ``--config``): ``reach_q`` / ``node_q`` 0-2 kept and 3 (bad) removed, the
   bad bits (22-31) of ``reach_q_b`` / ``node_q_b``, ice flags, dark water
   (above 0.6 the pass is suspect and kept only if it agrees with the
   WSE-width relation), crossover calibration, prior (SWORD) width and length,
   cross-track distance, node coverage (``obs_frac_n``, ``n_good_pix``).
2. An outlier test that judges each value against its hydraulic neighbours:
   WSE and width against the robust monotone (isotonic) WSE-width relation of
   the reach (per node for node values), slope against the slopes of the passes
   nearest in WSE (:mod:`.outliers`, which cites the methods).

Removed values become fill in the SWOT file (rewritten atomically, originals
kept in its ``original`` group so reruns give the same result); the flags go to
``diagnostics/prediagnostics/{reach_id}_prediagnostics.nc`` in the layout of
the public workflow's file, and the number of observations each rule removed to
``diagnostics/prediagnostics/{reach_id}_prediagnostics.json``.
"""
