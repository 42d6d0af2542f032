"""connect(pre, post, SynapseList): every synapse kept with its own weight and delay, multapses included."""

import numpy as np
import pytest
import scipy.sparse as sp

from spikenet.sim import LIF, Delta, Network, PSCFilter, SpikeSource
from spikenet.sim.connectivity import SynapseList, fixed_indegree

DT = 1e-4
COUNTER = LIF(tau_m=1e6, tau_ref=0.0, v_th=1e9, v_reset=0.0)  # no decay to speak of, no threshold


def test_each_synapse_of_a_multapse_arrives_at_its_own_delay_with_its_own_weight():
    # pre 0 spikes in step 10, pre 1 in step 20; a spike of step k reaches a synapse with
    # delay d at the start of step k + 1 + d / dt
    syn = SynapseList(pre=np.array([0, 0, 0, 1, 1]), post=np.array([0, 0, 0, 1, 0]), shape=(2, 2),
                      weight=np.array([0.25, 0.5, 0.125, 1.0, 2.0]),
                      delay=np.array([0.001, 0.003, 0.003, 0.0005, 0.002]))
    net = Network(dt=DT)
    s = net.add_population(2, SpikeSource([[10 * DT], [20 * DT]]), name="s")
    post = net.add_population(2, COUNTER, name="post")
    conn = net.connect(s, post, syn, synapse=Delta())
    v = net.run(0.006, record={"post": "v"})["post", "v"]
    jumps = np.diff(v, axis=0)
    expected = np.zeros_like(jumps)
    expected[21 - 1, 0] = 0.25  # row k - 1 of the diff: the jump recorded at step k
    expected[41 - 1, 0] = 0.5 + 0.125 + 2.0
    expected[26 - 1, 1] = 1.0
    assert np.allclose(jumps, expected, atol=1e-9)
    # the connection keeps one stored entry per synapse, delays aligned with the weights
    w, d = conn.weights, conn.delay
    assert w.nnz == 5 and np.allclose(w.toarray(), [[0.875, 2.0], [0.0, 1.0]])
    cw, cd = w.tocoo(), d.tocoo()
    got = sorted(zip(cw.col, cw.row, np.round(cw.data, 12), np.round(cd.data, 12)))
    assert got == sorted(zip(syn.pre, syn.post, syn.weight, syn.delay))


def _split_into_connections(net, pre, post, syn, synapse):
    """The k-th synapse of every (pre, post) pair into the k-th connection (one delay per pair each)."""
    order = np.lexsort((syn.post, syn.pre))
    layer = np.empty(len(syn), np.int64)
    seen = {}
    for e in order:
        key = (syn.pre[e], syn.post[e])
        layer[e] = seen.get(key, 0)
        seen[key] = layer[e] + 1
    for k in range(layer.max() + 1):
        sel = layer == k
        ij = (syn.post[sel], syn.pre[sel])
        net.connect(pre, post, sp.csr_matrix((syn.weight[sel], ij), shape=syn.shape), synapse=synapse,
                    delay=sp.csr_matrix((syn.delay[sel], ij), shape=syn.shape))
    return int(layer.max()) + 1


def _multapse_net(split, threads=1):
    rng = np.random.default_rng(2)
    n_pre, n_post = 40, 30
    # weights on a coarse binary grid and a synapse with tau_s = 2^-7 s: every sum of inputs is
    # exact, so the order in which the synapses are added cannot matter
    syn = fixed_indegree(n_pre, n_post, 25, multapses=True, seed=3,
                         weight=rng.integers(1, 9, n_post * 25) / 256,
                         delay=rng.integers(1, 40, n_post * 25) * DT)
    net = Network(dt=DT, threads=threads)
    a = net.add_population(n_pre, LIF(tau_m=0.02), bias=np.linspace(1.05, 1.6, n_pre), name="a")
    b = net.add_population(n_post, LIF(tau_m=0.01, tau_ref=0.002), bias=0.5, name="b")
    synapse = PSCFilter(2.0 ** -7)
    layers = _split_into_connections(net, a, b, syn, synapse) if split else 1
    if not split:
        net.connect(a, b, syn, synapse=synapse)
    return net, layers


