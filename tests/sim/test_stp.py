"""Tsodyks-Markram short-term plasticity in the network engine.

Delivered amplitudes are read off the post-synaptic traces: for a LIF neuron
without drive and a Delta synapse, ``v[k] - exp(-dt/tau_m) v[k-1]`` is the sum
of the jumps arriving at ``t[k]``; for a single-stage PSC filter,
``I[k] - exp(-dt/tau_s) I[k-1]`` is their sum divided by ``tau_s``. They are
compared with the Tsodyks-Markram recursion written out here in numpy
(NEST's ``tsodyks2_synapse`` convention) and with its closed-form fixed point.
"""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from spikenet.sim import HH, LIF, Delta, Network, PSCFilter, TsodyksMarkram
from spikenet.sim.stp import steady_state
from tests.sim.keys import key_entry

DT = 1e-4
TAU_M = 0.02
# Depressing synapse (Tsodyks & Markram 1997) and facilitating one (Markram et al. 1998).
DEPRESSING = TsodyksMarkram(U=0.5, tau_rec=0.8, tau_facil=0.0)
FACILITATING = TsodyksMarkram(U=0.03, tau_rec=0.13, tau_facil=0.53)
# The amplitudes are sums of a few float64 products: equal to rounding.
ATOL = 1e-12


def tm_factors(steps, U, tau_rec, tau_facil, dt=DT):
    """The factor ``u x`` of each spike of a train at the given steps (independent numpy recursion)."""
    out = []
    x, u, last = 1.0, U, None
    for s in steps:
        if last is not None:
            h = (s - last) * dt
            x = 1.0 + (x - x * u - 1.0) * np.exp(-h / tau_rec)
            u = U + u * (1.0 - U) * (np.exp(-h / tau_facil) if tau_facil > 0 else 0.0)
        out.append(u * x)
        last = s
    return np.array(out)


def _jumps(v, tau=TAU_M):
    """Per-step increments of a trace that decays with ``tau`` between them (row k: arrivals at t[k])."""
    out = np.zeros_like(v)
    out[1:] = v[1:] - math.exp(-DT / tau) * v[:-1]
    out[0] = v[0]
    return out


def _pre(net, raster):
    """A population whose neuron i spikes at the end of step k when ``raster[k, i]`` (a jump above threshold).

    Its spike then belongs to step k: it reaches a synapse of delay ``d``
    steps at ``t[k + 1 + d]``.
    """
    n = raster.shape[-1]
    pop = net.add_population(n, LIF(tau_m=TAU_M, tau_ref=0.0), name="pre")
    net.add_input(pop, spikes=raster, weights=2.0 * np.eye(n), synapse=Delta())
    return pop


def _silent():
    """A LIF that never fires: its voltage is the sum of the jumps it receives, decaying with tau_m."""
    return LIF(tau_m=TAU_M, tau_ref=0.0, v_th=1e6)


@pytest.mark.parametrize("rule", [DEPRESSING, FACILITATING], ids=["depressing", "facilitating"])
def test_regular_train_amplitudes_follow_the_recursion_and_reach_the_fixed_point(rule):
    rate, w, n_spk = 50.0, 0.1, 400  # 400 spikes: within 1e-12 of the fixed point
    period = round(1 / rate / DT)
    steps = period * n_spk + 5
    raster = np.zeros((steps, 1), bool)
    raster[0:period * n_spk:period] = True
    net = Network(dt=DT)
    pre = _pre(net, raster)
    post = net.add_population(1, _silent(), name="post")
    net.connect(pre, post, w, synapse=Delta(), delay=DT, plasticity=rule)
    res = net.run(steps * DT, record={post: "v"})
    jumps = _jumps(res[post, "v"][:, 0])
    arrive = np.nonzero(raster[:, 0])[0] + 2  # spike of step k, delay 1 step: arrives at t[k + 2]
    expected = w * tm_factors(np.nonzero(raster[:, 0])[0], rule.U, rule.tau_rec, rule.tau_facil)
    np.testing.assert_allclose(jumps[arrive], expected, rtol=0, atol=ATOL)
    others = np.ones(steps, bool)
    others[arrive] = False
    assert np.abs(jumps[others]).max() < ATOL
    # the closed-form fixed point of a regular train, written out here
    h = 1 / rate
    f = math.exp(-h / rule.tau_facil) if rule.tau_facil else 0.0
    d = math.exp(-h / rule.tau_rec)
    u_star = rule.U / (1 - (1 - rule.U) * f)
    x_star = (1 - d) / (1 - (1 - u_star) * d)
    assert steady_state(rule, rate) == pytest.approx((u_star, x_star), rel=1e-14)
    # it is a fixed point of the recursion, and the train's last amplitudes are there
    assert 1 + (x_star - u_star * x_star - 1) * d == pytest.approx(x_star, rel=1e-14)
    assert rule.U + u_star * (1 - rule.U) * f == pytest.approx(u_star, rel=1e-14)
    np.testing.assert_allclose(jumps[arrive[-1]] / jumps[arrive[0]], u_star * x_star / rule.U, rtol=1e-9)
    # depression lowers, facilitation raises the steady amplitude
    assert (jumps[arrive[-1]] < jumps[arrive[0]]) == (rule.tau_facil == 0)


