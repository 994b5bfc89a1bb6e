"""The consensus plug-in's output against reference_outputs/flpe/consensus."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
from confluence_core import flpe
from confluence_flpe.interface import Priors, ReachObs, is_combiner
from confluence_flpe_consensus.algorithm import Consensus

REF = Path("reference_outputs") / "flpe" / "consensus" / "74223700011_consensus.nc"
#: Our variables, written after the reference layout.
EXTRA = ["n_algos", "consensus_flag"]


def _structure(path: Path) -> dict[str, object]:
    with netCDF4.Dataset(path) as ds:
        out: dict[str, object] = {"/dims": sorted(ds.dimensions), "/groups": sorted(ds.groups)}
        for name, var in ds.variables.items():
            out[name] = (str(var.dtype), var.dimensions, var.__dict__.get("_FillValue"),
                         {k: var.getncattr(k) for k in var.ncattrs() if k != "_FillValue"}.keys())
    return out


def _obs(nt: int) -> ReachObs:
    obs = ReachObs.empty(74223700011, nt)
    obs.time_str = np.asarray([f"2024-01-{d + 1:02d}T00:00:00Z" for d in range(nt)], dtype=object)
    obs.time_str[1] = "no_data"
    return obs


@pytest.mark.parametrize("series", [{"momma": np.array([1.0, 5.0, -1.0, 9.0, 3.0])}, {}])
def test_output_matches_reference(shared_data: Path, tmp_path: Path, series: dict) -> None:
    algo = Consensus()
    path = flpe.consensus().path(tmp_path, 74223700011)
    assert is_combiner(algo) and path.name == "74223700011_consensus.nc"
    res = algo.combine(74223700011, 5, series)
    path.parent.mkdir()
    algo.write(path, [_obs(5)], [res])
    ref, ours = _structure(shared_data / REF), _structure(path)
    assert list(ours)[: len(ref)] == list(ref) and list(ours)[len(ref):] == EXTRA  # reference first
    assert {k: v for k, v in ours.items() if k in ref} == ref
    with netCDF4.Dataset(path) as ds:
        assert ds.n_algos == str(len(series)) and ds.valid == len(series)
        assert list(ds["time_str"][:2]) == ["2024-01-01T00:00:00Z", "no_data"]
        if series:
            assert ds.contributing_algos == "momma" and "reason" not in ds.ncattrs()
            np.testing.assert_array_equal(ds["consensus_q"][:].filled(np.nan), [1, 5, np.nan, 9, 3])
            assert ds["n_algos"][:].tolist() == [1, 1, 0, 1, 1]
            assert ds["consensus_flag"][:].tolist() == [1, 1, 2, 1, 1]
        else:
            assert ds.reason == "no FLPE series given" and (ds["n_algos"][:] == 0).all()
    got = flpe.read_result(flpe.consensus(), tmp_path, 74223700011)
    assert got is not None and got.valid == bool(series) and got.q.shape == (5,)
    assert np.isfinite(got.q).sum() == (4 if series else 0)


def test_several_contributors_are_a_list(tmp_path: Path) -> None:
    algo = Consensus()
    res = algo.combine(74223700011, 3, {"b": np.array([1.0, 4.0, 9.0]), "a": np.array([3.0, 8.0, 1.0])})
    path = tmp_path / "c.nc"
    algo.write(path, [_obs(3)], [res])
    with netCDF4.Dataset(path) as ds:
        assert list(ds.contributing_algos) == ["a", "b"] and ds.n_algos == "2"
        assert ds["n_algos"][:].tolist() == [2, 2, 2] and ds["consensus_flag"][:].tolist() == [0, 0, 0]
        np.testing.assert_allclose(ds["consensus_q"][:], np.sqrt([3.0, 32.0, 9.0]))


def test_every_series_dropped_is_invalid_with_the_reasons(tmp_path: Path) -> None:
    algo = Consensus()
    res = algo.combine(74223700011, 4, {"neobam": np.full(4, 250.0), "sad": np.array([1.0, 2.0])},
                       priors=Priors(74223700011, mean_q=250.0))
    assert not res.valid and "neobam: prior echo: flat at the mean-flow prior 250" in res.reason
    assert "sad: length 2" in res.reason
    path = tmp_path / "c.nc"
    algo.write(path, [_obs(4)], [res])
    with netCDF4.Dataset(path) as ds:
        assert ds.valid == 0 and ds.reason == res.reason and ds.n_algos == "0"
        assert "neobam: prior echo" in ds.left_out and np.ma.getmaskarray(ds["consensus_q"][:]).all()


def test_keywords_reach_the_rule() -> None:
    """Uncertainties and observations passed by keyword change the result; the 3-argument call still works."""
    a, b = np.array([100.0, 200.0, 300.0, 400.0]), np.array([200.0, 400.0, 600.0, 800.0])
    plain = Consensus().combine(1, 4, {"a": a, "b": b})
    weighted = Consensus().combine(1, 4, {"a": a, "b": b}, q_u={"a": 0.05 * a, "b": 2.0 * b})
    assert np.all(weighted.q < plain.q) and weighted.extra["weights"]["a"] > 0.5
    obs = ReachObs.empty(1, 4)
    obs.width = np.array([50.0, 100.0, 150.0, 200.0])  # widths vary more than "b2" does
    b2 = np.array([400.0, 401.0, 402.0, 404.0])
    screened = Consensus().combine(1, 4, {"a": a, "b2": b2}, obs=obs)
    assert screened.extra["contributing_algos"] == ["a"] and "prior echo" in screened.extra["left_out"]["b2"]
