"""Exchange spikes and recorded states with Neo/Elephant and Brian2.

- :func:`to_neo` (also ``Result.to_neo()`` and ``NetworkResult.to_neo()``)
  turns a run into a :class:`neo.Block`: spike trains with their interval and
  recorded states as analog signals with units, ready for Elephant's
  statistics and Neo's file formats.
- :func:`to_brian2` replays spikes in Brian2 as a ``SpikeGeneratorGroup``;
  :func:`from_brian2` reads a Brian2 ``SpikeMonitor`` back as spikenet's
  spike-time lists (one array per neuron, seconds), which every spikenet
  function and :mod:`spikenet.plot` accept.

Neo, quantities and Brian2 are optional: install them with
``pip install "spikenet[interop]"``. They are imported only when these
functions are called.

Examples
--------
>>> from spikenet.sim import LIF, simulate
>>> res = simulate(LIF(), [1.5, 3.0], T=0.5, record=("spikes", "v"))
>>> block = res.to_neo(neuron=LIF())                       # doctest: +SKIP
>>> import elephant.statistics as es                       # doctest: +SKIP
>>> es.mean_firing_rate(block.segments[0].spiketrains[1])  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from spikenet._sources import _is_network_result, _is_result, population_list, spike_groups
from spikenet._validation import positive_float

__all__ = ["from_brian2", "state_units", "to_brian2", "to_neo"]

_EXTRA_HINT = 'install the optional dependencies with: pip install "spikenet[interop]"'


def _require(module: str, what: str):
    """Import ``module`` or raise an ImportError naming the ``interop`` extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(f"{what} needs the package {module.split('.')[0]!r}; {_EXTRA_HINT}") from exc


def state_units(neuron, state: str) -> str:
    """Physical unit of a recorded state of a neuron model, as a ``quantities`` unit string.

    Parameters
    ----------
    neuron : LIF, HH, Izhikevich or AdEx
        The neuron model.
    state : str
        A state the model records: ``"v"``, ``"I_syn"``, ``"ref"`` (LIF),
        ``"m"``, ``"h"``, ``"n"`` (HH), ``"u"`` (Izhikevich), ``"w"`` (AdEx).

    Returns
    -------
    str
        HH: ``"mV"`` for ``v``, ``"uA/cm**2"`` for ``I_syn``, ``"dimensionless"``
        for the gates. LIF: ``"dimensionless"`` for ``v`` (threshold 1, reset 0)
        and ``I_syn``, ``"s"`` for ``ref`` (remaining refractory time).
        Izhikevich: ``"mV"`` for ``v``, ``"mV/ms"`` for ``u``. AdEx: ``"mV"``
        for ``v``, ``"pA"`` for ``w``, ``"s"`` for ``ref``.
    """
    from spikenet.sim import AdEx, Izhikevich
    from spikenet.sim.neurons import HH, LIF

    if isinstance(neuron, HH):
        table = {"v": "mV", "I_syn": "uA/cm**2", "m": "dimensionless", "h": "dimensionless",
                 "n": "dimensionless"}
    elif isinstance(neuron, LIF):
        table = {"v": "dimensionless", "I_syn": "dimensionless", "ref": "s"}
    elif isinstance(neuron, Izhikevich):
        table = {"v": "mV", "u": "mV/ms"}  # u enters dv/dt (mV/ms) like the paper's drive
    elif isinstance(neuron, AdEx):
        table = {"v": "mV", "w": "pA", "ref": "s"}
    else:
        raise TypeError(f"neuron must be an LIF, HH, Izhikevich or AdEx model, got {type(neuron).__name__}")
    if state not in table:
        raise ValueError(f"state must be one of {sorted(table)} for {type(neuron).__name__}, got {state!r}")
    return table[state]


def _signals(data, neuron):
    """Recorded states as ``(name, values (steps, [B,] k), neuron indices, units)``."""
    out = []
    if _is_network_result(data):
        for pop in data.populations:
            for state in pop.state_names:
                try:
                    values = data[pop, state]
                except KeyError:  # not recorded
                    continue
                ids = np.asarray(data.record_indices(pop, state))
                out.append((f"{pop.name}.{state}", values, ids, state_units(pop.neuron, state)))
        return out
    if data.recorded and neuron is None:
        raise ValueError(f"this Result recorded {list(data.recorded)}: pass neuron= (the model given to "
                         "simulate, e.g. LIF() or HH()) so that each state gets its unit")
    for state in data.recorded:
        out.append((state, getattr(data, state), np.arange(data.shape[-1]), state_units(neuron, state)))
    return out


