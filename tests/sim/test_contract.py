"""Contract of the engine, model by model and synapse kind by synapse kind.

Two registries drive every test here:

- ``MODELS``: a neuron model joins with a factory, its constant drives (n,), a
  step, a duration, and its scales in its own units (a voltage jump, a PSC
  charge, a conductance integral with its excitatory reversal potential) and
  the float32 spike-time tolerance stated for it;
- ``SYNAPSES``: every registered synapse kind
  (:func:`spikenet.sim.synapse_base.synapse_kinds`) joins with the instances
  its ``examples`` gives, at the weight scale of its entry mode (a voltage
  jump, or a charge or conductance integral divided by the area of the kind's
  kernel). A kind defined outside spikenet joins by registering (the
  two kinds of ``tests/sim/synapse_extension_example.py`` do).

The (model, synapse) pairs are then sorted by asking the network itself:
the pairs ``Network.connect`` accepts are checked for run splitting, thread
splitting and float32 against float64; the refused pairs must be refused
with an error naming ``synapse``. A pair that becomes accepted (a new
synapse kind for a model) moves from the second list to the first without
any edit here, and no test is ever skipped.

``simulate`` equals a one-population ``Network`` (without synapses, and with
a synapse of every accepted kind whose input stays silent: the neuron pass
of that kind, e.g. the conductance integrator, must follow the same rules).
The single rule for several threshold crossings in one step (at most one
spike per step, a second crossing held at ``v_th`` to the start of the next
step; ``tests/sim/step_rule.py``) is checked in every LIF path against its
analytic spike train.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pytest

import tests.sim.synapse_extension_example  # noqa: F401 - registers two synapse kinds defined outside spikenet
from spikenet.sim import HH, LIF, AdEx, Conductance, Delta, Izhikevich, Network, simulate
from spikenet.sim.synapse_base import CONDUCTANCE, JUMP, synapse_kinds
from tests.sim.extending_example import PerfectIF
from tests.sim.step_rule import lif_one_per_step_times


class Model(NamedTuple):
    make: Any  # () -> neuron
    drive: np.ndarray  # (n,) constant drives in the model's units
    dt: float  # s
    T: float  # s
    jump: float  # a Delta weight (voltage units)
    charge: float  # a PSCFilter weight (drive units x s)
    g: float  # a Conductance weight (conductance x s)
    e_rev: float  # excitatory reversal potential (voltage units)
    # float32 spike times within this of float64 (s), in the feed-forward
    # network of the float32 test over 0.1 s. Measured largest differences:
    # LIF 0.9 us (Delta, tau_ref = 5 steps; 0.2 us with PSC or conductance
    # synapses), HH 1.2 us, Izhikevich 4.2 us, AdEx 1.8 us, PerfectIF 0.1 us.
    t32: float


RNG = np.random.default_rng(0)
MODELS = {
    "LIF": Model(LIF, RNG.uniform(0.8, 4.0, 40), 1e-4, 0.3, 0.05, 0.02, 0.002, 6.0, 3e-6),
    "LIF, refractory period of 5 steps": Model(lambda: LIF(tau_ref=5e-4), RNG.uniform(1.1, 6.0, 40), 1e-4,
                                               0.3, 0.05, 0.02, 0.002, 6.0, 3e-6),
    "LIF, refractory period below one step": Model(lambda: LIF(tau_m=2e-3, tau_ref=3e-5),
                                                   RNG.uniform(1.1, 60.0, 40), 1e-4, 0.05, 0.05, 0.02,
                                                   0.002, 6.0, 3e-6),
    "HH": Model(HH, RNG.uniform(0.0, 20.0, 12), 1e-5, 0.05, 2.0, 0.02, 2e-4, 0.0, 1e-5),
    "Izhikevich": Model(Izhikevich, RNG.uniform(3.0, 15.0, 12), 1e-4, 0.3, 2.0, 0.05, 0.002, 0.0, 2e-5),
    "Izhikevich, fast spiking": Model(lambda: Izhikevich(a=0.1, d=2.0), RNG.uniform(3.0, 15.0, 12), 1e-4, 0.3,
                                      2.0, 0.05, 0.002, 0.0, 2e-5),
    "AdEx": Model(AdEx, RNG.uniform(600.0, 1500.0, 12), 1e-4, 0.3, 2.0, 5.0, 0.05, 0.0, 1e-5),
    "PerfectIF (defined outside spikenet)": Model(PerfectIF, RNG.uniform(5.0, 40.0, 12), 1e-4, 0.3, 0.1, 0.05,
                                                  0.002, 5.0, 1e-5),
}


def _area(syn):
    """Integral of the kind's kernel per unit weight: ``input_scale * (-A^-1)[last, 0]`` (s)."""
    A = syn.generator()
    return syn.input_scale * np.linalg.solve(-A, np.eye(A.shape[0])[:, 0])[-1]


