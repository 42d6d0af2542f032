"""Per-neuron parameters of LIF and HH populations (``add_population(..., params=)``, ``Network.set``).

A population with per-neuron values runs a separate update pass with each
neuron's own constants; it must give what separate populations with scalar
parameters give (the built-in pass), and a LIF neuron its closed form.
"""

import math

import numpy as np
import pytest

from spikenet.sim import HH, LIF, Network, PSCFilter

DT = 1e-4


def _per_neuron_vs_separate(neuron_cls, params, bias, dt, T, syn_weight, threads=1):
    n = len(bias)
    steps = round(T / dt)
    raster = np.random.default_rng(4).random((steps, n)) < 0.02
    net = Network(dt=dt, threads=threads)
    pop = net.add_population(n, neuron_cls(), bias=bias, name="p", params=params)
    net.add_input(pop, spikes=raster, weights=np.diag(np.full(n, syn_weight)), synapse=PSCFilter(0.004))
    net.add_input(pop, spikes=raster[::-1].copy(), synapse=PSCFilter(0.002, n=1),
                  weights=np.diag(np.full(n, syn_weight)))
    res = net.run(T, record={"p": ["v", "I_syn"]})
    for i in range(n):
        one = Network(dt=dt)
        q = one.add_population(1, neuron_cls(**{k: float(v[i]) for k, v in params.items()}), bias=bias[i],
                               name="p")
        one.add_input(q, spikes=raster[:, i:i + 1], weights=syn_weight, synapse=PSCFilter(0.004))
        one.add_input(q, spikes=raster[::-1, i:i + 1].copy(), synapse=PSCFilter(0.002, n=1),
                      weights=syn_weight)
        r = one.run(T, record={"p": ["v", "I_syn"]})
        assert len(r.spike_times["p"][0]) > 2
        np.testing.assert_allclose(res.spike_times["p"][i], r.spike_times["p"][0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(res["p", "v"][:, i], r["p", "v"][:, 0], rtol=0, atol=1e-12)
    return res


def test_per_neuron_lif_parameters_equal_one_neuron_networks():
    rng = np.random.default_rng(0)
    n = 6
    params = {"tau_m": rng.uniform(0.005, 0.03, n), "tau_ref": rng.uniform(0.0, 0.004, n),
              "v_th": rng.uniform(0.8, 1.2, n), "v_reset": rng.uniform(-0.2, 0.2, n)}
    _per_neuron_vs_separate(LIF, params, rng.uniform(1.2, 3.0, n), DT, 0.2, 0.02)


@pytest.mark.slow  # kernel specialisations of their own: ~10 s of compile each on an empty cache
def test_per_neuron_hh_parameters_equal_one_neuron_networks():
    rng = np.random.default_rng(1)
    n = 4
    params = {"g_na": rng.uniform(100.0, 130.0, n), "g_k": rng.uniform(30.0, 40.0, n),
              "c_m": rng.uniform(0.8, 1.2, n), "v_init": rng.uniform(-70.0, -60.0, n)}
    _per_neuron_vs_separate(HH, params, rng.uniform(8.0, 15.0, n), 1e-5, 0.05, 0.5)


def test_per_neuron_lif_spikes_at_the_closed_form_period():
    tau_m = np.array([0.01, 0.02, 0.04])
    tau_ref = np.array([0.0, 0.002, 0.005])
    J = 1.5
    net = Network(dt=DT)
    net.add_population(3, LIF(), bias=J, name="p", params={"tau_m": tau_m, "tau_ref": tau_ref})
    res = net.run(0.5)
    for i in range(3):
        period = tau_ref[i] + tau_m[i] * math.log(J / (J - 1.0))
        times = res.spike_times["p"][i]
        expected = tau_m[i] * math.log(J / (J - 1.0)) + period * np.arange(len(times))
        assert len(times) == int((0.5 - expected[0]) / period) + 1
        np.testing.assert_allclose(times, expected, rtol=0, atol=1e-9)


@pytest.mark.slow  # kernel specialisations of their own: ~10 s of compile each on an empty cache
def test_per_neuron_lif_on_two_threads_equals_one_thread():
    rng = np.random.default_rng(2)
    n = 300
    params = {"tau_m": rng.uniform(0.01, 0.03, n), "v_th": rng.uniform(0.9, 1.1, n)}

    def build(**kw):
        net = Network(dt=DT, seed=3, **kw)
        p = net.add_population(n, LIF(), bias=rng_bias, name="p", params=params)
        net.connect(p, p, 0.01, synapse=PSCFilter(0.005), p=0.1)
        return net

    rng_bias = rng.uniform(0.9, 1.6, n)
    one = build(threads=1).run(0.1, record={"p": "v"})
    two = build(threads=2).run(0.1, record={"p": "v"})
    assert sum(len(x) for x in one.spike_times["p"]) > 100
    for x, y in zip(one.spike_times["p"], two.spike_times["p"], strict=True):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(one["p", "v"], two["p", "v"])


def test_set_per_neuron_parameter_between_runs_and_named_errors():
    net = Network(dt=DT)
    net.add_population(3, LIF(), bias=1.5, name="p")
    net.run(0.05)
    net.set("p", tau_m=np.array([0.01, 0.02, 0.04]))
    res = net.run(0.2)
    rates = res.rates("p")
    assert rates[0] > rates[1] > rates[2] > 0
    with pytest.raises(ValueError, match=r"params\['tau_m'\] must have shape \(3,\)"):
        net.set("p", tau_m=np.ones(2))
    with pytest.raises(ValueError, match="LIF rejects"):
        net.set("p", tau_m=np.array([0.01, -0.02, 0.04]))
    with pytest.raises(ValueError, match="params key"):
        Network().add_population(3, LIF(), params={"tau": np.ones(3)})
    with pytest.raises(ValueError, match=r"params\['v_th'\]"):
        Network().add_population(3, LIF(), params={"v_th": np.array([1.0, np.inf, 1.0])})


def test_ahead_of_time_build_refuses_a_network_with_per_neuron_parameters(tmp_path):
    from spikenet.sim import aot

    net = Network(dt=DT)
    net.add_population(3, LIF(), bias=1.5, params={"tau_m": np.array([0.01, 0.02, 0.03])})
    net.run(0.001)
    with pytest.raises(ValueError, match="per-neuron parameters"):
        aot.build([net], folder=tmp_path)
