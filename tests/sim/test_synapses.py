"""PSCFilter: kernel shape and area, and the cascaded-stage filtering against direct sums."""

import math

import numpy as np
import pytest
from scipy import integrate

from spikenet.sim import PSCFilter

# Tolerances (one place):
# - quadrature of h: scipy.quad reaches ~1e-10 absolute on these smooth kernels.
QUAD_TOL = 1e-8
# - filtering: the cascade and the direct sum are two float64 evaluations of the
#   same exact expression; they differ by rounding only (values up to ~1e3 1/s).
FILTER_RTOL = 1e-10
FILTER_ATOL = 1e-9


@pytest.mark.parametrize("n", range(6))
@pytest.mark.parametrize("tau_s", [0.002, 0.1])
def test_kernel_has_unit_area(n, tau_s):
    syn = PSCFilter(tau_s, n)
    area, _ = integrate.quad(syn.kernel, 0.0, np.inf, epsabs=1e-12, limit=200)
    assert abs(area - 1.0) < QUAD_TOL


@pytest.mark.parametrize("n", range(6))
def test_kernel_mean_delay_is_gamma_mean(n):
    # h is the gamma density of shape n+1 and scale tau_s: mean (n+1) tau_s.
    syn = PSCFilter(0.01, n)
    mean, _ = integrate.quad(lambda t: t * syn.kernel(t), 0.0, np.inf, epsabs=1e-14, limit=200)
    assert abs(mean - (n + 1) * 0.01) < QUAD_TOL


@pytest.mark.parametrize("n", [1, 2, 3])
def test_kernel_peaks_at_n_tau(n):
    # d/dt [t^n e^{-t/tau}] = 0 at t = n tau.
    syn = PSCFilter(0.005, n)
    t = np.linspace(0, 0.1, 100001)
    assert abs(t[np.argmax(syn.kernel(t))] - n * 0.005) <= t[1]


def test_kernel_is_zero_before_the_spike_and_one_over_tau_at_it():
    syn = PSCFilter(0.004)
    assert syn.kernel(-1e-9) == 0.0
    assert syn.kernel(0.0) == pytest.approx(1 / 0.004)
    assert PSCFilter(0.004, 1).kernel(0.0) == 0.0


def _direct_sum(syn, raster, dt):
    steps = raster.shape[0]
    t = np.arange(steps) * dt
    out = np.zeros(raster.shape)
    for j, i in zip(*np.nonzero(raster)):
        out[:, i] += raster[j, i] * syn.kernel(t - j * dt)
    return out


@pytest.mark.parametrize("n", [0, 1, 2, 5])
@pytest.mark.parametrize("dt", [1e-4, 1e-3])
def test_apply_equals_direct_sum_of_kernels(n, dt):
    rng = np.random.default_rng(1)
    raster = rng.random((400, 3)) < 0.05
    syn = PSCFilter(0.003, n)
    got = syn.apply(raster, dt)
    np.testing.assert_allclose(got, _direct_sum(syn, raster, dt), rtol=FILTER_RTOL, atol=FILTER_ATOL)


def test_apply_counts_and_weights_add_linearly():
    rng = np.random.default_rng(2)
    a = (rng.random((300, 2)) < 0.1).astype(float)
    b = (rng.random((300, 2)) < 0.1).astype(float)
    syn = PSCFilter(0.01, 1)
    lhs = syn.apply(2.5 * a - 0.5 * b, 1e-3)
    rhs = 2.5 * syn.apply(a, 1e-3) - 0.5 * syn.apply(b, 1e-3)
    np.testing.assert_allclose(lhs, rhs, rtol=FILTER_RTOL, atol=FILTER_ATOL)


def test_apply_one_dimensional_raster_keeps_shape():
    raster = np.zeros(20, dtype=bool)
    raster[5] = True
    syn = PSCFilter(0.002)
    out = syn.apply(raster, 1e-3)
    assert out.shape == (20,)
    np.testing.assert_allclose(out, syn.kernel(np.arange(20) * 1e-3 - 5e-3), rtol=FILTER_RTOL)


def test_filtered_spike_train_carries_the_spike_count_as_charge():
    # Unit area: the integral of the filtered train equals the spike count
    # (Riemann sum with a step far below tau_s, train long enough to decay).
    dt = 1e-5
    raster = np.zeros((60000, 1))
    raster[[100, 900, 5000], 0] = 1
    out = PSCFilter(0.005, 2).apply(raster, dt)
    assert out.sum() * dt == pytest.approx(3.0, rel=1e-3)


def test_stage_propagator_is_the_matrix_exponential():
    from scipy.linalg import expm

    syn = PSCFilter(0.007, 3)
    m = syn.n_stages
    A = (-np.eye(m) + np.eye(m, k=-1)) / syn.tau_s
    np.testing.assert_allclose(syn.stage_propagator(1e-3), expm(A * 1e-3), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("scale", [1e-3, 0.3, 5.0, 40.0])
def test_expm_matches_scipy(scale):
    from scipy.linalg import expm as scipy_expm

    from spikenet.sim.synapses import expm

    rng = np.random.default_rng(3)
    M = rng.normal(size=(5, 5)) * scale
    M[np.triu_indices(5, 1)] *= 0.1
    ref = scipy_expm(M)
    np.testing.assert_allclose(expm(M), ref, rtol=1e-12, atol=1e-14 * np.abs(ref).max())


def test_filter_is_hashable_and_comparable():
    assert PSCFilter(0.005, 1) == PSCFilter(0.005, 1)
    assert len({PSCFilter(0.005), PSCFilter(0.005), PSCFilter(0.01)}) == 2


# --- bad input -------------------------------------------------------------


def test_rejects_non_positive_tau_s():
    with pytest.raises(ValueError, match="tau_s"):
        PSCFilter(0.0)


def test_rejects_nan_tau_s():
    with pytest.raises(ValueError, match="tau_s"):
        PSCFilter(math.nan)


def test_rejects_negative_order():
    with pytest.raises(ValueError, match="n"):
        PSCFilter(0.005, -1)


def test_rejects_fractional_order():
    with pytest.raises(TypeError, match="n"):
        PSCFilter(0.005, 1.5)


def test_apply_rejects_non_positive_dt():
    with pytest.raises(ValueError, match="dt"):
        PSCFilter(0.005).apply(np.zeros((3, 1)), 0.0)


def test_apply_rejects_nan_raster():
    with pytest.raises(ValueError, match="raster"):
        PSCFilter(0.005).apply(np.array([[0.0], [np.nan]]), 1e-3)


def test_apply_rejects_three_dimensional_raster():
    with pytest.raises(ValueError, match="raster"):
        PSCFilter(0.005).apply(np.zeros((3, 2, 2)), 1e-3)


def test_kernel_rejects_nan_time():
    with pytest.raises(ValueError, match="t"):
        PSCFilter(0.005).kernel(np.nan)
