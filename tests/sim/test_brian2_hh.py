"""HH vs Brian2 (method 'rk4' at dt = 10 us): spike counts and times (issue 2, point 6)."""

import numpy as np
import pytest

from spikenet.sim import HH, simulate
from tests.sim.tolerances import BRIAN2_COUNT_DIFF, BRIAN2_SPIKE_ATOL_S

pytestmark = pytest.mark.brian2

NEURON = HH()
J_FAST = np.array([-5.0, 0.0, 3.0, 6.5, 8.0, 10.0, 12.0, 15.0, 18.0, 20.0])
J_FULL = np.concatenate([[-10.0], np.linspace(0.0, 20.0, 21), [30.0, 50.0]])


def compare(J, T):
    from spikenet.sim.crosscheck import brian2_hh

    ref, _ = brian2_hh(NEURON, J, T, dt=1e-5, method="rk4")
    res = simulate(NEURON, J, T=T, dt=1e-5)
    assert sum(len(r) for r in ref) > 2 * len(J)
    for j, mine, theirs in zip(J, res.spike_times, ref):
        assert abs(len(mine) - len(theirs)) <= BRIAN2_COUNT_DIFF, f"J={j}"
        k = min(len(mine), len(theirs))
        np.testing.assert_allclose(mine[:k], theirs[:k], rtol=0, atol=BRIAN2_SPIKE_ATOL_S,
                                   err_msg=f"J={j}")


def test_hh_agrees_with_brian2_fast_subset():
    compare(J_FAST, 0.05)


@pytest.mark.slow
def test_hh_agrees_with_brian2_full():
    compare(J_FULL, 0.1)
