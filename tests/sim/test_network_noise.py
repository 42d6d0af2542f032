"""White noise in networks (add_input(noise=...)): exact OU variance, the Siegert rate, HH noise current."""

import numpy as np
import pytest

from spikenet.sim import HH, LIF, Network, simulate
from tests.sim.test_lif_noise import SIGMA, TAU, TAU_REF, siegert


@pytest.mark.parametrize("dt", [TAU / 10, TAU / 2])
def test_free_voltage_has_the_exact_stationary_variance_at_any_step(dt):
    free = LIF(tau_m=TAU, tau_ref=0.0, v_th=1e9, v_reset=0.0)
    net = Network(dt=dt, seed=1)
    a = net.add_population(2000, free, bias=0.3, name="a")
    net.add_input(a, noise=SIGMA)
    v = net.run(round(1.0 / dt) * dt, record={"a": "v"})["a", "v"][round(0.1 / dt):]
    assert abs(v.mean() - 0.3) < 0.005
    # Euler-Maruyama would be 5 % high at dt = tau / 10 and 33 % high at tau / 2
    assert v.var() == pytest.approx(SIGMA**2 / 2, rel=0.02)


def test_two_noise_inputs_add_their_variances():
    free = LIF(tau_m=TAU, tau_ref=0.0, v_th=1e9, v_reset=0.0)
    net = Network(dt=1e-3, seed=2)
    a = net.add_population(2000, free, name="a")
    net.add_input(a, noise=0.3)
    net.add_input(a, noise=0.4)
    v = net.run(1.0, record={"a": "v"})["a", "v"][100:]
    assert v.var() == pytest.approx(0.5**2 / 2, rel=0.02)


def test_noisy_population_rate_follows_the_siegert_formula_and_simulate():
    mus = np.array([0.8, 1.0, 1.3])
    n, T, dt = 60, 5.0, 1e-4
    nrn = LIF(tau_m=TAU, tau_ref=TAU_REF)
    net = Network(dt=dt, seed=3)
    a = net.add_population(len(mus) * n, nrn, bias=np.repeat(mus, n), name="a")
    net.add_input(a, noise=SIGMA)
    res = net.run(T, record={"a": {"v": [0]}})  # (one column: the kernel of the variance tests)
    rates = res.rates("a").reshape(len(mus), n).mean(axis=1)
    sim = simulate(nrn, np.repeat(mus, n), T=T, dt=dt, noise=SIGMA, seed=4).rates().reshape(len(mus), n)
    for mu, rate, ref_sim in zip(mus, rates, sim.mean(axis=1)):
        ref = siegert(mu)
        tol = 0.01 + 4 / np.sqrt(ref * n * T)  # sampling error plus 1 % for the bridge approximation
        assert rate == pytest.approx(ref, rel=tol), (mu, rate, ref)
        assert rate == pytest.approx(ref_sim, rel=2 * tol), (mu, rate, ref_sim)


@pytest.mark.slow  # compiles the kernel split over threads with noise
def test_noise_is_reproducible_and_the_same_over_threads():
    def spikes(threads, seed=5):
        net = Network(dt=1e-4, seed=seed, threads=threads)
        a = net.add_population(256, LIF(tau_m=TAU, tau_ref=TAU_REF), bias=1.0, name="a")
        net.add_input(a, noise=SIGMA)
        return net.run(0.3).spike_times["a"]

    one = spikes(1)
    assert sum(len(s) for s in one) > 100
    assert all(np.array_equal(p, q) for p, q in zip(one, spikes(2)))
    assert not all(np.array_equal(p, q) for p, q in zip(one, spikes(1, seed=6)))


def test_hh_noise_current_has_the_variance_of_a_white_noise_current():
    # the in-kernel noise current equals, in law, a current sigma * N(0, 1) / sqrt(dt) held over each
    # step (Euler-Maruyama in uA/cm^2): compare with that current drawn by numpy and given as an array
    dt, T, n, sigma = 1e-5, 0.05, 120, 0.02
    steps = round(T / dt)
    net = Network(dt=dt, seed=7)
    a = net.add_population(n, HH(), name="a")
    net.add_input(a, noise=sigma)
    v = net.run(T, record={"a": "v"})["a", "v"][steps // 2:]
    ref = Network(dt=dt)
    b = ref.add_population(n, HH(), name="b")
    cur = np.random.default_rng(8).standard_normal((steps, n)) * sigma / np.sqrt(dt)
    ref.add_input(b, current=cur)
    w = ref.run(T, record={"b": "v"})["b", "v"][steps // 2:]
    va, vb = v.var(axis=0), w.var(axis=0)
    assert va.mean() > 1e-3  # the noise moves the voltage
    assert abs(va.mean() - vb.mean()) < 4 * np.hypot(va.std(), vb.std()) / np.sqrt(n)
    ma, mb = v.mean(axis=0), w.mean(axis=0)
    assert abs(ma.mean() - mb.mean()) < 4 * np.hypot(ma.std(), mb.std()) / np.sqrt(n)


def test_bad_noise_raises_errors_naming_the_argument():
    net = Network(dt=1e-4)
    a = net.add_population(3, LIF(), name="a")
    with pytest.raises(ValueError, match="noise"):
        net.add_input(a, noise=-0.1)
    with pytest.raises(ValueError, match="weights"):
        net.add_input(a, noise=0.1, weights=1.0)
