"""The free part of a LIF step after a refractory period, integrated exactly with PSC currents.

A neuron whose refractory period ends at ``s`` inside a step (and one that
spikes and is free again before the step ends) integrates ``[s, dt]`` from
``v_reset`` with the synaptic current it actually receives there. The
references are scipy ``solve_ivp`` solutions (rtol 1e-10) of the membrane and
filter equations, piecewise between input arrivals, spikes and refractory
ends:

- *given spikes*: the refractory periods start at spikenet's own spike
  times, so every voltage at the grid points is exact up to the integration
  of the free parts (the crossing time inside a step is a separate,
  documented approximation);
- *independent*: threshold crossings found by ``solve_ivp``'s event
  location; spike times must agree to a fraction of the step.
"""

import math

import numpy as np
import pytest
from numba import njit
from scipy.integrate import solve_ivp

from spikenet.sim import LIF, Network, PSCFilter
from spikenet.sim.kernels.release import fused_free_voltage, single_stage_share

DT = 1e-4
TAU_M = 0.010
TAU_REF = 0.00215  # not a multiple of dt: every refractory period ends inside a step
STEPS = 500
RTOL = 1e-10
# Voltage at the grid points against the given-spikes reference (threshold 1):
# float64 round-off of the closed forms plus solve_ivp's rtol 1e-10. Measured
# max errors 1.1e-13 (tau_s 0.5 ms), 5e-15 (5 ms), 7e-15 (2-stage 1 ms); the
# step's mean drive applied to the free part (the rule this replaces) was off
# by 2.8e-3, 1.4e-4 and 5.3e-4.
V_ATOL = 1e-9
# Spike times against the independent reference: the crossing time inside a
# step is the exact one for the constant drive equivalent to the step's (or
# free part's) input, which errs with a current decaying within the step,
# and each spike time error moves the next refractory end. Measured up to
# 1.5e-5 s (0.15 dt) with tau_s = 0.5 ms, 3.5e-6 s with 5 ms.
SPIKE_ATOL = 3e-5


def _input(seed, n_src=2):
    rng = np.random.default_rng(seed)
    raster = rng.random((STEPS + 1, n_src)) < 0.25
    return raster


def _run(tau_s, n, bias, w, seed, tau_ref=TAU_REF, params=False, jvar=None, noise=None):
    """One LIF neuron fed an excitatory and an inhibitory spike train through ``PSCFilter(tau_s, n)``."""
    raster = _input(seed)
    net = Network(dt=DT)
    nrn = LIF(tau_m=TAU_M, tau_ref=tau_ref)
    kw = {"params": {"tau_m": np.array([TAU_M])}} if params else {}
    pop = net.add_population(1, nrn, bias=bias, name="p", **kw)
    net.add_input(pop, spikes=raster, weights=np.array([[w, -0.5 * w]]), synapse=PSCFilter(tau_s, n))
    if jvar is not None:
        net.add_input(pop, current=jvar[:, None])
    if noise is not None:
        net.add_input(pop, noise=noise)
    res = net.run(STEPS * DT, record={"p": "v"})
    return res.spike_times["p"][0], res["p", "v"][:, 0], raster


def _rhs(tau_s, n, drive):
    def f(t, y, free):
        dy = np.empty_like(y)
        dy[0] = (drive(t) + y[-1] - y[0]) / TAU_M if free else 0.0
        dy[1] = -y[1] / tau_s
        for i in range(2, n + 2):
            dy[i] = (y[i - 1] - y[i]) / tau_s
        return dy
    return f


