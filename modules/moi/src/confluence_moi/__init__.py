r"""Confluence MOI, the Mean Optimization Integrator (workflow step 9): mass-consistent mean flows per basin.

The flow-law algorithms (FLPE, step 7) estimate discharge reach by reach, so
their mean flows need not add up along the river.  For one basin (an entry of
``basin.json``) and each FLPE algorithm separately, the MOI finds mean flows
that conserve mass down the SWORD network and stay close to the algorithm's
reach means and to the SoS model priors, then gives each algorithm's flow-law
parameters for those mean flows (the integrated parameters that offline turns
back into discharge).  Integrating FLPE results
across the network is the role of the MOI in the SWOT Confluence workflow
(Durand et al. 2023, Water Resources Research, doi:10.1029/2021WR031614); the
formulation below is ours.

The optimisation
----------------
Network (:mod:`confluence_core.network`): the basin's reaches (the entry's, plus every SWORD
reach of the basin, so lakes (type 3) and dams (type 4) carry flow between the
FLPE reaches) with one downstream reach each.  Unknowns are the lateral
inflows :math:`L_j \ge 0` (m3/s) of every reach; mean flows follow with exact
mass conservation, :math:`\bar Q_j = L_j + \sum_{u \to j} \bar Q_u`, i.e.
:math:`\bar Q = C L` with :math:`C` the accumulation matrix.  Solved:

.. math::

    \min_{L \ge 0} \sum_{i \in O} \left(\frac{\log \bar Q_i - \log \hat Q_i}{s_i}\right)^2
      + \sum_{i \in P} \left(\frac{\log \bar Q_i - \log Q^{p}_i}{p_i}\right)^2
      + \sum_{j \in U} \left(\frac{L_j / \bar Q_j - f_j}{a f_j + b}\right)^2

- :math:`O`: reaches where the algorithm has a valid result; :math:`\hat Q_i`
  its mean over valid times (m3/s); :math:`s_i` its log-space sd:
  :math:`\sqrt{s_0^2 + \mathrm{var}(\log q)/n}`, :math:`s_0` from the
  algorithm's ``q_u`` (``log1p(median(q_u / q))``) or 0.4 when it gives none,
  plus the standard error of the mean from the series' spread.
- :math:`P`: reaches with a SoS ``model/mean_q`` :math:`Q^p_i`; :math:`p_i`
  = 0.5, or 0.05 where a gauge overwrote the model value.
- :math:`U`: reaches with an upstream reach in the network;
  :math:`f_j = (\mathrm{facc}_j - \sum_u \mathrm{facc}_u)/\mathrm{facc}_j` is
  the share of the reach's drainage area added there (SWORD ``facc``), the
  expected share of its mean flow entering laterally under uniform specific
  runoff; sd :math:`a f_j + b` with a = 0.5, b = 0.05.  Reaches without
  ``facc`` have :math:`L_j \ge 0` only.  Inflow from outside the network
  (upstream reaches in another basin) is lateral inflow of the boundary reach,
  unconstrained but non-negative.

Bound-constrained nonlinear least squares, trust-region reflective
(``scipy.optimize.least_squares``, Branch, Coleman & Li 1999,
doi:10.1137/S1064827595289108) with an analytic sparse Jacobian, started from
the precision-weighted log mean of data and prior made non-decreasing
downstream.  Network components with neither data nor prior are left missing.

Outputs
-------
``moi/{reach_id}_integrator.nc`` for every reach of the entry (layout of the
public workflow's file): per algorithm group ``q``, the algorithm's flow-law
parameters moved along the law's scale parameter until the law's mean over the
reach's observations is :math:`\bar Q` (``confluence_flpe.flowlaws``, the law
the algorithm's workflow row names), ``q`` the law's discharge with them,
``qbar_reachScale`` (:math:`\hat Q`, the algorithm's raw mean) and
``qbar_basinScale`` (:math:`\bar Q`, the integrated mean, also where the
algorithm has no result for the reach but has some in the basin).  Group
attributes ``valid``, ``status`` (why a group is fill) and ``flow_law``.
See docs/science.md (section MOI).
"""
