"""The framework's rules for reach sets (confluence_flpe.runner.run_algorithm)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from confluence_core.errors import NotEnoughDataError
from confluence_flpe.interface import FlpeResult, Priors, ReachObs
from confluence_flpe.runner import ReachInput, run_algorithm


def _obs(reach_id: int, nt: int = 6) -> ReachObs:
    t = np.arange(nt, dtype=float) * 86400.0
    return ReachObs(reach_id=reach_id, time=t, time_str=np.full(nt, "2023-01-01T00:00:00Z", dtype=object),
                    width=np.full(nt, 100.0), wse=np.linspace(10, 11, nt), slope=np.full(nt, 1e-4),
                    d_x_area=np.zeros(nt))


class SetAlgo:
    """A reach-set algorithm that records its calls; sets larger than ``max_set`` cannot run together."""

    name: ClassVar[str] = "dummyset"
    min_obs: ClassVar[int] = 3

    def __init__(self, max_set: int = 10) -> None:
        self.max_set = max_set
        self.calls: list[list[int]] = []

    def run(self, reaches: Sequence[tuple[ReachObs, Priors]]) -> list[FlpeResult]:
        self.calls.append([o.reach_id for o, _ in reaches])
        if len(reaches) > self.max_set:
            raise NotEnoughDataError("too few common times across the set")
        return [FlpeResult(reach_id=o.reach_id, q=np.full(o.nt, float(len(reaches)))) for o, _ in reaches]


def _items(n: int, short: Sequence[int] = ()) -> list[ReachInput]:
    items = [ReachInput(_obs(11 + 10 * k), Priors(reach_id=11 + 10 * k)) for k in range(n)]
    for k in short:
        items[k].reason = "1 valid observations, dummyset needs 3"
    return items


def test_the_whole_set_runs_together() -> None:
    algo = SetAlgo()
    res = run_algorithm(algo, "reachset", _items(3))  # type: ignore[arg-type]  # a duck-typed plug-in
    assert algo.calls == [[11, 21, 31]] and all(r.valid and r.q[0] == 3 for r in res)


def test_one_empty_reach_is_flagged_alone_and_the_rest_runs_as_a_set() -> None:
    algo = SetAlgo()
    res = run_algorithm(algo, "reachset", _items(3, short=[1]))  # type: ignore[arg-type]
    assert algo.calls == [[11, 31]]
    assert [r.valid for r in res] == [True, False, True] and [r.reach_id for r in res] == [11, 21, 31]
    assert "needs 3" in res[1].reason and res[0].q[0] == 2


def test_a_set_that_cannot_run_together_falls_back_to_single_reaches() -> None:
    algo = SetAlgo(max_set=1)
    res = run_algorithm(algo, "reachset", _items(3))  # type: ignore[arg-type]
    assert algo.calls == [[11, 21, 31], [11], [21], [31]]
    assert all(r.valid and r.q[0] == 1 for r in res)


def test_one_runnable_reach_runs_on_its_own_and_every_reach_has_a_result() -> None:
    algo = SetAlgo()
    res = run_algorithm(algo, "reachset", _items(3, short=[0, 2]))  # type: ignore[arg-type]
    assert algo.calls == [[21]] and [r.valid for r in res] == [False, True, False]
    assert len(res) == 3 and all(r.q.shape == (6,) for r in res)


def test_mean_flow_prior_sd_is_the_larger_of_the_algorithm_and_the_sos() -> None:
    assert Priors(reach_id=1).mean_q_log_sd(0.5) == 0.5  # no stated sd
    assert Priors(reach_id=1, mean_q_sd_ln=0.85).mean_q_log_sd(0.5) == 0.85  # rough no-SoS prior: wider
    assert Priors(reach_id=1, mean_q_sd_ln=0.1).mean_q_log_sd(0.5) == 0.5  # never more confident
    assert Priors(reach_id=1, mean_q_sd_ln=-1.0).mean_q_log_sd(0.5) == 0.5
