"""Confluence validation (workflow step 12): discharge products against validation gauges.

Per reach with a validation gauge in the SoS (``{A}_CAL == 0``, contracts.md
section 8), every discharge product of the run (each FLPE algorithm, the
consensus, each MOI-integrated algorithm, the offline constrained and
unconstrained series; contracts.md section 9) is compared with the gauge's
daily discharge on the days SWOT saw the reach (gauge local day, configurable
UTC offset).  Statistics: Nash-Sutcliffe efficiency (Nash & Sutcliffe 1970,
doi:10.1016/0022-1694(70)90255-6), Kling-Gupta efficiency in its 2009 form
(Gupta et al. 2009, doi:10.1016/j.jhydrol.2009.08.003), R2 (squared Pearson
r), RMSE, RMSE and bias normalised by the mean gauge flow, r and the number of
matched days.  A run-wide summary writes a CSV table and a figure.
"""
