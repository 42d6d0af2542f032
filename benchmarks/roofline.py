"""Roofline of spikenet's per-neuron kernels on this CPU.

Run ``python -m benchmarks.roofline`` (options: ``--rounds R``, ``--doc
PATH`` to write the Markdown page, e.g. ``docs/roofline.md``, ``--json
PATH``, ``--tiny`` for a seconds-long smoke run, ``--no-gate`` to measure
whatever the load). It prints the page.

What it does:

1. **The machine.** The vector instruction sets (``avx2``, ``avx512f``,
   ``fma`` in ``/proc/cpuinfo``) give the register width; a tiny Numba
   kernel (:func:`fma_peak`: 32 independent fused multiply-adds per element
   over an L1-resident array, vectorised by LLVM) measures the peak
   floating-point rate of one thread in float64 and float32, and a stream
   kernel (:func:`stream`: ``a[i] = c a[i] + b[i]``, 16 bytes read and 8
   written per element) the bandwidth of one thread with its data in L1, L2,
   L3 and main memory (working sets of half of each cache level, from
   ``/sys/devices/system/cpu/cpu0/cache``).
2. **The kernels.** :data:`KERNELS` states, counted from spikenet's code,
   the floating-point operations and bytes moved per neuron-step of each
   kernel's vectorised per-neuron pass, and the bytes of state per neuron
   that the time loop keeps hot; the cache level that holds this working set
   gives the bandwidth, and the roofline bound per neuron-step is
   ``max(flops / peak, bytes / bandwidth)``.
3. **The measurement.** On one thread, timed by CPU time. Each round runs spikenet's kernel and the
   hand-vectorised limit kernel of :mod:`benchmarks.limit_kernels` once per
   model, in an order that alternates between rounds, each run through the
   load gate of :mod:`benchmarks.protocol`; the page reports medians over
   rounds, the load before each run, and each kernel as a fraction of the
   bound (bound time / measured time: 1 is the roofline).
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numba import njit

from benchmarks import cases
from benchmarks.protocol import LoadGate, run_rounds


@dataclass(frozen=True)
class KernelCount:
    """Work of one kernel per neuron-step, counted from its source.

    Attributes
    ----------
    name : str
        Model and case, e.g. ``"LIF-100k stepped"``.
    kernel : str
        The spikenet function whose vectorised pass is counted.
    flops : int
        Floating-point operations per neuron-step (add, subtract, multiply,
        divide; a fused multiply-add counts 2; comparisons, selects and
        min/max are not counted).
    bytes : int
        Bytes loaded plus stored per neuron-step by that pass.
    state_bytes : int
        Bytes per neuron of the arrays the time loop keeps hot (the working
        set, per neuron).
    hot_neurons : int or None
        Neurons whose state the time loop cycles through before returning to
        the first one: the block size of a blocked kernel, None for a kernel
        that sweeps the whole population every step.
    note : str
        How the numbers were counted.
    """

    name: str
    kernel: str
    flops: int
    bytes: int
    state_bytes: int
    hot_neurons: int | None
    note: str


#: Counted by hand from the code (see each note); float64 state.
KERNELS = {
    "lif": KernelCount(
        "LIF-100k stepped", "spikenet.sim.kernels.lif.lif_run", 3, 33, 25, 512,
        "vector pass: v - J and an FMA (v' = J + (v - J) e^{-dt/tau_m}); the end time of the "
        "refractory period is compared, not updated; loads v, that time and J (24 B), stores v and "
        "a 1-byte event flag (9 B); a block of 512 neurons keeps v, the end times, J and the "
        "flags (25 B each) for the whole time loop. Spikes and refractory exits (about 1 % of "
        "neuron-steps here) take a scalar path with a log or an exp, not counted."),
    "lif_quiet": KernelCount(
        "LIF-100k stepped, no spikes", "spikenet.sim.kernels.lif.lif_run", 3, 33, 25, 512,
        "the same kernel with every drive 0.5 (below threshold): the vector pass alone, "
        "without the scalar event path, run through the kernel function directly."),
    "cuba": KernelCount(
        "CUBA-4000", "spikenet.sim.kernels.network._lif_fused", 9, 73, 41, None,
        "neuron update with two exponential synapses: u = (1 - a) J + c0 x0 + c1 x1 (1 multiply, "
        "2 FMAs), x0, x1 decayed (2 multiplies), v' = a v + u (1 FMA); loads x0, x1, the "
        "refractory end time and v (32 B) and J (8 B, from a block of the population's one drive "
        "that stays in L1), stores x0, x1, u, v (32 B) and a flag (1 B); every step sweeps all "
        "neurons (41 B each). Spike propagation (about 80 synaptic events per spike) is not "
        "counted, so the bound is optimistic for this case."),
    "hh": KernelCount(
        "HH-10k", "spikenet.sim.kernels.hh.hh_step", 272, 72, 40, 256,
        "one fast_exp (35 flops: Cody-Waite reduction and a degree-12 polynomial by Estrin's "
        "scheme) and powers of it for the six rate functions (90 flops with the two "
        "x / (1 - e^-x) series), the three steady states with one division (12), three gate "
        "updates by exponential Euler (3 x 38, each with fast_exp_decay), the conductances (7), "
        "v_inf (6, one division) and v by exponential Euler (38); loads v, m, h, n, J (40 B), "
        "stores v, m, h, n (32 B); a block of 256 neurons keeps its 40 B each in L1."),
}

#: Cases measured per model: (neurons, duration in s, time step in s).
SIZES = {"lif": (100_000, 0.2, 1e-4), "lif_quiet": (100_000, 0.2, 1e-4), "cuba": (4000, 1.0, 1e-4),
         "hh": (10_000, 0.05, 1e-5)}
TINY_SIZES = {"lif": (1500, 0.01, 1e-4), "lif_quiet": (1500, 0.01, 1e-4), "cuba": (200, 0.02, 1e-4),
              "hh": (300, 0.002, 1e-5)}


def bound_ns(flops, nbytes, peak_gflops, bw_gbs):
    """Roofline bound on the time per neuron-step (ns): ``max(flops / peak, bytes / bandwidth)``.

    Parameters
    ----------
    flops, nbytes : float
        Work per neuron-step (operations, bytes).
    peak_gflops, bw_gbs : float
        Peak rate (1e9 operations/s) and bandwidth (1e9 bytes/s).

    Returns
    -------
    tuple of (float, str)
        The bound in ns and ``"compute"`` or ``"memory"``, whichever binds.
    """
    if not (peak_gflops > 0 and bw_gbs > 0):
        raise ValueError(f"peak_gflops and bw_gbs must be > 0, got {peak_gflops}, {bw_gbs}")
    t_c, t_m = flops / peak_gflops, nbytes / bw_gbs
    return (t_c, "compute") if t_c >= t_m else (t_m, "memory")


def cache_level(working_set, caches):
    """Smallest cache (``"L1"``, ...) holding ``working_set`` bytes, else ``"DRAM"``.

    ``caches`` maps level names to per-core sizes in bytes, smallest first.
    """
    for name, size in caches.items():
        if working_set <= size:
            return name
    return "DRAM"


# ------------------------------------------------------------------ machine
def cpu_info():
    """Model name, vector extensions and data-cache sizes (bytes per core) of CPU 0."""
    flags, model = set(), platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
            elif line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    width = 512 if "avx512f" in flags else 256 if "avx2" in flags else 128
    caches = {}
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    for idx in sorted(base.glob("index*")):
        try:
            kind = (idx / "type").read_text().strip()
            level = int((idx / "level").read_text())
            size = (idx / "size").read_text().strip()
        except (OSError, ValueError):
            continue
        if kind == "Instruction":
            continue
        mult = {"K": 1024, "M": 2**20, "G": 2**30}.get(size[-1], 1)
        caches[f"L{level}"] = int(size.rstrip("KMG")) * mult
    if not caches:  # fallback: typical sizes
        caches = {"L1": 32 * 1024, "L2": 512 * 1024, "L3": 8 * 2**20}
    return {"model": model, "vector_bits": width,
            "extensions": sorted(f for f in flags if f in ("avx", "avx2", "fma", "avx512f", "avx512dq",
                                                           "avx512vl", "avx512bw")),
            "caches": dict(sorted(caches.items()))}


@njit(cache=True, fastmath={"contract"})
def fma_peak(a, reps, c, d):
    """``reps`` sweeps of 32 FMAs per element of ``a`` (4 independent chains of 8)."""
    for _ in range(reps):
        for i in range(a.shape[0]):
            x0 = a[i]
            x1 = x0 + d
            x2 = x1 + d
            x3 = x2 + d
            for _k in range(8):
                x0 = x0 * c + d
                x1 = x1 * c + d
                x2 = x2 * c + d
                x3 = x3 * c + d
            a[i] = (x0 + x1) * (x2 + x3)


@njit(cache=True, fastmath={"contract"})
def stream(a, b, reps, c):
    """``reps`` sweeps of ``a[i] = c a[i] + b[i]`` (16 B read, 8 B written per element)."""
    for _ in range(reps):
        for i in range(a.shape[0]):
            a[i] = a[i] * c + b[i]


def _best(fn, repeats):
    best = math.inf
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best


def measure_machine(info, tiny=False):
    """Peak GFLOP/s (float64, float32) and stream bandwidth (GB/s) per cache level, one thread."""
    out = {}
    n, reps = 1024, (50 if tiny else 20_000)
    for dt in (np.float64, np.float32):
        a = np.ones(n, dtype=dt)
        c, d = dt(0.9999999), dt(1e-9)
        fma_peak(a, 1, c, d)
        s = _best(lambda a=a, c=c, d=d: fma_peak(a, reps, c, d), 3)
        out[f"peak_gflops_{np.dtype(dt).name}"] = n * reps * (8 * 4 * 2 + 6) / s / 1e9
    bw = {}
    levels = dict(info["caches"])
    levels["DRAM"] = 4 * max(levels.values())
    for name, size in levels.items():
        m = max(64, size // 2 // 16)  # two float64 arrays fill half the level
        if tiny:
            m = min(m, 4096)
        a, b = np.ones(m), np.ones(m)
        reps_bw = max(1, int((2e6 if tiny else 2e8) // m))
        stream(a, b, 1, 0.5)
        s = _best(lambda a=a, b=b, r=reps_bw: stream(a, b, r, 0.5), 3)
        bw[name] = 24.0 * m * reps_bw / s / 1e9
    out["bandwidth_gbs"] = bw
    return out


# ------------------------------------------------------------------ kernels
def _run_lif(which, n, T, dt):
    J = cases.lif_drives(n)
    if which == "limit":
        from benchmarks import limit_kernels as lk

        counts = np.zeros(n, dtype=np.int64)
        steps = round(T / dt)
        t0 = time.process_time()
        lk.lif_run(J, steps, dt, cases.LIF_TAU_M, cases.LIF_TAU_REF, counts)
        return time.process_time() - t0, n * steps
    import spikenet.sim as sn

    sim = importlib.import_module("spikenet.sim.simulate")
    old, sim._LIF_CLOSED_FORM = sim._LIF_CLOSED_FORM, False  # the stepped kernel, as in the benchmarks
    try:
        lif = sn.LIF(tau_m=cases.LIF_TAU_M, tau_ref=cases.LIF_TAU_REF)
        t0 = time.process_time()
        res = sn.simulate(lif, J, T, dt=dt)
        return time.process_time() - t0, n * res.steps
    finally:
        sim._LIF_CLOSED_FORM = old


def _run_lif_quiet(which, n, T, dt):
    J = np.full(n, 0.5)
    steps = round(T / dt)
    if which == "limit":
        from benchmarks import limit_kernels as lk

        counts = np.zeros(n, dtype=np.int64)
        t0 = time.process_time()
        lk.lif_run(J, steps, dt, cases.LIF_TAU_M, cases.LIF_TAU_REF, counts)
        return time.process_time() - t0, n * steps
    from spikenet.sim.kernels.lif import lif_run

    v, te = np.zeros(n), np.zeros(n)  # te: end of the refractory period (s), 0 = free from the start
    consts = np.array([math.exp(-dt / cases.LIF_TAU_M), 0.0, 1.0])
    spk_t, spk_k = np.empty((n, 2)), np.empty((n, 2), dtype=np.int64)
    cnt = np.zeros(n, dtype=np.int64)
    t0 = time.process_time()
    lif_run(v, te, J[None, :], 0, 0, 0.0, dt, cases.LIF_TAU_M, cases.LIF_TAU_REF, 1.0, 0.0, consts,
            spk_t, spk_k, cnt, np.empty((steps, 0)))
    return time.process_time() - t0, n * steps


def _run_hh(which, n, T, dt):
    J = cases.hh_drives(n)
    steps = round(T / dt)
    if which == "limit":
        from benchmarks import limit_kernels as lk

        m0, h0, n0 = cases.hh_steady_state(-65.0)
        counts = np.zeros(n, dtype=np.int64)
        t0 = time.process_time()
        lk.hh_run(J, steps, dt * 1e3, -65.0, m0, h0, n0, counts)
        return time.process_time() - t0, n * steps
    import spikenet.sim as sn

    t0 = time.process_time()
    res = sn.simulate(sn.HH(), J, T, dt=dt)
    return time.process_time() - t0, n * res.steps


def _run_cuba(which, n, T, dt):
    steps = round(T / dt)
    if which == "limit":
        from benchmarks import limit_kernels as lk
        from benchmarks.run_limit import run_cuba

        _, _, _, loop_cpu_s = run_cuba(lk, n, T, dt, 1)
        return loop_cpu_s, n * steps
    import spikenet.sim as sn
    from benchmarks.run_spikenet import build_cuba

    net, _, _ = build_cuba(sn, n, dt, 1, "float64")
    net.run(dt)  # builds the kernel's data structures, as in the benchmarks
    t0 = time.process_time()
    net.run(T - dt)
    return time.process_time() - t0, n * (steps - 1)


RUNNERS = {"lif": _run_lif, "lif_quiet": _run_lif_quiet, "cuba": _run_cuba, "hh": _run_hh}


def _one_run(model, which, sizes):
    n, T, dt = sizes[model]
    c0 = time.process_time()
    s, neuron_steps = RUNNERS[model](which, n, T, dt)
    return {"ns": s / neuron_steps * 1e9, "cpu_s": time.process_time() - c0}


# ------------------------------------------------------------------ report
def collect(rounds=5, tiny=False, gate=True, log=print):
    """Measure the machine and every kernel; returns the results as a dict (see the module docstring)."""
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # one thread: its CPU time is the kernel's time
    try:
        return _collect(rounds, tiny, gate, log)
    finally:
        numba.set_num_threads(threads)


def _collect(rounds, tiny, gate, log):
    info = cpu_info()
    sizes = TINY_SIZES if tiny else SIZES
    for model in RUNNERS:  # load or compile every kernel on a tiny problem first
        for which in ("spikenet", "limit"):
            n, _, dt = TINY_SIZES[model]
            RUNNERS[model](which, min(n, 64), 5 * dt, dt)
    g = LoadGate(enforce=gate, retries=8 if gate else 0)
    machine, rec = g.run(lambda: measure_machine(info, tiny), log=log)
    machine["load_1m"] = rec["load"]["load_1m"]
    items = [(m, w) for m in RUNNERS for w in ("spikenet", "limit")]
    records = run_rounds(items, rounds, lambda it, k: _one_run(it[0], it[1], sizes), gate=g, log=log)
    peak = machine["peak_gflops_float64"]
    rows = {}
    for model, kc in KERNELS.items():
        hot = kc.state_bytes * (kc.hot_neurons or sizes[model][0])
        level = cache_level(hot, info["caches"])
        bw = machine["bandwidth_gbs"][level]
        b, kind = bound_ns(kc.flops, kc.bytes, peak, bw)
        row = {"count": asdict(kc), "n": sizes[model][0], "working_set_bytes": hot, "level": level,
               "bandwidth_gbs": bw, "bound_ns": b, "bound": kind}
        for which in ("spikenet", "limit"):
            rs = [r for r in records if r["item"] == (model, which)]
            ns = [r["result"]["ns"] for r in rs]
            row[which] = {"ns_median": statistics.median(ns), "ns_min": min(ns), "ns_max": max(ns),
                          "fraction_of_bound": b / statistics.median(ns),
                          "loads": [r["load"]["load_1m"] for r in rs],
                          "over_load": any(r["over_load"] for r in rs)}
        rows[model] = row
    valid = not rec["over_load"] and \
        not any(r["over_load"] for r in records)
    return {"cpu": info, "machine": machine, "kernels": rows, "rounds": rounds, "tiny": tiny,
            "valid": valid, "load_limit_per_core": g.max_per_core, "cores": g.cores}


def _fmt(x, digits=3):
    return f"{x:.{digits}g}"


def markdown(res):
    """The roofline page (Markdown) for the results of :func:`collect`."""
    cpu, mach = res["cpu"], res["machine"]
    lines = ["# Roofline", "",
             "<!-- generated by `python -m benchmarks.roofline --doc docs/roofline.md`; do not edit -->", ""]
    if not res["valid"]:
        lines += [f"**INVALID: measured with other processes loading the machine (1-minute load "
                  f"above {res['load_limit_per_core']:g} per core on {res['cores']} cores before some "
                  f"runs); the times below are not a measurement of this CPU.**", ""]
    if res["tiny"]:
        lines += ["**Smoke run (`--tiny`): sizes far below the cases; the numbers mean nothing.**", ""]
    lines += ["How close each per-neuron kernel comes to what this CPU can do per neuron-step, "
              "for one thread. All times are CPU time of the process (`time.process_time`, one "
              "thread), which the load of other processes lengthens less than wall time. "
              "The roofline bound of a kernel is the larger of its floating-point work divided by "
              "the peak rate and its memory traffic divided by the bandwidth of the cache level "
              "that holds its working set (Williams, Waterman & Patterson 2009).", "",
              "## The machine", "",
              f"- CPU: {cpu['model']}; vector extensions: {', '.join(cpu['extensions']) or 'none'}; "
              f"register width {cpu['vector_bits']} bits ({cpu['vector_bits'] // 64} float64 lanes).",
              f"- Measured peak (one thread, fused multiply-adds): "
              f"{_fmt(mach['peak_gflops_float64'])} GFLOP/s float64, "
              f"{_fmt(mach['peak_gflops_float32'])} GFLOP/s float32.",
              "- Data caches per core: " + ", ".join(f"{k} {v // 1024} KiB" for k, v in cpu["caches"].items())
              + ".",
              "- Measured bandwidth of one thread (`a[i] = c a[i] + b[i]`, working set half the level): "
              + ", ".join(f"{k} {_fmt(v)} GB/s" for k, v in mach["bandwidth_gbs"].items()) + ".",
              f"- 1-minute load average before the machine measurement: {_fmt(mach['load_1m'])}.", "",
              "## Work per neuron-step (counted from the code)", "",
              "| case | kernel | flops | bytes | working set | held in | bound (ns) | bound by |",
              "|---|---|---|---|---|---|---|---|"]
    for row in res["kernels"].values():
        c = row["count"]
        lines.append(f"| {c['name']} | `{c['kernel']}` | {c['flops']} | {c['bytes']} | "
                     f"{row['working_set_bytes'] / 1024:.0f} KiB | {row['level']} "
                     f"({_fmt(row['bandwidth_gbs'])} GB/s) | {_fmt(row['bound_ns'])} | {row['bound']} |")
    lines += [""] + [f"- {row['count']['name']}: {row['count']['note']}" for row in res["kernels"].values()]
    lines += ["", "## Measured, as a fraction of the bound", "",
              f"{res['rounds']} rounds; in each, spikenet and the hand-vectorised limit kernel "
              "(`benchmarks/limit_kernels.py`) run once per case, in an order that alternates between "
              "rounds. Times are medians over rounds [min-max] per neuron-step; the fraction is bound / "
              "measured (1 = on the roofline).", "",
              "| case | neurons | spikenet ns | limit ns | spikenet / limit | spikenet fraction | "
              "limit fraction | load before runs |", "|---|---|---|---|---|---|---|---|"]
    for row in res["kernels"].values():
        s, m = row["spikenet"], row["limit"]
        loads = s["loads"] + m["loads"]
        lines.append(
            f"| {row['count']['name']} | {row['n']} | {_fmt(s['ns_median'])} [{_fmt(s['ns_min'])}-"
            f"{_fmt(s['ns_max'])}] | {_fmt(m['ns_median'])} [{_fmt(m['ns_min'])}-{_fmt(m['ns_max'])}] | "
            f"{_fmt(s['ns_median'] / m['ns_median'])} | {_fmt(s['fraction_of_bound'], 2)} | "
            f"{_fmt(m['fraction_of_bound'], 2)} | {_fmt(min(loads), 2)}-{_fmt(max(loads), 2)} |")
    lines += ["", "spikenet runs through its public entry points (`simulate` with the stepped LIF kernel "
              "forced, as in the benchmarks; `simulate` for HH; `Network.run` for CUBA), so its times "
              "include chunking and collecting the spikes; the limit kernels only count spikes. The "
              "CUBA bound leaves out spike propagation.", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    """Command line; see the module docstring."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.roofline", description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tiny", action="store_true", help="seconds-long smoke run at tiny sizes")
    ap.add_argument("--no-gate", action="store_true", help="do not wait for a quiet machine")
    ap.add_argument("--doc", type=Path, help="write the Markdown page here (e.g. docs/roofline.md)")
    ap.add_argument("--json", type=Path, help="write the results as JSON here")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        raise ValueError(f"--rounds must be >= 1, got {args.rounds}")
    res = collect(rounds=args.rounds, tiny=args.tiny, gate=not args.no_gate,
                  log=lambda s: print(s, file=sys.stderr))
    page = markdown(res)
    print(page)
    if args.doc is not None:
        args.doc.write_text(page)
    if args.json is not None:
        args.json.write_text(json.dumps(res, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
