"""Per-copy rates of PoissonSource populations in batched networks (``Network.set(pop, rate=...)``).

Copy ``b`` draws its uniform numbers from its own counters whatever the rates
(spike iff ``u < rate * dt``), so with per-copy rates it spikes exactly where
copy ``b`` of the same network with every copy at copy ``b``'s rates spikes:
checked spike for spike. The counts per copy are checked against the
binomial law of the grid (mean ``rate T``, Fano factor ``1 - rate dt``), and
the rates reach the synapses of their own copy.
"""

import numpy as np
import pytest

from spikenet.sim import LIF, Network, PoissonSource, PSCFilter

DT = 1e-4
B, N = 3, 40


def _events(res, b):
    t, i, c = res.spike_events("p")
    sel = c == b
    order = np.lexsort((t[sel], i[sel]))
    return t[sel][order], i[sel][order]


def _source_net(rate, seed=1, batch=B, n=N):
    """Source population ``p`` (n) feeding 20 LIF neurons ``post`` (every test: one kernel to compile)."""
    net = Network(dt=DT, seed=seed, batch=batch)
    pop = net.add_population(n, PoissonSource(rate), name="p")
    post = net.add_population(20, LIF(), name="post")
    net.connect(pop, post, 0.05, synapse=PSCFilter(0.005))
    return net, pop


def _run(net, T):
    return net.run(T, record={"post": "v"})


def test_copy_b_with_per_copy_rates_spikes_where_copy_b_of_a_network_at_its_rates_spikes():
    rng = np.random.default_rng(0)
    R = rng.uniform(20.0, 300.0, (B, N))
    net, pop = _source_net(10.0)
    net.set(pop, rate=R)
    assert pop.neuron.rate.shape == (B, N)
    res = _run(net, 0.2)
    for b in range(B):
        ref = _run(_source_net(R[b])[0], 0.2)  # every copy at copy b's rates
        got, want = _events(res, b), _events(ref, b)
        assert want[0].size > 100
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def test_one_rate_per_copy_gives_each_copy_the_binomial_counts_of_its_rate():
    rates = np.array([20.0, 80.0, 300.0])
    n, T = 300, 2.0
    net, pop = _source_net(1.0, seed=3, n=n)
    net.set(pop, rate=rates)  # (B,): one rate per copy
    res = _run(net, T)
    counts = np.array([[len(t) for t in res.spike_times["p"][b]] for b in range(B)])
    for b, r in enumerate(rates):
        p = r * DT
        steps = round(T / DT)
        mean, var = steps * p, steps * p * (1 - p)  # binomial: one Bernoulli trial per step
        assert abs(counts[b].mean() - mean) < 4 * np.sqrt(var / n), (b, counts[b].mean(), mean)
        fano = counts[b].var() / counts[b].mean()
        assert fano == pytest.approx(1 - p, abs=4 * np.sqrt(2 / n)), (b, fano)


def test_per_copy_rates_set_between_runs_take_effect_from_the_current_step():
    R = np.array([[50.0], [0.0], [400.0]]) * np.ones((B, N))
    net, pop = _source_net(100.0, seed=5)
    first = _run(net, 0.05)
    net.set(pop, rate=R)
    second = _run(net, 0.05)
    net.set(pop, rate=100.0)  # back to one rate shared by the copies
    third = _run(net, 0.05)
    # the same network with the per-copy rates from the start: the same spikes in the second window
    ref, rpop = _source_net(100.0, seed=5)
    ref.set(rpop, rate=R)
    whole = _run(ref, 0.15)
    for b in range(B):
        t, i = _events(whole, b)
        win = (t >= 0.05 - 1e-12) & (t < 0.1 - 1e-12)
        got = _events(second, b)
        np.testing.assert_array_equal(got[0], t[win])
        np.testing.assert_array_equal(got[1], i[win])
    assert _events(second, 1)[0].size == 0  # copy 1 silent at rate 0
    for res in (first, third):  # the shared rate in every copy
        assert all(_events(res, b)[0].size > 100 for b in range(B))
    net.set(pop, rate=R)
    net.reset()  # back to t = 0 with the rates set last: the per-copy run from the start
    again = _run(net, 0.15)
    for b in range(B):
        for x, y in zip(_events(again, b), _events(whole, b), strict=True):
            np.testing.assert_array_equal(x, y)


def test_per_copy_rates_reach_the_synapses_of_their_own_copy():
    net, pop = _source_net(1.0, seed=7, batch=2)
    net.set(pop, rate=[0.0, 500.0])
    res = _run(net, 0.2)
    v = res["post", "v"]
    assert np.all(v[:, 0] == 0.0)  # no input in copy 0: the LIF stays at rest
    assert v[:, 1].max() > 0.5 and res.rates("post")[1].mean() > 1.0


@pytest.mark.parametrize("rate, match", [
    (np.ones(B + 1), r"rate must be a scalar, \(40,\)"),
    (np.ones((B, N + 1)), "rate must be"),
    (np.ones((B + 1, N)), "rate must be"),
    (-np.ones((B, N)), "rate must be >= 0"),
    (np.full((B, N), np.nan), "rate"),
    (np.full((B, N), 2e4), r"rate \* dt"),
])
def test_wrong_per_copy_rates_are_refused_naming_rate(rate, match):
    net, pop = _source_net(1.0)
    with pytest.raises(ValueError, match=match):
        net.set(pop, rate=rate)


def test_an_ambiguous_or_unbatched_per_copy_rate_is_refused_naming_rate():
    net, pop = _source_net(1.0, n=B)  # n == B: (3,) could be per neuron or per copy
    with pytest.raises(ValueError, match=r"rate of shape .* is ambiguous"):
        net.set(pop, rate=[1.0, 2.0, 3.0])
    net.set(pop, rate=np.ones((B, B)))  # the explicit form is taken
    net.set(pop, stop=1.0)  # changing the window keeps the per-copy rates
    assert pop.neuron.rate.shape == (B, B) and pop.neuron.stop == 1.0
    with pytest.raises(ValueError, match="stop"):
        net.set(pop, start=2.0)
    net1, pop1 = _source_net(1.0, batch=None)
    with pytest.raises(ValueError, match="rate must be a scalar or have shape"):
        net1.set(pop1, rate=np.ones((1, N)))
    # a source holding per-copy rates does not fit a network with another batch size
    net3, pop3 = _source_net(1.0)
    net3.set(pop3, rate=np.ones((B, N)))
    moved = Network(dt=DT, batch=2)
    moved.add_population(N, pop3.neuron, name="p")
    moved.add_population(20, LIF(), name="post")
    with pytest.raises(ValueError, match="rate has per-copy rates"):
        _run(moved, 0.001)
    # the constructor keeps to one rate or one per neuron
    with pytest.raises(ValueError, match="rate"):
        PoissonSource(np.ones((B, N)))
