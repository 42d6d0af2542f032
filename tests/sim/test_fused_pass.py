"""The network kernel's fused LIF pass against the exact step written out in NumPy, bit for bit.

The pass leaves the neurons it flags for the event code at their start
values and stores no input part for the others; the event loop then calls
it again for each flagged neuron, which must finish that neuron's step with
the same arithmetic as an unflagged one.
"""

import numpy as np
import pytest
from numba import njit

from spikenet.sim.kernels.network import _lif_fused as _kernel_pass


@njit
def _lif_fused(vo, u, jc, te, flag, x0, x1, a, one_ma, c0, d0, c1, d1, t_free, t_next, v_reset, v_th, one):
    # the pass is compiled for calls from compiled code only (no Python wrapper)
    return _kernel_pass(vo, u, jc, te, flag, x0, x1, a, one_ma, c0, d0, c1, d1, t_free, t_next, v_reset, v_th,
                        one)


@pytest.mark.parametrize("one_synapse", [False, True])
def test_fused_pass_and_its_one_neuron_call_give_the_exact_step_bit_for_bit(one_synapse):
    rng = np.random.default_rng(11)
    n = 1000
    dt, tk = 1e-4, 0.25
    t_free, t_next = tk + 1e-9 * dt, tk + dt
    a, v_th, v_reset = np.exp(-dt / 0.02), 1.0, 0.0
    one_ma = 1.0 - a
    c0, d0 = 0.0123, np.exp(-dt / 0.005)
    c1, d1 = (0.0, 0.0) if one_synapse else (-0.0456, np.exp(-dt / 0.01))
    v = rng.uniform(0.0, 1.02, n)  # some start above threshold
    x0 = rng.normal(0.0, 2.0, n)
    x1 = np.zeros(n) if one_synapse else rng.normal(0.0, 2.0, n)
    jc = np.full(n, 1.2)
    te = np.where(rng.random(n) < 0.1, tk + rng.uniform(-dt, 2 * dt, n), 0.0)  # refractory, ending around now

    # the exact step, element by element in NumPy (no fused multiply-add: the same roundings)
    ui = one_ma * jc + c0 * x0 + c1 * x1
    vn = np.where(te <= t_free, a * v + ui, v_reset)
    ev = (vn >= v_th) | ((te > t_free) & (te < t_next))
    assert 10 < ev.sum() < n  # both kinds of neuron are tested

    vo, y0, y1, u, flag = v.copy(), x0.copy(), x1.copy(), np.full(n, np.nan), np.zeros(n, np.uint8)
    hit = _lif_fused(vo, u, jc, te, flag, y0, y1, a, one_ma, c0, d0, c1, d1, t_free, t_next, v_reset, v_th,
                     np.int64(-1))
    assert hit
    np.testing.assert_array_equal(flag.astype(bool), ev)
    # unflagged neurons: their end-of-step values; flagged ones: untouched, no u stored
    np.testing.assert_array_equal(vo[~ev], vn[~ev])
    np.testing.assert_array_equal(y0[~ev], d0 * x0[~ev])
    np.testing.assert_array_equal(vo[ev], v[ev])
    np.testing.assert_array_equal(y0[ev], x0[ev])
    assert np.isnan(u).all()
    for i in np.flatnonzero(ev):
        assert not _lif_fused(vo, u, jc, te, flag, y0, y1, a, one_ma, c0, d0, c1, d1, t_free, t_next, v_reset,
                              v_th, np.int64(i))
    np.testing.assert_array_equal(vo, vn)
    np.testing.assert_array_equal(y0, d0 * x0)
    np.testing.assert_array_equal(y1, d1 * x1)
    np.testing.assert_array_equal(u[ev], ui[ev])
