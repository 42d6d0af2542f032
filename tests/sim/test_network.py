"""Network: synaptic semantics, exact integration, inputs, continuation, batch, bad input."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.integrate import solve_ivp

from spikenet.sim import HH, LIF, Network, PSCFilter, poisson_spikes

# Tolerances (one place, with their sources):
# - Exact results (closed forms, the exact propagator, bit-for-bit equal
#   runs): float64 rounding over a few thousand steps.
EXACT_ATOL = 1e-12
# - solve_ivp references at rtol=atol=1e-11: their own error dominates.
IVP_ATOL = 1e-8
# - LIF spike time with a time-varying synaptic current: the in-step
#   crossing uses the constant drive that matches the end-of-step voltage,
#   an O(dt^2) approximation; measured error ~1e-7 s at dt = 0.1 ms, bound
#   set at dt / 50.
SPIKE_TIME_TOL = 1e-4 / 50
# - float32 state: ~1e-7 relative per operation over 2000 steps.
FLOAT32_ATOL = 1e-4

DT = 1e-4


def _one_input_spike(post_neuron, w, syn, step, steps, dt=DT, record=("v", "I_syn"), **kw):
    net = Network(dt=dt, **kw)
    post = net.add_population(1, post_neuron, name="post")
    raster = np.zeros((steps, 1), dtype=bool)
    raster[step] = True
    net.add_input(post, spikes=raster, weights=w, synapse=syn)
    return net.run(steps * dt, record={"post": list(record)})


@pytest.mark.parametrize("n", [0, 1, 2])
def test_one_input_spike_gives_weight_times_kernel_from_the_next_step(n):
    syn = PSCFilter(0.004, n)
    res = _one_input_spike(LIF(), 0.01, syn, step=100, steps=1500)
    t_deliver = 101 * DT  # row 100 arrives at the start of step 101
    expected = 0.01 * syn.kernel(res.t - t_deliver)
    np.testing.assert_allclose(res["post", "I_syn"][:, 0], expected, rtol=0, atol=EXACT_ATOL * 1e3)


def test_one_input_spike_gives_the_closed_form_voltage():
    # tau_m dv/dt = (w/tau_s) e^{-s/tau_s} - v  =>  v = w (e^{-s/tau_m} - e^{-s/tau_s}) / (tau_m - tau_s)
    tau_m, tau_s, w = 0.02, 0.005, 0.01
    res = _one_input_spike(LIF(tau_m=tau_m), w, PSCFilter(tau_s), step=100, steps=1500)
    s = res.t - 101 * DT
    vex = np.where(s >= 0, w * (np.exp(-s / tau_m) - np.exp(-s / tau_s)) / (tau_m - tau_s), 0.0)
    np.testing.assert_allclose(res["post", "v"][:, 0], vex, rtol=0, atol=EXACT_ATOL)


def _ivp_lif_psc(tau_m, syn, w, t_end, v0=0.0, bias=0.0):
    """v of tau_m dv/dt = bias + w h(t) - v (no threshold) by solve_ivp on the stage system."""
    m = syn.n_stages

    def f(t, z):
        v, x = z[0], z[1:]
        dx = np.empty(m)
        dx[0] = -x[0] / syn.tau_s
        dx[1:] = (x[:-1] - x[1:]) / syn.tau_s
        return np.concatenate([[(bias + x[-1] - v) / tau_m], dx])

    z0 = np.zeros(m + 1)
    z0[0] = v0
    z0[1] = w / syn.tau_s
    return f, z0


@pytest.mark.parametrize("n", [1, 2])
def test_voltage_with_higher_order_synapse_matches_solve_ivp(n):
    syn, tau_m, w, bias = PSCFilter(0.003, n), 0.015, 0.005, 0.4
    net = Network(dt=DT)
    post = net.add_population(1, LIF(tau_m=tau_m), bias=bias, init={"v": 0.4}, name="post")
    raster = np.zeros((800, 1), dtype=bool)
    raster[99] = True
    net.add_input(post, spikes=raster, weights=w, synapse=syn)
    res = net.run(800 * DT, record={"post": "v"})
    f, z0 = _ivp_lif_psc(tau_m, syn, w, 0.07, v0=0.4, bias=bias)
    t_rel = res.t[100:] - 100 * DT
    sol = solve_ivp(f, (0, t_rel[-1]), z0, t_eval=t_rel, rtol=1e-11, atol=1e-13, method="DOP853")
    assert res.spike_times["post"][0].size == 0  # sub-threshold: pure linear dynamics
    np.testing.assert_allclose(res["post", "v"][100:, 0], sol.y[0], rtol=0, atol=IVP_ATOL)


def test_spike_time_with_synaptic_current_matches_solve_ivp_event():
    syn, tau_m, w = PSCFilter(0.005), 0.02, 0.05
    net = Network(dt=DT)
    post = net.add_population(1, LIF(tau_m=tau_m, tau_ref=0.01), name="post")
    raster = np.zeros((600, 1), dtype=bool)
    raster[99] = True
    net.add_input(post, spikes=raster, weights=w, synapse=syn)
    res = net.run(600 * DT)
    f, z0 = _ivp_lif_psc(tau_m, syn, w, 0.05)

    def cross(t, z):
        return z[0] - 1.0

    cross.terminal = True
    sol = solve_ivp(f, (0, 0.05), z0, events=cross, rtol=1e-12, atol=1e-14, method="DOP853")
    t_ref = 100 * DT + sol.t_events[0][0]
    times = res.spike_times["post"][0]
    assert times.size == 1
    assert abs(times[0] - t_ref) < SPIKE_TIME_TOL


@pytest.mark.parametrize("tau_ref", [0.0, 0.002, 0.00234])
def test_constant_bias_gives_exact_lif_spike_times(tau_ref):
    # Constant drive J: first spike at tau_m ln(J/(J-1)), then every
    # tau_ref + tau_m ln(J/(J-1)) (refractoriness counted in continuous time).
    nrn = LIF(tau_m=0.02, tau_ref=tau_ref)
    J = np.array([1.2, 2.0, 5.0])
    net = Network(dt=DT)
    pop = net.add_population(3, nrn, bias=J)
    res = net.run(0.5)
    t_free = nrn.tau_m * np.log(J / (J - 1))
    for i in range(3):
        times = res.spike_times[pop][i]
        expected = t_free[i] + np.arange(times.size) * (tau_ref + t_free[i])
        np.testing.assert_allclose(times, expected, rtol=0, atol=1e-12)
        assert times.size == int((0.5 - t_free[i]) // (tau_ref + t_free[i])) + 1
    np.testing.assert_allclose(res.rates(pop), np.array([len(t) for t in res.spike_times[pop]]) / 0.5)


def test_internal_spike_reaches_the_target_at_the_next_step_plus_delay():
    nrn = LIF(tau_ref=1.0)  # one spike only
    J = 1.5
    t_spike = 0.02 * np.log(J / (J - 1))
    k = int(t_spike // DT)
    for delay, d_steps in ((0.0, 0), (0.003, 30)):
        net = Network(dt=DT)
        pre = net.add_population(1, nrn, bias=J, name="pre")
        post = net.add_population(2, LIF(), name="post")
        net.connect(pre, post, np.array([[0.01], [-0.02]]), synapse=PSCFilter(0.002, 1), delay=delay)
        res = net.run(0.06, record={"post": "I_syn"})
        assert res.spike_times["pre"][0] == pytest.approx([t_spike], abs=1e-12)
        t_del = (k + 1 + d_steps) * DT
        h = PSCFilter(0.002, 1).kernel(res.t - t_del)
        np.testing.assert_allclose(res["post", "I_syn"], np.outer(h, [0.01, -0.02]), atol=1e-9)


def test_filtering_is_linear_and_equals_pscfilter_apply():
    rng = np.random.default_rng(0)
    steps = 2000
    r1 = rng.random((steps, 3)) < 0.02
    r2 = rng.random((steps, 2)) < 0.03
    W1 = rng.normal(size=(4, 3)) * 0.01
    W2 = rng.normal(size=(4, 2)) * 0.01
    syn = PSCFilter(0.004, 1)

    def current(inputs):
        net = Network(dt=DT)
        post = net.add_population(4, LIF(v_th=1e9), name="post")  # never spikes
        for r, W in inputs:
            net.add_input(post, spikes=r, weights=W, synapse=syn)
        return net.run(steps * DT, record={"post": "I_syn"})["post", "I_syn"]

    both = current([(r1, W1), (r2, W2)])
    np.testing.assert_allclose(both, current([(r1, W1)]) + current([(r2, W2)]), atol=1e-10)
    # and it equals filtering the one-step-delayed weighted input offline
    shifted = np.zeros((steps, 3))
    shifted[1:] = r1[:-1]
    np.testing.assert_allclose(current([(r1, W1)]), syn.apply(shifted, DT) @ W1.T, atol=1e-10)


def _random_net(weights_kind, dtype=np.float64, batch=None, bias=None):
    rng = np.random.default_rng(42)
    n_e, n_i = 80, 20
    # excitatory weights vary per synapse, inhibitory ones are all equal: the
    # kernel stores these two kinds of sparse connection differently
    We = (rng.random((100, n_e)) < 0.1) * np.random.default_rng(7).uniform(0.002, 0.006, (100, n_e))
    Wi = (rng.random((100, n_i)) < 0.1) * -0.02
    net = Network(dt=DT, batch=batch, dtype=dtype)
    if bias is None:
        bias = rng.uniform(0.9, 1.6, 100)
    init = {"v": rng.uniform(0, 1, 100) if batch is None else rng.uniform(0, 1, (batch, 100))}
    pop = net.add_population(100, LIF(tau_ref=0.002), bias=bias, init=init, name="all")
    exc = sp.csr_matrix(np.hstack([We, np.zeros((100, n_i))]))
    inh = sp.csr_matrix(np.hstack([np.zeros((100, n_e)), Wi]))
    if weights_kind == "dense":
        exc, inh = exc.toarray(), inh.toarray()
    net.connect(pop, pop, exc, synapse=PSCFilter(0.005))
    net.connect(pop, pop, inh, synapse=PSCFilter(0.01), delay=0.0008)
    return net


def test_dense_and_sparse_weights_give_the_same_spikes():
    rd = _random_net("dense").run(0.3, record={"all": "v"})
    rs = _random_net("sparse").run(0.3, record={"all": "v"})
    assert sum(len(t) for t in rd.spike_times["all"]) > 200
    np.testing.assert_array_equal(rd.spike_raster("all"), rs.spike_raster("all"))
    np.testing.assert_allclose(rd["all", "v"], rs["all", "v"], atol=1e-12)


def test_two_runs_equal_one_long_run():
    net = _random_net("sparse")
    a = net.run(0.1, record={"all": ["v", "I_syn"]})
    b = net.run(0.15, record={"all": ["v", "I_syn"]})
    whole = _random_net("sparse").run(0.25, record={"all": ["v", "I_syn"]})
    np.testing.assert_allclose(b.t, whole.t[1000:], atol=1e-15)
    for state in ("v", "I_syn"):
        np.testing.assert_array_equal(np.vstack([a["all", state], b["all", state]]), whole["all", state])
    for i in range(100):
        joined = np.concatenate([a.spike_times["all"][i], b.spike_times["all"][i]])
        np.testing.assert_array_equal(joined, whole.spike_times["all"][i])
    assert net.t == pytest.approx(0.25)


def test_batch_equals_per_sample_runs():
    rng = np.random.default_rng(5)
    B = 3
    biases = rng.uniform(0.9, 1.6, (B, 100))
    batched = _random_net("sparse", batch=B, bias=biases).run(0.2, record={"all": {"v": [0, 5, 99]}})
    raster = batched.spike_raster("all")
    assert raster.shape == (2000, B, 100)
    assert batched["all", "v"].shape == (2000, B, 3)
    assert batched.rates("all").shape == (B, 100)
    for b in range(B):
        ref_net = _random_net("sparse", bias=biases[b])
        # same initial voltages as row b of the batch
        ref_net.populations[0].init["v"] = batched_init_v(B)[b][None, :]
        single = ref_net.run(0.2, record={"all": {"v": [0, 5, 99]}})
        np.testing.assert_array_equal(raster[:, b], single.spike_raster("all"))
        np.testing.assert_array_equal(batched["all", "v"][:, b], single["all", "v"])
        assert [t.tolist() for t in batched.spike_times["all"][b]] == [
            t.tolist() for t in single.spike_times["all"]
        ]


def test_batch_inputs_in_every_form_equal_per_sample_runs():
    B, steps, dt = 2, 1000, DT
    rng = np.random.default_rng(11)
    shared = rng.random((steps, 4)) < 0.05
    per_copy = rng.random((steps, B, 4)) < 0.05
    const = rng.uniform(0.5, 1.5, (B, 3))
    varying = rng.uniform(0.0, 0.5, (steps, B, 3))
    W = rng.uniform(0, 0.02, (3, 4))

    def build(batch, b=None):
        net = Network(dt=dt, batch=batch)
        pop = net.add_population(3, LIF(), name="p")
        pick = (lambda x: x) if b is None else (lambda x: x[b])
        net.add_input(pop, spikes=shared, weights=W)
        own = per_copy if b is None else per_copy[:, b]
        net.add_input(pop, spikes=own, weights=W, synapse=PSCFilter(0.01))
        net.add_input(pop, current=pick(const))
        net.add_input(pop, current=varying if b is None else varying[:, b])
        net.add_input(pop, current=lambda t: np.full(3, 0.1 * np.sin(50 * t)))
        return net.run(steps * dt, record={"p": ["v", "I_syn"]})

    batched = build(B)
    for b in range(B):
        single = build(None, b)
        np.testing.assert_array_equal(batched["p", "v"][:, b], single["p", "v"])
        np.testing.assert_array_equal(batched["p", "I_syn"][:, b], single["p", "I_syn"])
        np.testing.assert_array_equal(batched.spike_raster("p")[:, b], single.spike_raster("p"))


def batched_init_v(B):
    """The initial voltages that _random_net draws for a batch of B."""
    rng = np.random.default_rng(42)
    rng.random((100, 80))
    rng.random((100, 20))
    return rng.uniform(0, 1, (B, 100))


def test_float32_state_tracks_float64():
    r64 = _one_input_spike(LIF(), 0.01, PSCFilter(0.005, 1), 100, 2000)
    r32 = _one_input_spike(LIF(), 0.01, PSCFilter(0.005, 1), 100, 2000, dtype=np.float32)
    assert r32["post", "v"].dtype == np.float32
    np.testing.assert_allclose(r32["post", "v"], r64["post", "v"], atol=FLOAT32_ATOL)
    np.testing.assert_allclose(r32["post", "I_syn"], r64["post", "I_syn"], rtol=FLOAT32_ATOL, atol=1e-3)


def test_current_inputs_in_every_form_are_equivalent():
    steps = 1500
    J = 1.3 + 0.5 * np.sin(np.arange(steps) * DT * 40)[:, None] * np.ones((1, 2))

    def run(**inp):
        net = Network(dt=DT)
        pop = net.add_population(2, LIF(), name="p")
        net.add_input(pop, **inp)
        return net.run(steps * DT, record={"p": "v"})

    by_array = run(current=J)
    by_callable = run(current=lambda t: 1.3 + 0.5 * np.sin(round(t / DT) * DT * 40) * np.ones(2))
    np.testing.assert_allclose(by_array["p", "v"], by_callable["p", "v"], atol=EXACT_ATOL)
    const = run(current=np.array([1.5, 2.0]))
    net = Network(dt=DT)
    net.add_population(2, LIF(), bias=[1.5, 2.0], name="p")
    np.testing.assert_array_equal(const["p", "v"], net.run(steps * DT, record={"p": "v"})["p", "v"])


def test_time_varying_current_is_held_over_each_step():
    # Row k is constant over step k: v follows the exact piecewise solution.
    steps = 50
    J = np.linspace(0.0, 0.9, steps)[:, None]
    net = Network(dt=DT)
    pop = net.add_population(1, LIF(tau_m=0.01), name="p")
    net.add_input(pop, current=J)
    v = net.run(steps * DT, record={"p": "v"})["p", "v"][:, 0]
    a = np.exp(-DT / 0.01)
    expected = np.zeros(steps)
    for k in range(1, steps):
        expected[k] = a * expected[k - 1] + (1 - a) * J[k - 1, 0]
    np.testing.assert_allclose(v, expected, atol=EXACT_ATOL)


def test_record_selected_neurons_and_states():
    net = _random_net("sparse")
    res = net.run(0.05, record={"all": {"v": [3, 7], "I_syn": slice(0, 10, 5), "ref": None}})
    assert res["all", "v"].shape == (500, 2)
    np.testing.assert_array_equal(res.record_indices("all", "I_syn"), [0, 5])
    assert res["all", "ref"].shape == (500, 100)
    assert np.all(res["all", "ref"] >= 0) and np.all(res["all", "ref"] <= 0.002 + 1e-12)
    pop = net.populations[0]
    full = _random_net("sparse").run(0.05, record={pop.name: "v"})
    np.testing.assert_array_equal(res["all", "v"], full["all", "v"][:, [3, 7]])


def test_hh_population_receives_synaptic_current_in_ua_per_cm2():
    # An HH neuron driven only through a synapse: its current is w h(t - t_del)
    # in uA/cm^2; compare V with solve_ivp of the HH equations with that current.
    from spikenet.sim.kernels.hh import hh_rates

    dt = 1e-5
    syn, w = PSCFilter(0.002), 0.005  # 5 nC/cm^2 on 1 uF/cm^2: a 5 mV kick, sub-threshold
    res = _one_input_spike(HH(), w, syn, 100, 3000, dt=dt, record=("v", "I_syn", "m"))
    t_del = 101 * dt
    np.testing.assert_allclose(res["post", "I_syn"][:, 0], w * syn.kernel(res.t - t_del), atol=1e-9)
    hh = HH()

    def f(t, z):
        v, m, h, n = z
        am, bm, ah, bh, an, bn = hh_rates(v)
        I = w * syn.kernel(t * 1e-3 - t_del) if t * 1e-3 >= t_del else 0.0
        dv = (I - hh.g_na * m**3 * h * (v - hh.e_na) - hh.g_k * n**4 * (v - hh.e_k) - hh.g_l * (v - hh.e_l))
        return [dv / hh.c_m, am * (1 - m) - bm * m, ah * (1 - h) - bh * h, an * (1 - n) - bn * n]

    z0 = [res["post", "v"][0, 0], res["post", "m"][0, 0], *_hh_h_n(hh.v_init)]
    t_ms = res.t * 1e3
    sol = solve_ivp(f, (0, t_ms[-1]), z0, t_eval=t_ms, rtol=1e-10, atol=1e-12, max_step=0.005,
                    method="DOP853")
    assert np.ptp(res["post", "v"]) > 1.0  # the input really moved V
    # HH scheme error at dt = 0.01 ms: well below 0.01 mV sub-threshold.
    np.testing.assert_allclose(res["post", "v"][:, 0], sol.y[0], atol=0.01)


def _hh_h_n(v):
    from spikenet.sim.kernels.hh import hh_steady_state

    return hh_steady_state(v)[1:]


def test_lif_and_hh_populations_in_one_network():
    dt = 1e-5
    net = Network(dt=dt)
    hh = net.add_population(2, HH(), bias=[0.0, 10.0], name="hh")
    lif = net.add_population(1, LIF(), name="lif")
    net.connect(hh, lif, [[0.5, 0.5]], synapse=PSCFilter(0.002))
    res = net.run(0.05, record={"lif": "I_syn"})
    hh_times = res.spike_times["hh"]
    assert hh_times[0].size == 0 and hh_times[1].size >= 3  # 10 uA/cm^2 fires repetitively
    # the LIF's current is the sum of kernels of the HH spikes (next-step delivery)
    steps = np.floor(hh_times[1] / dt + 1e-9).astype(int)
    expected = sum(0.5 * PSCFilter(0.002).kernel(res.t - (k + 1) * dt) for k in steps)
    np.testing.assert_allclose(res["lif", "I_syn"][:, 0], expected, atol=1e-9)


# --- bad input -------------------------------------------------------------


@pytest.fixture
def two_pops():
    net = Network(dt=DT)
    return net, net.add_population(3, LIF(), name="a"), net.add_population(2, LIF(), name="b")


def test_connect_rejects_weights_of_the_wrong_shape(two_pops):
    net, a, b = two_pops
    with pytest.raises(ValueError, match=r"weights must have shape \(post.n, pre.n\) = \(2, 3\)"):
        net.connect(a, b, np.ones((3, 2)))


def test_connect_rejects_sparse_weights_of_the_wrong_shape(two_pops):
    net, a, b = two_pops
    with pytest.raises(ValueError, match="weights"):
        net.connect(a, b, sp.csr_matrix(np.ones((3, 2))))


def test_connect_rejects_population_of_another_network(two_pops):
    net, a, _ = two_pops
    other = Network().add_population(2, LIF(), name="x")
    with pytest.raises(ValueError, match="another Network"):
        net.connect(a, other, 0.1)


def test_connect_rejects_negative_delay(two_pops):
    net, a, b = two_pops
    with pytest.raises(ValueError, match="delay"):
        net.connect(a, b, 0.1, delay=-0.001)


def test_connect_rejects_nan_weights(two_pops):
    net, a, b = two_pops
    w = np.ones((2, 3))
    w[0, 1] = np.nan
    with pytest.raises(ValueError, match="weights contains NaN"):
        net.connect(a, b, w)


def test_connect_rejects_inf_sparse_weights(two_pops):
    net, a, b = two_pops
    with pytest.raises(ValueError, match="weights contains NaN or inf"):
        net.connect(a, b, sp.csr_matrix(np.array([[np.inf, 0, 0], [0, 0, 0]])))


def test_connect_rejects_non_filter_synapse(two_pops):
    net, a, b = two_pops
    with pytest.raises(TypeError, match="synapse"):
        net.connect(a, b, 0.1, synapse=0.005)


def test_connect_rejects_unknown_population_name(two_pops):
    net, a, _ = two_pops
    with pytest.raises(ValueError, match="did you mean 'b'"):
        net.connect(a, "bb", 0.1)


def test_connect_rejects_probability_above_one(two_pops):
    net, a, b = two_pops
    with pytest.raises(ValueError, match="p must be"):
        net.connect(a, b, 0.1, p=1.5)


def test_spike_input_rejects_raster_too_short_for_the_run(two_pops):
    net, a, _ = two_pops
    net.add_input(a, spikes=np.zeros((100, 3), dtype=bool))
    with pytest.raises(ValueError, match=r"spikes \(input 0\) has 100 rows but the run needs 200"):
        net.run(200 * DT)


def test_spike_input_rejects_raster_too_short_for_a_continued_run(two_pops):
    net, a, _ = two_pops
    net.add_input(a, spikes=np.zeros((100, 3), dtype=bool))
    net.run(80 * DT)
    with pytest.raises(ValueError, match="rows but the run needs 160"):
        net.run(80 * DT)


def test_current_input_rejects_array_too_short_for_the_run(two_pops):
    net, a, _ = two_pops
    net.add_input(a, current=np.ones((10, 3)))
    with pytest.raises(ValueError, match="current"):
        net.run(20 * DT)


def test_spike_input_rejects_wrong_number_of_columns_for_one_to_one(two_pops):
    net, a, _ = two_pops
    with pytest.raises(ValueError, match="one-to-one"):
        net.add_input(a, spikes=np.zeros((10, 4), dtype=bool))


def test_spike_input_rejects_counts(two_pops):
    net, a, _ = two_pops
    with pytest.raises(ValueError, match="spikes"):
        net.add_input(a, spikes=np.full((10, 3), 2.0))


def test_add_input_needs_exactly_one_kind(two_pops):
    net, a, _ = two_pops
    with pytest.raises(ValueError, match="exactly one"):
        net.add_input(a)


def test_current_input_rejects_wrong_shape(two_pops):
    net, a, _ = two_pops
    with pytest.raises(ValueError, match="current"):
        net.add_input(a, current=np.ones((10, 4)))


def test_callable_current_with_wrong_shape_raises_at_run(two_pops):
    net, a, _ = two_pops
    net.add_input(a, current=lambda t: np.ones(5))
    with pytest.raises(ValueError, match=r"returned shape \(5,\)"):
        net.run(10 * DT)


def test_callable_current_returning_nan_raises(two_pops):
    net, a, _ = two_pops
    net.add_input(a, current=lambda t: np.full(3, np.nan))
    with pytest.raises(ValueError, match="NaN"):
        net.run(10 * DT)


def test_bias_of_the_wrong_shape_raises():
    with pytest.raises(ValueError, match="bias"):
        Network().add_population(3, LIF(), bias=np.ones(4))


def test_add_population_rejects_non_neuron():
    with pytest.raises(TypeError, match="neuron"):
        Network().add_population(3, "LIF")


def test_add_population_rejects_duplicate_name(two_pops):
    net, _, _ = two_pops
    with pytest.raises(ValueError, match="already used"):
        net.add_population(1, LIF(), name="a")


def test_init_rejects_unknown_state():
    with pytest.raises(ValueError, match="did you mean 'v'"):
        Network().add_population(3, LIF(), init={"vv": 0.5})


def test_record_rejects_unknown_state_with_suggestion(two_pops):
    net, _, _ = two_pops
    with pytest.raises(ValueError, match="did you mean 'I_syn'"):
        net.run(10 * DT, record={"a": "I_sin"})


def test_record_rejects_out_of_range_indices(two_pops):
    net, _, _ = two_pops
    with pytest.raises(ValueError, match="indices outside"):
        net.run(10 * DT, record={"a": {"v": [5]}})


def test_unrecorded_state_lookup_says_how_to_record(two_pops):
    net, _, _ = two_pops
    res = net.run(10 * DT)
    with pytest.raises(KeyError, match="record="):
        res["a", "v"]


def test_structure_is_fixed_after_the_first_run(two_pops):
    net, a, b = two_pops
    net.run(10 * DT)
    with pytest.raises(RuntimeError, match="fixed"):
        net.connect(a, b, 0.1)


def test_network_rejects_non_positive_dt():
    with pytest.raises(ValueError, match="dt"):
        Network(dt=0.0)


def test_network_rejects_bad_dtype():
    with pytest.raises(TypeError, match="dtype"):
        Network(dtype=np.int32)


def test_run_rejects_non_positive_T(two_pops):
    net, _, _ = two_pops
    with pytest.raises(ValueError, match="T"):
        net.run(-1.0)


def test_batch_bias_of_the_wrong_batch_size_raises():
    with pytest.raises(ValueError, match="bias"):
        Network(batch=2).add_population(3, LIF(), bias=np.ones((3, 3)))


def test_random_connectivity_has_binomial_count():
    # each pair independently with p: count ~ Binomial(n_post n_pre, p)
    net = Network(seed=1)
    a = net.add_population(400, LIF())
    b = net.add_population(300, LIF())
    net.connect(a, b, 0.1, p=0.02)
    w = net.connections[0].weights
    n, p = 400 * 300, 0.02
    assert abs(w.nnz - n * p) < 5 * np.sqrt(n * p * (1 - p))
    assert np.all(w.data == 0.1)
    again = Network(seed=1)
    a2, b2 = again.add_population(400, LIF()), again.add_population(300, LIF())
    again.connect(a2, b2, 0.1, p=0.02)
    assert (again.connections[0].weights != w).nnz == 0


def test_poisson_input_drives_mean_current():
    # many Poisson inputs with weight w at rate r give a mean drive of r n_in w.
    net = Network(dt=DT)
    pop = net.add_population(1, LIF(v_th=1e9), name="p")
    net.add_input(pop, spikes=poisson_spikes(200.0, 2.0, DT, n=50, seed=3), weights=0.01)
    res = net.run(2.0, record={"p": "I_syn"})
    mean_drive = res["p", "I_syn"][2000:].mean()
    # 200 Hz x 50 inputs x 0.01 = 100; the mean of ~18000 spikes over 1.8 s has
    # relative SE ~ 1/sqrt(18000) < 1%, so 5% is > 5 SE.
    assert abs(mean_drive - 200 * 50 * 0.01) < 0.05 * 100


def test_progress_chunks_and_spike_buffer_growth_do_not_change_results(monkeypatch, capsys):
    import spikenet.sim.network as network_module

    plain = _random_net("sparse").run(0.2, record={"all": "v"})
    # tiny initial spike buffers force the kernel to stop, grow and resume
    monkeypatch.setattr(network_module, "_initial_capacity", lambda n: 1)
    grown = _random_net("sparse").run(0.2, record={"all": "v"})
    np.testing.assert_array_equal(grown["all", "v"], plain["all", "v"])
    np.testing.assert_array_equal(grown.spike_raster("all"), plain.spike_raster("all"))
    net = _random_net("sparse")
    net.add_input("all", current=lambda t: np.zeros(100))  # evaluated chunk by chunk
    chunked = net.run(0.2, record={"all": "v"}, progress=True)
    assert "Network.run" in capsys.readouterr().err  # the tqdm bar was shown
    np.testing.assert_array_equal(chunked["all", "v"], plain["all", "v"])
    np.testing.assert_array_equal(chunked.spike_raster("all"), plain.spike_raster("all"))


def test_fused_and_generic_lif_passes_give_the_same_spikes():
    # The same two-population network once with constant inputs (every LIF
    # population takes the fused pass, so the generic pass is pruned from the
    # compiled kernel) and once with the same input given as a time-varying
    # current (the generic pass): identical dynamics, so identical spikes.
    def build(varying):
        net = Network(dt=1e-4, seed=3)
        rng = np.random.default_rng(3)
        a = net.add_population(40, LIF(tau_m=0.02, tau_ref=0.002), bias=0.0, init={"v": rng.random(40)})
        b = net.add_population(30, LIF(tau_m=0.02, tau_ref=0.002), bias=0.0, init={"v": rng.random(30)})
        for pop in (a, b):
            drive = np.full(pop.n, 1.3)
            net.add_input(pop, current=np.tile(drive, (2000, 1)) if varying else drive)
        net.connect(a, b, 0.02, synapse=PSCFilter(0.005), p=0.3)
        net.connect(b, a, -0.02, synapse=PSCFilter(0.01), p=0.3)
        return net, a, b

    fused, fa, fb = build(False)
    generic, ga, gb = build(True)
    rf, rg = fused.run(0.2), generic.run(0.2)
    assert fused._built["with_generic"] is None and generic._built["with_generic"] is not None
    n_spikes = sum(len(s) for s in rf.spike_times[fa]) + sum(len(s) for s in rf.spike_times[fb])
    assert n_spikes > 100
    for pf, pg in ((fa, ga), (fb, gb)):
        for sf, sg in zip(rf.spike_times[pf], rg.spike_times[pg]):
            np.testing.assert_allclose(sf, sg, rtol=0, atol=1e-12)


def _two_lif_pops(dtype, batch=None):
    """E (1500 neurons: whole and partial kernel blocks) and I (300), one bias each, two PSC synapses."""
    net = Network(dt=DT, seed=5, dtype=dtype, batch=batch)
    rng = np.random.default_rng(5)
    v0 = rng.random(1800) if batch is None else rng.random((batch, 1800))
    e = net.add_population(1500, LIF(tau_m=0.02, tau_ref=0.005), bias=1.1, init={"v": v0[..., :1500]})
    i = net.add_population(300, LIF(tau_m=0.02, tau_ref=0.005), bias=1.1, init={"v": v0[..., 1500:]})
    for pre, w, tau in ((e, 0.0016, 0.005), (i, -0.009, 0.01)):
        for post in (e, i):
            net.connect(pre, post, w, synapse=PSCFilter(tau), p=0.05)
    return net, e, i


def _run_steps(net, pops, plan, per_neuron_drive):
    """Run ``plan``: floats are run lengths (s), tuples ``(pop, bias)`` calls to ``set``.

    With ``per_neuron_drive`` the fused pass is made to read every neuron's
    drive from the drive array, as for a population with several drives.
    """
    out = []
    for item in plan:
        if isinstance(item, tuple):
            net.set(item[0], bias=item[1])
        else:
            if net._built is None:
                out.append(net.run(DT, record=dict.fromkeys(pops, "v")))
                item -= DT
            if per_neuron_drive:
                net._built["pop_fuse"][:, 3] = 0
            out.append(net.run(item, record=dict.fromkeys(pops, "v")))
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_population_with_one_drive_gives_the_same_bits_as_per_neuron_drives(dtype):
    # A fused LIF population whose neurons share one constant drive reads it
    # from a small block of copies instead of the drive array. Forcing the
    # drive-array path on the same network must change no bit, across a
    # change to per-neuron biases (block path off) and back to one bias
    # (block path on, with the new value).
    ref_net, e, i = _two_lif_pops(dtype)
    net, e2, i2 = _two_lif_pops(dtype)
    per_neuron = np.random.default_rng(1).uniform(1.0, 1.3, 1500)
    plan = [0.05, "e-array", 0.05, "e-one", 0.05]
    fused = []
    for name, netw, pops, forced in (("block", ref_net, (e, i), False), ("array", net, (e2, i2), True)):
        steps = [(pops[0], per_neuron) if x == "e-array" else (pops[0], 1.25) if x == "e-one" else x
                 for x in plan]
        fused.append(_run_steps(netw, pops, steps, forced))
        if name == "block":  # the block path was taken, and follows the bias changes
            bd = netw._built
            assert bd["pop_fuse"][:, 0].tolist() == [2, 2] and bd["pop_fuse"][:, 3].tolist() == [1, 1]
            assert np.all(bd["pop_jblock"][0] == dtype(1.25)) and np.all(bd["pop_jblock"][1] == dtype(1.1))
    n_spikes = 0
    for ra, rb in zip(*fused):
        for pa, pb in ((e, e2), (i, i2)):
            for xa, xb in zip(ra.spike_events(pa), rb.spike_events(pb)):
                np.testing.assert_array_equal(xa, xb)
            np.testing.assert_array_equal(ra[pa, "v"], rb[pb, "v"])
            n_spikes += len(ra.spike_events(pa)[0])
    assert n_spikes > 1000


def test_one_drive_per_batch_copy_is_not_one_drive_and_each_copy_follows_its_own():
    # Different biases in different batch copies are not one drive: the
    # fused pass reads the drive array. Each copy must spike as the same copy
    # of a network where every copy has that bias (which takes the block path).
    net, e, _ = _two_lif_pops(np.float64, batch=2)
    net.set(e, bias=np.array([[1.1] * 1500, [1.2] * 1500]))
    res = net.run(0.05)
    assert net._built["pop_fuse"][:, 3].tolist() == [0, 1]
    for copy, bias in ((0, 1.1), (1, 1.2)):
        one, e1, _ = _two_lif_pops(np.float64, batch=2)
        one.set(e1, bias=bias)
        ref = one.run(0.05)
        assert one._built["pop_fuse"][:, 3].tolist() == [1, 1]
        got, want = res.spike_events(e), ref.spike_events(e1)
        mine, theirs = got[2] == copy, want[2] == copy
        assert mine.sum() > 100
        np.testing.assert_array_equal(got[0][mine], want[0][theirs])
        np.testing.assert_array_equal(got[1][mine], want[1][theirs])


def test_code_paths_a_network_lacks_are_pruned_and_spikes_do_not_depend_on_it():
    # Delivery code for connection kinds a network does not use, and the
    # recording pass when nothing is recorded, are pruned from its kernel
    # (None-typed arguments). Recording or not, and dense or sparse weights,
    # must not change the spikes.
    dense, sparse = _random_net("dense"), _random_net("sparse")
    spikes_only = sparse.run(0.3)
    recorded = _random_net("sparse").run(0.3, record={"all": "v"})
    from_dense = dense.run(0.3)
    assert dense._built["with_dense"] is not None and dense._built["with_sparse_w"] is None
    # the sparse net has one connection with per-synapse weights, one with a shared weight
    assert sparse._built["with_dense"] is None and sparse._built["with_sparse_w"] is not None
    assert sum(len(s) for s in spikes_only.spike_times["all"]) > 50
    for a, b, c in zip(spikes_only.spike_times["all"], recorded.spike_times["all"],
                       from_dense.spike_times["all"]):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=0, atol=1e-12)


def test_spike_steps_give_the_step_of_each_spike_event_in_the_same_order():
    # Two batch copies of two populations: each spike's step holds its time,
    # and the steps follow spike_events' order (the rows of a raster).
    net = Network(dt=1e-4, batch=2)
    net.add_population(30, LIF(tau_ref=0.002), bias=np.linspace(1.1, 3.0, 30) * np.ones((2, 1)), name="a")
    net.add_population(20, LIF(), bias=np.linspace(1.5, 2.5, 20), name="b")
    net.run(0.01)
    res = net.run(0.05)  # a second run: global steps start after the first
    for pop in ("a", "b"):
        t, i, copy = res.spike_events(pop)
        k = res.spike_steps(pop)
        assert k.dtype == np.int64 and k.shape == t.shape and t.size > 50
        assert np.all(k * 1e-4 <= t + 1e-15) and np.all(t < (k + 1) * 1e-4)
        assert k.min() >= 100
        raster = res.spike_raster(pop)
        assert raster.sum() == k.size
        assert np.all(raster[k - res.k_begin, copy, i])
