"""Spike-train generators, rate estimates, raster conversions, ISI and CV."""

import numpy as np
import pytest
from scipy import stats

from spikenet.sim import (
    PSCFilter,
    cv,
    firing_rate,
    isi,
    poisson_spikes,
    raster_to_spike_times,
    regular_spikes,
    spike_times_to_raster,
)

# Tolerances (one place). The Poisson checks use a fixed seed, so they are
# deterministic; the bounds are 5 standard errors of the estimator, i.e. a
# correct generator passes for all but ~1e-6 of seeds.
N_SE = 5.0
# KS test of the ISI distribution: reject the exponential law below this p.
KS_MIN_P = 1e-3


def test_poisson_counts_have_the_poisson_mean_and_fano_factor():
    rate, T, dt, n = 20.0, 2.0, 1e-4, 2000
    counts = poisson_spikes(rate, T, dt, n=n, seed=3).sum(axis=0)
    p = rate * dt
    steps = round(T / dt)
    mean, var = steps * p, steps * p * (1 - p)  # binomial(steps, p)
    assert abs(counts.mean() - mean) < N_SE * np.sqrt(var / n)
    fano = counts.var(ddof=1) / counts.mean()
    # Fano of a binomial is 1 - p; the SE of a Fano estimate is ~ F sqrt(2/(n-1)).
    assert abs(fano - (1 - p)) < N_SE * np.sqrt(2 / (n - 1))


def test_poisson_isis_are_exponential():
    rate, dt = 30.0, 1e-4
    raster = poisson_spikes(rate, 50.0, dt, n=1, seed=4)
    times = raster_to_spike_times(raster, dt)[0]
    intervals = isi(times)
    res = stats.kstest(intervals, stats.expon(scale=1 / rate).cdf)
    assert res.pvalue > KS_MIN_P
    # the CV of an exponential sample has standard error ~ 1/sqrt(count)
    assert abs(cv(times) - 1.0) < N_SE / np.sqrt(intervals.size)


