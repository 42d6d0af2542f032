"""Brian2 reference scripts for the benchmark cases (runtime Cython and cpp_standalone).

Run as ``python -m benchmarks.run_brian2 --spec JSON --out DIR`` (normally by
:mod:`benchmarks.measure`). The models are written in Brian2's own units,
as a Brian2 user would write them:

- CUBA: the Brian2 example of Brette et al. (2007), benchmark 2, with the
  connection probability scaled to ``80 / N`` and the excitatory and
  inhibitory neurons as subgroups, so that ``connect(p=...)`` samples only
  the existing synapses (a ``condition`` would visit all ``N^2`` pairs);
  with STDP (``cuba-N-stdp``) the E -> E synapses carry the model of
  Brian2's STDP example (event-driven traces, clipped additive updates);
- uncoupled LIF: ``dv/dt = (J - v) / tau_m (unless refractory)``, threshold
  ``v > 1``, reset ``v = 0``, ``method='exact'``;
- HH: the 1952 model in the modern convention with ``exprel`` for the
  removable singularities, ``method='exponential_euler'`` (Brian2's standard
  choice for HH), a spike counted at each upward crossing of 0 mV.

Environment
-----------
SPIKENET_BENCH_BRIAN2_CACHE
    Cython cache folder (``prefs.codegen.runtime.cython.cache_dir``).
SPIKENET_BENCH_BRIAN2_BUILD
    cpp_standalone project folder.

Threads: cpp_standalone on 1 thread is Brian2's default build without OpenMP
(``openmp_threads = 0``); on ``k > 1`` threads it is built with OpenMP and
``openmp_threads = k`` (:func:`benchmarks.cases.brian2_openmp_threads`). The
runtime (Cython) mode runs on one thread. The build options (device,
OpenMP, compiler flags) are written into ``result.json`` under ``build``.

Simulation-loop time is Brian2's own measurement of its main loop
(``device._last_run_time``: the Python loop over compiled code objects in
runtime mode, the C++ loop read from ``results/last_run_info.txt`` in
standalone mode), so it excludes code generation and compilation.
"""

from __future__ import annotations

import os
import sys
import time

from benchmarks import cases
from benchmarks._worker import Timer, parse, write


