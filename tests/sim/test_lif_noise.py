"""LIF with white noise in simulate: exact Ornstein-Uhlenbeck variance, the Siegert rate, seeds, Brian2."""

import numpy as np
import pytest
from scipy import integrate, special

from spikenet.sim import LIF, simulate

TAU, TAU_REF, SIGMA = 0.01, 0.005, 0.2  # Brian2's introductory tutorial: tau 10 ms, refractory 5 ms
NEURON = LIF(tau_m=TAU, tau_ref=TAU_REF)


def siegert(mu, sigma=SIGMA, tau=TAU, tau_ref=TAU_REF, v_th=1.0, v_reset=0.0):
    """Stationary rate (Hz) of tau dv = (mu - v) dt + sigma sqrt(tau) dW with threshold and reset."""
    area, _ = integrate.quad(lambda u: special.erfcx(-u), (v_reset - mu) / sigma, (v_th - mu) / sigma,
                             limit=200)  # erfcx(-u) = e^{u^2} (1 + erf u)
    return 1.0 / (tau_ref + tau * np.sqrt(np.pi) * area)


@pytest.mark.parametrize("dt", [TAU / 10, TAU / 2])
def test_free_voltage_has_the_exact_stationary_variance_at_any_step(dt):
    free = LIF(tau_m=TAU, tau_ref=0.0, v_th=1e9, v_reset=0.0)  # threshold out of reach
    res = simulate(free, np.full(4000, 0.3), T=0.5, dt=dt, record=("v",), noise=SIGMA, seed=1)
    v = res.v[round(0.1 / dt):]  # after ten time constants
    assert abs(v.mean() - 0.3) < 0.005
    # Euler-Maruyama would be 5 % high at dt = tau / 10 and 33 % high at tau / 2
    assert v.var() == pytest.approx(SIGMA**2 / 2, rel=0.02)


@pytest.mark.parametrize("dt", [1e-4, 1e-3])
def test_noisy_rate_curve_follows_the_siegert_formula(dt):
    mus = np.array([0.8, 1.0, 1.3, 2.0])
    n, T = 40, 10.0
    res = simulate(NEURON, np.repeat(mus, n), T=T, dt=dt, noise=SIGMA, seed=3)
    rates = res.rates().reshape(len(mus), n).mean(axis=1)
    for mu, rate in zip(mus, rates):
        ref = siegert(mu)
        # sampling error of the rate (about 1 / sqrt(spikes)) plus 1 % for the bridge approximation
        tol = 0.01 + 4 / np.sqrt(ref * n * T)
        assert rate == pytest.approx(ref, rel=tol), (mu, rate, ref)


def test_the_same_seed_gives_the_same_spikes_whatever_the_chunking():
    J = np.linspace(0.6, 1.5, 20)
    a = simulate(NEURON, J, T=1.0, noise=SIGMA, seed=7)
    b = simulate(NEURON, J, T=1.0, noise=SIGMA, seed=7, progress=True)  # cut into many chunks
    c = simulate(NEURON, lambda t: J, T=1.0, noise=SIGMA, seed=7)  # a callable is cut differently again
    for x, y, z in zip(a.spike_times, b.spike_times, c.spike_times):
        np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(x, z)
    d = simulate(NEURON, J, T=1.0, noise=SIGMA, seed=8)
    assert any(len(x) != len(y) or not np.array_equal(x, y) for x, y in zip(a.spike_times, d.spike_times))


def test_refractory_period_and_in_step_spike_times_hold_under_noise():
    res = simulate(NEURON, np.full(200, 3.0), T=0.5, noise=SIGMA, seed=2)
    for train in res.spike_times:
        assert np.all(np.diff(train) >= TAU_REF - 1e-12)
    steps = res._steps
    offset = np.concatenate(res.spike_times) - np.concatenate(
        [steps[res._offsets[i]:res._offsets[i + 1]] for i in range(200)]) * 1e-4
    assert np.all(offset >= -1e-15) and np.all(offset < 1e-4)


@pytest.mark.parametrize("kwargs, err, word", [
    ({"noise": -0.1}, ValueError, "noise"),
    ({"noise": np.nan}, ValueError, "noise"),
    ({"noise": "0.2"}, TypeError, "noise"),
])
def test_bad_noise_is_named(kwargs, err, word):
    with pytest.raises(err, match=word):
        simulate(NEURON, 1.0, T=0.01, **kwargs)


@pytest.mark.slow
@pytest.mark.brian2
def test_noisy_rate_curve_agrees_with_brian2():
    import brian2 as b2

    mus = np.array([0.8, 1.0, 1.3, 2.0])
    n, T = 50, 2.0
    b2.start_scope()
    b2.prefs.codegen.target = "cython"
    eqs = "dv/dt = (v0 - v) / tau + sigma * xi * tau**-0.5 : 1 (unless refractory)\nv0 : 1"
    g = b2.NeuronGroup(len(mus) * n, eqs, threshold="v > 1", reset="v = 0", refractory=TAU_REF * b2.second,
                       method="euler", dt=10 * b2.us, namespace={"tau": TAU * b2.second, "sigma": SIGMA})
    g.v0 = np.repeat(mus, n)
    mon = b2.SpikeMonitor(g)
    b2.run(T * b2.second)
    theirs = np.bincount(np.asarray(mon.i), minlength=len(mus) * n).reshape(len(mus), n).mean(1) / T
    ours = simulate(NEURON, np.repeat(mus, n), T=T, noise=SIGMA, seed=0).rates().reshape(len(mus), n).mean(1)
    for mu, a, b in zip(mus, ours, theirs):
        tol = 0.02 + 4 / np.sqrt(b * n * T)
        assert a == pytest.approx(b, rel=tol), (mu, a, b)
