"""Numba helpers that move spikes from per-neuron buffers into compact storage."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def gather_spikes(spk_t, spk_k, cnt, out_t, out_k):
    """Copy the first ``cnt[i]`` entries of row ``i`` of the buffers, row after row.

    Parameters
    ----------
    spk_t, spk_k : ndarray (N, cap)
        Spike times (s) and step indices per neuron.
    cnt : ndarray (N,) int64
        Valid entries per row (each ``<= cap``).
    out_t, out_k : ndarray (cnt.sum(),)
        Receive the spikes grouped by neuron, in row order.
    """
    pos = 0
    for i in range(cnt.shape[0]):
        for j in range(cnt[i]):
            out_t[pos] = spk_t[i, j]
            out_k[pos] = spk_k[i, j]
            pos += 1


@njit(cache=True)
def scatter_by_neuron(times, steps, neuron, out_t, out_k, cursor):
    """Append spikes to the per-neuron segments of the output, in the order given.

    Parameters
    ----------
    times, steps : ndarray (n_chunk_spikes,)
        Spike times (s) and step indices of one chunk.
    neuron : ndarray (n_chunk_spikes,) int
        Neuron of each spike.
    out_t, out_k : ndarray (n_spikes,)
        Output, grouped by neuron.
    cursor : ndarray (N,) int64
        Next free position of each neuron's segment in the output; advanced.
    """
    for s in range(times.shape[0]):
        i = neuron[s]
        c = cursor[i]
        out_t[c] = times[s]
        out_k[c] = steps[s]
        cursor[i] = c + 1


@njit(cache=True)
def merge_by_counts(times, steps, counts, lo, hi, pos, out_t, out_k, cursor):
    """Append one chunk's spikes of neurons ``lo:hi``, grouped by neuron, to their segments of the output.

    Parameters
    ----------
    times, steps : ndarray (n_chunk_spikes,)
        The chunk's spikes grouped by neuron (as :func:`gather_spikes` writes them).
    counts : ndarray (N,) int
        Spikes per neuron in the chunk.
    lo, hi : int
        The neurons to place.
    pos : int
        Index in ``times`` of the first spike of neuron ``lo`` (the spikes of
        neurons ``0:lo`` come before it).
    out_t, out_k : ndarray (n_spikes,)
        Output, grouped by neuron.
    cursor : ndarray (N,) int64
        Next free position of each neuron's segment in the output; advanced.

    Returns
    -------
    int
        Index in ``times`` of the first spike of neuron ``hi``.
    """
    for i in range(lo, hi):
        c = cursor[i]
        for _ in range(counts[i]):
            out_t[c] = times[pos]
            out_k[c] = steps[pos]
            c += 1
            pos += 1
        cursor[i] = c
    return pos
