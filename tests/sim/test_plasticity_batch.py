"""STDP in a batched network: each copy learns its own weights.

Copy ``b`` of a batch, driven by row ``b`` of a batched input raster, must
give the same weights and spikes, bit for bit, as an unbatched network
driven by that row alone (dense, sparse and per-synapse-delay connections;
a rebuild between the runs by ``Network.set``, which restarts from each
copy's learnt weights).
"""

import numpy as np
import pytest
import scipy.sparse as sp

from spikenet.sim import LIF, STDP, Delta, Network

DT = 1e-4
B = 3


def _build(batch, raster, w, ws, d):
    net = Network(dt=DT, batch=batch)
    pre = net.add_population(6, LIF(tau_ref=0.0, v_reset=0.0), name="pre")
    net.add_input(pre, spikes=raster, weights=np.eye(6) * 2.0, synapse=Delta())
    post = net.add_population(4, LIF(tau_ref=0.002), bias=np.array([1.1, 1.3, 1.5, 1.6]), name="post")
    rule = STDP(a_pre=3e-5, a_post=-3e-5)
    conns = (net.connect(pre, post, w, delay=DT, plasticity=rule),
             net.connect(pre, post, ws, delay=2 * DT, plasticity=STDP(a_pre=3e-5, a_post=-3e-5,
                                                                      mode="nearest")),
             net.connect(pre, post, w, delay=d, plasticity=rule))
    net.connect(pre, post, 1e-3, delay=DT)  # fixed: shared by the copies
    return net, conns


def _run(net):
    first = net.run(0.1)
    net.set("post", bias=np.array([1.2, 1.3, 1.4, 1.7]))  # rebuilds the kernel arrays
    second = net.run(0.1)
    return first, second


def _dense(x):
    return x.toarray() if sp.issparse(x) else np.asarray(x)


@pytest.mark.slow  # two kernels of their own (batched and not) to compile
def test_each_batch_copy_learns_like_an_unbatched_run_with_its_inputs():
    rng = np.random.default_rng(0)
    raster = rng.random((2000, B, 6)) < 40 * DT
    w = 2e-3 * (1 + 0.1 * rng.random((4, 6)))
    ws = sp.csr_matrix(np.where(rng.random((4, 6)) < 0.6, w, 0.0))
    d = rng.integers(1, 15, (4, 6)) * DT
    net, conns = _build(B, raster, w, ws, d)
    res = _run(net)
    assert conns[0].weights.shape == (B, 4, 6)
    assert isinstance(conns[1].weights, list) and len(conns[1].weights) == B
    assert conns[2].weights.shape == (B, 4, 6)  # given dense (with per-synapse delays)
    for b in range(B):
        one, conns1 = _build(None, raster[:, b], w, ws, d)
        res1 = _run(one)
        for c, c1 in zip(conns, conns1):
            np.testing.assert_array_equal(_dense(c.weights[b]), _dense(c1.weights))
        for r, r1 in zip(res, res1):
            for x, y in zip(r.spike_times["post"][b], r1.spike_times["post"]):
                np.testing.assert_array_equal(x, y)
    # the copies learnt different weights
    assert np.max(np.abs(conns[0].weights[0] - conns[0].weights[1])) > 1e-6
    # set_weights gives every copy the same weights; the delays of a batch's plastic connection stay
    net.set_weights(conns[0], w)
    np.testing.assert_array_equal(conns[0].weights, np.broadcast_to(w, (B, 4, 6)))
    with pytest.raises(ValueError, match="conn: the copies of a batch"):
        net.set_delays(conns[0], 3 * DT)
