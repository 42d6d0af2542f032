"""A synapse kind defined outside spikenet: registered, connected, checked against independent references.

The kinds are in ``tests/sim/synapse_extension_example.py`` (the file that
docs/extending.md walks through); registering them also adds them to the
engine's contract tests (``tests/sim/test_contract.py``).
"""

from dataclasses import dataclass

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from spikenet.sim import HH, LIF, Conductance, Network, PSCFilter
from spikenet.sim.synapse_base import SynapseKind, register_synapse, synapse_kinds
from tests.sim.keys import key_entry
from tests.sim.synapse_extension_example import DoubleExp, PeakExp

DT = 1e-4
# solve_ivp (DOP853) at rtol 1e-10, atol 1e-12 on a voltage of order 1: its
# own error (~1e-10) dominates the engine's exact propagation.
IVP_V_ATOL = 1e-9
# LIF spike time with a time-varying synaptic current: the in-step crossing
# uses the constant drive matching the end-of-step voltage, an O(dt^2)
# approximation (the same bound as the built-in PSC filters' test): dt / 50.
SPIKE_TIME_TOL = DT / 50
# Two exact evaluations of the same linear system (closed form vs matrix
# exponential, or two equal filters): float64 round-off over a few thousand steps.
EXACT_ATOL = 1e-12

TAU_R, TAU_D = 0.001, 0.005


def _double_exp_rhs(x):
    # tau_r x0' = -x0, tau_d x1' = x0 - x1: the current is x1
    return np.array([-x[0] / TAU_R, (x[0] - x[1]) / TAU_D])


def _peak_exp_rhs(x, tau=0.005):
    return np.array([-x[0] / tau])


def _lif_reference(rhs, m, kick, arrivals, T, tau_m, bias, v0=0.0, tau_ref=0.0, t_eval=()):
    """LIF ``tau_m v' = bias + x_last - v`` with synaptic stages ``x' = rhs(x)`` by solve_ivp.

    ``arrivals``: times (s) at which ``kick`` (the first-stage increment) is
    added. Threshold 1, reset 0, refractory period ``tau_ref`` (``v`` held at
    0, the stages keep evolving). Returns the spike times and ``v`` at ``t_eval``.
    """
    z = np.zeros(1 + m)
    z[0] = v0
    t, release, spikes = 0.0, -1.0, []
    t_eval = np.asarray(t_eval, dtype=float)
    v_out = np.full(t_eval.size, np.nan)
    edges = [*sorted(set(arrivals)), T]
    tol = {"rtol": 1e-10, "atol": 1e-12, "method": "DOP853", "dense_output": True}

    def free(_, y):
        return np.concatenate([[(bias + y[-1] - y[0]) / tau_m], rhs(y[1:])])

    def held(_, y):
        return np.concatenate([[0.0], rhs(y[1:])])

    def crossing(_, y):
        return y[0] - 1.0

    crossing.terminal, crossing.direction = True, 1.0

    def keep(sol, a, b):
        sel = (t_eval >= a) & (t_eval <= b)
        if sel.any():
            v_out[sel] = sol.sol(t_eval[sel])[0]

    for stop in edges:
        while t < stop:
            if t < release:  # refractory: v held at the reset
                end = min(release, stop)
                sol = solve_ivp(held, (t, end), z, **tol)
                keep(sol, t, end)
                t, z = end, sol.y[:, -1]
                continue
            sol = solve_ivp(free, (t, stop), z, events=crossing, **tol)
            keep(sol, t, sol.t[-1])
            if sol.status == 1:  # a spike
                t_spk = sol.t_events[0][0]
                spikes.append(t_spk)
                z = sol.y_events[0][0].copy()
                z[0] = 0.0
                t, release = t_spk, t_spk + tau_ref
            else:
                t, z = stop, sol.y[:, -1]
        if stop in arrivals:
            z[1] += kick * arrivals.count(stop)
    return np.array(spikes), v_out


def _network(syn, w, rows, steps, neuron, bias, v0=0.0, record=("v",)):
    net = Network(dt=DT)
    post = net.add_population(1, neuron, bias=bias, init={"v": v0}, name="post")
    raster = np.zeros((steps, 1), dtype=bool)
    raster[rows] = True
    net.add_input(post, spikes=raster, weights=w, synapse=syn)
    return net.run(steps * DT, record={"post": list(record)})


ROWS = [49, 120, 130, 300]  # input spikes, arriving at the start of the next step
STEPS = 700


def test_a_registered_kind_is_one_of_the_engine_kinds():
    assert {DoubleExp, PeakExp} <= set(synapse_kinds())
    assert DoubleExp(TAU_R, TAU_D).n_stages == 2 and PeakExp(0.005).n_stages == 1