def build(case, b2, seed: int):
    """Create the Brian2 objects of ``case``; returns (network, monitor, extra)."""
    from brian2 import NeuronGroup, SpikeMonitor, Synapses, cm, ms, msiemens, mV, uA, uF

    if case.kind in ("cuba", "cuba_stdp"):
        n_e, _, p = cases.cuba_sizes(case.n)
        eqs = """
        dv/dt  = (ge + gi - (v - El)) / taum : volt (unless refractory)
        dge/dt = -ge / taue : volt
        dgi/dt = -gi / taui : volt
        """
        ns = {"taum": cases.CUBA_TAU_M * 1000 * ms, "taue": cases.CUBA_TAU_E * 1000 * ms,
              "taui": cases.CUBA_TAU_I * 1000 * ms, "El": cases.CUBA_E_L_MV * mV,
              "Vt": cases.CUBA_V_T_MV * mV, "Vr": cases.CUBA_V_R_MV * mV,
              "we": cases.CUBA_WE_MV * mV, "wi": cases.CUBA_WI_MV * mV}
        P = NeuronGroup(case.n, eqs, threshold="v > Vt", reset="v = Vr",
                        refractory=cases.CUBA_TAU_REF * 1000 * ms, method="exact", namespace=ns)
        P.v = "Vr + rand() * (Vt - Vr)"
        P.ge = 0 * mV
        P.gi = 0 * mV
        Pe, Pi = P[:n_e], P[n_e:]
        plastic = case.kind == "cuba_stdp"
        # cuba_stdp: E -> E synapses of their own, plastic (Brian2's STDP example); E -> I as in CUBA
        Ce = Synapses(Pe, P[n_e:] if plastic else P, on_pre="ge += we", namespace=ns)
        Ci = Synapses(Pi, P, on_pre="gi += wi", namespace=ns)
        Ce.connect(j="k for k in sample(N_post, p=p)", namespace={"p": p})
        Ci.connect(j="k for k in sample(N_post, p=p)", namespace={"p": p})
        mon = SpikeMonitor(P)
        if not plastic:
            return b2.Network(P, Ce, Ci, mon), mon, {"n_e": n_e}
        w_max = cases.STDP_W_MAX * cases.CUBA_WE_MV * mV
        ns_stdp = {**ns, "taupre": cases.STDP_TAU * 1000 * ms, "taupost": cases.STDP_TAU * 1000 * ms,
                   "wmax": w_max, "dApre": cases.STDP_A_PRE * w_max, "dApost": cases.STDP_A_POST * w_max}
        Cee = Synapses(Pe, Pe, """w : volt
                       dApre/dt = -Apre / taupre : volt (event-driven)
                       dApost/dt = -Apost / taupost : volt (event-driven)""",
                       on_pre="""ge += w
                                 Apre += dApre
                                 w = clip(w + Apost, 0*mV, wmax)""",
                       on_post="""Apost += dApost
                                  w = clip(w + Apre, 0*mV, wmax)""", namespace=ns_stdp)
        Cee.connect(j="k for k in sample(N_post, p=p)", namespace={"p": p})
        Cee.w = "we"
        return b2.Network(P, Ce, Ci, Cee, mon), mon, {"n_e": n_e}
    if case.kind == "coba":
        # Brian's COBA example, integrated with exponential Euler rather than the
        # example's forward Euler: at 4000 neurons both give the same statistics
        # (means of three instances within 3 %), but on reduced networks, whose self-sustained activity is
        # fragile, forward Euler at 0.1 ms strays (8.4 Hz where RK4 gives 18.9 Hz
        # at 1000 neurons)
        n_e, _, p = cases.cuba_sizes(case.n)
        eqs = """
        dv/dt  = (-(v - El) + ge * (Ee - v) + gi * (Ei - v)) / taum : volt (unless refractory)
        dge/dt = -ge / taue : 1
        dgi/dt = -gi / taui : 1
        """
        ns = {"taum": cases.COBA_TAU_M * 1000 * ms, "taue": cases.COBA_TAU_E * 1000 * ms,
              "taui": cases.COBA_TAU_I * 1000 * ms, "El": cases.COBA_E_L_MV * mV,
              "Ee": cases.COBA_E_E_MV * mV, "Ei": cases.COBA_E_I_MV * mV,
              "Vt": cases.COBA_V_T_MV * mV, "Vr": cases.COBA_V_R_MV * mV,
              "we": cases.COBA_WE, "wi": cases.COBA_WI}
        P = NeuronGroup(case.n, eqs, threshold="v > Vt", reset="v = Vr",
                        refractory=cases.COBA_TAU_REF * 1000 * ms, method="exponential_euler", namespace=ns)
        P.v = f"El + ({cases.COBA_V0_MV[0]} + {cases.COBA_V0_MV[1]} * randn()) * mV"
        P.ge = f"{cases.COBA_GE0[0]} + {cases.COBA_GE0[1]} * randn()"
        P.gi = f"{cases.COBA_GI0[0]} + {cases.COBA_GI0[1]} * randn()"
        Pe, Pi = P[:n_e], P[n_e:]
        Ce = Synapses(Pe, P, on_pre="ge += we", namespace=ns)
        Ci = Synapses(Pi, P, on_pre="gi += wi", namespace=ns)
        Ce.connect(j="k for k in sample(N_post, p=p)", namespace={"p": p})
        Ci.connect(j="k for k in sample(N_post, p=p)", namespace={"p": p})
        mon = SpikeMonitor(P)
        return b2.Network(P, Ce, Ci, mon), mon, {"n_e": n_e}
    if case.kind == "lif":
        ns = {"tau": cases.LIF_TAU_M * 1000 * ms}
        G = NeuronGroup(case.n, "dv/dt = (J - v) / tau : 1 (unless refractory)\nJ : 1",
                        threshold="v > 1", reset="v = 0", refractory=cases.LIF_TAU_REF * 1000 * ms,
                        method="exact", namespace=ns)
        G.J = cases.lif_drives(case.n)
        mon = SpikeMonitor(G)
        return b2.Network(G, mon), mon, {}
    if case.kind == "hh":
        eqs = """
        dv/dt = (J - g_na * m**3 * h * (v - e_na) - g_k * n**4 * (v - e_k) - g_l * (v - e_l)) / c_m : volt
        dm/dt = alpha_m * (1 - m) - beta_m * m : 1
        dh/dt = alpha_h * (1 - h) - beta_h * h : 1
        dn/dt = alpha_n * (1 - n) - beta_n * n : 1
        alpha_m = 1.0 / exprel(-(v + 40*mV) / (10*mV)) / ms : Hz
        beta_m = 4 * exp(-(v + 65*mV) / (18*mV)) / ms : Hz
        alpha_h = 0.07 * exp(-(v + 65*mV) / (20*mV)) / ms : Hz
        beta_h = 1 / (1 + exp(-(v + 35*mV) / (10*mV))) / ms : Hz
        alpha_n = 0.1 / exprel(-(v + 55*mV) / (10*mV)) / ms : Hz
        beta_n = 0.125 * exp(-(v + 65*mV) / (80*mV)) / ms : Hz
        J : amp / meter**2
        """
        ns = {"c_m": 1 * uF / cm**2, "g_na": 120 * msiemens / cm**2, "g_k": 36 * msiemens / cm**2,
              "g_l": 0.3 * msiemens / cm**2, "e_na": 50 * mV, "e_k": -77 * mV, "e_l": -54.387 * mV}
        G = NeuronGroup(case.n, eqs, threshold="v > 0*mV", refractory="v > 0*mV",
                        method="exponential_euler", namespace=ns)
        m0, h0, n0 = cases.hh_steady_state(-65.0)
        G.v = -65 * mV
        G.m, G.h, G.n = m0, h0, n0
        G.J = cases.hh_drives(case.n) * uA / cm**2
        mon = SpikeMonitor(G)
        return b2.Network(G, mon), mon, {}
    raise ValueError(f"unknown case kind {case.kind!r}")


