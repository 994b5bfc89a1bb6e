"""The mean-flow prior of a run without SoS (:mod:`confluence_datagen.hydrocron.prior`) and where it goes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from confluence_core import ncio
from confluence_core.network import RiverNetwork
from confluence_datagen import hydrocron as hc
from confluence_datagen.hydrocron import prior

KOBUK = [81320300011, 81320300021, 81320300031, 81320300041, 81320300051]


def test_prior_is_moody_troutman_at_the_10th_percentile_per_channel() -> None:
    w = np.array([700.0, 720.0, 740.0, 9000.0, np.nan, -5.0])
    w10 = np.percentile([700.0, 720.0, 740.0, 9000.0], 10)
    assert hc.mean_flow_prior(w) == pytest.approx((w10 / 7.2) ** 2)
    # two channels share the width: each (W / 2 / 7.2)^2, twice
    assert hc.mean_flow_prior(w, n_chan=2) == pytest.approx(2 * (w10 / 2 / 7.2) ** 2)
    assert hc.mean_flow_prior(w, n_chan=2) == pytest.approx(hc.mean_flow_prior(w) / 2)
    assert np.isnan(hc.mean_flow_prior(np.array([np.nan])))


def test_prior_uses_the_good_passes_when_five() -> None:
    w = np.array([100.0, 110.0, 120.0, 130.0, 140.0, 5000.0, 6000.0, 7000.0, 8000.0, 9000.0, 9500.0])
    q = np.array([1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3])
    assert hc.mean_flow_prior(w, q) == pytest.approx((np.percentile(w[:5], 10) / 7.2) ** 2)
    bad = np.where(q == 1, 2, q)  # fewer than 5 good: every valid pass
    assert hc.mean_flow_prior(w, bad) == pytest.approx((np.percentile(w, 10) / 7.2) ** 2)


def test_a_floodplain_minority_does_not_move_the_width() -> None:
    """60 % of the passes see the floodplain too (x3 width): the median jumps, the prior's width does not."""
    rng = np.random.default_rng(3)
    w = 300.0 * (1 + 0.05 * rng.standard_normal(100))
    w[:60] *= 3.0
    assert prior.width_stat(w, None, 50.0) > 2.0 * 300.0
    assert prior.width_stat(w) == pytest.approx(300.0, rel=0.1)


def test_chain_windows_stop_at_junctions() -> None:
    # 0 <- 1 <- 2 <- 3 (a chain, 3 upstream) and a tributary 4 joining at 2
    up = np.array([[1, -1], [2, -1], [3, 4], [-1, -1], [-1, -1]])
    dn = np.array([[-1], [0], [1], [2], [2]])
    win = prior.chain_windows(up, dn, half_window=2)
    assert win[0] == [0, 1, 2]
    assert win[1] == [0, 1, 2]  # 2 has two upstream reaches: no step past it
    assert win[2] == [0, 1, 2]
    assert win[3] == [3] and win[4] == [4]  # their downstream reach has two upstream: not crossed


def test_chain_median_overrides_a_floodplain_reach() -> None:
    net = RiverNetwork.from_id_order(KOBUK)
    win = prior.chain_windows(net.up_index(), net.dn_index())
    q = np.array([50_000.0, 3000.0, 3500.0, 2500.0, 4000.0])
    out = prior.chain_median(q, win)
    assert out[0] == pytest.approx(3500.0)  # median of 011, 021, 031
    assert np.all(out < 4100.0)
    # a non-river reach lends nothing
    donor = np.array([True, True, False, True, True])
    assert prior.chain_median(q, win, donor)[2] == pytest.approx(np.exp(np.median(np.log(q[[0, 1, 3, 4]]))))


def test_sd_is_never_below_bams_and_grows_with_disagreement() -> None:
    win = [[0], [1]]
    agree = {k: 1000.0 for k in ("width_w10", *prior.SPREAD_CANDIDATES)}
    apart = {**agree, "manning_solved": 20_000.0, "manning_mtV": 50.0}
    q, sd = prior.mean_flow_priors([agree, apart], win)
    assert q == pytest.approx([1000.0, 1000.0])
    assert sd[0] == pytest.approx(np.sqrt(np.log(2.0)))
    assert sd[1] > 1.5


def test_kobuk_prior_within_an_order_of_magnitude_of_the_gauge(shared_data: Path) -> None:
    """Scored, not fitted: the five real reaches against USGS 15744500 (bench/noprior_eval.py)."""
    folder = shared_data / "real_swot_kobuk"
    records, failed = hc.collect(KOBUK, folder / "reaches", None, "", "")
    assert not failed
    net = RiverNetwork.from_id_order(records)
    q, sd = hc.reach_priors(records, net)
    gauge = pd.read_csv(folder / "usgs_15744500_daily.csv")
    day = gauge.time_local
    truth = gauge.q_cms[(day >= "2023-07-28") & (day <= "2025-04-30")].mean()
    err = np.abs(np.log(q / truth))
    assert np.all(err < np.log(10.0))  # was 47x on reach 011 with the median width
    assert np.all(err < np.log(7.0))
    assert np.all(np.isfinite(sd))


def test_pepsi1_scores(shared_data: Path) -> None:
    """The bench numbers of the kept prior on the 50 good Pepsi-1 reaches (reach-level |ln ratio|)."""
    netCDF4 = pytest.importorskip("netCDF4")
    err = []
    for path in sorted((shared_data / "pepsi1").glob("*.nc")):
        with netCDF4.Dataset(path) as ds:
            ds.set_auto_mask(False)
            good = np.asarray(ds["River_Info/gdrch"][:]).astype(int).ravel() - 1
            w, s, q = (np.asarray(ds[f"Reach_Timeseries/{v}"][:], dtype=float)[:, good] for v in "WSQ")
        cands = [prior.candidate_priors(w[:, j], s[:, j]) for j in range(good.size)]
        n = good.size
        up = np.array([[i + 1] if i + 1 < n else [-1] for i in range(n)])
        dn = np.array([[i - 1] if i > 0 else [-1] for i in range(n)])
        est, _ = prior.mean_flow_priors(cands, prior.chain_windows(up, dn))
        err.extend(np.abs(np.log(est / np.nanmean(q, axis=0))).tolist())
    assert len(err) == 50
    assert np.median(err) == pytest.approx(0.50, abs=0.01)
    assert np.max(err) == pytest.approx(3.06, abs=0.01)  # St. Lawrence upstream: lake-like, a factor 21


def test_build_uses_sword_channel_counts(mnt: Path, shared_data: Path, tmp_path: Path) -> None:
    """With a SWORD in the input volume, its n_chan_mod divides the width prior (2 channels: half)."""
    folder = shared_data / "real_swot_kobuk" / "reaches"
    records, _ = hc.collect(KOBUK, folder, None, "", "")
    hc.build("na", records, 16)
    sword_path = mnt / "input" / "sword" / "na_sword_v16.nc"
    sos_path = mnt / "input" / "sos" / "na_sword_v16_SOS_priors.nc"
    with ncio.open_dataset(sos_path) as ds:
        one = ncio.read_float(ds["model"], "mean_q")
    sos_path.unlink()
    with ncio.open_dataset(sword_path, "a") as ds:
        ncio.write_var(ds["reaches"], "n_chan_mod", np.full(5, 2), ("num_reaches",), "i4")
    hc.build("na", records, 16)
    with ncio.open_dataset(sos_path) as ds:
        two = ncio.read_float(ds["model"], "mean_q")
    np.testing.assert_allclose(two, one / 2, rtol=1e-9)
