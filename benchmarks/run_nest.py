"""NEST reference scripts (``iaf_psc_exp``, ``iaf_cond_exp``) for the CUBA, COBA and uncoupled LIF cases.

Run as ``python -m benchmarks.run_nest --spec JSON --out DIR``. NEST 3 is the
pip package ``nest-simulator`` (optional: ``pip install -e ".[bench]"``).

- CUBA: ``iaf_psc_exp`` with the published parameters of Brette et al. (2007)
  (``E_L = -49 mV``, ``V_th = -50 mV``, ``V_reset = -60 mV``, ``t_ref = 5 ms``,
  ``tau_m = 20 ms``, ``tau_syn_ex = 5 ms``, ``tau_syn_in = 10 ms``). A Brian2
  CUBA spike adds ``w`` (mV) to a current that enters ``dv/dt`` as
  ``ge / tau_m``; in NEST a current ``I`` (pA) enters as ``I / C_m``, so the
  weights are ``w C_m / tau_m`` pA with ``C_m = tau_m`` (pF, ms): ``1.62`` and
  ``-9`` pA. Connections ``pairwise_bernoulli`` with ``p = 80 / N`` and the
  minimal delay ``dt`` (a spike in step k acts from step k + 1, as in Brian2
  and spikenet).
- COBA: ``iaf_cond_exp`` with Brian's COBA example (``C_m = 200 pF``,
  ``g_L = 10 nS``, ``E_L = V_reset = -60 mV``, ``V_th = -50 mV``,
  ``E_ex = 0 mV``, ``E_in = -80 mV``, ``t_ref = 5 ms``, ``tau_syn_ex = 5 ms``,
  ``tau_syn_in = 10 ms``); weights 6 nS and -67 nS (a negative weight acts on
  the inhibitory conductance), the random initial voltages and conductances of
  the example, minimal delay ``dt``.
- Uncoupled LIF: ``iaf_psc_exp`` with ``E_L = V_reset = 0``, ``V_th = 1`` (so
  millivolts play the normalised voltage), ``C_m = tau_m`` and ``I_e = J`` pA,
  which gives ``tau_m dv/dt = J - v``.

- Microcircuit: the model as NEST's own implementation builds it (parameters
  from :func:`spikenet.sim.microcircuit.microcircuit_parameters`): eight
  ``iaf_psc_exp`` populations with their DC inputs and normal initial
  voltages, ``fixed_total_number`` connections with normal weights and
  delays redrawn outside their bounds, full in-degrees.

Simulation-loop time is the wall time of ``nest.Simulate``; thread count from
the spec (``local_num_threads``).
"""

from __future__ import annotations

import sys
import time

from benchmarks import cases
from benchmarks._worker import Timer, parse, write


