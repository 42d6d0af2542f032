r"""Conductance synapses in the network kernel: the update of populations that receive them.

A population that receives at least one :class:`~spikenet.sim.Conductance`
synapse is updated here instead of by the LIF or HH pass of the network
kernel (see :func:`cond_population`); the network kernel calls it only when
its ``cond`` argument is not None, so networks without conductances compile
none of this code. The synaptic stages of these populations (current-based
PSC filters and conductances alike) are advanced here too, exactly, by their
propagator.

LIF
---
With conductances the normalised LIF is linear in ``v`` with time-varying
coefficients,

.. math::

    \tau_m \dot v = S(t) - G(t)\, v, \qquad G = 1 + \sum_k g_k(t), \qquad
    S = J + I(t) + \sum_k g_k(t) E_k,

where ``I`` is the current of the PSC synapses and every ``g_k`` and ``I`` is
a known combination of ``e^{-t/\tau}(t/\tau)^m`` within a step (the input
spikes arrive at its start). With ``\Phi(t) = \int_0^t G / \tau_m``, which is
known in closed form (incomplete gamma functions), the solution is

.. math::

    v(t) = v(0) e^{-\Phi(t)} + \int_0^t e^{-(\Phi(t) - \Phi(u))} S(u) \, du / \tau_m .

The homogeneous part is exact; the integral is evaluated by 2-point
Gauss-Legendre quadrature over the step, whose integrand is smooth (a
product of exponentials), so the scheme is of 4th order in ``dt`` (local
error O(dt^5)). The nodes' propagator coefficients are precomputed per
synapse group, so a step costs three exponentials per neuron.

Threshold crossings are found from the end-of-step voltage, as for the
current-based LIF; the spike time inside the step is then the root of
``v(t) = v_th``, found by safeguarded Newton iterations on the same
solution (4-point Gauss-Legendre over ``[start, t]``), to 1e-12 of the step.
The refractory period runs in continuous time from the spike (``v`` clamped
at ``v_reset``); a neuron whose refractory period ends inside a step
integrates the rest of it from ``v_reset`` with the same formula. As in the
LIF pass, a neuron spikes at most once per step: a second crossing within
the step of a spike is deferred to the next step (``v`` capped at ``v_th``).

HH
--
Each step calls the HH scheme of :mod:`spikenet.sim.kernels.hh` (gates by
exponential Euler, then ``v`` exact with the gates frozen) with the
conductances averaged exactly over the step folded into the leak:
``g_l' = g_l + sum g_k``, ``e_l' = (g_l e_l + sum g_k E_k) / g_l'``, so the
voltage relaxes exactly towards the conductance-weighted mean of the
reversal potentials and never passes the outermost one.
"""

from __future__ import annotations

import math

from numba import njit

from spikenet.sim.kernels.hh import hh_step

_HELPER = {"cache": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}

# Population modes (CondArgs.pop_mode) and group kinds (CondArgs.grp_kind).
MODE_NONE = 0
MODE_LIF = 1
MODE_HH = 2
KIND_CURRENT = 0
KIND_COND = 1
KIND_SKIP = 2  # Delta groups: handled by the jump pass, no continuous input
# Rows of the per-lane work array: Phi at the two nodes and at the step's
# end, the drive S at the two nodes, and the start-of-step voltage.
N_WORK = 6


@njit(**_HELPER)
def _gamma_val(y, m):  # pragma: no cover - compiled
    """``e^{-y} y^m / m!``: stage ``n - m`` of a cascade seen at the last stage, ``y = t / tau``."""
    c = math.exp(-y)
    for i in range(1, m + 1):
        c *= y / i
    return c


