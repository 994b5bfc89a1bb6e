"""The consensus plug-in: other algorithms' series -> :func:`.science.consensus` -> ``{reach_id}_consensus.nc``."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
from confluence_core import ncio
from confluence_flpe import output
from confluence_flpe.interface import AlgorithmBase, FlpeResult, Priors, ReachObs

from .science import FLAG_NONE, FLAG_SEVERAL, FLAG_SINGLE, consensus

log = logging.getLogger("confluence-flpe")

#: Attributes of ``consensus_q`` as in reference_outputs/flpe/consensus.
Q_ATTRS = {
    "long_name": "consensus discharge", "short_name": "discharge_consensus", "tag_basic_expert": "Basic",
    "units": "m^3/s", "valid_min": -10000000.0, "valid_max": 10000000.0,
    "comment": "Discharge from the consensus discharge algorithm.",
}
#: Attributes of the per-time count (ours; after the reference variables).
N_ATTRS = {"long_name": "number of FLPE algorithms the consensus discharge rests on", "units": "1"}
#: Attributes of the per-time flag (ours; CF flag_values / flag_meanings).
FLAG_ATTRS = {
    "long_name": "consensus quality flag",
    "flag_values": np.asarray([FLAG_SEVERAL, FLAG_SINGLE, FLAG_NONE], dtype=np.int8),
    "flag_meanings": "several_algorithms single_algorithm no_estimate",
    "comment": "1: the value rests on one FLPE algorithm only (no cross-check); 2: no algorithm gave a value.",
}


class Consensus(AlgorithmBase):
    """Weighted log-space consensus of the FLPE algorithms' discharge (:mod:`.science`); a combiner."""

    name: ClassVar[str] = "consensus"
    min_obs: ClassVar[int] = 0

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        """Without other algorithms' series there is nothing to combine: flagged results."""
        return [FlpeResult.invalid(o.reach_id, o.nt, "no FLPE series given") for o, _ in reaches]

    def combine(self, reach_id: int, nt: int, series: Mapping[str, np.ndarray], *,
                q_u: Mapping[str, np.ndarray] | None = None, obs: ReachObs | None = None,
                priors: Priors | None = None) -> FlpeResult:
        """Combine ``series`` (algorithm -> ``q[nt]``, m3/s) into the reach's consensus.

        Parameters
        ----------
        reach_id, nt : int
            The reach and its number of observation times.
        series : mapping of str to numpy.ndarray
            Algorithm name -> discharge ``[nt]`` (m3/s).
        q_u : mapping of str to numpy.ndarray, optional
            Algorithm name -> its 1-sigma discharge uncertainty ``[nt]`` (m3/s), where stated:
            the weights.
        obs : ReachObs, optional
            The reach's observations: the yardstick of the prior-echo test.
        priors : Priors, optional
            The reach's priors (``mean_q``).

        Returns
        -------
        FlpeResult
            ``q`` the consensus; ``extra``: ``contributing_algos``, ``n_algos`` ``[nt]``,
            ``flag`` ``[nt]``, ``left_out`` (name -> reason) and ``weights``.
        """
        res = consensus(series, nt, q_u=q_u, obs=obs, prior=priors)
        for name, why in res.dropped.items():
            log.info("reach %s: %s left out of the consensus: %s", reach_id, name, why)
        reason = ""
        if not res.used:
            reason = ("no FLPE series given" if not series else
                      "no algorithm series passed the consensus screening: "
                      + "; ".join(f"{k}: {v}" for k, v in res.dropped.items()))
        single = int(np.count_nonzero(res.n_algos == 1))
        if single:
            log.info("reach %s: %d of %d times rest on one algorithm", reach_id, single, nt)
        return FlpeResult(reach_id=int(reach_id), q=res.q, valid=bool(res.used), reason=reason,
                          extra={"contributing_algos": res.used, "n_algos": res.n_algos, "flag": res.flag,
                                 "left_out": res.dropped, "weights": res.weights})

    def write(self, path: Path, obs: Sequence[ReachObs], results: Sequence[FlpeResult]) -> None:
        """Write ``{reach_id}_consensus.nc``.

        The layout of reference_outputs/flpe/consensus first: ``consensus_q`` and ``time_str`` on
        ``nt``, root attributes ``n_algos`` (count of contributing algorithms, a string) and
        ``contributing_algos`` (a name, or a list of names, as the public workflow writes it);
        then ours: variables ``n_algos`` (int32, algorithms per time) and ``consensus_flag``
        (int8, 1 where one algorithm only), attributes ``valid``, ``reason`` (when not valid) and
        ``left_out`` (``name: why; ...``).
        """
        o, res = obs[0], results[0]
        used = list(res.extra.get("contributing_algos", []))
        n_algos = np.asarray(res.extra.get("n_algos", np.isfinite(res.q).astype(np.int32)), dtype=np.int32)
        flag = np.where(n_algos >= 2, FLAG_SEVERAL, np.where(n_algos == 1, FLAG_SINGLE, FLAG_NONE))
        with ncio.create(path) as ds:
            ds.setncattr("n_algos", str(len(used)))
            ds.setncattr("contributing_algos", used if len(used) != 1 else used[0])
            output.set_valid(ds, res.valid)
            if not res.valid and res.reason:
                ds.setncattr("reason", res.reason)
            left_out = res.extra.get("left_out", {})
            if left_out:
                ds.setncattr("left_out", "; ".join(f"{k}: {v}" for k, v in left_out.items()))
            ds.createDimension("nt", o.nt)
            output.series(ds, "consensus_q", res.q, attrs=Q_ATTRS)
            output.time_str(ds, o.time_str)
            ncio.write_var(ds, "n_algos", n_algos, ("nt",), dtype="i4", fill=None, attrs=N_ATTRS)
            ncio.write_var(ds, "consensus_flag", flag.astype(np.int8), ("nt",), dtype="i1", fill=None,
                           attrs=FLAG_ATTRS)
