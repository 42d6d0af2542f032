"""Per-synapse delays: arrival per synapse, one connect per delay value, engine contracts, bad input."""

import numpy as np
import pytest
import scipy.sparse as sp

from spikenet.sim import LIF, Delta, Network, PSCFilter

DT = 1e-4
EXACT_ATOL = 1e-12


def _delays(rng, shape, low=0, high=30):
    """Random delays in seconds, off the half-step boundaries (so that rounding is unambiguous)."""
    return (rng.integers(low, high, shape) + rng.uniform(-0.4, 0.4, shape)).clip(0) * DT


def test_each_synapse_delivers_round_d_over_dt_steps_after_the_spike_step():
    # Pre neurons spike inside their steps (bias-driven); the synaptic current
    # of post neuron i is sum_j W_ij h(t - t_arr_ij) with t_arr = (k_j + 1 +
    # round(D_ij / dt)) dt for a spike in step k_j: computed here directly.
    rng = np.random.default_rng(0)
    n_pre, n_post, tau_s = 6, 4, 0.003
    W = rng.uniform(0.1, 1.0, (n_post, n_pre))
    D = _delays(rng, (n_post, n_pre))
    net = Network(dt=DT)
    pre = net.add_population(n_pre, LIF(), bias=rng.uniform(1.5, 3.0, n_pre), name="pre")
    post = net.add_population(n_post, LIF(v_th=1e9), name="post")
    net.connect(pre, post, W, synapse=PSCFilter(tau_s), delay=D)
    res = net.run(0.06, record={"post": "I_syn"})
    t = res.t
    expected = np.zeros((t.size, n_post))
    for j, times in enumerate(res.spike_times["pre"]):
        for tj in times:
            k = int(np.floor(tj / DT))
            for i in range(n_post):
                t_arr = (k + 1 + round(D[i, j] / DT)) * DT
                on = t >= t_arr - DT / 2
                expected[on, i] += W[i, j] / tau_s * np.exp(-(t[on] - t_arr) / tau_s)
    assert sum(len(s) for s in res.spike_times["pre"]) > 10
    np.testing.assert_allclose(res["post", "I_syn"], expected, rtol=1e-9, atol=1e-9)


def test_delta_jumps_arrive_per_synapse_delay_after_a_jump_caused_spike():
    # A jump-caused spike at t_a reaches synapse (i, j) at t_a + round(D_ij / dt) dt.
    net = Network(dt=DT)
    a = net.add_population(2, LIF(), name="a")
    b = net.add_population(3, LIF(tau_ref=0.05), name="b")
    raster = np.zeros((200, 2), dtype=bool)
    raster[9, 0] = raster[29, 1] = True  # a0 spikes at 1 ms, a1 at 3 ms
    net.add_input(a, spikes=raster, weights=2.0 * np.eye(2), synapse=Delta())
    D = np.array([[1.0e-4, 9e-3], [4.2e-4, 7e-3], [2.64e-3, 5e-3]])  # rounded: 1, 4, 26 and 90, 70, 50 steps
    net.connect(a, b, np.array([[2.0, 2.0], [2.0, 2.0], [2.0, 0.5]]), synapse=Delta(), delay=D)
    res = net.run(0.02)
    np.testing.assert_allclose(res.spike_times["a"][0], [1e-3], atol=EXACT_ATOL)
    np.testing.assert_allclose(res.spike_times["b"][0], [1.1e-3], atol=EXACT_ATOL)
    np.testing.assert_allclose(res.spike_times["b"][1], [1.4e-3], atol=EXACT_ATOL)
    np.testing.assert_allclose(res.spike_times["b"][2], [3.6e-3], atol=EXACT_ATOL)