@njit(**_HELPER)
def _gamma_int(y, m):  # pragma: no cover - compiled
    """``int_0^y e^{-u} u^m / m! du = 1 - e^{-y} sum_{i <= m} y^i / i!``, accurate for small ``y``."""
    if m == 0:
        return -math.expm1(-y)
    if y < 1.0:
        # e^{-y} sum_{i > m} y^i / i!: no cancellation
        term = 1.0
        for i in range(1, m + 2):
            term *= y / i
        total = 0.0
        for i in range(m + 2, m + 80):
            total += term
            term *= y / i
            if term <= 1e-17 * total:
                break
        return math.exp(-y) * total
    term = 1.0
    total = 1.0
    for i in range(1, m + 1):
        term *= y / i
        total += term
    return 1.0 - math.exp(-y) * total


@njit(**_HELPER)
def _syn_at(s, p, i, n, stb, grp_post, grp_nst, grp_off, kind, erev, tau):  # pragma: no cover - compiled
    """Synaptic quantities of neuron ``i`` of population ``p`` at time ``s`` after the step's start.

    ``stb`` is the copy's stage array at the start of the step. Returns
    ``(int_0^s sum_k g_k, sum_k g_k(s), I(s) + sum_k g_k(s) E_k)``.
    """
    ig = 0.0
    gs = 0.0
    drive = 0.0
    for g in range(grp_post.shape[0]):
        if grp_post[g] != p or kind[g] == KIND_SKIP:
            continue
        nst = grp_nst[g]
        tg = tau[g]
        y = s / tg
        val = 0.0
        integ = 0.0
        for j in range(nst):
            x = stb[grp_off[g] + j * n + i]
            if x == 0.0:
                continue
            m = nst - 1 - j
            val += x * _gamma_val(y, m)
            if kind[g] == KIND_COND:
                integ += x * tg * _gamma_int(y, m)
        if kind[g] == KIND_COND:
            ig += integ
            gs += val
            drive += erev[g] * val
        else:
            drive += val
    return ig, gs, drive


@njit(**_HELPER)
def _v_interval(
    va, a, bnd, jc, tau_m, p, i, n, stb, grp_post, grp_nst, grp_off, kind, erev, tau, rx, rw
):  # pragma: no cover - compiled
    """Voltage at ``bnd`` of LIF neuron ``i``, free from ``a`` on (local times in the step), ``v(a) = va``."""
    if bnd <= a:
        return va
    ig_b, _, _ = _syn_at(bnd, p, i, n, stb, grp_post, grp_nst, grp_off, kind, erev, tau)
    ig_a, _, _ = _syn_at(a, p, i, n, stb, grp_post, grp_nst, grp_off, kind, erev, tau)
    phi_b = (bnd + ig_b) / tau_m
    h = bnd - a
    acc = 0.0
    for q in range(rx.shape[0]):
        u = a + h * rx[q]
        ig, _, dr = _syn_at(u, p, i, n, stb, grp_post, grp_nst, grp_off, kind, erev, tau)
        acc += rw[q] * math.exp((u + ig) / tau_m - phi_b) * (jc + dr)
    return va * math.exp((a + ig_a) / tau_m - phi_b) + acc * h / tau_m


@njit(**_HELPER)
def _crossing(
    vs, start, v_end, dt, jc, tau_m, v_th, p, i, n, stb, grp_post, grp_nst, grp_off, kind, erev, tau, rx, rw
):  # pragma: no cover - compiled
    """Time in ``[start, dt]`` at which ``v`` reaches ``v_th`` (``vs < v_th`` at start, ``v_end >= v_th``).

    Newton's method on the in-step solution, kept inside a shrinking bracket
    (bisection when a Newton step leaves it).
    """
    lo = start
    hi = dt
    flo = vs - v_th
    fhi = v_end - v_th
    t = lo + (hi - lo) * flo / (flo - fhi) if fhi > flo else hi
    tol = 1e-12 * dt
    for _ in range(60):
        vt = _v_interval(
            vs, start, t, jc, tau_m, p, i, n, stb, grp_post, grp_nst, grp_off, kind, erev, tau, rx, rw
        )
        f = vt - v_th
        if f < 0.0:
            lo = t
        else:
            hi = t
        if f == 0.0 or hi - lo <= tol:
            break
        _, gs, dr = _syn_at(t, p, i, n, stb, grp_post, grp_nst, grp_off, kind, erev, tau)
        d = (jc + dr - (1.0 + gs) * vt) / tau_m
        tn = t - f / d if d > 0.0 else 0.5 * (lo + hi)
        if not (lo < tn < hi):
            tn = 0.5 * (lo + hi)
        if abs(tn - t) <= 0.1 * tol:
            t = tn
            break
        t = tn
    return t