def _reference(tau_s, n, bias, w, raster, spikes=None, tau_ref=TAU_REF, jvar=None):
    """Voltage at every grid point and the spike times, by solve_ivp over each piece.

    With ``spikes`` given, the refractory periods start at those times;
    otherwise at the threshold crossings located by ``solve_ivp``.
    """
    def drive(t):
        if jvar is None:
            return bias
        return bias + jvar[min(int(t / DT + 1e-9), STEPS - 1)]

    f = _rhs(tau_s, n, drive)
    y = np.zeros(n + 2)
    kick = np.array([w, -0.5 * w]) / tau_s
    v_grid = np.zeros(STEPS)
    out = []
    ref_end = -1.0
    given = list(spikes) if spikes is not None else None
    for k in range(STEPS):
        v_grid[k] = y[0] if ref_end < k * DT else 0.0
        if k > 0:  # row k-1 of the raster arrives at the start of step k
            y[1] += raster[k - 1] @ kick
        t = k * DT
        t_end = (k + 1) * DT
        while t < t_end - 1e-15:
            if ref_end > t:  # refractory: v held at v_reset
                t1 = min(ref_end, t_end)
                sol = solve_ivp(f, (t, t1), y, args=(False,), rtol=RTOL, atol=1e-13, method="DOP853")
                y = sol.y[:, -1].copy()
                y[0] = 0.0
                t = t1
                continue
            t1 = t_end
            if given is not None:
                if given and given[0] < t_end - 1e-15:
                    t1 = max(given.pop(0), t)
                    sol = solve_ivp(f, (t, t1), y, args=(True,), rtol=RTOL, atol=1e-13, method="DOP853")
                    y = sol.y[:, -1].copy()
                    y[0] = 0.0
                    out.append(t1)
                    ref_end = t1 + tau_ref
                    t = t1
                    continue
                sol = solve_ivp(f, (t, t1), y, args=(True,), rtol=RTOL, atol=1e-13, method="DOP853")
                y = sol.y[:, -1].copy()
                t = t1
                continue

            def hit(tt, yy, free):
                return yy[0] - 1.0
            hit.terminal = True
            hit.direction = 1.0
            sol = solve_ivp(f, (t, t1), y, args=(True,), rtol=RTOL, atol=1e-13, method="DOP853",
                            events=hit)
            y = sol.y[:, -1].copy()
            if sol.status == 1:
                ts = sol.t_events[0][0]
                out.append(ts)
                y[0] = 0.0
                ref_end = ts + tau_ref
                t = ts
            else:
                t = t1
    return v_grid, np.array(out)


def _release_steps(spikes, tau_ref):
    """Steps in which a refractory period ends (strictly inside)."""
    ends = np.asarray(spikes) + tau_ref
    return np.floor(ends / DT + 1e-9).astype(int) + 1


CASES = [  # tau_s, n, bias, w
    pytest.param(0.0005, 0, 1.3, 0.004, id="exp-0.5ms"),
    pytest.param(0.005, 0, 1.3, 0.003, id="exp-5ms"),
    pytest.param(0.001, 1, 1.3, 0.004, id="2stage-1ms"),
]


@pytest.mark.parametrize(("tau_s", "n", "bias", "w"), CASES)
def test_free_part_of_release_step_matches_solve_ivp_given_the_spike_times(tau_s, n, bias, w):
    """Every grid voltage equals the ODE solution with refractory periods from spikenet's spikes.

    Max error 1.1e-13 / 5e-15 / 7e-15 (tau_s 0.5 ms / 5 ms / 2-stage 1 ms); with the step's mean drive
    over the free part it was 2.8e-3 / 1.4e-4 / 5.3e-4.
    """
    spikes, v, raster = _run(tau_s, n, bias, w, seed=1)
    assert len(spikes) >= 8  # as many release steps
    v_ref, _ = _reference(tau_s, n, bias, w, raster, spikes=spikes)
    err = np.abs(v - v_ref)
    # the voltages right after a release step are the ones this checks
    rel = _release_steps(spikes, TAU_REF)
    rel = rel[rel < STEPS]
    assert (np.abs(v_ref[rel]) > 1e-3).sum() >= len(rel) // 2  # most moved off v_reset
    np.testing.assert_allclose(v, v_ref, rtol=0, atol=V_ATOL)
    assert err.max() < V_ATOL


@pytest.mark.parametrize(("tau_s", "n", "bias", "w"), CASES)
def test_spike_times_match_solve_ivp_threshold_events(tau_s, n, bias, w):
    spikes, _, raster = _run(tau_s, n, bias, w, seed=2)
    _, ref = _reference(tau_s, n, bias, w, raster)
    assert len(spikes) == len(ref)
    np.testing.assert_allclose(spikes, ref, rtol=0, atol=SPIKE_ATOL)