def _example(kind, name, m):
    """Instance ``name`` of ``kind`` for model entry ``m``, and its weight scale."""
    syn = kind.examples(m.e_rev)[name]
    if syn.entry == JUMP:
        return syn, m.jump
    return syn, (m.g if syn.entry == CONDUCTANCE else m.charge) / _area(syn)


SYNAPSES = {name: (lambda m, kind=kind, name=name: _example(kind, name, m))
            for kind in synapse_kinds() for name in kind.examples(0.0)}
SPIKE_ATOL = 1e-12  # s: the two engines round differently in the last bits
# The conductance pass locates crossings by safeguarded Newton iterations on
# the voltage it integrates (to round-off here: no conductance is open).
SPIKE_ATOL_SYN = {name: 1e-9 for name, make in SYNAPSES.items()
                  if make(MODELS["LIF"])[0].entry == CONDUCTANCE}


def _accepted(mname, sname):
    """Whether Network.connect takes synapse kind ``sname`` into a population of model ``mname``."""
    m = MODELS[mname]
    syn, _ = SYNAPSES[sname](m)
    net = Network(dt=m.dt)
    pop = net.add_population(2, m.make())
    try:
        net.connect(pop, pop, np.zeros((2, 2)), synapse=syn, delay=2 * m.dt)
    except ValueError as exc:
        assert "synapse" in str(exc)
        return False
    return True


ACCEPT = {(mn, sn): _accepted(mn, sn) for mn in MODELS for sn in SYNAPSES}
PAIRS = [pair for pair, ok in ACCEPT.items() if ok]
REFUSED = [pair for pair, ok in ACCEPT.items() if not ok]
# Each model class, feature set, float type and thread split is a kernel of
# its own (5-20 s of compile on an empty cache): the default run keeps one
# pair in float64 on one thread (and the rule tests below, which cover every
# LIF synapse pass); the slow run checks every pair, float32 and threads.
FAST = {("LIF", "PSCFilter(n=0)"), ("LIF", "DoubleExp(1 ms, 5 ms)")}
SLOW = {"AdEx", "PerfectIF (defined outside spikenet)/stepped"}


def _cases(kind):
    slow = [n in SLOW or f"{n}/{kind}" in SLOW for n in MODELS]
    return [pytest.param(n, marks=pytest.mark.slow) if s else n for n, s in zip(MODELS, slow, strict=True)]


def _pairs(fast=FAST):
    return [pytest.param(*pair, id=f"{pair[0]}-{pair[1]}", marks=() if pair in fast else pytest.mark.slow)
            for pair in PAIRS]


def _network(neuron, dt, **add):
    net = Network(dt=dt)
    net.add_population(add.pop("n"), neuron, name="p", **add)
    return net


def _same_spikes(a, b, atol=SPIKE_ATOL):
    assert sum(len(x) for x in a) > 0
    for x, y in zip(a, b, strict=True):
        assert len(x) == len(y)
        np.testing.assert_allclose(x, y, rtol=0, atol=atol)


@pytest.mark.parametrize("name", _cases("constant"))
def test_simulate_with_a_constant_drive_equals_a_one_population_network(name):
    make, J, dt, T = MODELS[name][:4]
    res = simulate(make(), J, T=T, dt=dt)
    net = _network(make(), dt, n=len(J), bias=J).run(T)
    _same_spikes(res.spike_times, net.spike_times["p"])


