r"""Numba kernel for unconnected LIF neurons: the whole time loop in one call.

Model (normalised LIF): ``tau_m dv/dt = J - v`` below ``v_th``;
on reaching ``v_th`` a spike is emitted, ``v`` is set to ``v_reset`` and held
there for ``tau_ref``.

Within a step ``J`` is constant, so the voltage is advanced exactly::

    v(t + s) = J + (v(t) - J) exp(-s / tau_m).

If ``v`` would reach ``v_th`` within the step, the crossing time is solved in
closed form, ``s* = tau_m ln((J - v) / (J - v_th))``, the spike is stamped at
that time, and the refractory period runs from it in continuous time. A
neuron whose refractory period ends inside a step integrates the remainder of
that step. A neuron spikes at most once per step: when ``tau_ref < dt`` and
the rest of the step of a spike would reach ``v_th`` again, ``v`` is held at
``v_th`` until the next step and spikes at its start if the drive is still
above threshold (the rule of every engine path, see ``docs/developer.md``).

Layout: neurons are processed in blocks of ``BLOCK`` in parallel (``prange``).
For each block the time loop runs inside, with the block's state in small
local arrays (L1-resident). Each step first runs a branch-free loop over the
block that advances every neuron that has no event this step (the common
case; it vectorises, with 512-bit vectors where the CPU has them: see
:mod:`~spikenet.sim.kernels.vectorwidth`), and flags the rest: neurons that cross threshold, start
above it, or whose refractory period ends inside the step. Refractoriness is
kept as the absolute time at which it ends, so this pass tests it without
updating it, as the network kernel does. Only flagged
neurons go through the scalar event code, which for a refractory exit
computes the decay over the rest of the step (an ``exp``) and looks for a
crossing time (a ``log``) only when the neuron reaches ``v_th`` in it.

:func:`lif_run_constant` serves a drive constant in time when no voltage is
recorded: the same scalar code runs each neuron from spike to spike over the
whole span, without the step boundaries.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from spikenet.sim.kernels.flagscan import lowest_flag, next_word
from spikenet.sim.kernels.vectorwidth import wide_vectors

BLOCK = 512
# Closed-form kernel: neurons per block, and interleaved stripes of blocks.
_CF_BLOCK = 64
_STRIPES = 64
_FM = {"contract"}  # allow FMA contraction only


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def lif_event_step(v, r, J, span, n_span, dt, tau_m, tau_ref, v_th, v_reset, t_step, i, spk_t, spk_k, cnt, k):
    """Advance one LIF neuron over ``n_span`` steps of constant drive (scalar path).

    The stepped kernel calls it for one step that holds an event
    (``n_span = 1``); the closed-form kernel for a whole run.

    Parameters
    ----------
    v, r : float
        Voltage (1) and remaining refractory time (s) at the start of the span.
    J : float
        Drive, constant over the span.
    span : float
        Length (s) of the span, ``n_span * dt``.
    n_span : int
        Number of steps in the span (>= 1).
    dt, tau_m, tau_ref, v_th, v_reset : float
        Step (s) and model parameters.
    t_step : float
        Absolute time (s) of the span's start, used to stamp spikes.
    i : int
        Neuron index into ``spk_t``/``spk_k``/``cnt``.
    spk_t, spk_k : ndarray (N, cap)
        Spike time (s) and step index buffers; entries past ``cap`` are
        counted in ``cnt`` but not stored (the caller re-runs with more room).
    cnt : ndarray (N,) int64
        Spikes per neuron so far in this call.
    k : int
        Global index of the span's first step; a spike at ``o`` seconds into
        the span is stamped with step ``k + floor(o / dt)`` (at most
        ``k + n_span - 1``).

    Returns
    -------
    tuple of float
        ``(v, r)`` at the end of the span.
    """
    v = float(v)
    r = float(r)
    left = span  # time of the span not yet integrated
    if r > 0.0:
        if r >= left:
            return v_reset, r - left
        left -= r
        r = 0.0
        v = v_reset
        # The refractory period ends inside this step: integrate the rest of
        # the step, and look for a crossing (a `log`) only if it reaches v_th.
        v_end = J + (v - J) * math.exp(-left / tau_m)
        if v_end < v_th:
            return v_end, 0.0
    cap = spk_t.shape[1]
    q_last = -1  # step (in the span) of the last spike of this call
    for _ in range(1 << 30):  # spike/refractory cycles within the span
        if v > v_th or (v == v_th and v_th < J):
            s = 0.0  # at or above threshold already (initial or held state): spike now
        elif v_th < J:
            s = tau_m * math.log((J - v) / (J - v_th))
            if s >= left:
                break
        else:
            break
        o = span - left + s  # seconds into the span
        q = int(o / dt)
        q = q if q < n_span else n_span - 1
        if q <= q_last:
            # At most one spike per step: a second crossing in the step of the
            # last spike (tau_ref < dt) is held at v_th until the next step,
            # whose start is the spike (the drive J > v_th is constant).
            q = q_last + 1
            if q >= n_span:
                return v_th, 0.0
            o = q * dt
            left = span - o
            s = 0.0
        c = cnt[i]
        if c < cap:
            spk_t[i, c] = t_step + o
            spk_k[i, c] = k + q
        cnt[i] = c + 1
        q_last = q
        left -= s
        v = v_reset
        if tau_ref >= left:
            return v_reset, tau_ref - left
        left -= tau_ref
    v = J + (v - J) * math.exp(-left / tau_m)
    return v, 0.0


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _quiet_pass(vb, jb, teb, flag, decay, vres, vth, t_step, t_next, first):
    """The branch-free pass of one step over a block; flags the neurons with an event.

    Advances every neuron without an event by the one-step decay (a
    refractory neuron stays at ``v_reset``) and sets ``flag[i]`` for the
    others: a threshold crossing, or a refractory period ending inside the
    step. ``first`` (a constant at each call site) adds the test for a start
    at or above threshold, which only the first step of a call needs: after
    a step every neuron is below ``v_th`` or held at it, and a held neuron
    reaches the crossing test again. Returns True if any flag is set.
    """
    any_ev = False
    for i in range(vb.shape[0]):
        vi = vb[i]
        ji = jb[i]
        tei = teb[i]
        free = tei <= t_step
        vn = ji + (vi - ji) * decay if free else vres
        ev = (vn >= vth) | ((~free) & (tei < t_next))
        if first:
            ev |= vi >= vth
        flag[i] = ev
        any_ev |= ev
        vb[i] = vi if ev else vn
    return any_ev


@njit(cache=True, parallel=True, fastmath=_FM, error_model="numpy")
def lif_run(v, te, J, j_stride, k0, t0, dt, tau_m, tau_ref, v_th, v_reset, consts, spk_t, spk_k, cnt, rec_v):
    """Simulate ``steps`` steps of ``N`` independent LIF neurons in place.

    Parameters
    ----------
    v : ndarray (N,) float32 or float64
        Voltages, updated in place.
    te : ndarray (N,) float64
        Time (s) at which each neuron's refractory period ends (a value at or
        before the first step's start for a free neuron), updated in place.
        Absolute times rather than time left, so that a run cut into calls
        gives the same bits as one call, and the common path tests it
        without updating it.
    J : ndarray (rows, N) same dtype as ``v``
        Drive; step ``k`` uses row ``k * j_stride`` (``j_stride`` 0 for a
        constant drive, 1 for one row per step).
    j_stride : int
        0 or 1.
    k0 : int
        Global index of the first step (for the step stamps).
    t0 : float
        Time origin (s): global step ``k`` starts at ``t0 + k * dt``.
    dt, tau_m, tau_ref, v_th, v_reset : float
        Step (s) and parameters.
    consts : ndarray (3,) same dtype as ``v``
        ``exp(-dt / tau_m)``, ``v_reset`` and ``v_th`` in the state dtype (so
        that the vector loop stays in that dtype).
    spk_t : ndarray (N, cap) float64
        Spike times (s), filled per neuron.
    spk_k : ndarray (N, cap) int64
        Global step index of each spike.
    cnt : ndarray (N,) int64
        Number of spikes per neuron (set to 0 by the caller); may exceed
        ``cap``, in which case the caller must re-run with a larger buffer.
    rec_v : ndarray (steps, N) same dtype as ``v``
        Records ``v`` at the start of each step. Its first dimension gives the
        number of steps; pass shape ``(steps, 0)`` to record nothing.

    Notes
    -----
    The number of steps is ``rec_v.shape[0]``.
    """
    steps = rec_v.shape[0]
    record = rec_v.shape[1] > 0
    N = v.shape[0]
    nblocks = (N + BLOCK - 1) // BLOCK
    decay = consts[0]
    vres = consts[1]
    vth = consts[2]
    for b in prange(nblocks):
        lo = b * BLOCK
        hi = min(N, lo + BLOCK)
        m = hi - lo
        wide_vectors()  # the pass below at full SIMD width
        vb = v[lo:hi].copy()
        teb = te[lo:hi].copy()
        # Event flags, padded to whole 8-byte words so the scan below can skip
        # eight quiet neurons at a time.
        flag = np.zeros((m + 7) // 8 * 8, dtype=np.uint8)
        words = flag.view(np.uint64)
        for kk in range(steps):
            k = k0 + kk
            t_step = t0 + k * dt
            t_next = t0 + (k + 1) * dt
            # The block's drive as a contiguous slice indexed from 0: indexing
            # the whole row with `lo + i` would compile to gathers (Numba's
            # negative-index wraparound on an index LLVM cannot prove >= 0).
            jb = J[kk * j_stride, lo:hi]
            if record:
                rec_v[kk, lo:hi] = vb
            if kk == 0:
                any_ev = _quiet_pass(vb, jb, teb, flag, decay, vres, vth, t_step, t_next, True)
            else:
                any_ev = _quiet_pass(vb, jb, teb, flag, decay, vres, vth, t_step, t_next, False)
            if any_ev:
                nw = words.shape[0]
                w = next_word(words, 0, nw)
                while w < nw:
                    word = words[w]
                    while word != 0:  # each flagged neuron of the word, in order
                        i = 8 * w + np.int64(lowest_flag(word))
                        word &= word - np.uint64(1)
                        tei = teb[i]
                        ri = tei - t_step if tei > t_step else 0.0
                        vn2, rn2 = lif_event_step(vb[i], ri, jb[i], dt, 1, dt, tau_m, tau_ref,
                                                  v_th, v_reset, t_step, lo + i, spk_t, spk_k, cnt, k)
                        vb[i] = vn2
                        if rn2 > 0.0:
                            teb[i] = t_next + rn2
                    w = next_word(words, w + 1, nw)
        v[lo:hi] = vb
        te[lo:hi] = teb


@njit(cache=True, parallel=True, fastmath=_FM, error_model="numpy")
def lif_run_constant(v, r, J, steps, k0, t0, dt, tau_m, tau_ref, v_th, v_reset, spk_t, spk_k, cnt):
    """Simulate ``steps`` steps of ``N`` LIF neurons under a drive constant in time, in closed form.

    With ``J`` fixed and no voltage recorded, nothing needs the state at the
    step boundaries: each neuron goes from spike to spike (a ``log`` for a
    crossing time, a subtraction for a refractory period) and its state is
    evaluated once, at the end. The cost is proportional to the number of
    spikes, not of steps, and every spike time is the exact one, as in
    :func:`lif_run` (which rounds the state at each step boundary instead, so
    the two differ by rounding only).

    Parameters
    ----------
    v, r : ndarray (N,) float32 or float64
        Voltages and remaining refractory times (s), updated in place.
    J : ndarray (1, N)
        The drive.
    steps : int
        Number of steps of ``dt`` seconds.
    k0 : int
        Global index of the first step.
    t0 : float
        Time origin (s): global step ``k`` starts at ``t0 + k * dt``.
    dt, tau_m, tau_ref, v_th, v_reset : float
        Step (s) and parameters.
    spk_t, spk_k, cnt : ndarray
        Spike buffers and counts as in :func:`lif_run`.
    """
    N = v.shape[0]
    span = steps * dt
    t_start = t0 + k0 * dt
    jrow = J[0]
    # The cost of a neuron grows with its rate, and drives are often sorted
    # (a tuning curve): each parallel task takes every STRIPES-th block, so
    # that the threads' contiguous shares of tasks cost alike.
    nblocks = (N + _CF_BLOCK - 1) // _CF_BLOCK
    for s in prange(_STRIPES):
        for b in range(s, nblocks, _STRIPES):
            for i in range(b * _CF_BLOCK, min(N, (b + 1) * _CF_BLOCK)):
                vn, rn = lif_event_step(v[i], r[i], jrow[i], span, steps, dt, tau_m, tau_ref, v_th,
                                        v_reset, t_start, i, spk_t, spk_k, cnt, k0)
                v[i] = vn
                r[i] = rn