@njit(**_HELPER)
def _fill_scaled(out, c, x):  # pragma: no cover - compiled
    for i in range(out.shape[0]):
        out[i] = c * x[i]


@njit(**_HELPER)
def _fill(out, c):  # pragma: no cover - compiled
    for i in range(out.shape[0]):
        out[i] = c


@njit(**_HELPER)
def _add(out, x):  # pragma: no cover - compiled
    for i in range(out.shape[0]):
        out[i] += x[i]


@njit(**_HELPER)
def _axpy(out, c, x):  # pragma: no cover - compiled
    for i in range(out.shape[0]):
        out[i] += c * x[i]


@njit(**_HELPER)
def _commit(
    vo, te, flag, v0, phi0, phi1, phi2, s0, s1, w0, w1, t_free, t_next, v_reset, v_th
):  # pragma: no cover - compiled
    """End-of-step voltages of a block (2-point Gauss-Legendre); flags neurons that need the event code."""
    hit = False
    for i in range(vo.shape[0]):
        vi = vo[i]
        v0[i] = vi
        pe = phi2[i]
        vn = vi * math.exp(-pe) + w0 * math.exp(phi0[i] - pe) * s0[i] + w1 * math.exp(phi1[i] - pe) * s1[i]
        t = te[i]
        vn = vn if t <= t_free else v_reset
        vo[i] = vn
        ev = (vn >= v_th) | ((t > t_free) & (t < t_next))
        flag[i] = ev
        hit |= ev
    return hit


@njit(**_HELPER)
def _lif_event(
    lane,
    p,
    i,
    off,
    kglob,
    tk,
    dt,
    jc,
    v0,
    pop_par,
    vb,
    teb,
    n,
    stb,
    grp_post,
    grp_nst,
    grp_off,
    kind,
    erev,
    tau,
    rx,
    rw,
    src_off,
    ring_idx,
    ring_cnt,
    slot,
    spk_step,
    spk_idx,
    spk_off,
    spk_cnt,
):  # pragma: no cover - compiled
    """Spike and refractory bookkeeping of neuron ``i`` of LIF population ``p`` in this step."""
    tau_m = pop_par[p, 2]
    tau_ref = pop_par[p, 3]
    v_th = pop_par[p, 4]
    v_reset = pop_par[p, 5]
    start = teb[off + i] - tk
    if start > 1e-9 * dt:
        # the refractory period ends inside the step: free from v_reset
        vs = v_reset
        v1 = _v_interval(
            v_reset, start, dt, jc, tau_m, p, i, n, stb, grp_post, grp_nst, grp_off, kind, erev, tau, rx, rw
        )
        if start > tau_ref - 1e-9 * dt:  # it spiked at tk on a voltage jump: one spike per step
            vb[off + i] = v1 if v1 < v_th else v_th
            return
    else:
        start = 0.0
        vs = v0
        v1 = vb[off + i]
    if v1 < v_th:
        vb[off + i] = v1
        return
    if vs >= v_th:
        ts = start
    else:
        ts = _crossing(
            vs,
            start,
            v1,
            dt,
            jc,
            tau_m,
            v_th,
            p,
            i,
            n,
            stb,
            grp_post,
            grp_nst,
            grp_off,
            kind,
            erev,
            tau,
            rx,
            rw,
        )
    c = spk_cnt[lane]
    spk_step[lane, c] = kglob
    spk_idx[lane, c] = off + i
    spk_off[lane, c] = ts
    spk_cnt[lane] = c + 1
    ring_idx[lane, slot, src_off[p] + ring_cnt[lane, slot, p]] = i
    ring_cnt[lane, slot, p] += 1
    teb[off + i] = tk + ts + tau_ref
    if ts + tau_ref >= dt:
        vb[off + i] = v_reset
    else:
        # free again before the step ends; a second crossing waits for the next step
        v_end = _v_interval(
            v_reset,
            ts + tau_ref,
            dt,
            jc,
            tau_m,
            p,
            i,
            n,
            stb,
            grp_post,
            grp_nst,
            grp_off,
            kind,
            erev,
            tau,
            rx,
            rw,
        )
        vb[off + i] = v_end if v_end < v_th else v_th


