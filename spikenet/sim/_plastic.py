"""Network-side support of plastic connections: kernel arrays, weights in and out, weight recording.

Kept apart from :mod:`spikenet.sim.network` (which calls these helpers from
``_build`` and ``run``). The kernel side is :mod:`spikenet.sim.kernels.plasticity`.
"""

from __future__ import annotations

import numpy as np

from spikenet.sim.kernels.layout import CONN_DENSE, CONN_SPARSE_UNIFORM
from spikenet.sim.plasticity import PLASTICITY_RULES

# Arrays of the plasticity state kept across runs (traces, their times, spike offsets); zeroed by reset().
PLAST_STATE_KEYS = ("pl_pre_tr", "pl_pre_t", "pl_post_tr", "pl_post_t", "pl_off_ring")


def _scale(c) -> float:
    return c.synapse.input_scale


def excess_steps(c) -> int:
    """Steps beyond the shortest delay for which an STDP connection with per-synapse delays reads a spike."""
    if c.syn_delay is None or not isinstance(c.plasticity, PLASTICITY_RULES) or c.syn_delay.size == 0:
        return 0
    return int(c.syn_delay.max())


def weight_positions(bd, ci, c):
    """Where the weights of kernel connection ``ci`` are stored, in (post, pre) row-major synapse order.

    Returns ``(dense, pos, scale)``: ``dense`` True when they are in
    ``bd["w_dense"]`` (else ``bd["w_sdata"]``), ``pos`` (n_synapses,) int64
    positions (the order of ``W.ravel()`` for dense weights, of the CSR
    ``data`` of sparse ones), ``scale`` the factor of the stored values.
    """
    conn = bd["conn"]
    kind = int(conn["kind"][ci])
    doff = int(conn["data"][ci])
    w = c.weights[1]
    scale = _scale(c)
    if kind == CONN_DENSE:
        n_post, n_pre = w.shape
        i, j = np.divmod(np.arange(n_post * n_pre, dtype=np.int64), n_pre)
        return True, doff + j * n_post + i, scale
    if kind == CONN_SPARSE_UNIFORM:
        return True, np.full(w.indices.size, doff, dtype=np.int64), scale
    base = int(bd["w_cut"][0, conn["ptr"][ci]])
    order = np.argsort(w.indices, kind="stable")  # pre-major CSR -> post-major, pre sorted
    return False, base + doff + order.astype(np.int64), scale


def copy_values(bd, ci, c):
    """The current weights of plastic connection ``ci`` per batch copy: (copies, n), ``c.weights`` order.

    ``n`` is ``W.size`` (the order of ``W.ravel()``) for dense weights, the
    number of synapses (the order of the CSR ``data``) for sparse ones.
    """
    kind_w, w = c.weights
    B = int(bd["v"].shape[0])
    dense, pos, scale = weight_positions(bd, ci, c)
    stride = int(bd["plast_dl"][3][ci])
    arr = bd["w_dense"] if dense else bd["w_sdata"]
    vals = np.asarray(arr[pos[None, :] + stride * np.arange(B)[:, None]], dtype=np.float64) / scale
    if kind_w == "dense":
        return vals
    out = np.empty_like(vals)
    out[:, np.argsort(w.indices, kind="stable")] = vals
    return out


def tiled(c, values, copies, scale=1.0):
    """``values`` (one copy's weights of ``c`` in kernel order) for each of ``copies`` batch copies.

    A plastic connection of a batch keeps one set per copy (from
    ``c.copy_data`` after a run, else the shared ``values``); others one set.
    Dense blocks come scaled (``scale``, as the kernel stores them), sparse
    data unscaled.
    """
    if copies == 1 or not isinstance(c.plasticity, PLASTICITY_RULES):
        return values
    if c.copy_data is None:
        return np.tile(values, copies)
    kind_w, w = c.weights
    if kind_w == "dense":  # kernel order: pre-major rows of the transpose
        n_post, n_pre = w.shape
        return np.concatenate([np.ascontiguousarray(d.reshape(n_post, n_pre).T * scale).ravel()
                               for d in c.copy_data])
    return np.concatenate(list(c.copy_data))


