"""Networks of NeuronModel populations (Izhikevich, AdEx, user models): coupling, threads, runs, errors.

The single-population contract (simulate equals a one-population Network) is
in test_contract.py; here the coupled dynamics are checked against an
independent scipy ``solve_ivp`` integration, and the engine's bookkeeping
(parts on threads, batch copies, continued runs, float32, per-neuron
parameters, ``set``/``reset``) against plain runs.
"""

import gc
import itertools
import weakref

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from spikenet.sim import LIF, AdEx, Izhikevich, Network, PSCFilter, simulate
from tests.sim.allocating_model import ScratchPerfectIF
from tests.sim.extending_example import PerfectIF


def _izh_reference(model, drive, T, t0=0.0, v0=None, u0=None):
    """Spike times of one Izhikevich neuron with drive ``drive(t)`` (t in s), by solve_ivp at rtol 1e-10.

    ``drive`` is smooth between the times in ``drive.breaks`` (the synaptic
    jumps), where the integration restarts.
    """
    v = model.v_init if v0 is None else v0
    u = model.b * v if u0 is None else u0

    def rhs(t, y):
        vv, uu = y
        dv = 0.04 * vv * vv + 5.0 * vv + 140.0 - uu + drive(t)
        return [1e3 * dv, 1e3 * model.a * (model.b * vv - uu)]

    def peak(t, y):
        return y[0] - model.v_peak

    peak.terminal = True
    peak.direction = 1
    bounds = np.concatenate([[t0], [b for b in getattr(drive, "breaks", []) if t0 < b < T], [T]])
    spikes = []
    for lo, hi in itertools.pairwise(bounds):
        t = lo
        while t < hi:
            sol = solve_ivp(rhs, (t, hi), [v, u], method="DOP853", rtol=1e-10, atol=1e-10, events=peak,
                            max_step=1e-4)
            if sol.status == 1:
                ts = sol.t_events[0][0]
                spikes.append(ts)
                v, u = model.c, sol.y_events[0][0][1] + model.d
                t = ts
            else:
                v, u = sol.y[0, -1], sol.y[1, -1]
                t = hi
    return np.array(spikes)


class _PSCDrive:
    """Bias plus the current of a single-stage PSC filter fed by spikes arriving at given times."""

    def __init__(self, bias, arrivals, weights, tau_s):
        self.bias, self.tau_s = bias, tau_s
        self.arrivals, self.weights = np.asarray(arrivals), np.asarray(weights)
        self.breaks = np.unique(self.arrivals)

    def __call__(self, t):
        past = self.arrivals <= t
        return self.bias + np.sum(self.weights[past] / self.tau_s
                                  * np.exp(-(t - self.arrivals[past]) / self.tau_s))


def test_two_izhikevich_populations_coupled_by_psc_synapses_match_a_solve_ivp_integration():
    dt, T, tau_s = 1e-4, 0.3, 0.005
    model = Izhikevich()
    bias_a = np.array([8.0, 12.0])
    W = np.array([[0.05, 0.04], [0.06, -0.02]])  # (post, pre), drive x s
    bias_b = np.array([3.0, 6.0])  # neuron 0 is silent without its input
    net = Network(dt=dt)
    a = net.add_population(2, model, bias=bias_a, name="a")
    b = net.add_population(2, model, bias=bias_b, name="b")
    net.connect(a, b, W, synapse=PSCFilter(tau_s))
    res = net.run(T)
    pre = res.spike_times["a"]
    for i in range(2):
        ref = _izh_reference(model, lambda t, i=i: bias_a[i], T)
        assert len(ref) == len(pre[i]) > 5
        np.testing.assert_allclose(pre[i], ref, rtol=0, atol=2e-6)
    # each pre spike of step k reaches the targets at the start of step k + 1
    arrivals, pre_of = [], []
    for j in range(2):
        steps = np.floor(pre[j] / dt + 1e-6)
        arrivals.extend((steps + 1) * dt)
        pre_of.extend([j] * len(steps))
    arrivals, pre_of = np.array(arrivals), np.array(pre_of)
    post = res.spike_times["b"]
    for i in range(2):
        ref = _izh_reference(model, _PSCDrive(bias_b[i], arrivals, W[i, pre_of], tau_s), T)
        assert len(ref) == len(post[i]) > 3
        # the network holds the step-averaged synaptic current over each step
        # (observed error 1.6e-7 s at dt = 0.1 ms)
        np.testing.assert_allclose(post[i], ref, rtol=0, atol=1e-6)


