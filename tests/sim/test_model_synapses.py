"""Every synapse kind and white noise into NeuronModel populations (Izhikevich, AdEx, user models).

Voltage jumps (``Delta``) are checked against a scipy ``solve_ivp``
integration at rtol 1e-10 with the jumps applied between its segments
(:mod:`tests.sim.model_jump_refs`), including NEST ``iaf_psc_delta`` timing
of the spikes that jumps cause; the engine's bookkeeping (threads, batch,
float32) against plain runs.
"""

import numpy as np
import pytest

from spikenet.sim import AdEx, Conductance, Delta, Izhikevich, Network, PSCFilter, SpikeSource
from tests.sim.extending_example import PerfectIF
from tests.sim.model_jump_refs import (
    Conductances,
    adex_rhs,
    izhikevich_cond_rhs,
    izhikevich_rhs,
    jump_reference,
)

DT = 1e-4
T = 0.2
SRC_TIMES = [np.array([0.02]), np.array([0.05, 0.12]), np.array([0.1, 0.15]), np.array([0.101, 0.1025])]
# (post, pre) jumps in mV: below threshold, leading to a spike later, and past v_peak at arrival
W_IZH = np.array([[120.0, 10.0, -5.0, 0.0], [15.0, 40.0, 100.0, 0.0]])
W_ADEX = np.array([[8.0, 30.0, 75.0, 0.0], [3.0, -10.0, 80.0, 0.0]])
# a refractory AdEx neuron: spikes on the jump at 100.1 ms, ignores the one at 101.1, takes the one at 102.6
# (and spikes on the jump at 150.1 ms)
W_REF = np.array([[0.0, 0.0, 80.0, 10.0]])
ADEX_REF = AdEx(tau_ref=0.002)
BIAS_IZH = np.array([0.0, 6.0])
BIAS_ADEX = np.array([0.0, 600.0])
W_CHAIN = 5.0  # izh neuron 0 -> both AdEx neurons, delay 1 ms
DELAY = 1e-3
ADEX = AdEx()
IZH = Izhikevich()


def _jump_network(**kw):
    net = Network(dt=DT, **kw)
    src = net.add_population(4, SpikeSource(SRC_TIMES), name="src")
    izh = net.add_population(2, IZH, bias=BIAS_IZH if not kw.get("batch") else np.tile(BIAS_IZH, (2, 1)),
                             name="izh")
    adex = net.add_population(2, ADEX, bias=BIAS_ADEX if not kw.get("batch") else np.tile(BIAS_ADEX, (2, 1)),
                              name="adex")
    net.connect(src, izh, W_IZH, synapse=Delta())
    net.connect(src, adex, W_ADEX, synapse=Delta())
    net.connect(izh, adex, np.array([[W_CHAIN, 0.0], [W_CHAIN, 0.0]]), synapse=Delta(), delay=DELAY)
    ref = net.add_population(1, ADEX_REF, name="ref")
    net.connect(src, ref, W_REF, synapse=Delta())
    return net


def _source_jumps(W, i):
    # a source spike at t (on the grid) reaches its targets at the start of the next step
    return [(t + DT, W[i, j]) for j, ts in enumerate(SRC_TIMES) for t in ts]


