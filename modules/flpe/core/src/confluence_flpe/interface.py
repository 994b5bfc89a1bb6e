"""The one interface every FLPE algorithm implements (a plug-in).

An algorithm receives, for each reach of its job (one reach, or a reach set
ordered upstream to downstream), the reach's SWOT observations
(:class:`ReachObs`) and its SoS priors (:class:`Priors`), and returns one
:class:`FlpeResult` per reach.  It also owns the layout of its output file
(:meth:`Algorithm.write`), because every algorithm's file differs
(contracts.md section 9, ``reference_outputs/flpe``).

Algorithms are found through the entry-point group ``confluence.flpe``
(name -> class), never through an if/elif on names.

Optional parts of the protocol (a plug-in may leave them out; the framework
uses the documented default):

- ``read_q(flpe_dir, reach_id) -> np.ndarray | None``: the discharge series
  ``[nt]`` this algorithm wrote for ``reach_id`` (NaN where none), or None
  when it wrote no file for the reach.  ``flpe_dir`` is the root of the flpe
  volume (``/mnt/data/flpe``); the algorithm's own files are in
  ``flpe_dir/<name>/``.  Default (:func:`default_read_q`): read the variable
  ``q_var`` (default ``"Q"``; a group path such as ``"q/q1"`` is allowed) of
  ``flpe_dir/<name>/<output_name([reach_id])>``.  Reach-set algorithms, whose
  file names hold the whole set, must provide their own ``read_q``.
- ``q_var``: see ``read_q``.
- ``fanout_list``: the fan-out list a reach-set algorithm reads
  (``metrosets.json``, ``hivdisets.json``, ``sicsets.json``); default
  ``reaches.json`` for reach algorithms and ``metrosets.json`` for reach sets.
- ``combine(reach_id, nt, series) -> FlpeResult``: marks a *combiner*
  (consensus): it does not run on observations but on the other algorithms'
  discharge series ``{algo name: q[nt]}``.  The runner gathers the series
  through every other plug-in's ``read_q`` and calls ``combine`` instead of
  ``run``.

:class:`AlgorithmBase` implements these defaults for plug-ins that subclass it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Literal, Protocol, runtime_checkable

import numpy as np
from confluence_core import flpe as flpe_contract

Fanout = Literal["reach", "reachset"]


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
        return np.isfinite(self.width) & np.isfinite(self.wse) & np.isfinite(self.slope)


@dataclass
class Priors:
    """SoS priors of one reach (model group and gbpriors/reach); NaN where absent.

    Flows in m3/s.  ``monthly_q`` has 12 values (January first);
    ``flow_duration_q`` 20 values at the exceedance levels of
    ``confluence_core.sos.EXCEEDANCE``.  ``gb`` maps gbpriors/reach variable
    names to this reach's value; ``gb_node`` maps gbpriors/node names to the
    reach's node values ``[nx]``.
    """

    reach_id: int
    mean_q: float = float("nan")
    min_q: float = float("nan")
    max_q: float = float("nan")
    two_year_return_q: float = float("nan")
    monthly_q: np.ndarray = field(default_factory=lambda: np.full(12, np.nan))
    flow_duration_q: np.ndarray = field(default_factory=lambda: np.full(20, np.nan))
    gb: dict[str, float] = field(default_factory=dict)
    gb_node: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class FlpeResult:
    """One reach's result. ``q`` is ``[nt]`` on the reach's observation times, NaN where none.

    ``params`` holds the flow-law parameters (names as the algorithm's output
    file uses them, e.g. ``A0``, ``n``, ``na``, ``x1``); ``extra`` anything
    else the algorithm writes (posterior sds, diagnostics).  ``valid`` False
    means the algorithm could not run for this reach; ``reason`` says why.
    """

    reach_id: int
    q: np.ndarray
    q_u: np.ndarray | None = None
    params: dict[str, float | np.ndarray] = field(default_factory=dict)
    extra: dict[str, float | np.ndarray] = field(default_factory=dict)
    valid: bool = True
    reason: str = ""

    @classmethod
    def invalid(cls, reach_id: int, nt: int, reason: str) -> FlpeResult:
        """A valid-but-flagged result: all-NaN discharge and the reason."""
        return cls(reach_id=reach_id, q=np.full(nt, np.nan), valid=False, reason=reason)


@runtime_checkable
class Algorithm(Protocol):
    """An FLPE algorithm plug-in."""

    #: Name used on the command line and as the output folder ``flpe/<name>``.
    name: ClassVar[str]
    #: "reach" (reaches.json) or "reachset" (metrosets/hivdisets/sicsets.json).
    fanout: ClassVar[Fanout]
    #: Fewest valid observation times needed to run.
    min_obs: ClassVar[int]

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        """Estimate discharge for each reach of the job (pure: no files)."""
        ...

    def output_name(self, reach_ids: Sequence[int]) -> str:
        """File name of the job's output in ``flpe/<name>/``."""
        ...

    def write(self, path: Path, obs: Sequence[ReachObs], results: Sequence[FlpeResult]) -> None:
        """Write the output file at ``path`` (already a temporary path: write it whole)."""
        ...


