r"""Numba kernels for Hodgkin-Huxley neurons.

Units inside the kernels are the model's own: mV, ms, uA/cm^2, mS/cm^2,
uF/cm^2 (the public API converts seconds to ms before calling in).

Scheme (one step of length ``dt`` with ``J`` held constant):

1. With ``V_k`` frozen each gate equation ``dx/dt = alpha_x(V_k) (1 - x) -
   beta_x(V_k) x`` is linear in ``x`` and is solved exactly::

       x_{k+1} = x_inf + (x_k - x_inf) exp(-dt (alpha_x + beta_x)),
       x_inf = alpha_x / (alpha_x + beta_x).

2. With the *updated* gates frozen the voltage equation is linear in ``V``
   and is solved exactly as well::

       g = g_Na m^3 h + g_K n^4 + g_L,
       V_inf = (J + g_Na m^3 h E_Na + g_K n^4 E_K + g_L E_L) / g,
       V_{k+1} = V_inf + (V_k - V_inf) exp(-dt g / C_m).

Using the updated gates in step 2 (rather than the old ones, as Brian2's
``exponential_euler`` does) staggers gates and voltage like a leapfrog
scheme; tests against ``scipy.integrate.solve_ivp`` show spike times within
0.01 ms over 100 ms at ``dt = 0.01 ms`` (see ``tests/sim/test_hh.py``).

The exponentials are vectorisable: one
:func:`~spikenet.sim.kernels.fastexp.fast_exp` serves all six rate functions
(see :func:`hh_rates`), and the four decay factors of a step use
:func:`~spikenet.sim.kernels.fastexp.fast_exp_decay`, so that the loop over
neurons vectorises (with 512-bit vectors where the CPU has them: see
:mod:`~spikenet.sim.kernels.vectorwidth`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from spikenet.sim.kernels.fastexp import fast_exp, fast_exp_decay
from spikenet.sim.kernels.vectorwidth import wide_vectors_unless_none

_FM = {"contract"}  # fused multiply-add only; no assumptions about NaN/inf


#: |V| (mV) beyond which the rate functions are evaluated at the bound.
V_RATE_CLIP = 250.0
_E_HALF = float(np.exp(0.5))
_E_M1_5 = float(np.exp(-1.5))
_E_2_5 = float(np.exp(2.5))


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _x_over_one_minus(x, e):
    """``x / (1 - e)`` where ``e = exp(-x)``; continuous at ``x = 0`` (value 1)."""
    # Near 0, 1 - exp(-x) loses digits to cancellation (and amplifies the
    # error of e by 1/x), so there the series
    # x / (1 - exp(-x)) = 1 + x/2 + x^2/12 - x^4/720 + x^6/30240 - x^8/1209600
    # is used instead (next term x^10/47900160 < 3e-18 for |x| < 0.1).
    small = abs(x) < 0.1
    x2 = x * x
    series = 1.0 + x * 0.5 + x2 * ((1.0 / 12.0) + x2 * ((-1.0 / 720.0) + x2 * (
        (1.0 / 30240.0) + x2 * (-1.0 / 1209600.0))))
    den = 1.0 if small else 1.0 - e
    exact = x / den
    return series if small else exact


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def hh_rates(v):
    """Rate functions of the HH gates at membrane potential ``v`` (mV).

    Parameters
    ----------
    v : float
        Membrane potential in mV, at most :data:`V_RATE_CLIP` in magnitude
        (beyond that the powers below overflow).

    Returns
    -------
    tuple of float
        ``(alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n)`` in 1/ms.

    Notes
    -----
    One exponential serves all six rates. Every exponent is a multiple of
    ``(v + 65) / 720`` mV (up to a constant factor), so with
    ``u = exp(-(v + 65)/720)``::

        exp(-(v + 65)/80) = u^9,   exp(-(v + 65)/20) = u^36,
        exp(-(v + 65)/18) = u^40,  exp(-(v + 40)/10) = u^72 e^2.5,

    and ``exp(-(v + 35)/10)``, ``exp(-(v + 55)/10)`` are the last one times
    ``e^0.5`` and ``e^-1.5``. The powers come from six squarings and four
    products. A power ``u^k`` carries about ``k`` times the relative error of
    ``u`` (below 1e-13 here); for ``|v| <= 250`` mV every power stays
    between ``exp(-29)`` and ``exp(19)``. On the benchmark machine this made
    the HH step about 1.5x faster than three separate exponentials.
    """
    u = fast_exp(-(v + 65.0) * (1.0 / 720.0))
    u2 = u * u
    u4 = u2 * u2
    u8 = u4 * u4
    u16 = u8 * u8
    u32 = u16 * u16
    e40 = (u32 * u32) * u8 * _E_2_5
    alpha_m = _x_over_one_minus((v + 40.0) * 0.1, e40)
    beta_m = 4.0 * (u32 * u8)
    alpha_h = 0.07 * (u32 * u4)
    beta_h = 1.0 / (1.0 + e40 * _E_HALF)
    alpha_n = 0.1 * _x_over_one_minus((v + 55.0) * 0.1, e40 * _E_M1_5)
    beta_n = 0.125 * (u8 * u)
    return alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def hh_steady_state(v):
    """Steady-state gate values ``(m_inf, h_inf, n_inf)`` at voltage ``v`` (mV).

    Parameters
    ----------
    v : float
        Membrane potential in mV.

    Returns
    -------
    tuple of float
        ``x_inf = alpha_x / (alpha_x + beta_x)`` for ``x`` in ``m, h, n``.
    """
    am, bm, ah, bh, an, bn = hh_rates(v)
    return am / (am + bm), ah / (ah + bh), an / (an + bn)


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def hh_step(v, m, h, n, J, dt_ms, c_m, g_na, g_k, g_l, e_na, e_k, e_l):
    """Advance one HH neuron by one step with the input held constant.

    Gates by exponential Euler from ``v``; then ``v`` solved exactly with the
    updated gates frozen (see the module docstring). Callable from any
    ``@njit`` code; branch-free and inlined into the caller (``inline="always"``)
    so that loops over neurons vectorise (compile with
    ``error_model="numpy"``: Python's division checks stop vectorisation).

    Parameters
    ----------
    v, m, h, n : float
        State at the start of the step: voltage (mV) and gates (1).
    J : float
        Input current density (uA/cm^2), constant over the step.
    dt_ms : float
        Step in ms.
    c_m, g_na, g_k, g_l, e_na, e_k, e_l : float
        Model parameters (uF/cm^2, mS/cm^2, mV), as in :class:`spikenet.sim.HH`.

    Returns
    -------
    tuple of float
        ``(v, m, h, n)`` at the end of the step.
    """
    # The rate functions overflow for |V| beyond a few hundred mV (reachable
    # only with absurd inputs); evaluating them at V clipped to +-V_RATE_CLIP
    # keeps every quantity finite. V itself is not clipped.
    vr = v if v < V_RATE_CLIP else V_RATE_CLIP
    vr = vr if vr > -V_RATE_CLIP else -V_RATE_CLIP
    am, bm, ah, bh, an, bn = hh_rates(vr)
    sm = am + bm
    sh = ah + bh
    sn = an + bn
    # One division for the three steady states: 1/sm = sh*sn / (sm*sh*sn), ...
    # (each sum is at least ~0.1/ms for any voltage, so the product is safe).
    inv = 1.0 / (sm * sh * sn)
    m_inf = am * (sh * sn) * inv
    h_inf = ah * (sm * sn) * inv
    n_inf = an * (sm * sh) * inv
    m = m_inf + (m - m_inf) * fast_exp_decay(-dt_ms * sm)
    h = h_inf + (h - h_inf) * fast_exp_decay(-dt_ms * sh)
    n = n_inf + (n - n_inf) * fast_exp_decay(-dt_ms * sn)
    gna = g_na * m * m * m * h
    n2 = n * n
    gk = g_k * n2 * n2
    g = gna + gk + g_l
    v_inf = (J + gna * e_na + gk * e_k + g_l * e_l) / g
    v = v_inf + (v - v_inf) * fast_exp_decay(-g * (dt_ms / c_m))
    return v, m, h, n


BLOCK = 256


@njit(cache=True, parallel=True, fastmath=_FM, error_model="numpy")
def hh_run(v, m, h, n, J, j_stride, k0, t0, dt, dt_ms, c_m, g_na, g_k, g_l, e_na, e_k, e_l, v_spike,
           spk_t, spk_k, cnt, rec_v, rec_m, rec_h, rec_n, wide=None):
    """Simulate ``steps`` steps of ``N`` independent HH neurons in place.

    Parameters
    ----------
    v, m, h, n : ndarray (N,) float32 or float64
        State (mV and gates), updated in place.
    J : ndarray (rows, N) float64
        Input (uA/cm^2); step ``k`` uses row ``k * j_stride``.
    j_stride : int
        0 (constant input) or 1 (one row per step).
    k0 : int
        Global index of the first step.
    t0 : float
        Time origin (s): global step ``k`` starts at ``t0 + k * dt``.
    dt, dt_ms : float
        The step in seconds (for spike stamps) and in ms (for the update).
    c_m, g_na, g_k, g_l, e_na, e_k, e_l, v_spike : float
        Model parameters (uF/cm^2, mS/cm^2, mV).
    spk_t, spk_k, cnt : ndarray
        Spike buffers as in :func:`spikenet.sim.kernels.lif.lif_run`: a spike is
        an upward crossing of ``v_spike``, its time interpolated linearly
        between the step's start and end voltages.
    rec_v, rec_m, rec_h, rec_n : ndarray (steps, N) or (steps, 0)
        State at the start of each step, for the variables being recorded.
        ``rec_v.shape[0]`` is the number of steps.
    wide : None or True
        True compiles the loops for 512-bit vectors where the CPU has them
        (faster on one thread; with two threads on a machine whose cores share
        their vector units or power budget, slower), None for 256-bit ones;
        each choice is its own compiled specialisation (see
        :mod:`~spikenet.sim.kernels.vectorwidth`).
    """
    steps = rec_v.shape[0]
    N = v.shape[0]
    nblocks = (N + BLOCK - 1) // BLOCK
    rv = rec_v.shape[1] > 0
    rm = rec_m.shape[1] > 0
    rh = rec_h.shape[1] > 0
    rn = rec_n.shape[1] > 0
    for b in prange(nblocks):
        lo = b * BLOCK
        hi = min(N, lo + BLOCK)
        nb = hi - lo
        wide_vectors_unless_none(wide)  # the passes below at full SIMD width, if asked
        # float64 working copies whatever the state dtype, rounded to the
        # state dtype at the end of every step (through the `*s` arrays of
        # that dtype; for float64 a plain copy), so that the state at each
        # step boundary, and with it every result, does not depend on where
        # the run is cut into calls (simulate's chunks follow the wall clock)
        vb = v[lo:hi].astype(np.float64)
        mb = m[lo:hi].astype(np.float64)
        hb = h[lo:hi].astype(np.float64)
        gb = n[lo:hi].astype(np.float64)
        vs = np.empty(nb, dtype=v.dtype)
        ms = np.empty(nb, dtype=m.dtype)
        hs = np.empty(nb, dtype=h.dtype)
        gs = np.empty(nb, dtype=n.dtype)
        vprev = np.empty(nb, dtype=np.float64)
        flag = np.zeros(nb, dtype=np.bool_)
        for kk in range(steps):
            # the block's drive as a slice indexed from 0 (``row[lo + i]`` would
            # compile to gathers: Numba's wraparound on an index not proven >= 0)
            jb = J[kk * j_stride, lo:hi]
            if rv:
                rec_v[kk, lo:hi] = vb
            if rm:
                rec_m[kk, lo:hi] = mb
            if rh:
                rec_h[kk, lo:hi] = hb
            if rn:
                rec_n[kk, lo:hi] = gb
            nev = 0
            for i in range(nb):
                vo = vb[i]
                vn, mn, hn, nn = hh_step(vo, mb[i], hb[i], gb[i], jb[i], dt_ms,
                                         c_m, g_na, g_k, g_l, e_na, e_k, e_l)
                vs[i] = vn
                ms[i] = mn
                hs[i] = hn
                gs[i] = nn
                vb[i] = vs[i]
                mb[i] = ms[i]
                hb[i] = hs[i]
                gb[i] = gs[i]
                vprev[i] = vo
                cr = (vo < v_spike) & (vb[i] >= v_spike)
                flag[i] = cr
                nev += cr
            if nev > 0:
                k = k0 + kk
                cap = spk_t.shape[1]
                for i in range(nb):
                    if flag[i]:
                        vo = vprev[i]
                        frac = (v_spike - vo) / (vb[i] - vo)
                        c = cnt[lo + i]
                        if c < cap:
                            spk_t[lo + i, c] = t0 + (k + frac) * dt
                            spk_k[lo + i, c] = k
                        cnt[lo + i] = c + 1
        v[lo:hi] = vb
        m[lo:hi] = mb
        h[lo:hi] = hb
        n[lo:hi] = gb


@njit(cache=True, fastmath=_FM, error_model="numpy")
def hh_rates_array(v):
    """:func:`hh_rates` and :func:`hh_steady_state` over a 1-D array of voltages (mV).

    Returns
    -------
    ndarray (len(v), 9)
        Columns ``alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n`` (1/ms)
        and ``m_inf, h_inf, n_inf``.
    """
    out = np.empty((v.shape[0], 9))
    for i in range(v.shape[0]):
        am, bm, ah, bh, an, bn = hh_rates(v[i])
        mi, hi, ni = hh_steady_state(v[i])
        out[i, 0] = am
        out[i, 1] = bm
        out[i, 2] = ah
        out[i, 3] = bh
        out[i, 4] = an
        out[i, 5] = bn
        out[i, 6] = mi
        out[i, 7] = hi
        out[i, 8] = ni
    return out


@njit(cache=True, fastmath=_FM, error_model="numpy")
def hh_trace(v0, J, steps, dt_ms, c_m, g_na, g_k, g_l, e_na, e_k, e_l):
    """Voltage trace of one HH neuron by repeated :func:`hh_step` (a scalar reference loop).

    Parameters
    ----------
    v0 : float
        Initial voltage (mV); the gates start at their steady state.
    J : float
        Constant input (uA/cm^2).
    steps : int
        Number of steps.
    dt_ms : float
        Step (ms).
    c_m, g_na, g_k, g_l, e_na, e_k, e_l : float
        Model parameters.

    Returns
    -------
    ndarray (steps,)
        Voltage at the start of each step (mV).
    """
    v = v0
    m, h, n = hh_steady_state(v)
    out = np.empty(steps)
    for k in range(steps):
        out[k] = v
        v, m, h, n = hh_step(v, m, h, n, J, dt_ms, c_m, g_na, g_k, g_l, e_na, e_k, e_l)
    return out
