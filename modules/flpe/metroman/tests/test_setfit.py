import numpy as np
from confluence_flpe_metroman.config import MetroManConfig
from confluence_flpe_metroman.setfit import align_times, choose_joint, fit
from metroman_testdata import as_inputs

FAST = MetroManConfig(n_iter=1500, burn_in=500)


def test_align_same_index_within_tolerance():
    a = np.array([0.0, 100.0, np.nan, 300.0])
    b = np.array([5.0, np.nan, 200.0, 302.0])
    axis = align_times([a, b], tolerance=60)
    assert axis.nt == 4
    np.testing.assert_allclose(axis.time, [2.5, 100, 200, 301])
    np.testing.assert_array_equal(axis.index[1], np.arange(4))


def test_align_union_when_lengths_differ():
    a = np.array([0.0, 86400.0, 2 * 86400.0])
    b = np.array([10.0, 2 * 86400.0 + 20, 3 * 86400.0, np.nan])
    axis = align_times([a, b], tolerance=3600)
    assert axis.nt == 4
    np.testing.assert_array_equal(axis.index[0], [0, 1, 2])
    np.testing.assert_array_equal(axis.index[1], [0, 2, 3, -1])
    q = axis.to_set(1, np.array([1.0, 2.0, 3.0, 4.0]))
    np.testing.assert_array_equal(q, [1.0, np.nan, 2.0, 3.0])
    np.testing.assert_array_equal(axis.to_reach(1, q), [1.0, 2.0, 3.0, np.nan])


def test_choose_joint_moves_out_the_sparsest_reach():
    valid = np.ones((3, 10), bool)
    valid[1, 3:] = False  # reach 1 shares only 3 times with the others
    assert choose_joint(valid, np.ones(3, bool), 5).tolist() == [0, 2]
    assert choose_joint(valid, np.array([True, False, True]), 5).tolist() == [0, 2]
    valid[2, 5:] = False
    assert choose_joint(valid, np.array([True, False, True]), 6).tolist() == [0]


def test_fit_flags_sparse_reach_and_falls_back(truth3):
    reaches = as_inputs(truth3)
    reaches[1][0].width[3:] = np.nan  # reach 2: 3 valid times < min_obs
    reaches[2][0].slope[:] = np.nan
    reaches[2][0].slope[:20] = truth3.slope[2, :20]
    results, axis = fit(reaches, FAST)
    assert axis.nt == 50
    assert [r.valid for r in results] == [True, False, True]
    assert "3 valid times" in results[1].reason and np.isnan(results[1].q).all()
    assert results[0].extra["n_fit"] == 2 and results[2].extra["n_fit"] == 2
    assert np.isfinite(results[2].q[:20]).all() and np.isnan(results[2].q[20:]).all()


def test_single_reach_fallback_when_common_times_are_too_few(truth3):
    reaches = as_inputs(truth3)[:2]
    reaches[0][0].width[25:] = np.nan
    reaches[1][0].width[:25] = np.nan  # no common time
    results, _ = fit(reaches, FAST)
    assert all(r.valid for r in results)
    assert [r.extra["n_fit"] for r in results] == [1.0, 1.0]
    assert np.isfinite(results[0].q[:25]).all() and np.isfinite(results[1].q[25:]).all()


def test_reach_without_prior_alone_is_flagged_but_joins_a_set(truth3):
    reaches = as_inputs(truth3)
    reaches[0][1].mean_q = float("nan")
    results, _ = fit(reaches, FAST)
    assert all(r.valid for r in results) and results[0].extra["n_fit"] == 3
    results, _ = fit(reaches[:1], FAST)
    assert not results[0].valid and "mean flow" in results[0].reason


def test_fit_is_deterministic(truth3):
    a, _ = fit(as_inputs(truth3), FAST)
    b, _ = fit(as_inputs(truth3), FAST)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x.q, y.q)
        assert x.params == y.params
