"""Numba kernel for offline PSC filtering (cascade of exponential stages).

The same stage propagator (``PSCFilter.stage_propagator``) drives the
synaptic stages inside the network kernel, so offline filtering and the
simulator share one discretisation.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def cascade_filter(raster, prop, inv_tau, out):  # pragma: no cover - compiled
    """Filter ``raster`` (steps, n) through ``n_stages`` cascaded exponential stages.

    Parameters
    ----------
    raster : ndarray, float64, shape (steps, n)
        Spike counts (or weights) per step; row ``k`` sits at ``t = k*dt``.
    prop : ndarray, float64, shape (n_stages, n_stages)
        Exact one-step propagator of the stages (lower triangular).
    inv_tau : float
        ``1 / tau_s`` in 1/s: the jump of the first stage per spike.
    out : ndarray, float64, shape (steps, n)
        Receives the last stage after the spikes of each row are added.
    """
    steps, n = raster.shape
    n_stages = prop.shape[0]
    x = np.zeros((n_stages, n))
    new = np.zeros(n_stages)
    for k in range(steps):
        for i in range(n):
            if k > 0:
                for s in range(n_stages):
                    acc = 0.0
                    for r in range(s + 1):
                        acc += prop[s, r] * x[r, i]
                    new[s] = acc
                for s in range(n_stages):
                    x[s, i] = new[s]
            x[0, i] += raster[k, i] * inv_tau
            out[k, i] = x[n_stages - 1, i]
