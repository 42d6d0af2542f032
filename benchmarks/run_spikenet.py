"""spikenet worker: the benchmark cases through spikenet's public API.

Run as ``python -m benchmarks.run_spikenet --spec JSON --out DIR`` from the
repository root (``PYTHONPATH`` points at the checkout under test). Numba's
thread count comes from ``NUMBA_NUM_THREADS`` and its cache folder from
``NUMBA_CACHE_DIR``.

- CUBA: two populations (excitatory, inhibitory) of ``LIF(tau_m=20 ms,
  tau_ref=5 ms)`` with bias 1.1 and initial voltages uniform in [0, 1),
  four random connections with probability ``80 / N`` and weights
  ``jump * tau_s`` through ``PSCFilter(tau_e)`` / ``PSCFilter(tau_i)``
  (see :mod:`benchmarks.cases`), spikes of every neuron recorded.
- LIF: ``simulate(LIF(), J, 1.0)`` with the case's drives. The drives are
  constant, so ``simulate`` runs them in closed form; mode ``"stepped"``
  switches that off (``spikenet.sim.simulate._LIF_CLOSED_FORM``) to time the
  time-stepping kernel instead.
- HH: ``simulate(HH(), J, 0.1, dt=1e-5)`` with the case's currents.
- Microcircuit: :func:`spikenet.sim.microcircuit.microcircuit_network` with
  ``N / 77169`` of the neurons, full in-degrees, DC background; like CUBA,
  its first step runs in the build phase.

With option ``build_aot`` the worker instead compiles the CUBA network kernel
ahead of time (see :func:`_build_aot`); the suite does this once per cache
folder, after the empty-cache runs.

Before the measured run, a tiny run of the same model loads (or, with an
empty cache, compiles) the kernels, so that the loop time is the simulation
alone; whole-process time, measured outside, includes everything. For CUBA
the first step runs in the build phase, because ``Network.run`` builds its
data structures on first use (Brian2's loop time likewise excludes creating
the synapses); the loop then covers the other ``steps - 1`` steps.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import time

from benchmarks import cases
from benchmarks._worker import Timer, parse, write


class Unsupported(Exception):
    """The checkout under test lacks a feature the configuration needs."""


def _dtype_kwargs(func, dtype_name):
    import numpy as np

    if dtype_name == "float64":
        return {}
    if "dtype" not in inspect.signature(func).parameters:
        raise Unsupported(f"{func.__qualname__} has no dtype option")
    return {"dtype": np.float32}


def _random_weights(rng, n_post, n_pre, p, w):
    """Bernoulli(p) weights (post, pre) as CSR: geometric gaps over the flattened pairs."""
    import numpy as np
    import scipy.sparse as sp

    total = n_post * n_pre
    chunks, pos = [], -1
    while pos < total:
        gaps = rng.geometric(p, size=max(int((total - pos) * p * 1.05) + 64, 64))
        chunk = pos + np.cumsum(gaps)
        chunks.append(chunk[chunk < total])
        pos = int(chunk[-1])
    flat = np.concatenate(chunks)
    rows, cols = np.divmod(flat, n_pre)
    indptr = np.zeros(n_post + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_post), out=indptr[1:])
    return sp.csr_matrix((np.full(flat.size, w), cols.astype(np.int32), indptr), shape=(n_post, n_pre))


def build_cuba(sn, n, dt, seed, dtype_name, plastic=False):
    """Build the CUBA network (``plastic``: with STDP on E -> E); returns (network, E, I)."""
    import numpy as np

    n_e, n_i, p = cases.cuba_sizes(n)
    kw = _dtype_kwargs(sn.Network, dtype_name)
    net = sn.Network(dt=dt, seed=seed, **kw)
    rng = np.random.default_rng(seed)
    lif = sn.LIF(tau_m=cases.CUBA_TAU_M, tau_ref=cases.CUBA_TAU_REF)
    v0 = rng.random(n)
    E = net.add_population(n_e, lif, bias=cases.CUBA_BIAS, init={"v": v0[:n_e]}, name="E")
    I = net.add_population(n_i, lif, bias=cases.CUBA_BIAS, init={"v": v0[n_e:]}, name="I")
    syn_e, syn_i = sn.PSCFilter(cases.CUBA_TAU_E), sn.PSCFilter(cases.CUBA_TAU_I)
    w_e = cases.CUBA_JUMP_E * cases.CUBA_TAU_E
    w_i = cases.CUBA_JUMP_I * cases.CUBA_TAU_I
    use_p = "p" in inspect.signature(net.connect).parameters
    for pre, w, syn in ((E, w_e, syn_e), (I, w_i, syn_i)):
        for post in (E, I):
            kw = {}
            if plastic and pre is E and post is E:
                w_max = cases.STDP_W_MAX * w_e
                kw["plasticity"] = sn.STDP(tau_pre=cases.STDP_TAU, tau_post=cases.STDP_TAU,
                                           a_pre=cases.STDP_A_PRE * w_max, a_post=cases.STDP_A_POST * w_max,
                                           w_min=0.0, w_max=w_max)
            if use_p:
                net.connect(pre, post, w, synapse=syn, p=p, **kw)
            else:
                net.connect(pre, post, _random_weights(rng, post.n, pre.n, p, w), synapse=syn, **kw)
    return net, E, I


def build_coba(sn, n, dt, seed, dtype_name):
    """Build the COBA network with :func:`spikenet.sim.coba.coba_network`; returns (network, E, I)."""
    try:
        coba = importlib.import_module("spikenet.sim.coba")
    except ImportError as exc:
        raise Unsupported("this spikenet has no spikenet.sim.coba") from exc
    _, _, p = cases.cuba_sizes(n)
    net = coba.coba_network(n=n, p=p, dt=dt, seed=seed, **_dtype_kwargs(coba.coba_network, dtype_name))
    E, I = net.populations
    return net, E, I


def _build_aot(sn, case, sim, out) -> int:
    """Compile the network kernel ahead of time for the case's configuration.

    A small network of the case's kind has the same kernel configuration as
    the case at any size; it runs once (Numba), then ``spikenet.sim.aot``
    compiles that configuration into ``$SPIKENET_AOT_DIR``.
    """
    from spikenet.sim import aot

    with Timer() as t:
        net, _, _ = build_cuba(sn, 50, case.dt, 1, sim.dtype)
        net.run(10 * case.dt)
        aot.build([net])
    write(out, build_s=t.s, loop_s=0.0, stats={})
    return 0


def main(argv=None) -> int:
    """Run one spikenet measurement; see the module docstring."""
    case, sim, out, opts = parse(argv)
    t0 = time.perf_counter()
    import numpy as np

    import spikenet.sim as sn

    import_s = time.perf_counter() - t0
    seed = int(opts.get("seed", 1))
    phases = {"import": import_s}
    if opts.get("build_aot"):
        return _build_aot(sn, case, sim, out)
    try:
        if case.kind in ("cuba", "coba", "cuba_stdp"):
            plastic = case.kind == "cuba_stdp"

            def build_net(n):
                if case.kind == "coba":
                    return build_coba(sn, n, case.dt, seed, sim.dtype)
                return build_cuba(sn, n, case.dt, seed, sim.dtype, plastic)

            with Timer() as t_warm:
                net, E, I = build_net(50)
                net.run(10 * case.dt)
            with Timer() as t_build:
                net, E, I = build_net(case.n)
                # The first run call also builds the kernel's data structures
                # (transposed CSR, ring buffers): run one step here, so that the
                # loop time, like Brian2's, excludes building the synapses.
                first = net.run(case.dt)
            with Timer() as t_loop:
                res = net.run(case.T - case.dt)
            with Timer() as t_stats:
                st_e = [np.concatenate([a, b]) for a, b in zip(first.spike_times[E], res.spike_times[E])]
                st_i = [np.concatenate([a, b]) for a, b in zip(first.spike_times[I], res.spike_times[I])]
                idx = np.concatenate([np.full(len(s), k, dtype=np.int64)
                                      for k, s in enumerate(list(st_e) + list(st_i))] or [np.zeros(0, int)])
                tt = np.concatenate(list(st_e) + list(st_i) or [np.zeros(0)])
                stats = cases.cuba_stats(idx, tt, case.n, E.n, case.T)
            counts = None
            phases["result_to_stats"] = t_stats.s
        elif case.kind == "microcircuit":
            from spikenet.sim.microcircuit import microcircuit_network

            kw = _dtype_kwargs(sn.Network, sim.dtype)
            n_scale = case.n / cases.MICRO_FULL_N
            with Timer() as t_warm:  # the same kernel configuration, tiny
                microcircuit_network(n_scale=0.001, k_scale=0.01, seed=seed, **kw).run(10 * case.dt)
            with Timer() as t_build:
                net = microcircuit_network(n_scale=n_scale, k_scale=1.0, background="dc", seed=seed, **kw)
                first = net.run(case.dt)
            with Timer() as t_loop:
                res = net.run(case.T - case.dt)
            rates = [float((first.rates(p.name) * case.dt + res.rates(p.name) * (case.T - case.dt)).mean()
                           / case.T) for p in net.populations]
            n_spikes = int(sum(len(np.concatenate(list(r.spike_times[p.name]) or [np.zeros(0)]))
                               for r in (first, res) for p in net.populations))
            stats = {"rates": rates, "n_spikes": n_spikes}
            counts = None
        else:
            kw = _dtype_kwargs(sn.simulate, sim.dtype)
            if case.kind == "lif":
                if sim.mode == "stepped":
                    importlib.import_module("spikenet.sim.simulate")._LIF_CLOSED_FORM = False
                neuron = sn.LIF(tau_m=cases.LIF_TAU_M, tau_ref=cases.LIF_TAU_REF)
                J = cases.lif_drives(case.n)
            else:
                neuron = sn.HH()
                J = cases.hh_drives(case.n)
            with Timer() as t_warm:
                sn.simulate(neuron, J[:4], 10 * case.dt, dt=case.dt, **kw)
            build_s = 0.0
            with Timer() as t_loop:
                res = sn.simulate(neuron, J, case.T, dt=case.dt, **kw)
            counts = np.asarray(res.spike_counts, dtype=np.int64)
            stats = {"n_spikes": int(counts.sum())}
    except Unsupported as exc:
        write(out, build_s=float("nan"), loop_s=float("nan"), stats={}, unsupported=str(exc))
        return 0
    build_s = t_build.s if case.kind in ("cuba", "coba", "cuba_stdp", "microcircuit") else 0.0
    phases["load_or_compile_kernels"] = t_warm.s
    build = {"dtype": sim.dtype, "numba_threads": os.environ.get("NUMBA_NUM_THREADS", "default"),
             # the ahead-of-time compiled network kernel runs without importing Numba
             "numba_imported": "numba" in sys.modules}
    if case.kind in ("cuba", "coba", "cuba_stdp", "microcircuit"):
        build["network_threads"] = "Network default" if net.threads is None else net.threads
        build["kernel"] = "numba (jit)" if sim.mode == "jit" or case.kind == "microcircuit" \
            else "ahead-of-time module if built, else numba"
    elif case.kind == "lif":
        build["kernel"] = "time-stepping" if sim.mode == "stepped" else "closed form (constant drive)"
    write(out, build_s=build_s, loop_s=t_loop.s, loop_cpu_s=t_loop.cpu_s, stats=stats, counts=counts,
          phases=phases, build=build, package=os.path.dirname(sn.__file__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