N_POST = 150  # > 64: with threads=2 the post populations are split (cuts fall on multiples of 64)
_RULES = [DEPRESSING, FACILITATING, TsodyksMarkram(0.2, 0.05, 0.1), DEPRESSING, FACILITATING]


def _forms(rng, n_pre):
    """The weight/delay forms of the five connections: every delivery path of the kernel."""
    w = rng.uniform(0.01, 0.1, (N_POST, n_pre))
    w[rng.random(w.shape) < 0.3] = 0.0
    d = rng.integers(1, 6, w.shape)  # steps
    ws = sp.csr_matrix(w)
    dsp = sp.csr_matrix((DT * d[ws.nonzero()], ws.indices, ws.indptr), shape=w.shape)
    uni = ws.copy()
    uni.data[:] = 0.04
    return [
        ("dense", w, 2 * DT),  # dense rows
        ("sparse", ws, 3 * DT),  # CSR with per-synapse weights
        ("uniform", uni, DT),  # CSR sharing one weight
        ("dense_delays", w, DT * d),  # per-synapse delays, dense
        ("sparse_delays", ws, dsp),  # per-synapse delays, sparse
    ]


def _multi(batch=None, threads=None, dtype=np.float64):
    """Three pre neurons with irregular trains, five post populations, one per connection form."""
    rng = np.random.default_rng(3)
    steps = 3000
    shape = (steps, batch, 3) if batch else (steps, 3)
    raster = rng.random(shape) < 0.01
    raster[-10:] = False
    net = Network(dt=DT, batch=batch, threads=threads, dtype=dtype)
    pre = _pre(net, raster)
    posts = []
    expected = []
    for q, (name, w, d) in enumerate(_forms(rng, 3)):
        post = net.add_population(N_POST, _silent(), name=name)
        posts.append(post)
        rule = _RULES[q]
        net.connect(pre, post, w, synapse=Delta(), delay=d, plasticity=rule)
        wd = w.toarray() if sp.issparse(w) else w
        dd = d.toarray() if sp.issparse(d) else np.broadcast_to(d, wd.shape)
        dd = np.rint(dd / DT).astype(int)
        exp = np.zeros((steps,) + ((batch,) if batch else ()) + (N_POST,))
        for b in range(batch or 1):
            r = raster[:, b] if batch else raster
            for j in range(3):
                k = np.nonzero(r[:, j])[0]
                for i in np.nonzero(wd[:, j])[0]:
                    # each synapse on its own, from the times its spikes arrive
                    arr = k + 1 + dd[i, j]
                    f = tm_factors(arr, rule.U, rule.tau_rec, rule.tau_facil)
                    ok = arr < steps
                    idx = (arr[ok], b, i) if batch else (arr[ok], i)
                    np.add.at(exp, idx, wd[i, j] * f[ok])
        expected.append(exp)
    return net, posts, expected, steps


def test_every_connection_form_delivers_the_recursion_amplitudes_per_synapse():
    net, posts, expected, steps = _multi()
    res = net.run(steps * DT, record=dict.fromkeys(posts, "v"))
    for post, exp in zip(posts, expected):
        np.testing.assert_allclose(_jumps(res[post, "v"]), exp, rtol=0, atol=ATOL, err_msg=post.name)


def test_parts_on_two_threads_each_keep_the_presynaptic_state():
    net, posts, expected, steps = _multi(threads=2)
    assert net._n_parts(3 + 5 * N_POST) == 2  # the second part has post neurons but no pre neuron
    res = net.run(steps * DT, record=dict.fromkeys(posts, "v"))
    for post, exp in zip(posts, expected):
        np.testing.assert_allclose(_jumps(res[post, "v"]), exp, rtol=0, atol=ATOL, err_msg=post.name)


