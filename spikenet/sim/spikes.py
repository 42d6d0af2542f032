"""Spike trains: generators, rasters <-> spike times, rates, ISI and CV.

A *raster* is a boolean array of shape ``(steps, n)``: row ``k`` covers
``[k*dt, (k+1)*dt)`` and ``raster[k, i]`` says whether neuron ``i`` spiked in
that step. *Spike times* are a list with one sorted 1-D array of times in
seconds per neuron.
"""

from __future__ import annotations

import numbers

import numpy as np

from spikenet._validation import (
    as_rng,
    finite_array,
    finite_float,
    positive_float,
    positive_int,
    whole_steps,
)

__all__ = [
    "cv",
    "firing_rate",
    "isi",
    "poisson_spikes",
    "raster_to_spike_times",
    "regular_spikes",
    "spike_times_to_raster",
]

# Grid times are computed as t / dt; a spike time that is an exact multiple of
# dt can land a rounding error below the integer, so floor() gets this slack
# (in steps, far below any meaningful time resolution).
_GRID_SLACK = 1e-9


def n_steps(T, dt) -> int:
    """Number of steps ``T / dt`` of a duration ``T`` (s) at step ``dt`` (s).

    ``T`` must be a whole number of steps (within 1e-9 relative), else
    ``ValueError``: durations are never rounded.
    """
    return whole_steps("T", T, dt)


def _rate_array(rate, steps: int, n: int) -> tuple[np.ndarray, int]:
    """Check ``rate`` (scalar, (n,) or (steps, n)) and return it with the neuron count."""
    r = finite_array("rate", rate, ndim=(0, 1, 2))
    if np.any(r < 0):
        raise ValueError("rate must be >= 0 Hz")
    if r.ndim == 0:
        return r, n
    n_r = r.shape[-1]
    if n not in (1, n_r):
        raise ValueError(f"rate has {n_r} neurons but n={n}")
    if r.ndim == 2 and r.shape[0] != steps:
        raise ValueError(f"rate of shape {r.shape} must have {steps} rows (T / dt), got {r.shape[0]}")
    return r, n_r


def poisson_spikes(rate, T, dt=1e-4, n=1, seed=None) -> np.ndarray:
    """Poisson spike trains as a boolean raster.

    Parameters
    ----------
    rate : float or array_like
        Rate in Hz (>= 0): a scalar (all neurons), shape ``(n,)`` (one per
        neuron) or ``(steps, n)`` (time-varying, row ``k`` for step ``k``).
    T : float
        Duration in seconds, a whole number of steps: ``steps = T / dt``.
    dt : float
        Time step in seconds.
    n : int
        Number of neurons (taken from ``rate`` when it is an array).
    seed : None, int or numpy.random.Generator
        Random seed; the same seed gives the same raster.

    Returns
    -------
    numpy.ndarray, bool, shape (steps, n)

    Notes
    -----
    Each step holds a spike with probability ``rate * dt`` independently
    (Bernoulli approximation of a Poisson process, which needs
    ``rate * dt <= 1``), so the expected count is exactly ``rate * T`` and the
    count of a neuron is binomial with Fano factor ``1 - rate * dt``, which
    tends to the Poisson value 1 as ``dt -> 0``.
    """
    dt = positive_float("dt", dt)
    steps = n_steps(T, dt)
    n = positive_int("n", n)
    rng = as_rng(seed)
    r, n = _rate_array(rate, steps, n)
    p = r * dt
    if np.any(p > 1.0):
        raise ValueError(f"rate * dt must be <= 1 (at most one spike per step), got max {p.max():.3g}")
    return rng.random((steps, n)) < p


