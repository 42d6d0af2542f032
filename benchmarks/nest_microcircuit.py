"""Run a spikenet microcircuit instance in NEST (``iaf_psc_exp``), synapse by synapse, in a subprocess.

:func:`describe` turns a network built by
:func:`spikenet.sim.microcircuit.microcircuit_network` into plain arrays in
NEST's units (every synapse's pre- and post-synaptic neuron, weight in pA
and delay in ms; initial voltages in mV; DC in pA). :func:`run_nest` writes
them to an ``.npz`` file and runs this module as a script in a fresh
process, which creates the populations with the same parameters and
voltages, connects every synapse with ``one_to_one`` and simulates. With a
Poisson background NEST uses its own ``poisson_generator`` per population
(the same rate and weight, other random numbers). The script reports the
spikes, the build time (create + connect), the simulation time and the
process's peak resident memory.

The description's optional ``model`` entry names the NEST neuron
(default ``"iaf_psc_exp"``; ``"iaf_psc_exp_ps"`` is NEST's neuron with
precise spike times, whose refractory period and spike transmission are
not bound to the grid).

Spike times: NEST stamps a spike with the end of the step in which the
voltage crossed threshold; spikenet places it inside that step. So a spike
of spikenet at ``t`` is NEST's spike at ``(floor(t / dt) + 1) dt``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

MS = 1e3  # ms per s


def describe(net, T, threads=1, seed=1) -> dict:
    """Arrays (NEST units) describing the microcircuit ``net`` for a run of ``T`` seconds."""
    from spikenet.sim.microcircuit import NEURON

    par = net.microcircuit
    kdrive = par.drive_per_pa
    tau_syn = NEURON["tau_syn"]
    scale = NEURON["V_th"] - NEURON["E_L"]
    pops = net.populations
    off = np.concatenate([[0], np.cumsum([p.n for p in pops])]).astype(np.int64)
    pre, post, w, d = [], [], [], []
    for c in net.connections:
        coo = c.weights.tocoo()
        pre.append(coo.col.astype(np.int64) + off[c.pre.index])
        post.append(coo.row.astype(np.int64) + off[c.post.index])
        w.append(coo.data / (kdrive * tau_syn))
        if np.ndim(c.delay) == 0:
            d.append(np.full(coo.data.size, float(c.delay)))
        else:
            dc = c.delay.tocoo()
            if not (np.array_equal(dc.row, coo.row) and np.array_equal(dc.col, coo.col)):
                raise RuntimeError("weights and delays of a connection are not aligned")
            d.append(dc.data)
    v0 = np.concatenate([np.ravel(p.init["v"]) * scale + NEURON["E_L"] for p in pops])
    i_e = np.array([float(np.mean(p.bias)) / kdrive for p in pops])
    desc = {"dt": net.dt, "T": float(T), "threads": int(threads), "seed": int(seed),
            "pop_n": np.array([p.n for p in pops]), "i_e": i_e, "v0": v0,
            "pre": np.concatenate(pre), "post": np.concatenate(post), "w": np.concatenate(w),
            "d": np.concatenate(d) * MS}
    if par.background == "poisson":
        from spikenet.sim.microcircuit import BG_RATE, DELAY_POISSON

        desc.update({"pg_rate": BG_RATE * par.ext_indegree.astype(float), "pg_w": par.psc_ext,
                     "pg_d": DELAY_POISSON * MS})
    return desc


def run_nest(desc: dict, timeout=3000) -> dict:
    """Run ``desc`` in a NEST subprocess.

    Returns
    -------
    dict
        ``senders`` (global neuron index, 0-based), ``times`` (s, NEST's
        end-of-step stamps), ``build_s``, ``loop_s`` (s) and ``maxrss_mb``.
    """
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, **{k: np.asarray(v) for k, v in desc.items()})
        # the repository root first on the path: the script imports this checkout's spikenet
        root = str(Path(__file__).resolve().parent.parent)
        path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)
        proc = subprocess.run([sys.executable, __file__, str(src), str(dst)], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "PYNEST_QUIET": "1", "PYTHONPATH": path})
        if proc.returncode != 0:
            raise RuntimeError(f"NEST run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        with np.load(dst, allow_pickle=False) as out:
            res = {"senders": out["senders"], "times": out["times"]}
            res.update(json.loads(str(out["info"])))
        return res


def _main(src, dst):  # pragma: no cover - runs in the subprocess
    import resource
    import time

    import nest

    from spikenet.sim.microcircuit import NEURON

    d = dict(np.load(src, allow_pickle=False))
    t0 = time.perf_counter()
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    model = str(d.get("model", "iaf_psc_exp"))
    nest.SetKernelStatus({"resolution": float(d["dt"]) * MS, "rng_seed": int(d["seed"]),
                          "local_num_threads": int(d["threads"])})
    params = {"E_L": NEURON["E_L"], "V_th": NEURON["V_th"], "V_reset": NEURON["V_reset"],
              "C_m": NEURON["C_m"],
              "tau_m": NEURON["tau_m"] * MS, "tau_syn_ex": NEURON["tau_syn"] * MS,
              "tau_syn_in": NEURON["tau_syn"] * MS, "t_ref": NEURON["t_ref"] * MS}
    # a precise model (iaf_psc_exp_ps) switches NEST to sending spikes with their offsets in the step
    nodes = nest.Create(model, int(d["pop_n"].sum()), params=params)
    off = np.concatenate([[0], np.cumsum(d["pop_n"])]).astype(int)
    for p in range(d["pop_n"].size):
        nodes[off[p]:off[p + 1]].set(I_e=float(d["i_e"][p]))
    nodes.V_m = d["v0"]
    ids = np.asarray(nodes.tolist())
    pre, post, w, dl = d["pre"], d["post"], d["w"], d["d"]
    chunk = 5_000_000
    for a in range(0, pre.size, chunk):
        b = min(pre.size, a + chunk)
        nest.Connect(ids[pre[a:b]], ids[post[a:b]], "one_to_one",
                     syn_spec={"synapse_model": "static_synapse", "weight": w[a:b], "delay": dl[a:b]})
    if "pg_rate" in d:
        for p in range(d["pop_n"].size):
            pg = nest.Create("poisson_generator", params={"rate": float(d["pg_rate"][p])})
            nest.Connect(pg, nodes[off[p]:off[p + 1]], "all_to_all",
                         syn_spec={"weight": float(d["pg_w"]), "delay": float(d["pg_d"])})
    rec = nest.Create("spike_recorder")
    nest.Connect(nodes, rec)
    nest.Prepare()
    nest.Cleanup()
    t1 = time.perf_counter()
    nest.Simulate(float(d["T"]) * MS)
    t2 = time.perf_counter()
    ev = rec.get("events")
    info = {"build_s": t1 - t0, "loop_s": t2 - t1,
            "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            "nest_version": nest.__version__}
    np.savez(dst, senders=np.asarray(ev["senders"], dtype=np.int64) - int(ids[0]),
             times=np.asarray(ev["times"], dtype=np.float64) / MS, info=np.array(json.dumps(info)))


if __name__ == "__main__":  # pragma: no cover
    _main(sys.argv[1], sys.argv[2])
