r"""Statistics of a population's spike trains: synchrony, Fano factor, the spectrum of its activity.

Each function takes a list of spike-time arrays (seconds), one per neuron, as
``Result.spike_times`` or ``NetworkResult.spike_times[pop]`` give them, and
the analysed window ``[t0, T)``.

References: D. Golomb (2007), Neuronal synchrony measures, *Scholarpedia*
2(1), 1347; N. Brunel (2000), *J. Comput. Neurosci.* 8, 183-208 (the
spectra of the population activity in the regimes of his model A).
"""

from __future__ import annotations

import numpy as np

from spikenet._validation import positive_float

__all__ = ["binned_counts", "fano_factor", "spectral_peak", "synchrony"]


def binned_counts(spike_times, T, dt_bin, t0=0.0) -> np.ndarray:
    """Spike counts of each neuron in bins of ``dt_bin`` over ``[t0, T)``: (n, n_bins) float64.

    Parameters
    ----------
    spike_times : list of ndarray
        Spike times (s) of each neuron.
    T, t0 : float
        End and start of the window (s).
    dt_bin : float
        Bin width (s); the window holds ``round((T - t0) / dt_bin)`` bins.
    """
    dt_bin = positive_float("dt_bin", dt_bin)
    n_bins = round((positive_float("T", T) - t0) / dt_bin)
    n = len(spike_times)
    if n == 0 or n_bins < 2:
        raise ValueError("spike_times must hold at least one neuron and T - t0 at least two bins")
    flat = []
    for i, s in enumerate(spike_times):
        b = np.floor((np.asarray(s, dtype=np.float64) - t0) / dt_bin).astype(np.int64)
        flat.append(i * n_bins + b[(b >= 0) & (b < n_bins)])
    return np.bincount(np.concatenate(flat), minlength=n * n_bins).reshape(n, n_bins).astype(np.float64)


def synchrony(spike_times, T, dt_bin=1e-3, t0=0.0) -> float:
    r"""Synchrony measure chi of a population (Golomb 2007): 1 when all neurons fire together.

    .. math::

        \chi^2 = \frac{\operatorname{Var}_t[A(t)]}{\frac{1}{N}\sum_i \operatorname{Var}_t[s_i(t)]},

    with ``s_i(t)`` the spike count of neuron ``i`` in bins of ``dt_bin`` and
    ``A(t)`` their mean over the ``N`` neurons.

    Returns
    -------
    float
        ``chi`` in [0, 1] (NaN without spikes): ``1 / sqrt(N)`` for
        independent neurons, 1 for identical spike trains.
    """
    counts = binned_counts(spike_times, T, dt_bin, t0)
    single = counts.var(axis=1).mean()
    if single == 0:
        return float("nan")
    return float(np.sqrt(counts.mean(axis=0).var() / single))


def fano_factor(spike_times, T, window=0.1, t0=0.0) -> float:
    """Mean over neurons of the Fano factor (variance / mean) of their spike counts in windows.

    Parameters
    ----------
    spike_times : list of ndarray
        Spike times (s) of each neuron.
    T, t0 : float
        End and start of the analysed interval (s).
    window : float
        Counting window (s).

    Returns
    -------
    float
        1 for Poisson trains, below 1 for regular ones, above 1 for bursty or
        slowly modulated ones; NaN if no neuron fired.
    """
    counts = binned_counts(spike_times, T, window, t0)
    mean = counts.mean(axis=1)
    active = mean > 0
    if not np.any(active):
        return float("nan")
    return float(np.mean(counts[active].var(axis=1) / mean[active]))


def spectral_peak(spike_times, T, dt_bin=1e-3, t0=0.0, f_min=5.0):
    """Frequency (Hz) and relative height of the largest peak of the population activity's spectrum.

    Parameters
    ----------
    spike_times : list of ndarray
        Spike times (s) of each neuron.
    T, t0 : float
        End and start of the analysed interval (s).
    dt_bin : float
        Bin of the population activity (s); frequencies up to ``1 / (2 dt_bin)``.
    f_min : float
        Lowest frequency considered (Hz), to skip slow drifts.

    Returns
    -------
    (float, float)
        The peak frequency in Hz and the peak's power over the mean power
        above ``f_min`` (about 1 for a flat, asynchronous spectrum; large for
        a population oscillation).
    """
    from scipy.signal import welch

    activity = binned_counts(spike_times, T, dt_bin, t0).sum(axis=0)
    nper = min(activity.size, max(64, round(0.25 / dt_bin)))
    f, p = welch(activity - activity.mean(), fs=1.0 / dt_bin, nperseg=nper)
    keep = f >= f_min
    if not np.any(keep) or p[keep].mean() == 0:
        return float("nan"), float("nan")
    i = np.argmax(p[keep])
    return float(f[keep][i]), float(p[keep][i] / p[keep].mean())
