"""Network.set_delays between runs against networks built by hand.

The pre-synaptic population is a SpikeSource, so the arrival of every spike is
known: after ``run(a); set_delays(D2); run(b)`` the post-synaptic currents
(PSC), voltages (Delta) and conductance-driven voltages must equal those of
one uninterrupted run of a reference network in which the spikes emitted
before the change come from one source connected with the old delays and
those emitted after it from a second source connected with the new delays.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from spikenet.sim import LIF, STDP, Conductance, Delta, Network, PSCFilter, SpikeSource

DT = 1e-4
T_A, T_B = 0.012, 0.016
K = round(T_A / DT)
TIMES = [np.array([0.0011, 0.0052, 0.0097, 0.0116, 0.0119, 0.0150]),
         np.array([0.0030, 0.0085, 0.0109, 0.0118, 0.0141]),
         np.array([0.0064, 0.0113, 0.0120, 0.0123, 0.0200])]
W = np.array([[0.2, 0.0, 0.3], [0.1, 0.25, 0.0], [0.15, 0.2, 0.35], [0.0, 0.3, 0.1]])
D1 = np.array([[5, 1, 9], [2, 7, 3], [12, 4, 1], [6, 8, 2]]) * DT  # up to 12 steps: in flight at t = T_A
D2 = np.array([[1, 3, 2], [9, 1, 5], [2, 6, 11], [4, 2, 7]]) * DT
SYNAPSES = {"psc": (PSCFilter(0.004), "I_syn"), "delta": (Delta(), "v"),
            "cond": (Conductance(0.003, e_rev=5.0), "v")}


def _post(net):
    return net.add_population(W.shape[0], LIF(tau_m=0.02, v_th=100.0), name="post")


def _changed(kind, w, d1, d2):
    syn, state = SYNAPSES[kind]
    net = Network(dt=DT)
    pre = net.add_population(3, SpikeSource(TIMES), name="pre")
    conn = net.connect(pre, _post(net), w, synapse=syn, delay=d1)
    a = net.run(T_A, record={"post": state})
    net.set_delays(conn, d2)
    b = net.run(T_B, record={"post": state})
    return np.concatenate([a["post", state], b["post", state]]), conn


def _reference(kind, w, d1, d2):
    syn, state = SYNAPSES[kind]
    net = Network(dt=DT)
    # a spike in step k is sent before the change when k < K
    before = [t[np.rint(t / DT) < K] for t in TIMES]
    after = [t[np.rint(t / DT) >= K] for t in TIMES]
    old = net.add_population(3, SpikeSource(before), name="old")
    new = net.add_population(3, SpikeSource(after), name="new")
    post = _post(net)
    net.connect(old, post, w, synapse=syn, delay=d1)
    net.connect(new, post, w, synapse=syn, delay=d2)
    return net.run(T_A + T_B, record={"post": state})["post", state]


# PSC in the default run; Delta and Conductance (kernels of their own) with the slow tests
@pytest.mark.parametrize("kind", ["psc", pytest.param("delta", marks=pytest.mark.slow),
                                  pytest.param("cond", marks=pytest.mark.slow)])
def test_spikes_in_flight_keep_their_delay_and_later_ones_take_the_new(kind):
    got, conn = _changed(kind, W, D1, D2)
    ref = _reference(kind, W, D1, D2)
    assert np.max(np.abs(ref)) > 0.1
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-13)
    # the reference with the new delays for every spike differs: the test sees the in-flight spikes
    assert np.max(np.abs(_reference(kind, W, D2, D2) - ref)) > 1e-3
    d = conn.delay
    np.testing.assert_allclose(np.where(W != 0, d, 0.0), np.where(W != 0, D2, 0.0), rtol=1e-12)


@pytest.mark.slow
def test_scalar_and_sparse_delays_in_both_directions():
    Ws = sp.csr_matrix(W)
    D2s = sp.csr_matrix(np.where(W != 0, D2, 0.0))
    # one delay -> per-synapse (sparse), and per-synapse -> one delay
    got, _ = _changed("psc", Ws, 3 * DT, D2s)
    np.testing.assert_allclose(got, _reference("psc", Ws, 3 * DT, D2s), rtol=1e-12, atol=1e-13)
    got, _ = _changed("psc", W, D1, 4 * DT)
    np.testing.assert_allclose(got, _reference("psc", W, D1, 4 * DT), rtol=1e-12, atol=1e-13)


def test_set_delays_before_the_first_run_equals_connecting_with_them():
    def build(d_connect, d_set):
        net = Network(dt=DT)
        pre = net.add_population(3, SpikeSource(TIMES), name="pre")
        conn = net.connect(pre, _post(net), W, synapse=SYNAPSES["psc"][0], delay=d_connect)
        if d_set is not None:
            net.set_delays(conn, d_set)
        return net.run(T_A + T_B, record={"post": "I_syn"})["post", "I_syn"]

    np.testing.assert_array_equal(build(DT, D2), build(D2, None))


@pytest.mark.slow
def test_set_delays_before_the_first_run_equals_connecting_with_them_with_plasticity():
    def build(d_connect, d_set):
        net = Network(dt=DT)
        pre = net.add_population(3, SpikeSource(TIMES), name="pre")
        e = net.add_population(5, LIF(tau_ref=0.002), bias=np.linspace(1.05, 1.4, 5), name="e")
        c1 = net.connect(pre, e, np.full((5, 3), 0.03), delay=d_connect[0])
        c2 = net.connect(e, e, sp.csr_matrix(np.triu(np.full((5, 5), 0.01), 1)), delay=d_connect[1],
                         plasticity=STDP(a_pre=1e-3, a_post=-1e-3))
        if d_set is not None:
            net.set_delays(c1, d_set[0])
            net.set_delays(c2, d_set[1])
        res = net.run(0.03, record={"e": "v"})
        return res, c2

    rng = np.random.default_rng(0)
    d1 = rng.integers(1, 9, (5, 3)) * DT
    d2 = sp.csr_matrix(np.triu(rng.integers(1, 9, (5, 5)) * DT, 1))
    a, ca = build((d1, d2), None)
    b, cb = build((DT, DT), (d1, d2))
    np.testing.assert_array_equal(a["e", "v"], b["e", "v"])
    np.testing.assert_array_equal(ca.weights.toarray(), cb.weights.toarray())


def test_bad_delays_raise_errors_naming_them_and_change_nothing():
    net = Network(dt=DT)
    pre = net.add_population(3, SpikeSource(TIMES), name="pre")
    conn = net.connect(pre, _post(net), W, synapse=SYNAPSES["psc"][0], delay=D1)
    net.run(T_A, record={"post": "I_syn"})  # (the kernel of the tests above)
    with pytest.raises(ValueError, match="delay must have shape"):
        net.set_delays(conn, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="delay must be >= 0"):
        net.set_delays(conn, -D1)
    with pytest.raises(ValueError, match="delay"):
        net.set_delays(conn, 1.5 * DT)  # one delay: a whole number of steps
    with pytest.raises(TypeError, match="conn"):
        net.set_delays("pre", D2)
    np.testing.assert_allclose(conn.delay, D1, rtol=1e-12)


@pytest.mark.slow
def test_plastic_connection_with_spikes_in_flight_is_refused_until_reset():
    other = Network(dt=DT)
    p = other.add_population(3, SpikeSource(TIMES), name="pre")
    q = other.add_population(4, LIF(), name="post")
    c = other.connect(p, q, W, delay=D1, plasticity=STDP())
    other.run(T_A)
    with pytest.raises(ValueError, match="conn: spikes of 'pre' are in flight to a plastic"):
        other.set_delays(c, D2)
    other.reset()
    other.set_delays(c, D2)  # right after reset(): allowed
    np.testing.assert_allclose(c.delay, D2, rtol=1e-12)


@pytest.mark.slow
def test_set_delays_on_two_threads_and_in_batches_equals_one_thread_bit_for_bit():
    rng = np.random.default_rng(1)
    times = [np.sort(rng.choice(300, 8, replace=False)) * DT for _ in range(70)]
    w = rng.uniform(0.01, 0.05, (80, 70))
    d1, d2 = (rng.integers(1, 15, (80, 70)) * DT for _ in range(2))

    def run(**kw):
        net = Network(dt=DT, **kw)
        pre = net.add_population(70, SpikeSource(times), name="pre")
        post = net.add_population(80, LIF(tau_m=0.02), bias=0.9, name="post")  # > 64: split on 2 threads
        conn = net.connect(pre, post, w, delay=d1)
        a = net.run(0.012, record={"post": "v"})
        net.set_delays(conn, d2)
        b = net.run(0.02, record={"post": "v"})
        return np.concatenate([a["post", "v"], b["post", "v"]])

    one = run()
    np.testing.assert_array_equal(run(threads=2), one)
    batch = run(batch=2)
    for b in range(2):
        np.testing.assert_array_equal(batch[:, b], one)


@pytest.mark.slow
@pytest.mark.parametrize("old", ["per_synapse", "one"])
def test_plastic_connection_changes_delays_between_runs_against_event_by_event_reference(old):
    # "one": one delay before (traces per pre neuron), per-synapse after (traces moved to each synapse)
    from .plasticity_reference import synapse_weight

    # pre spikes stop 3 ms before the change, longer than the longest old delay: nothing in flight
    rng = np.random.default_rng(4)
    t_a, t_b = 0.1, 0.1
    steps = [np.sort(rng.choice(np.r_[10:970, 1000:1990], 9, replace=False)) for _ in range(4)]
    times = [k * DT for k in steps]
    w0 = np.full((3, 4), 2e-3)
    d1 = rng.integers(1, 21, (3, 4)) * DT if old == "per_synapse" else np.full((3, 4), 7 * DT)
    d2 = rng.integers(1, 21, (3, 4)) * DT
    rule = STDP(a_pre=1e-4, a_post=-1.05e-4)
    net = Network(dt=DT)
    pre = net.add_population(4, SpikeSource(times), name="pre")
    post = net.add_population(3, LIF(tau_ref=0.002), bias=np.array([1.1, 1.3, 1.6]), name="post")
    conn = net.connect(pre, post, w0, delay=d1 if old == "per_synapse" else 7 * DT, plasticity=rule)
    a = net.run(t_a)
    net.set_delays(conn, d2)
    b = net.run(t_b)
    t_post = [np.concatenate([x, y]) for x, y in zip(a.spike_times["post"], b.spike_times["post"])]
    assert sum(len(t) for t in t_post) > 20
    ref = np.zeros_like(w0)
    for i in range(3):
        for j in range(4):
            arr = np.concatenate([times[j][times[j] < t_a] + d1[i, j], times[j][times[j] >= t_a] + d2[i, j]])
            ref[i, j] = synapse_weight(w0[i, j], arr[arr <= t_a + t_b + 1e-12], t_post[i], rule)
    np.testing.assert_allclose(conn.weights, ref, rtol=0, atol=1e-12)
    assert np.max(np.abs(conn.weights - w0)) > 1e-5
    if old == "one":
        return
    # with a spike in flight at the change: refused, for the plastic connection and for a fixed
    # connection from the same population
    net = Network(dt=DT)
    pre = net.add_population(1, SpikeSource([np.array([0.0098])]), name="pre")
    post = net.add_population(2, LIF(), name="post")
    plastic = net.connect(pre, post, 1e-3, delay=5 * DT, plasticity=rule)
    fixed = net.connect(pre, post, 1e-3, delay=DT)
    net.run(0.01)
    for c in (plastic, fixed):
        with pytest.raises(ValueError, match="conn: spikes of 'pre' are in flight to a plastic"):
            net.set_delays(c, 2 * DT)
    net.run(0.001)
    net.set_delays(fixed, 2 * DT)  # delivered by now
    np.testing.assert_allclose(fixed.delay, 2 * DT, rtol=1e-12)
