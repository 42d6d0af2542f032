"""Figures of spikenet's results: rasters, traces, population rates, tuning curves, weights.

Each helper takes spikenet's objects directly (a :class:`~spikenet.sim.Result`,
a :class:`~spikenet.sim.NetworkResult` with a population, or plain arrays),
draws on the matplotlib axes given as ``ax=`` (or on new ones) and returns
those axes, so that figures are composed with the usual matplotlib calls.
Times are shown in seconds by default (``time_unit="ms"`` for milliseconds)
and every axis says its unit.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from spikenet import plot
>>> from spikenet.sim import LIF, simulate
>>> res = simulate(LIF(), [1.5, 3.0], T=0.2, record=("spikes", "v"))
>>> ax = plot.raster(res)
>>> ax = plot.voltage(res, units="dimensionless")
"""

from __future__ import annotations

import numbers
from pathlib import Path

import numpy as np

from spikenet._sources import _is_network_result, _is_result, population_list, spike_groups
from spikenet._validation import choice, finite_array, positive_float, positive_int

__all__ = ["image_grid", "population_rate", "raster", "save_figure", "tuning_curve", "voltage",
           "weight_distribution"]

_TIME_SCALE = {"s": 1.0, "ms": 1e3}


def _time_factor(time_unit) -> float:
    return _TIME_SCALE[choice("time_unit", time_unit, list(_TIME_SCALE))]