def test_per_neuron_parameter_path_is_exact_and_equals_the_scalar_path():
    spikes, v, raster = _run(0.0005, 0, 1.3, 0.004, seed=3, params=True)
    v_ref, _ = _reference(0.0005, 0, 1.3, 0.004, raster, spikes=spikes)
    np.testing.assert_allclose(v, v_ref, rtol=0, atol=V_ATOL)
    spikes_s, v_s, _ = _run(0.0005, 0, 1.3, 0.004, seed=3)
    np.testing.assert_array_equal(spikes, spikes_s)
    np.testing.assert_array_equal(v, v_s)


def test_time_varying_current_in_the_release_step():
    """A per-step external current (the generic pass): the free part uses the step's own value."""
    jvar = 0.4 * np.sin(np.arange(STEPS + 1) * 0.37)
    spikes, v, raster = _run(0.0005, 0, 1.1, 0.004, seed=4, jvar=jvar)
    assert len(spikes) >= 6
    v_ref, _ = _reference(0.0005, 0, 1.1, 0.004, raster, spikes=spikes, jvar=jvar)
    np.testing.assert_allclose(v, v_ref, rtol=0, atol=V_ATOL)


def test_refractory_period_shorter_than_a_step_integrates_the_rest_of_the_spike_step():
    """tau_ref < dt: free again inside the spike's own step; that remainder is exact too."""
    tau_ref = 0.3 * DT
    spikes, v, raster = _run(0.0005, 0, 1.3, 0.004, seed=5, tau_ref=tau_ref)
    assert len(spikes) >= 8
    v_ref, _ = _reference(0.0005, 0, 1.3, 0.004, raster, spikes=spikes, tau_ref=tau_ref)
    after = np.floor(np.asarray(spikes) / DT + 1e-9).astype(int) + 1
    after = after[after < STEPS]
    assert (np.abs(v_ref[after]) > 1e-3).sum() >= 5  # free again within the spike's step
    assert math.isfinite(v.max()) and v.max() < 1.0
    np.testing.assert_allclose(v, v_ref, rtol=0, atol=V_ATOL)


@pytest.mark.parametrize(("tau_m", "tau_s"), [(0.01, 0.0005), (0.01, 0.01), (0.01, 0.05), (0.002, 0.0001),
                                              (0.0005, 0.002), (0.02, 0.02 * (1 + 1e-9)), (0.01, 2e-6)])
def test_stage_couplings_equal_the_defining_integral(tau_m, tau_s):
    """C_q(h) = (1/tau_m) int_0^h e^{-(h-t)/tau_m} e^{-t/tau_s} (t/tau_s)^q / q! dt, by 30-digit quadrature.

    Covers the power series (|z| <= 1 and z > 1), the incomplete gamma branch
    (z < -1) and tau_s == tau_m; measured within 1.4e-15 relative.
    """
    import mpmath

    from spikenet.sim.kernels.release import stage_couplings

    mpmath.mp.dps = 30
    h = np.array([1e-7, 1e-4, 1e-3])
    tm, ts = mpmath.mpf(tau_m), mpmath.mpf(tau_s)

    def coupling(hh, q):
        hh = mpmath.mpf(hh)

        def f(t):
            return mpmath.exp(-(hh - t) / tm - t / ts) * (t / ts) ** q / mpmath.factorial(q)
        return float(mpmath.quad(f, [0, hh]) / tm)

    for q in range(4):
        got = stage_couplings(h, tau_m, tau_s, q)
        np.testing.assert_allclose(got, [coupling(hh, q) for hh in h], rtol=1e-14, atol=0)


def test_noisy_population_integrates_the_free_part_exactly_too():
    """White noise of 1e-9 (negligible): the noisy pass's drift over the free part is the exact one."""
    spikes, v, raster = _run(0.0005, 0, 1.3, 0.004, seed=6, noise=1e-9)
    assert len(spikes) >= 8
    v_ref, _ = _reference(0.0005, 0, 1.3, 0.004, raster, spikes=spikes)
    np.testing.assert_allclose(v, v_ref, rtol=0, atol=1e-7)


