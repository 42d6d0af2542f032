"""Run a network of NEST ``iaf_psc_delta`` neurons in a subprocess (NEST reference for Delta synapses).

The tests describe a network as arrays, :func:`run_nest` writes them to an
``.npz`` file and runs this module as a script in a fresh Python process
(NEST installs its own signal handlers and prints a banner; it stays out of
the test process). Units follow spikenet's normalised LIF scaled to mV:
voltage ``V = V_SCALE * v`` with rest 0, so a jump ``w`` (threshold units) is
a NEST weight of ``V_SCALE * w`` mV. Times are seconds in the description,
ms inside NEST.

Description keys (numpy arrays or scalars):

- ``dt``, ``T`` (s); ``seed`` (NEST's ``rng_seed``).
- ``pop_n`` (P,) neurons per population; ``pop_tau_m``, ``pop_tau_ref`` (s),
  ``pop_v_th``, ``pop_v_reset``, ``pop_bias`` (normalised units), ``v0``
  (sum(pop_n),) initial voltages (normalised).
- connections ``c{i}_pre``, ``c{i}_post`` (population indices as 0-d
  arrays), ``c{i}_i`` (post indices), ``c{i}_j`` (pre indices), ``c{i}_w``
  (weights, normalised), ``c{i}_d`` (delays, s), for ``i < n_conn``.
- spike generators ``n_gen``; ``gen_times`` (concatenated spike times, s)
  with ``gen_ptr`` (n_gen + 1,); generator connections ``g_i`` (post neuron,
  global index over the populations in order), ``g_j`` (generator), ``g_w``,
  ``g_d`` as above.
- Poisson generators (one per neuron, NEST ``poisson_generator``
  semantics): ``pg_rate`` (P,) Hz (0: none), ``pg_w``, ``pg_d``.

The output ``.npz`` holds ``senders`` (global neuron index) and ``times``
(s) of every spike.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

#: mV per threshold unit (Brunel 2000: theta = 20 mV above rest).
V_SCALE = 20.0


def nest_available() -> bool:
    """True when ``import nest`` works in a subprocess."""
    try:
        out = subprocess.run([sys.executable, "-c", "import nest"], capture_output=True, timeout=120,
                             env={**os.environ, "PYNEST_QUIET": "1"})
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0


def run_nest(desc: dict, timeout=3000) -> tuple[np.ndarray, np.ndarray]:
    """Run the description in a NEST subprocess; returns ``(senders, times)`` of all spikes."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.npz"
        dst = Path(tmp) / "out.npz"
        np.savez(src, **{k: np.asarray(v) for k, v in desc.items()})
        proc = subprocess.run([sys.executable, __file__, str(src), str(dst)], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "PYNEST_QUIET": "1"})
        if proc.returncode != 0:
            raise RuntimeError(f"NEST run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        with np.load(dst, allow_pickle=False) as out:
            return out["senders"], out["times"]


def _main(src, dst):  # pragma: no cover - runs in the subprocess
    import nest

    d = dict(np.load(src, allow_pickle=False))
    ms = 1e3
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": float(d["dt"]) * ms, "rng_seed": int(d.get("seed", 1)),
                          "local_num_threads": int(d.get("threads", 1))})
    pops = []
    for p, n in enumerate(d["pop_n"]):
        pops.append(nest.Create("iaf_psc_delta", int(n), params={
            "E_L": 0.0, "V_reset": V_SCALE * float(d["pop_v_reset"][p]),
            "V_th": V_SCALE * float(d["pop_v_th"][p]),
            "tau_m": float(d["pop_tau_m"][p]) * ms, "t_ref": float(d["pop_tau_ref"][p]) * ms, "C_m": 250.0,
            # tau_m dV/dt = -V + I_e tau_m / C_m: I_e = V_SCALE * J * C_m / tau_m
            "I_e": V_SCALE * float(d["pop_bias"][p]) * 250.0 / (float(d["pop_tau_m"][p]) * ms),
        }))
    off = np.concatenate([[0], np.cumsum(d["pop_n"])]).astype(int)
    v0 = d["v0"]
    for p, pop in enumerate(pops):
        pop.V_m = list(V_SCALE * v0[off[p]:off[p + 1]])
    for c in range(int(d.get("n_conn", 0))):
        pre, post = pops[int(d[f"c{c}_pre"])], pops[int(d[f"c{c}_post"])]
        j, i = d[f"c{c}_j"].astype(int), d[f"c{c}_i"].astype(int)
        if j.size:
            nest.Connect(np.asarray(pre.tolist())[j], np.asarray(post.tolist())[i], "one_to_one",
                         syn_spec={"weight": V_SCALE * d[f"c{c}_w"], "delay": d[f"c{c}_d"] * ms})
    n_gen = int(d.get("n_gen", 0))
    if n_gen:
        gens = nest.Create("spike_generator", n_gen)
        ptr = d["gen_ptr"]
        times = np.round(d["gen_times"] * ms, 6)
        gens.set([{"spike_times": list(times[ptr[q]:ptr[q + 1]])} for q in range(n_gen)])
        ids = np.concatenate([np.asarray(pop.tolist()) for pop in pops])
        nest.Connect(np.asarray(gens.tolist())[d["g_j"].astype(int)], ids[d["g_i"].astype(int)], "one_to_one",
                     syn_spec={"weight": V_SCALE * d["g_w"], "delay": d["g_d"] * ms})
    rates = d.get("pg_rate")
    if rates is not None:
        for p, pop in enumerate(pops):
            if rates[p] > 0:
                pg = nest.Create("poisson_generator", params={"rate": float(rates[p])})
                nest.Connect(pg, pop, syn_spec={"weight": V_SCALE * float(d["pg_w"]),
                                                "delay": float(d["pg_d"]) * ms})
    rec = nest.Create("spike_recorder")
    for pop in pops:
        nest.Connect(pop, rec)
    nest.Simulate(float(d["T"]) * ms)
    ev = rec.get("events")
    first = min(pop.tolist()[0] for pop in pops)
    np.savez(dst, senders=np.asarray(ev["senders"], dtype=np.int64) - first,
             times=np.asarray(ev["times"], dtype=np.float64) / ms)


if __name__ == "__main__":  # pragma: no cover
    _main(sys.argv[1], sys.argv[2])