def main(argv=None) -> int:
    """Run one NEST measurement; see the module docstring."""
    case, sim, out, opts = parse(argv)
    t0 = time.perf_counter()
    import nest
    import numpy as np

    nest.verbosity = nest.VerbosityLevel.ERROR
    import_s = time.perf_counter() - t0
    seed = int(opts.get("seed", 1))
    nest.ResetKernel()
    nest.SetKernelStatus({"resolution": case.dt * 1e3, "local_num_threads": sim.threads,
                          "rng_seed": seed, "print_time": False})
    tau_m_ms = cases.CUBA_TAU_M * 1e3 if case.kind == "cuba" else cases.LIF_TAU_M * 1e3
    with Timer() as t_build:
        if case.kind == "cuba":
            n_e, _, p = cases.cuba_sizes(case.n)
            params = {"C_m": tau_m_ms, "tau_m": tau_m_ms, "E_L": cases.CUBA_E_L_MV,
                      "V_th": cases.CUBA_V_T_MV, "V_reset": cases.CUBA_V_R_MV,
                      "t_ref": cases.CUBA_TAU_REF * 1e3, "tau_syn_ex": cases.CUBA_TAU_E * 1e3,
                      "tau_syn_in": cases.CUBA_TAU_I * 1e3, "I_e": 0.0}
            pop = nest.Create("iaf_psc_exp", case.n, params=params)
            pop.V_m = nest.random.uniform(cases.CUBA_V_R_MV, cases.CUBA_V_T_MV)
            rule = {"rule": "pairwise_bernoulli", "p": p}
            nest.Connect(pop[:n_e], pop, rule, {"weight": cases.CUBA_WE_MV, "delay": case.dt * 1e3})
            nest.Connect(pop[n_e:], pop, rule, {"weight": cases.CUBA_WI_MV, "delay": case.dt * 1e3})
        elif case.kind == "coba":
            n_e, _, p = cases.cuba_sizes(case.n)
            g_l = cases.COBA_G_L_NS
            params = {"C_m": g_l * cases.COBA_TAU_M * 1e3, "g_L": g_l, "E_L": cases.COBA_E_L_MV,
                      "V_th": cases.COBA_V_T_MV, "V_reset": cases.COBA_V_R_MV,
                      "E_ex": cases.COBA_E_E_MV, "E_in": cases.COBA_E_I_MV,
                      "t_ref": cases.COBA_TAU_REF * 1e3, "tau_syn_ex": cases.COBA_TAU_E * 1e3,
                      "tau_syn_in": cases.COBA_TAU_I * 1e3, "I_e": 0.0}
            pop = nest.Create("iaf_cond_exp", case.n, params=params)
            pop.V_m = cases.COBA_E_L_MV + nest.random.normal(*cases.COBA_V0_MV)
            pop.g_ex = g_l * nest.random.normal(*cases.COBA_GE0)
            pop.g_in = g_l * nest.random.normal(*cases.COBA_GI0)
            rule = {"rule": "pairwise_bernoulli", "p": p}
            nest.Connect(pop[:n_e], pop, rule, {"weight": g_l * cases.COBA_WE, "delay": case.dt * 1e3})
            nest.Connect(pop[n_e:], pop, rule, {"weight": -g_l * cases.COBA_WI, "delay": case.dt * 1e3})
        elif case.kind == "lif":
            params = {"C_m": tau_m_ms, "tau_m": tau_m_ms, "E_L": 0.0, "V_th": 1.0, "V_reset": 0.0,
                      "V_m": 0.0, "t_ref": cases.LIF_TAU_REF * 1e3}
            pop = nest.Create("iaf_psc_exp", case.n, params=params)
            pop.I_e = cases.lif_drives(case.n)
        elif case.kind == "microcircuit":
            pop, pops = _microcircuit(nest, case)
        else:
            raise ValueError("NEST runs only the 'cuba', 'coba', 'lif' and 'microcircuit' cases")
        rec = nest.Create("spike_recorder")
        nest.Connect(pop, rec)
        nest.Prepare()
    with Timer() as t_loop:
        nest.Run(case.T * 1e3)
    nest.Cleanup()
    build_info = {"nest": str(getattr(nest, "__version__", "") or "unknown"),
                  "local_num_threads": int(nest.GetKernelStatus("local_num_threads")),
                  "resolution_ms": case.dt * 1e3}
    ev = rec.get("events")
    senders = np.asarray(ev["senders"], dtype=np.int64) - pop[0].global_id
    times = np.asarray(ev["times"], dtype=float) * 1e-3
    if case.kind in ("cuba", "coba"):
        stats = cases.cuba_stats(senders, times, case.n, n_e, case.T)
        counts = None
    elif case.kind == "microcircuit":
        counts = np.bincount(senders, minlength=len(pop))
        off = np.concatenate([[0], np.cumsum([len(p) for p in pops])])
        stats = {"rates": [float(counts[off[i]:off[i + 1]].mean() / case.T) for i in range(len(pops))],
                 "n_spikes": int(counts.sum())}
        counts = None
    else:
        counts = np.bincount(senders, minlength=case.n)
        stats = {"n_spikes": int(counts.sum())}
    write(out, build_s=t_build.s, loop_s=t_loop.s, stats=stats, counts=counts,
          phases={"import": import_s}, build=build_info)
    return 0


def _microcircuit(nest, case):
    """Create and connect the microcircuit with NEST's own rules; returns (all neurons, populations)."""
    from spikenet.sim import microcircuit as mc

    par = mc.microcircuit_parameters(case.n / cases.MICRO_FULL_N, 1.0, "dc")
    nrn = mc.NEURON
    params = {"E_L": nrn["E_L"], "V_th": nrn["V_th"], "V_reset": nrn["V_reset"], "C_m": nrn["C_m"],
              "tau_m": nrn["tau_m"] * 1e3, "tau_syn_ex": nrn["tau_syn"] * 1e3,
              "tau_syn_in": nrn["tau_syn"] * 1e3, "t_ref": nrn["t_ref"] * 1e3}
    mean, std = mc.V0["optimized"]
    pops = []
    for i in range(8):
        p = nest.Create("iaf_psc_exp", int(par.num_neurons[i]), params={**params, "I_e": float(par.dc[i])})
        p.V_m = nest.random.normal(float(mean[i]), float(std[i]))
        pops.append(p)
    for i in range(8):
        for j in range(8):
            k = int(par.num_synapses[i, j])
            if k == 0:
                continue
            w = float(par.psc_mean[i, j])
            lo, hi = (0.0, float("inf")) if w > 0 else (-float("inf"), 0.0)
            d = float(par.delay_mean[i, j]) * 1e3
            syn = {"synapse_model": "static_synapse",
                   "weight": nest.math.redraw(nest.random.normal(w, abs(w) * mc.WEIGHT_REL_STD),
                                              min=lo, max=hi),
                   "delay": nest.math.redraw(nest.random.normal(d, d * mc.DELAY_REL_STD),
                                             min=0.5 * case.dt * 1e3, max=float("inf"))}
            nest.Connect(pops[j], pops[i], {"rule": "fixed_total_number", "N": k}, syn)
    allp = pops[0]
    for p in pops[1:]:
        allp = allp + p
    return allp, pops


if __name__ == "__main__":
    sys.exit(main())