def _axes(ax):
    """``ax`` if it is a matplotlib ``Axes``, new axes if it is None; else raise."""
    from matplotlib.axes import Axes

    if ax is None:
        import matplotlib.pyplot as plt

        return plt.subplots()[1]
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _legend_outside(ax, **kw):
    """A legend to the right of the axes, so that it never covers data."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0, **kw)


def raster(data, population=None, *, batch=None, max_neurons=None, ax=None, time_unit="s",
           marker_size=2.0, colors=None):
    """Spike raster: one dot per spike at (time, neuron).

    Parameters
    ----------
    data : Result, NetworkResult or list of array_like
        Result of :func:`~spikenet.sim.simulate` or
        :meth:`~spikenet.sim.Network.run`, or one 1-D array of spike times (s)
        per neuron.
    population : str, Population, sequence of them, or None
        For a ``NetworkResult``: the population(s) to show, stacked from the
        bottom in the order given; None shows every population.
    batch : int, optional
        Which copy of a batched run to show (required for a batched run).
    max_neurons : int or sequence of int, optional
        Show only the first ``max_neurons`` neurons of each population (one
        number per population, or one for all).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; new axes if None.
    time_unit : {"s", "ms"}
        Unit of the time axis.
    marker_size : float
        Dot area in points^2.
    colors : sequence of color, optional
        One color per population (default: matplotlib's color cycle).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one scatter collection per population (x: spike
        time in ``time_unit``, y: neuron index, stacked over populations), a
        legend outside the axes when there are several populations.
    """
    factor = _time_factor(time_unit)
    groups = spike_groups(data, population, batch)
    if max_neurons is None:
        limits = [len(g.spike_times) for g in groups]
    elif isinstance(max_neurons, numbers.Integral):
        limits = [positive_int("max_neurons", max_neurons)] * len(groups)
    else:
        limits = [positive_int(f"max_neurons[{i}]", m) for i, m in enumerate(max_neurons)]
        if len(limits) != len(groups):
            raise ValueError(f"max_neurons must have one entry per population ({len(groups)}), "
                             f"got {len(limits)}")
    if colors is not None and len(colors) != len(groups):
        raise ValueError(f"colors must have one entry per population ({len(groups)}), got {len(colors)}")
    marker_size = positive_float("marker_size", marker_size)
    ax = _axes(ax)
    offset = 0
    for k, (g, limit) in enumerate(zip(groups, limits)):
        shown = g.spike_times[:limit]
        times = np.concatenate([np.asarray(t, dtype=float) for t in shown]) if shown else np.zeros(0)
        neurons = np.repeat(np.arange(len(shown)), [len(t) for t in shown])
        kw = {} if colors is None else {"color": colors[k]}
        ax.scatter(times * factor, neurons + offset, s=marker_size, marker="o", linewidths=0,
                   label=g.label, **kw)
        offset += len(shown)
    if groups[0].t_start is not None:
        ax.set_xlim(groups[0].t_start * factor, groups[0].t_stop * factor)
    ax.set_ylim(-0.5, max(offset, 1) - 0.5)
    ax.set_xlabel(f"time ({time_unit})")
    ax.set_ylabel("neuron")
    if len(groups) > 1:
        _legend_outside(ax, markerscale=4 / np.sqrt(marker_size) + 1)
    return ax


def _state_label(state, neuron, units):
    if units is not None:
        return f"{state} ({units})"
    if neuron is None:
        return state
    from spikenet.interop import state_units

    return f"{state} ({state_units(neuron, state)})"


def voltage(data, population=None, *, state="v", neurons=None, batch=None, ax=None, time_unit="s",
            units=None):
    """Recorded state traces (the membrane potential by default) against time.

    Parameters
    ----------
    data : Result or NetworkResult
        A run that recorded ``state`` (``record=("spikes", "v")`` for
        :func:`~spikenet.sim.simulate`, ``record={pop: ["v"]}`` for
        :meth:`~spikenet.sim.Network.run`).
    population : str or Population, optional
        For a ``NetworkResult``: the population (required there).
    state : str
        Recorded state to plot: ``"v"``, ``"I_syn"``, ``"ref"``, ``"m"``, ...
    neurons : sequence of int, optional
        Indices of the neurons to show (among the recorded ones); default all.
    batch : int, optional
        Which copy of a batched run (required for a batched run).
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; new axes if None.
    time_unit : {"s", "ms"}
        Unit of the time axis.
    units : str, optional
        Unit written on the y axis. For a ``NetworkResult`` it defaults to the
        population's model (HH: ``v`` in mV; LIF: ``v`` dimensionless, the
        threshold is 1); a ``Result`` does not know its model, so without
        ``units`` the axis shows the state name only.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one line per neuron (x: ``result.t`` in
        ``time_unit``, y: the state), labelled ``"neuron i"``.
    """
    factor = _time_factor(time_unit)
    if not isinstance(state, str):
        raise TypeError(f"state must be a str, got {type(state).__name__}")
    neuron = None
    if _is_network_result(data):
        if population is None or isinstance(population, (list, tuple)):
            raise ValueError("population must name one population of the NetworkResult")
        (pop,) = population_list(data, population)
        values = data[pop, state]
        ids = np.asarray(data.record_indices(pop, state))
        neuron = pop.neuron
        batched = data.batch is not None
    elif _is_result(data):
        if population is not None:
            raise ValueError("population is only used with a NetworkResult; leave it None here")
        if state not in data.recorded:
            raise ValueError(f"state {state!r} was not recorded (recorded: {list(data.recorded)}); "
                             f"pass record=('spikes', {state!r}) to simulate")
        values = getattr(data, state)
        batched = len(data.shape) == 2
        ids = np.arange(data.shape[-1])
    else:
        raise TypeError(f"data must be a Result or a NetworkResult, got {type(data).__name__}")
    if batched:
        if batch is None:
            raise ValueError("this run has a batch axis: pass batch=INDEX to choose a copy")
        b = positive_int("batch", batch, allow_zero=True)
        if b >= values.shape[1]:
            raise ValueError(f"batch must be < {values.shape[1]} (the number of copies), got {b}")
        values = values[:, b, :]
    elif batch is not None:
        raise ValueError("batch must be None for a run without a batch axis")
    if neurons is None:
        cols = np.arange(ids.size)
    else:
        wanted = np.atleast_1d(np.asarray(neurons))
        if wanted.dtype.kind not in "iu" or wanted.ndim != 1:
            raise TypeError("neurons must be a sequence of integer neuron indices")
        missing = np.setdiff1d(wanted, ids)
        if missing.size:
            raise ValueError(f"neurons {missing.tolist()} were not recorded (recorded: {ids.tolist()})")
        cols = np.array([int(np.flatnonzero(ids == i)[0]) for i in wanted])
    ax = _axes(ax)
    t = np.asarray(data.t) * factor
    for c in cols:
        ax.plot(t, values[:, c], lw=0.8, label=f"neuron {ids[c]}")
    ax.set_xlabel(f"time ({time_unit})")
    ax.set_ylabel(_state_label(state, neuron, units))
    return ax


def _binned_counts(group, t_start, t_stop, bin_width):
    edges = np.arange(t_start, t_stop, bin_width)
    edges = np.append(edges, t_stop) if edges[-1] < t_stop else edges
    times = np.concatenate([np.asarray(t, float) for t in group.spike_times]) if group.spike_times \
        else np.zeros(0)
    times = times[(times >= t_start) & (times < t_stop)]
    counts = np.histogram(times, bins=edges)[0]
    return edges, counts


def population_rate(data, population=None, *, bin_width=1e-3, smooth=None, batch=None, t_stop=None,
                    ax=None, time_unit="s", colors=None):
    """Population firing rate: spikes per neuron per second, in time bins, optionally smoothed.

    Parameters
    ----------
    data : Result, NetworkResult or list of array_like
        As for :func:`raster`.
    population : str, Population, sequence of them, or None
        For a ``NetworkResult``: the population(s), one curve each; None means all.
    bin_width : float
        Width of the time bins in seconds (the last bin may be shorter, to
        end at the end of the run).
    smooth : float, optional
        Standard deviation (s) of a Gaussian kernel applied to the binned
        rate; None draws the binned rate as steps, whose area times the
        number of neurons is the spike count.
    batch : int, optional
        Which copy of a batched run (required for a batched run).
    t_stop : float, optional
        End of the recording in seconds, needed for plain spike-time lists
        (which start at 0); results know their own interval.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; new axes if None.
    time_unit : {"s", "ms"}
        Unit of the time axis (rates are always in Hz).
    colors : sequence of color, optional
        One color per population (default: matplotlib's color cycle).

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: per population, a step patch (binned) or a line
        (smoothed, at the bin centres) of the rate in Hz.
    """
    factor = _time_factor(time_unit)
    bin_width = positive_float("bin_width", bin_width)
    if smooth is not None:
        smooth = positive_float("smooth", smooth)
    groups = spike_groups(data, population, batch)
    if colors is not None and len(colors) != len(groups):
        raise ValueError(f"colors must have one entry per population ({len(groups)}), got {len(colors)}")
    ax = _axes(ax)
    for k, g in enumerate(groups):
        kw = {} if colors is None else {"color": colors[k]}
        if g.t_start is None:
            if t_stop is None:
                raise ValueError("t_stop (s) is needed to bin plain spike-time lists")
            t0, t1 = 0.0, positive_float("t_stop", t_stop)
        else:
            if t_stop is not None:
                raise ValueError("t_stop is only used with plain spike-time lists; results know their end")
            t0, t1 = g.t_start, g.t_stop
        if not g.spike_times:
            raise ValueError("population_rate needs at least one neuron")
        if t1 <= t0:
            raise ValueError("the run has no steps (it was stopped before its first step): no rate to draw")
        edges, counts = _binned_counts(g, t0, t1, bin_width)
        rate = counts / (len(g.spike_times) * np.diff(edges))
        if smooth is None:
            ax.stairs(rate, edges * factor, label=g.label, **kw)
        else:
            from scipy.ndimage import gaussian_filter1d

            smoothed = gaussian_filter1d(rate, smooth / bin_width, mode="nearest")
            ax.plot(0.5 * (edges[1:] + edges[:-1]) * factor, smoothed, label=g.label, **kw)
    ax.set_xlabel(f"time ({time_unit})")
    ax.set_ylabel("population rate (Hz)")
    if len(groups) > 1:
        _legend_outside(ax)
    return ax


def tuning_curve(drive, rates, *, analytic=None, ax=None, label="simulated", drive_label="input J"):
    """Firing rate against drive: simulated points, with an optional analytic curve.

    Parameters
    ----------
    drive : array_like, shape (k,)
        Inputs (the units of the neuron model: dimensionless for LIF,
        uA/cm^2 for HH).
    rates : array_like, shape (k,) or (k, m), or Result
        Rates in Hz at each drive (``m`` curves for ``m`` columns), or the
        :class:`~spikenet.sim.Result` of ``simulate(neuron, drive, T)``,
        whose :meth:`~spikenet.sim.Result.rates` are used.
    analytic : callable or neuron model, optional
        ``analytic(J)`` in Hz, or a model with a ``rate(J)`` method (e.g.
        :class:`~spikenet.sim.LIF`); drawn as a line over the drive's range.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; new axes if None.
    label : str
        Legend label of the simulated points.
    drive_label : str
        Label of the x axis.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: markers at ``(drive, rates)`` and, with
        ``analytic``, a line of 500 points.
    """
    drive = finite_array("drive", drive, ndim=1)
    if _is_result(rates):
        rates = rates.rates()
    rates = finite_array("rates", rates, ndim=(1, 2))
    if rates.shape[0] != drive.size:
        raise ValueError(f"rates must have one row per drive value ({drive.size}), got shape {rates.shape}")
    if analytic is not None:
        f = analytic.rate if hasattr(analytic, "rate") else analytic
        if not callable(f):
            raise TypeError("analytic must be callable or have a rate(J) method")
    ax = _axes(ax)
    if analytic is not None:
        J = np.linspace(drive.min(), drive.max(), 500)
        ax.plot(J, np.asarray(f(J), dtype=float), color="0.3", lw=1.2, label="analytic", zorder=1)
    ax.plot(drive, rates, "o", ms=4, label=label, zorder=2)
    ax.set_xlabel(drive_label)
    ax.set_ylabel("firing rate (Hz)")
    if analytic is not None:
        ax.legend(loc="upper left")
    return ax


def weight_distribution(weights, *, bins=50, include_zeros=False, ax=None, label=None):
    """Histogram of the entries of a weight matrix, dense or sparse.

    Parameters
    ----------
    weights : array_like or scipy.sparse matrix
        Weights (the units of the connection: a jump of the input per spike).
        For a sparse matrix the stored entries are counted; for a dense one
        the entries that are not zero, unless ``include_zeros``.
    bins : int or sequence of float
        As for :func:`numpy.histogram`.
    include_zeros : bool
        Count the zero entries of a dense matrix (absent connections) too.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; new axes if None.
    label : str, optional
        Legend label of the histogram.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one bar per bin, its height the number of weights
        in the bin.
    """
    import scipy.sparse as sp

    if sp.issparse(weights):
        values = finite_array("weights", weights.tocoo().data, ndim=1)
    else:
        if hasattr(weights, "detach"):  # a torch tensor
            weights = weights.detach().cpu().numpy()
        values = finite_array("weights", weights).ravel()
        if not include_zeros:
            values = values[values != 0]
    if values.size == 0:
        raise ValueError("weights has no entries to show (all zero?); pass include_zeros=True to count zeros")
    if not isinstance(bins, numbers.Integral):
        bins = finite_array("bins", bins, ndim=1)
    else:
        bins = positive_int("bins", bins)
    ax = _axes(ax)
    ax.hist(values, bins=bins, label=label)
    ax.set_xlabel("weight")
    ax.set_ylabel("number of synapses")
    return ax


def image_grid(images, shape=(8, 8), *, ncols=None, pad=1, crop=False, ax=None, cmap="gray_r", vmin=0.0,
               vmax=1.0):
    """Small images (e.g. the 8x8 digits) tiled row by row, one background pixel between tiles.

    Parameters
    ----------
    images : array_like, shape (k, h * w) or (k, h, w)
        The images (a torch tensor is accepted), pixel values in
        ``[vmin, vmax]``.
    shape : tuple of int
        ``(h, w)`` of one image, used for flat rows.
    ncols : int, optional
        Tiles per row; default the smallest ``c`` with ``c * c >= k``. Unused
        cells stay background.
    pad : int
        Background pixels between neighbouring tiles, the same both ways
        (0 puts tiles edge to edge).
    crop : bool
        Drop the outer rows and columns that are background in every image
        (all pixels within 2 % of the range above ``vmin``), such as the
        blank first column of every 8x8 digit, so that only ``pad`` separates
        the tiles.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; new axes if None.
    cmap : str
        Colormap; the background is ``vmin`` (white for ``"gray_r"``).
    vmin, vmax : float
        Pixel values mapped to the two ends of the colormap.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on: one image of ``rows * (h + pad) - pad`` by
        ``ncols * (w + pad) - pad`` pixels, axis lines off.
    """
    if hasattr(images, "detach"):  # a torch tensor
        images = images.detach().cpu().numpy()
    h, w = (positive_int("shape[0]", shape[0]), positive_int("shape[1]", shape[1]))
    imgs = finite_array("images", images, ndim=(2, 3))
    if imgs.ndim == 2:
        if imgs.shape[1] != h * w:
            raise ValueError(f"images must have h * w = {h * w} columns for shape={shape}, got {imgs.shape}")
        imgs = imgs.reshape(-1, h, w)
    k = imgs.shape[0]
    if k == 0:
        raise ValueError("images must hold at least one image")
    ncols = int(np.ceil(np.sqrt(k))) if ncols is None else positive_int("ncols", ncols)
    pad = positive_int("pad", pad, allow_zero=True)
    vmin, vmax = float(finite_array("vmin", vmin, ndim=0)), float(finite_array("vmax", vmax, ndim=0))
    if crop:
        ink = np.max(imgs, axis=0) > vmin + 0.02 * (vmax - vmin)
        rows_in, cols_in = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        if rows_in.size:
            imgs = imgs[:, rows_in[0]:rows_in[-1] + 1, cols_in[0]:cols_in[-1] + 1]
    h, w = imgs.shape[1:]
    rows = -(-k // ncols)
    canvas = np.full((rows * (h + pad) - pad, ncols * (w + pad) - pad), vmin)
    for i in range(k):
        r, c = divmod(i, ncols)
        canvas[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = imgs[i]
    ax = _axes(ax)
    ax.imshow(canvas, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_axis_off()
    return ax


def save_figure(fig, path, *, quick=False, dpi=100):
    """Lay out, save and close a figure; a quick run says so in the figure's title.

    The figure gets a tight layout unless it already has a layout engine
    (e.g. ``plt.subplots(layout="constrained")``).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    path : str or pathlib.Path
        Where to write it (the format follows the suffix, e.g. ``.png``).
    quick : bool
        The figure comes from a shortened run (``--quick``): append
        ``"(quick run)"`` to its suptitle, or add one.
    dpi : float
        Resolution in dots per inch.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    path = Path(path)
    if quick:
        if hasattr(fig, "get_suptitle"):  # matplotlib >= 3.8
            old = fig.get_suptitle()
        else:
            old = fig._suptitle.get_text() if fig._suptitle is not None else ""
        fig.suptitle(f"{old} (quick run)" if old else "(quick run: shortened, numbers not representative)",
                     fontsize="medium" if old else "small")
    if fig.get_layout_engine() is None:  # a figure with its own layout engine keeps it
        fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path
