"""The consensus plug-in: other algorithms' series -> median -> ``{reach_id}_consensus.nc``."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from confluence_core import ncio
from confluence_flpe import output
from confluence_flpe.interface import AlgorithmBase, FlpeResult, Priors, ReachObs

from .science import consensus

log = logging.getLogger("confluence-flpe")

#: Attributes of ``consensus_q`` as in reference_outputs/flpe/consensus.
Q_ATTRS = {
    "long_name": "consensus discharge", "short_name": "discharge_consensus", "tag_basic_expert": "Basic",
    "units": "m^3/s", "valid_min": -10000000.0, "valid_max": 10000000.0,
    "comment": "Discharge from the consensus discharge algorithm.",
}


class Consensus(AlgorithmBase):
    """Median of the FLPE algorithms' discharge (contracts.md section 9); a combiner."""

    name: ClassVar[str] = "consensus"
    min_obs: ClassVar[int] = 0

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        """Without other algorithms' series there is nothing to combine: flagged results."""
        return [FlpeResult.invalid(o.reach_id, o.nt, "no FLPE series given") for o, _ in reaches]

    def combine(self, reach_id: int, nt: int, series: Mapping[str, np.ndarray]) -> FlpeResult:
        """Apply the consensus rule to ``series`` (algorithm -> ``q[nt]``, m3/s)."""
        q, used, dropped = consensus(series, nt)
        for name, why in dropped.items():
            log.info("reach %s: %s left out of the consensus: %s", reach_id, name, why)
        reason = "" if used else "no algorithm series passed the consensus screening"
        return FlpeResult(reach_id=int(reach_id), q=q, valid=bool(used), reason=reason,
                          extra={"contributing_algos": used})

    def write(self, path: Path, obs: Sequence[ReachObs], results: Sequence[FlpeResult]) -> None:
        """Write ``{reach_id}_consensus.nc``: consensus_q and time_str on nt, attrs n_algos,
        contributing_algos (a list of names, as the public workflow writes it) and valid."""
        o, res = obs[0], results[0]
        used = list(res.extra.get("contributing_algos", []))
        with ncio.create(path) as ds:
            ds.setncattr("n_algos", str(len(used)))
            ds.setncattr("contributing_algos", used if len(used) != 1 else used[0])
            output.set_valid(ds, res.valid)
            ds.createDimension("nt", o.nt)
            output.series(ds, "consensus_q", res.q, attrs=Q_ATTRS)
            output.time_str(ds, o.time_str)