def test_izhikevich_and_adex_driven_through_delta_synapses_match_solve_ivp():
    res = _cond_network().run(T, record={"izh": "v", "adex": "v", "ref": "v"})
    errs, verrs = [], []
    izh_ref = []
    for i in range(2):
        f = izhikevich_rhs(IZH.a, IZH.b, BIAS_IZH[i])
        ref, vref = jump_reference(f, [IZH.v_init, IZH.b * IZH.v_init], lambda y: [IZH.c, y[1] + IZH.d],
                                   IZH.v_peak, T, _source_jumps(W_IZH, i), grid_dt=DT)
        izh_ref.append(ref)
        got = res.spike_times["izh"][i]
        assert len(got) == len(ref)
        errs.append(np.abs(got - ref))
        verrs.append(_voltage_error(res["izh", "v"][:, i], vref, -40.0))
    # izh neuron 0 spikes only when a jump takes it past v_peak, at the arrival itself
    np.testing.assert_allclose(izh_ref[0], [0.02 + DT], atol=1e-12)
    np.testing.assert_array_equal(res.spike_times["izh"][0], [0.02 + DT])
    # ... and its spike reaches the AdEx neurons one delay later (NEST iaf_psc_delta timing)
    chain = [(t + DELAY, W_CHAIN) for t in izh_ref[0]]
    for i in range(2):
        f = adex_rhs(ADEX.c_m, ADEX.g_l, ADEX.e_l, ADEX.v_t, ADEX.delta_t, ADEX.tau_w, ADEX.a, BIAS_ADEX[i])
        ref, vref = jump_reference(f, [ADEX.e_l, 0.0], lambda y: [ADEX.v_reset, y[1] + ADEX.b], ADEX.v_peak,
                                   T, _source_jumps(W_ADEX, i) + chain, grid_dt=DT)
        got = res.spike_times["adex"][i]
        assert len(got) == len(ref)
        errs.append(np.abs(got - ref))
        verrs.append(_voltage_error(res["adex", "v"][:, i], vref, ADEX.v_t))
    k = round((0.02 + DT + DELAY) / DT)
    assert res["adex", "v"][k, 0] - res["adex", "v"][k - 1, 0] > 0.9 * W_CHAIN  # the jump lands in step k
    # the refractory neuron: v held at v_reset for 2 ms, the jump inside ignored, the one after taken
    np.testing.assert_allclose(res.spike_times["ref"][0], [0.1001, 0.1501], rtol=0, atol=1e-12)
    v = res["ref", "v"][:, 0]
    np.testing.assert_array_equal(v[1001:1021], ADEX_REF.v_reset)  # the ignored jump of step 1011 included
    assert v[1026] - v[1025] > 9.9
    err = np.concatenate(errs)
    assert err.size >= 8
    # measured at dt = 0.1 ms: 8e-9 s (Izhikevich), 4.3e-7 s (AdEx, an upstroke 0.06 ms after a jump
    # to 10 mV above v_t); voltages 3.6e-4 mV (after that spike, the error of its time)
    assert np.all(err < 1e-6), err.max()
    assert max(verrs) < 1e-3, max(verrs)  # mV, at the grid points below v_t


def _voltage_error(v, vref, v_below):
    """Largest |v - vref| (mV) at grid points where both lie below ``v_below``, away from spikes."""
    ok = (vref < v_below) & (v < v_below)
    assert ok.mean() > 0.8
    return float(np.max(np.abs(v[ok] - vref[ok])))


def test_a_model_without_a_jump_declaration_refuses_delta_synapses_by_name():
    net = Network(dt=DT)
    p = net.add_population(2, PerfectIF(), name="p")
    with pytest.raises(ValueError, match=r"synapse: Delta .* PerfectIF"):
        net.connect(p, p, 1.0, synapse=Delta(), delay=1e-3)
    with pytest.raises(ValueError, match="synapse: Delta"):
        net.add_input(p, spikes=np.zeros((10, 1), bool), weights=np.ones((2, 1)), synapse=Delta())


def test_a_population_with_jumps_needs_a_delay_on_its_outgoing_connections():
    net = Network(dt=DT)
    p = net.add_population(2, Izhikevich(), name="p")
    net.connect(p, p, 1.0, synapse=Delta())
    with pytest.raises(ValueError, match="delay"):
        net.run(0.001)


def _busy_network(bias_izh=None, bias_adex=None, **kw):
    """150 Izhikevich and 150 AdEx neurons: random input jumps, recurrent jumps with delays, a PSC synapse."""
    rng = np.random.default_rng(21)
    net = Network(dt=DT, seed=3, **kw)
    times = [np.sort(rng.choice(np.arange(1, 1000), 12, replace=False)) * DT for _ in range(40)]
    src = net.add_population(40, SpikeSource(times), name="src")
    bias_izh = rng.uniform(0.0, 8.0, 150) if bias_izh is None else bias_izh
    bias_adex = rng.uniform(0.0, 700.0, 150) if bias_adex is None else bias_adex
    izh = net.add_population(150, Izhikevich(), bias=bias_izh, name="izh",
                             params={"d": np.linspace(2.0, 8.0, 150)})
    adex = net.add_population(150, AdEx(tau_ref=5e-4), bias=bias_adex, name="adex")
    net.connect(src, izh, rng.uniform(0.0, 30.0, (150, 40)) * (rng.random((150, 40)) < 0.2), synapse=Delta())
    net.connect(src, adex, rng.uniform(0.0, 25.0, (150, 40)) * (rng.random((150, 40)) < 0.2), synapse=Delta())
    net.connect(izh, adex, 6.0, synapse=Delta(), p=0.1, delay=1e-3)
    net.connect(adex, izh, 4.0, synapse=Delta(), p=0.1, delay=5e-4)
    net.connect(izh, izh, 0.02, synapse=PSCFilter(0.005), p=0.1, delay=2e-4)
    return net