def regular_spikes(rate, T, dt=1e-4, n=1, phase=0.0) -> np.ndarray:
    """Perfectly regular spike trains as a boolean raster.

    Parameters
    ----------
    rate : float or array_like, shape (n,)
        Rate in Hz (>= 0, at most ``1 / dt``); spikes at ``phase + m / rate``.
    T : float
        Duration in seconds, a whole number of steps: ``steps = T / dt``.
    dt : float
        Time step in seconds.
    n : int
        Number of neurons (taken from ``rate`` when it is an array).
    phase : float or array_like, shape (n,)
        Time of the first spike in seconds (>= 0).

    Returns
    -------
    numpy.ndarray, bool, shape (steps, n)
        A spike at time ``t`` sits in row ``floor(t / dt)``.
    """
    dt = positive_float("dt", dt)
    steps = n_steps(T, dt)
    n = positive_int("n", n)
    r = finite_array("rate", rate, ndim=(0, 1))
    if np.any(r < 0):
        raise ValueError("rate must be >= 0 Hz")
    if np.any(r * dt > 1.0 + 1e-12):
        raise ValueError(f"rate must be <= 1 / dt = {1 / dt:g} Hz (one spike per step)")
    ph = finite_array("phase", phase, ndim=(0, 1))
    if np.any(ph < 0):
        raise ValueError("phase must be >= 0 s")
    sizes = {a.shape[0] for a in (r, ph) if a.ndim == 1}
    if len(sizes) > 1 or (sizes and n not in (1, *sizes)):
        raise ValueError(f"rate, phase and n disagree on the number of neurons: {sizes | {n}}")
    n = sizes.pop() if sizes else n
    r = np.broadcast_to(r, (n,))
    ph = np.broadcast_to(ph, (n,))
    T_grid = steps * dt
    raster = np.zeros((steps, n), dtype=bool)
    for i in range(n):
        if r[i] == 0:
            continue
        times = ph[i] + np.arange(int(np.ceil((T_grid - ph[i]) * r[i])) + 1) / r[i]
        rows = np.floor(times / dt + _GRID_SLACK).astype(np.int64)
        raster[rows[(rows >= 0) & (rows < steps)], i] = True
    return raster


def _as_raster(raster) -> np.ndarray:
    arr = np.asarray(raster)
    if arr.dtype != bool:
        arr = finite_array("raster", arr)
    if arr.ndim not in (1, 2):
        raise ValueError(f"raster must have shape (steps,) or (steps, n), got {arr.shape}")
    return arr if arr.ndim == 2 else arr[:, None]


def firing_rate(raster, dt, window=None) -> np.ndarray:
    """Firing rates in Hz from a raster.

    Parameters
    ----------
    raster : array_like, shape (steps, n) or (steps,)
        Spikes per step (bool or counts).
    dt : float
        Time step in seconds.
    window : None, float or PSCFilter
        ``None``: the mean rate of each neuron over the whole raster.
        A float: a sliding boxcar of that many seconds, centred on each step
        (near the edges the count is divided by the part of the window that
        lies inside the raster). A :class:`~spikenet.sim.PSCFilter`: the
        raster filtered by it (a causal, unit-area estimate).

    Returns
    -------
    numpy.ndarray
        Shape (n,) for ``window=None``, else (steps, n) (1-D input gives (,)
        and (steps,) respectively).
    """
    from spikenet.sim.synapses import PSCFilter

    dt = positive_float("dt", dt)
    one_d = np.ndim(raster) == 1
    arr = _as_raster(raster).astype(np.float64)
    steps = arr.shape[0]
    if steps == 0:
        raise ValueError("raster must have at least one step")
    if window is None:
        out = arr.sum(axis=0) / (steps * dt)
    elif isinstance(window, PSCFilter):
        out = window.apply(arr, dt)
    elif isinstance(window, numbers.Real) and not isinstance(window, bool):
        w = positive_float("window", window)
        width = max(round(w / dt), 1)
        left = width // 2
        csum = np.vstack([np.zeros((1, arr.shape[1])), np.cumsum(arr, axis=0)])
        lo = np.clip(np.arange(steps) - left, 0, steps)
        hi = np.clip(np.arange(steps) - left + width, 0, steps)
        out = (csum[hi] - csum[lo]) / ((hi - lo)[:, None] * dt)
    else:
        raise TypeError(f"window must be None, a duration in seconds or a PSCFilter, got {window!r}")
    return out[..., 0] if one_d else out


