"""Amplitudes delivered by NEST's ``tsodyks2_synapse``, run in a subprocess (NEST reference for STP).

One spike train (a ``spike_generator`` relayed by a ``parrot_neuron``, so
that it may use a plastic synapse) reaches, through one ``tsodyks2_synapse``
per parameter set, an ``iaf_psc_delta`` neuron that never fires. Its
membrane potential, recorded every step, jumps by the delivered weight at
each arrival; between arrivals it decays with ``tau_m``, so the jumps are
``V[k] - exp(-dt/tau_m) V[k-1]``. Times are seconds here, ms inside NEST.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np


def run_nest_tsodyks(dt, T, times, weight, delay, tau_m, rules, timeout=600) -> np.ndarray:
    """Membrane potentials (steps, len(rules)) of the targets, one per ``(U, tau_rec, tau_facil)`` rule."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.npz"
        dst = Path(tmp) / "out.npz"
        np.savez(src, dt=dt, T=T, times=np.asarray(times, float), weight=weight, delay=delay, tau_m=tau_m,
                 rules=np.asarray(rules, float))
        proc = subprocess.run([sys.executable, __file__, str(src), str(dst)], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "PYNEST_QUIET": "1"})
        if proc.returncode != 0:
            raise RuntimeError(f"NEST run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        with np.load(dst, allow_pickle=False) as out:
            return out["v"]


def _main(src, dst):  # pragma: no cover - runs in the subprocess
    import nest

    d = dict(np.load(src, allow_pickle=False))
    ms = 1e3
    dt = float(d["dt"])
    nest.ResetKernel()
    nest.set_verbosity("M_ERROR")
    nest.SetKernelStatus({"resolution": dt * ms})
    gen = nest.Create("spike_generator", params={"spike_times": list(np.round(d["times"] * ms, 6))})
    parrot = nest.Create("parrot_neuron")
    nest.Connect(gen, parrot, syn_spec={"delay": dt * ms})
    rules = d["rules"]
    targets = nest.Create("iaf_psc_delta", len(rules), params={
        "E_L": 0.0, "V_reset": 0.0, "V_m": 0.0, "V_th": 1e9, "t_ref": 0.0, "tau_m": float(d["tau_m"]) * ms})
    for q, (U, tau_rec, tau_facil) in enumerate(rules):
        nest.Connect(parrot, targets[q], syn_spec={
            "synapse_model": "tsodyks2_synapse", "U": float(U), "u": float(U), "x": 1.0,
            "tau_rec": float(tau_rec) * ms, "tau_fac": float(tau_facil) * ms,
            "weight": float(d["weight"]), "delay": float(d["delay"]) * ms})
    mm = nest.Create("multimeter", params={"record_from": ["V_m"], "interval": dt * ms})
    nest.Connect(mm, targets)
    nest.Simulate(float(d["T"]) * ms)
    ev = mm.get("events")
    senders = np.asarray(ev["senders"])
    first = targets.tolist()[0]
    v = np.stack([np.asarray(ev["V_m"])[senders == first + q] for q in range(len(rules))], axis=1)
    np.savez(dst, v=v)


if __name__ == "__main__":  # pragma: no cover
    _main(sys.argv[1], sys.argv[2])
