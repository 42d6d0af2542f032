"""HH simulation vs scipy solve_ivp at tight tolerance, steady state, dt limits."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from spikenet.sim import HH, simulate
from spikenet.sim.simulate import HH_DT_MAX, HH_DT_WARN
from tests.sim.tolerances import (
    HH_DT_MAX_COUNT_RTOL,
    HH_GATE_INIT_RTOL,
    HH_RATES_RTOL,
    HH_SPIKE_ATOL_S,
    HH_STEP_LOOP_RTOL,
    HH_SUBTHRESHOLD_BELOW,
    HH_SUBTHRESHOLD_V_ATOL,
)

INPUTS = np.array([0.0, 2.0, 4.0, 6.0, 6.5, 7.0, 8.0, 10.0, 12.0, 15.0, 20.0])  # uA/cm^2
T_MS = 100.0


def hh_rhs(t, y, J, p):
    """The HH equations (ms, mV) for k neurons stacked as y = [V, m, h, n] blocks.

    Written out from the 1952 rate functions (independent of the kernels'
    shared-exponential form); V never sits exactly on the removable
    singularities at -40 / -55 mV in these runs.
    """
    V, m, h, n = y.reshape(4, -1)
    alpha_m = 0.1 * (V + 40) / -np.expm1(-(V + 40) / 10)
    beta_m = 4 * np.exp(-(V + 65) / 18)
    alpha_h = 0.07 * np.exp(-(V + 65) / 20)
    beta_h = 1 / (1 + np.exp(-(V + 35) / 10))
    alpha_n = 0.01 * (V + 55) / -np.expm1(-(V + 55) / 10)
    beta_n = 0.125 * np.exp(-(V + 65) / 80)
    dV = (J - p.g_na * m**3 * h * (V - p.e_na) - p.g_k * n**4 * (V - p.e_k)
          - p.g_l * (V - p.e_l)) / p.c_m
    dm = alpha_m * (1 - m) - beta_m * m
    dh = alpha_h * (1 - h) - beta_h * h
    dn = alpha_n * (1 - n) - beta_n * n
    return np.concatenate([dV, dm, dh, dn])


def upward_crossings(t, V, level):
    i = np.nonzero((V[:-1] < level) & (V[1:] >= level))[0]
    return t[i] + (level - V[i]) / (V[i + 1] - V[i]) * (t[i + 1] - t[i])


@pytest.fixture(scope="module")
def reference():
    """solve_ivp (DOP853, rtol 1e-9, max_step 0.05 ms) of all inputs at once, sampled every 1 us."""
    p = HH()
    y0 = np.concatenate([np.full(len(INPUTS), p.v_init),
                         *[np.full(len(INPUTS), g) for g in HH.steady_state(p.v_init)]])
    sol = solve_ivp(hh_rhs, (0.0, T_MS), y0, args=(INPUTS, p), method="DOP853", rtol=1e-9, atol=1e-9,
                    max_step=0.05, dense_output=True)
    assert sol.success
    t_fine = np.arange(0, T_MS + 1e-9, 0.001)
    V_fine = sol.sol(t_fine)[: len(INPUTS)]
    spikes = [upward_crossings(t_fine, V_fine[i], p.v_spike) * 1e-3 for i in range(len(INPUTS))]
    return sol, spikes


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hh_matches_solve_ivp(reference, dtype):
    sol, ref_spikes = reference
    res = simulate(HH(), INPUTS, T=T_MS * 1e-3, dt=1e-5, record=("v",), dtype=dtype)
    for i, (mine, ref) in enumerate(zip(res.spike_times, ref_spikes)):
        assert len(mine) == len(ref), f"J={INPUTS[i]}"
        np.testing.assert_allclose(mine, ref, rtol=0, atol=HH_SPIKE_ATOL_S)
    V_ref = sol.sol(res.t * 1e3)[: len(INPUTS)].T  # (steps, n)
    sub = V_ref < HH_SUBTHRESHOLD_BELOW
    assert sub.mean() > 0.5
    assert np.max(np.abs(res.v[sub] - V_ref[sub])) < HH_SUBTHRESHOLD_V_ATOL


def test_hh_spike_counts_show_the_onset_of_repetitive_firing(reference):
    _, ref_spikes = reference
    counts = np.array([len(s) for s in ref_spikes])
    # Known HH behaviour: no spike at rest, repetitive firing above ~6.2 uA/cm^2.
    assert counts[0] == 0 and counts[INPUTS >= 6.5].min() >= 5


def test_hh_starts_at_rest_with_gates_at_steady_state():
    hh = HH()
    res = simulate(hh, np.zeros(2), T=0.02, dt=1e-5, record=("v", "m", "h", "n"))
    m0, h0, n0 = HH.steady_state(hh.v_init)
    np.testing.assert_allclose(res.m[0], m0, rtol=HH_GATE_INIT_RTOL)
    np.testing.assert_allclose(res.h[0], h0, rtol=HH_GATE_INIT_RTOL)
    np.testing.assert_allclose(res.n[0], n0, rtol=HH_GATE_INIT_RTOL)
    assert res.v[0, 0] == -65.0
    # -65 mV is (nearly) the resting potential for e_l = -54.387: it stays put.
    assert np.max(np.abs(res.v - hh.v_init)) < 0.01


def test_hh_kernel_steady_state_and_rates_match_numpy_forms():
    from spikenet.sim.kernels.hh import hh_rates_array

    # Includes the removable singularities at -40 and -55 mV and points next to them.
    v = np.concatenate([np.linspace(-120, 60, 3601), [-40.0, -55.0, -40 + 1e-9, -55 - 1e-7,
                                                      -40 + 2e-2, -55 - 5e-3]])
    got = hh_rates_array(v)
    r = HH.rate_functions(v)
    want = np.stack([r[k] for k in ("alpha_m", "beta_m", "alpha_h", "beta_h", "alpha_n", "beta_n")]
                    + list(HH.steady_state(v)), axis=1)
    np.testing.assert_allclose(got, want, rtol=HH_RATES_RTOL)
    assert got[-6, 0] == pytest.approx(1.0) and got[-5, 4] == pytest.approx(0.1)


def test_hh_step_helper_matches_simulate():
    from spikenet.sim.kernels.hh import hh_trace

    hh = HH()
    res = simulate(hh, 10.0, T=0.02, dt=1e-5, record=("v",))
    trace = hh_trace(hh.v_init, 10.0, 2000, 0.01, hh.c_m, hh.g_na, hh.g_k, hh.g_l, hh.e_na, hh.e_k,
                     hh.e_l)
    # Same arithmetic; FMA contraction may differ between the vectorised and
    # the scalar compilation, hence not bit-identical.
    np.testing.assert_allclose(res.v[:, 0], trace, rtol=HH_STEP_LOOP_RTOL)


def test_hh_negative_input_hyperpolarises_without_spikes():
    res = simulate(HH(), -10.0, T=0.05, dt=1e-5, record=("v",))
    assert res.spike_counts[0] == 0
    # Steady state of V for J = -10: far below rest, towards E_K (-77 mV) and beyond.
    assert res.v[-1, 0] < -80.0


def test_hh_init_voltage_puts_gates_at_its_steady_state():
    res = simulate(HH(), 0.0, T=1e-4, dt=1e-5, init={"v": -70.0}, record=("v", "m"))
    assert res.v[0, 0] == -70.0
    assert res.m[0, 0] == pytest.approx(HH.steady_state(-70.0)[0], rel=HH_GATE_INIT_RTOL)


def test_hh_callable_and_batch_equal_array_input():
    dt, T = 1e-5, 0.03
    steps = round(T / dt)
    t = np.arange(steps) * dt

    def drive(tt):
        return np.array([[10.0 * (tt > 0.005), 5.0 + 100 * tt], [0.0, 20.0]])

    arr = np.stack([drive(tt) for tt in t])
    a = simulate(HH(), drive, T=T, dt=dt, batch=True, record=("v",))
    b = simulate(HH(), arr, T=T, dt=dt, batch=True, record=("v",))
    np.testing.assert_array_equal(a.v, b.v)
    for bb in range(2):
        one = simulate(HH(), arr[:, bb], T=T, dt=dt, record=("v",))
        np.testing.assert_array_equal(a.v[:, bb], one.v)
        for x, y in zip(a.spike_times[bb], one.spike_times):
            np.testing.assert_array_equal(x, y)


def test_hh_dt_above_accuracy_limit_warns():
    with pytest.warns(UserWarning, match="dt"):
        simulate(HH(), 10.0, T=0.01, dt=0.1e-3)


def test_hh_dt_at_accuracy_limit_does_not_warn():
    simulate(HH(), 10.0, T=0.01, dt=HH_DT_WARN)  # filterwarnings=error turns a warning into a failure


def test_hh_dt_beyond_breakdown_raises():
    with pytest.raises(ValueError, match="dt"):
        simulate(HH(), 10.0, T=0.01, dt=0.31e-3)


def test_hh_breakdown_bound_is_where_spike_counts_fail():
    # The refusal bound HH_DT_MAX is empirical: at that dt spike counts over
    # 200 ms for 6.5-50 uA/cm^2 stay within 10% of dt = 0.01 ms, while at
    # 0.5 ms they are badly wrong. T = 201 ms is a whole number of steps of
    # every dt used (0.01, 0.3 and 0.5 ms).
    J = np.array([6.5, 10.0, 20.0, 50.0])
    ref = simulate(HH(), J, T=0.201, dt=1e-5).spike_counts
    with pytest.warns(UserWarning):
        at_bound = simulate(HH(), J, T=0.201, dt=HH_DT_MAX).spike_counts
    np.testing.assert_allclose(at_bound, ref, rtol=HH_DT_MAX_COUNT_RTOL)
    import importlib

    sim = importlib.import_module("spikenet.sim.simulate")
    with pytest.warns(UserWarning):
        # bypass the refusal to show what it prevents
        sim.HH_DT_MAX, old = 1.0, sim.HH_DT_MAX
        try:
            broken = simulate(HH(), J, T=0.201, dt=0.5e-3).spike_counts
        finally:
            sim.HH_DT_MAX = old
    assert np.max(np.abs(broken - ref) / ref) > 0.5


def test_hh_extreme_inputs_stay_finite():
    # Absurd currents drive V to +-1e5 mV, where the rate functions would
    # overflow; they are evaluated at V clipped to +-250 mV, so nothing turns NaN.
    res = simulate(HH(), np.array([-1e5, -1e3, 1e3, 1e5]), T=0.005, dt=1e-5, record=("v", "m", "h", "n"))
    for name in "vmhn":
        assert np.all(np.isfinite(getattr(res, name)))
    for name in "mhn":
        g = getattr(res, name)
        assert g.min() >= 0.0 and g.max() <= 1.0
    assert res.v[-1, 0] < -1e4 and res.v[-1, -1] > 1e3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hh_kernel_gives_the_same_bits_at_512_and_256_bit_vector_width(dtype):
    # simulate runs the kernel compiled for 512-bit vectors on one thread and
    # for 256-bit ones on more: the width must change no bit of the state,
    # the recording or the spikes (700 neurons: whole blocks and a remainder).
    from spikenet.sim.kernels.hh import hh_run

    p = HH()
    n, steps, dt = 700, 3000, 1e-5
    J = np.linspace(0.0, 20.0, n)[None, :]
    out = {}
    for wide in (True, None):
        v = np.full(n, p.v_init, dtype=dtype)
        m, h, g = (np.full(n, x, dtype=dtype) for x in HH.steady_state(p.v_init))
        spk_t, spk_k, cnt = np.zeros((n, 64)), np.zeros((n, 64), np.int64), np.zeros(n, np.int64)
        rec = np.empty((steps, n), dtype=dtype)
        none = np.empty((steps, 0), dtype=dtype)
        hh_run(v, m, h, g, J, 0, 0, 0.0, dt, dt * 1e3, p.c_m, p.g_na, p.g_k, p.g_l, p.e_na, p.e_k, p.e_l,
               p.v_spike, spk_t, spk_k, cnt, rec, none, none, none, wide)
        out[wide] = (v, m, h, g, rec, cnt, spk_t)
    assert out[True][5].sum() > 500
    for a, b in zip(out[True], out[None]):
        np.testing.assert_array_equal(a, b)
