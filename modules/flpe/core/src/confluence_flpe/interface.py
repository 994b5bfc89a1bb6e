"""The one interface every FLPE algorithm implements (a plug-in).

An algorithm receives, for each reach of its job (one reach, or a reach set
ordered upstream to downstream), the reach's SWOT observations
(:class:`ReachObs`) and its SoS priors (:class:`Priors`), and returns one
:class:`FlpeResult` per reach.  It also owns the layout of its output file
(:meth:`Algorithm.write`), because every algorithm's file differs
(contracts.md section 9, ``reference_outputs/flpe``).

What is a fact of the workflow and not of the code lives in the algorithm's
row of the workflow table (:mod:`confluence_core.workflow`): its fan-out
(``reach`` or ``reachset``) and list, its output file names, and its output
contract (discharge and parameter variables, MOI group, offline prefix) that
every later step reads through :mod:`confluence_core.flpe`.  A plug-in never
restates them.

Algorithms are found through the entry-point group ``confluence.flpe``
(name -> class), never through an if/elif on names; the entry point's name is
the name of its workflow row.  A *combiner* (consensus) has
``combine(reach_id, nt, series) -> FlpeResult``: it does not run on
observations but on the other algorithms' discharge series ``{algo name:
q[nt]}``, which the runner reads through the output contract.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeGuard, runtime_checkable

import numpy as np


@dataclass
class ReachObs:
    """SWOT observations of one reach. Missing values are NaN; units SI.

    Reach arrays are ``[nt]``; node arrays ``[nx, nt]``.  ``slope`` falls back
    to ``slope2`` when a file has no ``slope``; ``d_x_area`` is computed from
    width and wse (trapezoidal integration of width over stage, relative to
    the median stage) when the file has none, and ``dA_from_obs`` says so.
    """

    reach_id: int
    time: np.ndarray  # s since 2000-01-01 UTC
    time_str: np.ndarray  # str, "no_data" where unobserved
    width: np.ndarray  # m
    wse: np.ndarray  # m
    slope: np.ndarray  # m/m
    d_x_area: np.ndarray  # m2
    width_u: np.ndarray | None = None
    wse_u: np.ndarray | None = None
    slope_u: np.ndarray | None = None
    d_x_area_u: np.ndarray | None = None
    node_id: np.ndarray | None = None  # [nx]
    node_width: np.ndarray | None = None  # [nx, nt]
    node_wse: np.ndarray | None = None  # [nx, nt]
    node_d_x_area: np.ndarray | None = None  # [nx, nt]
    reach_length: float = float("nan")  # m, SWORD
    facc: float = float("nan")  # km2, SWORD
    prior_width: float = float("nan")  # m, SWORD
    dA_from_obs: bool = False

    @property
    def nt(self) -> int:
        return int(self.width.shape[0])

    @property
    def n_valid(self) -> int:
        """Number of times with finite width, wse and slope."""
        return int(np.count_nonzero(self.valid))

    @classmethod
    def empty(cls, reach_id: int, nt: int = 0) -> ReachObs:
        """Observations of a reach with no data (e.g. a missing SWOT file): ``nt`` NaN times."""
        nan = np.full(nt, np.nan)
        return cls(
            reach_id=int(reach_id), time=nan.copy(), time_str=np.full(nt, "no_data", dtype=object),
            width=nan.copy(), wse=nan.copy(), slope=nan.copy(), d_x_area=nan.copy(),
        )

    @property
    def valid(self) -> np.ndarray:
        """Times with finite width, wse and slope."""
        valid: np.ndarray = np.isfinite(self.width) & np.isfinite(self.wse) & np.isfinite(self.slope)
        return valid


@dataclass
class Priors:
    """SoS priors of one reach (model group and gbpriors/reach); NaN where absent.

    Flows in m3/s.  ``monthly_q`` has 12 values (January first);
    ``flow_duration_q`` 20 values at the exceedance levels of
    ``confluence_core.sos.EXCEEDANCE``.  ``gb`` maps gbpriors/reach variable
    names to this reach's value; ``gb_node`` maps gbpriors/node names to the
    reach's node values ``[nx]``.  ``mean_q_sd_ln`` is the log-space sd of
    ``mean_q`` (SoS ``model/mean_q_sd_ln``, written with an observation-based
    or user-given mean flow; NaN when the SoS states none, e.g. a model prior).
    """

    reach_id: int
    mean_q: float = float("nan")
    mean_q_sd_ln: float = float("nan")
    min_q: float = float("nan")
    max_q: float = float("nan")
    two_year_return_q: float = float("nan")
    monthly_q: np.ndarray = field(default_factory=lambda: np.full(12, np.nan))
    flow_duration_q: np.ndarray = field(default_factory=lambda: np.full(20, np.nan))
    gb: dict[str, float] = field(default_factory=dict)
    gb_node: dict[str, np.ndarray] = field(default_factory=dict)

    def mean_q_log_sd(self, default: float) -> float:
        """The log-space sd an algorithm should give its mean-flow prior: its own ``default``, or the
        SoS's stated ``mean_q_sd_ln`` when that is larger (a rough no-SoS prior must leave the data
        room to move it; a stated sd never makes an algorithm more confident than its own)."""
        sd = float(self.mean_q_sd_ln)
        return max(default, sd) if np.isfinite(sd) and sd > 0 else default


@dataclass
class FlpeResult:
    """One reach's result. ``q`` is ``[nt]`` on the reach's observation times, NaN where none.

    ``params`` holds the flow-law parameters (names as the algorithm's output
    file uses them, e.g. ``A0``, ``n``, ``na``, ``x1``); ``extra`` anything
    else the algorithm writes (posterior sds, diagnostics, the names of the
    algorithms a combiner used: values of any type).  ``valid`` False
    means the algorithm could not run for this reach; ``reason`` says why.
    """

    reach_id: int
    q: np.ndarray
    q_u: np.ndarray | None = None
    params: dict[str, float | np.ndarray] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    valid: bool = True
    reason: str = ""

    @classmethod
    def invalid(cls, reach_id: int, nt: int, reason: str) -> FlpeResult:
        """A valid-but-flagged result: all-NaN discharge and the reason."""
        return cls(reach_id=reach_id, q=np.full(nt, np.nan), valid=False, reason=reason)


@runtime_checkable
class Algorithm(Protocol):
    """An FLPE algorithm plug-in."""

    #: Name used on the command line: the name of the algorithm's workflow-table row.
    name: ClassVar[str]
    #: Fewest valid observation times needed to run.
    min_obs: ClassVar[int]

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        """Estimate discharge for each reach of the job (pure: no files)."""
        ...

    def write(self, path: Path, obs: Sequence[ReachObs], results: Sequence[FlpeResult]) -> None:
        """Write the output file at ``path`` (already a temporary path: write it whole)."""
        ...


class Combiner(Algorithm, Protocol):
    """An FLPE plug-in that combines the other algorithms' discharge series (consensus)."""

    def combine(self, reach_id: int, nt: int, series: Mapping[str, np.ndarray], *,
                q_u: Mapping[str, np.ndarray] | None = None, obs: ReachObs | None = None,
                priors: Priors | None = None) -> FlpeResult:
        """The reach's result from ``series`` (algorithm name -> ``q[nt]``, m3/s; pure: no files).

        ``q_u``: the algorithms' stated 1-sigma uncertainties (m3/s) where they give one; ``obs`` and
        ``priors``: the reach's observations and SoS priors (e.g. to judge a series' variability).
        """
        ...


def is_combiner(algo: object) -> TypeGuard[Combiner]:
    """True for plug-ins that combine other algorithms' results (they have ``combine``)."""
    return callable(getattr(algo, "combine", None))


class AlgorithmBase:
    """Convenience base class (subclassing it is optional): ``min_obs`` defaults to 1."""

    name: ClassVar[str]
    min_obs: ClassVar[int] = 1


#: Type of a combiner's input: algorithm name -> ``q[nt]`` (m3/s).
SeriesMap = Mapping[str, np.ndarray]