def to_neo(result, neuron=None):
    """Convert a simulation result into a :class:`neo.Block`.

    Parameters
    ----------
    result : Result or NetworkResult
        Output of :func:`~spikenet.sim.simulate` or :meth:`~spikenet.sim.Network.run`.
    neuron : LIF, HH, Izhikevich or AdEx, optional
        For a ``Result`` that recorded states: the model given to ``simulate``,
        which sets the units of the states (a ``Result`` does not store it).
        Not used for a ``NetworkResult``, whose populations know their model.

    Returns
    -------
    neo.Block
        One :class:`neo.Segment` per batch copy (one without a batch), holding

        - ``spiketrains``: one :class:`neo.SpikeTrain` per neuron, times in s,
          ``t_start``/``t_stop`` the simulated interval, annotated with
          ``population`` (None for a ``Result``), ``neuron`` (index) and
          ``batch``;
        - ``analogsignals``: one :class:`neo.AnalogSignal` per recorded state
          (and population), shape (steps, k), ``sampling_period`` = ``dt``,
          ``t_start`` = the time of the first row, units from the model
          (:func:`state_units`), the neuron indices in the array annotation
          ``neuron``.

    Raises
    ------
    ImportError
        If neo or quantities is missing (install ``spikenet[interop]``).
    """
    neo = _require("neo", "to_neo")
    pq = _require("quantities", "to_neo")
    if _is_network_result(result):
        n_batch = result.batch
    elif _is_result(result):
        n_batch = result.shape[0] if len(result.shape) == 2 else None
    else:
        raise TypeError(f"result must be a Result or a NetworkResult, got {type(result).__name__}")
    signals = _signals(result, neuron)
    block = neo.Block(name="spikenet run")
    pops = population_list(result, None) if _is_network_result(result) else [None]
    for b in range(n_batch or 1):
        seg = neo.Segment(name=f"batch {b}" if n_batch is not None else "run", index=b)
        for pop in pops:
            (g,) = spike_groups(result, pop, None if n_batch is None else b)
            for i, times in enumerate(g.spike_times):
                st = neo.SpikeTrain(np.asarray(times, dtype=float), units="s", t_start=g.t_start * pq.s,
                                    t_stop=g.t_stop * pq.s, name=f"{g.label}[{i}]" if g.label else f"[{i}]",
                                    population=g.label, neuron=i, batch=b)
                seg.spiketrains.append(st)
        t0 = (result.k_begin * result.dt) if _is_network_result(result) else 0.0
        for name, values, ids, units in signals:
            vals = values if n_batch is None else values[:, b, :]
            sig = neo.AnalogSignal(np.asarray(vals), units=units, sampling_period=result.dt * pq.s,
                                   t_start=t0 * pq.s, name=name, array_annotations={"neuron": ids})
            seg.analogsignals.append(sig)
        block.segments.append(seg)
    return block


def to_brian2(data, population=None, *, batch=None, dt=None, name="spikegeneratorgroup*"):
    """A Brian2 ``SpikeGeneratorGroup`` that replays the spikes of a run.

    Parameters
    ----------
    data : Result, NetworkResult or list of array_like
        The spikes (one 1-D array of times in seconds per neuron for a list).
    population : str or Population, optional
        For a ``NetworkResult``: the population whose spikes to replay (required there).
    batch : int, optional
        Which copy of a batched run (required for a batched run).
    dt : float, optional
        Time step (s) of the generator's clock; default the result's ``dt``
        (Brian2's default clock for plain lists).
    name : str
        Brian2 name of the group.

    Returns
    -------
    brian2.SpikeGeneratorGroup
        ``N`` = number of neurons; neuron ``i`` spikes at its spike times.
        Brian2 emits each spike on its own clock's grid, in the step that
        contains it (times are binned as ``int((t + 1e-3 dt) / dt)``), and
        refuses two spikes of one neuron in one step.
    """
    b2 = _require("brian2", "to_brian2")
    if _is_network_result(data) and (population is None or isinstance(population, (list, tuple))):
        raise ValueError("population must name one population of the NetworkResult")
    (g,) = spike_groups(data, population, batch)
    if dt is None and (_is_network_result(data) or _is_result(data)):
        dt = data.dt
    kw = {} if dt is None else {"dt": positive_float("dt", dt) * b2.second}
    n = len(g.spike_times)
    if n == 0:
        raise ValueError("data must hold at least one neuron")
    indices = np.repeat(np.arange(n), [len(t) for t in g.spike_times])
    times = np.concatenate([np.asarray(t, dtype=float) for t in g.spike_times])
    if times.size and times.min() < 0:
        raise ValueError("spike times must be >= 0 for Brian2")
    order = np.argsort(times, kind="stable")
    return b2.SpikeGeneratorGroup(n, indices[order], times[order] * b2.second, name=name, **kw)


def from_brian2(spike_monitor) -> list:
    """Spike times recorded by a Brian2 ``SpikeMonitor``, as spikenet's spike-time lists.

    Parameters
    ----------
    spike_monitor : brian2.SpikeMonitor
        A monitor after (or during) a run.

    Returns
    -------
    list of numpy.ndarray
        One sorted 1-D float64 array of spike times in seconds per neuron of
        the monitored group (empty arrays for silent neurons), the layout of
        ``Result.spike_times``.
    """
    b2 = _require("brian2", "from_brian2")
    if not isinstance(spike_monitor, b2.SpikeMonitor):
        raise TypeError(f"spike_monitor must be a brian2.SpikeMonitor, got {type(spike_monitor).__name__}")
    n = len(spike_monitor.source)
    idx = np.asarray(spike_monitor.i[:], dtype=np.int64)
    times = np.asarray(spike_monitor.t[:] / b2.second, dtype=np.float64)
    order = np.lexsort((times, idx))
    idx, times = idx[order], times[order]
    bounds = np.searchsorted(idx, np.arange(n + 1))
    return [times[bounds[i]:bounds[i + 1]].copy() for i in range(n)]