@njit(**_HELPER)
def _advance_stages(stb, g, n, i0, i1, grp_nst, grp_off, grp_prop_off, coef):  # pragma: no cover - compiled
    """``x <- P x`` for neurons ``i0:i1`` of group ``g``, in place from the last stage down."""
    nst = grp_nst[g]
    po = grp_prop_off[g]
    for s in range(nst - 1, -1, -1):
        xs = stb[grp_off[g] + s * n + i0 : grp_off[g] + s * n + i1]
        c = coef[po + s * nst + s]
        for i in range(xs.shape[0]):
            xs[i] *= c
        for r in range(s):
            _axpy(xs, coef[po + s * nst + r], stb[grp_off[g] + r * n + i0 : grp_off[g] + r * n + i1])


@njit(**_HELPER)
def _lif_population(
    cond,
    b,
    lane,
    lo,
    hi,
    p,
    k,
    kglob,
    dt,
    v,
    ref_end,
    stages,
    jconst,
    jvar,
    pop_voff,
    pop_off,
    pop_n,
    pop_par,
    grp_post,
    grp_nst,
    grp_off,
    grp_prop_off,
    coef,
    flag,
    src_off,
    ring_idx,
    ring_cnt,
    slot,
    spk_step,
    spk_idx,
    spk_off,
    spk_cnt,
):  # pragma: no cover - compiled
    off = pop_off[p]
    n = pop_n[p]
    tau_m = pop_par[p, 2]
    v_th = pop_par[p, 4]
    v_reset = pop_par[p, 5]
    tk = kglob * dt
    t_free = tk + 1e-9 * dt
    t_next = tk + dt
    voff = pop_voff[p]
    kind = cond.grp_kind
    erev = cond.grp_erev
    tau = cond.grp_tau
    stb = stages[b]
    vb = v[b]
    teb = ref_end[b]
    work = cond.work[lane]
    block = work.shape[1]
    # 2-point Gauss-Legendre weights of the step, over tau_m
    w0 = dt * cond.hot_w[0] / tau_m
    w1 = dt * cond.hot_w[1] / tau_m
    inv_tm = 1.0 / tau_m
    for i0 in range(lo, hi, block):
        i1 = i0 + block if i0 + block < hi else hi
        m = i1 - i0
        phi0 = work[0, :m]
        phi1 = work[1, :m]
        phi2 = work[2, :m]
        s0 = work[3, :m]
        s1 = work[4, :m]
        v0 = work[5, :m]
        _fill(phi0, cond.hot_x[0] * dt * inv_tm)
        _fill(phi1, cond.hot_x[1] * dt * inv_tm)
        _fill(phi2, dt * inv_tm)
        jc = jconst[b, off + i0 : off + i1]
        for i in range(m):
            s0[i] = jc[i]
        if voff >= 0:
            _add(s0, jvar[k, b, voff + i0 : voff + i1])
        for i in range(m):
            s1[i] = s0[i]
        for g in range(grp_post.shape[0]):
            if grp_post[g] != p or kind[g] == KIND_SKIP:
                continue
            e = erev[g] if kind[g] == KIND_COND else 1.0
            for j in range(grp_nst[g]):
                x = stb[grp_off[g] + j * n + i0 : grp_off[g] + j * n + i1]
                _axpy(s0, e * cond.vcoef[g, 0, j], x)
                _axpy(s1, e * cond.vcoef[g, 1, j], x)
                if kind[g] == KIND_COND:
                    _axpy(phi0, cond.icoef[g, 0, j] * inv_tm, x)
                    _axpy(phi1, cond.icoef[g, 1, j] * inv_tm, x)
                    _axpy(phi2, cond.icoef[g, 2, j] * inv_tm, x)
        hit = _commit(
            vb[off + i0 : off + i1],
            teb[off + i0 : off + i1],
            flag,
            v0,
            phi0,
            phi1,
            phi2,
            s0,
            s1,
            w0,
            w1,
            t_free,
            t_next,
            v_reset,
            v_th,
        )
        if hit:
            for q in range(m):
                if flag[q]:
                    i = i0 + q
                    jcv = jconst[b, off + i]
                    if voff >= 0:
                        jcv += jvar[k, b, voff + i]
                    _lif_event(
                        lane,
                        p,
                        i,
                        off,
                        kglob,
                        tk,
                        dt,
                        jcv,
                        v0[q],
                        pop_par,
                        vb,
                        teb,
                        n,
                        stb,
                        grp_post,
                        grp_nst,
                        grp_off,
                        kind,
                        erev,
                        tau,
                        cond.rare_x,
                        cond.rare_w,
                        src_off,
                        ring_idx,
                        ring_cnt,
                        slot,
                        spk_step,
                        spk_idx,
                        spk_off,
                        spk_cnt,
                    )
        for g in range(grp_post.shape[0]):
            if grp_post[g] == p and kind[g] != KIND_SKIP:
                _advance_stages(stb, g, n, i0, i1, grp_nst, grp_off, grp_prop_off, coef)


