"""LIF vs Brian2 (method 'exact' at dt = 1 us): spike counts and times (issue 2, point 6)."""

import numpy as np
import pytest

from spikenet.sim import LIF, simulate
from tests.sim.tolerances import BRIAN2_COUNT_DIFF, BRIAN2_SPIKE_ATOL_S

pytestmark = pytest.mark.brian2

# Non-default time constants, as the issue asks.
NEURON = LIF(tau_m=0.015, tau_ref=0.0033)
J_FAST = np.linspace(1.1, 9.0, 10)  # 10 inputs, one NeuronGroup, one Brian2 build
J_FULL = np.concatenate([[1.02, 1.05], np.linspace(1.2, 10.0, 12), [15.0, 30.0]])


def compare(J, T):
    from spikenet.sim.crosscheck import brian2_lif

    ref, _ = brian2_lif(NEURON, J, T, dt=1e-6)
    assert sum(len(r) for r in ref) > 5 * len(J)
    # Without a recorded voltage the constant drive runs in closed form; with
    # one, through the stepped kernel: both are checked.
    for record in (("spikes",), ("spikes", "v")):
        res = simulate(NEURON, J, T=T, dt=1e-4, record=record)
        for j, mine, theirs in zip(J, res.spike_times, ref):
            assert abs(len(mine) - len(theirs)) <= BRIAN2_COUNT_DIFF, f"J={j}, {record}"
            k = min(len(mine), len(theirs))
            np.testing.assert_allclose(mine[:k], theirs[:k], rtol=0, atol=BRIAN2_SPIKE_ATOL_S,
                                       err_msg=f"J={j}, {record}")


def test_lif_agrees_with_brian2_fast_subset():
    # 0.1 s keeps the default run short (100k Brian2 steps); the slow test runs 0.5 s.
    compare(J_FAST, 0.1)


@pytest.mark.slow
def test_lif_agrees_with_brian2_full():
    compare(J_FULL, 0.5)
