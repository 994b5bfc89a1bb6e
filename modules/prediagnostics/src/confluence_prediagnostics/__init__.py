"""Confluence prediagnostics (workflow step 5): drop poor SWOT observations before the flow laws.

Per reach, on ``input/swot/{reach_id}_SWOT.nc``:

1. Quality checks with the public workflow's thresholds (contracts.md section 9;
   overridable with ``--config``): ice flags, dark water fraction, cross-over
   calibration quality, prior (SWORD) width and length, cross-track distance,
   node coverage (``obs_frac_n``, ``n_good_pix``) and the summary quality
   ``reach_q`` / ``node_q`` of the SWOT RiverSP product (JPL D-56413).
2. Tukey's 1.5 IQR fences over time (Tukey 1977, *Exploratory Data Analysis*)
   on reach width, wse, slope, slope2 and per node on width and wse.

Removed values become fill in the SWOT file (rewritten atomically, originals
kept in its ``original`` group so reruns give the same result); the flags go to
``diagnostics/prediagnostics/{reach_id}_prediagnostics.nc`` in the layout of
the public workflow's file.
"""
