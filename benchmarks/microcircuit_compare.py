"""The microcircuit in spikenet and NEST on the same instance: rates, CVs, build and loop time, peak memory.

Each simulator runs in its own process. spikenet builds the instance
(:func:`spikenet.sim.microcircuit.microcircuit_network`), runs it and writes
its spikes and the instance (every synapse, the initial voltages and the DC,
see :mod:`benchmarks.nest_microcircuit`); NEST then runs that instance. The
peak memory of each process is its ``ru_maxrss``; spikenet's is taken before
the instance is written out.

Run ``python -m benchmarks.microcircuit_compare --n-scale 0.1 --k-scale 1 --background dc --T 1
--seeds 1 2 [--nest-threads 1 2] [--refractory grid] [--nest-models iaf_psc_exp iaf_psc_exp_ps]
[--json PATH]``.

``--refractory grid`` runs spikenet with NEST ``iaf_psc_exp``'s refractory
rule (an internal switch: the voltage held for ``round(t_ref / dt)`` whole
steps after the spike's step) instead of its own (the refractory period
starts at the spike time inside its step); ``--nest-models`` adds NEST's
neuron with precise spike times, ``iaf_psc_exp_ps``, on the same instance.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _worker(args):  # runs in a subprocess
    import resource

    from benchmarks.nest_microcircuit import describe
    from spikenet.sim.microcircuit import microcircuit_network

    t0 = time.perf_counter()
    net = microcircuit_network(n_scale=args.n_scale, k_scale=args.k_scale, background=args.background,
                               T=args.T, seed=args.seed)
    if args.refractory == "grid":
        for p in net.populations:
            p._grid_refractory = True  # internal switch: NEST iaf_psc_exp's refractory rule
    t1 = time.perf_counter()
    res = net.run(args.T)
    t2 = time.perf_counter()
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    off = np.concatenate([[0], np.cumsum([p.n for p in net.populations])])
    senders, times = [], []
    for i, p in enumerate(net.populations):
        t, n, _ = res.spike_events(p.name)
        senders.append(n + off[i])
        times.append(t)
    out = Path(args.worker)
    n_syn = sum(c.weights.nnz for c in net.connections)
    info = {"build_s": t1 - t0, "loop_s": t2 - t1, "maxrss_mb": maxrss, "n_neurons": int(off[-1]),
            "n_synapses": int(n_syn)}
    np.savez(out / "spikenet.npz", senders=np.concatenate(senders), times=np.concatenate(times),
             pop_off=off, info=np.array(json.dumps(info)))
    if args.with_nest:
        np.savez(out / "instance.npz", **{k: np.asarray(v) for k, v in describe(net, args.T).items()})


def _trains(senders, times, off, name_index):
    sel = (senders >= off[name_index]) & (senders < off[name_index + 1])
    s, t = senders[sel] - off[name_index], times[sel]
    order = np.lexsort((t, s))
    s, t = s[order], t[order]
    bounds = np.searchsorted(s, np.arange(off[name_index + 1] - off[name_index] + 1))
    return [t[bounds[i]:bounds[i + 1]] for i in range(bounds.size - 1)]


def stats_of(senders, times, off, t_start, t_stop):
    """:class:`~spikenet.sim.microcircuit.MicrocircuitStats` of flat spike arrays (global neuron ids)."""
    from spikenet.sim.microcircuit import POPULATIONS, microcircuit_stats

    trains = {name: _trains(senders, times, off, i) for i, name in enumerate(POPULATIONS)}
    return microcircuit_stats(trains, t_start=t_start, t_stop=t_stop)


def compare(n_scale, k_scale, background, T, seed, nest_threads=(1,), t_start=0.2, with_nest=True,
            refractory="in-step", nest_models=("iaf_psc_exp",)):
    """Run one instance in spikenet and NEST; returns a dict of statistics and costs per simulator.

    ``refractory``: spikenet's rule (``"in-step"``) or NEST iaf_psc_exp's
    (``"grid"``). Each NEST model in ``nest_models`` runs with each number
    of threads; its results are under ``nest_{threads}t`` for
    ``iaf_psc_exp`` and ``{model}_{threads}t`` otherwise.
    """
    from benchmarks.nest_microcircuit import run_nest

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    out = {"n_scale": n_scale, "k_scale": k_scale, "background": background, "T": T, "seed": seed,
           "t_start": t_start}
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "benchmarks.microcircuit_compare", "--worker", tmp,
               "--n-scale", str(n_scale), "--k-scale", str(k_scale), "--background", background,
               "--T", str(T), "--seeds", str(seed), "--refractory", refractory]
        if with_nest:
            cmd.append("--with-nest")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
        with np.load(Path(tmp) / "spikenet.npz", allow_pickle=False) as d:
            off = d["pop_off"]
            st = stats_of(d["senders"], d["times"], off, t_start, T)
            out["spikenet"] = {**json.loads(str(d["info"])), "rates": st.rates.tolist(), "cv": st.cv.tolist()}
        if with_nest:
            with np.load(Path(tmp) / "instance.npz", allow_pickle=False) as d:
                desc = dict(d)
            for model in nest_models:
                for th in nest_threads:
                    desc["threads"] = th
                    desc["model"] = model
                    res = run_nest(desc)
                    st = stats_of(res["senders"], res["times"], off, t_start, T)
                    key = f"nest_{th}t" if model == "iaf_psc_exp" else f"{model}_{th}t"
                    out[key] = {k: res[k] for k in ("build_s", "loop_s", "maxrss_mb", "nest_version")}
                    out[key].update({"rates": st.rates.tolist(), "cv": st.cv.tolist()})
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-scale", type=float, default=0.1)
    parser.add_argument("--k-scale", type=float, default=1.0)
    parser.add_argument("--background", choices=("dc", "poisson"), default="dc")
    parser.add_argument("--T", type=float, default=1.0)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--nest-threads", type=int, nargs="+", default=[1])
    parser.add_argument("--t-start", type=float, default=0.2)
    parser.add_argument("--no-nest", action="store_true")
    parser.add_argument("--refractory", choices=("in-step", "grid"), default="in-step")
    parser.add_argument("--nest-models", nargs="+", default=["iaf_psc_exp"],
                        choices=("iaf_psc_exp", "iaf_psc_exp_ps"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--with-nest", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        args.seed = args.seeds[0]
        _worker(args)
        return
    rows = []
    for seed in args.seeds:
        r = compare(args.n_scale, args.k_scale, args.background, args.T, seed, tuple(args.nest_threads),
                    args.t_start, with_nest=not args.no_nest, refractory=args.refractory,
                    nest_models=tuple(args.nest_models))
        rows.append(r)
        print(json.dumps(r), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