@njit(**_HELPER)
def _hh_population(
    cond,
    b,
    lane,
    lo,
    hi,
    p,
    k,
    kglob,
    dt,
    v,
    gate_m,
    gate_h,
    gate_n,
    stages,
    jconst,
    jvar,
    pop_voff,
    pop_off,
    pop_n,
    pop_par,
    grp_post,
    grp_nst,
    grp_off,
    grp_prop_off,
    grp_avg_off,
    coef,
    src_off,
    ring_idx,
    ring_cnt,
    slot,
    spk_step,
    spk_idx,
    spk_off,
    spk_cnt,
):  # pragma: no cover - compiled
    off = pop_off[p]
    n = pop_n[p]
    kind = cond.grp_kind
    erev = cond.grp_erev
    stb = stages[b]
    voff = pop_voff[p]
    c_m = pop_par[p, 0]
    g_na = pop_par[p, 1]
    g_k = pop_par[p, 2]
    g_l = pop_par[p, 3]
    e_na = pop_par[p, 4]
    e_k = pop_par[p, 5]
    e_l = pop_par[p, 6]
    v_spike = pop_par[p, 7]
    dt_ms = dt * 1e3
    base = src_off[p]
    for i in range(lo, hi):
        cur = jconst[b, off + i]
        if voff >= 0:
            cur += jvar[k, b, voff + i]
        gsum = 0.0
        ge = 0.0
        for g in range(grp_post.shape[0]):
            if grp_post[g] != p or kind[g] == KIND_SKIP:
                continue
            avg = 0.0  # the last stage averaged exactly over the step
            for s in range(grp_nst[g]):
                avg += coef[grp_avg_off[g] + s] * stb[grp_off[g] + s * n + i]
            if kind[g] == KIND_COND:
                gsum += avg
                ge += avg * erev[g]
            else:
                cur += avg
        vold = v[b, off + i]
        gl = g_l + gsum
        if abs(gl) > 1e-12 * (g_l + abs(gsum)):
            el = (g_l * e_l + ge) / gl
        else:  # (negative conductances cancelling the leak) the synaptic current at the step's start
            gl = g_l
            el = e_l
            cur += ge - gsum * vold
        vn, mn, hn, nn = hh_step(
            vold,
            gate_m[b, off + i],
            gate_h[b, off + i],
            gate_n[b, off + i],
            cur,
            dt_ms,
            c_m,
            g_na,
            g_k,
            gl,
            e_na,
            e_k,
            el,
        )
        v[b, off + i] = vn
        gate_m[b, off + i] = mn
        gate_h[b, off + i] = hn
        gate_n[b, off + i] = nn
        if vold < v_spike <= vn:
            c = spk_cnt[lane]
            spk_step[lane, c] = kglob
            spk_idx[lane, c] = off + i
            spk_off[lane, c] = dt * (v_spike - vold) / (vn - vold)
            spk_cnt[lane] = c + 1
            ring_idx[lane, slot, base + ring_cnt[lane, slot, p]] = i
            ring_cnt[lane, slot, p] += 1
    for g in range(grp_post.shape[0]):
        if grp_post[g] == p and kind[g] != KIND_SKIP:
            _advance_stages(stb, g, n, lo, hi, grp_nst, grp_off, grp_prop_off, coef)