def _net(split, synapse, threads=None, dtype=np.float64, batch=None):
    """E/I network with per-synapse delays (split=False) or one connect per delay value (split=True)."""
    rng = np.random.default_rng(1)
    net = Network(dt=DT, threads=threads, dtype=dtype, batch=batch)
    nE, nI = 240, 60
    E = net.add_population(nE, LIF(), bias=rng.uniform(0.95, 1.2, nE), init={"v": rng.random(nE)}, name="E")
    I = net.add_population(nI, LIF(), bias=1.05, init={"v": rng.random(nI)}, name="I")
    values = np.array([1, 2, 5, 9, 14]) * DT
    for pre, post, w in ((E, E, 0.04), (E, I, 0.05), (I, E, -0.15), (I, I, -0.1)):
        W = sp.random(post.n, pre.n, density=0.15, random_state=rng, format="csr")
        W.data = w * (0.5 + W.data)
        D = W.copy()
        D.data = values[rng.integers(0, values.size, D.nnz)]
        if not split:
            net.connect(pre, post, W, synapse=synapse, delay=D)
            continue
        for d in values:
            mask = D.copy()
            mask.data = (D.data == d).astype(float)
            part = W.multiply(mask).tocsr()
            net.connect(pre, post, part, synapse=synapse, delay=float(d))
    return net


@pytest.mark.parametrize("synapse", [
    PSCFilter(0.004), pytest.param(Delta(), marks=pytest.mark.slow)], ids=["psc", "delta"])
def test_per_synapse_delays_give_the_spikes_of_one_connect_per_delay_value(synapse):
    ours = _net(False, synapse).run(0.2)
    split = _net(True, synapse).run(0.2)
    assert sum(len(s) for s in ours.spike_times["E"]) > 200
    for pop in ("E", "I"):
        for a, b in zip(ours.spike_times[pop], split.spike_times[pop]):
            np.testing.assert_allclose(a, b, rtol=0, atol=EXACT_ATOL)


@pytest.mark.slow  # compiles the split (barrier) kernel with per-synapse delays
@pytest.mark.parametrize("synapse", [PSCFilter(0.004), Delta()], ids=["psc", "delta"])
def test_split_over_threads_gives_the_single_thread_results_with_per_synapse_delays(synapse):
    record = {"E": ("v", "I_syn"), "I": ("v",)}
    runs = {}
    for threads in (1, 2):
        net = _net(False, synapse, threads=threads)
        runs[threads] = (net.run(0.07, record=record), net.run(0.05, record=record), net._built)
    assert runs[2][2]["n_parts"] == 2
    for r1, r2 in zip(runs[1][:2], runs[2][:2]):
        for pop in ("E", "I"):
            for a, b in zip(r1.spike_times[pop], r2.spike_times[pop]):
                np.testing.assert_array_equal(a, b)
        for pop, states in record.items():
            for state in states:
                np.testing.assert_array_equal(r1[pop, state], r2[pop, state])
    np.testing.assert_array_equal(runs[1][2]["dbuf"], runs[2][2]["dbuf"])


def test_two_runs_equal_one_long_run_with_per_synapse_delays():
    whole = _net(False, PSCFilter(0.004)).run(0.12)
    net = _net(False, PSCFilter(0.004))
    first, second = net.run(0.0503), net.run(0.12 - 0.0503)
    for pop in ("E", "I"):
        for w, a, b in zip(whole.spike_times[pop], first.spike_times[pop], second.spike_times[pop]):
            np.testing.assert_array_equal(w, np.concatenate([a, b]))


@pytest.mark.slow  # compiles the batched kernel with per-synapse delays
def test_batch_copies_equal_the_unbatched_network_with_per_synapse_delays():
    single = _net(False, Delta()).run(0.1)
    batched = _net(False, Delta(), batch=2).run(0.1)
    for pop in ("E", "I"):
        for b in range(2):
            for a, x in zip(single.spike_times[pop], batched.spike_times[pop][b]):
                np.testing.assert_array_equal(a, x)