BUSY_RECORD = {"izh": ["v", "u"], "adex": ["v", "w"]}


def _same(r1, r2):
    for p in ("izh", "adex"):
        for x, y in zip(r1.spike_times[p], r2.spike_times[p], strict=True):
            np.testing.assert_array_equal(x, y)
    for p, states in BUSY_RECORD.items():
        for s in states:
            np.testing.assert_array_equal(r1[p, s], r2[p, s])


@pytest.mark.slow  # a kernel specialisation of its own: ~20 s of compile on an empty cache
def test_jumps_split_over_two_threads_equal_one_thread_bit_for_bit():
    one = _busy_network(threads=1).run(0.1, record=BUSY_RECORD)
    two = _busy_network(threads=2).run(0.1, record=BUSY_RECORD)
    assert sum(len(x) for x in one.spike_times["izh"]) > 100
    assert sum(len(x) for x in one.spike_times["adex"]) > 100
    _same(one, two)


@pytest.mark.slow  # a kernel specialisation of its own: ~20 s of compile on an empty cache
def test_jumps_in_batch_copies_equal_separate_runs():
    rng = np.random.default_rng(8)
    bi, ba = rng.uniform(0.0, 8.0, (2, 150)), rng.uniform(0.0, 700.0, (2, 150))
    res = _busy_network(bi, ba, batch=2).run(0.05, record=BUSY_RECORD)
    for b in range(2):
        r = _busy_network(bi[b], ba[b]).run(0.05, record=BUSY_RECORD)
        assert sum(len(x) for x in r.spike_times["adex"]) > 20
        for p in ("izh", "adex"):
            for x, y in zip(res.spike_times[p][b], r.spike_times[p], strict=True):
                np.testing.assert_array_equal(x, y)
            for st in BUSY_RECORD[p]:
                np.testing.assert_array_equal(res[p, st][:, b], r[p, st])


@pytest.mark.slow  # a kernel specialisation of its own: ~20 s of compile on an empty cache
def test_jumps_in_float32_give_the_float64_spikes_of_an_uncoupled_network():
    out = {}
    for f in (np.float64, np.float32):
        net = Network(dt=DT, dtype=f)
        rng = np.random.default_rng(4)
        times = [np.sort(rng.choice(np.arange(1, 1000), 12, replace=False)) * DT for _ in range(10)]
        src = net.add_population(10, SpikeSource(times), name="src")
        izh = net.add_population(20, Izhikevich(), bias=rng.uniform(0.0, 8.0, 20), name="izh")
        adex = net.add_population(20, AdEx(), bias=rng.uniform(0.0, 700.0, 20), name="adex")
        net.connect(src, izh, rng.uniform(0.0, 60.0, (20, 10)) * (rng.random((20, 10)) < 0.3),
                    synapse=Delta())
        net.connect(src, adex, rng.uniform(0.0, 40.0, (20, 10)) * (rng.random((20, 10)) < 0.3),
                    synapse=Delta())
        out[f] = net.run(0.1)
    n = 0
    for p in ("izh", "adex"):
        for x, y in zip(out[np.float64].spike_times[p], out[np.float32].spike_times[p], strict=True):
            assert len(x) == len(y)
            np.testing.assert_allclose(x, y, rtol=0, atol=2e-5)  # 0.2 steps
            n += len(x)
    assert n > 50


# Conductance synapses: an excitatory (e_rev 0 mV, 5 ms) and an inhibitory (e_rev -80 mV, n = 1, 10 ms) one
C_TIMES = [np.array([0.01, 0.012, 0.05, 0.08]), np.array([0.03, 0.1]), np.array([0.06, 0.061, 0.062])]
G_EXC = Conductance(0.005, 0.0)
G_INH = Conductance(0.01, -80.0, n=1)
# (post, pre) time integrals of g: nS s for AdEx, (1/ms) s for Izhikevich
WC_ADEX_E = np.array([[0.06, 0.0, 0.05], [0.02, 0.0, 0.02]])
WC_ADEX_I = np.array([[0.0, 0.08, 0.0], [0.0, 0.05, 0.0]])
WC_IZH_E = np.array([[1.5e-4, 0.0, 1e-4], [5e-5, 0.0, 5e-5]])
WC_IZH_I = np.array([[0.0, 1e-4, 0.0], [0.0, 1e-4, 0.0]])
BIAS_C_ADEX = np.array([100.0, 650.0])
BIAS_C_IZH = np.array([0.0, 5.0])


