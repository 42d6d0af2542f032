"""Worker for the "limit" column: the bare Numba kernels of :mod:`benchmarks.limit_kernels`.

Run as ``python -m benchmarks.run_limit --spec JSON --out DIR``. Numba's
thread count comes from ``NUMBA_NUM_THREADS`` and its cache folder from
``NUMBA_CACHE_DIR`` (both set by :mod:`benchmarks.measure`). The kernels are
first called on a tiny problem so that loading (or compiling) them is not
part of the loop time.
"""

from __future__ import annotations

import math
import os
import sys
import time

from benchmarks import cases
from benchmarks._worker import Timer, parse, write


def _cuba_propagator(dt):
    tm, te, ti = cases.CUBA_TAU_M, cases.CUBA_TAU_E, cases.CUBA_TAU_I
    a = math.exp(-dt / tm)
    de, di = math.exp(-dt / te), math.exp(-dt / ti)
    be = te / (te - tm) * (de - a)
    bi = ti / (ti - tm) * (di - a)
    return a, be, bi, de, di


def run_cuba(lk, n, T, dt, seed):
    """Build and run CUBA with ``n`` neurons; returns (build_s, loop_s, stats, loop CPU s)."""
    import numpy as np

    n_e, n_i, p = cases.cuba_sizes(n)
    steps = round(T / dt)
    with Timer() as t_build:
        e_ptr, e_idx = lk.random_csr(n_e, n, p, seed)
        i_ptr, i_idx = lk.random_csr(n_i, n, p, seed + 1)
        e_w = np.full(e_idx.shape[0], cases.CUBA_JUMP_E)
        i_w = np.full(i_idx.shape[0], cases.CUBA_JUMP_I)
        rng = np.random.default_rng(seed)
        v = rng.random(n)
        ge = np.zeros(n)
        gi = np.zeros(n)
    a, be, bi, de, di = _cuba_propagator(dt)
    ref_steps = round(cases.CUBA_TAU_REF / dt)
    with Timer() as t_loop:
        ks, idx = lk.cuba_loop(v, ge, gi, steps, cases.CUBA_BIAS, a, be, bi, de, di, ref_steps,
                               e_ptr, e_idx, e_w, i_ptr, i_idx, i_w, n_e)
    stats = cases.cuba_stats(idx, ks * dt, n, n_e, T)
    return t_build.s, t_loop.s, stats, t_loop.cpu_s


def main(argv=None) -> int:
    """Run one limit-kernel measurement; see the module docstring."""
    case, _, out, opts = parse(argv)
    t0 = time.perf_counter()
    import numpy as np

    from benchmarks import limit_kernels as lk

    seed = int(opts.get("seed", 1))
    # load or compile every kernel on a tiny problem first
    with Timer() as t_warm:
        if case.kind == "cuba":
            run_cuba(lk, 64, 0.002, case.dt, seed)
        elif case.kind == "lif":
            lk.lif_run(np.ones(4) * 1.5, 10, case.dt, cases.LIF_TAU_M, cases.LIF_TAU_REF,
                       np.zeros(4, dtype=np.int64))
        else:
            lk.hh_run(np.ones(4), 10, case.dt * 1e3, -65.0, 0.05, 0.6, 0.3, np.zeros(4, dtype=np.int64))
    import_s = t_warm.t0 - t0

    loop_cpu_s = None
    if case.kind == "cuba":
        build_s, loop_s, stats, loop_cpu_s = run_cuba(lk, case.n, case.T, case.dt, seed)
        counts = None
    elif case.kind == "lif":
        J = cases.lif_drives(case.n)
        counts = np.zeros(case.n, dtype=np.int64)
        build_s = 0.0
        with Timer() as t_loop:
            lk.lif_run(J, case.steps, case.dt, cases.LIF_TAU_M, cases.LIF_TAU_REF, counts)
        loop_s, loop_cpu_s = t_loop.s, t_loop.cpu_s
        stats = {"n_spikes": int(counts.sum())}
    else:
        J = cases.hh_drives(case.n)
        m0, h0, n0 = cases.hh_steady_state(-65.0)
        counts = np.zeros(case.n, dtype=np.int64)
        build_s = 0.0
        with Timer() as t_loop:
            lk.hh_run(J, case.steps, case.dt * 1e3, -65.0, m0, h0, n0, counts)
        loop_s, loop_cpu_s = t_loop.s, t_loop.cpu_s
        stats = {"n_spikes": int(counts.sum())}
    write(out, build_s=build_s, loop_s=loop_s, loop_cpu_s=loop_cpu_s, stats=stats, counts=counts,
          phases={"import": import_s, "load_or_compile_kernels": t_warm.s},
          build={"numba_threads": os.environ.get("NUMBA_NUM_THREADS", "default"),
                 "recording": "spike counts only (CUBA: spike steps and indices)"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
