"""Network split over threads: same results bit for bit, the barrier, the row cuts, bad input."""

import itertools
import threading

import numpy as np
import pytest
import scipy.sparse as sp
from numba import njit

import spikenet.sim.network as network_module
from spikenet.sim import HH, LIF, Network, PSCFilter
from spikenet.sim.kernels.atomics import atomic_add, atomic_load, spin_barrier
from spikenet.sim.kernels.layout import SYNC_SIZE
from spikenet.sim.network import _part_cuts, _row_cuts

DT = 1e-4


def _fused_net(threads):
    """E/I LIF populations with single-stage synapses (the fused pass), uniform sparse weights, delays."""
    net = Network(dt=DT, seed=3, threads=threads)
    rng = np.random.default_rng(0)
    E = net.add_population(400, LIF(tau_ref=0.002), bias=rng.uniform(0.9, 1.3, 400),
                           init={"v": rng.random(400)}, name="E")
    I = net.add_population(100, LIF(tau_ref=0.002), bias=1.1, init={"v": rng.random(100)}, name="I")
    for pre, w, tau, delay in ((E, 0.02, 0.005, 0.0), (I, -0.08, 0.01, 3 * DT)):
        for post in (E, I):
            net.connect(pre, post, w, synapse=PSCFilter(tau), p=0.1, delay=delay)
    return net


def _mixed_net(threads):
    """Every other code path: HH, second-order synapses, dense and per-synapse weights, inputs."""
    net = Network(dt=DT, seed=4, threads=threads)
    rng = np.random.default_rng(1)
    A = net.add_population(300, LIF(tau_ref=0.001), bias=0.5, init={"v": rng.random(300)}, name="A")
    H = net.add_population(70, HH(), bias=rng.uniform(5.0, 12.0, 70), name="H")
    w_sparse = sp.random(300, 300, density=0.05, random_state=2, format="csr") * 0.1
    net.connect(A, A, w_sparse, synapse=PSCFilter(0.004, 2), delay=2 * DT)
    net.connect(H, A, rng.normal(0.02, 0.01, (300, 70)), synapse=PSCFilter(0.003))
    net.connect(A, H, 0.05, synapse=PSCFilter(0.002), p=0.2)
    steps = 3000
    net.add_input(A, current=0.8 + 0.5 * np.sin(np.arange(steps) * DT * 60.0)[:, None] * np.ones(300))
    raster = rng.random((steps, 20)) < 0.02
    net.add_input(A, spikes=raster, weights=rng.random((300, 20)) * 0.2, synapse=PSCFilter(0.005))
    return net


def _run_twice(net, record):
    first = net.run(0.1, record=record)
    second = net.run(0.1, record=record)
    return first, second, net._built


def _assert_same(ref, other, record):
    for res_a, res_b in zip(ref[:2], other[:2]):
        for pop in res_a.spike_times:
            for a, b in zip(res_a.spike_times[pop], res_b.spike_times[pop]):
                np.testing.assert_array_equal(a, b)
        for pop, states in record.items():
            for state in states:
                np.testing.assert_array_equal(res_a[pop, state], res_b[pop, state])
    for key in ("v", "ref_end", "stages", "gm", "gh", "gn"):
        np.testing.assert_array_equal(ref[2][key], other[2][key], err_msg=key)


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize(("make", "record"), [
    (_fused_net, {"E": ("v", "I_syn", "ref"), "I": ("v",)}),
    (_mixed_net, {"A": ("v", "I_syn"), "H": ("v", "m", "h", "n")}),
], ids=["fused", "mixed"])
def test_split_over_threads_gives_the_single_thread_results_bit_for_bit(make, record, threads):
    ref = _run_twice(make(1), record)
    assert sum(len(s) for s in ref[0].spike_times[next(iter(record))]) > 50  # the network is active
    split = _run_twice(make(threads), record)
    assert split[2]["n_parts"] == threads
    _assert_same(ref, split, record)


