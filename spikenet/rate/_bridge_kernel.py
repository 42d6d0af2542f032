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


@njit(cache=True, parallel=True, fastmath=_FM, error_model="numpy")
def run_feedforward(x, steps, dt, wflat, woff, sizes, bflat, decay, tau_m, tau_ref, v0, k_start, out, raster):
    """Run every batch row of the converted network for ``steps`` steps.

    Parameters
    ----------
    x : ndarray (tx, batch, n_in)
        Input; ``tx == 1`` holds it constant, else ``tx == steps`` (row ``t``
        is the input during step ``t``).
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
    """
    n_layers = tau_m.shape[0]
    batch = x.shape[1]
    tx = x.shape[0]
    n_hidden = v0.shape[0]
    n_in = sizes[0]
    n_out = sizes[n_layers + 1]
    width = 0
    for i in range(sizes.shape[0]):
        width = max(width, sizes[i])
    record = raster.shape[0] > 0
    for b in prange(batch):
        v = v0.copy()
        r = np.zeros_like(v0)
        prev = np.zeros(width, dtype=v0.dtype)
        J = np.empty(width, dtype=v0.dtype)
        acc = np.zeros(width, dtype=v0.dtype)
        for t in range(steps):
            ti = t if tx > 1 else 0
            for k in range(n_in):
                prev[k] = x[ti, b, k]
            n_prev = n_in
            hoff = 0
            boff = 0
            for lyr in range(n_layers + 1):
                n = sizes[lyr + 1]
                wo = woff[lyr]
                if lyr == n_layers:
                    if t >= k_start:
                        for k in range(n_prev):
                            acc[k] += prev[k]
                    break
                for j in range(n):
                    J[j] = bflat[boff + j]
                for k in range(n_prev):
                    c = prev[k]
                    if c != 0.0:
                        row = wo + k * n
                        for j in range(n):
                            J[j] += c * wflat[row + j]
                dec = decay[lyr]
                tm = tau_m[lyr]
                tr = tau_ref[lyr]
                for j in range(n):
                    vj, rj, sj = _lif_span(v[hoff + j], r[hoff + j], J[j], dt, dec, tm, tr)
                    v[hoff + j] = vj
                    r[hoff + j] = rj
                    prev[j] = sj
                    if record:
                        raster[t, b, hoff + j] = sj
                hoff += n
                boff += n
                n_prev = n
        wo = woff[n_layers]
        for j in range(n_out):
            out[b, j] = 0.0
        for k in range(n_prev):
            c = acc[k]
            if c != 0.0:
                row = wo + k * n_out
                for j in range(n_out):
                    out[b, j] += c * wflat[row + j]
    return n_hidden
