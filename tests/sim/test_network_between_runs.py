"""Between runs: Network.reset() and Network.set() (parameters, bias, state), PyNN-style workflows."""

import math

import numpy as np
import pytest

from spikenet.sim import HH, LIF, Network, simulate
from tests.sim.test_network_threads import _fused_net, _mixed_net

DT = 1e-4
RECORDS = {
    _fused_net: {"E": ("v", "I_syn", "ref"), "I": ("v",)},
    _mixed_net: {"A": ("v", "I_syn"), "H": ("v", "m", "h", "n")},
}


def _same_results(a, b, record):
    for pop in a.spike_times:
        assert len(a.spike_times[pop]) == len(b.spike_times[pop])
        for x, y in zip(a.spike_times[pop], b.spike_times[pop]):
            np.testing.assert_array_equal(x, y)
    for pop, states in record.items():
        for state in states:
            np.testing.assert_array_equal(a[pop, state], b[pop, state], err_msg=f"{pop} {state}")


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("make", [_fused_net, _mixed_net], ids=["fused", "mixed"])
def test_reset_then_run_reproduces_the_first_run_bit_for_bit(make, threads):
    record = RECORDS[make]
    net = make(threads)
    first = net.run(0.1, record=record)
    net.run(0.05)  # leaves synaptic input in flight and refractory neurons behind
    net.reset()
    assert net.t == 0.0
    again = net.run(0.1, record=record)
    assert sum(len(s) for s in first.spike_times[next(iter(record))]) > 50  # the network is active
    _same_results(first, again, record)
    fresh = make(threads)
    fresh.run(0.1)
    for key in ("v", "ref_end", "stages", "gm", "gh", "gn"):
        np.testing.assert_array_equal(net._built[key], fresh._built[key], err_msg=key)


@pytest.mark.parametrize("make", [_fused_net, _mixed_net], ids=["fused", "mixed"])
def test_setting_the_same_values_between_runs_changes_nothing(make):
    record = RECORDS[make]
    pop = next(iter(record))
    ref = make(1)
    ref_parts = [ref.run(0.05, record=record), ref.run(0.05, record=record)]
    net = make(1)
    parts = [net.run(0.05, record=record)]
    p = net._pop(pop)
    # the constants are rebuilt around the current state, in-flight input included
    net.set(pop, bias=p.bias[0].copy(), tau_ref=p.neuron.tau_ref)
    parts.append(net.run(0.05, record=record))
    for a, b in zip(ref_parts, parts):
        _same_results(a, b, record)


def test_a_changed_tau_m_follows_the_analytic_voltage():
    J, tau1, tau2 = 0.8, 0.02, 0.005
    net = Network(dt=DT)
    net.add_population(1, LIF(tau_m=tau1), bias=J, name="a")
    first = net.run(0.03, record={"a": "v"})
    net.set("a", tau_m=tau2)
    second = net.run(0.03, record={"a": "v"})
    np.testing.assert_allclose(first["a", "v"][:, 0], J * -np.expm1(-first.t / tau1), rtol=0, atol=1e-13)
    v1 = J * -math.expm1(-0.03 / tau1)
    s = second.t - 0.03
    np.testing.assert_allclose(second["a", "v"][:, 0], J + (v1 - J) * np.exp(-s / tau2), rtol=0, atol=1e-13)
    assert net._pop("a").neuron == LIF(tau_m=tau2)


def test_a_changed_bias_matches_simulate_with_a_stepped_drive():
    J1, J2 = np.array([1.2, 1.5, 2.0, 4.0]), np.array([3.0, 1.1, 0.5, 2.5])
    net = Network(dt=DT)
    net.add_population(4, LIF(), bias=J1, name="a")
    first = net.run(0.2)
    net.set("a", bias=J2)
    second = net.run(0.3)
    steps1, steps2 = 2000, 3000
    drive = np.vstack([np.broadcast_to(J1, (steps1, 4)), np.broadcast_to(J2, (steps2, 4))])
    ref = simulate(LIF(), drive, T=0.5, dt=DT)
    for i in range(4):
        got = np.concatenate([first.spike_times["a"][i], second.spike_times["a"][i]])
        assert got.size == ref.spike_times[i].size > 0
        np.testing.assert_allclose(got, ref.spike_times[i], rtol=0, atol=1e-12)


def test_set_state_voltage_and_refractory_time_take_effect_at_the_next_step():
    J, r = 2.0, 0.0123
    lif = LIF()
    net = Network(dt=DT)
    net.add_population(2, lif, bias=J, name="a")
    net.run(0.0101)
    net.set("a", v=[0.25, 0.0], ref=[0.0, r])
    res = net.run(0.05, record={"a": ("v", "ref")})
    assert res["a", "v"][0, 0] == 0.25
    np.testing.assert_allclose(res["a", "ref"][0, 1], r, rtol=0, atol=1e-12)
    # neuron 0 starts from v = 0.25 with drive J: its first spike is at the exact crossing time
    t0 = 0.0101
    np.testing.assert_allclose(res.spike_times["a"][0][0], t0 + lif.tau_m * math.log((J - 0.25) / (J - 1.0)),
                               rtol=0, atol=1e-12)
    # neuron 1 is held for r, then integrates from v_reset
    np.testing.assert_allclose(res.spike_times["a"][1][0], t0 + r + lif.tau_m * math.log(J / (J - 1.0)),
                               rtol=0, atol=1e-12)