def _cond_network(adex_model=ADEX, w=(WC_ADEX_E, WC_ADEX_I, WC_IZH_E, WC_IZH_I), **kw):
    """The network of the jump tests plus populations "cadex" and "cizh" receiving conductances.

    (One network for both: one kernel compile for the default run.)
    """
    net = _jump_network(**kw)
    src = net.add_population(3, SpikeSource(C_TIMES), name="csrc")
    adex = net.add_population(2, adex_model, bias=BIAS_C_ADEX, name="cadex")
    izh = net.add_population(2, IZH, bias=BIAS_C_IZH, name="cizh")
    net.connect(src, adex, w[0], synapse=G_EXC)
    net.connect(src, adex, w[1], synapse=G_INH)
    net.connect(src, izh, w[2], synapse=G_EXC)
    net.connect(src, izh, w[3], synapse=G_INH)
    return net


def _cond_inputs(WE, WI, i):
    arr = [t + DT for t in C_TIMES]  # a source spike reaches its targets at the start of the next step
    return Conductances([(arr[j], np.full(arr[j].size, W[i, j]), syn.tau_s, syn.n_stages - 1, syn.e_rev)
                         for W, syn in ((WE, G_EXC), (WI, G_INH)) for j in range(3) if W[i, j] != 0.0])


def test_izhikevich_and_adex_with_conductance_synapses_match_solve_ivp():
    res = _cond_network().run(T, record={"cadex": "v", "cizh": "v"})
    errs, verrs = [], []
    for i in range(2):
        g = _cond_inputs(WC_ADEX_E, WC_ADEX_I, i)
        f = adex_rhs(ADEX.c_m, ADEX.g_l, ADEX.e_l, ADEX.v_t, ADEX.delta_t, ADEX.tau_w, ADEX.a, BIAS_C_ADEX[i],
                     g_of_t=g)
        ref, vref = jump_reference(f, [ADEX.e_l, 0.0], lambda y: [ADEX.v_reset, y[1] + ADEX.b], ADEX.v_peak,
                                   T, [], grid_dt=DT, breaks=g.breaks)
        got = res.spike_times["cadex"][i]
        assert len(got) == len(ref)
        errs.append(np.abs(got - ref))
        verrs.append(_voltage_error(res["cadex", "v"][:, i], vref, ADEX.v_t))
        g = _cond_inputs(WC_IZH_E, WC_IZH_I, i)
        f = izhikevich_cond_rhs(IZH.a, IZH.b, BIAS_C_IZH[i], g)
        ref, vref = jump_reference(f, [IZH.v_init, IZH.b * IZH.v_init], lambda y: [IZH.c, y[1] + IZH.d],
                                   IZH.v_peak, T, [], grid_dt=DT, breaks=g.breaks)
        got = res.spike_times["cizh"][i]
        assert len(got) == len(ref)
        errs.append(np.abs(got - ref))
        verrs.append(_voltage_error(res["cizh", "v"][:, i], vref, -40.0))
    err = np.concatenate(errs)
    assert err.size >= 5
    # measured at dt = 0.1 ms: spike times 3.3e-8 s, voltages 4.7e-4 mV
    assert np.all(err < 1e-6), err.max()
    assert max(verrs) < 1e-3, max(verrs)


def test_voltage_never_passes_the_reversal_potential_of_a_strong_conductance():
    # conductances a hundred times the leak and more: v tends to e_rev without passing it
    linear = AdEx(a=0.0, b=0.0, v_t=500.0, v_peak=600.0)  # no spike: the excitatory e_rev is reached too
    z = np.zeros((2, 3))
    strong = (np.array([[0.0, 0.0, 30.0], [0.0, 0.0, 0.0]]), np.array([[0.0, 0.0, 0.0], [0.0, 80.0, 0.0]]),
              z, np.array([[0.0, 2.0, 0.0], [0.0, 2.0, 0.0]]))
    res = _cond_network(linear, strong).run(T, record={"cadex": "v", "cizh": "v"})
    v = res["cadex", "v"]
    assert v[:, 0].max() > -1.0  # driven close to 0 mV ...
    assert v[:, 0].max() <= G_EXC.e_rev  # ... never past it
    assert v[:, 1].min() < -79.0
    assert v[:, 1].min() >= G_INH.e_rev
    assert res["cizh", "v"].min() < -79.0
    assert res["cizh", "v"].min() >= G_INH.e_rev


