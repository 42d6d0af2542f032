"""A :class:`~spikenet.sim.connectivity.SynapseList` given to ``Network.connect``: every synapse kept.

``connect(pre, post, syn_list)`` keeps each synapse of the list with its own
weight and delay, multapses (several synapses between one pair) included: the
network's CSR of the transposed weights simply holds one entry per synapse
(pre-major, targets sorted, the synapses of one pair in the list's order).
"""

from __future__ import annotations

import numpy as np

from spikenet._validation import finite_array


def synapse_arrays(syn, n_post, n_pre, dt, max_steps):
    """The synapses of ``syn`` as pre-major CSR arrays and per-synapse delays in steps.

    Parameters
    ----------
    syn : SynapseList
        With ``weight`` (one per synapse); ``delay`` (s, one per synapse) or None.
    n_post, n_pre : int
        Sizes of the connected populations; ``syn.shape`` must be ``(n_post, n_pre)``.
    dt : float
        Time step (s): each delay is rounded to the nearest whole step.
    max_steps : int
        The largest delay in steps.

    Returns
    -------
    indptr : ndarray (n_pre + 1,) int64
    indices : ndarray (n_synapses,) int32
        Post-synaptic neuron of each synapse, sorted within each pre row.
    data : ndarray (n_synapses,) float64
        Weights.
    steps : ndarray (n_synapses,) uint16 or None
        Delays in steps, aligned with ``indices`` (None without ``syn.delay``).
    """
    if tuple(syn.shape) != (n_post, n_pre):
        raise ValueError(f"weights: the SynapseList has shape {tuple(syn.shape)}, the connection needs "
                         f"(post.n, pre.n) = ({n_post}, {n_pre})")
    pre = np.asarray(syn.pre)
    post = np.asarray(syn.post)
    if pre.ndim != 1 or post.shape != pre.shape or not (np.issubdtype(pre.dtype, np.integer)
                                                         and np.issubdtype(post.dtype, np.integer)):
        raise ValueError("weights: the SynapseList's pre and post must be 1-D integer arrays of one length")
    if pre.size and (pre.min() < 0 or pre.max() >= n_pre or post.min() < 0 or post.max() >= n_post):
        raise ValueError(f"weights: the SynapseList's neuron indices must lie in [0, {n_pre}) (pre) and "
                         f"[0, {n_post}) (post)")
    if syn.weight is None:
        raise ValueError("weights: the SynapseList has no weights (draw them with weight=)")
    w = finite_array("weights", syn.weight, ndim=1)
    if w.shape != pre.shape:
        raise ValueError(f"weights: the SynapseList needs one weight per synapse ({pre.size}), got {w.shape}")
    # the connection rules' order needs no sort; lexsort is stable: a pair's synapses keep the list's order
    order = slice(None) if _pre_major(pre, post) else np.lexsort((post, pre))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n_pre))]).astype(np.int64)
    indices = post[order].astype(np.int32)
    data = w[order]
    if syn.delay is None:
        return indptr, indices, data, None
    d = finite_array("delay", syn.delay, ndim=1)
    if d.shape != pre.shape:
        raise ValueError(f"delay: the SynapseList needs one delay per synapse ({pre.size}), got {d.shape}")
    if d.size and d.min() < 0:
        raise ValueError(f"delay must be >= 0 s, got {d.min():g}")
    steps = np.rint(d[order] / dt)
    if steps.size and steps.max() > max_steps:
        raise ValueError(f"delay: at most {max_steps} steps per synapse ({max_steps * dt:g} s at dt = "
                         f"{dt:g} s), got {d.max():g} s")
    return indptr, indices, data, steps.astype(np.uint16)


def _pre_major(pre, post) -> bool:
    """Whether the synapses are sorted by pre, then post (ties in any order)."""
    if pre.size < 2:
        return True
    dp = np.diff(pre)
    return bool(np.all(dp >= 0) and np.all((dp > 0) | (np.diff(post) >= 0)))


def same_entries(W, old):
    """The stored values of the scipy matrix ``W`` if it has exactly the entries of ``old``, else None.

    ``old`` is a connection's weights (the CSR of their transpose); unlike a
    conversion that adds up duplicate entries, this keeps every stored entry,
    in order, so that the weights of a SynapseList connection with multapses
    (as :attr:`~spikenet.sim.network.Connection.weights` returns them) can be
    given back to ``set_weights``.
    """
    csc = W.tocsc()  # stable: duplicate entries keep their order
    if not (np.array_equal(csc.indptr, old.indptr) and np.array_equal(csc.indices, old.indices)):
        return None
    return np.array(csc.data, dtype=np.float64)
