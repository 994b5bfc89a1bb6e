"""The consensus plug-in's output against reference_outputs/flpe/consensus."""

from __future__ import annotations

from pathlib import Path

import netCDF4
import numpy as np
import pytest
from confluence_core import flpe
from confluence_flpe.interface import ReachObs, is_combiner
from confluence_flpe_consensus.algorithm import Consensus

REF = Path("reference_outputs") / "flpe" / "consensus" / "74223700011_consensus.nc"


def _structure(path: Path) -> dict[str, object]:
    with netCDF4.Dataset(path) as ds:
        out: dict[str, object] = {"/dims": sorted(ds.dimensions), "/groups": sorted(ds.groups)}
        for name, var in ds.variables.items():
            out[name] = (str(var.dtype), var.dimensions, var.getncattr("_FillValue"),
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
    assert _structure(path) == _structure(shared_data / REF)
    with netCDF4.Dataset(path) as ds:
        assert ds.n_algos == str(len(series)) and ds.valid == len(series)
        assert list(ds["time_str"][:2]) == ["2024-01-01T00:00:00Z", "no_data"]
        if series:
            assert ds.contributing_algos == "momma"
            np.testing.assert_array_equal(ds["consensus_q"][:].filled(np.nan), [1, 5, np.nan, 9, 3])
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
