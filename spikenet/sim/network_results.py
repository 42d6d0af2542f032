"""``NetworkResult``: what :meth:`spikenet.sim.Network.run` returns."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property

import numpy as np

__all__ = ["NetworkResult"]


class _SpikeTimes(Mapping):
    """``result.spike_times[pop]``: spike-time lists, looked up by population or name."""

    def __init__(self, result):
        self._result = result
        self._cache = {}

    def __getitem__(self, pop):
        p = self._result._pop(pop)
        if p.index not in self._cache:
            self._cache[p.index] = self._result._spike_times(p)
        return self._cache[p.index]

    def __iter__(self):
        return iter(p.name for p in self._result.populations)

    def __len__(self):
        return len(self._result.populations)


class NetworkResult:
    """Spikes and recorded states of one :meth:`Network.run <spikenet.sim.Network.run>`.

    Populations are given as :class:`~spikenet.sim.Population` objects or by
    name. Without a batch:

    - ``t`` : (steps,) times of the rows in seconds (``t[0]`` is the start of
      this run, counted from the start of the first run).
    - ``spike_times[pop]`` : list over neurons of 1-D arrays of spike times (s,
      absolute, placed inside their step).
    - ``spike_raster(pop)`` : bool (steps, n); ``rates(pop)`` : (n,) Hz.
    - ``result[pop, "v"]`` : (steps, k) values at ``t`` of the k recorded
      neurons (``record_indices(pop, "v")`` says which).

    With ``Network(batch=B)`` the arrays gain a batch axis after time:
    ``spike_raster`` (steps, B, n), ``result[pop, state]`` (steps, B, k),
    ``rates`` (B, n), and ``spike_times[pop]`` is a list over the batch of lists
    over neurons.

    Attributes
    ----------
    t : numpy.ndarray, shape (steps,)
        Built when first read (``steps * 8`` bytes).
    dt : float
        Time step in seconds.
    T : float
        Duration of this run in seconds (``steps * dt``).
    steps : int
        Number of steps of this run.
    t_start : float
        Time of this run's first step in seconds (``k_begin * dt``).
    interrupted : bool
        True when the run was stopped by Ctrl-C: the result covers the steps
        done, and the network's clock stands at their end (a further
        ``run`` continues from there).
    """

    def __init__(self, dt, k_begin, steps, populations, pop_off, spikes, recorded, batch, *,
                 interrupted=False, weights=None, record_every=None):
        self.dt = float(dt)
        self.steps = int(steps)
        self.k_begin = int(k_begin)
        self.T = self.steps * self.dt
        self.t_start = self.k_begin * self.dt
        self.interrupted = bool(interrupted)
        self.populations = populations
        self.batch = batch
        self._pop_off = np.asarray(pop_off)
        self._spikes = spikes  # per batch copy: (global step, global neuron, offset in step (s))
        self._recorded = recorded
        self._weights = {} if weights is None else weights  # Connection -> (records, n_synapses)
        self.record_every = record_every  # s between weight records
        self.spike_times = _SpikeTimes(self)

    @cached_property
    def t(self):
        """Times of the rows in seconds, ``(k_begin + k) * dt`` (ndarray (steps,))."""
        return (self.k_begin + np.arange(self.steps)) * self.dt

    def _pop(self, pop):
        from spikenet._validation import choice

        if isinstance(pop, str):
            for p in self.populations:
                if p.name == pop:
                    return p
            choice("population", pop, [p.name for p in self.populations])
        for p in self.populations:
            if p is pop:
                return p
        raise ValueError(f"population {pop!r} is not part of this result's network")

    def _events(self, p, b):
        steps, idx, off = self._spikes[b]
        lo = self._pop_off[p.index]
        sel = (idx >= lo) & (idx < lo + p.n)
        return steps[sel], idx[sel] - lo, off[sel]

    def _spike_times_one(self, p, b):
        steps, idx, off = self._events(p, b)
        times = steps * self.dt + off
        order = np.lexsort((times, idx))
        idx, times = idx[order], times[order]
        bounds = np.searchsorted(idx, np.arange(p.n + 1))
        return [times[bounds[i]:bounds[i + 1]] for i in range(p.n)]

    def _spike_times(self, p):
        if self.batch is None:
            return self._spike_times_one(p, 0)
        return [self._spike_times_one(p, b) for b in range(self.batch)]

    def spike_events(self, pop):
        """All spikes of ``pop`` as flat arrays (handy for raster plots of large populations).

        Returns
        -------
        times : numpy.ndarray, float64
            Spike times in seconds.
        neurons : numpy.ndarray, int
            Neuron index of each spike.
        batch : numpy.ndarray, int
            Batch copy of each spike (all 0 without a batch).
        """
        p = self._pop(pop)
        ts, ns, bs = [], [], []
        for b in range(len(self._spikes)):
            steps, idx, off = self._events(p, b)
            ts.append(steps * self.dt + off)
            ns.append(idx)
            bs.append(np.full(idx.size, b))
        return np.concatenate(ts), np.concatenate(ns), np.concatenate(bs)

    def spike_steps(self, pop) -> np.ndarray:
        """Index of the step each spike of ``pop`` falls in, in the order of :meth:`spike_events`.

        Returns
        -------
        numpy.ndarray, int64
            Global step ``k`` of each spike (``k * dt <= time < (k + 1) * dt``).
        """
        p = self._pop(pop)
        ks = [self._events(p, b)[0] for b in range(len(self._spikes))]
        return np.concatenate([np.zeros(0, np.int64), *ks]).astype(np.int64)

    def spike_raster(self, pop) -> np.ndarray:
        """Boolean raster of ``pop``: (steps, n), or (steps, B, n) with a batch."""
        p = self._pop(pop)
        B = len(self._spikes)
        raster = np.zeros((self.steps, B, p.n), dtype=bool)
        for b in range(B):
            steps, idx, _ = self._events(p, b)
            raster[steps - self.k_begin, b, idx] = True
        return raster[:, 0, :] if self.batch is None else raster

    def rates(self, pop) -> np.ndarray:
        """Mean firing rate of each neuron over this run in Hz: (n,), or (B, n) with a batch."""
        p = self._pop(pop)
        if self.steps == 0:
            raise ValueError("the run was interrupted before its first step: it has no rates")
        B = len(self._spikes)
        out = np.zeros((B, p.n))
        for b in range(B):
            _, idx, _ = self._events(p, b)
            out[b] = np.bincount(idx, minlength=p.n) / self.T
        return out[0] if self.batch is None else out

    def record_indices(self, pop, state) -> np.ndarray:
        """Indices of the neurons recorded for ``result[pop, state]``."""
        return self._lookup(pop, state)[1]

    def _lookup(self, pop, state):
        p = self._pop(pop)
        key = (p.index, state)
        if key not in self._recorded:
            have = [s for (i, s) in self._recorded if i == p.index]
            raise KeyError(f"state {state!r} of population {p.name!r} was not recorded (recorded: {have}); "
                           f"pass record={{{p.name!r}: [{state!r}]}} to Network.run")
        return self._recorded[key]

    def __getitem__(self, key):
        if not (isinstance(key, tuple) and len(key) == 2):
            raise TypeError("index a NetworkResult as result[population, state], e.g. result['exc', 'v']")
        weights = self._weights
        if key[1] == "w" and type(key[0]).__name__ == "Connection":
            if key[0] not in weights:
                raise KeyError("the weights of this connection were not recorded; pass "
                               "record={conn: 'w'} to Network.run")
            # (records, n_synapses): row m at t_start + m * record_every
            return weights[key[0]]
        return self._lookup(*key)[0]

    def __repr__(self):
        names = ", ".join(p.name for p in self.populations)
        stop = ", interrupted=True" if self.interrupted else ""
        return (f"NetworkResult(T={self.T:g} s, dt={self.dt:g} s, populations=[{names}], "
                f"batch={self.batch}{stop})")

    def to_neo(self):
        """This run as a :class:`neo.Block` of spike trains and analog signals.

        See :func:`spikenet.interop.to_neo` (needs ``spikenet[interop]``);
        states get the units of their population's model.

        Returns
        -------
        neo.Block
        """
        from spikenet.interop import to_neo

        return to_neo(self)
