"""Spike-source populations: SpikeSource (given times) and PoissonSource (generated in the kernel)."""

import numpy as np
import pytest
import scipy.sparse as sp

from spikenet.sim import LIF, Delta, Network, PSCFilter
from spikenet.sim.sources import PoissonSource, SpikeSource

DT = 1e-4


def test_spike_source_emits_the_given_times_rounded_to_steps():
    times = [[0.00104, 0.0502], [0.02], []]
    net = Network(dt=DT)
    s = net.add_population(3, SpikeSource(times), name="s")
    res = net.run(0.1, record={s: "spikes"})
    got = res.spike_times["s"]
    assert np.allclose(got[0], [0.0010, 0.0502], atol=1e-12)
    assert np.allclose(got[1], [0.02], atol=1e-12)
    assert got[2].size == 0


@pytest.mark.parametrize("delay", [0.0, 0.003])
def test_spike_source_spikes_arrive_delay_after_their_step(delay):
    # a jump of one spike at t_s = k dt reaches the post neuron at the start of step k + 1 + delay / dt
    t_s = 0.0123
    net = Network(dt=DT)
    s = net.add_population(1, SpikeSource([[t_s]]), name="s")
    slow = LIF(tau_m=1e6, tau_ref=0.0, v_th=1e9, v_reset=0.0)
    post = net.add_population(1, slow, name="post")
    net.connect(s, post, 0.5, synapse=Delta(), delay=delay)
    v = net.run(0.03, record={"post": "v"})["post", "v"][:, 0]
    first = int(np.argmax(v > 0.25))  # index of the recorded value at t[first], jumps included
    assert first == round(t_s / DT) + 1 + round(delay / DT)
    assert v[first] == pytest.approx(0.5)


def _raster(times, steps):
    r = np.zeros((steps, len(times)), dtype=bool)
    for i, t in enumerate(times):
        r[np.rint(np.asarray(t) / DT).astype(int), i] = True
    return r


@pytest.mark.parametrize("synapse", [PSCFilter(0.005), pytest.param(Delta(), marks=pytest.mark.slow)])
def test_spike_source_population_equals_the_same_raster_input_bit_for_bit(synapse):
    rng = np.random.default_rng(1)
    n_in, n_post, T = 20, 30, 0.2
    steps = round(T / DT)
    times = [np.unique(np.round(rng.uniform(0, T - DT, 15) / DT)) * DT for _ in range(n_in)]
    W = rng.uniform(0, 0.6, (n_post, n_in))

    a = Network(dt=DT)
    src = a.add_population(n_in, SpikeSource(times), name="src")
    pa = a.add_population(n_post, LIF(), bias=0.9, name="post")
    a.connect(src, pa, W, synapse=synapse)
    ra = a.run(T, record={"post": "v"})

    b = Network(dt=DT)
    pb = b.add_population(n_post, LIF(), bias=0.9, name="post")
    b.add_input(pb, spikes=_raster(times, steps), weights=W, synapse=synapse)
    rb = b.run(T, record={"post": "v"})
    assert sum(len(x) for x in ra.spike_times["post"]) > 10
    assert all(np.array_equal(x, y) for x, y in zip(ra.spike_times["post"], rb.spike_times["post"]))
    assert np.array_equal(ra["post", "v"], rb["post", "v"])


@pytest.mark.slow  # one more kernel specialisation to compile
def test_spike_source_with_per_synapse_delays():
    net = Network(dt=DT)
    s = net.add_population(2, SpikeSource([[0.001], [0.002]]), name="s")
    slow = LIF(tau_m=1e6, tau_ref=0.0, v_th=1e9, v_reset=0.0)
    post = net.add_population(2, slow, name="post")
    W = np.array([[1.0, 0.0], [0.0, 2.0]])
    D = np.array([[0.0005, 0.0], [0.0, 0.0012]])
    net.connect(s, post, sp.csr_matrix(W), synapse=Delta(), delay=sp.csr_matrix(D))
    v = net.run(0.01, record={"post": "v"})["post", "v"]
    assert int(np.argmax(v[:, 0] > 0.5)) == 10 + 1 + 5
    assert int(np.argmax(v[:, 1] > 0.5)) == 20 + 1 + 12


def test_spike_source_times_change_between_runs():
    net = Network(dt=DT)
    s = net.add_population(1, SpikeSource([[0.001]]), name="s")
    first = net.run(0.01).spike_times["s"][0]
    net.set(s, times=[[0.012, 0.015]])
    second = net.run(0.01).spike_times["s"][0]
    assert np.allclose(first, [0.001]) and np.allclose(second, [0.012, 0.015])


def test_poisson_source_rate_fano_factor_and_geometric_intervals():
    rate, n, T = 40.0, 400, 5.0
    net = Network(dt=DT, seed=2)
    net.add_population(n, PoissonSource(rate), name="p")
    res = net.run(T)
    counts = np.array([len(t) for t in res.spike_times["p"]])
    p = rate * DT
    assert counts.mean() == pytest.approx(rate * T, rel=4 / np.sqrt(rate * T * n))
    fano = counts.var() / counts.mean()
    assert fano == pytest.approx(1 - p, abs=4 * np.sqrt(2 / n))
    # intervals in steps: geometric with success probability rate * dt (the exponential law on the grid)
    isi = np.concatenate([np.diff(np.rint(t / DT)) for t in res.spike_times["p"]]).astype(int)
    assert isi.min() >= 1
    q = np.arange(1, 1000, 50)
    emp = np.array([np.mean(isi > x) for x in q])
    assert np.allclose(emp, (1 - p) ** q, atol=4 * np.sqrt(0.25 / isi.size))
    # independence of the neurons: count correlations in 50 ms bins
    bins = np.arange(0, T + 1e-9, 0.05)
    binned = np.stack([np.histogram(t, bins=bins)[0] for t in res.spike_times["p"][:40]])
    r = np.corrcoef(binned)[np.triu_indices(40, 1)]
    assert np.abs(r).max() < 4.5 / np.sqrt(binned.shape[1])