@pytest.mark.slow  # compiles the batched (parallel) kernel for this configuration: about a minute
def test_batch_copies_keep_their_own_state():
    net, posts, expected, steps = _multi(batch=2)  # two copies with different pre trains
    res = net.run(steps * DT, record=dict.fromkeys(posts, "v"))
    for post, exp in zip(posts, expected):
        np.testing.assert_allclose(_jumps(res[post, "v"]), exp, rtol=0, atol=ATOL, err_msg=post.name)


@pytest.mark.slow  # compiles the float32 kernel of this configuration
def test_float32_state_delivers_the_amplitudes_to_single_precision():
    net, posts, expected, steps = _multi(dtype=np.float32)
    res = net.run(steps * DT, record=dict.fromkeys(posts, "v"))
    for post, exp in zip(posts, expected):
        v = res[post, "v"].astype(np.float64)
        # float32 voltages of size <= 0.5: the extracted jumps carry ~1e-7 of rounding
        np.testing.assert_allclose(_jumps(v), exp, rtol=0, atol=2e-7, err_msg=post.name)


def test_psc_filter_synapse_carries_the_same_amplitudes():
    tau_s = 0.005
    period = 100  # 100 Hz
    steps = 40 * period
    raster = np.zeros((steps, 1), bool)
    raster[:steps - period:period] = True
    net = Network(dt=DT)
    pre = _pre(net, raster)
    post = net.add_population(1, _silent(), name="post")
    net.connect(pre, post, 0.3, synapse=PSCFilter(tau_s), delay=DT, plasticity=FACILITATING)
    res = net.run(steps * DT, record={post: "I_syn"})
    k = np.nonzero(raster[:, 0])[0]
    exp = np.zeros(steps)
    exp[k + 2] = 0.3 * tm_factors(k, FACILITATING.U, FACILITATING.tau_rec, FACILITATING.tau_facil)
    np.testing.assert_allclose(_jumps(res[post, "I_syn"][:, 0], tau_s) * tau_s, exp, rtol=0, atol=ATOL)


@pytest.mark.slow  # compiles the HH kernel of this configuration
def test_hodgkin_huxley_target_receives_the_same_amplitudes():
    tau_s = 0.004
    period = 250
    steps = 30 * period
    raster = np.zeros((steps, 1), bool)
    raster[:steps - period:period] = True
    net = Network(dt=DT)
    pre = _pre(net, raster)
    post = net.add_population(1, HH(), name="post")
    net.connect(pre, post, 0.02, synapse=PSCFilter(tau_s), delay=DT, plasticity=DEPRESSING)
    res = net.run(steps * DT, record={post: "I_syn"})
    k = np.nonzero(raster[:, 0])[0]
    exp = np.zeros(steps)
    exp[k + 2] = 0.02 * tm_factors(k, DEPRESSING.U, DEPRESSING.tau_rec, DEPRESSING.tau_facil)
    np.testing.assert_allclose(_jumps(res[post, "I_syn"][:, 0], tau_s) * tau_s, exp, rtol=0, atol=ATOL)


def test_runs_and_set_continue_the_state_and_reset_restores_it():
    period = 150
    steps = 20 * period
    raster = np.zeros((steps, 1), bool)
    raster[::period] = True

    def build():
        net = Network(dt=DT)
        pre = _pre(net, raster)
        post = net.add_population(1, _silent(), name="post")
        net.connect(pre, post, 0.1, synapse=Delta(), delay=DT, plasticity=DEPRESSING)
        return net, post

    net, post = build()
    whole = net.run(steps * DT, record={post: "v"})[post, "v"]
    net2, post2 = build()
    first = net2.run(steps * DT / 2, record={post2: "v"})[post2, "v"]
    net2.set(post2, bias=0.0)  # rebuilds the network's constants around its state, the synapses' included
    second = net2.run(steps * DT / 2, record={post2: "v"})[post2, "v"]
    np.testing.assert_array_equal(np.concatenate([first, second]), whole)
    net2.reset()
    again = net2.run(steps * DT, record={post2: "v"})[post2, "v"]
    np.testing.assert_array_equal(again, whole)


