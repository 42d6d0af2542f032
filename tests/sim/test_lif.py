"""LIF simulation: exact integration, spike placement and refractoriness vs closed forms."""

import importlib
import math

import numpy as np
import pytest

from spikenet.sim import LIF, simulate
from tests.sim.step_rule import lif_one_per_step_times
from tests.sim.tolerances import (
    LIF_COUNT_RATE_RTOL,
    LIF_EXACT_ATOL,
    LIF_RATE_RTOL,
    LIF_SPIKE_ATOL,
    LIF_V_ATOL,
)


@pytest.fixture(params=["closed-form", "stepped"])
def lif_path(request, monkeypatch):
    """Run a test through both LIF kernels.

    A drive constant in time without a recorded voltage takes the closed-form
    kernel by default; "stepped" forces the time-stepping one, which every
    other run (time-varying drive, recorded ``v``) takes.
    """
    sim = importlib.import_module("spikenet.sim.simulate")
    monkeypatch.setattr(sim, "_LIF_CLOSED_FORM", request.param == "closed-form")
    return request.param


J_RANGE = np.concatenate([np.linspace(1.05, 10.0, 40), [1.05, 1.1, 1.5, 2.0]])


def isi_rate(times):
    # Rate from the mean ISI between first and last spike, (k-1)/(t_k - t_1):
    # it excludes the start transient (the first spike comes from v_reset
    # without a preceding refractory period) and the incomplete ISI at the end,
    # so it measures the steady state that LIF.rate describes.
    return (len(times) - 1) / (times[-1] - times[0])


