"""STDP on connections whose pre-synaptic population is a spike source (SpikeSource, PoissonSource).

The final weights must equal the event-by-event pair sums of
``plasticity_reference.py`` computed from the source's spike times (arrival =
emission + delay) and the recorded post-synaptic spikes, to rounding.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from spikenet.sim import LIF, STDP, Network, PoissonSource, PSCFilter, SpikeSource

from .plasticity_reference import pair_sum_weight, synapse_weight

DT = 1e-4
T = 0.5
N_PRE = 10
W0 = 2e-3


@pytest.fixture(scope="module")
def source_net():
    rng = np.random.default_rng(4)
    # spike times on the grid (the source rounds a time to its step)
    times = [np.unique(rng.integers(1, round(T / DT), 20)) * DT for _ in range(N_PRE)]
    net = Network(dt=DT, seed=5)
    given = net.add_population(N_PRE, SpikeSource(times), name="given")
    poisson = net.add_population(N_PRE, PoissonSource(40.0), name="poisson")
    a = net.add_population(3, LIF(tau_ref=0.002), bias=np.array([1.1, 1.3, 1.6]), name="a")
    b = net.add_population(3, LIF(tau_ref=0.002), bias=np.array([1.2, 1.4, 1.5]), name="b")
    Wa = W0 * (1.0 + 0.1 * rng.random((3, N_PRE)))
    mask = rng.random((3, N_PRE)) < 0.6
    Wb = sp.csr_matrix(np.where(mask, W0 * (1.0 + 0.1 * rng.random((3, N_PRE))), 0.0))
    conns = {
        "given": (net.connect(given, a, Wa, synapse=PSCFilter(0.005), delay=2 * DT,
                              plasticity=STDP(a_pre=3e-5, a_post=-3.15e-5)), Wa, 2),
        "poisson": (net.connect(poisson, b, Wb, synapse=PSCFilter(0.003), delay=3 * DT,
                                plasticity=STDP(a_pre=1e-4, a_post=-1e-4, mode="nearest")), Wb, 3),
    }
    first = net.run(T / 2)
    second = net.run(T / 2)  # two runs: the traces carry over
    spikes = {p.name: [np.concatenate([x, y]) for x, y in zip(first.spike_times[p.name],
                                                             second.spike_times[p.name])]
              for p in net.populations}
    assert all(np.allclose(s, t) for s, t in zip(spikes["given"], times))  # the source emitted its times
    return conns, spikes


def _reference(conn, W, d, pre_times, post_times, weight_fn):
    W = W.toarray() if sp.issparse(W) else W
    ref = np.zeros_like(W)
    for i, j in zip(*np.nonzero(W)):
        arr = pre_times[j] + d * DT
        arr = arr[arr <= T + 1e-12]
        ref[i, j] = weight_fn(W[i, j], arr, post_times[i], conn.plasticity)
    return ref


@pytest.mark.parametrize("name", ["given", "poisson"])
def test_stdp_from_a_source_population_equals_event_by_event_pair_sums(source_net, name):
    conns, spikes = source_net
    conn, W, d = conns[name]
    post = conn.post.name
    got = conn.weights
    got = got.toarray() if sp.issparse(got) else got
    W0_ = W.toarray() if sp.issparse(W) else W
    assert sum(len(s) for s in spikes[post]) > 20 and sum(len(s) for s in spikes[name]) > 50
    assert np.max(np.abs(got - W0_)) > 1e-6  # the weights moved
    ref = _reference(conn, W, d, spikes[name], spikes[post], synapse_weight)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-14)
    if name == "given":  # additive all-to-all without bounds: also the closed-form pair sum
        closed = _reference(conn, W, d, spikes[name], spikes[post], pair_sum_weight)
        np.testing.assert_allclose(got, closed, rtol=0, atol=1e-14)


def test_stdp_on_multapses_from_a_synapse_list_learns_each_synapse_on_its_own():
    # NEST semantics: the synapses of one pair see the same spikes but keep their own weights
    from spikenet.sim.connectivity import SynapseList

    rng = np.random.default_rng(6)
    times = [np.unique(rng.integers(1, round(T / DT), 20)) * DT for _ in range(4)]
    net = Network(dt=DT)
    g = net.add_population(4, SpikeSource(times), name="g")
    a = net.add_population(2, LIF(tau_ref=0.002), bias=np.array([1.2, 1.5]), name="a")
    pre, post = np.array([0, 0, 1, 2, 2, 3]), np.array([0, 0, 1, 0, 0, 1])
    w0 = np.array([2e-3, 3e-3, 2e-3, 1e-3, 2.5e-3, 2e-3])
    rule = STDP(a_pre=3e-5, a_post=-3.15e-5)
    conn = net.connect(g, a, SynapseList(pre, post, (2, 4), w0, np.full(6, 2 * DT)), plasticity=rule)
    res = net.run(T)
    got = conn.weights.tocoo()  # one stored entry per synapse, a pair's synapses in the list's order
    assert got.nnz == 6
    ref = [synapse_weight(w0[e], times[pre[e]] + 2 * DT, res.spike_times["a"][post[e]], rule)
           for e in range(6)]
    order = np.lexsort((pre, post))  # the entries' order: post, then pre, then the list's order
    assert np.array_equal(got.row, post[order]) and np.array_equal(got.col, pre[order])
    assert np.abs(got.data - w0[order]).min() > 1e-6  # every synapse learnt
    np.testing.assert_allclose(got.data, np.array(ref)[order], rtol=0, atol=1e-14)
    # the weights round-trip through set_weights, entry by entry
    net.set_weights(conn, conn.weights * 2.0)
    np.testing.assert_allclose(conn.weights.tocoo().data, 2.0 * got.data, rtol=0, atol=1e-15)
