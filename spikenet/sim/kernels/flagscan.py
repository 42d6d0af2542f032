"""The scan of the event flags in the vectorised neuron passes.

The LIF passes (:func:`spikenet.sim.kernels.lif.lif_run` and the network
kernel) write one byte per neuron, 1 for a neuron that needs the scalar event
code this step, into a block's flag array padded to whole 8-byte words. A step
sets a few flags per block: :func:`next_word` finds the next word holding one,
testing four words (32 neurons) at a time.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, inline="always", no_cpython_wrapper=True, no_cfunc_wrapper=True)
def next_word(words, w, n):  # pragma: no cover - compiled
    """Index of the first nonzero word of ``words[w:n]``, or ``n`` if there is none.

    Parameters
    ----------
    words : ndarray (>= n,) uint64
        A block's event flags read as 8-byte words.
    w : int
        Where to start (``0 <= w``).
    n : int
        Words to look at (``n <= words.shape[0]``).

    Returns
    -------
    int
        The index, in ``[w, n]``.
    """
    while w + 4 <= n:
        if (words[w] | words[w + 1] | words[w + 2] | words[w + 3]) != 0:
            break
        w += 4
    while w < n:
        if words[w] != 0:
            return w
        w += 1
    return n
