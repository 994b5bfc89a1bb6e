"""HiVDI as a Confluence FLPE plug-in: discharge, bathymetry and friction of a reach set, variationally.

Follows Larnier, Monnier, Garambois & Verley (2021), "River discharge and bathymetry estimation
from SWOT altimetry measurements", Inverse Problems in Science and Engineering 29(6), 759-789,
doi:10.1080/17415977.2020.1803858 (HiVDI: a flow model on effective sections with a
depth-dependent Strickler law, its discharge, bathymetry and friction inferred by variational
data assimilation with a background from prior information, the first guess from a low-Froude
model), and Garambois & Monnier (2015), "Inference of effective river properties from remotely
sensed observations of water surface", Advances in Water Resources 79, 103-120,
doi:10.1016/j.advwatres.2015.02.007 (DOI unverified) (steady backwater on effective channels,
``K = alpha h^beta``, what the water-surface profiles of several flows can identify).  Elements
taken from descriptions of the SWOT-Confluence implementation (H2iVDI), not checked against its
code here: a standard-step backwater with the mean conveyance of each step, the downstream water
surface as boundary condition, a critical-depth floor, three-level effective sections with an
unobserved depth below the lowest level, the "low-Froude shape" discharge prior and an
observation error set from the misfits.

Equations (docs/science.md, section HiVDI, has the table with the code functions and sources):

H1  effective section of a node: width ``w1`` from the bed to ``z1``, then linear through the
    levels ``(z1, w1) (z2, w2) (z3, w3)`` (medians of the lowest, middle and highest third of the
    reach's stage-width pairs); ``A(Z) = integral of W from the bed to Z``.
H2  bed ``b = z_lo - d``, ``d = D (e^tilt (1 - s) + e^-tilt s)`` along the reach (``z_lo`` the
    lowest observed stage, ``s`` 0 upstream .. 1 downstream).
H3  Strickler law ``K = alpha h^beta``, ``h = A / W``; conveyance ``K A h^(2/3)``; controlled as
    ``K_ref = alpha h_ref^beta`` at the reach's prior mean depth ``h_ref``.
H4  steady backwater (standard step, energy balance between nodes j and j + 1 downstream):
    ``Z_j + Q_j^2/(2 g A_j^2) = Z_j+1 + Q_j+1^2/(2 g A_j+1^2) + dx ((Q_j + Q_j+1)/(K_j + K_j+1))^2``
    with K the conveyances, the subcritical root, from ``Z = z_out`` at each stretch's outlet.
H5  discharge of reach r at time t: ``Q_rt = share_r Q_t`` (share from SWORD flow accumulation).
H6  tangent linear model: ``dZ_j = -(dF/dZ_j+1 dZ_j+1 + dF/dp) / (dF/dZ_j)`` along the march.
H7  observation term ``(Z_model - Z_obs - c_node) / sigma_z`` on every observed node and time;
    ``sigma_z`` and the node offsets ``c_node`` estimated from the misfits of a first minimisation.
H8  discharge background: ``ln Q_t = ln Qbar + ln shape_t + e``, ``Qbar`` the SoS mean flow,
    ``shape_t`` the low-Froude discharge at the prior bathymetry and friction over its mean, with
    covariance ``sigma_qbar^2 (all times) + sigma_q^2 (each time)``.
H9  friction background: ``ln K_ref ~ N(-logn_hat, logn_sd)`` (geoBAM prior), ``beta ~ N(0, sigma_beta)``.
H10 bathymetry background: ``ln D ~ N(ln(A_lo / w1), logA0_sd)`` (geoBAM ``logA0_hat`` = area at
    the lowest observed stage), ``tilt ~ N(0, sigma_tilt)``; ``z_out`` around its first guess.
H11 cost ``J = 1/2 sum(H7^2) + 1/2 sum(background terms^2)``, minimised over
    ``(ln Q_t, z_out, ln K_ref, beta, ln D, tilt)`` with bounds (scipy ``least_squares``, dogbox).
H12 flow-law parameters of each reach: ``A0 = mean_t(mean_nodes A(Z_t) - d_x_area_t)`` (the area
    where ``d_x_area = 0``), ``beta``, and ``alpha = K_ref h_ref^-beta`` scaled so that the flow law
    ``hivdi``, ``Q = alpha ((A0 + dA)/W)^beta (A0 + dA)^(5/3) W^(-2/3) S^(1/2)`` on the reach's
    width, slope and ``d_x_area``, has the mean of the model discharge over the reach's times
    (``FlowLaw.with_mean``; the backwater's own alpha is kept as ``alpha_model``).

Modules: :mod:`.backwater` (H1-H6), :mod:`.problem` (inputs to the inverse problem, H8-H10),
:mod:`.inverse` (H7, H11, H12), :mod:`.algorithm` (the plug-in and its file), :mod:`.config`.
"""

from .algorithm import HiVDI

__all__ = ["HiVDI"]
