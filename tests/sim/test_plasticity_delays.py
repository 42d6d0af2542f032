"""STDP with per-synapse delays and on two threads, against spike-time references.

One recurrent network (a relay population of input spikes, 200 LIF neurons
with plastic recurrent synapses, small target populations) holds every case,
so that the default run compiles one kernel per thread count. Each synapse's
pre events are the pre spikes shifted by its own delay; the final weights must
equal the event-by-event reference of ``plasticity_reference.py`` computed
from the recorded spike times.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from spikenet.sim import LIF, STDP, Delta, Network, PSCFilter, TripletSTDP

from .plasticity_reference import connection_weights

DT = 1e-4
T_RUN = 0.25
N_PRE = 8
N_E = 200
W0 = 2e-3


def _spec(seed=3):
    """The random parts of the network: input raster, weights and delays (steps 1..20)."""
    rng = np.random.default_rng(seed)
    spec = {"raster": rng.random((round(T_RUN / DT), N_PRE)) < 60.0 * DT,
            "bias": rng.uniform(0.95, 1.25, N_E)}
    spec["W_in"] = W0 * (1.0 + 0.5 * rng.random((N_E, N_PRE)))
    spec["D_in"] = rng.integers(1, 21, (N_E, N_PRE)) * DT
    mask = rng.random((N_E, N_E)) < 0.05
    np.fill_diagonal(mask, False)
    spec["W_ee"] = sp.csr_matrix(np.where(mask, 5e-4 * (1.0 + rng.random((N_E, N_E))), 0.0))
    spec["D_ee"] = sp.csr_matrix(np.where(mask, rng.integers(1, 21, (N_E, N_E)) * DT, 0.0))
    tri = rng.random((3, N_PRE)) < 0.7
    spec["W_tri"] = sp.csr_matrix(np.where(tri, W0 * (1.0 + 0.1 * rng.random((3, N_PRE))), 0.0))
    spec["D_tri"] = sp.csr_matrix(np.where(tri, rng.integers(1, 21, (3, N_PRE)) * DT, 0.0))
    spec["W_fix"] = W0 * (1.0 + 0.1 * rng.random((3, N_PRE)))
    spec["D_fix"] = rng.integers(1, 21, (3, N_PRE)) * DT
    return spec


RULES = {
    "in": STDP(a_pre=4e-5, a_post=-4.2e-5),
    "ee": STDP(a_pre=0.02, a_post=-0.021, w_max=2e-3, rule="multiplicative", mode="nearest"),
    "tri": TripletSTDP(a2_plus=5e-6, a3_plus=6.2e-5, a2_minus=7e-5, a3_minus=2.3e-6),
    "zero": STDP(a_pre=0.0, a_post=0.0),
}


def run_network(spec, threads=1):
    """Build and run the test network; returns (connections, spike times per population, result)."""
    net = Network(dt=DT, threads=threads)
    pre = net.add_population(N_PRE, LIF(tau_ref=0.0, v_reset=0.0), name="pre")
    net.add_input(pre, spikes=spec["raster"], weights=np.eye(N_PRE) * 2.0, synapse=Delta())
    e = net.add_population(N_E, LIF(tau_ref=0.002), bias=spec["bias"], name="e")
    tri = net.add_population(3, LIF(tau_ref=0.002), bias=np.array([1.1, 1.3, 1.6]), name="tri")
    # the same input into two identical populations, plastic (zero amplitudes) and fixed
    zero = net.add_population(3, LIF(tau_ref=0.002), bias=np.array([1.1, 1.3, 1.6]), name="zero")
    fix = net.add_population(3, LIF(tau_ref=0.002), bias=np.array([1.1, 1.3, 1.6]), name="fix")
    syn = PSCFilter(0.005)
    conns = {
        "in": net.connect(pre, e, spec["W_in"], synapse=syn, delay=spec["D_in"], plasticity=RULES["in"]),
        "ee": net.connect(e, e, spec["W_ee"], synapse=syn, delay=spec["D_ee"], plasticity=RULES["ee"]),
        "tri": net.connect(pre, tri, spec["W_tri"], synapse=Delta(), delay=spec["D_tri"],
                           plasticity=RULES["tri"]),
        "zero": net.connect(pre, zero, spec["W_fix"], synapse=syn, delay=spec["D_fix"],
                            plasticity=RULES["zero"]),
        "fix": net.connect(pre, fix, spec["W_fix"], synapse=syn, delay=spec["D_fix"]),
    }
    res = net.run(T_RUN, record={conns["ee"]: "w"}, record_every=0.05)
    return conns, res.spike_times, res


@pytest.fixture(scope="module")
def one_thread():
    spec = _spec()
    return spec, *run_network(spec)


def _dense(x):
    return x.toarray() if sp.issparse(x) else np.asarray(x)


CASES = {"in": ("pre", "e", "W_in", "D_in"), "ee": ("e", "e", "W_ee", "D_ee"),
         "tri": ("pre", "tri", "W_tri", "D_tri")}


@pytest.mark.parametrize("name", list(CASES))
def test_stdp_with_per_synapse_delays_equals_event_by_event_reference(one_thread, name):
    spec, conns, st, _ = one_thread
    src, dst, wk, dk = CASES[name]
    W, D = _dense(spec[wk]), _dense(spec[dk])
    assert len(np.unique(D[W != 0])) > 10  # many different delays
    ref = connection_weights(W, st[src], st[dst], D, RULES[name], T_RUN)
    got = _dense(conns[name].weights)
    assert sum(len(s) for s in st[dst]) > 10  # the post neurons fire
    assert np.max(np.abs(got - W)) > 1e-6  # the weights moved
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    # the reference with one delay for all synapses (the mean) is far off: the test sees the delays
    far = connection_weights(W, st[src], st[dst], np.rint(D[W != 0].mean() / DT) * DT, RULES[name], T_RUN)
    assert np.max(np.abs(far - ref)) > 1e-3 * np.max(np.abs(ref - W))


def test_plastic_synapses_deliver_at_their_own_delays(one_thread):
    # zero-amplitude STDP: the plasticity pass delivers each synapse's spikes; a fixed copy, delivered
    # by the kernel's delay ring, must give the same post-synaptic spikes
    _, conns, st, _ = one_thread
    assert sum(len(s) for s in st["fix"]) > 10
    for a, b in zip(st["zero"], st["fix"]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(conns["zero"].weights, _dense(conns["fix"].weights))
    np.testing.assert_allclose(conns["zero"].delay, conns["fix"].delay, rtol=1e-12)


def test_one_step_change_of_one_synapse_delay_changes_its_weight(one_thread):
    spec, conns, _, _ = one_thread
    W = _dense(spec["W_tri"])
    i, j = np.argwhere(W != 0)[0]
    changed = dict(spec)
    D = _dense(spec["D_tri"])
    D[i, j] += DT
    changed["D_tri"] = sp.csr_matrix(np.where(W != 0, D, 0.0))
    conns2, st2, _ = run_network(changed)
    w1, w2 = _dense(conns["tri"].weights), _dense(conns2["tri"].weights)
    assert abs(w2[i, j] - w1[i, j]) > 1e-9
    ref = connection_weights(W, st2["pre"], st2["tri"], D, RULES["tri"], T_RUN)
    np.testing.assert_allclose(w2, ref, rtol=0, atol=1e-12)


def test_two_threads_give_the_same_weights_and_spikes_bit_for_bit(one_thread):
    spec, conns1, _, res1 = one_thread
    conns2, _, res2 = run_network(spec, threads=2)
    for name in conns1:
        np.testing.assert_array_equal(_dense(conns2[name].weights), _dense(conns1[name].weights))
    rec1, rec2 = res1[conns1["ee"], "w"], res2[conns2["ee"], "w"]
    assert rec1.shape == (5, spec["W_ee"].nnz) and np.any(rec1[-1] != rec1[0])
    np.testing.assert_array_equal(rec2, rec1)  # recorded by the first thread, between the steps' updates
    for pop in ("pre", "e", "tri", "zero", "fix"):
        for a, b in zip(res1.spike_times[pop], res2.spike_times[pop]):
            np.testing.assert_array_equal(a, b)
    assert sum(len(s) for s in res1.spike_times["e"]) > 100