@njit(**_HELPER)
def cond_population(
    cond,
    b,
    lane,
    lo,
    hi,
    p,
    k,
    kglob,
    dt,
    v,
    ref_end,
    gate_m,
    gate_h,
    gate_n,
    stages,
    jconst,
    jvar,
    pop_voff,
    pop_off,
    pop_n,
    pop_par,
    grp_post,
    grp_nst,
    grp_off,
    grp_prop_off,
    grp_avg_off,
    coef,
    flag,
    src_off,
    ring_idx,
    ring_cnt,
    slot,
    spk_step,
    spk_idx,
    spk_off,
    spk_cnt,
):  # pragma: no cover - compiled
    """Advance neurons ``lo:hi`` of population ``p`` (which receives conductance synapses) by step ``kglob``.

    Called by the network kernel in place of its LIF or HH pass for the
    populations with ``cond.pop_mode[p] != MODE_NONE``; also advances every
    synaptic stage of these neurons. ``cond`` is a
    :class:`spikenet.sim._conductance.CondArgs`; the other arguments are the
    network kernel's (``b`` the copy, ``lane`` the lane receiving spikes,
    ``k`` the chunk-local step, ``slot`` this step's ring slot, ``flag`` the
    lane's event flags).
    """
    if cond.pop_mode[p] == MODE_LIF:
        _lif_population(
            cond,
            b,
            lane,
            lo,
            hi,
            p,
            k,
            kglob,
            dt,
            v,
            ref_end,
            stages,
            jconst,
            jvar,
            pop_voff,
            pop_off,
            pop_n,
            pop_par,
            grp_post,
            grp_nst,
            grp_off,
            grp_prop_off,
            coef,
            flag,
            src_off,
            ring_idx,
            ring_cnt,
            slot,
            spk_step,
            spk_idx,
            spk_off,
            spk_cnt,
        )
    else:
        _hh_population(
            cond,
            b,
            lane,
            lo,
            hi,
            p,
            k,
            kglob,
            dt,
            v,
            gate_m,
            gate_h,
            gate_n,
            stages,
            jconst,
            jvar,
            pop_voff,
            pop_off,
            pop_n,
            pop_par,
            grp_post,
            grp_nst,
            grp_off,
            grp_prop_off,
            grp_avg_off,
            coef,
            src_off,
            ring_idx,
            ring_cnt,
            slot,
            spk_step,
            spk_idx,
            spk_off,
            spk_cnt,
        )
