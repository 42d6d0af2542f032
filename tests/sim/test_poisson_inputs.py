"""In-kernel Poisson inputs (Network.add_input(rate=...)): counts, Campbell's theorem, independence, seeds."""

import tracemalloc

import numpy as np
import pytest
from numba import njit
from scipy import stats

from spikenet.sim import LIF, Delta, Network, PSCFilter
from spikenet.sim.kernels import inputs as kin

DT, TAU_S, TAU_M = 5e-4, 0.005, 0.02
FREE = LIF(tau_m=TAU_M, tau_ref=0.0, v_th=1e9, v_reset=0.0)  # threshold out of reach: a linear filter


@njit(cache=True)
def _draw_counts(key, lam, n):
    out = np.empty(n, np.int64)
    for j in range(n):
        out[j] = kin.poisson(key, kin.counter(j, 0, 1, 0, 1), lam, np.exp(-lam))
    return out


@pytest.mark.parametrize("lam", [0.05, 3.0, 25.0, 300.0])
def test_kernel_poisson_draws_follow_the_poisson_law(lam):
    # inversion below lam = 10, transformed rejection (PTRS) above; chi-square against scipy's pmf
    counts = _draw_counts(np.uint64(12345), lam, 200_000)
    assert counts.mean() == pytest.approx(lam, rel=4 * np.sqrt(lam / counts.size) / lam)
    lo, hi = int(stats.poisson.ppf(1e-4, lam)), int(stats.poisson.isf(1e-4, lam))
    edges = np.arange(lo, hi + 2)
    obs = np.histogram(np.clip(counts, lo, hi), bins=edges - 0.5)[0]
    exp = stats.poisson.pmf(edges[:-1], lam) * counts.size
    exp[0] += stats.poisson.cdf(lo - 1, lam) * counts.size
    exp[-1] += stats.poisson.sf(hi, lam) * counts.size
    chi2 = ((obs - exp) ** 2 / exp).sum()
    assert stats.chi2.sf(chi2, len(exp) - 1) > 1e-3


def _counts_from_current(isyn, w):
    """The counts arriving in each step, recovered from the recorded exponential PSC."""
    d = np.exp(-DT / TAU_S)
    return np.rint((isyn[1:] - d * isyn[:-1]) * TAU_S / w).astype(np.int64)


def _poisson_net(n=200, rate=2000.0, w=0.01, seed=7, **kw):
    net = Network(dt=DT, seed=seed, **kw)
    a = net.add_population(n, FREE, name="a")
    net.add_input(a, rate=rate, weights=w, synapse=PSCFilter(TAU_S))
    return net


@pytest.mark.parametrize("rate", [2000.0, 40000.0])
def test_source_counts_per_step_have_mean_and_variance_rate_dt(rate):
    w = 0.01
    res = _poisson_net(n=100, rate=rate, w=w).run(1.0, record={"a": "I_syn"})
    c = _counts_from_current(res["a", "I_syn"], w)
    lam = rate * DT
    se = np.sqrt(lam / c.size)
    assert abs(c.mean() - lam) < 5 * se
    assert c.var() == pytest.approx(lam, rel=5 * np.sqrt(2 / c.size) + 5 * se / lam)
    if lam < 5:  # several spikes in one step, as often as the Poisson law says
        assert np.mean(c >= 2) == pytest.approx(stats.poisson.sf(1, lam), abs=5e-3)


