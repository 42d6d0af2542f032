"""The internal grid refractory rule of LIF populations (NEST iaf_psc_exp's), for the NEST cross-checks.

A population whose ``_grid_refractory`` attribute is true is held at
``v_reset`` for ``round(tau_ref / dt)`` whole steps after the step of its
spike and integrates freely from the start of the next one, as NEST's
``iaf_psc_exp`` does; by default spikenet's refractory period starts at the
spike time inside its step.
"""

import math

import numpy as np
import pytest
import scipy.sparse as sp

from spikenet.sim import LIF, Network, PSCFilter

DT = 1e-4
TAU_M, TAU_REF = 0.010, 0.002


def _single(j, grid, T=0.1):
    net = Network(dt=DT)
    pop = net.add_population(1, LIF(tau_m=TAU_M, tau_ref=TAU_REF), bias=j, name="p")
    pop._grid_refractory = grid
    res = net.run(T, record={"p": "v"})
    t, _, _ = res.spike_events("p")
    return t, res["p", "v"][:, 0]


def test_grid_refractory_holds_v_reset_for_whole_steps_like_nest():
    # Constant drive J from v = 0: the free voltage after m whole steps is
    # J (1 - a^m), a = exp(-dt / tau_m); NEST's neuron spikes in the first
    # step that ends at or above threshold (m* steps after the start of its
    # free run), then stays at v_reset for round(tau_ref / dt) = 20 steps.
    j = 1.3
    a = math.exp(-DT / TAU_M)
    m_star = math.ceil(math.log(1.0 - 1.0 / j) / math.log(a))
    assert abs(math.log(1.0 - 1.0 / j) / math.log(a) - m_star) > 0.1  # far from a rounding tie
    t, v = _single(j, grid=True)
    steps = np.floor(t / DT + 1e-9).astype(np.int64)
    assert steps.size >= 5
    assert steps[0] == m_star - 1  # free from t = 0: step m* - 1 ends at threshold
    assert np.all(np.diff(steps) == 20 + m_star)
    s = steps[0]
    # recorded v is the value at the start of each step: v_reset at the end of
    # the spike's step and through the 20 held steps, then one free step
    assert np.all(v[s + 1:s + 22] == 0.0)
    assert v[s + 22] == pytest.approx(j * (1.0 - a), rel=1e-12)


def test_default_refractory_starts_at_the_spike_time_inside_the_step():
    # The same neuron with spikenet's default rule: the interval is exactly
    # tau_ref + tau_m ln(J / (J - 1)) in continuous time.
    j = 1.3
    t, _ = _single(j, grid=False)
    assert np.allclose(np.diff(t), TAU_REF + TAU_M * math.log(j / (j - 1.0)), atol=1e-9)
    tg, _ = _single(j, grid=True)
    # the grid rule's dead time is longer, by less than a step
    assert 0.0 < np.diff(tg).mean() - np.diff(t).mean() < DT


def _net(threads, seed=3, n=400):
    rng = np.random.default_rng(seed)
    net = Network(dt=DT, threads=threads)
    e = net.add_population(n, LIF(tau_m=TAU_M, tau_ref=TAU_REF), bias=rng.uniform(0.9, 1.2, n), name="e",
                           init={"v": rng.uniform(0, 1, n)})
    i = net.add_population(n // 4, LIF(tau_m=TAU_M, tau_ref=TAU_REF), bias=1.05, name="i",
                           init={"v": rng.uniform(0, 1, n // 4)})
    for pop in (e, i):
        pop._grid_refractory = True
    syn = PSCFilter(5e-4)
    for pre, post, w in ((e, e, 2e-4), (e, i, 2e-4), (i, e, -8e-4), (i, i, -8e-4)):
        m = sp.random(post.n, pre.n, density=0.1, random_state=rng, format="csr")
        m.data[:] = w
        d = m.copy()
        d.data = DT * rng.integers(1, 16, d.nnz)
        net.connect(pre, post, m, synapse=syn, delay=d)
    return net


def test_grid_refractory_network_is_bit_identical_on_two_threads():
    one = _net(None).run(0.2)
    two = _net(2).run(0.2)
    for name in ("e", "i"):
        a, b = one.spike_events(name), two.spike_events(name)
        assert a[0].size > 100
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
