"""Spike-source populations: neurons without dynamics that emit given or Poisson spike trains.

Used as the ``neuron`` of :meth:`spikenet.sim.Network.add_population`; such
a population can be the ``pre`` of any connection (any synapse kind,
per-synapse delays) and its spikes are recorded like any population's. It
receives no input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikenet._validation import finite_array, positive_float

__all__ = ["PoissonSource", "SpikeSource"]


@dataclass(frozen=True, eq=False)
class SpikeSource:
    """Neurons that emit given spike times (NEST's ``spike_generator``).

    Parameters
    ----------
    times : sequence of array_like
        ``times[i]`` (1-D, seconds, >= 0) are the spike times of neuron ``i``;
        ``len(times)`` must equal the population's size. Each time is rounded
        to the nearest step: a spike at ``k * dt`` is emitted in step ``k``
        (recorded at ``k * dt``) and, like any spike of step ``k``, reaches
        its targets at the start of step ``k + 1 + delay / dt``: exactly as
        row ``k`` of an ``add_input(spikes=...)`` raster. Two spikes of one
        neuron in the same step are refused.

    Notes
    -----
    Change the times between runs with ``Network.set(pop, times=...)``; the
    times are absolute (seconds since the first run), and those before the
    current time (:attr:`~spikenet.sim.Network.t`) are not emitted.
    """

    times: tuple

    def __post_init__(self):
        if isinstance(self.times, np.ndarray) and self.times.ndim == 1 and self.times.dtype != object:
            raise TypeError("times must be a sequence of 1-D arrays, one per neuron (got one 1-D array; "
                            "wrap it in a list for a single neuron)")
        try:
            items = list(self.times)
        except TypeError:
            raise TypeError("times must be a sequence of 1-D arrays, got "
                            f"{type(self.times).__name__}") from None
        out = []
        for i, t in enumerate(items):
            arr = finite_array(f"times[{i}]", t, ndim=1)
            if arr.size and arr.min() < 0:
                raise ValueError(f"times[{i}] must be >= 0 s, got {arr.min():g}")
            arr = np.sort(arr)
            arr.setflags(write=False)
            out.append(arr)
        object.__setattr__(self, "times", tuple(out))

    def __repr__(self):
        return f"SpikeSource(<{len(self.times)} neurons, {sum(t.size for t in self.times)} spikes>)"

    def steps(self, dt, n):
        """Spike steps and neuron indices, sorted by step then neuron, for a population of ``n``.

        Returns
        -------
        (steps, idx) : int64 arrays (spikes,)
        """
        if len(self.times) != n:
            raise ValueError(f"times must list one array per neuron: {n}, got {len(self.times)}")
        steps = [np.rint(t / dt).astype(np.int64) for t in self.times]
        idx = [np.full(s.size, i, dtype=np.int64) for i, s in enumerate(steps)]
        st = np.concatenate([np.zeros(0, np.int64), *steps])
        ix = np.concatenate([np.zeros(0, np.int64), *idx])
        order = np.lexsort((ix, st))
        st, ix = st[order], ix[order]
        dup = (np.diff(st) == 0) & (np.diff(ix) == 0)
        if np.any(dup):
            j = int(np.flatnonzero(dup)[0])
            raise ValueError(f"times[{ix[j]}] has two spikes in step {st[j]} (t = {st[j] * dt:g} s, dt = "
                             f"{dt:g} s); at most one spike per neuron and step")
        return st, ix


@dataclass(frozen=True)
class PoissonSource:
    """Neurons that emit independent Poisson spike trains, generated inside the network kernel.

    Parameters
    ----------
    rate : float or array_like (n,)
        Rate in Hz (>= 0), one for all neurons or one per neuron; the same
        in every copy of a batched network (``Network(batch=B)``). For
        per-copy rates use ``Network.set(pop, rate=...)`` with (B,) (one
        rate per copy) or (B, n) (per copy and neuron): the population's
        source then holds them as ``rate`` of shape (B, n).
    start, stop : float
        The neurons are active in ``[start, stop)`` (seconds; ``stop=None``:
        forever).

    Notes
    -----
    On the time grid a neuron spikes in a step with probability
    ``rate * dt`` (at most once per step; Brian2's ``PoissonGroup``), at the
    step's start: the spike counts over a window have mean ``rate * T`` and
    Fano factor ``1 - rate * dt``, and the intervals are geometric, the
    exponential law on the grid. ``rate * dt`` must not exceed 1. Change the
    rate between runs with ``Network.set(pop, rate=...)``: from the current
    time on, the spikes are those a network with the same seed built with
    the new rate has in the same steps. In a batched network every copy
    draws its own spikes (independent of the other copies, whatever their
    rates); with per-copy rates, copy ``b`` spikes exactly where copy ``b``
    of the same network with every copy at copy ``b``'s rates spikes.
    """

    rate: object = 1.0
    start: float = 0.0
    stop: float | None = None

    def __post_init__(self):
        r = finite_array("rate", self.rate, ndim=(0, 1))
        if np.any(r < 0):
            raise ValueError(f"rate must be >= 0 Hz, got {r.min():g}")
        r = r.copy()
        r.setflags(write=False)
        object.__setattr__(self, "rate", float(r) if r.ndim == 0 else r)
        object.__setattr__(self, "start", positive_float("start", self.start, allow_zero=True))
        if self.stop is not None:
            stop = positive_float("stop", self.stop, allow_zero=True)
            if stop < self.start:
                raise ValueError(f"stop ({stop:g} s) must be >= start ({self.start:g} s)")
            object.__setattr__(self, "stop", stop)

    def __eq__(self, other):
        return isinstance(other, PoissonSource) and np.array_equal(self.rate, other.rate) and \
            (self.start, self.stop) == (other.start, other.stop)

    __hash__ = None

    def __repr__(self):
        r = self.rate
        rate = f"{r!r}" if np.ndim(r) == 0 else f"<{np.shape(r)} Hz, {np.min(r):g}-{np.max(r):g}>"
        return f"PoissonSource(rate={rate}, start={self.start!r}, stop={self.stop!r})"

    @classmethod
    def _per_copy(cls, rate, start, stop):
        """A source with per-copy rates ``rate`` (B, n) Hz, already checked (``Network.set`` makes it)."""
        src = cls(0.0, start, stop)
        r = np.array(rate, dtype=np.float64)
        r.setflags(write=False)
        object.__setattr__(src, "rate", r)
        return src

    def probabilities(self, dt, n, batch=None):
        """Spike probability per step of each of ``n`` neurons.

        Parameters
        ----------
        dt : float
            Step (s).
        n : int
            Neurons of the population.
        batch : None or int
            Copies of the network (``None``: unbatched).

        Returns
        -------
        numpy.ndarray
            (n,) float64 for rates shared by the copies, (batch, n) for
            per-copy rates.
        """
        r = np.asarray(self.rate, dtype=np.float64)
        if r.ndim == 2:
            if batch is None or r.shape != (batch, n):
                want = "an unbatched network" if batch is None else f"({batch}, {n})"
                raise ValueError(f"rate has per-copy rates of shape {r.shape}, which do not fit {want} "
                                 f"(a population of {n})")
        elif r.ndim == 0:
            r = np.broadcast_to(r, (n,))
        elif r.shape != (n,):
            raise ValueError(f"rate must be a scalar or have shape ({n},), got {r.shape}")
        p = r * dt
        if p.size and p.max() > 1.0:
            raise ValueError(f"rate * dt must be <= 1 (at most one spike per step), got rate {r.max():g} Hz "
                             f"at dt = {dt:g} s")
        return np.array(p)


def is_source(neuron) -> bool:
    """True for the spike-source 'neuron' models."""
    return isinstance(neuron, (SpikeSource, PoissonSource))