def test_networks_without_plasticity_pass_none_and_with_it_a_keyed_tuple():
    from spikenet.sim import aot

    net = Network(dt=DT)
    a = net.add_population(2, LIF(), bias=1.5)
    b = net.add_population(2, LIF())
    net.connect(a, b, 0.1)
    net.run(0.001)
    assert net._built["stp"] is None
    assert key_entry(net, "stp") == "none"
    raster = np.zeros((10, 1), bool)
    net = Network(dt=DT)  # the configuration of the regular-train test (no new compilation)
    pre = _pre(net, raster)
    post = net.add_population(1, _silent(), name="post")
    net.connect(pre, post, 0.1, synapse=Delta(), delay=DT, plasticity=DEPRESSING)
    net.connect(post, pre, 0.1, synapse=Delta(), delay=DT)
    net.run(10 * DT, record={post: "v"})
    st = net._built["stp"]
    np.testing.assert_array_equal(st.conn_off, [-1, 0, -1])  # the input, pre -> post, post -> pre
    assert key_entry(net, "stp") == "STPArgs(int64:1C,float64:2C,float64:2C,float64:2C,int64:2C)"
    assert aot.lookup(net._kernel_key) is None  # not a configuration of the compiled module: the JIT kernel
    # the key of the compiled signature is the same (so the module builder can recognise and skip it)
    from spikenet.sim.kernels.network import _run_copy

    assert net._kernel_key in {"|".join(aot._type_key(t) for t in sig[2:]) for sig in _run_copy.signatures}
    with pytest.raises(ValueError, match=r"networks: .* plasticity"):
        aot.build([net])


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"U": 0.0}, "U"), ({"U": 1.5}, "U"), ({"U": float("nan")}, "U"), ({"tau_rec": 0.0}, "tau_rec"),
    ({"tau_rec": -1.0}, "tau_rec"), ({"tau_facil": -0.1}, "tau_facil"),
    ({"tau_facil": float("inf")}, "tau_facil"),
])
def test_bad_parameters_raise_naming_them(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        TsodyksMarkram(**kwargs)


def test_bad_plasticity_and_rate_raise_naming_them():
    net = Network(dt=DT)
    a = net.add_population(2, LIF())
    with pytest.raises(TypeError, match="plasticity"):
        net.connect(a, a, 0.1, plasticity="tsodyks")
    with pytest.raises(TypeError, match="plasticity"):
        net.connect(a, a, 0.1, plasticity=PSCFilter(0.01))
    with pytest.raises(ValueError, match="rate"):
        steady_state(DEPRESSING, 0.0)
    with pytest.raises(TypeError, match="stp"):
        steady_state(0.5, 10.0)


@pytest.mark.nest
def test_amplitudes_equal_nest_tsodyks2_synapse():
    from tests.sim.nest_tsodyks import run_nest_tsodyks

    rules = [DEPRESSING, FACILITATING]
    steps, w = 10000, 1.0
    raster = np.zeros((steps, 1), bool)
    raster[100:5000:500] = True  # 20 Hz, then an irregular train (mean 40 Hz), then silence
    rng = np.random.default_rng(11)
    raster[5000:9000, 0] = rng.random(4000) < 0.004
    net = Network(dt=DT)
    pre = _pre(net, raster)
    posts = []
    for q, rule in enumerate(rules):
        posts.append(net.add_population(1, _silent(), name=f"post{q}"))
        net.connect(pre, posts[-1], w, synapse=Delta(), delay=5 * DT, plasticity=rule)
    res = net.run(steps * DT, record=dict.fromkeys(posts, "v"))
    k = np.nonzero(raster[:, 0])[0]
    v_nest = run_nest_tsodyks(DT, steps * DT, (k + 1) * DT, w, 5 * DT, TAU_M,
                              [(r.U, r.tau_rec, r.tau_facil) for r in rules])
    for q, post in enumerate(posts):
        ours = _jumps(res[post, "v"][:, 0])
        theirs = _jumps(v_nest[:, q])
        at_ours = np.nonzero(np.abs(ours) > 1e-9)[0]
        at_theirs = np.nonzero(np.abs(theirs) > 1e-9)[0]
        assert at_ours.size == at_theirs.size == k.size
        np.testing.assert_array_equal(np.diff(at_ours), np.diff(at_theirs))  # the same arrival times
        np.testing.assert_allclose(ours[at_ours], theirs[at_theirs], rtol=1e-12, atol=0)