@pytest.mark.slow  # compiles the float32 kernel with per-synapse delays
def test_float32_tracks_float64_with_per_synapse_delays():
    r64 = _net(False, PSCFilter(0.004)).run(0.05)
    r32 = _net(False, PSCFilter(0.004), dtype=np.float32).run(0.05)
    for a, b in zip(r64.spike_times["E"], r32.spike_times["E"]):
        np.testing.assert_allclose(a, b, rtol=0, atol=2e-5)


def test_dense_delays_with_dense_weights_and_connection_reports_them():
    rng = np.random.default_rng(3)
    net = Network(dt=DT)
    a = net.add_population(3, LIF(), bias=2.0)
    b = net.add_population(2, LIF())
    W = rng.random((2, 3)) * 0.1
    D = np.array([[1e-3, 2e-3, 0.0], [5e-4, 1.04e-3, 3e-3]])
    net.connect(a, b, W, delay=D)
    conn = net.connections[0]
    np.testing.assert_array_equal(conn.weights, W)
    np.testing.assert_allclose(conn.delay, np.rint(D / DT) * DT, atol=1e-15)
    assert net.run(0.01).spike_times is not None
    assert net._built["w_sdelay"].dtype == np.uint16  # 2 bytes per synapse


def test_delays_that_round_to_one_value_take_the_scalar_path():
    net = Network(dt=DT)
    a = net.add_population(3, LIF(), bias=2.0)
    net.connect(a, a, 0.01, delay=np.full((3, 3), 2.04e-4))
    assert net._conns[0].syn_delay is None and net._conns[0].delay_steps == 2
    net.run(0.01)
    assert net._built["with_delays"] is None
    assert net._kernel_key.split("|")[-2] == "none"  # the delay code is pruned (the last argument is plast)


def test_random_connectivity_takes_a_dense_delay_array():
    rng = np.random.default_rng(4)
    net = Network(dt=DT, seed=0)
    a = net.add_population(50, LIF(), bias=1.5)
    D = _delays(rng, (50, 50), high=10)
    net.connect(a, a, 0.01, p=0.2, delay=D)
    conn = net.connections[0]
    coo = conn.delay.tocoo()
    np.testing.assert_allclose(coo.data, np.rint(D[coo.row, coo.col] / DT) * DT, atol=1e-15)
    assert conn.delay.nnz == conn.weights.nnz


@pytest.fixture
def pair():
    net = Network(dt=DT)
    return net, net.add_population(3, LIF()), net.add_population(2, LIF())


def test_negative_delay_array_raises_naming_delay(pair):
    net, a, b = pair
    with pytest.raises(ValueError, match="delay"):
        net.connect(a, b, 0.1, delay=np.full((2, 3), -1e-3))


def test_nan_delay_raises_naming_delay(pair):
    net, a, b = pair
    D = np.full((2, 3), 1e-3)
    D[0, 1] = np.nan
    with pytest.raises(ValueError, match="delay"):
        net.connect(a, b, 0.1, delay=D)


def test_delay_of_the_wrong_shape_raises_naming_delay(pair):
    net, a, b = pair
    with pytest.raises(ValueError, match="delay"):
        net.connect(a, b, 0.1, delay=np.full((3, 2), 1e-3))


def test_sparse_delay_with_another_pattern_raises_naming_delay(pair):
    net, a, b = pair
    W = sp.csr_matrix(np.array([[0.1, 0.0, 0.2], [0.0, 0.3, 0.0]]))
    D = sp.csr_matrix(np.array([[1e-3, 1e-3, 0.0], [0.0, 2e-3, 0.0]]))
    with pytest.raises(ValueError, match=r"delay.*pattern"):
        net.connect(a, b, W, delay=D)


def test_sparse_delay_with_dense_weights_raises_naming_delay(pair):
    net, a, b = pair
    with pytest.raises(ValueError, match="delay"):
        net.connect(a, b, np.ones((2, 3)), delay=sp.csr_matrix(np.full((2, 3), 1e-3)))