@pytest.mark.parametrize("name", _cases("stepped"))
def test_simulate_with_a_stepped_drive_equals_a_network_current_input(name):
    make, J, dt, T = MODELS[name][:4]
    steps = round(T / dt)
    drive = J * (1.0 + 0.3 * np.sin(np.arange(steps) * dt * 40.0))[:, None]  # (steps, n)
    res = simulate(make(), drive, T=T, dt=dt, record=("spikes", "v"))
    net = _network(make(), dt, n=len(J))
    net.add_input("p", current=drive)
    out = net.run(T, record={"p": "v"})
    _same_spikes(res.spike_times, out.spike_times["p"])
    np.testing.assert_allclose(res.v, out["p", "v"], rtol=0, atol=1e-9)


N_SPLIT = 130  # two parts on two threads: parts are cut at multiples of 64 neurons


def _synaptic_network(mname, sname, *, dtype=np.float64, threads=None, recurrent=True, T=None, silent=False):
    """Population ``p``: bias drive, a spike input through the synapse and recurrence (or zero weights).

    ``silent``: the input never spikes and the recurrent weights are zero (the
    same kernel, nothing arrives). Returns the network, the duration and the bias.
    """
    m = MODELS[mname]
    syn, w = SYNAPSES[sname](m)
    rng = np.random.default_rng(1)
    n = N_SPLIT
    T = m.T if T is None else T
    steps = round(T / m.dt)
    net = Network(dt=m.dt, dtype=dtype, threads=threads)
    bias = rng.choice(m.drive, n)
    p = net.add_population(n, m.make(), bias=bias, name="p")
    raster = (rng.random((steps, 8)) < 200.0 * m.dt) & (not silent)  # 8 inputs at 200 Hz
    net.add_input(p, spikes=raster, weights=w * rng.uniform(0.5, 1.5, (n, 8)), synapse=syn)
    # without recurrence: zero weights, which keep the kernel of the recurrent network
    W = w * rng.uniform(0.0, 1.0, (n, n)) * (rng.random((n, n)) < 0.1) * (recurrent and not silent)
    net.connect(p, p, W, synapse=syn, delay=2 * m.dt)
    return net, T, bias


@pytest.mark.parametrize(("mname", "sname"), _pairs())
def test_simulate_equals_a_network_whose_synapse_of_each_kind_stays_silent(mname, sname):
    # The population's neuron pass is the one of its synapse kind (exact LIF
    # pass, jump pass, conductance integrator, ...) but nothing arrives.
    m = MODELS[mname]
    T = min(m.T, 0.1)
    net, _, bias = _synaptic_network(mname, sname, T=T, silent=True)
    res = simulate(m.make(), bias, T=T, dt=m.dt)
    _same_spikes(res.spike_times, net.run(T).spike_times["p"], SPIKE_ATOL_SYN.get(sname, SPIKE_ATOL))


def _events(out):
    t, i, _ = out.spike_events("p")
    order = np.lexsort((t, i))
    return t[order], i[order]


@pytest.mark.parametrize(("mname", "sname"), _pairs())
def test_two_runs_in_a_row_equal_one_run_bit_for_bit(mname, sname):
    net, T, _ = _synaptic_network(mname, sname)
    half = round(T / MODELS[mname].dt) // 2 * MODELS[mname].dt
    t_all, i_all = _events(net.run(T))
    net2 = _synaptic_network(mname, sname)[0]
    a, b = net2.run(half), net2.run(T - half)
    t_ab = np.concatenate([a.spike_events("p")[0], b.spike_events("p")[0]])
    i_ab = np.concatenate([a.spike_events("p")[1], b.spike_events("p")[1]])
    order = np.lexsort((t_ab, i_ab))
    assert t_all.size > N_SPLIT
    np.testing.assert_array_equal(t_ab[order], t_all)
    np.testing.assert_array_equal(i_ab[order], i_all)


