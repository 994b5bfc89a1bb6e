"""The MetroMan plug-in (entry point ``metroman`` in group ``confluence.flpe``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from confluence_core import ncio
from confluence_flpe.interface import FlpeResult, Priors, ReachObs

from . import io
from .config import MetroManConfig
from .setfit import align_times, fit

log = logging.getLogger("confluence-flpe.metroman")


class MetroMan:
    """MetroMan: Manning inversion over a reach set with mass conservation and Metropolis MCMC.

    Durand et al. (2014), doi:10.1016/j.jhydrol.2013.12.050; flow law ``n = na * (A/W)**x1``
    (:mod:`.flowlaw`), posterior and sampler in :mod:`.mcmc`, set handling in :mod:`.setfit`,
    files in :mod:`.io`.

    Parameters
    ----------
    config : MetroManConfig, optional
        Settings; default :meth:`MetroManConfig.from_env` (``CONFLUENCE_METROMAN_*``).
    """

    name: ClassVar[str] = "metroman"
    #: Fewest valid times of a reach (and common valid times of a joint fit).
    min_obs: ClassVar[int] = 5

    def __init__(self, config: MetroManConfig | None = None) -> None:
        self.config = config if config is not None else MetroManConfig.from_env()

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        """MetroMan on one set (upstream to downstream); one result per reach, in order."""
        results, _ = fit(reaches, self.config)
        return results

    def write(self, path: Path, obs: Sequence[ReachObs], results: Sequence[FlpeResult]) -> None:
        """Write the set file at ``path`` and, for a set of two or more, a per-reach file per reach.

        ``path`` is the framework's temporary file in ``flpe/metroman/``; the per-reach files
        ``{reach_id}_metroman.nc`` are written beside it, each atomically
        (``confluence_core.ncio.create``), before the set file.
        """
        path = Path(path)
        ids = [int(o.reach_id) for o in obs]
        set_id = io.set_name(ids)
        if len(obs) > 1:
            for o, res in zip(obs, results, strict=True):
                io.write_reach_file(path.parent / io.set_name([o.reach_id]), set_id, res, o.nt)
        axis = align_times([o.time for o in obs], self.config.time_tolerance)

        def on_set_axis(attr: str) -> np.ndarray:
            """``[nr, nt_set]`` of a per-reach series (``q`` or ``q_u``) on the set's time axis."""
            if not obs:
                return np.zeros((0, 0))
            return np.vstack([axis.to_set(r, io.series_or_nan(res, o.nt, attr))
                              for r, (o, res) in enumerate(zip(obs, results, strict=True))])

        q, q_u = on_set_axis("q"), on_set_axis("q_u")
        reasons = "; ".join(f"reach {r.reach_id}: {r.reason}" for r in results if not r.valid and r.reason)
        with ncio.create(path) as ds:
            io.write_file(
                ds,
                set_id,
                ids,
                q,
                q_u,
                {name: io.param_array(results, name) for name in io.PARAMS},
                any(r.valid for r in results),
                reasons,
            )