def test_the_double_exponential_kernel_derived_from_the_generator_is_the_closed_form():
    syn = DoubleExp(TAU_R, TAU_D)
    t = np.linspace(-0.001, 0.04, 60)
    closed = np.where(t >= 0, (np.exp(-t / TAU_D) - np.exp(-t / TAU_R)) / (TAU_D - TAU_R), 0.0)
    np.testing.assert_allclose(syn.kernel(t), closed, rtol=0, atol=EXACT_ATOL * 1e3)  # 1/s, peak ~ 140


@pytest.mark.parametrize(("syn", "w", "rhs", "kick"), [
    (DoubleExp(TAU_R, TAU_D), 0.004, _double_exp_rhs, 0.004 / TAU_R),
    (PeakExp(0.005), 0.8, _peak_exp_rhs, 0.8),
], ids=["DoubleExp, two stages", "PeakExp, one stage (not a cascade: the general LIF pass)"])
def test_voltage_below_threshold_matches_solve_ivp(syn, w, rhs, kick):
    tau_m, bias, v0 = 0.015, 0.4, 0.1
    res = _network(syn, w, ROWS, STEPS, LIF(tau_m=tau_m), bias, v0=v0)
    assert res.spike_times["post"][0].size == 0
    arrivals = [(r + 1) * DT for r in ROWS]
    _, v_ref = _lif_reference(rhs, syn.n_stages, kick, arrivals, STEPS * DT, tau_m, bias, v0=v0, t_eval=res.t)
    v = res["post", "v"][:, 0]
    assert v.max() > 0.6  # the synapse moved the voltage well above the bias' level
    np.testing.assert_allclose(v, v_ref, rtol=0, atol=IVP_V_ATOL)


def test_a_driven_neuron_spikes_at_the_solve_ivp_times():
    syn, w, tau_m, tau_ref, bias = DoubleExp(TAU_R, TAU_D), 0.012, 0.01, 0.00234, 0.8
    rows = [20, 21, 22, 150, 151, 152, 153, 154, 400]
    res = _network(syn, w, rows, STEPS, LIF(tau_m=tau_m, tau_ref=tau_ref), bias)
    arrivals = [(r + 1) * DT for r in rows]
    ref, _ = _lif_reference(_double_exp_rhs, 2, w / TAU_R, arrivals, STEPS * DT, tau_m, bias, tau_ref=tau_ref)
    got = res.spike_times["post"][0]
    assert ref.size >= 3
    assert got.size == ref.size
    np.testing.assert_allclose(got, ref, rtol=0, atol=SPIKE_TIME_TOL)


def test_only_cascades_send_a_lif_population_to_the_fused_pass():
    # The fused pass's exact release step reads each synapse's tau_s, which
    # only a cascade declares: a single-stage kind without one (PeakExp) runs
    # the general pass (the kernel's with_generic switch is set), the
    # single-stage PSCFilter the fused one (the switch is None).
    keys = {}
    for syn in (PSCFilter(0.005), PeakExp(0.005)):
        net = Network(dt=DT)
        post = net.add_population(1, LIF(), bias=0.5, name="post")
        raster = np.zeros((10, 1), dtype=bool)
        raster[2] = True
        net.add_input(post, spikes=raster, weights=0.1, synapse=syn)
        net.run(1e-3)
        keys[type(syn).__name__] = key_entry(net, "with_generic")
    assert keys["PSCFilter"] == "none"
    assert keys["PeakExp"] != "none"


def test_peak_normalised_exponential_equals_the_unit_area_filter_with_weight_times_tau():
    tau, w = 0.005, 0.3
    a = _network(PeakExp(tau), w, ROWS, STEPS, LIF(), 0.9, record=("v", "I_syn"))
    b = _network(PSCFilter(tau), w * tau, ROWS, STEPS, LIF(), 0.9, record=("v", "I_syn"))
    np.testing.assert_allclose(a["post", "I_syn"], b["post", "I_syn"], rtol=1e-13, atol=0)
    np.testing.assert_allclose(a["post", "v"], b["post", "v"], rtol=0, atol=EXACT_ATOL)


def test_an_hh_neuron_is_driven_by_the_exact_step_average_of_the_kernel():
    # HH reads a current synapse as its last stage averaged over each step:
    # the same as a current input holding, in each step, the closed-form
    # integral of the double exponential over that step divided by dt.
    dt, steps, rows, w = 1e-5, 2000, [99, 700], 0.05
    t0 = (np.array(rows) + 1) * dt

    def integral(s):  # int_0^s h, h the double exponential
        s = np.maximum(s, 0.0)
        return (TAU_D * -np.expm1(-s / TAU_D) - TAU_R * -np.expm1(-s / TAU_R)) / (TAU_D - TAU_R)

    edges = np.arange(steps + 1) * dt
    drive = sum(w * (integral(edges[1:] - t) - integral(edges[:-1] - t)) / dt for t in t0)
    nets = []
    for mode in ("synapse", "current"):
        net = Network(dt=dt)
        p = net.add_population(1, HH(), bias=2.0, name="p")
        if mode == "synapse":
            raster = np.zeros((steps, 1), dtype=bool)
            raster[rows] = True
            net.add_input(p, spikes=raster, weights=w, synapse=DoubleExp(TAU_R, TAU_D))
        else:
            net.add_input(p, current=drive[:, None])
        nets.append(net.run(steps * dt, record={"p": "v"}))
    v_syn, v_cur = nets[0]["p", "v"][:, 0], nets[1]["p", "v"][:, 0]
    assert v_syn.max() - v_syn.min() > 5.0  # mV: the input moved the neuron
    np.testing.assert_allclose(v_syn, v_cur, rtol=0, atol=1e-9)


