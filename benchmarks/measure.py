"""Run simulators in fresh processes and collect timings, memory and statistics.

Every measurement is one ``python -m benchmarks.run_<sim>`` process. The
parent measures its whole wall time (start to exit) and its peak resident
memory (``ru_maxrss`` from ``os.wait4``, which covers the process and the
children it waited for, e.g. Brian2's compiled standalone binary); the worker
reports its own build and loop times and the statistics of its spikes. The
order of the runs and the load gate they pass are :mod:`benchmarks.protocol`'s;
every run keeps its round, its CPU time and the load reading it started with.

Caches
------
Each simulator configuration has a cache folder per model (shared by the
sizes of that model, whose compiled code is the same) holding Numba's cache
(``NUMBA_CACHE_DIR``), Brian2's Cython cache and the cpp_standalone project
folder.

empty
    The folder is emptied before each run, so everything is compiled from
    scratch. NEST has no compiled-code cache, so it has no empty-cache runs.
warm
    The folder as the previous run left it (the last empty-cache run, or one
    discarded warm-up run when there were none): Numba loads its compiled
    kernels, Brian2 finds its compiled Cython extensions, and in standalone
    mode Brian2 regenerates the code and ``make`` rebuilds only what changed.
    For spikenet's networks the folder also holds the network kernel compiled
    ahead of time (``spikenet.sim.aot``) for the case's configuration, built
    once after the empty-cache runs (its build time is reported); the
    ``jit`` configuration leaves it out.

With ``cache=None`` (the smoke mode) the runs use the default locations
instead: Numba's ``__pycache__`` next to the kernels and Brian2's
``~/.cython/brian_extensions``, shared with the test suite.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.cases import Case, Sim

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Run:
    """One process run: outer measurements plus the worker's ``result.json``."""

    wall_s: float
    maxrss_mb: float
    rc: int
    cold: bool
    result: dict = field(default_factory=dict)
    error: str = ""
    carried: str = ""  # empty-cache run taken over from an earlier session (its date), see merge
    cpu_s: float = 0.0  # user + system CPU time of the process and its children
    round: int = -1  # measurement round of a warm run (see benchmarks.protocol); -1 otherwise
    load: dict | None = None  # load reading the run started with (benchmarks.protocol.LoadGate)
    discarded: list = field(default_factory=list)  # readings of attempts not started (too loaded)
    over_load: bool = False  # started with the others' load above the gate's limit

    @property
    def ok(self) -> bool:
        """True when the worker exited cleanly and wrote a result."""
        return self.rc == 0 and bool(self.result) and not self.result.get("unsupported")


def _env(sim: Sim, cache: Path | None) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # warm means bytecode caches too
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(sim.threads)
    env.pop("NUMBA_CACHE_DIR", None)
    if sim.mode == "jit":
        env["SPIKENET_AOT_DIR"] = ""  # spikenet's ahead-of-time compiled network kernel: off
    if cache is not None:
        env["NUMBA_CACHE_DIR"] = str(cache / "numba")
        if sim.mode != "jit":
            env["SPIKENET_AOT_DIR"] = str(cache / "aot")
        env["SPIKENET_BENCH_BRIAN2_CACHE"] = str(cache / "cython")
        env["SPIKENET_BENCH_BRIAN2_BUILD"] = str(cache / "standalone")
    return env


