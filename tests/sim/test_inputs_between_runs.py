"""Inputs that change between runs: Poisson input rates (Network.set_input) and spike-source populations."""

import numpy as np
import pytest

from spikenet.sim import LIF, Delta, Input, Network, PoissonSource, SpikeSource

DT = 1e-4
# no decay, no threshold within reach: v counts the jumps of a Delta synapse
COUNTER = LIF(tau_m=1e6, tau_ref=0.0, v_th=1e9, v_reset=0.0)
W = 0.5


def _counts(v):
    """Jumps per step (steps - 1, ...) recovered from the recorded voltage of COUNTER neurons."""
    c = np.diff(v, axis=0) / W
    assert np.allclose(c, np.rint(c), atol=1e-6)
    return np.rint(c).astype(np.int64)


def _counter_net(rate, n=40, seed=3, **kw):
    net = Network(dt=DT, seed=seed, **kw)
    a = net.add_population(n, COUNTER, name="a")
    return net, net.add_input(a, rate=rate, weights=W, synapse=Delta())


def test_set_input_changes_the_rate_from_the_current_time_on():
    n, r1, r2, t1, t2 = 40, 200.0, 900.0, 0.2, 0.3
    net, inp = _counter_net(r1, n)
    assert isinstance(inp, Input) and inp.kind == "rate" and np.all(inp.rate == r1)
    v1 = net.run(t1, record={"a": "v"})["a", "v"]
    net.set_input(inp, rate=r2)
    assert np.all(inp.rate == r2)
    v2 = net.run(t2, record={"a": "v"})["a", "v"]
    c = _counts(np.concatenate([v1, v2]))  # row k: the jumps at the start of step k + 1
    k1 = round(t1 / DT)
    first, second = c[:k1 - 1].sum(), c[k1 - 1:].sum()
    mean1, mean2 = n * r1 * (k1 - 1) * DT, n * r2 * t2
    assert abs(first - mean1) < 4 * np.sqrt(mean1)
    assert abs(second - mean2) < 4 * np.sqrt(mean2)
    # the contract: the count of a step depends on the seed, the step, the source and the rate in
    # force, so the steps after set_input are those of a network built with r2 (same seed), and
    # the steps before are those of a network built with r1
    fresh2, _ = _counter_net(r2, n)
    f2 = _counts(fresh2.run(t1 + t2, record={"a": "v"})["a", "v"])
    fresh1, _ = _counter_net(r1, n)
    f1 = _counts(fresh1.run(t1, record={"a": "v"})["a", "v"])
    assert np.array_equal(c[k1 - 1:], f2[k1 - 1:])
    assert np.array_equal(c[:k1 - 1], f1)
    assert not np.array_equal(c[:k1 - 1], f2[:k1 - 1])


def test_set_input_per_source_rates_of_shared_sources():
    # weights (post.n, k): k shared sources; a zero rate silences its column
    net = Network(dt=DT, seed=4)
    a = net.add_population(2, COUNTER, name="a")
    Wm = np.array([[W, 0.0, 0.0], [0.0, W, W]])
    inp = net.add_input(a, rate=[500.0, 0.0, 0.0], weights=Wm, synapse=Delta())
    c1 = _counts(net.run(0.2, record={"a": "v"})["a", "v"]).sum(axis=0)
    net.set_input(inp, rate=[0.0, 300.0, 600.0])
    c2 = _counts(net.run(0.4, record={"a": "v"})["a", "v"]).sum(axis=0)
    assert c1[1] == 0 and abs(c1[0] - 500.0 * 0.1999) < 4 * np.sqrt(100.0)
    assert c2[0] == 0 and abs(c2[1] - 900.0 * 0.3999) < 4 * np.sqrt(360.0)


@pytest.mark.slow  # compiles the batched kernel with Poisson inputs
def test_per_copy_rates_give_per_copy_means():
    n, T = 30, 0.5
    rates = np.array([100.0, 400.0, 1600.0])
    net, inp = _counter_net(rates, n, seed=5, batch=3)  # (batch,): one rate per copy
    assert inp.rate.shape == (3, n)
    c = _counts(net.run(T, record={"a": "v"})["a", "v"])  # (steps - 1, batch, n)
    for b in range(3):
        mean = rates[b] * n * (T - DT)
        assert abs(c[:, b].sum() - mean) < 4 * np.sqrt(mean)
    # (batch, k): per copy and per source; copy 1 silent except source 0
    per = np.zeros((3, n))
    per[0] = 800.0
    per[1, 0] = 2000.0
    per[2] = np.linspace(0.0, 1000.0, n)
    net.set_input(inp, rate=per)
    got = _counts(net.run(T, record={"a": "v"})["a", "v"]).sum(axis=0)
    assert np.all(got[1, 1:] == 0) and got[1, 0] > 0
    for b in range(3):
        mean = per[b].sum() * (T - DT)
        assert abs(got[b].sum() - mean) < 4 * np.sqrt(mean)
    # a shared rate again: every copy back to the same mean
    net.set_input(inp, rate=300.0)
    got = _counts(net.run(T, record={"a": "v"})["a", "v"]).sum(axis=(0, 2))
    assert np.all(np.abs(got - 300.0 * n * (T - DT)) < 4 * np.sqrt(300.0 * n * T))