def test_a_kind_that_is_not_a_cascade_is_refused_into_a_lif_population_with_conductances():
    net = Network(dt=DT)
    a = net.add_population(2, LIF(), bias=2.0)
    b = net.add_population(2, LIF())
    net.connect(a, b, 0.002, synapse=Conductance(0.005, 6.0))
    net.connect(a, b, 0.01, synapse=DoubleExp(TAU_R, TAU_D))
    with pytest.raises(ValueError, match="synapse"):
        net.run(0.001)


def test_an_unregistered_kind_is_refused_naming_synapse():
    @dataclass(frozen=True)
    class Unregistered(SynapseKind):
        tau: float = 0.005

        @property
        def input_scale(self):
            return 1.0 / self.tau

        def generator(self):
            return np.array([[-1.0 / self.tau]])

    net = Network(dt=DT)
    a = net.add_population(2, LIF(), bias=2.0)
    with pytest.raises(TypeError, match="synapse"):
        net.connect(a, a, 0.01, synapse=Unregistered())


def test_register_synapse_checks_what_the_kind_declares():
    class NotADataclass(SynapseKind):
        pass

    with pytest.raises(TypeError, match="frozen dataclass"):
        register_synapse(NotADataclass)
    with pytest.raises(TypeError, match="SynapseKind"):
        register_synapse(int)

    @dataclass(frozen=True)
    class BadEntry(SynapseKind):
        entry = "voltage"

    with pytest.raises(ValueError, match="entry"):
        register_synapse(BadEntry)


def test_a_generator_that_is_not_lower_triangular_is_refused_naming_synapse():
    @register_synapse
    @dataclass(frozen=True)
    class Coupled(SynapseKind):
        @property
        def input_scale(self):
            return 1.0

        def generator(self):
            return np.array([[-100.0, 50.0], [50.0, -100.0]])

    net = Network(dt=DT)
    a = net.add_population(2, LIF(), bias=2.0)
    with pytest.raises(ValueError, match=r"synapse.*lower triangular"):
        net.connect(a, a, 0.01, synapse=Coupled())


def test_the_generic_propagator_and_couplings_equal_the_psc_cascade_closed_forms():
    # SynapseKind's defaults (matrix exponentials of the generator) against
    # PSCFilter's closed-form propagator and kernel.
    for n in (0, 1, 3):
        syn = PSCFilter(0.003, n)
        np.testing.assert_allclose(SynapseKind.stage_propagator(syn, DT), syn.stage_propagator(DT), rtol=0,
                                   atol=1e-15)
        t = np.linspace(0, 0.03, 31)
        np.testing.assert_allclose(SynapseKind.kernel(syn, t), syn.kernel(t), rtol=1e-12, atol=1e-12)


def _recurrent(threads=None, batch=None):
    rng = np.random.default_rng(3)
    n = 130  # two parts on two threads (parts are cut at multiples of 64 neurons)
    net = Network(dt=DT, threads=threads, batch=batch)
    p = net.add_population(n, LIF(), bias=rng.uniform(0.9, 2.0, n), name="p")
    W = 0.01 * rng.uniform(0, 1, (n, n)) * (rng.random((n, n)) < 0.1)
    net.connect(p, p, W, synapse=DoubleExp(TAU_R, TAU_D), delay=2 * DT)
    raster = rng.random((1000, 8)) < 200 * DT
    net.add_input(p, spikes=raster, weights=0.02 * rng.uniform(0, 1, (n, 8)), synapse=DoubleExp(TAU_R, TAU_D))
    return net.run(0.1)


def _events(res, copy=0):
    t, i, b = res.spike_events("p")
    t, i = t[b == copy], i[b == copy]
    order = np.lexsort((t, i))
    return t[order], i[order]


def test_two_threads_and_batch_copies_give_the_spikes_of_one_thread_bit_for_bit():
    one = _events(_recurrent(threads=1))
    assert one[0].size > 130
    two = _events(_recurrent(threads=2))
    np.testing.assert_array_equal(two[0], one[0])
    np.testing.assert_array_equal(two[1], one[1])
    batched = _recurrent(batch=2)
    for b in range(2):
        got = _events(batched, b)
        np.testing.assert_array_equal(got[0], one[0])
        np.testing.assert_array_equal(got[1], one[1])
