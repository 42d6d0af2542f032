"""Turn the inputs of the plotting and interop helpers into plain spike and state arrays.

:mod:`spikenet.plot` and :mod:`spikenet.interop` accept a
:class:`~spikenet.sim.Result`, a :class:`~spikenet.sim.NetworkResult` with
one or more populations, or plain lists of spike-time arrays; this module
reads each of them the same way and checks the arguments once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spikenet._validation import finite_array, positive_int


@dataclass
class SpikeGroup:
    """Spikes of one group of neurons (a population, or all neurons of a ``Result``).

    Attributes
    ----------
    label : str or None
        Population name (None for a ``Result`` or plain lists).
    spike_times : list of numpy.ndarray
        One 1-D array of spike times (s) per neuron.
    t_start, t_stop : float or None
        Interval simulated, in seconds (None when unknown, for plain lists).
    neuron : object or None
        The neuron model of the group when known (``LIF`` or ``HH``).
    """

    label: str | None
    spike_times: list
    t_start: float | None
    t_stop: float | None
    neuron: object = None


def _is_result(data) -> bool:
    from spikenet.sim.results import Result

    return isinstance(data, Result)


def _is_network_result(data) -> bool:
    from spikenet.sim.network_results import NetworkResult

    return isinstance(data, NetworkResult)


def _pick_batch(lists, batched: bool, batch, n_batch):
    """Select copy ``batch`` of a batched run's spike lists (``batch`` required then)."""
    if not batched:
        if batch is not None:
            raise ValueError("batch must be None for a run without a batch axis")
        return lists
    if batch is None:
        raise ValueError(f"this run has a batch axis of {n_batch} copies: pass batch=INDEX to choose one")
    b = positive_int("batch", batch, allow_zero=True)
    if b >= n_batch:
        raise ValueError(f"batch must be < {n_batch} (the number of copies), got {b}")
    return lists[b]


def population_list(result, population):
    """Populations of a ``NetworkResult`` named by ``population`` (None: all of them)."""
    if population is None:
        return list(result.populations)
    if isinstance(population, (list, tuple)):
        if not population:
            raise ValueError("population must name at least one population")
        return [result._pop(p) for p in population]
    return [result._pop(population)]


def spike_groups(data, population=None, batch=None) -> list[SpikeGroup]:
    """Read the spikes of ``data`` as a list of :class:`SpikeGroup`.

    Parameters
    ----------
    data : Result, NetworkResult or list of array_like
        The spikes: a result of :func:`~spikenet.sim.simulate` or of
        :meth:`~spikenet.sim.Network.run`, or one 1-D array of spike times
        (s) per neuron.
    population : str, Population, sequence of them, or None
        For a ``NetworkResult``: which population(s); None means all. Must be
        None for other inputs.
    batch : int or None
        Which copy of a batched run (required for a batched run, else None).
    """
    if _is_network_result(data):
        pops = population_list(data, population)
        t0 = data.k_begin * data.dt
        n_batch = data.batch
        return [SpikeGroup(p.name, _pick_batch(data.spike_times[p], n_batch is not None, batch, n_batch),
                           t0, t0 + data.T, p.neuron) for p in pops]
    if population is not None:
        raise ValueError("population is only used with a NetworkResult; leave it None here")
    if _is_result(data):
        batched = len(data.shape) == 2
        lists = _pick_batch(data.spike_times, batched, batch, data.shape[0] if batched else None)
        return [SpikeGroup(None, lists, 0.0, data.T, None)]
    if isinstance(data, np.ndarray) and data.dtype != object:
        raise TypeError("data must be a Result, a NetworkResult or a list of 1-D spike-time arrays "
                        "(one per neuron), got a numeric ndarray; wrap one neuron's times as [times]")
    if not isinstance(data, (list, tuple)):
        raise TypeError("data must be a Result, a NetworkResult or a list of 1-D spike-time arrays, "
                        f"got {type(data).__name__}")
    if batch is not None:
        raise ValueError("batch is only used with a batched Result or NetworkResult; leave it None here")
    lists = [finite_array(f"spike_times[{i}]", t, ndim=1) for i, t in enumerate(data)]
    return [SpikeGroup(None, lists, None, None, None)]
