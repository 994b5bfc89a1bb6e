"""A job's reaches in one call: the FLPE runner's batched path, the plug-in's ordering, and
per-reach results that do not depend on the other reaches of the job."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import pytest
from confluence_core.errors import NotEnoughDataError
from confluence_flpe.interface import FlpeResult
from confluence_flpe.runner import ReachInput, _run_single
from confluence_flpe_neobam import NeoBAM
from confluence_flpe_neobam import plugin as plugin_mod
from confluence_flpe_neobam.model import SamplerSettings, sample_many
from confluence_flpe_neobam.priors import build_inputs


class _Recorder:
    """A fake algorithm: records the calls; a reach with ``nt == 3`` makes a batched call fail."""

    name: ClassVar[str] = "fake"
    min_obs: ClassVar[int] = 1

    def __init__(self, batched: bool) -> None:
        self.batched = batched
        self.calls: list[list[int]] = []

    def run(self, reaches: Sequence[tuple]) -> list[FlpeResult]:
        self.calls.append([o.reach_id for o, _ in reaches])
        if len(reaches) > 1 and any(o.nt == 3 for o, _ in reaches):
            raise NotEnoughDataError("too short to run with others")
        if any(o.nt == 3 for o, _ in reaches):
            raise NotEnoughDataError("too short")
        return [FlpeResult(reach_id=o.reach_id, q=np.full(o.nt, float(o.reach_id))) for o, _ in reaches]


def _items(synthetic, nts=(6, 7, 8), flag=1):
    out = []
    for k, nt in enumerate(nts):
        obs = synthetic.obs.__class__.empty(100 + k, nt)
        out.append(ReachInput(obs, synthetic.priors, "flagged upstream" if k == flag else ""))
    return out


def test_runner_hands_batched_algorithm_the_job(synthetic):
    algo = _Recorder(batched=True)
    items = _items(synthetic, nts=(6, 7, 8, 9), flag=1)
    res = _run_single(algo, items)
    assert algo.calls == [[100, 102, 103]]  # one call, the flagged reach left out
    assert [r.reach_id for r in res] == [100, 101, 102, 103]
    assert [r.valid for r in res] == [True, False, True, True]
    assert res[1].reason == "flagged upstream"
    np.testing.assert_array_equal(res[3].q, np.full(9, 103.0))


def test_runner_falls_back_to_one_by_one(synthetic):
    algo = _Recorder(batched=True)
    res = _run_single(algo, _items(synthetic, nts=(6, 3, 8), flag=-1))
    assert algo.calls == [[100, 101, 102], [100], [101], [102]]
    assert [r.valid for r in res] == [True, False, True] and res[1].reason == "too short"


def test_runner_unbatched_algorithm_runs_each_reach(synthetic):
    algo = _Recorder(batched=False)
    res = _run_single(algo, _items(synthetic, flag=1))
    assert algo.calls == [[100], [102]]
    assert [r.valid for r in res] == [True, False, True]
    assert NeoBAM.batched is True


def test_plugin_keeps_order_and_flags(monkeypatch, make_synthetic):
    """Flagged reaches keep their place; the sampler gets the runnable ones in one call (no JAX here)."""
    calls = []

    def fake_sample_many(datas, settings, seed):
        calls.append(len(datas))
        return [{"logn": np.zeros((3, 4)), "logr": np.zeros((3, 4)), "logWb": np.zeros((3, 4)),
                 "logDb": np.zeros((3, 4)), "diverging": np.zeros((3, 4), bool),
                 "logQ": np.full((3, 4, d.logW.shape[1]), float(k + 1))} for k, d in enumerate(datas)]

    monkeypatch.setattr(plugin_mod, "sample_many", fake_sample_many)
    a, b, c = (make_synthetic(seed=s, nt=20, nx=5) for s in (1, 2, 3))
    b.priors.mean_q, b.priors.monthly_q = np.nan, np.full(12, np.nan)  # no flow prior: flagged
    res = NeoBAM().run([(a.obs, a.priors), (b.obs, b.priors), (c.obs, c.priors)])
    assert calls == [2]
    assert [r.valid for r in res] == [True, False, True]
    np.testing.assert_allclose(res[0].q, np.e)
    np.testing.assert_allclose(res[2].q, np.e**2)


@pytest.mark.slow
def test_reach_alone_equals_reach_in_group(make_synthetic):
    """Same draws alone and in a group of three (two of another padded shape): exactly, since each
    reach runs the same compiled program with its own key (no tolerance needed)."""
    from confluence_core import sos

    def data(s):
        o, p = s.obs, s.priors
        return build_inputs(o.time, o.width, o.slope, o.node_width, p.mean_q, p.min_q, p.max_q, p.monthly_q,
                            p.flow_duration_q, np.asarray(sos.EXCEEDANCE, dtype=float), p.gb).data

    settings = SamplerSettings(num_chains=2, num_warmup=60, num_samples=60)
    a = data(make_synthetic(seed=1, nt=12, nx=5))
    b = data(make_synthetic(seed=2, nt=12, nx=6))
    c = data(make_synthetic(seed=3, nt=20, nx=5))  # another bucket (8, 32)
    (alone,) = sample_many([a], settings, seed=7)
    group = sample_many([b, c, a], settings, seed=7)
    assert set(alone) == set(group[2])
    for name, v in alone.items():
        np.testing.assert_array_equal(v, group[2][name], err_msg=name)
    assert not np.array_equal(group[0]["logQ"], alone["logQ"])
