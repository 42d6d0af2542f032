"""A fine-step Euler-Maruyama reference for the Izhikevich (2003) neuron driven by white noise.

``dv = 1e3 (0.04 v^2 + 5 v + 140 - u + I) dt + 1e3 sigma dW`` (t in s, v in
mV, ``sigma`` in the drive's units x sqrt(s)), ``du = 1e3 a (b v - u) dt``;
at ``v >= v_peak``: ``v <- c``, ``u <- u + d``. Plain Euler-Maruyama with its
own random numbers, independent of spikenet's scheme and generator.
"""

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _em(a, b, c, d, v_peak, I, sigma, dt, steps, xi_seed, n):  # pragma: no cover - compiled
    np.random.seed(xi_seed)  # noqa: NPY002 - Numba supports the legacy generator only
    counts = np.zeros(n, dtype=np.int64)
    sq = 1e3 * sigma * math.sqrt(dt)
    for i in range(n):
        v = -65.0
        u = b * v
        for _ in range(steps):
            xi = np.random.standard_normal()  # noqa: NPY002
            dv = 1e3 * (0.04 * v * v + 5.0 * v + 140.0 - u + I) * dt + sq * xi
            u += 1e3 * a * (b * v - u) * dt
            v += dv
            if v >= v_peak:
                counts[i] += 1
                v = c
                u += d
    return counts


def izhikevich_noise_counts(a, b, c, d, I, sigma, T, dt, n, seed, v_peak=30.0):
    """Spike counts (n,) of ``n`` noisy Izhikevich neurons over ``T`` s (Euler-Maruyama at ``dt``)."""
    return _em(a, b, c, d, v_peak, I, sigma, dt, round(T / dt), seed, n)
