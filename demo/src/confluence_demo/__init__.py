"""The Confluence demo world: a deterministic synthetic SWOT world in the real formats.

``generate(out_dir, seed=..., kind="demo"|"bench")`` writes RiverSP Reach and
Node shapefile granules (PGA2 and version D schemas), SWORD and SoS NetCDF files
per continent, a local gauge archive, and the truth (daily discharge, Manning
parameters, A0, every planted bad observation) beside them.  It is the built-in
data of ``confluence run --local`` and the ground truth of tests and benchmarks.

Science: Manning's law on power-law sections (Dingman 2007,
doi:10.1016/j.jhydrol.2006.09.021), SWOT error budget (Biancamaria et al. 2016,
doi:10.1007/s10712-015-9346-y), SWORD layout (Altenau et al. 2021,
doi:10.1029/2021WR030054).
"""

from .world import DEFAULT_SEED, KINDS, WorldInfo, generate

__all__ = ["DEFAULT_SEED", "KINDS", "WorldInfo", "generate"]