def test_shot_noise_mean_and_variance_follow_campbells_theorem():
    # PSC x_k = sum_m (w c_{k-m} / tau_s) d^m and voltage v_k = sum_{m>=1} g_m c_{k-m} on the grid, with
    # g_m = w (e^{-m dt/tau_m} - e^{-m dt/tau_s}) / (tau_m - tau_s): mean lam sum g, variance lam sum g^2
    rate, w, n = 2000.0, 0.01, 200
    res = _poisson_net(n=n, rate=rate, w=w).run(2.0, record={"a": ["I_syn", "v"]})
    skip = round(0.2 / DT)
    lam = rate * DT
    d = np.exp(-DT / TAU_S)
    m = np.arange(1, 20000)
    g = w * (np.exp(-m * DT / TAU_M) - np.exp(-m * DT / TAU_S)) / (TAU_M - TAU_S)
    refs = {"I_syn": (lam * w / TAU_S / (1 - d), lam * (w / TAU_S) ** 2 / (1 - d * d)),
            "v": (lam * g.sum(), lam * (g * g).sum())}
    for state, (mean_ref, var_ref) in refs.items():
        x = res["a", state][skip:]
        means, vars_ = x.mean(axis=0), x.var(axis=0)  # per neuron: independent estimates
        assert abs(means.mean() - mean_ref) < 4 * means.std() / np.sqrt(n)
        assert abs(vars_.mean() - var_ref) < 4 * vars_.std() / np.sqrt(n)
        assert vars_.mean() == pytest.approx(var_ref, rel=0.03)
    # the continuous-time Campbell mean of the voltage is r w
    assert res["a", "v"][skip:].mean() == pytest.approx(rate * w, rel=0.01)


def test_sources_of_different_neurons_are_independent():
    res = _poisson_net(n=40, rate=2000.0).run(1.0, record={"a": "I_syn"})
    c = _counts_from_current(res["a", "I_syn"], 0.01).astype(float)
    r = np.corrcoef(c.T)[np.triu_indices(40, 1)]
    se = 1 / np.sqrt(c.shape[0])
    assert np.abs(r).max() < 4.5 * se
    assert abs(r.mean()) < 4 * se / np.sqrt(r.size) * 3  # pairs share neurons: a looser bound on the mean


def test_matrix_weights_make_shared_sources():
    # neurons 0 and 1 listen to the same source, neuron 2 to another: 0 and 1 get identical input
    W = np.array([[0.01, 0.0], [0.01, 0.0], [0.0, 0.01]])
    net = Network(dt=DT, seed=3)
    a = net.add_population(3, FREE, name="a")
    net.add_input(a, rate=[2000.0, 2000.0], weights=W, synapse=PSCFilter(TAU_S))
    x = net.run(0.5, record={"a": "I_syn"})["a", "I_syn"]
    assert np.array_equal(x[:, 0], x[:, 1])
    assert x[:, 0].std() > 0 and abs(np.corrcoef(x[:, 0], x[:, 2])[0, 1]) < 0.15


def test_delta_synapse_jumps_the_voltage_by_the_weight_per_spike():
    net = Network(dt=DT, seed=4)
    slow = LIF(tau_m=1e6, tau_ref=0.0, v_th=1e9, v_reset=0.0)  # no decay: v counts the jumps
    a = net.add_population(20, slow, name="a")
    net.add_input(a, rate=100.0, weights=0.5, synapse=Delta())
    v = net.run(1.0, record={"a": "v"})["a", "v"]
    jumps = np.diff(v, axis=0) / 0.5
    assert np.allclose(jumps, np.rint(jumps), atol=1e-6)
    assert jumps.sum() == pytest.approx(20 * 100.0, rel=4 / np.sqrt(2000))


def test_same_seed_same_result_whatever_the_chunking():
    one = _poisson_net(n=30, seed=11)
    x1 = one.run(0.4, record={"a": "I_syn"})["a", "I_syn"]
    two = _poisson_net(n=30, seed=11)
    x2 = np.concatenate([two.run(0.1, record={"a": "I_syn"})["a", "I_syn"],
                         two.run(0.3, record={"a": "I_syn"})["a", "I_syn"]])
    assert np.array_equal(x1, x2)
    other = _poisson_net(n=30, seed=12).run(0.4, record={"a": "I_syn"})["a", "I_syn"]
    assert not np.array_equal(x1, other)
    one.reset()
    assert np.array_equal(one.run(0.4, record={"a": "I_syn"})["a", "I_syn"], x1)