def _mixed_network(**kw):
    """Izhikevich, AdEx and LIF populations, sparse and dense connections, a time-varying input."""
    rng = np.random.default_rng(3)
    net = Network(dt=1e-4, seed=1, **kw)
    B = kw.get("batch") or 1
    shape = (B, 150) if kw.get("batch") else (150,)
    izh = net.add_population(150, Izhikevich(), bias=rng.uniform(4.0, 14.0, shape), name="izh",
                             params={"d": rng.uniform(2.0, 8.0, 150)})
    adex = net.add_population(150, AdEx(), bias=rng.uniform(500.0, 1200.0, shape), name="adex")
    lif = net.add_population(70, LIF(), bias=1.2, name="lif")
    net.connect(izh, adex, 20.0 * 1e-3, synapse=PSCFilter(0.005), p=0.1)
    net.connect(adex, izh, rng.normal(0.0, 0.05, (150, 150)), synapse=PSCFilter(0.003, n=1), delay=5e-4)
    net.connect(izh, lif, 0.002, synapse=PSCFilter(0.005), p=0.2)
    net.connect(lif, izh, 0.05, synapse=PSCFilter(0.002), p=0.2)
    net.add_input(izh, current=lambda t: 2.0 * np.sin(2 * np.pi * 7.0 * t) * np.ones(150))
    return net


RECORD = {"izh": ["v", "u", "I_syn"], "adex": ["v", "w"]}


def _same(r1, r2, pops=("izh", "adex", "lif"), record=RECORD):
    for p in pops:
        for x, y in zip(r1.spike_times[p], r2.spike_times[p], strict=True):
            np.testing.assert_array_equal(x, y)
    for p, states in record.items():
        for s in states:
            np.testing.assert_array_equal(r1[p, s], r2[p, s])


@pytest.mark.slow  # a kernel specialisation of its own: ~10 s of compile on an empty cache
def test_a_network_split_over_two_threads_equals_one_thread_bit_for_bit():
    one = _mixed_network(threads=1).run(0.1, record=RECORD)
    two = _mixed_network(threads=2).run(0.1, record=RECORD)
    assert sum(len(x) for x in one.spike_times["izh"]) > 100
    assert sum(len(x) for x in one.spike_times["adex"]) > 100
    _same(one, two)


@pytest.mark.slow  # a kernel specialisation of its own: ~10 s of compile on an empty cache
def test_batch_copies_equal_separate_runs():
    rng = np.random.default_rng(5)
    bias = rng.uniform(3.0, 15.0, (2, 20))
    net = Network(dt=1e-4, batch=2)
    p = net.add_population(20, Izhikevich(), bias=bias, name="p")
    net.connect(p, p, 0.01, synapse=PSCFilter(0.005), p=0.3)
    W = net.connections[0].weights
    res = net.run(0.1, record={"p": "u"})
    for b in range(2):
        one = Network(dt=1e-4)
        q = one.add_population(20, Izhikevich(), bias=bias[b], name="p")
        one.connect(q, q, W, synapse=PSCFilter(0.005))
        r = one.run(0.1, record={"p": "u"})
        for x, y in zip(res.spike_times["p"][b], r.spike_times["p"], strict=True):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(res["p", "u"][:, b], r["p", "u"])


