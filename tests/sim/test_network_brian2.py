"""Network cross-checks against Brian2 (issue 3, point 5).

(a) Poisson input rasters into 100 LIF neurons through exponential synapses:
Brian2 at a 10x finer step, fed the same input spike times, must give the
same output spikes (at least 95 % matched within one spikenet dt).
(b) The CUBA network of Brette et al. (2007) with the same connectivity and
initial state in both simulators: mean excitatory and inhibitory rates within
10 % of Brian2's and mean ISI CV within 0.1 (a chaotic network: only
statistics can agree).
Brian2 uses its numpy target (see ``brian2_network.py``).
"""

import numpy as np
import pytest

from spikenet.sim import LIF, Network, PSCFilter, cv, poisson_spikes
from spikenet.sim.cuba import cuba_network

from .brian2_network import cuba_brian2, lif_poisson_brian2, match_fraction

pytestmark = pytest.mark.brian2

# Acceptance bounds of issue 3, point 5.
MIN_MATCH = 0.95
RATE_REL_TOL = 0.10
CV_ABS_TOL = 0.1
DT = 1e-4
DT_BRIAN2 = DT / 10


def _poisson_case(T, seed, dt_brian2=DT_BRIAN2):
    rng = np.random.default_rng(seed)
    n, n_in = 100, 50
    raster = poisson_spikes(20.0, T, DT, n=n_in, seed=rng)
    W = rng.uniform(0.0, 0.0016, (n, n_in))
    bias = rng.uniform(0.3, 0.7, n)
    nrn = LIF(tau_m=0.02, tau_ref=0.002)
    net = Network(dt=DT)
    pop = net.add_population(n, nrn, bias=bias, name="lif")
    net.add_input(pop, spikes=raster, weights=W, synapse=PSCFilter(0.005))
    ours = net.run(T).spike_times["lif"]
    rows, cols = np.nonzero(raster)
    theirs = lif_poisson_brian2(bias, W, rows, cols, DT, dt_brian2, T, nrn.tau_m, nrn.tau_ref, 0.005)
    return ours, theirs


def _report_match(ours, theirs):
    frac = match_fraction(ours, theirs, DT)
    n_ours, n_theirs = sum(map(len, ours)), sum(map(len, theirs))
    print(f"match {frac:.4f}, spikes spikenet {n_ours}, brian2 {n_theirs}")
    return frac, n_ours, n_theirs


def test_poisson_driven_lif_spikes_match_brian2_fast():
    ours, theirs = _poisson_case(T=0.2, seed=0)
    frac, n_ours, _ = _report_match(ours, theirs)
    assert n_ours > 300  # a real test: many output spikes
    assert frac >= MIN_MATCH


@pytest.mark.slow
def test_poisson_driven_lif_spikes_match_brian2_long(seed=1):
    # Over 1 s (about 30 spikes per neuron) Brian2 itself needs a finer step:
    # it stamps a spike at the start of the step in which the threshold is
    # crossed and starts tau_ref there, so at dt = 10 us each of its ISIs is
    # ~5 us short and its spike times drift ahead of the exact ones (measured:
    # 15 us after the first spike, 70 us after the 35th; 94 % matched at
    # 10 us). spikenet's spike times are within 0.2 us of solve_ivp's, so the
    # reference runs at 1 us here.
    ours, theirs = _poisson_case(T=1.0, seed=seed, dt_brian2=DT / 100)
    frac, _, _ = _report_match(ours, theirs)
    assert frac >= MIN_MATCH


def _cuba_stats(trains, T):
    rate = np.mean([len(t) for t in trains]) / T
    return rate, np.nanmean(cv(list(trains)))


def _compare_cuba(seed, T):
    net = cuba_network(seed=seed)
    res = net.run(T)
    theirs = cuba_brian2(cuba_network(seed=seed), T)
    out = {}
    for pop in ("exc", "inh"):
        r_s, cv_s = _cuba_stats(res.spike_times[pop], T)
        r_b, cv_b = _cuba_stats(theirs[pop], T)
        print(f"seed {seed} {pop}: rate spikenet {r_s:.3f} Hz, brian2 {r_b:.3f} Hz; "
              f"CV {cv_s:.3f} vs {cv_b:.3f}")
        out[pop] = (r_s, r_b, cv_s, cv_b)
    return out


def test_cuba_rates_and_cv_match_brian2_one_seed():
    for r_s, r_b, cv_s, cv_b in _compare_cuba(seed=0, T=0.5).values():
        assert r_b > 1.0
        assert abs(r_s - r_b) <= RATE_REL_TOL * r_b
        assert abs(cv_s - cv_b) <= CV_ABS_TOL


@pytest.mark.slow
def test_cuba_rates_and_cv_match_brian2_five_seeds():
    stats = [_compare_cuba(seed=s, T=1.0) for s in range(5)]
    for pop in ("exc", "inh"):
        r_s, r_b, cv_s, cv_b = np.mean([[*st[pop]] for st in stats], axis=0)
        print(f"{pop} over 5 seeds: rate {r_s:.3f} vs {r_b:.3f} Hz, CV {cv_s:.3f} vs {cv_b:.3f}")
        assert abs(r_s - r_b) <= RATE_REL_TOL * r_b
        assert abs(cv_s - cv_b) <= CV_ABS_TOL