@pytest.mark.parametrize(("mname", "sname"), _pairs(fast=set()))
def test_two_threads_give_the_spikes_of_one_thread_bit_for_bit(mname, sname):
    T = min(MODELS[mname].T, 0.1)
    one = _events(_synaptic_network(mname, sname, threads=1, T=T)[0].run(T))
    two = _events(_synaptic_network(mname, sname, threads=2, T=T)[0].run(T))
    assert one[0].size > N_SPLIT
    np.testing.assert_array_equal(two[0], one[0])
    np.testing.assert_array_equal(two[1], one[1])


@pytest.mark.parametrize(("mname", "sname"), _pairs(fast=set()))
def test_float32_gives_the_spike_counts_and_times_of_float64_within_the_stated_tolerance(mname, sname):
    # Feed-forward (no recurrence, which would amplify round-off into other
    # spike trains): the same counts, times within MODELS[...].t32.
    m = MODELS[mname]
    T = min(m.T, 0.1)
    ref = _synaptic_network(mname, sname, recurrent=False, T=T)[0].run(T).spike_times["p"]
    f32 = _synaptic_network(mname, sname, dtype=np.float32, recurrent=False, T=T)[0].run(T).spike_times["p"]
    _same_spikes(f32, ref, atol=m.t32)


@pytest.mark.parametrize(("mname", "sname"), REFUSED, ids=[f"{m}-{s}" for m, s in REFUSED])
def test_a_synapse_kind_a_model_does_not_take_is_refused_naming_synapse(mname, sname):
    m = MODELS[mname]
    syn, w = SYNAPSES[sname](m)
    net = Network(dt=m.dt)
    pop = net.add_population(3, m.make())
    with pytest.raises(ValueError, match="synapse"):
        net.connect(pop, pop, np.full((3, 3), w), synapse=syn, delay=2 * m.dt)
    with pytest.raises(ValueError, match="synapse"):
        net.add_input(pop, spikes=np.zeros((10, 3), dtype=bool), weights=w, synapse=syn)


@pytest.mark.parametrize(("mname", "sname"), PAIRS, ids=[f"{m}-{s}" for m, s in PAIRS])
def test_nan_weights_are_refused_naming_weights(mname, sname):
    m = MODELS[mname]
    syn, w = SYNAPSES[sname](m)
    net = Network(dt=m.dt)
    pop = net.add_population(3, m.make())
    bad = np.full((3, 3), w)
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match="weights"):
        net.connect(pop, pop, bad, synapse=syn, delay=2 * m.dt)
    with pytest.raises(ValueError, match="weights"):
        net.add_input(pop, spikes=np.zeros((10, 3), dtype=bool), weights=bad, synapse=syn)


def test_the_model_and_synapse_registries_cover_the_kinds_spikenet_accepts_today():
    # Guards the registries against silently losing pairs: every model takes
    # PSC filters, the LIF every kind, HH conductances too.
    for mname in MODELS:
        assert ACCEPT[mname, "PSCFilter(n=0)"] and ACCEPT[mname, "PSCFilter(n=1)"]
    assert all(ACCEPT["LIF", s] for s in SYNAPSES)
    assert ACCEPT["HH", "Conductance(n=0)"] and not ACCEPT["HH", "Delta"]
    # the registry holds spikenet's kinds and the ones registered outside it
    names = {"PSCFilter(n=0)", "Delta", "Conductance(n=1)", "DoubleExp(1 ms, 5 ms)", "PeakExp(5 ms)"}
    assert names <= set(SYNAPSES)


# The single rule for several crossings in one step. tau_m = 2 ms, tau_ref =
# 0.03 ms, dt = 0.1 ms: the free interval is 0.081-0.046 ms at J = 40-100
# (below one step: one spike per step, held to each step's start) and 0.133
# ms at J = 20 (above it: the exact closed-form train).
RULE_LIF = LIF(tau_m=2e-3, tau_ref=3e-5)
RULE_J = np.array([20.0, 40.0, 60.0, 100.0])
RULE_DT, RULE_T = 1e-4, 0.02
RULE_STEPS = round(RULE_T / RULE_DT)
# s: noisy paths place a crossing by linear interpolation within its step; the
# error adds up from spike to spike at J = 20, so they are checked at J >= 40,
# where every spike but the first is at a step start.
NOISE_ATOL = 2e-6


