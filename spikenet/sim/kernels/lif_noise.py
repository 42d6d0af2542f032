r"""Numba kernel for unconnected LIF neurons driven by white noise: an exact Ornstein-Uhlenbeck step.

Model (Brian2's ``sigma*xi*tau**-0.5`` convention):
``tau_m dv = (J - v) dt + sigma sqrt(tau_m) dW``. Below threshold the voltage
is an Ornstein-Uhlenbeck process, advanced exactly over a span ``h``:

.. math::

    v(t + h) = J + (v(t) - J) e^{-h/\tau_m}
               + \sigma \sqrt{\tfrac{1}{2}(1 - e^{-2h/\tau_m})}\, \xi,
    \qquad \xi \sim N(0, 1),

so the voltage at the grid points has the law of the continuous process for
any ``dt`` (stationary variance ``sigma^2 / 2``; Euler-Maruyama is about 5 %
high at ``dt = tau_m / 10``). A path can also cross the threshold and come
back within a step; given both end points below threshold, the crossing
probability of the Brownian bridge with the same diffusion,
``exp(-2 (v_th - v_0)(v_th - v_1) tau_m / (sigma^2 h))``, decides whether it
did (one uniform number per neuron and step), which removes the rate bias of
checking the threshold on the grid only; the drift's effect on that
probability is of order ``h / tau_m``. A spike found at the end of the span is
placed by linear interpolation; one found by the bridge test at the middle
of the span. The refractory period runs from the spike time; a neuron whose
refractory period ends inside a step integrates the rest of the step (same
formula over the shorter span). At most one spike per step, as in every
engine path: when ``tau_ref < dt`` and the rest of the step of a spike would
cross ``v_th`` again (at its end or by the bridge test, with a second normal
and uniform number), ``v`` is held at ``v_th`` and the neuron spikes at the
start of the next step; a neuron that starts a step at or above ``v_th``
spikes at once.

The normal and uniform numbers are drawn by the caller (from the run's seed,
chunk by chunk, so that the results do not depend on how the run is cut).
"""

from __future__ import annotations

import math

from numba import njit, prange


@njit(cache=True, parallel=True, error_model="numpy")
def lif_noise_run(v, r, J, j_stride, k0, dt, tau_m, tau_ref, v_th, v_reset, sigma, xi, uni, xi2, uni2, spk_t,
                  spk_k, cnt, rec_v):  # pragma: no cover - compiled
    """Advance ``N`` noisy LIF neurons by ``xi.shape[0]`` steps in place.

    Parameters
    ----------
    v, r : ndarray (N,)
        Voltage and remaining refractory time (s), updated in place.
    J : ndarray (rows, N) float64
        Drive; step ``k`` uses row ``k * j_stride``.
    j_stride, k0 : int
        0 or 1; the global index of the first step.
    dt, tau_m, tau_ref, v_th, v_reset, sigma : float
        Step and model (seconds; threshold units).
    xi, uni : ndarray (steps, N) float64
        Standard normal and uniform [0, 1) numbers, one each per neuron and step.
    xi2, uni2 : ndarray (steps, N) float64, or (0, 0) when ``tau_ref >= dt``
        The same for the rest of the step of a spike, once the refractory
        period has ended (only possible when ``tau_ref < dt``).
    spk_t, spk_k, cnt : ndarray
        Spike buffers (N, cap) and counts (N,): counted past ``cap`` but not
        written (the caller runs the chunk again with larger buffers).
    rec_v : ndarray (steps, N) or (steps, 0)
        Voltage at the start of each step, when recorded.
    """
    steps = xi.shape[0]
    N = v.shape[0]
    cap = spk_t.shape[1]
    rec = rec_v.shape[1] > 0
    a = math.exp(-dt / tau_m)
    s_full = sigma * math.sqrt(0.5 * -math.expm1(-2.0 * dt / tau_m))
    d2 = sigma * sigma / tau_m  # diffusion coefficient squared of dv (per second)
    for i in prange(N):
        vi = v[i]
        ri = r[i]
        for k in range(steps):
            if rec:
                rec_v[k, i] = vi
            jk = J[k * j_stride, i]
            if ri >= dt:  # refractory over the whole step
                ri -= dt
                vi = v_reset
                continue
            if ri > 0.0:  # free for the rest of the step
                h = dt - ri
                ah = math.exp(-h / tau_m)
                v0 = v_reset
                v1 = jk + (v0 - jk) * ah + sigma * math.sqrt(0.5 * -math.expm1(-2.0 * h / tau_m)) * xi[k, i]
                t0 = ri
                ri = 0.0
            else:
                h = dt
                v0 = vi
                v1 = jk + (v0 - jk) * a + s_full * xi[k, i]
                t0 = 0.0
            spiked = False
            ts = 0.0
            if v1 >= v_th or v0 >= v_th:
                spiked = True
                ts = t0 if v0 >= v_th else t0 + h * (v_th - v0) / (v1 - v0)
            elif v0 < v_th and uni[k, i] < math.exp(-2.0 * (v_th - v0) * (v_th - v1) / (d2 * h)):
                spiked = True
                ts = t0 + 0.5 * h
            if spiked:
                c = cnt[i]
                if c < cap:
                    spk_t[i, c] = (k0 + k) * dt + ts
                    spk_k[i, c] = k0 + k
                cnt[i] = c + 1
                vi = v_reset
                rest = dt - ts
                ri = tau_ref - rest if tau_ref > rest else 0.0
                if tau_ref < rest:  # free again before the step ends: integrate the rest
                    h2 = rest - tau_ref
                    w1 = jk + (v_reset - jk) * math.exp(-h2 / tau_m) + sigma * math.sqrt(
                        0.5 * -math.expm1(-2.0 * h2 / tau_m)) * xi2[k, i]
                    crossed = w1 >= v_th or (v_reset < v_th and uni2[k, i] < math.exp(
                        -2.0 * (v_th - v_reset) * (v_th - w1) / (d2 * h2)))
                    vi = v_th if crossed else w1  # a second crossing waits for the next step
            else:
                vi = v1
        v[i] = vi
        r[i] = ri
