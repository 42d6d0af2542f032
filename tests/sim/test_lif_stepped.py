"""The time-stepping LIF kernel under a drive that changes every step, against an exact reference.

The reference integrates each neuron event by event in plain Python
(absolute times, ``math.log`` for each crossing, ``math.exp`` for each
stretch without one), independently of the kernel's vector pass, event flags
and per-block layout. The population spans several of the kernel's neuron
blocks, so block edges and the per-block drive rows are covered.
"""

import math

import numpy as np
import pytest

from spikenet.sim import LIF, simulate
from spikenet.sim.kernels.lif import BLOCK
from tests.sim.tolerances import LIF_EXACT_ATOL


def reference_spikes(J, dt, tau_m, tau_ref, v_th=1.0, v_reset=0.0):
    """Exact spike times of LIF neurons from v = 0 under a drive ``J`` (steps, n) held within each step."""
    steps, n = J.shape
    out = []
    for i in range(n):
        v, free, times = 0.0, 0.0, []  # free: absolute time the refractory period ends
        for k in range(steps):
            j, t_end = J[k, i], (k + 1) * dt
            cur = k * dt
            if free > cur:  # held at reset until `free`
                if free >= t_end:
                    continue
                cur, v = free, v_reset
            spiked = False
            while True:
                if j > v_th:
                    tc = cur + tau_m * math.log((j - v) / (j - v_th))
                    if tc < t_end:
                        if spiked:  # at most one spike per step: held at v_th until the next one
                            v = v_th
                            break
                        spiked = True
                        times.append(tc)
                        v, cur = v_reset, tc + tau_ref
                        free = cur
                        if cur >= t_end:
                            break
                        continue
                v = j + (v - j) * math.exp(-(t_end - cur) / tau_m)
                break
        out.append(np.array(times))
    return out


@pytest.mark.parametrize(("dt", "tau_ref"), [(1e-4, 2.3e-3), (1e-3, 2e-4)])
def test_stepped_kernel_spike_times_follow_a_drive_that_changes_every_step(dt, tau_ref):
    # tau_ref = 2.3 ms: refractory periods end mid-step; tau_ref = 0.2 ms with
    # dt = 1 ms: refractory periods ending in the step of their spike, and
    # second crossings held at v_th until the next step (one spike per step).
    rng = np.random.default_rng(7)
    n, steps = 2 * BLOCK + 37, 400
    J = rng.uniform(0.0, 6.0, size=(steps, n))
    lif = LIF(tau_m=0.02, tau_ref=tau_ref)
    res = simulate(lif, J, T=steps * dt, dt=dt)
    expected = reference_spikes(J, dt, 0.02, tau_ref)
    assert sum(len(e) for e in expected) > 2 * n  # every block has spikes and refractory exits
    for got, want in zip(res.spike_times, expected):
        assert len(got) == len(want)
        np.testing.assert_allclose(got, want, rtol=0, atol=LIF_EXACT_ATOL)
