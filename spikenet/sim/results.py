"""Containers for simulation output.

Spikes are stored compactly (one flat array of times, grouped by neuron, plus
offsets), never as a dense ``(steps, n)`` raster; the raster is built only
when :meth:`Result.spike_raster` is called, and the time vector ``t`` only
when it is read, so that a result's memory grows with its spikes and
recorded states, not with its number of steps.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from spikenet._validation import finite_float

__all__ = ["NetworkResult", "Result"]

# Neurons per block when the chunks' spikes are merged (see _merge_chunks).
_MERGE_BLOCK = 1024


def _merge_chunks(chunks_t, chunks_k, chunks_i, times, ksteps, cursor, N):
    """Place the chunks' spikes in the per-neuron segments of ``times``/``ksteps``, chunk after chunk.

    A run of consecutive chunks kept with their counts per neuron is placed
    by blocks of ``_MERGE_BLOCK`` neurons, each block from every chunk of the
    run in turn: the block's part of the output stays in cache while it is
    filled, where chunk after chunk over all neurons would fetch every
    neuron's segment from memory once per chunk. Chunks kept with a neuron
    index per spike are placed one by one. Each neuron's spikes keep their
    time order; the lists are emptied as their chunks are placed.
    """
    from spikenet.sim.kernels.spikes import merge_by_counts, scatter_by_neuron

    q = 0
    while q < len(chunks_t):
        if not chunks_i[q][0]:
            scatter_by_neuron(chunks_t[q], chunks_k[q], chunks_i[q][1], times, ksteps, cursor)
            chunks_t[q] = chunks_k[q] = chunks_i[q] = None  # freed once placed
            q += 1
            continue
        r = q
        while r < len(chunks_t) and chunks_i[r][0]:
            r += 1
        pos = [0] * (r - q)
        for lo in range(0, N, _MERGE_BLOCK):
            hi = min(N, lo + _MERGE_BLOCK)
            for c in range(q, r):
                pos[c - q] = merge_by_counts(chunks_t[c], chunks_k[c], chunks_i[c][1], lo, hi, pos[c - q],
                                             times, ksteps, cursor)
        for c in range(q, r):
            chunks_t[c] = chunks_k[c] = chunks_i[c] = None
        q = r
    chunks_t.clear()
    chunks_k.clear()
    chunks_i.clear()



class Result:
    """Output of :func:`spikenet.sim.simulate`.

    Parameters
    ----------
    steps : int
        Number of steps simulated.
    dt : float
        Time step in seconds.
    spike_times : ndarray (n_spikes,) float64 or None
        All spike times in seconds, grouped by neuron (flattened index
        ``b * n + i`` for batch element ``b``), ascending within a neuron;
        None when ``pending`` holds them.
    spike_steps : ndarray (n_spikes,) int64 or None
        Index of the step each spike falls in (``k * dt <= time < (k + 1) * dt``).
    offsets : ndarray (N + 1,) int64
        Spikes of flat neuron ``j`` are ``spike_times[offsets[j]:offsets[j+1]]``.
    shape : tuple of int
        ``(n,)`` or, for a batched run, ``(batch, n)``.
    states : dict of str -> ndarray (steps, *shape)
        Recorded state variables (values at ``t[k]``, before step ``k``).
    interrupted : bool
        The run was stopped (Ctrl-C) before its end.
    pending : tuple or None
        The spikes as the run left them, chunk after chunk: ``(chunks_t,
        chunks_k, chunks_i)``, lists as :func:`spikenet.sim.simulate` keeps
        them. They are grouped by neuron when spike times or steps are
        first read (counts and rates over the whole run need no grouping),
        as a spike monitor keeps spikes in time order and groups them on
        request.

    Attributes
    ----------
    dt, T, steps
        Step (s), simulated duration ``steps * dt`` (s) and number of steps.
    t : ndarray (steps,)
        Start time of each step in seconds (``t[k] = k * dt``), built when
        first read (``steps * 8`` bytes).
    interrupted : bool
        True when the run was stopped by Ctrl-C: the result then covers the
        steps done, ``[0, T)``.
    spike_times : list
        One 1-D array of spike times (s) per neuron; for a batched run a list
        over the batch of such lists.
    v, m, h, n : ndarray (steps, n) or (steps, batch, n)
        Recorded states, present when requested in ``record``.

    Examples
    --------
    >>> from spikenet.sim import LIF, simulate
    >>> res = simulate(LIF(), [1.5, 3.0], T=0.2, record=("spikes", "v"))
    >>> res.v.shape, res.rates().shape
    ((2000, 2), (2,))
    """

    def __init__(self, steps, dt, spike_times, spike_steps, offsets, shape, states=None, *,
                 interrupted=False, pending=None):
        self.steps = int(steps)
        self.dt = float(dt)
        self.T = float(self.steps * self.dt)
        self.interrupted = bool(interrupted)
        if (spike_times is None) != (pending is not None):
            raise ValueError("give either spike_times and spike_steps or pending, not both")
        self._grouped = None if pending is not None else (spike_times, spike_steps)
        self._pending = pending
        self._offsets = offsets
        self.shape = tuple(shape)
        self._states = dict(states or {})

    def _group(self):
        """The spikes grouped by neuron, ``(times, steps)``; groups pending chunks on first use."""
        if self._grouped is None:
            total = int(self._offsets[-1])
            times = np.empty(total, dtype=np.float64)
            ksteps = np.empty(total, dtype=np.int64)
            chunks_t, chunks_k, chunks_i = self._pending
            _merge_chunks(chunks_t, chunks_k, chunks_i, times, ksteps, self._offsets[:-1].copy(),
                         self.n_neurons)
            self._grouped, self._pending = (times, ksteps), None
        return self._grouped

    @property
    def _times(self):
        return self._group()[0]

    @property
    def _steps(self):
        return self._group()[1]

    @cached_property
    def t(self):
        """Start time of each step in seconds, ``t[k] = k * dt`` (ndarray (steps,))."""
        return np.arange(self.steps) * self.dt

    # -- recorded states -------------------------------------------------
    def __getattr__(self, name):
        states = self.__dict__.get("_states", {})
        if name in states:
            return states[name]
        raise AttributeError(
            f"Result has no attribute {name!r}"
            + (f"; recorded states: {sorted(states)}" if states else "")
            + ("; pass record=(..., 'v') to simulate to record a state" if name in ("v", "m", "h", "n")
               else "")
        )

    @property
    def recorded(self):
        """Names of the recorded state variables (tuple of str)."""
        return tuple(self._states)

    # -- spikes ----------------------------------------------------------
    @property
    def n_neurons(self):
        """Total number of simulated neurons (batch included)."""
        return int(np.prod(self.shape))

    @property
    def spike_counts(self):
        """Number of spikes per neuron, shape ``(n,)`` or ``(batch, n)``."""
        return np.diff(self._offsets).reshape(self.shape)

    @property
    def spike_times(self):
        """Spike times in seconds: a list (per neuron) of 1-D arrays.

        For a batched run, a list over the batch of such lists.
        """
        flat = [self._times[self._offsets[j]:self._offsets[j + 1]] for j in range(self.n_neurons)]
        if len(self.shape) == 1:
            return flat
        n = self.shape[-1]
        return [flat[b * n:(b + 1) * n] for b in range(self.shape[0])]

    def spike_raster(self):
        """Dense boolean raster, ``True`` where a neuron spiked in a step.

        Returns
        -------
        ndarray of bool, shape (steps, n) or (steps, batch, n)
        """
        steps = self.steps
        raster = np.zeros((steps, self.n_neurons), dtype=bool)
        neuron = np.repeat(np.arange(self.n_neurons), np.diff(self._offsets))
        raster[self._steps, neuron] = True
        return raster.reshape((steps, *self.shape))

    def rates(self, start=0.0):
        """Mean firing rate per neuron in Hz.

        Parameters
        ----------
        start : float, optional
            Count only spikes at ``t >= start`` (seconds since the start of the
            simulation), dividing by ``T - start``; use it to skip a transient.

        Returns
        -------
        ndarray, shape (n,) or (batch, n)
        """
        start = finite_float("start", start)
        if self.steps == 0:
            raise ValueError("the run was interrupted before its first step: it has no rates")
        t_begin = 0.0
        t_end = self.T
        if not t_begin <= start < t_end:
            raise ValueError(f"start must lie in [{t_begin}, {t_end}), got {start}")
        if start == t_begin:
            counts = np.diff(self._offsets)
        else:
            keep = (self._times >= start).astype(np.int64)
            csum = np.concatenate(([0], np.cumsum(keep)))
            counts = csum[self._offsets[1:]] - csum[self._offsets[:-1]]
        return (counts / (t_end - start)).reshape(self.shape)

    def __repr__(self):
        stop = ", interrupted=True" if self.interrupted else ""
        return (f"Result(shape={self.shape}, steps={self.steps}, dt={self.dt}, "
                f"spikes={int(self._offsets[-1])}, recorded={list(self._states)}{stop})")

    def to_neo(self, neuron=None):
        """This run as a :class:`neo.Block` of spike trains and analog signals.

        See :func:`spikenet.interop.to_neo` (needs ``spikenet[interop]``).

        Parameters
        ----------
        neuron : LIF or HH, optional
            The model given to ``simulate``; required when states were
            recorded, to give them units (HH ``v`` in mV, LIF ``v`` dimensionless).

        Returns
        -------
        neo.Block
        """
        from spikenet.interop import to_neo

        return to_neo(self, neuron=neuron)


# NetworkResult (the output of Network.run) lives in its own module; it is
# re-exported here so that both result types are found in one place.
from spikenet.sim.network_results import NetworkResult  # noqa: E402