def test_threads_give_the_same_spikes_bit_for_bit():
    def spikes(threads):
        net = Network(dt=1e-4, seed=5, threads=threads)
        a = net.add_population(300, LIF(), name="a")
        W = np.random.default_rng(0).uniform(0, 0.004, (300, 5))
        net.add_input(a, rate=3000.0, weights=0.004)  # one source per neuron
        net.add_input(a, rate=1000.0, weights=W, synapse=PSCFilter(0.01))  # shared, split over parts
        net.add_input(a, rate=500.0, weights=0.3, synapse=Delta())
        res = net.run(0.2)
        return res.spike_times["a"]

    one, two = spikes(1), spikes(2)
    assert sum(len(s) for s in one) > 100
    assert all(np.array_equal(p, q) for p, q in zip(one, two))


@pytest.mark.slow  # compiles the batched kernel with these inputs (about a minute)
def test_batch_copies_get_independent_sources():
    net = Network(dt=DT, seed=6, batch=3)
    a = net.add_population(50, FREE, name="a")
    net.add_input(a, rate=2000.0, weights=0.01, synapse=PSCFilter(TAU_S))
    x = net.run(0.5, record={"a": "I_syn"})["a", "I_syn"]  # (steps, batch, n)
    c = np.stack([_counts_from_current(x[:, b], 0.01).ravel() for b in range(3)]).astype(float)
    r = np.corrcoef(c)[np.triu_indices(3, 1)]
    assert np.abs(r).max() < 4.5 / np.sqrt(c.shape[1])
    assert np.all(np.abs(c.mean(axis=1) - 1.0) < 5 * np.sqrt(1.0 / c.shape[1]))


def test_large_poisson_driven_network_allocates_no_raster():
    n, steps = 100_000, 400
    net = Network(dt=1e-4, seed=1, threads=1)
    a = net.add_population(n, LIF(), name="a")
    net.add_input(a, rate=2000.0, weights=0.0002)  # mean drive 0.4: no spikes (their record is the result)
    record = {"a": {"I_syn": [0]}}  # one column: the other tests' kernel
    net.run(1e-4, record=record)  # compile (the recording kernel) and build outside the measurement
    tracemalloc.start()
    try:
        net.run(steps * 1e-4, record=record)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    raster = steps * n  # bytes of a boolean (steps x neurons) raster
    assert peak < raster / 4, peak


def test_bad_rate_inputs_raise_errors_naming_the_argument():
    net = Network(dt=DT)
    a = net.add_population(4, FREE, name="a")
    with pytest.raises(ValueError, match="rate"):
        net.add_input(a, rate=-1.0, weights=0.1)
    with pytest.raises(ValueError, match="rate"):
        net.add_input(a, rate=[1.0, 2.0], weights=0.1)
    with pytest.raises(ValueError, match="weights"):
        net.add_input(a, rate=10.0)
    with pytest.raises(ValueError, match="weights"):
        net.add_input(a, rate=10.0, weights=np.ones((3, 2)))
    with pytest.raises(ValueError, match="rate"):
        net.add_input(a, rate=[1.0, 2.0, 3.0], weights=np.ones((4, 2)))
    with pytest.raises(ValueError, match="rate"):
        net.add_input(a, rate=float("nan"), weights=0.1)
    with pytest.raises(ValueError, match="rate="):
        net.add_input(a, rate=10.0, noise=0.1, weights=0.1)
    with pytest.raises(ValueError, match="current="):
        net.add_input(a, current=1.0, rate=10.0, weights=0.1)


def test_networks_without_stochastic_inputs_prune_their_code():
    from tests.sim.keys import key_entry

    plain = Network(dt=DT)
    a = plain.add_population(5, LIF(), bias=1.5)
    plain.add_input(a, current=0.1)
    plain.run(0.001)
    assert plain._built["inp"] is None and key_entry(plain, "inp") == "none"
    noisy = _poisson_net(n=5)
    noisy.run(0.001, record={"a": "I_syn"})
    assert key_entry(noisy, "inp").startswith("InpArgs(")


def test_the_compiled_module_refuses_networks_with_stochastic_inputs(tmp_path):
    from spikenet.sim import aot

    net = _poisson_net(n=5)
    net.run(0.001, record={"a": "I_syn"})
    with pytest.raises(ValueError, match="networks"):
        aot.build([net], tmp_path)