@njit
def _share(x_end, h, tau_m, tau_s):
    return single_stage_share(x_end, h, tau_m, tau_s)


@njit
def _fused(v0, h, tau_m, jd, i, stb, grp_off, coef, grp_avg_off, g0, g1):
    return fused_free_voltage(v0, h, tau_m, jd, i, stb, grp_off, coef, grp_avg_off, g0, g1)


@pytest.mark.parametrize("two", [False, True])
def test_fused_release_equals_the_general_single_stage_share_bit_for_bit(two):
    """The fused release step writes the single-stage share out; its bits are the shared function's.

    Synaptic time constants on both sides of the bounded branch (w >= 50,
    and past the cap on the carried-back exponent), and a stage at zero.
    """
    h, tau_m, v0, jd = 7.3e-5, 0.01, 0.2, 1.4
    rng = np.random.default_rng(3)
    for tau_s in (5e-3, 1e-4, h / 60.0, h / 400.0, h / 900.0):
        for x in (0.0, 0.7, -1.3):
            n = 5
            i = 3
            # two groups of n neurons; tau_s of group g at coef[grp_avg_off[g] + 1]
            stb = rng.normal(size=2 * n)
            stb[i] = x
            grp_off = np.array([0, n])
            coef = np.array([9.0, tau_s, 9.0, 9.0, 2.0 * tau_s])
            grp_avg_off = np.array([0, 3])
            g1 = 1 if two else -1
            got, em = _fused(v0, h, tau_m, jd, i, stb, grp_off, coef, grp_avg_off, 0, g1)
            assert em == math.expm1(-h / tau_m)
            acc = _share(x, h, tau_m, tau_s)
            if two:
                acc += _share(stb[n + i], h, tau_m, 2.0 * tau_s)
            assert got == v0 * (1.0 + em) - jd * em + acc


@pytest.mark.parametrize("w", [0.2, 49.9, 50.1, 100.0, 600.0])
def test_single_stage_share_is_the_coupling_on_both_sides_of_its_explicit_branch(w):
    """x(s) C_0(h) from the stage's end value, by 30-digit arithmetic; w >= 50 takes the bounded branch.

    ``w = h/tau_s - h/tau_m`` (tau_s far below the step for large w); measured within 1e-15 relative.
    """
    import mpmath

    mpmath.mp.dps = 30
    h, tau_m = 1e-4, 0.01
    tau_s = h / (w + h / tau_m)
    x_s = 2.5
    x_end = x_s * math.exp(-h / tau_s)
    hh, tm, ts = mpmath.mpf(h), mpmath.mpf(tau_m), mpmath.mpf(tau_s)
    ww = hh / ts - hh / tm
    exact = x_s * (hh / tm) * mpmath.exp(-hh / tm) * -mpmath.expm1(-ww) / ww
    assert _share(x_end, h, tau_m, tau_s) == pytest.approx(float(exact), rel=1e-13, abs=0)


def test_networks_whose_lif_populations_are_all_fused_do_not_compile_the_multi_stage_release():
    """Numba's dead-branch pass removes the general release form when ``chains`` is None (fused only)."""
    import inspect

    from numba import types
    from numba.core import ir
    from numba.core.analysis import compute_cfg_from_blocks, dead_branch_prune
    from numba.core.compiler import run_frontend

    from spikenet.sim.kernels.network import _lif_event

    n_args = len(inspect.signature(_lif_event.py_func).parameters)

    def live(chains_type):
        # only the last argument's type matters to the pass (an ``is None`` test)
        func_ir = run_frontend(_lif_event.py_func)
        dead_branch_prune(func_ir, [types.float64] * (n_args - 1) + [chains_type])
        dead = compute_cfg_from_blocks(func_ir.blocks).dead_nodes()
        return {stmt.value.name for label, block in func_ir.blocks.items() if label not in dead
                for stmt in block.body
                if isinstance(stmt, ir.Assign) and isinstance(stmt.value, (ir.Global, ir.FreeVar))}

    assert "fused_free_voltage" in live(types.none)
    assert "free_voltage" not in live(types.none)
    assert {"fused_free_voltage", "free_voltage"} <= live(types.boolean)