def test_poisson_time_varying_rate_follows_each_row():
    dt, steps, n = 1e-4, 20000, 500
    rate = np.zeros((steps, n))
    rate[: steps // 2] = 10.0
    rate[steps // 2 :] = 40.0
    raster = poisson_spikes(rate, steps * dt, dt, seed=5)
    for sl, r in ((slice(0, steps // 2), 10.0), (slice(steps // 2, None), 40.0)):
        counts = raster[sl].sum(axis=0)
        expected = r * (steps // 2) * dt
        assert abs(counts.mean() - expected) < N_SE * np.sqrt(expected / n)


def test_poisson_per_neuron_rates():
    raster = poisson_spikes(np.array([0.0, 100.0]), 5.0, seed=6)
    assert raster.shape == (50000, 2)
    assert raster[:, 0].sum() == 0
    assert abs(raster[:, 1].sum() - 500) < N_SE * np.sqrt(500)


def test_poisson_same_seed_is_bit_identical_and_other_seed_differs():
    a = poisson_spikes(50.0, 1.0, n=10, seed=7)
    b = poisson_spikes(50.0, 1.0, n=10, seed=np.random.default_rng(7))
    c = poisson_spikes(50.0, 1.0, n=10, seed=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_regular_spikes_fall_on_the_expected_rows():
    dt = 1e-3
    raster = regular_spikes(50.0, 0.1, dt, phase=0.005)
    # spikes at 5, 25, 45, 65, 85 ms
    np.testing.assert_array_equal(np.flatnonzero(raster[:, 0]), [5, 25, 45, 65, 85])


def test_regular_spikes_have_zero_cv_and_exact_rate():
    dt = 1e-4
    raster = regular_spikes(np.array([10.0, 40.0, 0.0]), 2.0, dt)
    times = raster_to_spike_times(raster, dt)
    assert [t.size for t in times] == [20, 80, 0]
    np.testing.assert_allclose(isi(times[1]), 0.025, atol=dt)
    assert cv(times[1]) < 1e-3
    assert np.isnan(cv(times)[2])


def test_firing_rate_mean_counts_spikes_over_duration():
    raster = np.zeros((1000, 2), dtype=bool)
    raster[::100, 0] = True
    np.testing.assert_allclose(firing_rate(raster, 1e-3), [10.0, 0.0])


def test_firing_rate_sliding_window_of_regular_train_is_its_rate():
    dt = 1e-4
    raster = regular_spikes(40.0, 2.0, dt)
    trace = firing_rate(raster, dt, window=0.5)
    assert trace.shape == (20000, 1)
    # a 0.5 s window holds 20 spikes (+-1 by phase): rate 40 +- 2 Hz away from the edges
    inner = trace[5000:15000, 0]
    assert np.all(np.abs(inner - 40.0) <= 2.0 + 1e-9)


def test_firing_rate_filtered_trace_integrates_to_the_count():
    dt = 1e-4
    raster = np.zeros(20000, dtype=bool)
    raster[[1000, 3000, 3100]] = True
    trace = firing_rate(raster, dt, window=PSCFilter(0.01))
    assert trace.shape == (20000,)
    # Exact sum over the grid of one exponential kernel: sum_k e^{-k a} / tau_s * dt
    # = a / (1 - e^{-a}) with a = dt / tau_s (the tail beyond the raster is ~e^{-170}).
    a = dt / 0.01
    assert trace.sum() * dt == pytest.approx(3.0 * a / -np.expm1(-a), rel=1e-12)


def test_raster_and_spike_times_round_trip():
    rng = np.random.default_rng(9)
    raster = rng.random((500, 4)) < 0.05
    times = raster_to_spike_times(raster, 1e-3)
    np.testing.assert_array_equal(spike_times_to_raster(times, 0.5, 1e-3), raster)


def test_spike_times_use_the_start_time():
    raster = np.zeros((10, 1), dtype=bool)
    raster[3] = True
    np.testing.assert_allclose(raster_to_spike_times(raster, 0.1, t0=2.0)[0], [2.3])


def test_isi_of_lists():
    out = isi([np.array([0.1, 0.3, 0.6]), np.array([])])
    np.testing.assert_allclose(out[0], [0.2, 0.3])
    assert out[1].size == 0


# --- bad input -------------------------------------------------------------


def test_poisson_rejects_negative_rate():
    with pytest.raises(ValueError, match="rate"):
        poisson_spikes(-1.0, 1.0)


def test_poisson_rejects_rate_above_one_per_step():
    with pytest.raises(ValueError, match="rate"):
        poisson_spikes(2e4, 1.0, dt=1e-4)


def test_poisson_rejects_nan_rate():
    with pytest.raises(ValueError, match="rate"):
        poisson_spikes(np.nan, 1.0)


def test_poisson_rejects_rate_rows_not_matching_steps():
    with pytest.raises(ValueError, match="rows"):
        poisson_spikes(np.ones((5, 2)), 1.0, dt=0.1)


def test_poisson_rejects_rate_neurons_not_matching_n():
    with pytest.raises(ValueError, match="n="):
        poisson_spikes(np.ones(3), 1.0, n=4)


def test_poisson_rejects_non_positive_T():
    with pytest.raises(ValueError, match="T"):
        poisson_spikes(1.0, 0.0)


def test_poisson_rejects_bad_seed():
    with pytest.raises(TypeError, match="seed"):
        poisson_spikes(1.0, 1.0, seed="x")


def test_regular_rejects_negative_phase():
    with pytest.raises(ValueError, match="phase"):
        regular_spikes(10.0, 1.0, phase=-0.1)


def test_regular_rejects_rate_above_one_per_step():
    with pytest.raises(ValueError, match="rate"):
        regular_spikes(2e4, 1.0, dt=1e-4)


def test_firing_rate_rejects_bad_window():
    with pytest.raises(TypeError, match="window"):
        firing_rate(np.zeros((10, 1)), 1e-3, window="boxcar")


def test_firing_rate_rejects_non_positive_window():
    with pytest.raises(ValueError, match="window"):
        firing_rate(np.zeros((10, 1)), 1e-3, window=-1.0)


def test_spike_times_to_raster_rejects_times_outside_duration():
    with pytest.raises(ValueError, match="outside"):
        spike_times_to_raster([np.array([1.5])], 1.0, 1e-3)


def test_spike_times_to_raster_rejects_two_spikes_in_one_step():
    with pytest.raises(ValueError, match="two spikes"):
        spike_times_to_raster([np.array([0.1, 0.1001])], 1.0, 1e-3)


def test_raster_to_spike_times_rejects_counts():
    with pytest.raises(ValueError, match="raster"):
        raster_to_spike_times(np.array([[2.0]]), 1e-3)


def test_isi_rejects_unsorted_times():
    with pytest.raises(ValueError, match="sorted"):
        isi(np.array([0.3, 0.1]))