def raster_to_spike_times(raster, dt, t0=0.0) -> list[np.ndarray]:
    """Convert a raster to spike-time lists.

    Parameters
    ----------
    raster : array_like of bool, shape (steps, n) or (steps,)
        Spikes per step.
    dt : float
        Time step in seconds.
    t0 : float
        Time of row 0 in seconds.

    Returns
    -------
    list of numpy.ndarray
        One array per neuron with the times ``t0 + k*dt`` of its spike rows.
    """
    dt = positive_float("dt", dt)
    t0 = finite_float("t0", t0)
    arr = _as_raster(raster)
    if arr.dtype != bool:
        if np.any((arr != 0) & (arr != 1)):
            raise ValueError("raster must be boolean (or 0/1)")
        arr = arr.astype(bool)
    return [t0 + np.flatnonzero(arr[:, i]) * dt for i in range(arr.shape[1])]


def spike_times_to_raster(spike_times, T, dt) -> np.ndarray:
    """Convert spike-time lists to a raster.

    Parameters
    ----------
    spike_times : sequence of array_like
        One 1-D array of spike times (seconds, in ``[0, T)``) per neuron.
    T : float
        Duration in seconds, a whole number of steps; the raster has
        ``T / dt`` rows.
    dt : float
        Time step in seconds.

    Returns
    -------
    numpy.ndarray, bool, shape (steps, n)
        A spike at ``t`` marks row ``floor(t / dt)``.

    Raises
    ------
    ValueError
        If a time is outside ``[0, T)`` or two spikes of a neuron share a row.
    """
    dt = positive_float("dt", dt)
    steps = n_steps(T, dt)
    if isinstance(spike_times, np.ndarray) and spike_times.ndim == 1 and spike_times.dtype != object:
        raise TypeError("spike_times must be a list with one array per neuron")
    raster = np.zeros((steps, len(spike_times)), dtype=bool)
    for i, times in enumerate(spike_times):
        t = finite_array(f"spike_times[{i}]", times, ndim=(0, 1)).ravel()
        rows = np.floor(t / dt + _GRID_SLACK).astype(np.int64)
        if np.any((rows < 0) | (rows >= steps)):
            raise ValueError(f"spike_times[{i}] has times outside [0, T={T})")
        if np.unique(rows).size != rows.size:
            raise ValueError(f"spike_times[{i}] has two spikes in one step of dt={dt}")
        raster[rows, i] = True
    return raster


def _times_list(spike_times) -> tuple[list[np.ndarray], bool]:
    if isinstance(spike_times, np.ndarray) and spike_times.dtype != object:
        return [finite_array("spike_times", spike_times, ndim=1)], True
    if not isinstance(spike_times, (list, tuple)):
        raise TypeError("spike_times must be a 1-D array or a list of 1-D arrays")
    if all(isinstance(t, numbers.Real) for t in spike_times):
        return [finite_array("spike_times", spike_times, ndim=1)], True
    return [finite_array(f"spike_times[{i}]", t, ndim=1) for i, t in enumerate(spike_times)], False


def isi(spike_times):
    """Inter-spike intervals in seconds.

    Parameters
    ----------
    spike_times : array_like or list of array_like
        Sorted spike times of one neuron (1-D), or a list with one array per
        neuron.

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        ``np.diff`` of the times (one array per neuron for a list input).
    """
    times, single = _times_list(spike_times)
    out = []
    for i, t in enumerate(times):
        d = np.diff(t)
        if np.any(d < 0):
            raise ValueError(f"spike_times[{i}] must be sorted")
        out.append(d)
    return out[0] if single else out


def cv(spike_times, min_isis=2):
    """Coefficient of variation of the inter-spike intervals (std / mean).

    Parameters
    ----------
    spike_times : array_like or list of array_like
        As for :func:`isi`.
    min_isis : int
        Neurons with fewer intervals get NaN (the CV is undefined for them).

    Returns
    -------
    float or numpy.ndarray, shape (n,)
        0 for a regular train, 1 for a Poisson process. Uses the population
        standard deviation (``ddof=0``).
    """
    min_isis = positive_int("min_isis", min_isis)
    intervals = isi(spike_times)
    single = isinstance(intervals, np.ndarray)
    vals = []
    for d in [intervals] if single else intervals:
        vals.append(float(np.std(d) / np.mean(d)) if d.size >= min_isis and np.mean(d) > 0 else np.nan)
    return vals[0] if single else np.asarray(vals)
