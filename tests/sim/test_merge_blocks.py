"""simulate's merge of chunk spikes by blocks of neurons changes no bit."""

import importlib

import numpy as np

from spikenet.sim import LIF, simulate
from tests.sim.test_runs import _runs_with, _same_result

sim_module = importlib.import_module("spikenet.sim.simulate")
results_module = importlib.import_module("spikenet.sim.results")


def test_merging_chunks_by_blocks_of_neurons_changes_no_bit(monkeypatch):
    # Random chunks of 1-37 steps hold either more spikes than neurons (kept
    # with counts per neuron, merged by blocks) or fewer (kept with a neuron
    # per spike), in an irregular order; blocks of 7 neurons cut the 90
    # neurons unevenly. The one-chunk run has nothing to merge.
    monkeypatch.setattr(results_module, "_MERGE_BLOCK", 7)
    monkeypatch.setattr(sim_module, "_LIF_CLOSED_FORM", False)
    rng = np.random.default_rng(4)
    rows = rng.uniform(0.5, 3.0, (1500, 90)) * (1 + np.sin(np.arange(1500) / 40.0))[:, None]
    for case in (lambda: simulate(LIF(), rows, T=0.15),
                 lambda: simulate(LIF(tau_ref=5e-5), np.linspace(0.0, 30.0, 90), T=0.12)):
        one, cut = _runs_with(monkeypatch, sim_module, case)
        _same_result(one, cut)
        # each neuron's spikes in time order, every step index inside the run
        for i in range(90):
            seg = cut._steps[cut._offsets[i]:cut._offsets[i + 1]]
            assert np.all(np.diff(seg) >= 0) and (seg.size == 0 or seg[-1] < cut.steps)


def test_chunked_spikes_are_grouped_when_first_read_and_counts_need_no_grouping(monkeypatch):
    # A run of several chunks returns its spikes as the chunks left them;
    # counts and whole-run rates come from the offsets alone, and the first
    # read of spike times groups them, bit for bit as a run in one chunk.
    import pickle

    monkeypatch.setattr(sim_module, "_LIF_CLOSED_FORM", False)
    rows = np.random.default_rng(8).uniform(0.5, 3.0, (1200, 50))
    one, cut = _runs_with(monkeypatch, sim_module, lambda: simulate(LIF(), rows, T=0.12))
    assert cut._pending is not None and one._pending is None
    np.testing.assert_array_equal(cut.spike_counts, one.spike_counts)
    np.testing.assert_array_equal(cut.rates(), one.rates())
    assert cut._pending is not None  # nothing read yet needed the grouping
    copy = pickle.loads(pickle.dumps(cut))  # still pending: the chunks travel as arrays
    assert "spikes=" in repr(cut) and cut._pending is not None
    for res in (cut, copy):
        _same_result(one, res)
        assert res._pending is None


def test_every_chunk_re_run_after_an_overflow_starts_from_that_chunk_s_state(monkeypatch):
    # A spike buffer of one entry per neuron overflows in every chunk of a
    # run cut into random chunks: each re-run must restart from the state at
    # its own chunk's start, so the spikes equal those of an unforced run.
    monkeypatch.setattr(sim_module, "_LIF_CLOSED_FORM", False)
    # (random chunks of 1-37 steps; the fast neurons fire every 0.7 ms, so most overflow)
    lif = LIF(tau_ref=2e-4)
    J = np.linspace(1.5, 40.0, 12)
    ref = simulate(lif, J, T=0.1)
    monkeypatch.setattr(sim_module, "_spike_capacity", lambda *a, **k: 1)
    _, cut = _runs_with(monkeypatch, sim_module, lambda: simulate(lif, J, T=0.1))
    assert ref.spike_counts.min() > 3
    assert np.diff(ref._offsets).max() > 100  # several spikes per chunk: re-runs happen
    _same_result(ref, cut)
