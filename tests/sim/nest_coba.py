"""Run the COBA network with NEST ``iaf_cond_exp`` in a subprocess, on a given spikenet network's instance.

:func:`run_nest_coba` takes a :func:`spikenet.sim.coba.coba_network`,
writes its connectivity and initial state (voltages, conductances) to an
``.npz`` file and runs this module as a script in a fresh Python process
(NEST installs its own signal handlers). NEST's model is in mV, nS, pF and
ms: ``C_m = g_L tau_m = 200 pF``, ``g_L = 10 nS``; a spikenet conductance
``g`` (units of the leak) is ``10 g`` nS; inhibitory weights are negative
(NEST's sign convention for conductance models). Delays are the minimal one
(``dt``): a spike in step k acts from step k + 1, as in spikenet.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

G_L_NS = 10.0


def coba_description(net) -> dict:
    """The arrays NEST needs from a COBA network: connectivity, initial state, parameters."""
    from spikenet.sim.coba import COBA, coba_synapses

    pops = {p.name: p for p in net.populations}
    n_e = pops["exc"].n
    off = {"exc": 0, "inh": n_e}
    syn_e, syn_i = coba_synapses()
    desc = {"dt": net.dt, "n_e": n_e, "n": n_e + pops["inh"].n}
    for name in ("exc", "inh"):
        rows, cols = [], []
        for c in net.connections:
            if c.pre.name == name:
                w = c.weights.tocoo()
                rows.append(w.row + off[c.post.name])
                cols.append(w.col + off[name])
        desc[f"{name}_post"] = np.concatenate(rows)
        desc[f"{name}_pre"] = np.concatenate(cols)
    scale = COBA["V_th"] - COBA["V_reset"]
    v0 = np.concatenate([pops[k].init["v"][0] for k in ("exc", "inh")])
    desc["V0"] = COBA["V_reset"] + scale * v0
    desc["ge0"] = np.concatenate([net._cond_init[(pops[k].index, syn_e)][0] for k in ("exc", "inh")])
    desc["gi0"] = np.concatenate([net._cond_init[(pops[k].index, syn_i)][0] for k in ("exc", "inh")])
    return desc


def run_nest_coba(net, T, timeout=3000) -> dict:
    """Spike trains ``{"exc": [...], "inh": [...]}`` (s) of NEST's run of ``net``'s instance for ``T`` s."""
    desc = coba_description(net)
    desc["T"] = T
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, **{k: np.asarray(v) for k, v in desc.items()})
        proc = subprocess.run([sys.executable, __file__, str(src), str(dst)], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "PYNEST_QUIET": "1"})
        if proc.returncode != 0:
            raise RuntimeError(f"NEST run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        with np.load(dst, allow_pickle=False) as out:
            senders, times = out["senders"], out["times"]
    n, n_e = int(desc["n"]), int(desc["n_e"])
    trains = [np.sort(times[senders == i]) for i in range(n)]
    return {"exc": trains[:n_e], "inh": trains[n_e:]}


def _main(src, dst):  # pragma: no cover - runs in the subprocess
    import nest

    from spikenet.sim.coba import COBA

    d = dict(np.load(src, allow_pickle=False))
    ms = 1e3
    nest.ResetKernel()
    nest.verbosity = nest.VerbosityLevel.ERROR
    nest.SetKernelStatus({"resolution": float(d["dt"]) * ms, "rng_seed": 1})
    params = {"C_m": G_L_NS * COBA["tau_m"] * ms, "g_L": G_L_NS, "E_L": COBA["E_l"], "V_th": COBA["V_th"],
              "V_reset": COBA["V_reset"], "E_ex": COBA["E_e"], "E_in": COBA["E_i"],
              "t_ref": COBA["tau_ref"] * ms, "tau_syn_ex": COBA["tau_e"] * ms,
              "tau_syn_in": COBA["tau_i"] * ms, "I_e": 0.0}
    pop = nest.Create("iaf_cond_exp", int(d["n"]), params=params)
    pop.set([{"V_m": float(v), "g_ex": G_L_NS * float(ge), "g_in": G_L_NS * float(gi)}
             for v, ge, gi in zip(d["V0"], d["ge0"], d["gi0"])])
    ids = np.asarray(pop.tolist())
    for name, w in (("exc", G_L_NS * COBA["w_e"]), ("inh", -G_L_NS * COBA["w_i"])):
        m = d[f"{name}_pre"].size
        nest.Connect(ids[d[f"{name}_pre"]], ids[d[f"{name}_post"]], "one_to_one",
                     syn_spec={"weight": np.full(m, w), "delay": np.full(m, float(d["dt"]) * ms)})
    rec = nest.Create("spike_recorder")
    nest.Connect(pop, rec)
    nest.Simulate(float(d["T"]) * ms)
    ev = rec.get("events")
    np.savez(dst, senders=np.asarray(ev["senders"], dtype=np.int64) - ids[0],
             times=np.asarray(ev["times"], dtype=np.float64) / ms)


if __name__ == "__main__":  # pragma: no cover
    _main(sys.argv[1], sys.argv[2])
