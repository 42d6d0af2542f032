"""STDP inside the network kernel against pair sums over the recorded spike times.

One network holds every kind of plastic connection (dense and sparse weights,
PSC and Delta synapses, delays of 1 to 5 steps, additive and multiplicative,
all-to-all and nearest-spike, pair and triplet rules), so that the default run
compiles one kernel. Pre-synaptic spikes come from relay neurons driven by
input rasters (spikes on the grid); post-synaptic neurons fire at their exact
in-step times. Each final weight must equal the reference of
``plasticity_reference.py`` computed from the recorded spike times (pre
arrival = emission + delay) to rounding.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from spikenet.sim import LIF, STDP, Delta, Network, PSCFilter, TripletSTDP

from .plasticity_reference import pair_sum_weight, synapse_weight

DT = 1e-4
N_PRE = 12
T_RUN = 0.6
# Weights are charges (PSC) or voltage jumps (Delta); the amplitudes are a
# few percent of them, so that bounds are hit only where a case wants it.
W0 = 2e-3


def relay(net, raster, name):
    """A population that spikes exactly at the rows of ``raster`` (arrival of a supra-threshold jump)."""
    pop = net.add_population(raster.shape[1], LIF(tau_ref=0.0, v_reset=0.0), name=name)
    net.add_input(pop, spikes=raster, weights=np.eye(raster.shape[1]) * 2.0, synapse=Delta())
    return pop


CASES = {
    # name: (dense, synapse, delay steps, rule)
    "pair_all_dense_psc": (True, PSCFilter(0.005), 1, STDP(a_pre=3e-5, a_post=-3.15e-5)),
    "pair_all_sparse_psc_d5": (False, PSCFilter(0.003), 5, STDP(a_pre=3e-5, a_post=-2e-5, tau_post=0.03)),
    "pair_nearest_sparse_psc": (False, PSCFilter(0.005), 2, STDP(a_pre=1e-4, a_post=-1e-4, mode="nearest")),
    "pair_mult_dense_delta": (True, Delta(), 2, STDP(a_pre=0.05, a_post=-0.05, w_max=4e-3,
                                                     rule="multiplicative")),
    "pair_bounds_sparse_delta": (False, Delta(), 1, STDP(a_pre=6e-4, a_post=-6e-4, w_min=1e-3, w_max=2.5e-3,
                                                         mode="nearest")),
    "triplet_all_sparse_psc": (False, PSCFilter(0.005), 3, TripletSTDP(a2_plus=5e-6, a3_plus=6.2e-5,
                                                                        a2_minus=7e-5, a3_minus=2.3e-6)),
    "triplet_nearest_dense_psc": (True, PSCFilter(0.005), 1, TripletSTDP(a2_plus=1e-6, a3_plus=5e-5,
                                                                          a2_minus=6e-5, a3_minus=3e-5,
                                                                          mode="nearest")),
}


@pytest.fixture(scope="module")
def plastic_net():
    rng = np.random.default_rng(1)
    steps = round(T_RUN / DT)
    raster = rng.random((steps, N_PRE)) < 40.0 * DT  # 40 Hz per pre neuron
    net = Network(dt=DT)
    pre = relay(net, raster, "pre")
    conns = {}
    for name, (dense, syn, d, rule) in CASES.items():
        post = net.add_population(3, LIF(tau_ref=0.002), bias=np.array([1.1, 1.3, 1.6]), name=name)
        if dense:
            W = W0 * (1.0 + 0.1 * rng.random((3, N_PRE)))
        else:
            mask = rng.random((3, N_PRE)) < 0.6
            W = sp.csr_matrix(np.where(mask, W0 * (1.0 + 0.1 * rng.random((3, N_PRE))), 0.0))
        conns[name] = (net.connect(pre, post, W, synapse=syn, delay=d * DT, plasticity=rule), W, d)
    # a fixed (uniform sparse) connection whose recorded weights must stay constant
    conns["fixed"] = (net.connect(pre, "pair_all_dense_psc", 1e-3, p=0.5, delay=DT), None, 1)
    first = net.run(T_RUN / 2, record={conns["pair_all_dense_psc"][0]: "w", conns["fixed"][0]: "w"},
                    record_every=0.05)
    second = net.run(T_RUN / 2)
    spikes = {}
    for pop in net.populations:
        spikes[pop.name] = [np.concatenate([a, b]) for a, b in zip(first.spike_times[pop.name],
                                                                  second.spike_times[pop.name])]
    return net, conns, spikes, first


def _reference(conn, W0_, d, spikes, weight_fn):
    W = W0_.toarray() if sp.issparse(W0_) else W0_
    ref = np.zeros_like(W)
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            if W[i, j] == 0.0:
                continue
            arr = spikes["pre"][j] + d * DT
            arr = arr[arr <= T_RUN + 1e-12]
            ref[i, j] = weight_fn(W[i, j], arr, spikes[conn.post.name][i], conn.plasticity)
    return ref


@pytest.mark.parametrize("name", list(CASES))
def test_final_weights_equal_event_by_event_pair_sums(plastic_net, name):
    _net, conns, spikes, _ = plastic_net
    conn, W, d = conns[name]
    got = conn.weights
    assert sp.issparse(got) == sp.issparse(W)  # dense or CSR as given
    got = got.toarray() if sp.issparse(got) else got
    ref = _reference(conn, W, d, spikes, synapse_weight)
    n_post = sum(len(s) for s in spikes[name])
    assert n_post > 20  # the post neurons fire: pairs of both signs
    assert np.max(np.abs(got - (W.toarray() if sp.issparse(W) else W))) > 1e-6  # the weights moved
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-14)


def test_additive_all_to_all_equals_closed_form_pair_sum(plastic_net):
    _net, conns, spikes, _ = plastic_net
    for name in ("pair_all_dense_psc", "pair_all_sparse_psc_d5"):
        conn, W, d = conns[name]
        got = conn.weights
        got = got.toarray() if sp.issparse(got) else got
        ref = _reference(conn, W, d, spikes, pair_sum_weight)
        on = (W.toarray() if sp.issparse(W) else W) != 0
        assert np.all((ref[on] > 0) & (ref[on] < 1))  # no bound is hit: the closed form holds
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-14)


def test_bounds_are_hit_and_respected(plastic_net):
    _, conns, _, _ = plastic_net
    conn, _, _ = conns["pair_bounds_sparse_delta"]
    w = conn.weights.data
    rule = conn.plasticity
    assert np.all((w >= rule.w_min) & (w <= rule.w_max))
    assert np.any(np.isclose(w, rule.w_max, rtol=0, atol=1e-15)) or np.any(np.isclose(w, rule.w_min, rtol=0,
                                                                                       atol=1e-15))


def test_recorded_weights_start_at_initial_and_follow_the_run(plastic_net):
    _, conns, _, first = plastic_net
    conn, W, _ = conns["pair_all_dense_psc"]
    rec = first[conn, "w"]
    assert rec.shape == (round(T_RUN / 2 / 0.05), W.size)
    np.testing.assert_allclose(rec[0], W.ravel(), rtol=1e-15)  # row 0: the weights at the start of the run
    assert np.any(rec[-1] != rec[0])
    fixed = conns["fixed"][0]
    rec = first[fixed, "w"]
    assert rec.shape == (round(T_RUN / 2 / 0.05), fixed.weights.nnz)
    np.testing.assert_allclose(rec, np.broadcast_to(fixed.weights.data, rec.shape), rtol=1e-15)
    with pytest.raises(KeyError, match="not recorded"):
        first[conns["pair_nearest_sparse_psc"][0], "w"]


def test_set_weights_between_runs_and_npz_round_trip_without_pickle(plastic_net, tmp_path):
    net, conns, _, _ = plastic_net
    dense, _, _ = conns["pair_all_dense_psc"]
    sparse, _, _ = conns["pair_all_sparse_psc_d5"]
    path = tmp_path / "w.npz"
    np.savez(path, dense=dense.weights)
    sp.save_npz(tmp_path / "ws.npz", sparse.weights)
    learnt_sparse = sparse.weights
    W = np.full(dense.weights.shape, 1.5e-3)
    net.set_weights(dense, W)
    np.testing.assert_array_equal(dense.weights, W)
    np.testing.assert_array_equal(sparse.weights.toarray(), learnt_sparse.toarray())  # others untouched
    with np.load(path, allow_pickle=False) as f:
        net.set_weights(dense, f["dense"])
    net.set_weights(sparse, sp.load_npz(tmp_path / "ws.npz"))
    np.testing.assert_allclose(sparse.weights.toarray(), learnt_sparse.toarray(), rtol=1e-15)
    with pytest.raises(ValueError, match="W must have shape"):
        net.set_weights(dense, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="same pattern"):
        net.set_weights(sparse, sp.csr_matrix(np.ones(sparse.weights.shape)))


def test_bad_plasticity_arguments_raise_errors_naming_them():
    net = Network(dt=DT)
    a = net.add_population(3, LIF())
    with pytest.raises(TypeError, match="plasticity"):
        net.connect(a, a, 0.1, plasticity="stdp")
    for kw, val in (("tau_pre", 0.0), ("rule", "hebb"), ("mode", "near"), ("w_max", -1.0), ("a_pre", np.nan)):
        with pytest.raises((ValueError, TypeError), match=kw):
            STDP(**{kw: val})
    with pytest.raises(ValueError, match="a3_plus"):
        TripletSTDP(a3_plus=-1.0)


def test_network_without_plasticity_passes_none_and_keeps_its_kernel_key():
    net = Network(dt=DT)
    a = net.add_population(4, LIF(), bias=1.5)
    net.connect(a, a, 1e-3, delay=DT)
    net.run(0.01)
    from tests.sim.keys import key_entry

    assert key_entry(net, "plast") == "none"  # the plasticity argument: its code is pruned
    assert "PlastArgs" not in net.kernel_key


def test_reset_keeps_learnt_weights_and_clears_the_traces():
    rng = np.random.default_rng(5)
    raster = rng.random((2000, 4)) < 0.01
    net = Network(dt=DT)
    pre = relay(net, raster, "pre")
    post = net.add_population(2, LIF(tau_ref=0.002), bias=np.array([1.2, 1.5]), name="post")
    rule = STDP(a_pre=1e-4, a_post=-1e-4)
    conn = net.connect(pre, post, sp.csr_matrix(np.full((2, 4), W0)), delay=DT, plasticity=rule)
    net.run(0.1)
    learnt = conn.weights.toarray()
    assert np.any(learnt != W0)
    net.reset()
    np.testing.assert_array_equal(conn.weights.toarray(), learnt)
    res = net.run(0.1)  # the same input rows again, from fresh traces and the learnt weights
    st = res.spike_times
    arrivals = [a[a <= 0.1 + 1e-12] for a in (s + DT for s in st["pre"])]
    ref = np.array([[synapse_weight(learnt[i, j], arrivals[j], st["post"][i], rule) for j in range(4)]
                    for i in range(2)])
    np.testing.assert_allclose(conn.weights.toarray(), ref, rtol=0, atol=1e-14)


def test_changing_a_parameter_between_runs_keeps_the_learnt_weights():
    rng = np.random.default_rng(6)
    raster = rng.random((2000, 4)) < 0.01
    net = Network(dt=DT)
    pre = relay(net, raster, "pre")
    post = net.add_population(2, LIF(tau_ref=0.002), bias=np.array([1.2, 1.5]), name="post")
    conn = net.connect(pre, post, sp.csr_matrix(np.full((2, 4), W0)), delay=DT,
                       plasticity=STDP(a_pre=1e-4, a_post=-1e-4))
    net.run(0.1)
    learnt = conn.weights.toarray()
    assert np.any(learnt != W0)
    net.set(post, bias=1.4)  # rebuilds the kernel's constant arrays
    np.testing.assert_allclose(conn.weights.toarray(), learnt, rtol=1e-15)
    net.run(0.05)
    assert np.any(conn.weights.toarray() != learnt)
