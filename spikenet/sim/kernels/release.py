r"""Exact LIF voltage over the free part of a step, for the event code of the network kernel.

A LIF neuron whose refractory period ends at local time ``s`` inside a step
(or that spikes and is free again before the step ends) integrates only the
part ``[s, dt]`` of the step, from ``v(s) = v_reset``. Over that part

.. math::

    \tau_m \dot v = J - v + x_n(t),

with ``J`` the constant drive of the step (bias and external currents) and
``x_n`` the last stage of each PSC filter, a sum of ``e^{-t/\tau_s}
(t/\tau_s)^q`` terms. The solution at the step's end, with ``h = dt - s``, is

.. math::

    v(dt) = v(s) e^{-h/\tau_m} + J (1 - e^{-h/\tau_m})
            + \sum_g \sum_j C_{n-j}(h)\, x_j(s),

where ``x(s)`` is the stages' value at ``s`` (their propagator over ``s``)
and ``C_q(h)`` is what the end-of-interval voltage gains from a unit value of
a stage ``q`` places before the last:

.. math::

    C_q(h) = \frac{\tau_s}{\tau_m} e^{-h/\tau_m}
             \int_0^{h/\tau_s} e^{\lambda y} \frac{y^q}{q!}\, dy,
    \qquad \lambda = \frac{\tau_s}{\tau_m} - 1 .

For a single stage this is ``(h / tau_m) e^{-h/tau_m} expm1(z) / z`` with
``z = lambda h / tau_s``; for longer chains the integral is summed as a
power series in ``z`` (``|z| <= 1`` or ``z > 0``: no cancellation) or, for
``z < -1``, taken from the regularised incomplete gamma function.

Only the event code calls these functions (neurons in a release step or
with a spike), so the vectorised pass of the other neurons is unchanged.
Populations of the fused pass (one or two single-stage PSC synapses) use
:func:`fused_free_voltage`, which reads the stages' end-of-step values and
leaves the multi-stage code out of networks that do not need it.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_HELPER = {"cache": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}

# Largest exponent used to carry a decayed stage back from the step's end:
# beyond it the stage's contribution is below any float64 resolution.
_MAX_BACK = 700.0
# Largest w = h/tau_s - h/tau_m for the single-stage closed form expm1(w)/w.
_MAX_W = 50.0


@njit(**_HELPER)
def _gamma_poly(y, z, q):  # pragma: no cover - compiled
    """``int_0^y e^{lam u} u^q / q! du`` with ``z = lam y`` (``y > 0``)."""
    if q == 0:
        return y if z == 0.0 else y * (math.expm1(z) / z)
    if z < -1.0:
        # (y / w)^(q+1) P(q + 1, w), w = -z > 1: 1 - e^{-w} sum_{r <= q} w^r / r!
        w = -z
        term = 1.0
        total = 1.0
        for r in range(1, q + 1):
            term *= w / r
            total += term
        scale = y / w
        pw = 1.0
        for _ in range(q + 1):
            pw *= scale
        return pw * (1.0 - math.exp(-w) * total)
    # y^(q+1) / q! sum_r z^r / (r! (q + r + 1))
    term = 1.0
    total = 1.0 / (q + 1)
    for r in range(1, 2000):
        term *= z / r
        add = term / (q + r + 1)
        total += add
        if abs(add) <= 1e-17 * abs(total):
            break
    pre = 1.0
    for r in range(1, q + 2):
        pre *= y
        if r <= q:
            pre /= r
    return pre * total


@njit(**_HELPER)
def stage_coupling(h, tau_m, tau_s, q):  # pragma: no cover - compiled
    """``C_q(h)``: end-of-interval voltage per unit value of the stage ``q`` places before the last.

    Parameters
    ----------
    h : float
        Length of the interval in seconds (> 0).
    tau_m, tau_s : float
        Membrane and synaptic time constants in seconds.
    q : int
        Distance of the stage from the filter's last stage (0: the current).

    Returns
    -------
    float
        The coupling (voltage units per unit of stage value).
    """
    y = h / tau_s
    z = (tau_s / tau_m - 1.0) * y
    return (tau_s / tau_m) * math.exp(-h / tau_m) * _gamma_poly(y, z, q)


@njit(**_HELPER)
def single_stage_share(x, h, tau_m, tau_s):  # pragma: no cover - compiled
    """End-of-interval voltage from a single-stage PSC whose value at the interval's end is ``x``.

    ``x(s) C_0(h)`` written with the end value ``x = x(s) e^{-h/tau_s}``:
    ``x (h/tau_m) expm1(w)/w`` with ``w = h/tau_s - h/tau_m`` (one ``expm1``);
    for ``w >= 50`` (``tau_s`` far below ``h``) the same product with the
    stage carried back explicitly, bounded so that it cannot overflow.

    Parameters
    ----------
    x : float
        The stage's value at the interval's end.
    h, tau_m, tau_s : float
        Interval length, membrane and synaptic time constants (s).

    Returns
    -------
    float
    """
    if x == 0.0:
        return 0.0
    back = h / tau_s
    w = back - h / tau_m
    if w < _MAX_W:
        return x * (h / tau_m) * (math.expm1(w) / w if w != 0.0 else 1.0)
    back = back if back < _MAX_BACK else _MAX_BACK
    return x * (h / tau_m) * math.exp(back - h / tau_m) * (-math.expm1(-w) / w)


@njit(**_HELPER)
def fused_free_voltage(v0, h, tau_m, jd, i, stb, grp_off, coef, grp_avg_off, g0,
                       g1):  # pragma: no cover - compiled
    """:func:`free_voltage` for a population of the fused pass: one or two single-stage PSC groups.

    The stages hold their end-of-step values (the fused pass advanced them
    already). ``g0`` and ``g1`` are the population's groups (``g1 < 0``: only
    one); ``i`` is the neuron's index in the population. The arithmetic is
    that of :func:`free_voltage` on the same stages (same bits); being small
    and free of the multi-stage code, it keeps the event code of networks
    that only have fused populations small to compile.
    """
    em = math.expm1(-h / tau_m)
    acc = 0.0
    g = g0
    while g >= 0:  # g0, then g1 if there is one
        x = stb[grp_off[g] + i]
        if x != 0.0:  # single_stage_share, written out (one compiled function fewer)
            back = h / coef[grp_avg_off[g] + 1]
            w = back - h / tau_m
            if w < _MAX_W:
                acc += x * (h / tau_m) * (math.expm1(w) / w if w != 0.0 else 1.0)
            else:
                back = back if back < _MAX_BACK else _MAX_BACK
                acc += x * (h / tau_m) * math.exp(back - h / tau_m) * (-math.expm1(-w) / w)
        g = g1 if g == g0 else -1
    return v0 * (1.0 + em) - jd * em + acc, em


@njit(**_HELPER)
def free_voltage(v0, s, h, tau_m, jd, p, i, n, stb, grp_post, grp_nst, grp_off, grp_prop_off, coef,
                 grp_avg_off):  # pragma: no cover - compiled
    """Voltage at the step's end of LIF neuron ``i`` of population ``p``, free from local time ``s`` on.

    Parameters
    ----------
    v0 : float
        Voltage at ``s`` (``v_reset`` after a refractory period).
    s, h : float
        Start of the free part (s after the step's start) and its length
        ``dt - s`` (s).
    tau_m : float
        Membrane time constant (s).
    jd : float
        Constant drive of the step (bias plus external currents).
    p, i, n : int
        Population, neuron index inside it, population size.
    stb : ndarray (n_stage_values,)
        The copy's synaptic stages at the step's start; stage ``j`` of group
        ``g`` for neuron ``i`` at ``grp_off[g] + j * n + i``.
    grp_post, grp_nst, grp_off, grp_prop_off, coef, grp_avg_off : ndarray
        The kernel's group layout; group ``g``'s ``tau_s`` is
        ``coef[grp_avg_off[g] + grp_nst[g]]`` (0 for Delta groups, skipped;
        -1 for a kind that is not a PSC cascade, whose current over the free
        part is approximated by its mean over the whole step).

    Returns
    -------
    tuple (float, float)
        The end-of-step voltage and ``expm1(-h / tau_m)``.
    """
    em = math.expm1(-h / tau_m)
    acc = 0.0
    for g in range(grp_post.shape[0]):
        if grp_post[g] != p:
            continue
        nst = grp_nst[g]
        tau_s = coef[grp_avg_off[g] + nst]
        if tau_s == 0.0:  # Delta group: jumps, no current
            continue
        base = grp_off[g] + i
        if tau_s < 0.0:
            # a registered kind that is not a PSC cascade: its current over
            # the free part is taken as its mean over the whole step
            avg = 0.0
            for j in range(nst):
                avg += coef[grp_avg_off[g] + j] * stb[base + j * n]
            acc -= em * avg
            continue
        if nst == 1:
            # through the stage's end-of-step value (the fused pass's product,
            # rounded alike), so that both passes give the same bits
            acc += single_stage_share(coef[grp_prop_off[g]] * stb[base], h, tau_m, tau_s)
            continue
        ys = s / tau_s
        es = math.exp(-ys)
        for k in range(nst):
            # stage k at s: e^{-ys} sum_{j <= k} ys^(k-j) / (k-j)! x_j(0)
            xk = 0.0
            term = 1.0
            for j in range(k, -1, -1):
                xk += term * stb[base + j * n]
                term *= ys / (k - j + 1)
            if xk != 0.0:
                acc += es * xk * stage_coupling(h, tau_m, tau_s, nst - 1 - k)
    return v0 * (1.0 + em) - jd * em + acc, em


@njit(cache=True)
def stage_couplings(h, tau_m, tau_s, q):  # pragma: no cover - compiled
    """:func:`stage_coupling` for each interval length of ``h`` (1-D float64, s), callable from Python.

    Returns
    -------
    numpy.ndarray, shape h.shape
    """
    out = np.empty(h.shape[0])
    for k in range(h.shape[0]):
        out[k] = stage_coupling(h[k], tau_m, tau_s, q)
    return out