def test_add_input_returns_a_handle_for_every_kind():
    net = Network(dt=DT)
    a = net.add_population(3, LIF(), name="a")
    kinds = [net.add_input(a, current=0.5).kind, net.add_input(a, spikes=np.zeros((5, 3), bool)).kind,
             net.add_input(a, noise=0.1).kind, net.add_input(a, rate=10.0, weights=0.1).kind]
    assert kinds == ["current", "spikes", "noise", "rate"]
    h = net.add_input("a", rate=[1.0, 2.0, 3.0], weights=0.1)
    assert h.post is a and np.array_equal(h.rate, [1.0, 2.0, 3.0])
    h.rate[0] = 99.0  # a copy: the network's rate stays
    assert h.rate[0] == 1.0


def test_bad_set_input_raises_errors_naming_the_argument():
    net = Network(dt=DT)
    a = net.add_population(3, LIF(), name="a")
    cur = net.add_input(a, current=0.5)
    inp = net.add_input(a, rate=10.0, weights=0.1)
    with pytest.raises(TypeError, match="inp"):
        net.set_input("a", rate=1.0)
    with pytest.raises(ValueError, match="inp"):
        net.set_input(cur, rate=1.0)
    with pytest.raises(ValueError, match="inp"):
        Network(dt=DT).set_input(inp, rate=1.0)
    with pytest.raises(ValueError, match="rate"):
        net.set_input(inp, rate=-1.0)
    with pytest.raises(ValueError, match="rate"):
        net.set_input(inp, rate=[1.0, 2.0])
    with pytest.raises(ValueError, match="rate"):
        net.set_input(inp, rate=np.ones((1, 3)))  # (batch, k) only in a batched network
    with pytest.raises(ValueError, match="rate"):
        net.set_input(inp, rate=float("inf"))
    assert np.all(inp.rate == 10.0)  # unchanged by the refused calls
    bat = Network(dt=DT, batch=3)
    b = bat.add_population(3, LIF(), name="b")
    with pytest.raises(ValueError, match="ambiguous"):
        bat.add_input(b, rate=[1.0, 2.0, 3.0], weights=0.1)
    with pytest.raises(ValueError, match="rate"):
        bat.add_input(b, rate=np.ones((2, 3)), weights=0.1)
    assert bat.add_input(b, rate=np.ones((3, 3)), weights=0.1).rate.shape == (3, 3)


def _poisson_source_spikes(rate, T, seed=6):
    net = Network(dt=DT, seed=seed)
    p = net.add_population(200, PoissonSource(rate), name="p")
    return net, p, net.run(T).spike_times["p"]


def test_poisson_source_set_rate_gives_the_new_count_from_the_current_time_on():
    n, r1, r2, t1, t2 = 200, 50.0, 400.0, 0.3, 0.2
    net, p, first = _poisson_source_spikes(r1, t1)
    net.set(p, rate=r2)
    second = net.run(t2).spike_times["p"]
    c1, c2 = sum(len(s) for s in first), sum(len(s) for s in second)
    assert abs(c1 - n * r1 * t1) < 4 * np.sqrt(n * r1 * t1)
    assert abs(c2 - n * r2 * t2) < 4 * np.sqrt(n * r2 * t2)
    assert min(s.min() for s in second if s.size) >= t1 - 1e-12
    # the same draws as a network built with r2 (same seed) over the same steps
    _, _, fresh = _poisson_source_spikes(r2, t1 + t2)
    late = [s[s >= t1 - 1e-12] for s in fresh]
    assert all(np.array_equal(x, y) for x, y in zip(second, late))


def test_spike_source_set_times_emits_only_the_times_from_the_current_time_on():
    net = Network(dt=DT)
    s = net.add_population(2, SpikeSource([[0.001], []]), name="s")
    post = net.add_population(2, COUNTER, name="post")
    net.connect(s, post, np.eye(2) * W, synapse=Delta(), delay=0.0005)
    first = net.run(0.01, record={"post": "v"})
    # times are absolute: 0.004 is in the past and is not emitted; 0.0123 and 0.015 are
    net.set(s, times=[[0.004, 0.0123], [0.015]])
    second = net.run(0.01, record={"post": "v"})
    assert np.allclose(first.spike_times["s"][0], [0.001]) and first.spike_times["s"][1].size == 0
    assert np.allclose(second.spike_times["s"][0], [0.0123])
    assert np.allclose(second.spike_times["s"][1], [0.015])
    # the second run's spikes reach the post neurons delay + one step after their step
    v = np.concatenate([first["post", "v"], second["post", "v"]])
    arrive = [int(np.flatnonzero(np.diff(v[:, i]) > W / 2)[-1]) + 1 for i in range(2)]
    assert arrive == [123 + 1 + 5, 150 + 1 + 5]
    assert v[-1, 0] == pytest.approx(2 * W) and v[-1, 1] == pytest.approx(W)