def test_a_model_without_a_conductance_step_refuses_conductance_synapses_by_name():
    net = Network(dt=DT)
    p = net.add_population(2, PerfectIF(), name="p")
    with pytest.raises(ValueError, match=r"synapse: Conductance .* PerfectIF"):
        net.connect(p, p, 1.0, synapse=G_EXC)


def _everything(bias_izh=None, bias_adex=None, **kw):
    """Izhikevich and AdEx with per-neuron parameters, conductances, jumps, noise and PSC synapses."""
    rng = np.random.default_rng(31)
    net = Network(dt=DT, seed=4, **kw)
    times = [np.sort(rng.choice(np.arange(1, 1000), 15, replace=False)) * DT for _ in range(40)]
    src = net.add_population(40, SpikeSource(times), name="src")
    bias_izh = rng.uniform(0.0, 6.0, 150) if bias_izh is None else bias_izh
    bias_adex = rng.uniform(300.0, 900.0, 150) if bias_adex is None else bias_adex
    izh = net.add_population(150, Izhikevich(), bias=bias_izh, name="izh",
                             params={"d": np.linspace(2.0, 8.0, 150)})
    adex = net.add_population(150, AdEx(tau_ref=5e-4), bias=bias_adex, name="adex",
                              params={"b": np.linspace(0.0, 80.0, 150)})
    net.connect(src, izh, 2e-5, synapse=G_EXC, p=0.3)
    net.connect(src, adex, 0.02, synapse=G_EXC, p=0.3)
    net.connect(izh, adex, 0.05, synapse=G_INH, p=0.1, delay=1e-3)
    net.connect(adex, izh, 5e-5, synapse=G_INH, p=0.1, delay=5e-4)
    net.connect(src, izh, 10.0, synapse=Delta(), p=0.1)
    net.connect(izh, izh, 0.02, synapse=PSCFilter(0.005), p=0.1, delay=2e-4)
    net.add_input(izh, noise=0.03)
    net.add_input(adex, noise=20.0)
    return net


@pytest.mark.slow  # a kernel specialisation of its own: ~20 s of compile on an empty cache
def test_conductances_jumps_and_noise_split_over_two_threads_equal_one_thread_bit_for_bit():
    one = _everything(threads=1).run(0.1, record=BUSY_RECORD)
    two = _everything(threads=2).run(0.1, record=BUSY_RECORD)
    assert sum(len(x) for x in one.spike_times["izh"]) > 100
    assert sum(len(x) for x in one.spike_times["adex"]) > 40
    _same(one, two)
    net = _everything(threads=1)  # and in two runs
    a, b = net.run(0.04, record=BUSY_RECORD), net.run(0.06, record=BUSY_RECORD)
    for x, y, z in zip(a.spike_times["adex"], b.spike_times["adex"], one.spike_times["adex"], strict=True):
        np.testing.assert_array_equal(np.concatenate([x, y]), z)


@pytest.mark.slow  # a kernel specialisation of its own: ~20 s of compile on an empty cache
def test_conductances_in_batch_copies_equal_separate_runs():
    out = _cond_network(batch=2).run(T, record={"cadex": "v", "cizh": "v"})
    one = _cond_network().run(T, record={"cadex": "v", "cizh": "v"})
    for b in range(2):
        for p in ("cadex", "cizh"):
            for x, y in zip(out.spike_times[p][b], one.spike_times[p], strict=True):
                np.testing.assert_array_equal(x, y)
            np.testing.assert_array_equal(out[p, "v"][:, b], one[p, "v"])
    # with noise, jumps and conductances together: batch copies run, with independent noise
    rng = np.random.default_rng(8)
    bi, ba = rng.uniform(0.0, 6.0, 150), rng.uniform(300.0, 900.0, 150)
    res = _everything(np.tile(bi, (2, 1)), np.tile(ba, (2, 1)), batch=2).run(0.05, record=BUSY_RECORD)
    assert sum(len(x) for x in res.spike_times["adex"][0]) > 20
    assert not np.array_equal(res["adex", "v"][:, 0], res["adex", "v"][:, 1])


@pytest.mark.slow  # a kernel specialisation of its own: ~20 s of compile on an empty cache
def test_conductances_in_float32_give_the_float64_spikes():
    out = {f: _cond_network(dtype=f).run(T) for f in (np.float64, np.float32)}
    n = 0
    for p in ("cizh", "cadex"):
        for x, y in zip(out[np.float64].spike_times[p], out[np.float32].spike_times[p], strict=True):
            assert len(x) == len(y)
            np.testing.assert_allclose(x, y, rtol=0, atol=2e-5)
            n += len(x)
    assert n >= 5
