r"""Numba kernel of the converted feed-forward network with instantaneous synapses.

Not public API: :class:`spikenet.rate.convert.SpikingModel` packs its layers
into flat arrays and calls :func:`run_feedforward` once per batch.

Model. Hidden layer ``l`` holds normalised LIF neurons (``tau_m dv/dt = J - v``
below the threshold 1, reset to 0, refractory for ``tau_ref``), exactly as
:mod:`spikenet.sim`: within a step the drive ``J`` is constant, the voltage
is advanced in closed form, threshold crossings are solved in closed form,
and several spike/refractory cycles may happen inside one step. The drive of
layer 0 during step ``t`` is ``b_0 + W_0 x_t``; the drive of layer ``l > 0``
is ``b_l + (A_{l-1} / dt) W_l s_{l-1,t}`` with ``s_{l-1,t}`` the spike counts
of layer ``l - 1`` in the same step (a spike delivers its charge
``A_{l-1} W_l`` spread over the step in which it is emitted). The readout
sums the last layer's spike counts over the decoding window.

Layout: batch-major, the batch rows are independent and run in parallel
(``prange``), each sample runs its whole time loop with its state in small
local arrays. Weights are stored transposed (``(n_prev, n)``, row ``k`` is
what input ``k`` adds to every neuron), so an input or a spike adds one
contiguous row: the matrix product is fused with the neuron update and skips
zero inputs (silent neurons cost nothing).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_FM = {"contract"}  # allow FMA contraction only


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _lif_span(v, r, J, dt, decay, tau_m, tau_ref):
    """Advance one LIF neuron (threshold 1, reset 0) over one step of drive ``J``.

    Returns ``(v, r, spikes)``: voltage, remaining refractory time (s) and the
    number of spikes emitted in the step. Same event logic as
    :func:`spikenet.sim.kernels.lif.lif_event_step`.
    """
    if r == 0.0 and v < 1.0:
        v_end = J + (v - J) * decay
        if v_end < 1.0:
            return v_end, r, 0
    left = dt
    n = 0
    if r > 0.0:
        if r >= left:
            return 0.0 * v, r - left, 0
        left -= r
        r = 0.0 * r
        v = 0.0 * v
        v_end = J + (v - J) * math.exp(-left / tau_m)
        if v_end < 1.0:
            return v_end, r, 0
    for _ in range(1 << 30):
        if v > 1.0 or (v == 1.0 and J > 1.0):
            s = 0.0
        elif J > 1.0:
            s = tau_m * math.log((J - v) / (J - 1.0))
            if s >= left:
                break
        else:
            break
        n += 1
        left -= s
        v = 0.0 * v
        if tau_ref >= left:
            return v, r + (tau_ref - left), n
        left -= tau_ref
    v = J + (v - J) * math.exp(-left / tau_m)
    return v, r, n


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _layer_step(v, r, spk, J, lo, n, dt, dec, tm, tr, Jp, tn, per, flag):
    """Advance neurons ``lo .. lo + n - 1`` by one step of drive ``J[:n]``; their spike counts go to ``spk``.

    A neuron whose drive ``J > 1`` equals the previous step's (``Jp``) fires
    periodically with period ``per = tau_ref + tau_m ln(J / (J - 1))``: it is
    advanced spike to spike through ``tn``, the time from the step's start to
    its next spike, without an ``exp`` or ``log`` per step (``per[j] > 0``
    marks this mode; ``v``, ``r`` are restored from ``tn`` when the drive
    changes). Otherwise the step is integrated by :func:`_lif_span`. This is
    the same dynamics up to rounding (spike times are sums of periods rather
    than solved step by step).
    """
    # Pass 1, branch-free (it vectorises): a neuron in the periodic mode whose
    # drive is unchanged fires ceil((dt - tn) / per) spikes in this step; a
    # neuron out of that mode that is not refractory and stays below threshold
    # decays towards its drive. The others are flagged for pass 2.
    events = 0
    for j in range(n):
        i = lo + j
        Jj = J[j]
        Jo = Jp[i]
        vj = v[i]
        p = per[i]
        same = Jj == Jo
        periodic = same & (p > 0.0)
        ps = p if periodic else dt
        t = tn[i]
        c = max(math.ceil((dt - t) / ps), 0.0)
        ve = Jj + (vj - Jj) * dec
        simple = (p == 0.0) & (r[i] == 0.0) & (ve < 1.0) & (vj < 1.0) & ~(same & (Jj > 1.0))
        tn[i] = (t + c * ps - dt) if periodic else t
        v[i] = ve if simple else vj
        Jp[i] = Jj if simple else Jo
        spk[i] = c if periodic else 0.0
        ev = not (periodic or simple)
        flag[j] = ev
        events += 1 if ev else 0
    if events == 0:
        return
    # Pass 2: the others, one by one.
    for j in range(n):
        if not flag[j]:
            continue
        i = lo + j
        Jj = J[j]
        if Jj == Jp[i] and Jj > 1.0:  # enter the periodic mode: time to the next spike
            free = tm * math.log(Jj / (Jj - 1.0))
            t = r[i] + free if r[i] > 0.0 else tm * math.log((Jj - v[i]) / (Jj - 1.0))
            per[i] = tr + free
            c = max(math.ceil((dt - t) / per[i]), 0.0)
            tn[i] = t + c * per[i] - dt
            spk[i] = c
            continue
        if per[i] > 0.0:  # leave the periodic mode: voltage and refractory time from tn
            Jo = Jp[i]
            free = per[i] - tr
            if tn[i] > free:
                r[i] = tn[i] - free
                v[i] = 0.0
            else:
                r[i] = 0.0
                v[i] = Jo - (Jo - 1.0) * math.exp(tn[i] / tm)
            per[i] = 0.0
        Jp[i] = Jj
        vj, rj, sj = _lif_span(v[i], r[i], Jj, dt, dec, tm, tr)
        v[i] = vj
        r[i] = rj
        spk[i] = sj


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _drive(J, bflat, boff, n, wflat, wo, src, src_lo, n_src):
    """``J[:n] = b + sum_k src[src_lo + k] W^T[k, :]``, skipping zero sources."""
    for j in range(n):
        J[j] = bflat[boff + j]
    for k in range(n_src):
        c = src[src_lo + k]
        if c != 0.0:
            row = wo + k * n
            for j in range(n):
                J[j] += c * wflat[row + j]


@njit(cache=True, parallel=True, fastmath=_FM, error_model="numpy")
def run_feedforward(
    x, steps, dt, wflat, woff, sizes, bflat, decay, tau_m, tau_ref, v0, k_start, out, raster, n_chunks
):
    """Run every batch row of the converted network for ``steps`` steps.

    Parameters
    ----------
    x : ndarray (tx, batch, n_in)
        Input; ``tx == 1`` holds it constant (the first layer's drive is then
        computed once), else ``tx == steps`` (row ``t`` is the input during
        step ``t``).
    steps : int
    dt : float
        Step in seconds.
    wflat : ndarray (total,)
        Transposed weights of every layer, concatenated: layer ``l`` is the
        ``(sizes[l], sizes[l + 1])`` block at ``woff[l]``; hidden layers
        ``l > 0`` and the readout are pre-scaled by ``A_{l-1} / dt``.
    woff : ndarray (L + 1,) int64
    sizes : ndarray (L + 2,) int64
        ``n_in, n_0, ..., n_{L-1}, n_out``.
    bflat : ndarray
        Biases of every layer, concatenated (same order, offsets from ``sizes``).
    decay, tau_m, tau_ref : ndarray (L,)
        ``exp(-dt / tau_m)``, ``tau_m`` and ``tau_ref`` (s) of each hidden layer.
    v0 : ndarray (sum of hidden sizes,)
        Initial voltage of every hidden neuron.
    k_start : int
        First step counted by the readout.
    out : ndarray (batch, n_out)
        Written: ``sum_k c_k W_K[:, k]`` with ``c_k`` the last layer's spike
        counts over steps ``k_start .. steps - 1`` (the caller scales and adds
        the bias).
    raster : ndarray (steps, batch, sum of hidden sizes) or (0, 0, 0)
        If not empty, written with the spike count of every hidden neuron in
        every step.
    n_chunks : int
        Number of parallel chunks of the batch (a few per thread).

    Notes
    -----
    The batch is cut into contiguous chunks, one ``prange`` iteration each,
    so that the per-sample state is allocated once per chunk.
    """
    n_layers = tau_m.shape[0]
    batch = x.shape[1]
    tx = x.shape[0]
    n_hidden = v0.shape[0]
    n_in = sizes[0]
    n_out = sizes[n_layers + 1]
    n0 = sizes[1]
    width = 0
    for i in range(1, n_layers + 1):
        width = max(width, sizes[i])
    last_lo = n_hidden - sizes[n_layers]
    n_last = sizes[n_layers]
    record = raster.shape[0] > 0
    n_chunks = max(1, min(batch, n_chunks))
    for chunk in prange(n_chunks):
        v = np.empty_like(v0)
        r = np.empty_like(v0)
        spk = np.empty_like(v0)
        J = np.empty(width, dtype=v0.dtype)
        J0 = np.empty(n0, dtype=v0.dtype)
        acc = np.empty(n_last, dtype=v0.dtype)
        Jp = np.empty_like(v0)
        tn = np.empty_like(v0)
        per = np.empty_like(v0)
        flag = np.empty(width, dtype=np.bool_)
        for b in range(chunk * batch // n_chunks, (chunk + 1) * batch // n_chunks):
            v[:] = v0
            r[:] = 0.0
            acc[:] = 0.0
            Jp[:] = np.nan
            per[:] = 0.0
            if tx == 1:
                _drive(J0, bflat, 0, n0, wflat, 0, x[0, b], 0, n_in)
                # a constant drive: the first layer starts in the periodic mode
                for j in range(n0):
                    Jp[j] = J0[j]
            for t in range(steps):
                if tx > 1:
                    _drive(J0, bflat, 0, n0, wflat, 0, x[t, b], 0, n_in)
                _layer_step(v, r, spk, J0, 0, n0, dt, decay[0], tau_m[0], tau_ref[0], Jp, tn, per, flag)
                lo = 0
                boff = n0
                for lyr in range(1, n_layers):
                    n_prev = sizes[lyr]
                    n = sizes[lyr + 1]
                    _drive(J, bflat, boff, n, wflat, woff[lyr], spk, lo, n_prev)
                    _layer_step(
                        v, r, spk, J, lo + n_prev, n, dt, decay[lyr], tau_m[lyr], tau_ref[lyr], Jp, tn, per,
                        flag,
                    )
                    lo += n_prev
                    boff += n
                if t >= k_start:
                    for k in range(n_last):
                        acc[k] += spk[last_lo + k]
                if record:
                    for k in range(n_hidden):
                        raster[t, b, k] = int(spk[k])
            wo = woff[n_layers]
            for j in range(n_out):
                out[b, j] = 0.0
            for k in range(n_last):
                c = acc[k]
                if c != 0.0:
                    row = wo + k * n_out
                    for j in range(n_out):
                        out[b, j] += c * wflat[row + j]
    return n_hidden


# --- one hidden layer under a constant input: spike counts in closed form -----------------------------
#
# A LIF neuron (threshold 1, reset 0, refractory tau_ref) with a constant drive
# J > 1 that starts at v0 < 1, not refractory, fires its first spike at
# t_0 = tau_m ln q with q = (J - v0) / (J - 1), and then periodically with the
# period tau_ref + tau_m ln(J / (J - 1)). Spike m is therefore emitted before
# time T exactly when
#
#     q g^m < exp(T / tau_m),    g = (J / (J - 1)) exp(tau_ref / tau_m),
#
# so the spikes in a window, or in each step, are counted by comparing a
# geometric sequence with the window's (or the steps') edges: multiplications
# and comparisons, no exp or log per neuron. A neuron with J <= 1 never
# reaches the threshold from v0 < 1.

@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _dense_drive(J, x, W, b, n_in, n):
    """``J[:n] = b + x @ W`` for one sample (``W`` is ``(n_in, n)``), skipping zero inputs."""
    for j in range(n):
        J[j] = b[j]
    for k in range(n_in):
        c = x[k]
        if c != 0.0:
            for j in range(n):
                J[j] += c * W[k, j]


@njit(cache=True, fastmath={"contract", "reassoc"}, error_model="numpy", no_cpython_wrapper=True)
def _readout(c, R, b_out, scale, out, bi):
    """``out[bi] = b_out + scale * R @ c`` (sums in any order, so that they vectorise).

    Not inlined: the summation order is free only inside a function compiled
    with ``reassoc`` (an inlined body takes its caller's flags).
    """
    n_out, n = R.shape
    for o in range(n_out):
        s = c[0] * 0.0
        for j in range(n):
            s += c[j] * R[o, j]
        out[bi, o] = s * scale + b_out[o]


@njit(cache=True, inline="always", fastmath=_FM, error_model="numpy")
def _spikes_before(drive, v0, growth, e):
    """Spikes of one neuron (``drive``, start ``v0``) before the time ``T`` with ``e = exp(T / tau_m)``."""
    one = v0 * 0.0 + 1.0
    if not drive > one:  # below threshold (or NaN)
        return 0
    z = (drive - v0) / (drive - one)
    g = (drive / (drive - one)) * growth
    m = 0
    while z < e:
        m += 1
        z *= g
    return m


@njit(cache=True, parallel=True, fastmath=_FM, error_model="numpy")
def run_constant_layer(x, W, b, v0, growth, e_start, e_end, R, b_out, scale, out, n_chunks):
    """Decoded output of one LIF layer under a constant input, counting its spikes in ``[T_s, T_e)``.

    Parameters
    ----------
    x : ndarray (batch, n_in)
        Constant input of every sample.
    W : ndarray (n_in, n)
        Transposed input weights.
    b : ndarray (n,)
        Bias currents.
    v0 : float
        Initial voltage (threshold units, ``0 <= v0 < 1``).
    growth : float
        ``exp(tau_ref / tau_m)``.
    e_start, e_end : float
        ``exp(T_s / tau_m)`` and ``exp(T_e / tau_m)`` (window edges, s).
    R : ndarray (n_out, n)
        Readout weights (per spike).
    b_out : ndarray (n_out,)
        Readout bias.
    scale : float
        Factor of the counts (one over the window's steps).
    out : ndarray (batch, n_out)
        Written: ``b_out + scale * R @ c`` with ``c`` the spike counts of the
        window of each sample.
    n_chunks : int
        Number of parallel chunks of the batch.

    Notes
    -----
    Spike counts grow with the drive (both ``q`` and ``g`` fall as ``J``
    rises), so the neuron with the largest drive of a sample bounds the
    spikes of all: the branch-free pass runs that many terms of every
    sequence (a scalar pass finishes any neuron left, as a guard against
    rounding).
    """
    batch, n_in = x.shape
    n = W.shape[1]
    one = v0 * 0.0 + 1.0
    from_start = not e_start > one
    n_chunks = max(1, min(batch, n_chunks))
    for chunk in prange(n_chunks):
        J = np.empty(n, dtype=x.dtype)
        z = np.empty(n, dtype=x.dtype)
        g = np.empty(n, dtype=x.dtype)
        c = np.empty(n, dtype=x.dtype)
        for bi in range(chunk * batch // n_chunks, (chunk + 1) * batch // n_chunks):
            _dense_drive(J, x[bi], W, b, n_in, n)
            J_max = J[0]
            for j in range(1, n):
                J_max = max(J_max, J[j])
            terms = _spikes_before(J_max, v0, growth, e_end)
            # branch-free passes over the neurons (they vectorise): the first `terms` spikes of each
            for j in range(n):
                Jj = J[j]
                act = Jj > one
                d = Jj - one if act else one
                z[j] = (Jj - v0) / d if act else e_end  # inactive: never below e_end
                g[j] = (Jj / d) * growth if act else one + one
                c[j] = 0.0 * one
            for _ in range(terms):
                if from_start:
                    for j in range(n):
                        zj = z[j]
                        c[j] += one if zj < e_end else 0.0 * one
                        z[j] = zj * g[j]
                else:
                    for j in range(n):
                        zj = z[j]
                        c[j] += (one if zj < e_end else 0.0 * one) - (one if zj < e_start else 0.0 * one)
                        z[j] = zj * g[j]
            # guard: neurons with more spikes in the window, one by one
            for j in range(n):
                zj = z[j]
                while zj < e_end:
                    c[j] += one if zj >= e_start else 0.0 * one
                    zj *= g[j]
            _readout(c, R, b_out, scale, out, bi)


@njit(cache=True, parallel=True, fastmath=_FM, error_model="numpy")
def count_constant_layer(x, W, b, v0, growth, edges, raster, n_chunks):
    """Spike counts of one LIF layer under a constant input, in every step.

    Same model as :func:`run_constant_layer`; ``edges`` (steps + 1,) holds
    ``exp(k dt / tau_m)`` for ``k = 0 .. steps`` and ``raster`` (steps, batch,
    n) int32 is written with the spikes of every neuron in every step.
    """
    batch, n_in = x.shape
    n = W.shape[1]
    steps = edges.shape[0] - 1
    one = v0 * 0.0 + 1.0
    n_chunks = max(1, min(batch, n_chunks))
    for chunk in prange(n_chunks):
        J = np.empty(n, dtype=x.dtype)
        for bi in range(chunk * batch // n_chunks, (chunk + 1) * batch // n_chunks):
            _dense_drive(J, x[bi], W, b, n_in, n)
            for j in range(n):
                Jj = J[j]
                for k in range(steps):
                    raster[k, bi, j] = 0
                if not Jj > one:
                    continue
                zj = (Jj - v0) / (Jj - one)
                gj = (Jj / (Jj - one)) * growth
                k = 0
                while k < steps:
                    if zj < edges[k + 1]:
                        raster[k, bi, j] += 1
                        zj *= gj
                    else:
                        k += 1