#: Default name of the discharge variable read by :func:`default_read_q`.
DEFAULT_Q_VAR = "Q"


def output_folder(name: str) -> str:
    """Folder of an algorithm's files in the flpe volume: the output contract's (e.g. neobam ->
    ``geobam``, as the public workflow names it), else the algorithm's name."""
    spec = flpe_contract.algorithms().get(name)
    if spec is None and name == flpe_contract.consensus().name:
        spec = flpe_contract.consensus()
    return spec.folder if spec is not None else name


def default_read_q(algo: object, flpe_dir: Path, reach_id: int) -> np.ndarray | None:
    """Read the discharge ``algo`` wrote for ``reach_id`` (the default ``read_q``).

    Parameters
    ----------
    algo : Algorithm
        The plug-in (its ``name``, ``output_name`` and optional ``q_var`` are used).
    flpe_dir : Path
        Root of the flpe volume; the file is ``flpe_dir/<name>/<output_name([reach_id])>``.
    reach_id : int

    Returns
    -------
    numpy.ndarray or None
        ``q[nt]`` in m3/s with fills as NaN, or None when the file or the
        variable is absent.  A file whose ``valid`` attribute is 0 gives an
        all-NaN series (the consensus then drops it).
    """
    from confluence_core import ncio  # local: keep the interface importable without netCDF4 users

    path = Path(flpe_dir) / output_folder(str(algo.name)) / algo.output_name([int(reach_id)])  # type: ignore[attr-defined]
    if not path.exists():
        return None
    q_var = str(getattr(algo, "q_var", DEFAULT_Q_VAR))
    group_path, _, var = q_var.rpartition("/")
    with ncio.open_dataset(path) as ds:
        group = ncio.get_group(ds, group_path) if group_path else ds
        q = ncio.read_float(group, var)
        if q is None:
            return None
        if "valid" in ds.ncattrs() and int(np.asarray(ds.getncattr("valid")).ravel()[0]) == 0:
            q = np.full(q.shape, np.nan)
    return np.asarray(q, dtype=np.float64).ravel()


def read_q(algo: object, flpe_dir: Path, reach_id: int) -> np.ndarray | None:
    """Call ``algo.read_q`` when the plug-in has one, else :func:`default_read_q`."""
    own = getattr(algo, "read_q", None)
    if callable(own):
        return own(Path(flpe_dir), int(reach_id))
    return default_read_q(algo, Path(flpe_dir), int(reach_id))


def is_combiner(algo: object) -> bool:
    """True for plug-ins that combine other algorithms' results (they have ``combine``)."""
    return callable(getattr(algo, "combine", None))


class AlgorithmBase:
    """Convenience base class with the protocol's defaults (subclassing it is optional).

    Gives reach algorithms the output name ``{reach_id}_{name}.nc`` and the
    default ``read_q``; a subclass sets ``name``, ``fanout``, ``min_obs``
    (and ``q_var`` when its discharge variable is not ``Q``) and implements
    ``run`` and ``write``.
    """

    name: ClassVar[str]
    fanout: ClassVar[Fanout] = "reach"
    min_obs: ClassVar[int] = 1
    q_var: ClassVar[str] = DEFAULT_Q_VAR

    def output_name(self, reach_ids: Sequence[int]) -> str:
        """``{reach_id}_{name}.nc`` (reach sets: the ids joined by ``-``)."""
        return "-".join(str(int(r)) for r in reach_ids) + f"_{self.name}.nc"

    def read_q(self, flpe_dir: Path, reach_id: int) -> np.ndarray | None:
        """See :func:`default_read_q`."""
        return default_read_q(self, flpe_dir, reach_id)


#: Type of a combiner's input: algorithm name -> ``q[nt]`` (m3/s).
SeriesMap = Mapping[str, np.ndarray]