@pytest.mark.parametrize("dt", [1e-4, 1e-3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lif_rate_matches_analytic(dt, dtype, lif_path):
    lif = LIF()
    # T = 3 s gives >= 47 spikes at J = 1.05 (15.9 Hz), enough ISIs to average
    # over the phase of the spike times relative to the step grid.
    res = simulate(lif, J_RANGE, T=3.0, dt=dt, dtype=dtype)
    rates = np.array([isi_rate(t) for t in res.spike_times])
    np.testing.assert_allclose(rates, lif.rate(J_RANGE), rtol=LIF_RATE_RTOL[dt])


@pytest.mark.parametrize("dt", [1e-4, 1e-3])
def test_lif_rate_with_general_threshold_and_reset(dt, lif_path):
    lif = LIF(tau_m=0.01, tau_ref=0.003, v_th=2.0, v_reset=-1.0)
    J = np.linspace(2.1, 20.0, 25)
    res = simulate(lif, J, T=3.0, dt=dt)
    rates = np.array([isi_rate(t) for t in res.spike_times])
    isi = 0.003 + 0.01 * np.log((J + 1.0) / (J - 2.0))  # closed form, written out
    np.testing.assert_allclose(rates, 1 / isi, rtol=LIF_RATE_RTOL[dt])


def closed_form_spike_times(lif, J, T, v0=None):
    """Spike times of an LIF under constant J from the closed-form ISI."""
    v0 = lif.v_reset if v0 is None else v0
    first = lif.tau_m * np.log((J - v0) / (J - lif.v_th))
    isi = 1 / lif.rate(J)
    return first + isi * np.arange(int((T - first) / isi) + 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("dt", [1e-4, 1e-3])
def test_lif_spike_times_equal_closed_form(dt, dtype, lif_path):
    lif = LIF(tau_m=0.02, tau_ref=0.0023)  # tau_ref not a multiple of dt: exits mid-step
    J = np.array([1.3, 2.0, 5.0, 9.7])
    res = simulate(lif, J, T=1.0, dt=dt, dtype=dtype)
    for j, times in zip(J, res.spike_times):
        expected = closed_form_spike_times(lif, j, 1.0)
        expected = expected[expected < 1.0]
        assert len(times) == len(expected)
        np.testing.assert_allclose(times, expected, rtol=0, atol=LIF_SPIKE_ATOL[np.dtype(dtype).name])


def test_lif_spikes_at_most_once_per_step_when_its_interval_is_below_dt(lif_path):
    # tau_ref < dt and a strong drive: ISI = 0.1 ms + 1 ms ln(20/19) = 0.151 ms
    # (~6.6 crossings per 1 ms step when free). One spike per step: the first
    # at its exact crossing time, each later one held at v_th to the start of
    # the next step (the recurrence of tests/sim/step_rule.py).
    lif = LIF(tau_m=1e-3, tau_ref=1e-4)
    res = simulate(lif, 20.0, T=0.05, dt=1e-3)
    expected = lif_one_per_step_times(lif, 20.0, 1e-3, 0.05)
    assert len(expected) == 50 and expected[0] == pytest.approx(1e-3 * math.log(20 / 19))
    np.testing.assert_allclose(res.spike_times[0], expected, rtol=0, atol=LIF_EXACT_ATOL)
    assert res.spike_raster()[:, 0].sum() == 50  # every step has one spike


def test_lif_step_input_first_spike_time():
    # J = 0.5 for 0.1 s, then 2.0: v(0.1) = 0.5 (1 - e^{-0.1/tau}), then the
    # crossing follows from v(t) = 2 + (v(0.1) - 2) e^{-(t-0.1)/tau}.
    lif = LIF()
    dt, T = 1e-4, 0.2
    steps = round(T / dt)
    J = np.where(np.arange(steps) * dt < 0.1 - dt / 2, 0.5, 2.0)[:, None]
    res = simulate(lif, J, T=T, dt=dt, record=("spikes", "v"))
    v01 = 0.5 * (1 - np.exp(-0.1 / lif.tau_m))
    t1 = 0.1 + lif.tau_m * np.log((2.0 - v01) / (2.0 - 1.0))
    assert res.spike_times[0][0] == pytest.approx(t1, abs=LIF_EXACT_ATOL)
    np.testing.assert_allclose(res.v[:1000, 0], 0.5 * (1 - np.exp(-res.t[:1000] / lif.tau_m)),
                               atol=LIF_V_ATOL["float64"])


def test_lif_callable_input_equals_array_input():
    lif = LIF()
    dt, T = 1e-4, 0.3
    t = np.arange(round(T / dt)) * dt

    def drive(tt):
        return np.array([1.5 + np.sin(2 * np.pi * 5 * tt), 3.0 * (tt > 0.1)])

    arr = np.stack([drive(tt) for tt in t])
    a = simulate(lif, drive, T=T, dt=dt, record=("spikes", "v"))
    b = simulate(lif, arr, T=T, dt=dt, record=("spikes", "v"))
    for x, y in zip(a.spike_times, b.spike_times):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(a.v, b.v)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lif_recorded_voltage_is_exact_subthreshold(dtype):
    lif = LIF(tau_m=0.015)
    J = np.array([0.3, 0.9])
    res = simulate(lif, J, T=0.1, dt=1e-4, record=("v",), dtype=dtype)
    assert res.v.dtype == dtype
    expected = J * (1 - np.exp(-res.t[:, None] / lif.tau_m))  # row k is v at t[k]
    np.testing.assert_allclose(res.v, expected, rtol=0, atol=LIF_V_ATOL[np.dtype(dtype).name])
    assert res.spike_counts.sum() == 0


def test_lif_init_sets_the_initial_voltage_and_first_spike():
    lif = LIF()
    res = simulate(lif, np.array([2.0, 2.0]), T=0.05, init={"v": [0.0, 0.5]}, record=("v",))
    assert res.v[0].tolist() == [0.0, 0.5]
    t_first = lif.tau_m * np.log((2.0 - 0.5) / (2.0 - 1.0))
    assert res.spike_times[1][0] == pytest.approx(t_first, abs=LIF_EXACT_ATOL)


def test_lif_starting_above_threshold_spikes_at_time_zero(lif_path):
    res = simulate(LIF(), 0.0, T=0.01, init={"v": 1.5})
    np.testing.assert_array_equal(res.spike_times[0], [0.0])


def test_lif_voltage_held_at_reset_during_refractory_period():
    lif = LIF(tau_ref=0.005, v_reset=-0.2)
    res = simulate(lif, 3.0, T=0.1, dt=1e-4, record=("v",))
    ts = res.spike_times[0][0]
    inside = (res.t > ts + 1e-9) & (res.t < ts + lif.tau_ref - 1e-9)
    assert inside.sum() >= 48
    np.testing.assert_array_equal(res.v[inside, 0], -0.2)
    # After the refractory period the voltage follows the exact solution from
    # v_reset at t = ts + tau_ref.
    after = (res.t >= ts + lif.tau_ref) & (res.t < res.spike_times[0][1])
    expected = 3.0 + (-0.2 - 3.0) * np.exp(-(res.t[after] - ts - lif.tau_ref) / lif.tau_m)
    np.testing.assert_allclose(res.v[after, 0], expected, atol=LIF_EXACT_ATOL)


def test_lif_scalar_input_is_one_neuron():
    res = simulate(LIF(), 2.0, T=0.1)
    assert res.spike_counts.shape == (1,)
    assert len(res.spike_times) == 1


def test_lif_batch_equals_per_sample_runs():
    lif = LIF(tau_ref=0.0017)
    rng = np.random.default_rng(3)
    dt, T = 1e-4, 0.2
    steps = round(T / dt)
    Jb = rng.uniform(0.5, 4.0, size=(steps, 3, 5))
    res = simulate(lif, Jb, T=T, dt=dt, batch=True, record=("spikes", "v"))
    assert res.v.shape == (steps, 3, 5)
    assert res.rates().shape == (3, 5)
    assert res.spike_raster().shape == (steps, 3, 5)
    for b in range(3):
        one = simulate(lif, Jb[:, b], T=T, dt=dt, record=("spikes", "v"))
        np.testing.assert_array_equal(res.v[:, b], one.v)
        np.testing.assert_array_equal(res.rates()[b], one.rates())
        for x, y in zip(res.spike_times[b], one.spike_times):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(res.spike_raster()[:, b], one.spike_raster())


def test_lif_batch_constant_and_callable_forms():
    lif = LIF()
    Jc = np.array([[1.5, 2.5], [3.0, 0.5]])
    a = simulate(lif, Jc, T=0.2, batch=True)
    b = simulate(lif, lambda t: Jc, T=0.2, batch=True)
    np.testing.assert_array_equal(a.spike_counts, b.spike_counts)
    np.testing.assert_array_equal(a.spike_counts[1, 1], 0)
    np.testing.assert_allclose(a.rates()[0, 0], 0.2 ** -1 * len(a.spike_times[0][0]))


def test_lif_raster_matches_spike_times(lif_path):
    res = simulate(LIF(), np.array([1.2, 2.0, 8.0]), T=0.5, dt=1e-4)
    raster = res.spike_raster()
    assert raster.shape == (5000, 3) and raster.dtype == bool
    for i, times in enumerate(res.spike_times):
        steps = np.nonzero(raster[:, i])[0]
        np.testing.assert_array_equal(steps, np.floor(times / 1e-4).astype(int))
        assert np.all((res.t[steps] <= times) & (times < res.t[steps] + 1e-4))
    np.testing.assert_allclose(res.rates(), raster.sum(0) / 0.5)


def test_lif_rates_after_transient():
    lif = LIF()
    res = simulate(lif, np.array([2.0]), T=2.0)
    np.testing.assert_allclose(res.rates(start=0.5), lif.rate(2.0), rtol=LIF_COUNT_RATE_RTOL)


def test_lif_progress_bar_runs_in_chunks_with_same_result(capsys):
    J = np.array([1.5, 3.0])
    quiet = simulate(LIF(), J, T=0.5, record=("v",))
    shown = simulate(LIF(), J, T=0.5, record=("v",), progress=True)
    err = capsys.readouterr().err
    assert "simulate LIF" in err and "5000/5000" in err
    np.testing.assert_array_equal(quiet.v, shown.v)
    for x, y in zip(quiet.spike_times, shown.spike_times):
        np.testing.assert_array_equal(x, y)


def test_lif_spike_buffer_overflow_rerun_keeps_every_spike(monkeypatch, lif_path):
    # Force a too-small buffer guess: the chunk must be re-run, not truncated.
    sim = importlib.import_module("spikenet.sim.simulate")
    monkeypatch.setattr(sim, "_spike_capacity", lambda *a, **k: 1)
    res = sim.simulate(LIF(), np.array([5.0, 1.5]), T=0.3)
    ref = simulate(LIF(), np.array([5.0, 1.5]), T=0.3)
    for x, y in zip(res.spike_times, ref.spike_times):
        np.testing.assert_array_equal(x, y)
    assert len(ref.spike_times[0]) > 10


def test_lif_large_population_stores_no_dense_arrays():
    import tracemalloc

    n = 20_000
    J = np.linspace(0.5, 3.0, n)
    simulate(LIF(), J[:10], T=0.01)  # compile outside the measurement
    tracemalloc.start()
    res = simulate(LIF(), J, T=1.0, dt=1e-4)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # A dense (steps, n) bool raster alone would be 200 MB (float64: 1.6 GB);
    # spikes are kept compactly (16 bytes each, ~17 MB here for 1.06e6 spikes)
    # and the per-chunk spike buffers are capped at 16 MiB
    # (simulate._SPIKE_BUFFER_BYTES); while chunks are merged they exist twice.
    assert peak < 64e6
    assert res.spike_counts.sum() > 50_000


def test_lif_input_exactly_at_threshold_never_spikes():
    # v -> J = v_th only asymptotically; in floating point v rounds to exactly
    # v_th after ~37 tau_m, which must not count as reaching threshold
    # (LIF.rate(v_th) = 0).
    # Sitting exactly at v_th with J = v_th is not a crossing either (Brian2's
    # "v > v_th" agrees); starting above threshold is.
    for lif in (LIF(), LIF(tau_m=0.01, v_th=2.0, v_reset=-1.0)):
        res = simulate(lif, np.full(3, lif.v_th), T=3.0, record=("v",),
                       init={"v": [lif.v_reset, lif.v_th, lif.v_th + 1e-9]})
        np.testing.assert_array_equal(res.spike_counts, [0, 0, 1])
        np.testing.assert_allclose(res.v[-1, :2], lif.v_th, rtol=0, atol=LIF_EXACT_ATOL)


@pytest.mark.parametrize("dt", [1e-4, 1e-3])
def test_closed_form_and_stepped_kernels_give_the_same_spikes(monkeypatch, dt):
    # The closed-form kernel (constant drive, no voltage recorded) goes from
    # spike to spike; the stepped kernel rounds the state at every step
    # boundary. Both are exact, so they must agree to round-off, on the edge
    # cases too: drives below, at and far above threshold, starts above
    # threshold, tau_ref < dt (several spikes per step), a reset above zero.
    sim = importlib.import_module("spikenet.sim.simulate")
    for lif in (LIF(), LIF(tau_m=0.01, tau_ref=0.5 * dt, v_th=2.0, v_reset=-1.0), LIF(v_reset=0.4)):
        J = np.concatenate([np.linspace(0.0, 12.0, 301), [lif.v_th, lif.v_th, lif.v_th, lif.v_th + 0.5]])
        v0 = np.concatenate([np.linspace(lif.v_reset, lif.v_th + 0.5, 301),
                             [lif.v_reset, lif.v_th, lif.v_th + 1e-9, lif.v_th]])
        runs = {}
        for closed in (True, False):
            monkeypatch.setattr(sim, "_LIF_CLOSED_FORM", closed)
            runs[closed] = simulate(lif, J, T=0.37, dt=dt, init={"v": v0})
        a, b = runs[True], runs[False]
        np.testing.assert_array_equal(a.spike_counts, b.spike_counts)
        # At v_th with J = v_th: no spike; just above it: one at t = 0; at v_th
        # with J above it: a spike at t = 0, then regular firing.
        assert a.spike_counts[-4:-1].tolist() == [0, 0, 1]
        assert a.spike_times[-2][0] == a.spike_times[-1][0] == 0.0 and a.spike_counts[-1] > 1
        assert a.spike_counts.sum() > 1000
        for x, y in zip(a.spike_times, b.spike_times):
            np.testing.assert_allclose(x, y, rtol=0, atol=LIF_EXACT_ATOL)
        np.testing.assert_array_equal(a.spike_raster(), b.spike_raster())


def test_constant_drive_without_voltage_record_takes_the_closed_form_kernel(monkeypatch):
    kernels = importlib.import_module("spikenet.sim.kernels.lif")
    calls = []
    original = kernels.lif_run_constant

    def counting(*args):
        calls.append(args[3])  # steps of the call
        return original(*args)

    monkeypatch.setattr(kernels, "lif_run_constant", counting)
    simulate(LIF(), np.array([1.5, 3.0]), T=0.1)
    assert calls == [1000]
    simulate(LIF(), np.array([1.5, 3.0]), T=0.1, record=("v",))  # needs v at every step
    simulate(LIF(), np.full((1000, 2), 1.5), T=0.1)  # one row per step
    assert calls == [1000]


def test_closed_form_kernel_is_chunk_invariant_to_round_off():
    # A progress bar splits the run into 100 chunks; each chunk ends with the
    # state evaluated in closed form, from which the next one continues.
    J = np.array([0.9, 1.01, 1.7, 3.0, 25.0])
    whole = simulate(LIF(), J, T=1.0)
    chunked = simulate(LIF(), J, T=1.0, progress=True)
    np.testing.assert_array_equal(whole.spike_counts, chunked.spike_counts)
    for x, y in zip(whole.spike_times, chunked.spike_times):
        np.testing.assert_allclose(x, y, rtol=0, atol=LIF_EXACT_ATOL)