def run_process(case: Case, sim: Sim, workdir: Path, *, cold: bool, cache: Path | None = None,
                seed: int = 1, timeout: float = 1800.0, options: dict | None = None,
                pythonpath: str | None = None) -> Run:
    """Run one worker process and measure it.

    Parameters
    ----------
    case, sim : Case, Sim
        What to run.
    workdir : Path
        The run's work folder (standalone projects, fresh caches, outputs).
    cold : bool
        Empty ``cache`` before the run.
    cache : Path, optional
        Cache folder of the measurement (None: the default locations).
    seed : int
        Seed passed to the worker.
    timeout : float
        Seconds before the process group is killed.
    options : dict, optional
        Extra worker options (e.g. ``{"build_aot": True}``).
    pythonpath : str, optional
        A folder put before the repository on the worker's ``PYTHONPATH``:
        one holding another ``spikenet`` package runs that version with this
        checkout's workers (see :mod:`benchmarks.regression`); the worker
        then starts in its output folder rather than the repository, whose
        own ``spikenet`` would come first on ``sys.path``.

    Returns
    -------
    Run
    """
    workdir.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix=f"{sim.key}-{case.name}-", dir=workdir))
    if cache is not None and cold:
        shutil.rmtree(cache, ignore_errors=True)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    env = _env(sim, cache)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath) + os.pathsep + env["PYTHONPATH"]
    if cache is None:
        env["SPIKENET_BENCH_BRIAN2_BUILD"] = str(workdir / "standalone" / f"{case.name}-{sim.threads}t")
        env["SPIKENET_BENCH_BRIAN2_CACHE"] = str(Path.home() / ".cython" / "brian_extensions")
    spec = json.dumps({"case": case.spec(), "sim": sim.spec(), "options": {"seed": seed, **(options or {})}})
    cmd = [sys.executable, "-m", sim.module, "--spec", spec, "--out", str(out)]
    log = open(out / "log.txt", "wb")  # noqa: SIM115 - closed below, after the child exits
    import subprocess

    t0 = time.perf_counter()
    cwd = REPO if pythonpath is None else out
    proc = subprocess.Popen(cmd, env=env, cwd=str(cwd), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    killed = threading.Event()

    def _kill():
        killed.set()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, 9)

    timer = threading.Timer(timeout, _kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    log.close()
    run = Run(wall_s=wall, maxrss_mb=usage.ru_maxrss / 1024.0, rc=proc.returncode, cold=cold,
              cpu_s=usage.ru_utime + usage.ru_stime)
    res_file = out / "result.json"
    if res_file.exists():
        run.result = json.loads(res_file.read_text())
        counts = out / "counts.npy"
        if counts.exists():
            run.result["counts_file"] = str(counts)
    if run.rc != 0 or not res_file.exists():
        tail = (out / "log.txt").read_text(errors="replace")[-2000:]
        run.error = ("killed after timeout; " if killed.is_set() else f"exit code {run.rc}; ") + tail
    elif run.result.get("unsupported"):
        run.error = "unsupported: " + run.result["unsupported"]
    return run


def gated(gate, fn, *, log=print, measured: bool = True) -> Run:
    """Run ``fn()`` (which returns a :class:`Run`) through the load gate ``gate``.

    A measured run waits for a quiet machine and keeps the gate's readings
    (see :class:`benchmarks.protocol.LoadGate`); an unmeasured one (warm-up,
    building the ahead-of-time kernel) starts at once and only counts towards
    the suite's own share of the load. ``gate`` None runs ``fn()`` as it is.
    """
    if gate is None:
        return fn()
    if not measured:
        t0 = gate.clock()
        r = fn()
        gate.own.add(t0, gate.clock(), r.cpu_s)
        return r
    r, g = gate.run(fn, log=log)
    r.load, r.discarded, r.over_load = g["load"], g["discarded"], g["over_load"]
    return r


def summary(values) -> dict | None:
    """Median, min and max of the finite ``values`` (None if there are none)."""
    vals = [float(v) for v in values if v is not None and v == v]
    if not vals:
        return None
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


@dataclass
class Measurement:
    """All runs of one simulator configuration on one case, and their summaries."""

    case: Case
    sim: Sim
    runs: list[Run]
    aot_build_s: float | None = None  # spikenet networks: building the ahead-of-time kernel

    @property
    def warm(self) -> list[Run]:
        return [r for r in self.runs if not r.cold and r.ok]

    @property
    def cold(self) -> list[Run]:
        return [r for r in self.runs if r.cold and r.ok]

    @property
    def errors(self) -> list[str]:
        return [r.error for r in self.runs if r.error]

    def summarise(self) -> dict:
        """Summaries (median, min, max) of every reported quantity.

        Loop, build, memory and throughput use the warm runs (interleaved with
        the other simulators' warm runs), or the empty-cache runs of this
        session when there are no warm runs; empty-cache runs count for the
        empty-cache wall time (including runs carried over from an earlier
        session).
        """
        warm = self.warm
        own = warm or [r for r in self.cold if not r.carried]
        out = {
            "wall_warm_s": summary(r.wall_s for r in warm),
            "wall_cold_s": summary(r.wall_s for r in self.cold),
            "loop_s": summary(r.result["loop_s"] for r in own),
            "build_s": summary(r.result["build_s"] for r in own),
            "maxrss_mb": summary(r.maxrss_mb for r in own),
        }
        loop = out["loop_s"]
        if loop:
            ns = self.case.neuron_steps
            out["neuron_steps_per_s"] = {k: (ns / loop[v] if loop[v] > 0 else float("inf"))
                                         for k, v in (("median", "median"), ("min", "max"), ("max", "min"))}
            spikes = [r.result["stats"].get("n_spikes") for r in own]
            if self.case.kind in ("cuba", "coba", "cuba_stdp") and spikes and spikes[0] is not None:
                from benchmarks.cases import cuba_sizes

                _, _, p = cuba_sizes(self.case.n)
                events = statistics.median(spikes) * p * self.case.n
                out["events_per_s"] = {k: events / ns * v for k, v in out["neuron_steps_per_s"].items()}
        return out

    def to_json(self) -> dict:
        """JSON-serialisable record (the runs and the summaries)."""
        return {"case": self.case.spec(), "case_name": self.case.name, "sim": self.sim.spec(),
                "sim_key": self.sim.key, "runs": [asdict(r) for r in self.runs],
                "summary": self.summarise(), "errors": self.errors, "aot_build_s": self.aot_build_s}


def prepare(case: Case, sim: Sim, workdir: Path, *, repeats: int = 3, cold: bool = True,
            warmup: bool = True, own_cache: bool = True, timeout: float = 1800.0,
            log=print, gate=None) -> tuple[Measurement, Path | None, bool]:
    """Empty-cache runs (``repeats``, unless ``cold`` is false or NEST) and a warm-up run.

    Returns the measurement so far, its cache folder and whether warm runs can
    follow. Without empty-cache runs a discarded warm-up run (if ``warmup``)
    fills the cache. ``own_cache`` false uses the default cache locations (see
    the module docstring). The empty-cache runs go through the load gate
    ``gate`` (see :func:`gated`).
    """
    runs: list[Run] = []
    # one folder per configuration and model: compiled code does not depend on the size
    cache = workdir / "caches" / f"{sim.key}-{case.kind}" if own_cache else None
    do_cold = cold and sim.family != "nest"
    if do_cold:
        for k in range(repeats):
            r = gated(gate, lambda: run_process(case, sim, workdir, cold=True, cache=cache,
                                                timeout=timeout), log=log)
            log(f"  {sim.key:24s} {case.name:14s} empty cache run {k + 1}: {r.wall_s:7.2f} s"
                + ("" if r.ok else f"  FAILED: {r.error[:300]}"))
            runs.append(r)
            if not r.ok and not r.result.get("unsupported"):
                return Measurement(case, sim, runs), cache, False
    if warmup and not (do_cold and runs and runs[-1].ok):
        r = gated(gate, lambda: run_process(case, sim, workdir, cold=False, cache=cache,
                                            timeout=timeout), log=log, measured=False)
        log(f"  {sim.key:24s} {case.name:14s} warm-up: {r.wall_s:7.2f} s"
            + ("" if r.ok else f"  FAILED: {r.error[:300]}"))
        if not r.ok:
            runs.append(r)
            return Measurement(case, sim, runs), cache, False
    m = Measurement(case, sim, runs)
    if sim.family == "spikenet" and case.kind == "cuba" and sim.mode == "" and cache is not None:
        r = gated(gate, lambda: run_process(case, sim, workdir, cold=False, cache=cache,
                                            timeout=timeout, options={"build_aot": True}),
                  log=log, measured=False)
        log(f"  {sim.key:24s} {case.name:14s} ahead-of-time kernel: {r.wall_s:7.2f} s"
            + ("" if r.ok else f"  FAILED: {r.error[:300]}"))
        if r.ok:
            m.aot_build_s = r.result["build_s"]
    return m, cache, True


def warm_run(m: Measurement, cache: Path | None, workdir: Path, k: int, *, timeout: float = 1800.0,
             log=print) -> Run:
    """One warm run of measurement ``m`` in round ``k`` (appended to its runs); returns it."""
    r = run_process(m.case, m.sim, workdir, cold=False, cache=cache, timeout=timeout)
    r.round = k
    log(f"  {m.sim.key:24s} {m.case.name:14s} round {k + 1}: {r.wall_s:7.2f} s, loop "
        f"{r.result.get('loop_s', float('nan')):.4f} s, {r.maxrss_mb:.0f} MB"
        + ("" if r.ok else f"  FAILED: {r.error[:300]}"))
    m.runs.append(r)
    return r


def measure(case: Case, sim: Sim, workdir: Path, *, repeats: int = 3, cold: bool = True,
            warmup: bool = True, own_cache: bool = True, timeout: float = 1800.0,
            log=print) -> Measurement:
    """Measure ``sim`` on ``case``: :func:`prepare`, then ``repeats`` warm runs."""
    m, cache, go = prepare(case, sim, workdir, repeats=repeats, cold=cold, warmup=warmup,
                           own_cache=own_cache, timeout=timeout, log=log)
    for k in range(repeats if go else 0):
        if not warm_run(m, cache, workdir, k, timeout=timeout, log=log).ok:
            break
    return m
