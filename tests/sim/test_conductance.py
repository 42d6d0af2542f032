"""Conductance synapses in Network: accuracy against solve_ivp, semantics, bad input."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from spikenet.sim import HH, LIF, Conductance, Network, PSCFilter
from tests.sim.conductance_reference import lif_reference
from tests.sim.keys import key_entry

T = 0.2
TAU_M, TAU_REF, BIAS, V0 = 0.02, 0.002, 0.8, 0.3
W_E, W_I = 0.004, 0.01
BASE = 4e-4  # the input spikes arrive on the grid of the coarsest step
_rng = np.random.default_rng(3)
K_E = np.sort(_rng.choice(np.arange(1, 490), 80, replace=False))
K_I = np.sort(_rng.choice(np.arange(1, 490), 30, replace=False))
# Measured at dt = 0.1 ms (n = 0 / n = 1): spike times within 2.5e-12 / 1.5e-11 s of
# solve_ivp (rtol 1e-10), voltage at the grid points within 6e-10 / 5.3e-9.
SPIKE_TOL = {0: 1e-11, 1: 1e-10}
V_TOL = {0: 3e-9, 1: 2e-8}


def _run_one(dt, n):
    net = Network(dt=dt)
    post = net.add_population(1, LIF(tau_m=TAU_M, tau_ref=TAU_REF), bias=BIAS, init={"v": V0})
    steps, r = round(T / dt), round(BASE / dt)
    for k, w, syn in ((K_E, W_E, Conductance(0.005, 6.0, n)), (K_I, W_I, Conductance(0.01, -2.0, n))):
        raster = np.zeros((steps, 1), bool)
        raster[k * r - 1, 0] = True  # row k arrives at (k + 1) dt
        net.add_input(post, spikes=raster, weights=np.array([[w]]), synapse=syn)
    res = net.run(T, record={post: "v"})
    return res.spike_times[post][0], res[post, "v"][:, 0]


def _reference(n):
    syns = [(K_E * BASE, [W_E] * K_E.size, 0.005, n, 6.0), (K_I * BASE, [W_I] * K_I.size, 0.01, n, -2.0)]
    return lif_reference(T, TAU_M, TAU_REF, 1.0, 0.0, BIAS, syns, v0=V0)


@pytest.mark.parametrize("n", [0, 1])
def test_lif_conductance_spikes_and_voltage_match_solve_ivp(n):
    ref_spikes, v_ref = _reference(n)
    spikes, v = _run_one(1e-4, n)
    assert ref_spikes.size > 20
    assert spikes.size == ref_spikes.size
    err_s = np.max(np.abs(spikes - ref_spikes))
    err_v = np.max(np.abs(v - v_ref(np.arange(v.size) * 1e-4)))
    print(f"n={n}: spike times {err_s:.2e} s, voltage {err_v:.2e}")
    assert err_s <= SPIKE_TOL[n]
    assert err_v <= V_TOL[n]


def test_lif_conductance_converges_at_fourth_order():
    # alpha conductances (n = 1), whose error stays above the reference's
    # down to dt = 0.1 ms; measured errors 1.1e-6, 7.6e-8, 5.3e-9 (ratios ~15)
    ref_spikes, v_ref = _reference(1)
    errs = []
    for dt in (4e-4, 2e-4, 1e-4):
        spikes, v = _run_one(dt, 1)
        assert spikes.size == ref_spikes.size
        errs.append(np.max(np.abs(v - v_ref(np.arange(v.size) * dt))))
    orders = np.log2(np.array(errs[:-1]) / np.array(errs[1:]))
    print("errors", errs, "orders", orders)
    assert np.all(orders > 3.5)


def test_voltage_stays_between_reversal_potentials():
    # strong excitatory and inhibitory conductances, threshold out of reach:
    # the voltage is a weighted mean of J = 0, 6 and -2 and never leaves [-2, 6]
    dt = 1e-4
    rng = np.random.default_rng(0)
    net = Network(dt=dt)
    post = net.add_population(50, LIF(v_th=100.0), init={"v": rng.uniform(-2, 6, 50)})
    steps = 500
    for e, w in ((6.0, 0.5), (-2.0, 2.0)):
        # dense weights, like the inputs above: the same compiled kernel
        net.add_input(post, spikes=rng.random((steps, 50)) < 0.3, synapse=Conductance(0.005, e),
                      weights=np.eye(50) * w)
    res = net.run(steps * dt, record={post: "v"})
    v = res[post, "v"]
    assert v.max() <= 6.0 and v.min() >= -2.0
    assert v.max() > 4.0 and v.min() < -1.0  # driven close to both


def test_initial_conductance_decays_exponentially():
    # no input: g(t) = g0 e^{-t/tau}; tau_m dv/dt = -v + g (E - v) from v = 0 against solve_ivp
    from scipy.integrate import solve_ivp

    dt, tau, e, g0 = 1e-4, 0.005, 6.0, 0.7
    syn = Conductance(tau, e)
    net = Network(dt=dt)
    post = net.add_population(1, LIF(v_th=10.0))
    net.add_input(post, spikes=np.zeros((300, 1), bool), weights=np.ones((1, 1)), synapse=syn)
    net.set_conductance(post, syn, g0)
    res = net.run(0.03, record={post: "v"})
    t = np.arange(300) * dt
    sol = solve_ivp(lambda s, y: [(-y[0] + g0 * np.exp(-s / tau) * (e - y[0])) / 0.02], (0, t[-1]), [0.0],
                    t_eval=t, rtol=1e-11, atol=1e-13, method="DOP853")
    assert np.max(np.abs(res[post, "v"][:, 0] - sol.y[0])) < 1e-9
    net.reset()
    again = net.run(0.03, record={post: "v"})
    np.testing.assert_array_equal(again[post, "v"], res[post, "v"])


def test_conductance_validates_its_arguments():
    with pytest.raises(ValueError, match="tau_s"):
        Conductance(0.0, 1.0)
    with pytest.raises(ValueError, match="e_rev"):
        Conductance(0.005, np.nan)
    with pytest.raises(TypeError, match="e_rev"):
        Conductance(0.005, "0 mV")
    with pytest.raises(ValueError, match="n"):
        Conductance(0.005, 1.0, n=-1)


def test_network_refuses_bad_conductance_use():
    net = Network(dt=1e-4)
    a = net.add_population(3, LIF())
    with pytest.raises(TypeError, match="synapse"):
        net.connect(a, a, 0.1, synapse="conductance")
    with pytest.raises(TypeError, match="synapse"):
        net.set_conductance(a, PSCFilter(0.005), 1.0)
    with pytest.raises(ValueError, match="g"):
        net.set_conductance(a, Conductance(0.005, 6.0), np.ones(4))
    net.connect(a, a, 0.1, synapse=Conductance(0.005, 6.0))
    with pytest.raises(ValueError, match="record"):
        net.run(1e-3, record={a: "I_syn"})
    other = Network(dt=1e-4)
    b = other.add_population(3, LIF())
    other.add_input(b, spikes=np.zeros((10, 3), bool), synapse=Conductance(0.005, 6.0))
    other.set_conductance(b, Conductance(0.01, -2.0), 1.0)
    with pytest.raises(ValueError, match="synapse"):
        other.run(1e-3)


@pytest.mark.slow
def test_hh_conductance_spikes_match_solve_ivp():
    # one HH neuron with excitatory (0 mV) and inhibitory (-80 mV) exponential
    # conductances, against solve_ivp of the HH equations plus g (E - V)
    from scipy.integrate import solve_ivp

    from tests.sim.conductance_reference import conductance
    from tests.sim.test_hh import hh_rhs, upward_crossings
    from tests.sim.tolerances import HH_SPIKE_ATOL_S

    dt, T_hh = 1e-5, 0.1
    arr_e = np.array([0.010, 0.030, 0.031, 0.032, 0.060, 0.0605, 0.080])
    arr_i = np.array([0.059, 0.079])
    syn_e, syn_i = Conductance(0.002, 0.0), Conductance(0.005, -80.0)
    w_e, w_i = 1.2e-3, 2e-3  # mS/cm^2 x s
    p = HH()
    net = Network(dt=dt)
    post = net.add_population(1, p)
    steps = round(T_hh / dt)
    for arr, w, syn in ((arr_e, w_e, syn_e), (arr_i, w_i, syn_i)):
        raster = np.zeros((steps, 1), bool)
        raster[np.round(arr / dt).astype(int) - 1, 0] = True
        net.add_input(post, spikes=raster, weights=np.array([[w]]), synapse=syn)
    res = net.run(T_hh)

    def rhs(t_ms, y):
        t = np.array([t_ms * 1e-3])
        ge = conductance(t, arr_e, [w_e] * arr_e.size, 0.002, 0)[0]
        gi = conductance(t, arr_i, [w_i] * arr_i.size, 0.005, 0)[0]
        out = hh_rhs(t_ms, y, np.array([0.0]), p)
        out[0] += (ge * (0.0 - y[0]) + gi * (-80.0 - y[0])) / p.c_m
        return out

    y = np.array([p.v_init, *HH.steady_state(p.v_init)])
    t_fine, v_fine = [], []
    edges = np.concatenate([[0.0], np.sort(np.concatenate([arr_e, arr_i])), [T_hh]]) * 1e3
    for a, b in itertools.pairwise(edges):
        if b <= a:
            continue
        sol = solve_ivp(rhs, (a, b), y, method="DOP853", rtol=1e-9, atol=1e-9, max_step=0.05,
                        dense_output=True)
        tt = np.arange(a, b, 0.001)
        t_fine.append(tt)
        v_fine.append(sol.sol(tt)[0])
        y = sol.y[:, -1]
    ref = upward_crossings(np.concatenate(t_fine), np.concatenate(v_fine), p.v_spike) * 1e-3
    mine = res.spike_times[post][0]
    print("HH spikes", mine, ref)
    assert ref.size >= 3
    assert mine.size == ref.size
    # measured: within 2.2e-7 s at dt = 0.01 ms (the HH scheme's tolerance is 1e-4 s)
    np.testing.assert_allclose(mine, ref, rtol=0, atol=min(HH_SPIKE_ATOL_S, 1e-6))


def _two_neuron_net(dtype=np.float64):
    # one neuron drives another through a conductance, both with conductance input
    dt = 1e-4
    net = Network(dt=dt, dtype=dtype)
    a = net.add_population(1, LIF(tau_ref=0.002), bias=0.8, init={"v": 0.3}, name="a")
    b = net.add_population(1, LIF(tau_ref=0.002), bias=0.5, name="b")
    steps = round(T / dt)
    raster = np.zeros((steps, 1), bool)
    raster[K_E * 4 - 1, 0] = True
    net.add_input(a, spikes=raster, weights=np.array([[W_E]]), synapse=Conductance(0.005, 6.0))
    net.connect(a, b, np.array([[0.01]]), synapse=Conductance(0.005, 6.0), delay=1e-3)
    return net


def test_split_runs_equal_one_run():
    whole = _two_neuron_net().run(T, record={"a": "v", "b": "v"})
    net = _two_neuron_net()
    first = net.run(0.0733, record={"a": "v", "b": "v"})
    second = net.run(T - 0.0733, record={"a": "v", "b": "v"})
    for pop in ("a", "b"):
        assert whole.spike_times[pop][0].size > 3
        np.testing.assert_array_equal(np.concatenate([first.spike_times[pop][0], second.spike_times[pop][0]]),
                                      whole.spike_times[pop][0])
        np.testing.assert_array_equal(np.concatenate([first[pop, "v"], second[pop, "v"]]), whole[pop, "v"])


@pytest.mark.slow
def test_float32_agrees_with_float64():
    ref = _two_neuron_net().run(T, record={"a": "v", "b": "v"})
    low = _two_neuron_net(np.float32).run(T, record={"a": "v", "b": "v"})
    for pop in ("a", "b"):
        assert low.spike_times[pop][0].size == ref.spike_times[pop][0].size
        np.testing.assert_allclose(low.spike_times[pop][0], ref.spike_times[pop][0], rtol=0, atol=1e-6)
        np.testing.assert_allclose(low[pop, "v"], ref[pop, "v"], rtol=0, atol=1e-4)


def test_networks_without_conductances_prune_the_conductance_pass():
    plain = Network(dt=1e-4)
    a = plain.add_population(4, LIF(), bias=1.5)
    plain.connect(a, a, 0.01, synapse=PSCFilter(0.005))
    plain.run(1e-3)
    assert plain._built["cond"] is None
    assert key_entry(plain, "cond") == "none"
    net = _two_neuron_net()
    net.run(1e-3)
    assert key_entry(net, "cond").startswith("CondArgs(")


def test_conductance_into_other_neuron_models_is_refused_naming_synapse():
    # a NeuronModel without a conductance-aware step (cond_step) does not take conductance synapses
    from spikenet.sim.network import Population, _check_synapse
    from tests.sim.extending_example import PerfectIF

    net = Network(dt=1e-4)
    izh = Population(net, 0, 3, PerfectIF(), "izh", np.zeros((1, 3)), {})
    with pytest.raises(ValueError, match="synapse"):
        _check_synapse(Conductance(0.005, 0.0), izh)


def test_poisson_input_through_a_conductance_synapse_drives_the_voltage_towards_its_reversal():
    # Diffusion limit: many small conductance pulses (mean conductance g0 = rate * w, in units of the
    # leak) hold v near the steady state of tau_m dv/dt = -v + g0 (e_rev - v), v* = g0 e_rev / (1 + g0);
    # a current synapse with the same weights would give v* = g0 instead.
    net = Network(dt=1e-4, seed=3)
    a = net.add_population(200, LIF(), name="a")
    rate, w, e_rev = 20000.0, 2.5e-5, 0.8
    net.add_input(a, rate=rate, weights=w, synapse=Conductance(0.005, e_rev))
    res = net.run(0.3, record={a: "v"})
    g0 = rate * w
    v_mean = res[a, "v"][1000:].mean()
    assert abs(v_mean - g0 * e_rev / (1 + g0)) < 0.01 * g0 * e_rev / (1 + g0)
    assert res[a, "v"].max() < e_rev


def test_record_of_i_syn_is_refused_when_the_only_conductance_is_a_poisson_input():
    # the run's check looked only at connections: a population fed by a Poisson input through a
    # Conductance recorded its conductance under the name 'I_syn'
    net = Network(dt=1e-4, seed=1)
    a = net.add_population(3, LIF(), name="a")
    b = net.add_population(3, LIF(), name="b")
    net.add_input(a, rate=1000.0, weights=0.01, synapse=Conductance(0.005, 5.0))
    net.add_input(b, rate=1000.0, weights=0.01, synapse=PSCFilter(0.005))
    with pytest.raises(ValueError, match=r"record.*'a'"):
        net.run(1e-3, record={a: "I_syn"})
    assert net.t == 0.0  # refused before anything ran
    # a current-based Poisson input still records its current (its own network: no conductance kernel)
    cur = Network(dt=1e-4, seed=1)
    c = cur.add_population(3, LIF(), name="c")
    cur.add_input(c, rate=1000.0, weights=0.01, synapse=PSCFilter(0.005))
    assert cur.run(1e-3, record={c: "I_syn"})[c, "I_syn"].shape == (10, 3)