def test_hh_parameters_and_gates_can_be_changed_between_runs():
    net = Network(dt=1e-5)
    net.add_population(1, HH(), bias=10.0, name="h")
    before = net.run(0.05)
    assert len(before.spike_times["h"][0]) >= 3  # tonic firing at 10 uA/cm^2
    net.set("h", g_na=0.0, m=0.3, h=0.2, n=0.4)  # without sodium current there are no spikes
    after = net.run(0.05, record={"h": ("m", "h", "n")})
    assert after["h", "m"][0, 0] == 0.3 and after["h", "h"][0, 0] == 0.2 and after["h", "n"][0, 0] == 0.4
    assert len(after.spike_times["h"][0]) == 0


def test_pynn_style_workflow_build_run_change_run_reset_run():
    def build():
        net = Network(dt=DT)
        net.add_population(3, LIF(), bias=[1.5, 2.0, 3.0], name="a")
        return net

    net = build()
    net.set("a", v=[0.1, 0.2, 0.3])  # before the first run: the initial state
    r1 = net.run(0.1)
    net.set("a", bias=1.2, tau_ref=0.004)
    r2 = net.run(0.1)
    assert r2.rates("a").sum() < r1.rates("a").sum()
    net.reset()  # back to the initial state; the changed parameters stay
    r3 = net.run(0.1)
    ref = build()
    ref.set("a", bias=1.2, tau_ref=0.004, v=[0.1, 0.2, 0.3])
    r4 = ref.run(0.1)
    for a, b in zip(r3.spike_times["a"], r4.spike_times["a"]):
        np.testing.assert_array_equal(a, b)
    assert r3.t[0] == 0.0


@pytest.mark.parametrize("kwargs, err, word", [
    ({"tau_x": 0.01}, ValueError, "tau_m"),  # the closest valid name is suggested
    ({"tau_m": [0.01, 0.02, 0.03]}, ValueError, "tau_m"),  # per-neuron values: one per neuron
    ({"tau_m": [0.01, -0.02]}, ValueError, "tau_m"),
    ({"tau_m": -1.0}, ValueError, "tau_m"),
    ({"v_reset": 2.0}, ValueError, "v_reset"),
    ({"bias": np.nan}, ValueError, "bias"),
    ({"v": [0.1, 0.2, 0.3]}, ValueError, "v"),
    ({"ref": -0.001}, ValueError, "ref"),
    ({"m": 0.1}, ValueError, "set argument"),
])
def test_bad_values_for_set_are_named(kwargs, err, word):
    net = Network(dt=DT)
    net.add_population(2, LIF(), bias=1.5, name="a")
    net.run(0.01)
    before = net._pop("a").neuron
    with pytest.raises(err, match=word):
        net.set("a", **kwargs)
    assert net._pop("a").neuron == before  # nothing changed
    with pytest.raises(ValueError, match="pop"):
        net.set("b", bias=1.0)


def test_reset_reproduces_a_network_with_voltage_jumps_and_spike_inputs():
    from spikenet.sim.brunel import brunel_network

    net = brunel_network(g=5.0, eta=2.0, T=0.1, n_e=400, c_e=40, J=2.5, seed=2)
    first = net.run(0.1)
    net.reset()
    again = net.run(0.1)
    assert sum(len(s) for s in first.spike_times["E"]) > 100
    _same_results(first, again, {})


def test_connect_returns_the_connection_it_made():
    import scipy.sparse as sp

    net = Network(dt=DT)
    a = net.add_population(5, LIF(), name="a")
    b = net.add_population(3, LIF(), name="b")
    W = np.arange(15.0).reshape(3, 5) * 0.01
    conn = net.connect(a, b, W, delay=2 * DT)
    assert conn.pre is a and conn.post is b and conn.delay == pytest.approx(2 * DT)
    np.testing.assert_array_equal(conn.weights, W)
    sparse = net.connect(b, a, sp.csr_matrix(np.eye(5, 3)), delay=sp.csr_matrix(np.eye(5, 3) * 3 * DT))
    assert sparse.pre is b and sparse.post is a
    np.testing.assert_array_equal(sparse.weights.toarray(), np.eye(5, 3))


def test_reset_clears_input_in_flight_on_per_synapse_delays():
    def build():
        net = Network(dt=DT)
        rng = np.random.default_rng(0)
        a = net.add_population(50, LIF(), bias=1.5, init={"v": rng.random(50)}, name="a")
        b = net.add_population(30, LIF(), bias=0.9, name="b")
        W = rng.random((30, 50)) * 0.01
        D = rng.integers(1, 40, (30, 50)) * DT
        net.connect(a, b, W, delay=D)
        return net

    net = build()
    first = net.run(0.05, record={"b": "I_syn"})
    net.run(0.02)  # leaves delayed input in flight
    net.reset()
    again = net.run(0.05, record={"b": "I_syn"})
    _same_results(first, again, {"b": ("I_syn",)})
    assert first["b", "I_syn"].max() > 0