def test_a_synapse_list_equals_the_split_into_connections_construction_bit_for_bit():
    one, _ = _multapse_net(split=False)
    many, layers = _multapse_net(split=True)
    assert layers >= 3 and len(one.connections) == 1
    r1 = one.run(0.3, record={"b": "v"})
    r2 = many.run(0.3, record={"b": "v"})
    assert sum(len(t) for t in r1.spike_times["b"]) > 50
    assert all(np.array_equal(x, y) for x, y in zip(r1.spike_times["b"], r2.spike_times["b"]))
    assert np.array_equal(r1["b", "v"], r2["b", "v"])


@pytest.mark.slow  # compiles the split kernel with per-synapse delays
def test_a_synapse_list_over_two_threads_equals_one_thread_bit_for_bit():
    one, _ = _multapse_net(split=False)
    two, _ = _multapse_net(split=False, threads=2)
    r1, r2 = one.run(0.3, record={"b": "v"}), two.run(0.3, record={"b": "v"})
    assert all(np.array_equal(x, y) for x, y in zip(r1.spike_times["b"], r2.spike_times["b"]))
    assert np.array_equal(r1["b", "v"], r2["b", "v"])


def test_a_synapse_list_without_delays_takes_the_connections_delay():
    syn = SynapseList(np.array([0, 0]), np.array([0, 0]), (1, 1), weight=np.array([0.25, 0.5]))
    net = Network(dt=DT)
    s = net.add_population(1, SpikeSource([[10 * DT]]), name="s")
    post = net.add_population(1, COUNTER, name="post")
    net.connect(s, post, syn, synapse=Delta(), delay=0.002)
    v = net.run(0.004, record={"post": "v"})["post", "v"][:, 0]
    assert int(np.argmax(v > 0.7)) == 10 + 1 + 20 and v[-1] == pytest.approx(0.75)


def test_bad_synapse_lists_raise_errors_naming_the_argument():
    net = Network(dt=DT)
    a = net.add_population(3, LIF(), name="a")
    b = net.add_population(2, LIF(), name="b")
    ok = SynapseList(np.array([0, 2]), np.array([1, 1]), (2, 3), np.array([0.1, 0.2]),
                     np.array([0.001, 0.002]))
    with pytest.raises(ValueError, match="weights"):
        net.connect(b, a, ok)  # shape (post.n, pre.n) = (3, 2)
    with pytest.raises(ValueError, match="weights"):
        net.connect(a, b, SynapseList(ok.pre, ok.post, (2, 3)))  # no weights
    with pytest.raises(ValueError, match="weights"):
        net.connect(a, b, SynapseList(np.array([0, 3]), ok.post, (2, 3), ok.weight))  # pre out of range
    with pytest.raises(ValueError, match="weights"):
        net.connect(a, b, SynapseList(ok.pre, ok.post, (2, 3), np.array([0.1, np.nan])))
    with pytest.raises(ValueError, match="delay"):
        net.connect(a, b, ok, delay=0.001)  # the list has its own delays
    with pytest.raises(ValueError, match="delay"):
        net.connect(a, b, SynapseList(ok.pre, ok.post, (2, 3), ok.weight, np.array([0.001, -1.0])))
    with pytest.raises(ValueError, match="p"):
        net.connect(a, b, ok, p=0.5)
    assert net.connections == []


def test_set_weights_of_a_multapse_connection_keeps_each_synapse():
    syn = SynapseList(np.array([0, 0, 1]), np.array([0, 0, 0]), (1, 2), np.array([0.25, 0.5, 1.0]))
    net = Network(dt=DT)
    s = net.add_population(2, SpikeSource([[10 * DT], []]), name="s")
    post = net.add_population(1, COUNTER, name="post")
    conn = net.connect(s, post, syn, synapse=Delta())
    net.set_weights(conn, conn.weights * 4.0)  # entry by entry: 1.0, 2.0 and 4.0
    assert np.array_equal(conn.weights.tocoo().data, [1.0, 2.0, 4.0])
    with pytest.raises(ValueError, match="W"):
        net.set_weights(conn, syn.to_sparse())  # the multapse added up: another pattern
    v = net.run(0.003, record={"post": "v"})["post", "v"][:, 0]
    assert v[-1] == pytest.approx(3.0)
