"""Plumbing shared by the worker processes (``python -m benchmarks.run_<sim>``).

A worker gets ``--spec`` (JSON: the case and the simulator configuration, see
:meth:`benchmarks.cases.Case.spec` and :meth:`benchmarks.cases.Sim.spec`) and
``--out`` (a folder). It runs the case once and writes ``result.json`` there:
``build_s`` (network construction), ``loop_s`` (the simulation loop, compiled
code already loaded), ``stats`` (case statistics), ``build`` (versions and
the build and run options that matter for speed: device, OpenMP, compiler
flags, threads, dtype) and optionally a ``counts.npy`` of per-neuron spike
counts. Thread counts and cache locations
arrive through the environment (set by :mod:`benchmarks.measure`).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.cases import Case, Sim


def parse(argv=None) -> tuple[Case, Sim, Path, dict]:
    """Parse a worker's command line into (case, sim, out folder, extra options)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--spec", required=True, help="JSON with 'case', 'sim' and optional 'options'")
    parser.add_argument("--out", required=True, type=Path, help="folder for result.json")
    args = parser.parse_args(argv)
    spec = json.loads(args.spec)
    case = Case(**spec["case"])
    sim = Sim(**spec["sim"])
    args.out.mkdir(parents=True, exist_ok=True)
    return case, sim, args.out, spec.get("options", {})


def write(out: Path, *, build_s: float, loop_s: float, stats: dict, counts=None, **extra) -> None:
    """Write ``result.json`` (and ``counts.npy`` when given) into ``out``."""
    if counts is not None:
        import numpy as np

        np.save(out / "counts.npy", np.asarray(counts, dtype=np.int64), allow_pickle=False)
    payload = {"build_s": float(build_s), "loop_s": float(loop_s), "stats": stats, **extra}
    (out / "result.json").write_text(json.dumps(payload))


class Timer:
    """Context manager measuring wall time (``s``) and CPU time of the process (``cpu_s``).

    ``cpu_s`` is what Brian2's cpp_standalone reports as its loop time when
    built without OpenMP (``std::clock``: CPU time, which other processes
    loading the machine do not lengthen); one-thread comparisons with it use
    ``cpu_s`` on both sides.
    """

    def __enter__(self):
        self.c0 = time.process_time()
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.s = time.perf_counter() - self.t0
        self.cpu_s = time.process_time() - self.c0
        return False