def batch_view(net, ci, c, shared):
    """``(pre, post, weights, synapse, delay)`` of a plastic connection of a batch: weights per copy.

    Dense weights (also when given dense with per-synapse delays) are an
    array (batch, post.n, pre.n); sparse ones a list of one CSR matrix per copy.
    """
    pre, post, synapse, delay = shared
    kind_w, w = c.weights
    B = net.n_batch
    if net._built is not None:
        vals = copy_values(net._built, ci, c)
    elif c.copy_data is not None:
        vals = c.copy_data
    else:
        vals = np.broadcast_to(w.ravel() if kind_w == "dense" else w.data, (B, w.size if kind_w == "dense"
                                                                           else w.data.size))
    if kind_w == "dense":
        return pre, post, np.array(vals).reshape(B, *w.shape), synapse, delay
    mats = [type(w)(w.shape, w.indptr, w.indices, np.array(v)).to_scipy() for v in vals]
    if c.dense_delay:
        return pre, post, np.stack([m.toarray() for m in mats]), synapse, delay
    return pre, post, mats, synapse, delay


def current_weights(bd, ci, c):
    """The current weights of kernel connection ``ci`` as ``("dense", W)`` or ``("sparse", _Sparse)``."""
    kind_w, w = c.weights
    dense, pos, scale = weight_positions(bd, ci, c)
    arr = bd["w_dense"] if dense else bd["w_sdata"]
    vals = np.asarray(arr[pos], dtype=np.float64) / scale
    if kind_w == "dense":
        return ("dense", vals.reshape(w.shape))
    order = np.argsort(w.indices, kind="stable")
    data = np.empty_like(vals)
    data[order] = vals  # back to the pre-major order of the CSR of the transpose
    return ("sparse", type(w)(w.shape, w.indptr, w.indices, data))


def build(net, bd):
    """Add the plasticity arrays to the built network ``bd`` (static part and zeroed state).

    ``bd["plast_info"]`` is None when no connection is plastic. Pre traces
    are kept per lane (one copy per part of a split network), per pre neuron,
    or per synapse for a connection with per-synapse delays; post traces per
    batch copy and post neuron.
    """
    conns = net._conns
    plastic = [ci for ci, c in enumerate(conns) if isinstance(c.plasticity, PLASTICITY_RULES)]
    N = int(bd["N"])
    lanes, B = int(bd["lanes"]), int(bd["v"].shape[0])
    n_ring = bd["ring_idx"].shape[1]
    if not plastic:
        bd["plast_info"] = None
        for key, shape in zip(PLAST_STATE_KEYS, ((1, 1, 2), (1, 1), (1, 1, 2), (1, 1), (1, 1, 1))):
            bd[key] = np.zeros(shape)
        return
    info = np.zeros((len(plastic), 12), dtype=np.int64)
    par = np.zeros((len(plastic), 13))
    csc_ptr, csc_e, csc_j, dl_exc, dl_perm = [], [], [], [], []
    n_pre_tot = n_post_tot = n_ptr = n_csc = n_dl = 0
    cap = 1
    for p, ci in enumerate(plastic):
        c = conns[ci]
        scale = _scale(c)
        row = c.plasticity.kernel_params()
        lo, hi = row[8], row[9]
        par[p] = [*row[:8], lo * scale, hi * scale, row[10], row[11], scale]
        n_post, n_pre = c.post.n, c.n_pre
        kind_w, w = c.weights
        delayed = c.syn_delay is not None
        base = int(bd["w_cut"][0, bd["conn"]["ptr"][ci]]) if kind_w == "sparse" else 0
        n_x = int(c.syn_delay.max()) if delayed and c.syn_delay.size else 0
        n_tr = w.indices.size if delayed else n_pre  # traces per synapse or per pre neuron
        info[p] = (ci, c.src, c.post.index, n_pre_tot, n_post_tot, n_ptr, n_pre, n_post, delayed, base, n_dl,
                   n_x)
        n_pre_tot += n_tr
        n_post_tot += n_post
        cap = max(cap, 2 * (n_pre * (n_x + 1) + n_post))
        if kind_w == "sparse":
            order = np.argsort(w.indices, kind="stable")
            counts = np.bincount(w.indices, minlength=n_post)
            csc_ptr.append(n_csc + np.concatenate([[0], np.cumsum(counts)]))
            csc_e.append(base + order)
            csc_j.append(np.repeat(np.arange(n_pre, dtype=np.int64), np.diff(w.indptr))[order])
            n_ptr += n_post + 1
            n_csc += order.size
        if delayed:
            # each CSR row re-ordered by excess delay (stable: by post neuron within one delay)
            row_of = np.repeat(np.arange(n_pre, dtype=np.int64), np.diff(w.indptr))
            perm = np.lexsort((c.syn_delay, row_of))
            dl_exc.append(c.syn_delay[perm].astype(np.int64))
            dl_perm.append(base + perm)
            n_dl += perm.size

    def cat(xs):
        return np.concatenate(xs).astype(np.int64) if xs else np.zeros(1, np.int64)

    skip = np.zeros(len(conns), dtype=np.int64)
    skip[info[info[:, 8] != 0, 0]] = 1
    stride = np.zeros(len(conns), dtype=np.int64)  # batch: each copy's own weights
    if B > 1:
        for ci in plastic:
            kind_w, w = conns[ci].weights
            stride[ci] = w.size if kind_w == "dense" else w.data.size
    bd["plast_info"] = info
    bd["plast_par"] = par
    bd["plast_csc"] = (cat(csc_ptr), cat(csc_e), cat(csc_j))
    bd["plast_dl"] = (cat(dl_exc), cat(dl_perm), skip, stride)
    bd["plast_ev"] = (np.zeros((lanes, cap)), np.zeros((lanes, cap), dtype=np.int64))
    bd["pl_pre_tr"] = np.zeros((lanes, n_pre_tot, 2))
    bd["pl_pre_t"] = np.zeros((lanes, n_pre_tot))
    bd["pl_post_tr"] = np.zeros((B, n_post_tot, 2))
    bd["pl_post_t"] = np.zeros((B, n_post_tot))
    bd["pl_off_ring"] = np.zeros((B, n_ring, N))


