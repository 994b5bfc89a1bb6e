"""The MetroMan plug-in (entry point ``metroman`` in group ``confluence.flpe``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from confluence_core import ncio
from confluence_flpe.interface import Fanout, FlpeResult, Priors, ReachObs, output_folder

from . import io
from .config import MetroManConfig
from .setfit import align_times, fit

log = logging.getLogger("confluence-flpe.metroman")


class MetroMan:
    """MetroMan: Manning inversion over a reach set with mass conservation and Metropolis MCMC.

    Durand et al. (2014), doi:10.1002/2014WR015622; flow law ``n = na * (A/W)**x1``
    (:mod:`.flowlaw`), posterior and sampler in :mod:`.mcmc`, set handling in :mod:`.setfit`,
    files in :mod:`.io`.

    Parameters
    ----------
    config : MetroManConfig, optional
        Settings; default :meth:`MetroManConfig.from_env` (``CONFLUENCE_METROMAN_*``).
    """

    name: ClassVar[str] = "metroman"
    fanout: ClassVar[Fanout] = "reachset"
    #: Fewest valid times of a reach (and common valid times of a joint fit).
    min_obs: ClassVar[int] = 5
    fanout_list: ClassVar[str] = "metrosets.json"
    q_var: ClassVar[str] = "allq"

    def __init__(self, config: MetroManConfig | None = None) -> None:
        self.config = config if config is not None else MetroManConfig.from_env()

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        """MetroMan on one set (upstream to downstream); one result per reach, in order."""
        results, _ = fit(reaches, self.config)
        return results

    def output_name(self, reach_ids: Sequence[int]) -> str:
        """``{id1}-{id2}-..._metroman.nc`` (the set file)."""
        return io.set_name(reach_ids)

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
        q = (
            np.vstack(
                [
                    axis.to_set(r, io.series_or_nan(res, o.nt, "q"))
                    for r, (o, res) in enumerate(zip(obs, results, strict=True))
                ]
            )
            if obs
            else np.zeros((0, 0))
        )
        q_u = (
            np.vstack(
                [
                    axis.to_set(r, io.series_or_nan(res, o.nt, "q_u"))
                    for r, (o, res) in enumerate(zip(obs, results, strict=True))
                ]
            )
            if obs
            else np.zeros((0, 0))
        )
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

    def read_q(self, flpe_dir: Path, reach_id: int) -> np.ndarray | None:
        """The reach's MetroMan discharge ``[nt]`` (m3/s) from its per-reach file (see :mod:`.io`)."""
        return io.read_reach_q(Path(flpe_dir), reach_id, output_folder(self.name))
