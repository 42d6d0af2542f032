"""White noise (``add_input(noise=sigma)``) into NeuronModel populations: a current ``sigma xi(t)``.

The noise current is held over each step (Euler-Maruyama for the noise).
Checked against the analytic Ornstein-Uhlenbeck variance of a linear AdEx
neuron and against a fine-step Euler-Maruyama integration of noisy
Izhikevich neurons (:mod:`tests.sim.model_noise_refs`); reproducibility over
threads, batch copies and float32 against plain runs.
"""

import numpy as np
import pytest

from spikenet.sim import LIF, AdEx, Izhikevich, Network
from tests.sim.model_noise_refs import izhikevich_noise_counts

# a linear AdEx: no adaptation, the exponential term vanishes (v_t far above)
LINEAR = AdEx(a=0.0, b=0.0, v_t=500.0, v_peak=600.0)
SIGMA_PA = 8.0  # pA sqrt(s)


def _ou_variance(sigma, g_l, c_m, dt):
    """Stationary variance (mV^2) of v on the grid under the held noise current.

    ``c_m dv = -g_l (v - e_l) dt + sigma dW`` has the variance
    ``sigma^2 / (2 g_l c_m)`` (times 1e3 in pA, nS, pF, mV, s); a current held
    over each step of ``dt`` gives, exactly for this linear model, that times
    ``tanh(x / 2) / (x / 2)`` with ``x = dt g_l / c_m``: a bias of ``-x^2 / 12``.
    """
    x = dt * 1e3 * g_l / c_m
    return 1e3 * sigma**2 / (2.0 * g_l * c_m) * np.tanh(x / 2) / (x / 2)


