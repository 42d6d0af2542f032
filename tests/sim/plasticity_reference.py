"""Reference STDP weights computed from spike times by explicit pair sums (no traces).

Independent of the kernel's trace recursion: every trace value is written as
the sum over the earlier spikes of the other (or own) side of their
exponential kernels (``mode="all"``) or the kernel of the latest one only
(``mode="nearest"``), and the events of one synapse are applied in time
order, a pre arrival before a post spike at the same time (to 1e-12 s).
"""

from __future__ import annotations

import numpy as np

from spikenet.sim import STDP, TripletSTDP


def _params(rule):
    if isinstance(rule, STDP):
        return (rule.tau_pre, rule.tau_pre, rule.tau_post, rule.tau_post, rule.a_pre, 0.0, rule.a_post, 0.0)
    assert isinstance(rule, TripletSTDP)
    return (rule.tau_plus, rule.tau_x, rule.tau_minus, rule.tau_y, rule.a2_plus, rule.a3_plus,
            -rule.a2_minus, -rule.a3_minus)


def _trace(t, times, tau, nearest):
    """Sum of exp(-(t - s)/tau) over the given earlier times (the latest only when nearest)."""
    if len(times) == 0:
        return 0.0
    if nearest:
        return float(np.exp(-(t - times[-1]) / tau))
    return float(np.sum(np.exp(-(t - np.asarray(times)) / tau)))


def synapse_weight(w0, t_arrivals, t_post, rule):
    """Final weight of one synapse with pre arrivals ``t_arrivals`` and post spikes ``t_post`` (s)."""
    tau_r1, tau_r2, tau_o1, tau_o2, cp2, cp3, cm2, cm3 = _params(rule)
    nearest = rule.mode == "nearest"
    mult = rule.rule == "multiplicative"
    # times equal to 1e-12 s are simultaneous (a jump arrival and the post spike it causes are one
    # time, whatever the rounding of the two sums that give it)
    events = sorted([(float(t), 0) for t in t_arrivals] + [(float(t), 1) for t in t_post],
                    key=lambda ev: (round(ev[0] * 1e12), ev[1]))
    w = float(w0)
    pres, posts = [], []
    for t, kind in events:
        if kind == 0:
            dw = _trace(t, posts, tau_o1, nearest) * (cm2 + cm3 * _trace(t, pres, tau_r2, nearest))
            w += dw * (w - rule.w_min) if mult else dw
            pres.append(t)
        else:
            dw = _trace(t, pres, tau_r1, nearest) * (cp2 + cp3 * _trace(t, posts, tau_o2, nearest))
            w += dw * (rule.w_max - w) if mult else dw
            posts.append(t)
        w = min(max(w, rule.w_min), rule.w_max)
    return w


def pair_sum_weight(w0, t_arrivals, t_post, rule):
    """Closed form of additive all-to-all pair STDP without bounds: w0 plus the sum over all pairs."""
    assert isinstance(rule, STDP) and rule.rule == "additive" and rule.mode == "all"
    lag = np.asarray(t_post)[:, None] - np.asarray(t_arrivals)[None, :]  # post - pre
    ltp = rule.a_pre * np.exp(-lag[lag >= 0] / rule.tau_pre)
    ltd = rule.a_post * np.exp(lag[lag < 0] / rule.tau_post)
    return w0 + ltp.sum() + ltd.sum()


def connection_weights(W0, t_pre, t_post, delays, rule, t_end):
    """Final weights (post, pre) of a plastic connection from the spike times of its neurons.

    ``W0`` (post, pre) initial weights (0: no synapse), ``t_pre``/``t_post``
    lists of spike-time arrays (s) per pre/post neuron, ``delays`` (post, pre)
    the delay of each synapse (s) or one scalar; each synapse's pre events
    are the pre spikes shifted by its own delay, up to ``t_end``.
    """
    W0 = np.asarray(W0, dtype=np.float64)
    d = np.broadcast_to(np.asarray(delays, dtype=np.float64), W0.shape)
    out = np.zeros_like(W0)
    for i in range(W0.shape[0]):
        for j in range(W0.shape[1]):
            if W0[i, j] == 0.0:
                continue
            arr = np.asarray(t_pre[j]) + d[i, j]
            out[i, j] = synapse_weight(W0[i, j], arr[arr <= t_end + 1e-12], t_post[i], rule)
    return out