def recording(net, bd, specs, steps, every):
    """Weight-recording layout for ``specs`` (kernel connection indices) over a run of ``steps`` steps.

    Returns ``(rec_w, rec_pos, rec_dense, rec_scale, cols)`` with ``cols``
    mapping each connection index to its column slice of ``rec_w`` (rows:
    one every ``every`` steps from the start of the run).
    """
    rows = -(-steps // every) if specs else 0
    pos, dense, scale, cols = [], [], [], {}
    n = 0
    for ci in specs:
        d, p, s = weight_positions(bd, ci, net._conns[ci])
        pos.append(p)
        dense.append(np.full(p.size, d, dtype=np.bool_))
        scale.append(np.full(p.size, s))
        cols[ci] = slice(n, n + p.size)
        n += p.size
    rec_w = np.zeros((rows, n))
    def cat(xs, dt):
        return np.concatenate(xs).astype(dt) if xs else np.zeros(0, dt)

    return rec_w, cat(pos, np.int64), cat(dense, np.bool_), cat(scale, np.float64), cols


def kernel_args(bd, rec, k_begin, every):
    """The kernel's ``plast`` argument (a PlastArgs); None when no connection is plastic or recorded."""
    rec_w, rec_pos, rec_dense, rec_scale, _ = rec
    if bd["plast_info"] is None and rec_pos.size == 0:
        return None
    from spikenet.sim.kernels.plasticity import PlastArgs

    lanes = int(bd["lanes"])
    if bd["plast_info"] is None:
        info, par = np.zeros((0, 12), dtype=np.int64), np.zeros((0, 13))
        csc = (np.zeros(1, np.int64),) * 3
        dl = (np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(len(bd["conn"]["src"]), np.int64),
              np.zeros(len(bd["conn"]["src"]), np.int64))
        ev = (np.zeros((lanes, 1)), np.zeros((lanes, 1), np.int64))
    else:
        info, par, csc, dl, ev = (bd["plast_info"], bd["plast_par"], bd["plast_csc"], bd["plast_dl"],
                                  bd["plast_ev"])
    return PlastArgs(info, par, bd["pl_pre_tr"], bd["pl_pre_t"], bd["pl_post_tr"], bd["pl_post_t"], *csc, *dl,
                     bd["pl_off_ring"], np.zeros((lanes, 2), dtype=np.int64), *ev, rec_w, rec_pos, rec_dense,
                     rec_scale, np.array([every, k_begin], dtype=np.int64))