def test_linear_adex_voltage_has_the_ornstein_uhlenbeck_variance_with_per_neuron_leak():
    dt, T, n = 5e-4, 2.0, 1000
    g_l = np.repeat([30.0, 60.0], n // 2)  # per-neuron parameters together with noise
    net = Network(dt=dt, seed=1)
    p = net.add_population(n, LINEAR, bias=300.0, name="p", params={"g_l": g_l})
    net.add_input(p, noise=SIGMA_PA)
    v = net.run(T, record={"p": "v"})["p", "v"][round(0.1 / dt):]
    for half, gl in enumerate((30.0, 60.0)):
        vh = v[:, half * n // 2:(half + 1) * n // 2]
        mean = LINEAR.e_l + 300.0 / gl
        var = _ou_variance(SIGMA_PA, gl, LINEAR.c_m, dt)
        # bias of the held current at this dt: -2e-4 (g_l 30 nS) and -9e-4 (60 nS), below the
        # sampling error of about 0.5 %
        assert _ou_variance(SIGMA_PA, gl, LINEAR.c_m, dt) == pytest.approx(
            1e3 * SIGMA_PA**2 / (2 * gl * LINEAR.c_m), rel=1e-3)
        assert abs(vh.mean() - mean) < 0.02
        assert vh.var() == pytest.approx(var, rel=0.02), (gl, vh.var(), var)


def test_the_noise_of_a_model_population_is_seeded_by_the_network():
    def v(seed):
        net = Network(dt=5e-4, seed=seed)
        p = net.add_population(4, LINEAR, name="p")
        net.add_input(p, noise=SIGMA_PA)
        return net.run(0.01, record={"p": "v"})["p", "v"]

    np.testing.assert_array_equal(v(3), v(3))
    assert not np.array_equal(v(3), v(4))


@pytest.mark.slow  # the reference integrates 200 neurons at 1 us (~1 min)
def test_izhikevich_rate_under_noise_matches_a_fine_step_euler_maruyama_reference():
    I, sigma, T, n, dt = 3.5, 0.05, 1.0, 200, 1e-4
    ref = izhikevich_noise_counts(0.02, 0.2, -65.0, 8.0, I, sigma, T, dt / 100, n, seed=1)
    net = Network(dt=dt, seed=2)
    p = net.add_population(n, Izhikevich(), bias=I, name="p")
    net.add_input(p, noise=sigma)
    got = np.array([len(x) for x in net.run(T).spike_times["p"]])
    assert ref.mean() > 3
    se = np.hypot(ref.std(), got.std()) / np.sqrt(n)
    assert abs(got.mean() - ref.mean()) < 3 * se, (got.mean(), ref.mean(), se)


def _noisy(**kw):
    net = Network(dt=1e-4, seed=5, **kw)
    izh = net.add_population(150, Izhikevich(), bias=3.5, name="izh",
                             params={"d": np.linspace(2.0, 8.0, 150)})
    adex = net.add_population(150, AdEx(), bias=400.0, name="adex")
    lif = net.add_population(70, LIF(), bias=0.9, name="lif")
    net.add_input(izh, noise=0.05)
    net.add_input(adex, noise=40.0)
    net.add_input(lif, noise=0.3)
    net.connect(izh, adex, 20e-3, p=0.1)
    return net


REC = {"izh": ["v", "u"], "adex": ["v", "w"]}


@pytest.mark.slow  # a kernel specialisation of its own: ~20 s of compile on an empty cache
def test_noise_split_over_two_threads_equals_one_thread_bit_for_bit():
    one = _noisy(threads=1).run(0.2, record=REC)
    two = _noisy(threads=2).run(0.2, record=REC)
    assert sum(len(x) for x in one.spike_times["izh"]) > 50
    assert sum(len(x) for x in one.spike_times["adex"]) > 50
    for p in ("izh", "adex", "lif"):
        for x, y in zip(one.spike_times[p], two.spike_times[p], strict=True):
            np.testing.assert_array_equal(x, y)
    for p, states in REC.items():
        for s in states:
            np.testing.assert_array_equal(one[p, s], two[p, s])
    # and chunked into two runs
    net = _noisy(threads=1)
    a, b = net.run(0.08, record=REC), net.run(0.12, record=REC)
    for x, y, z in zip(a.spike_times["adex"], b.spike_times["adex"], one.spike_times["adex"], strict=True):
        np.testing.assert_array_equal(np.concatenate([x, y]), z)


@pytest.mark.slow  # a kernel specialisation of its own: ~20 s of compile on an empty cache
def test_noise_in_batch_copies_is_independent_with_the_same_statistics():
    res = _noisy(batch=2).run(0.3, record={"adex": "v"})
    v = res["adex", "v"][1000:]
    assert not np.array_equal(v[:, 0], v[:, 1])
    assert v[:, 0].var() == pytest.approx(v[:, 1].var(), rel=0.1)


@pytest.mark.slow  # a kernel specialisation of its own: ~20 s of compile on an empty cache
def test_noise_in_float32_gives_the_float64_rates():
    out = {}
    for f in (np.float64, np.float32):
        net = Network(dt=1e-4, seed=7, dtype=f)
        p = net.add_population(300, Izhikevich(), bias=3.5, name="p")
        net.add_input(p, noise=0.05)
        out[f] = np.array([len(x) for x in net.run(0.5).spike_times["p"]])
    a, b = out[np.float64], out[np.float32]
    assert a.sum() > 300
    # the same random numbers: mostly the same spike counts, the same mean within sampling error
    assert np.mean(a == b) > 0.8
    assert abs(a.mean() - b.mean()) < 3 * np.hypot(a.std(), b.std()) / np.sqrt(a.size)


@pytest.mark.slow  # a kernel specialisation of its own: ~20 s of compile on an empty cache
def test_hh_with_per_neuron_parameters_takes_the_same_noise_as_without():
    from spikenet.sim import HH

    def run(params):
        net = Network(dt=1e-5, seed=9)
        a = net.add_population(5, HH(), bias=5.0, name="a", params=params)
        net.add_input(a, noise=0.5)
        return net.run(0.05, record={"a": "v"})

    same = run({"g_l": np.full(5, HH().g_l)})
    plain = run(None)
    assert np.ptp(plain["a", "v"][2500:], axis=0).min() > 1.0  # the noise moves the voltage
    np.testing.assert_allclose(same["a", "v"], plain["a", "v"], rtol=0, atol=1e-9)