def test_two_runs_continue_exactly_like_one():
    net = _mixed_network()
    a = net.run(0.04, record=RECORD)
    b = net.run(0.06, record=RECORD)
    whole = _mixed_network().run(0.1, record=RECORD)
    for p in ("izh", "adex", "lif"):
        for x, y, z in zip(a.spike_times[p], b.spike_times[p], whole.spike_times[p], strict=True):
            np.testing.assert_array_equal(np.concatenate([x, y]), z)
    for p, states in RECORD.items():
        for s in states:
            np.testing.assert_array_equal(np.concatenate([a[p, s], b[p, s]]), whole[p, s])


@pytest.mark.slow  # a kernel specialisation of its own: ~10 s of compile on an empty cache
def test_float32_network_stays_close_to_float64():
    # uncoupled, so that a spike moved by rounding does not change the others
    rng = np.random.default_rng(9)
    J = rng.uniform(4.0, 14.0, 30)
    out = {}
    for f in (np.float64, np.float32):
        net = Network(dt=1e-4, dtype=f)
        net.add_population(30, Izhikevich(), bias=J, name="p")
        out[f] = net.run(0.3, record={"p": "v"})
    n64 = [len(x) for x in out[np.float64].spike_times["p"]]
    assert sum(n64) > 100
    for x, y in zip(out[np.float64].spike_times["p"], out[np.float32].spike_times["p"], strict=True):
        assert len(x) == len(y)
        np.testing.assert_allclose(x, y, rtol=0, atol=2e-5)  # 0.2 steps


@pytest.mark.slow  # a kernel specialisation of its own: ~10 s of compile on an empty cache
def test_per_neuron_parameters_equal_separate_populations():
    rng = np.random.default_rng(11)
    n = 6
    a = rng.uniform(0.02, 0.1, n)
    c = rng.uniform(-65.0, -50.0, n)
    J = rng.uniform(5.0, 15.0, n)
    net = Network(dt=1e-4)
    net.add_population(n, Izhikevich(), bias=J, name="p", params={"a": a, "c": c})
    res = net.run(0.3, record={"p": "u"})
    for i in range(n):
        one = simulate(Izhikevich(a=a[i], c=c[i]), J[i], T=0.3, dt=1e-4, record=("spikes", "u"))
        assert len(one.spike_times[0]) > 3
        np.testing.assert_allclose(res.spike_times["p"][i], one.spike_times[0], rtol=0, atol=1e-12)
        np.testing.assert_array_equal(res["p", "u"][:, i], one.u[:, 0])


@pytest.mark.slow  # a kernel specialisation of its own: ~10 s of compile on an empty cache
def test_per_neuron_initial_parameters_set_the_initial_state():
    v_init = np.array([-70.0, -60.0, -50.0])
    b = np.array([0.2, 0.25, 0.3])
    net = Network(dt=1e-4)
    net.add_population(3, Izhikevich(), name="p", params={"v_init": v_init, "b": b})
    res = net.run(1e-4, record={"p": ["v", "u"]})
    np.testing.assert_array_equal(res["p", "v"][0], v_init)
    np.testing.assert_array_equal(res["p", "u"][0], b * v_init)


@pytest.mark.slow  # a kernel specialisation of its own: ~10 s of compile on an empty cache
def test_set_and_reset_of_a_model_population():
    def build():
        net = Network(dt=1e-4)
        net.add_population(4, AdEx(), bias=800.0, name="p")
        return net

    net = build()
    first = net.run(0.1)
    net.set("p", b=np.array([0.0, 40.0, 80.5, 160.0]), w=0.0)
    second = net.run(0.1, record={"p": "w"})
    assert second["p", "w"][0].tolist() == [0.0] * 4
    rates = second.rates("p")
    assert rates[0] > rates[1] > rates[2] > rates[3]  # more adaptation, fewer spikes
    net.reset()
    again = net.run(0.1)
    # after reset: t = 0 and the initial state, the new parameters kept
    ref = build()
    ref.set("p", b=np.array([0.0, 40.0, 80.5, 160.0]))
    fresh = ref.run(0.1)
    for x, y in zip(again.spike_times["p"], fresh.spike_times["p"], strict=True):
        np.testing.assert_array_equal(x, y)
    assert first.spike_times["p"][0][0] == again.spike_times["p"][0][0]


