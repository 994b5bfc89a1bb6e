"""The Pepsi-1 benchmark on one river (fast case: every 10th day, no noise)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from confluence_flpe import pepsi, registry
from confluence_flpe.bench import bench_accuracy

RIVER = "Cumberland.nc"


def test_river_becomes_workflow_inputs(shared_data: Path) -> None:
    reaches = pepsi.load_river(shared_data / "pepsi1" / RIVER, river_index=3, every=10)
    assert [r.reach for r in reaches] == [1, 2, 3, 4]
    r = reaches[0]
    assert r.obs.nt == 17 and r.q_true.shape == (17,) and r.obs.n_valid == 17
    assert r.obs.reach_id == 10003000101 and r.obs.time_str[0].endswith("Z")
    assert r.obs.dA_from_obs and abs(np.median(r.obs.d_x_area)) < 1e-6
    assert r.obs.node_width.shape[1] == 17
    assert r.priors.mean_q == pytest.approx(511.386475)
    assert r.priors.min_q < r.priors.mean_q < r.priors.two_year_return_q < r.priors.max_q
    noisy = pepsi.load_river(shared_data / "pepsi1" / RIVER, river_index=3, every=10, noise=True, seed=1)
    again = pepsi.load_river(shared_data / "pepsi1" / RIVER, river_index=3, every=10, noise=True, seed=1)
    assert not np.allclose(noisy[0].obs.wse, r.obs.wse)
    np.testing.assert_array_equal(noisy[0].obs.wse, again[0].obs.wse)  # fixed seed
    np.testing.assert_array_equal(noisy[0].q_true, r.q_true)  # truth never noisy


@pytest.mark.skipif("momma" not in registry.names(), reason="momma plug-in not installed")
def test_bench_command_on_one_river(shared_data: Path, tmp_path: Path) -> None:
    algos = "momma,consensus" if "consensus" in registry.names() else "momma"
    res = CliRunner().invoke(bench_accuracy, [str(shared_data / "pepsi1" / RIVER), "--every", "10",
                                              "--algos", algos, "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "Cumberland" in res.output and "nRMSE" in res.output
    with (tmp_path / "accuracy.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    momma = next(r for r in rows if r["river"] == "Cumberland" and r["algo"] == "momma")
    assert momma["n_scored"] == "4"
    assert 0 < float(momma["nRMSE"]) < 1.5 and float(momma["r"]) > 0.8  # sane, not a tuned target
    assert (tmp_path / "hydrographs_Cumberland.png").stat().st_size > 10_000
    assert len(list(csv.DictReader((tmp_path / "accuracy_reaches.csv").open()))) == 4 * len(algos.split(","))


def test_bench_unknown_algo_is_one_line(shared_data: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(bench_accuracy, [str(shared_data / "pepsi1" / RIVER), "--algos", "nosuch",
                                              "--out", str(tmp_path)])
    assert res.exit_code == 1 and "unknown FLPE algorithm 'nosuch'" in res.output


@pytest.mark.skipif(not {"momma", "metroman", "consensus"} <= set(registry.names()), reason="plug-ins not installed")
def test_consensus_of_a_subset_is_scored_beside_the_full_one(shared_data: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(bench_accuracy, [str(shared_data / "pepsi1" / RIVER), "--algos",
                                              "momma,metroman,consensus", "--consensus-of", "momma",
                                              "--no-plots", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    rows = {(r["river"], r["algo"]): r for r in csv.DictReader((tmp_path / "accuracy.csv").open())}
    alone, subset = rows[("Cumberland", "momma")], rows[("Cumberland", "consensus[momma]")]
    assert ("Cumberland", "consensus") in rows and float(subset["coverage"]) <= 1.0
    # the consensus of one algorithm is that algorithm's series wherever the screening keeps it
    assert subset["n_scored"] == "0" or float(subset["nRMSE"]) == pytest.approx(float(alone["nRMSE"]))


def test_consensus_of_an_algorithm_not_benchmarked_is_one_line(shared_data: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(bench_accuracy, [str(shared_data / "pepsi1" / RIVER), "--algos", "momma,consensus",
                                              "--consensus-of", "momma,sad", "--no-plots", "--out", str(tmp_path)])
    assert res.exit_code == 1 and "not benchmarked: sad" in res.output