def test_split_run_that_outgrows_its_spike_buffers_stops_every_part_at_the_same_step(monkeypatch):
    record = {"E": ("v",)}
    ref = _run_twice(_fused_net(1), record)
    # buffers that hold about one step of spikes: the parts stop and grow them many times
    monkeypatch.setattr(network_module, "_initial_capacity", lambda n: n + 1)
    split = _run_twice(_fused_net(2), record)
    assert split[2]["cap"] >= 8 * (500 + 1)  # the buffers did grow, several times
    _assert_same(ref, split, record)


def test_threads_default_to_one_below_the_split_size_and_to_numbas_count_above(monkeypatch):
    monkeypatch.setattr(network_module, "_numba_threads", lambda: 4)
    n_min = network_module._SPLIT_MIN_NEURONS
    net = Network(dt=DT)
    # one part per n_min / 2 neurons, at most Numba's thread count
    assert [net._n_parts(n) for n in (n_min - 1, n_min, 3 * n_min // 2, 10**6)] == [1, 2, 3, 4]
    assert Network(dt=DT, threads=3)._n_parts(10) == 3
    assert Network(dt=DT, batch=4)._n_parts(10**6) == 1


def test_part_cuts_cover_the_population_in_order_on_multiples_of_64_or_its_end():
    for n in (0, 1, 63, 100, 1000, 51200, 12345):
        for parts in (1, 2, 3, 7):
            cuts = _part_cuts(n, parts)
            assert cuts[0] == 0 and cuts[-1] == n and len(cuts) == parts + 1
            assert all(a <= b for a, b in itertools.pairwise(cuts))
            assert all(c % 64 == 0 or c == n for c in cuts[1:-1])
    assert _part_cuts(51200, 2) == [0, 25600, 51200]


def test_row_cuts_match_a_direct_count_per_row():
    w = sp.random(500, 300, density=0.03, random_state=5, format="csc")  # CSC of W = CSR of W^T
    w.sum_duplicates()
    indptr, indices = w.indptr.astype(np.int64), w.indices.astype(np.int32)
    cuts = [0, 64, 250, 500]
    out = _row_cuts(indptr, indices, cuts)
    for q, cut in enumerate(cuts):
        for j in range(300):
            row = indices[indptr[j]:indptr[j + 1]]
            assert out[q, j] == indptr[j] + np.count_nonzero(row < cut)
    assert np.all(out[:, -1] == indptr[-1])


def test_row_cuts_refuse_unsorted_rows():
    indptr = np.array([0, 3], dtype=np.int64)
    with pytest.raises(RuntimeError, match="sorted"):
        _row_cuts(indptr, np.array([2, 0, 1], dtype=np.int32), [1])


@njit(nogil=True)
def _count_and_wait(sync, acc, n_threads, steps, seen):
    for k in range(steps):
        atomic_add(acc, 0, 1)
        spin_barrier(sync, n_threads)
        seen[k] = atomic_load(acc, 0)  # every thread has added for step k, none for step k + 1
        spin_barrier(sync, n_threads)


@pytest.mark.parametrize("n_threads", [2, 3])
def test_spin_barrier_lets_no_thread_through_before_all_arrive(n_threads):
    steps = 2000
    sync = np.zeros(SYNC_SIZE, dtype=np.int64)
    acc = np.zeros(1, dtype=np.int64)
    seen = np.zeros((n_threads, steps), dtype=np.int64)
    workers = [threading.Thread(target=_count_and_wait, args=(sync, acc, n_threads, steps, seen[t]))
               for t in range(1, n_threads)]
    for th in workers:
        th.start()
    _count_and_wait(sync, acc, n_threads, steps, seen[0])
    for th in workers:
        th.join()
    expected = n_threads * np.arange(1, steps + 1)
    for t in range(n_threads):
        np.testing.assert_array_equal(seen[t], expected)


@pytest.mark.parametrize("threads", [0, -2])
def test_network_rejects_non_positive_threads(threads):
    with pytest.raises(ValueError, match="threads"):
        Network(dt=DT, threads=threads)


def test_network_rejects_threads_that_are_not_an_integer():
    with pytest.raises(TypeError, match="threads"):
        Network(dt=DT, threads=2.5)


def test_batched_network_rejects_threads():
    with pytest.raises(ValueError, match="threads"):
        Network(dt=DT, batch=3, threads=2)