@pytest.mark.slow  # a kernel specialisation of its own: ~10 s of compile on an empty cache
def test_perfect_if_defined_outside_spikenet_runs_in_a_network_with_its_closed_form_rate():
    net = Network(dt=1e-4)
    net.add_population(3, PerfectIF(), bias=np.array([20.0, 50.0, 125.0]), name="p",
                       params={"c_m": np.array([1.0, 1.0, 0.5])})
    res = net.run(0.99)
    # period c_m v_th / I: 50, 20 and 4 ms
    for times, period in zip(res.spike_times["p"], (0.05, 0.02, 0.004), strict=True):
        expected = period * np.arange(1, int(0.99 / period) + 1)
        assert len(times) == len(expected)
        np.testing.assert_allclose(times, expected, rtol=0, atol=1e-12)


def _model_into_lif(model, n_lif=2, batch=None):
    """A model population driving a LIF population through a PSC synapse (both kinds in one kernel)."""
    net = Network(dt=1e-4, batch=batch)
    p = net.add_population(3, model, bias=np.array([20.0, 50.0, 125.0]), name="p",
                           params={"c_m": np.array([1.0, 1.0, 0.5])})
    q = net.add_population(n_lif, LIF(), bias=0.5, name="q")
    net.connect(p, q, 0.02 * np.ones((n_lif, 3)), synapse=PSCFilter(0.005))
    return net


def test_a_model_whose_step_makes_arrays_runs_in_a_network_and_equals_the_same_model_without():
    # the network kernel counts no references; the model's helper must, for np.empty in its step
    res = _model_into_lif(ScratchPerfectIF()).run(0.99)
    ref = _model_into_lif(PerfectIF()).run(0.99)
    for times, period in zip(res.spike_times["p"], (0.05, 0.02, 0.004), strict=True):
        expected = period * np.arange(1, int(0.99 / period) + 1)
        np.testing.assert_allclose(times, expected, rtol=0, atol=1e-12)
    assert sum(len(t) for t in ref.spike_times["q"]) > 0
    for name in ("p", "q"):
        for a, b in zip(res.spike_times[name], ref.spike_times[name], strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("batch", [None, 2])
def test_a_deleted_network_frees_its_arrays_after_running_through_the_kernel(batch):
    # Reference counts across the kernel (compiled without counting), the
    # parallel wrapper of batch copies and the model helpers (with): a count
    # raised and never lowered would keep the network's arrays alive after
    # the network is gone.
    net = _model_into_lif(ScratchPerfectIF(), batch=batch)
    res = net.run(2e-3)
    res = net.run(2e-3)
    arrays = [weakref.ref(a) for a in net._built.values() if isinstance(a, np.ndarray)]
    assert len(arrays) > 20
    del net, res
    gc.collect()
    assert [r for r in arrays if r() is not None] == []


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"params": {"a": np.ones(3)}}, r"params\['a'\] must have shape \(4,\)"),
    ({"params": {"aa": 0.1}}, "params key"),
    ({"params": {"a": np.array([0.02, 0.02, -1.0, 0.02])}}, "params: Izhikevich rejects"),
    ({"params": {"c": np.array([0.0, np.nan, 0.0, 0.0])}}, r"params\['c'\]"),
    ({"init": {"w": 0.0}}, "init key"),
])
def test_bad_model_population_input_raises_named_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Network().add_population(4, Izhikevich(), **kwargs)


def test_bad_record_state_set_value_and_synapse_kind_raise_named_errors():
    net = Network()
    net.add_population(4, Izhikevich(), name="p")
    with pytest.raises(ValueError, match=r"record\['p'\] state"):
        net.run(0.01, record={"p": "w"})
    with pytest.raises(ValueError, match=r"params\['a'\] must have shape \(4,\)"):
        net.set("p", a=np.ones(2))
    with pytest.raises(TypeError, match="params must be a dict"):
        Network().add_population(3, Izhikevich(), params=[("a", 0.1)])
