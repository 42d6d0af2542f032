"""``Network.set_delays``: new delays for a connection between runs.

Kept apart from :mod:`spikenet.sim.network`, which calls :func:`set_delays`.
Spikes already in flight keep the delay they were sent with: before the
rebuild, every spike of the connection's pre-synaptic population that has not
yet been read by the delivery of a connection from it is delivered here, into
the future-input ring (``dbuf``) of the receiving synapse group at the step
its old delay gives, and the population's spike ring is emptied, so that no
connection reads those spikes again with a new delay. Connections from that
population with short-term or spike-timing-dependent plasticity cannot be
delivered ahead like this (their state changes at delivery or arrival), so
they must have no spike in flight; a plastic connection's pre traces are
kept (moved to one per synapse when it gets per-synapse delays).
"""

from __future__ import annotations

import numpy as np

from spikenet._validation import whole_steps


def new_layout(net, c, delay):
    """The delay fields of connection ``c`` for ``delay`` (validated as ``connect`` does).

    Returns ``(weights, delay_steps, syn_delay, dense_delay)``.
    """
    from spikenet.sim.network import _is_sparse, _Sparse, _synapse_delays

    kind, w = c.weights
    if c.syn_delay is not None and c.dense_delay:  # dense weights stored as a full sparse pattern
        dense = np.zeros(w.shape)
        dense[w.indices, np.repeat(np.arange(w.shape[1]), np.diff(w.indptr))] = w.data
        given = ("dense", dense)
    else:
        given = (kind, w)
    if not (_is_sparse(delay) or np.ndim(delay) > 0):
        return given, whole_steps("delay", delay, net.dt, allow_zero=True), None, False
    wt_syn, steps, dense = _synapse_delays(delay, given, net.dt)
    if steps.size == 0 or np.all(steps == steps[0]):
        return given, int(steps[0]) if steps.size else 0, None, False
    low = int(steps.min())
    assert isinstance(wt_syn[1], _Sparse)
    return wt_syn, low, steps - low, dense


def _pending(net, bd, K):
    """Spikes in the ring not yet read by every reader: list of (lane, step, source, neuron) arrays."""
    n_ring = bd["ring_idx"].shape[1]
    out = []
    for ks in range(max(K - n_ring, 0), K):
        slot = ks % n_ring
        for ln in range(bd["ring_cnt"].shape[0]):
            for s in range(bd["ring_cnt"].shape[2]):
                cnt = int(bd["ring_cnt"][ln, slot, s])
                if cnt:
                    j = bd["ring_idx"][ln, slot, bd["src_off"][s]:bd["src_off"][s] + cnt]
                    out.append((ln, ks, s, np.asarray(j, dtype=np.int64)))
    return out


def _row_targets(bd, ci, j, T):
    """Post neurons, stored weights and excess delays (steps) of the synapses of pre neuron ``j``."""
    from spikenet.sim.kernels.layout import CONN_DENSE, CONN_SPARSE_DELAYED, CONN_SPARSE_UNIFORM

    conn = bd["conn"]
    kind, doff, npost, ptr = (int(conn[k][ci]) for k in ("kind", "data", "npost", "ptr"))
    if kind == CONN_DENSE:
        return np.arange(npost), bd["w_dense"][doff + j * npost:doff + (j + 1) * npost], np.zeros(npost, int)
    e0, e1 = int(bd["w_cut"][0, ptr + j]), int(bd["w_cut"][T, ptr + j])
    post = bd["w_idx"][e0:e1].astype(np.int64)
    if kind == CONN_SPARSE_UNIFORM:
        return post, np.full(post.size, bd["w_dense"][doff]), np.zeros(post.size, int)
    exc = bd["w_sdelay"][e0 + doff:e1 + doff] if kind == CONN_SPARSE_DELAYED else np.zeros(post.size)
    return post, bd["w_sdata"][e0 + doff:e1 + doff], np.asarray(exc, dtype=np.int64)


def set_delays(net, conn, delay):
    """Give connection ``conn`` the delays ``delay`` (see :meth:`Network.set_delays`)."""
    from spikenet.sim.network import Connection, _is_stdp
    from spikenet.sim.stp import TsodyksMarkram

    if not isinstance(conn, Connection):
        raise TypeError(f"conn must be a Connection returned by connect, got {type(conn).__name__}")
    if conn._net is not net:
        raise ValueError("conn belongs to another Network")
    ci = conn._index
    net._sync_plastic_weights()
    c = net._conns[ci]
    layout = new_layout(net, c, delay)
    bd = net._built
    K = net._step
    if bd is None or K == 0:
        # nothing in flight (before the first run, or after reset()): as if connected so
        if bd is None:
            c.weights, c.delay_steps, c.syn_delay, c.dense_delay = layout
        else:
            _rebuild(net, c, layout, [], 0, None)
        return
    if _is_stdp(c) and net.batch is not None:
        raise ValueError("conn: the copies of a batch have learnt their own weights; the delays of a plastic "
                         "connection in a batched network cannot be changed after a run")
    if _is_stdp(c) and c.syn_delay is not None and layout[2] is None:
        # one delay for all, but the synapses' pre traces differ: keep them per synapse (excess 0)
        layout = (c.weights, layout[1], np.zeros(c.syn_delay.size, np.uint16), c.dense_delay)
    T = int(bd["n_parts"])
    src = c.src
    deposits = []  # (copy, group key, post neuron, step, stored value)
    for ln, ks, s, js in _pending(net, bd, K):
        if s != src:
            continue
        for cj, c2 in enumerate(net._conns):
            if c2.src != src:
                continue
            plastic = _is_stdp(c2) or isinstance(c2.plasticity, TsodyksMarkram)
            reads = ks + 1 + c2.delay_steps  # the step at which the delivery loop reads the spike
            if _is_stdp(c2) and c2.syn_delay is not None:  # the last arrival's step, which delivers it
                reads = ks + c2.delay_steps + int(c2.syn_delay.max())
            if plastic and reads >= K:
                raise ValueError(f"conn: spikes of {net.populations[src].name!r} are in flight to a plastic "
                                 f"connection (into {c2.post.name!r}); the delays of connections from a "
                                 "population with plastic outputs change only when none is in flight (before "
                                 "the first run, after reset(), or after the population was silent for the "
                                 "longest delay)")
            if plastic or reads < K:
                continue  # delivered already (into the stage, or the future-input ring)
            for j in js:
                post, w, exc = _row_targets(bd, cj, int(j), T)
                b = ln if T == 1 else 0
                key = (c2.post.index, c2.synapse)
                deposits.extend((b, key, int(i), reads + int(x), float(v)) for i, v, x in zip(post, w, exc))
    _rebuild(net, c, layout, deposits, K, src)


