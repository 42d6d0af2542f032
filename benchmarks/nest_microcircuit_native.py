"""The microcircuit built by NEST itself, with NEST's connection rules: build, loop, memory, rates.

The model and its parameters are those of :mod:`spikenet.sim.microcircuit`
(NEST's implementation of Potjans & Diesmann 2014): ``iaf_psc_exp`` neurons,
``fixed_total_number`` projections with multapses and without autapses
(one copy of ``static_synapse`` per source population),
normal weights redrawn to keep their sign, normal delays redrawn above one
step, initial voltages normal per population, DC background. Unlike
:mod:`benchmarks.nest_microcircuit`, which imports spikenet's instance synapse
by synapse, NEST draws its own instance here: this is how NEST runs the
model, and it is the only way the full-scale model (3 x 10^8 synapses) fits
in memory beside nothing else on a 24 GB machine. Different seeds give
different instances, so the rates of several seeds give NEST's seed spread.

Run ``python -m benchmarks.nest_microcircuit_native [--n-scale 1] [--T 1] [--threads 2] [--seed 1]
[--json PATH]``. Prints and writes build time (Create and Connect), loop time (``Simulate``),
peak resident memory (``ru_maxrss``), the number of spikes and the rate of each population over
``[0, T]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import time


def run(n_scale=1.0, T=1.0, threads=2, seed=1, dt=1e-4) -> dict:
    """Build and run the DC-background microcircuit in NEST; the measurements as a dict."""
    import nest
    import numpy as np

    from spikenet.sim.microcircuit import (
        DELAY_REL_STD,
        NEURON,
        POPULATIONS,
        V0,
        WEIGHT_REL_STD,
        microcircuit_parameters,
    )

    par = microcircuit_parameters(n_scale, 1.0, "dc")
    ms = 1e3
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": dt * ms, "rng_seed": int(seed), "local_num_threads": int(threads),
                          "print_time": False})
    params = {"C_m": NEURON["C_m"], "tau_m": NEURON["tau_m"] * ms, "tau_syn_ex": NEURON["tau_syn"] * ms,
              "tau_syn_in": NEURON["tau_syn"] * ms, "t_ref": NEURON["t_ref"] * ms, "E_L": NEURON["E_L"],
              "V_th": NEURON["V_th"], "V_reset": NEURON["V_reset"]}
    t0 = time.perf_counter()
    mean, std = V0["optimized"]
    pops = []
    for i in range(8):
        pop = nest.Create("iaf_psc_exp", int(par.num_neurons[i]), params={**params, "I_e": float(par.dc[i])})
        pop.V_m = nest.random.normal(mean=float(mean[i]), std=float(std[i]))
        pops.append(pop)
    rec = nest.Create("spike_recorder")
    # one copy of static_synapse per source population: NEST stores at most
    # 2^27 - 2 connections per synapse model and virtual process, fewer than
    # the full-scale model's 3 x 10^8 on two threads
    for name in POPULATIONS:
        nest.CopyModel("static_synapse", f"static_{name}")
    for i in range(8):
        for j in range(8):
            k = int(par.num_synapses[i, j])
            if k == 0:
                continue
            w, d = float(par.psc_mean[i, j]), float(par.delay_mean[i, j]) * ms
            w_lo, w_hi = (0.0, float("inf")) if w > 0 else (float("-inf"), 0.0)
            weight = nest.math.redraw(nest.random.normal(mean=w, std=abs(w) * WEIGHT_REL_STD), min=w_lo,
                                      max=w_hi)
            delay = nest.math.redraw(nest.random.normal(mean=d, std=d * DELAY_REL_STD), min=dt * ms,
                                     max=float("inf"))
            nest.Connect(pops[j], pops[i], {"rule": "fixed_total_number", "N": k, "allow_autapses": False,
                                            "allow_multapses": True},
                         {"synapse_model": f"static_{POPULATIONS[j]}", "weight": weight, "delay": delay})
    for pop in pops:
        nest.Connect(pop, rec)
    nest.Prepare()
    nest.Cleanup()
    t1 = time.perf_counter()
    nest.Simulate(T * ms)
    t2 = time.perf_counter()
    ev = rec.get("events")
    senders = np.asarray(ev["senders"])
    first = np.array([pop[0].global_id for pop in pops])
    counts = np.array([np.count_nonzero((senders >= first[i]) & (senders < first[i] + len(pops[i])))
                       for i in range(8)])
    rates = counts / (par.num_neurons * T)
    return {"n_scale": n_scale, "T": T, "threads": threads, "seed": seed, "build_s": t1 - t0,
            "loop_s": t2 - t1, "maxrss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
            "n_neurons": int(par.num_neurons.sum()),
            "n_synapses": int(nest.GetKernelStatus("num_connections")),
            "n_spikes": int(senders.size), "rates": dict(zip(POPULATIONS, rates.tolist())),
            "nest_version": nest.__version__}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n-scale", type=float, default=1.0)
    p.add_argument("--T", type=float, default=1.0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", default=None, help="write the result here")
    a = p.parse_args(argv)
    out = run(a.n_scale, a.T, a.threads, a.seed)
    print(json.dumps(out, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