def build_options(b2, sim) -> dict:
    """The Brian2 device and the preferences that decide how its code is built and run."""
    prefs = b2.prefs
    cpp = {"compiler": prefs.codegen.cpp.compiler or "default (gcc on Linux)",
           "extra_compile_args_gcc": " ".join(prefs.codegen.cpp.extra_compile_args_gcc),
           "extra_compile_args": " ".join(prefs.codegen.cpp.extra_compile_args or [])}
    if sim.mode == "standalone":
        threads = prefs.devices.cpp_standalone.openmp_threads
        return {"brian2": b2.__version__, "device": "cpp_standalone",
                "openmp_threads": threads,
                "OpenMP": "off (built without OpenMP)" if threads == 0 else f"on, {threads} threads",
                # Brian2's network.cpp times its loop with std::clock (CPU time)
                # without OpenMP, with omp_get_wtime (wall time) with it
                "loop_clock": "CPU time (std::clock)" if threads == 0 else "wall time (omp_get_wtime)",
                "extra_make_args_unix": " ".join(prefs.devices.cpp_standalone.extra_make_args_unix),
                **cpp}
    return {"brian2": b2.__version__, "device": "runtime", "codegen.target": prefs.codegen.target,
            "threads": 1, **cpp}


def main(argv=None) -> int:
    """Run one Brian2 measurement; see the module docstring."""
    case, sim, out, opts = parse(argv)
    t_start = time.perf_counter()
    import brian2 as b2
    from brian2 import second

    b2.prefs.logging.console_log_level = "WARNING"
    if sim.mode == "standalone":
        build_dir = os.environ["SPIKENET_BENCH_BRIAN2_BUILD"]
        b2.set_device("cpp_standalone", directory=build_dir, build_on_run=False)
        b2.prefs.devices.cpp_standalone.openmp_threads = cases.brian2_openmp_threads(sim.threads)
    elif sim.mode == "cython":
        b2.prefs.codegen.target = "cython"
        b2.prefs.codegen.runtime.cython.cache_dir = os.environ["SPIKENET_BENCH_BRIAN2_CACHE"]
    else:
        raise ValueError(f"unknown Brian2 mode {sim.mode!r}")
    import_s = time.perf_counter() - t_start
    build_info = build_options(b2, sim)

    seed = int(opts.get("seed", 1))
    b2.seed(seed)
    b2.defaultclock.dt = case.dt * second
    with Timer() as t_build:
        net, mon, extra = build(case, b2, seed)
    with Timer() as t_run:
        net.run(case.T * second)
        if sim.mode == "standalone":
            b2.device.build(directory=os.environ["SPIKENET_BENCH_BRIAN2_BUILD"], compile=True, run=True)
    loop_s = float(b2.device._last_run_time)
    # Runtime mode creates synapses at construction; standalone does it all in build().
    build_s = t_build.s + t_run.s - loop_s

    if case.kind in ("cuba", "coba", "cuba_stdp"):
        stats = cases.cuba_stats(mon.i[:], mon.t[:] / second, case.n, extra["n_e"], case.T)
        counts = None
    else:
        counts = mon.count[:]
        stats = {"n_spikes": int(counts.sum())}
    write(out, build_s=build_s, loop_s=loop_s, stats=stats, counts=counts,
          phases={"import": import_s, "construct": t_build.s, "run_and_build": t_run.s},
          build=build_info)
    return 0


if __name__ == "__main__":
    sys.exit(main())