def _rebuild(net, c, layout, deposits, K, src):
    """Give ``c`` its new ``layout`` and rebuild, keeping the state.

    The spike ring and the future inputs move to their new slots; the spikes
    of source ``src`` (delivered ahead as ``deposits``) leave the ring. On an
    error (e.g. a delay the network cannot take) nothing changes.
    """
    from spikenet.sim.network import _STATE_KEYS

    old = net._built
    saved = (c.weights, c.delay_steps, c.syn_delay, c.dense_delay, net._dbuf_force)
    old_doff, old_nd = _dbuf_blocks(net, old)
    if K > 0:  # future-input rings for the deposits, as long as the old ones at least
        keys = {key for _, key, _, _, _ in deposits} | set(old_doff) | net._dbuf_force[0]
        need = max([a - K + 1 for _, _, _, a, _ in deposits], default=1)
        net._dbuf_force = (keys, max(need, old_nd, net._dbuf_force[1]))
    c.weights, c.delay_steps, c.syn_delay, c.dense_delay = layout
    net._built = None
    try:
        net._build()
    except Exception:
        c.weights, c.delay_steps, c.syn_delay, c.dense_delay, net._dbuf_force = saved
        net._built = old
        raise
    new = net._built
    for key in _STATE_KEYS:
        if key in ("ring_idx", "ring_cnt", "pl_off_ring", "dbuf"):
            continue
        if not isinstance(old[key], np.ndarray) or np.shape(old[key]) == np.shape(new[key]):
            new[key] = old[key]
    # spike ring and plasticity offsets: the steps still needed, in their new slots
    n_o, n_n = old["ring_idx"].shape[1], new["ring_idx"].shape[1]
    for ks in range(max(K - n_o, K - n_n + 1, 0), K):
        so, sn = ks % n_o, ks % n_n
        new["ring_idx"][:, sn] = old["ring_idx"][:, so]
        new["ring_cnt"][:, sn] = old["ring_cnt"][:, so]
        if new["pl_off_ring"].shape[1] == n_n and old["pl_off_ring"].shape[1] == n_o:
            new["pl_off_ring"][:, sn] = old["pl_off_ring"][:, so]
    # future inputs of the per-synapse-delay rings, and the spikes delivered ahead
    new_doff, new_nd = _dbuf_blocks(net, new)
    pops = {p.index: p for p in net.populations}
    for key, o in old_doff.items():
        n = pops[key[0]].n
        for a in range(K, K + old_nd):
            so, sn = a % old_nd, a % new_nd
            new["dbuf"][:, new_doff[key] + sn * n:new_doff[key] + (sn + 1) * n] = \
                old["dbuf"][:, o + so * n:o + (so + 1) * n]
    for b, key, i, a, v in deposits:
        n = pops[key[0]].n
        new["dbuf"][b, new_doff[key] + (a % new_nd) * n + i] += v
    if src is not None:  # delivered above: no connection reads these spikes again
        new["ring_cnt"][:, :, src] = 0
    if K > 0 and new["plast_info"] is not None:
        _move_traces(net, old, new)


def _move_traces(net, old, new):
    """Pre traces of the plastic connections at their new places (per pre neuron, or per synapse)."""
    where = {int(row[0]): row for row in old["plast_info"]}
    for row in new["plast_info"]:
        ci = int(row[0])
        o, n_delayed, n_pre = int(where[ci][3]), int(row[8]), int(row[6])
        a = int(row[3])
        if int(where[ci][8]) == n_delayed:  # the same kind of traces
            w = net._conns[ci].weights[1]
            size = w.indices.size if n_delayed else n_pre
            take = np.arange(o, o + size)
        else:  # one trace per pre neuron -> one per synapse: each synapse starts from its neuron's
            w = net._conns[ci].weights[1]
            take = o + np.repeat(np.arange(n_pre), np.diff(w.indptr))
        new["pl_pre_tr"][:, a:a + take.size] = old["pl_pre_tr"][:, take]
        new["pl_pre_t"][:, a:a + take.size] = old["pl_pre_t"][:, take]


def _dbuf_blocks(net, bd):
    """``({(post index, synapse): offset in dbuf}, ring length)`` of a built network's future-input rings."""
    out = {}
    for g, key in enumerate(bd["grp_key"]):
        if bd["grp_doff"][g] >= 0:
            out[key] = int(bd["grp_doff"][g])
    nd = int(bd["with_delays"][0]) if bd["with_delays"] is not None else 1
    return out, nd
