"""The vectorisable exp used by the HH kernel: error bound and edge cases vs numpy."""

import numpy as np
import pytest

from spikenet.sim.kernels.fastexp import fast_exp_array
from tests.sim.tolerances import FAST_EXP_RTOL

TINY = np.finfo(np.float64).tiny


def test_fast_exp_relative_error_over_whole_normal_range():
    # Dense grid over every argument whose exp is a normal double, plus
    # random points, plus the reduction boundaries k ln2 +- ln2/2.
    grid = np.linspace(-708.39, 709.78, 4_000_001)
    rand = np.random.default_rng(0).uniform(-708.39, 709.78, 1_000_000)
    k = np.arange(-1021, 1024)
    edges = np.concatenate([k * np.log(2) + 0.5 * np.log(2), k * np.log(2) - 0.5 * np.log(2),
                            k * np.log(2)])
    x = np.concatenate([grid, rand, edges[(edges > -708.39) & (edges < 709.78)]])
    ref = np.exp(x)
    rel = np.abs(fast_exp_array(x) - ref) / ref
    assert rel.max() < FAST_EXP_RTOL


def test_fast_exp_small_arguments_match_numpy():
    x = np.concatenate([np.linspace(-1e-3, 1e-3, 10001), [0.0, -0.0, 1e-300, -1e-300]])
    np.testing.assert_allclose(fast_exp_array(x), np.exp(x), rtol=FAST_EXP_RTOL, atol=0)


def test_fast_exp_overflow_gives_inf():
    x = np.array([709.79, 710.0, 800.0, 1e300, np.inf])
    assert np.all(np.isposinf(fast_exp_array(x)))


def test_fast_exp_underflow_gives_zero_or_subnormal():
    x = np.array([-745.2, -746.0, -1000.0, -1e300, -np.inf])
    assert np.all(fast_exp_array(x) == 0.0)
    # Subnormal results: absolute error within one subnormal step of exp.
    xs = np.linspace(-745.0, -708.4, 1001)
    np.testing.assert_allclose(fast_exp_array(xs), np.exp(xs), rtol=FAST_EXP_RTOL, atol=2 * 5e-324)


def test_fast_exp_nan_propagates():
    assert np.isnan(fast_exp_array(np.array([np.nan]))[0])


@pytest.mark.parametrize("x", [-708.3, -1.0, 0.5, 1.0, 100.0, 709.7])
def test_fast_exp_is_monotone_near_points(x):
    pts = x + np.arange(-50, 51) * 1e-13 * max(1.0, abs(x))
    y = fast_exp_array(pts)
    assert np.all(np.diff(y) >= 0)


def test_fast_exp_decay_matches_numpy_over_decay_range():
    from spikenet.sim.kernels.fastexp import fast_exp_decay_array

    x = np.concatenate([np.linspace(-708.0, 0.0, 2_000_001),
                        np.random.default_rng(1).uniform(-40.0, 0.0, 500_000), [0.0, -0.0, -1e-300]])
    np.testing.assert_allclose(fast_exp_decay_array(x), np.exp(x), rtol=FAST_EXP_RTOL, atol=0)


def test_fast_exp_decay_below_normal_range_is_within_smallest_normal():
    from spikenet.sim.kernels.fastexp import fast_exp_decay_array

    x = np.array([-708.5, -745.0, -1e4, -1e300, -np.inf])
    got = fast_exp_decay_array(x)
    # exp(-708) ~ 3.3e-308: absolute error below the smallest normals' scale, never negative or NaN
    assert np.all(got >= 0) and np.all(np.abs(got - np.exp(x)) < 3.4e-308)
