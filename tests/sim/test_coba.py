"""The COBA benchmark network (conductance synapses) against Brian2, and threads / batch with conductances."""

from __future__ import annotations

import numpy as np
import pytest

from spikenet.sim import cv
from spikenet.sim.coba import coba_network

RATE_REL_TOL = 0.10
CV_REL_TOL = 0.10


def _stats(trains, T):
    return np.mean([len(t) for t in trains]) / T, np.nanmean(cv(list(trains)))


def _compare(n, T, seed, method="rk4"):
    from tests.sim.brian2_network import coba_brian2

    net = coba_network(n=n, p=80 / n, seed=seed)
    res = net.run(T)
    theirs = coba_brian2(coba_network(n=n, p=80 / n, seed=seed), T, method=method)
    out = {}
    for pop in ("exc", "inh"):
        r_s, cv_s = _stats(res.spike_times[pop], T)
        r_b, cv_b = _stats(theirs[pop], T)
        print(f"n={n} seed {seed} {pop}: rate spikenet {r_s:.2f} Hz, brian2 ({method}) {r_b:.2f} Hz; "
              f"CV {cv_s:.3f} vs {cv_b:.3f}")
        out[pop] = (r_s, r_b, cv_s, cv_b)
    return out


@pytest.mark.brian2
def test_reduced_coba_rates_and_cv_match_brian2_three_seeds():
    # 1,000 neurons with 80 synapses each; per seed the same connectivity and
    # initial state in both simulators; Brian2 integrates with RK4 at the same
    # dt (on this reduced network its example's forward Euler strays: 8.4 Hz
    # on one instance where RK4 gives 18.9 Hz; at full size they agree). Single
    # seeds differ by up to 17 % (the network is chaotic and 0.5 s is short);
    # the means of seeds 0-2 measured: exc 15.1 vs 16.1 Hz, inh 16.0 vs 16.6 Hz,
    # CV 1.17 vs 1.19 (exc) and 1.20 vs 1.16 (inh).
    stats = [_compare(1000, 0.5, seed=s) for s in range(3)]
    for pop in ("exc", "inh"):
        r_s, r_b, cv_s, cv_b = np.mean([[*st[pop]] for st in stats], axis=0)
        print(f"{pop} over 3 seeds: rate {r_s:.2f} vs {r_b:.2f} Hz, CV {cv_s:.3f} vs {cv_b:.3f}")
        assert r_b > 5.0
        assert abs(r_s - r_b) <= RATE_REL_TOL * r_b
        assert abs(cv_s - cv_b) <= CV_REL_TOL * cv_b


@pytest.mark.slow
@pytest.mark.brian2
def test_full_coba_rates_and_cv_match_brian2_three_seeds():
    stats = [_compare(4000, 1.0, seed=s) for s in range(3)]
    for pop in ("exc", "inh"):
        r_s, r_b, cv_s, cv_b = np.mean([[*st[pop]] for st in stats], axis=0)
        print(f"{pop} over 3 seeds: rate {r_s:.2f} vs {r_b:.2f} Hz, CV {cv_s:.3f} vs {cv_b:.3f}")
        assert abs(r_s - r_b) <= RATE_REL_TOL * r_b
        assert abs(cv_s - cv_b) <= CV_REL_TOL * cv_b


def _spikes(res, pops=("exc", "inh")):
    return [np.concatenate(list(res.spike_times[p])) for p in pops]


@pytest.mark.slow
def test_coba_threads_are_bit_identical_to_one_thread():
    one = coba_network(n=600, p=80 / 600, seed=2).run(0.1)
    two = coba_network(n=600, p=80 / 600, seed=2)
    two.threads = 2
    two_res = two.run(0.1)
    for a, b in zip(_spikes(one), _spikes(two_res)):
        assert a.size > 100
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_coba_batch_copies_equal_their_single_runs():
    T = 0.1
    batched = coba_network(n=400, p=0.2, seed=4, batch=2)
    res = batched.run(T)
    for b in range(2):
        # the same connectivity (drawn before the initial state); copy b's initial state
        single = coba_network(n=400, p=0.2, seed=4)
        for pop in single.populations:
            pop.init["v"] = batched.populations[pop.index].init["v"][b:b + 1]
        single._cond_init = {k: g[b:b + 1] for k, g in batched._cond_init.items()}
        ref = single.run(T)
        for p in ("exc", "inh"):
            mine, theirs = res.spike_times[p][b], ref.spike_times[p]
            assert sum(len(t) for t in theirs) > 10
            for x, y in zip(mine, theirs):
                np.testing.assert_array_equal(x, y)


@pytest.mark.slow
@pytest.mark.nest
def test_full_coba_rates_and_cv_match_nest_iaf_cond_exp():
    # NEST iaf_cond_exp on the same instances (connectivity, initial voltages
    # and conductances), 3 seeds, 1 s each
    from tests.sim.nest_coba import run_nest_coba

    rows = []
    for seed in range(3):
        res = coba_network(seed=seed).run(1.0)
        theirs = run_nest_coba(coba_network(seed=seed), 1.0)
        rows.append([[*_stats(res.spike_times[p], 1.0), *_stats(theirs[p], 1.0)] for p in ("exc", "inh")])
    for k, pop in enumerate(("exc", "inh")):
        r_s, cv_s, r_n, cv_n = np.mean([r[k] for r in rows], axis=0)
        print(f"{pop} over 3 seeds: rate {r_s:.2f} vs NEST {r_n:.2f} Hz, CV {cv_s:.3f} vs {cv_n:.3f}")
        assert abs(r_s - r_n) <= RATE_REL_TOL * r_n
        assert abs(cv_s - cv_n) <= CV_REL_TOL * cv_n