def _rule_network(extra=None):
    net = Network(dt=RULE_DT)
    n = len(RULE_J)
    kw = {"params": {"tau_m": np.full(n, RULE_LIF.tau_m)}} if extra == "params" else {}
    p = net.add_population(n, RULE_LIF, bias=RULE_J, name="p", **kw)
    # silent synapses, connected as in _synaptic_network (the same kernels)
    silent = np.zeros((RULE_STEPS, 8), dtype=bool)
    syn = {"conductance": Conductance(0.005, 6.0), "delta": Delta()}.get(extra)
    if syn is not None:
        net.add_input(p, spikes=silent, weights=np.full((n, 8), 0.002), synapse=syn)
        net.connect(p, p, np.zeros((n, n)), synapse=syn, delay=2 * RULE_DT)
    elif extra == "noise":
        net.add_input(p, noise=1e-9)
    return net.run(RULE_T).spike_times["p"]


RULE_PATHS = {
    "simulate, closed form": (lambda: simulate(RULE_LIF, RULE_J, T=RULE_T, dt=RULE_DT).spike_times,
                              SPIKE_ATOL),
    "simulate, stepped": (lambda: simulate(RULE_LIF, RULE_J, T=RULE_T, dt=RULE_DT, record=("spikes", "v"))
                          .spike_times, SPIKE_ATOL),
    "simulate, white noise": (lambda: simulate(RULE_LIF, RULE_J, T=RULE_T, dt=RULE_DT, noise=1e-9, seed=0)
                              .spike_times, NOISE_ATOL),
    "Network, LIF pass": (lambda: _rule_network(), SPIKE_ATOL),
    "Network, per-neuron parameters": (lambda: _rule_network("params"), SPIKE_ATOL),
    "Network, conductance pass": (lambda: _rule_network("conductance"), 1e-9),
    "Network, population taking voltage jumps": (lambda: _rule_network("delta"), SPIKE_ATOL),
    "Network, white noise": (lambda: _rule_network("noise"), NOISE_ATOL),
}


@pytest.mark.parametrize("path", list(RULE_PATHS))
def test_every_lif_path_spikes_once_per_step_when_the_interval_is_below_dt(path):
    run, atol = RULE_PATHS[path]
    got = run()
    first = 1 if atol == NOISE_ATOL else 0
    for j, times in zip(RULE_J[first:], got[first:], strict=True):
        want = lif_one_per_step_times(RULE_LIF, j, RULE_DT, RULE_T)
        assert len(times) == len(want)
        np.testing.assert_allclose(times, want, rtol=0, atol=atol)
    # J >= 40: after the first, a spike at the start of every step
    assert [len(t) for t in got[1:]] == [RULE_STEPS] * 3


@pytest.mark.parametrize("tau_ref", [3e-5, 0.0])
def test_a_neuron_that_spikes_on_a_voltage_jump_does_not_spike_again_in_that_step(tau_ref):
    # Held at v_th between steps (its interval is below one step), the neuron
    # is taken over threshold by jumps arriving at step starts: it spikes at
    # the arrival time and, by the rule, not again until the next step starts,
    # so its train is the one without jumps.
    lif = LIF(tau_m=2e-3, tau_ref=tau_ref)
    J = np.array([40.0, 100.0])
    net = Network(dt=RULE_DT)
    p = net.add_population(2, lif, bias=J, name="p")
    jumps = np.zeros((RULE_STEPS, 8), dtype=bool)
    jumps[10::7, 0] = True
    net.add_input(p, spikes=jumps, weights=np.full((2, 8), 0.5), synapse=Delta())
    net.connect(p, p, np.zeros((2, 2)), synapse=Delta(), delay=2 * RULE_DT)  # the kernel of _rule_network
    out = net.run(RULE_T)
    for j, times in zip(J, out.spike_times["p"], strict=True):
        want = lif_one_per_step_times(lif, j, RULE_DT, RULE_T)
        assert len(times) == len(want) == RULE_STEPS
        np.testing.assert_allclose(times, want, rtol=0, atol=SPIKE_ATOL)
    assert out.spike_raster("p").sum(axis=0).tolist() == [RULE_STEPS, RULE_STEPS]