def test_poisson_source_window_rate_change_and_reproducibility():
    def run(seed):
        net = Network(dt=DT, seed=seed)
        p = net.add_population(200, PoissonSource(100.0, start=0.1, stop=0.3), name="p")
        first = net.run(0.4).spike_times["p"]
        net.set(p, rate=0.0)
        second = net.run(0.1).spike_times["p"]
        return first, second

    first, second = run(3)
    allt = np.concatenate(first)
    assert allt.min() >= 0.1 - 1e-12 and allt.max() < 0.3
    assert allt.size == pytest.approx(200 * 100.0 * 0.2, rel=4 / np.sqrt(4000))
    assert sum(len(t) for t in second) == 0
    again, _ = run(3)
    assert all(np.array_equal(x, y) for x, y in zip(first, again))


@pytest.mark.slow  # two more kernel specialisations (the thread split is tested fast with Poisson inputs)
def test_poisson_source_drives_a_population_the_same_over_threads():
    def spikes(threads):
        net = Network(dt=DT, seed=4, threads=threads)
        p = net.add_population(300, PoissonSource(np.linspace(10, 60, 300)), name="p")
        post = net.add_population(200, LIF(), bias=0.8, name="post")
        net.connect(p, post, 0.02, p=0.2, synapse=PSCFilter(0.005), delay=0.001)
        res = net.run(0.2)
        return res.spike_times["p"] + res.spike_times["post"]

    one, two = spikes(1), spikes(2)
    assert sum(len(s) for s in one[300:]) > 10
    assert all(np.array_equal(x, y) for x, y in zip(one, two))


def test_bad_source_populations_raise_errors_naming_the_argument():
    with pytest.raises(ValueError, match="rate"):
        PoissonSource(-1.0)
    with pytest.raises(ValueError, match="stop"):
        PoissonSource(1.0, start=0.5, stop=0.1)
    with pytest.raises(ValueError, match=r"times\[0\]"):
        SpikeSource([[-0.1]])
    with pytest.raises(TypeError, match="times"):
        SpikeSource(np.array([0.1, 0.2]))
    net = Network(dt=DT)
    s = net.add_population(2, SpikeSource([[0.1], []]), name="s")
    post = net.add_population(2, LIF(), name="post")
    with pytest.raises(ValueError, match="post"):
        net.connect(post, s, 1.0)
    with pytest.raises(ValueError, match="post"):
        net.add_input(s, rate=10.0, weights=1.0)
    with pytest.raises(ValueError, match="bias"):
        net.add_population(2, PoissonSource(1.0), bias=1.0)
    with pytest.raises(ValueError, match="record"):
        net.run(0.001, record={"s": "v"})
    with pytest.raises(ValueError, match="times"):
        Network(dt=DT).add_population(3, SpikeSource([[0.1]])).network.run(0.001)
    with pytest.raises(ValueError, match="times"):
        Network(dt=DT).add_population(1, SpikeSource([[0.1, 0.10002]])).network.run(0.001)
    with pytest.raises(ValueError, match="rate"):
        Network(dt=DT).add_population(1, PoissonSource(2e4)).network.run(0.001)
    with pytest.raises(ValueError, match="set argument"):
        net.set(s, rate=1.0)


@pytest.mark.slow  # compiles the batched kernel with sources and noise
def test_batch_copies_get_independent_sources_and_noise_in_float32():
    net = Network(dt=DT, seed=9, batch=2, dtype=np.float32)
    p = net.add_population(100, PoissonSource(50.0), name="p")
    post = net.add_population(100, LIF(tau_m=0.01, tau_ref=0.002), bias=0.9, name="post")
    net.connect(p, post, 0.01, synapse=PSCFilter(0.005))
    net.add_input(post, noise=0.2)
    res = net.run(1.0)
    for pop in ("p", "post"):
        a, b = (np.concatenate(res.spike_times[pop][c]) for c in range(2))
        assert a.size > 100 and b.size > 100 and not np.array_equal(np.sort(a), np.sort(b))
    counts = np.array([[len(t) for t in res.spike_times["p"][c]] for c in range(2)])
    assert counts.mean() == pytest.approx(50.0, rel=4 / np.sqrt(50.0 * 200))


@pytest.mark.slow  # compiles the HH kernel with Poisson inputs
def test_poisson_input_drives_hh_through_a_psc():
    from spikenet.sim import HH

    net = Network(dt=1e-5, seed=10)
    h = net.add_population(20, HH(), name="h")
    net.add_input(h, rate=5000.0, weights=0.002, synapse=PSCFilter(0.002))  # mean current 10 uA/cm^2
    res = net.run(0.1, record={"h": "I_syn"})
    assert res["h", "I_syn"][2000:].mean() == pytest.approx(10.0, rel=0.05)
    assert res.rates("h").mean() > 20
