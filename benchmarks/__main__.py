"""Command line of the benchmark suite: ``python -m benchmarks`` or ``spikenet bench``.

Results and the report go to a folder of your choosing (``--out``, default
``./spikenet-bench/``): ``results.json``, ``benchmarks.md`` and its plot. The
tracked ``docs/benchmarks.md`` is rewritten only with ``--update-docs``.

Protocol: each case is measured in rounds; a round runs every simulator of
the case once, in an order that alternates between rounds; before every
measured run the load gate reads the 1-minute load average and waits while
other processes load the machine (see benchmarks/protocol.py); ratios are
medians of per-round ratios, with their spread.

Examples
--------
The headline ratios (CUBA-4000 and CUBA-64000 loops, uncoupled LIF, HH
against Brian2 cpp_standalone at 1 and 2 threads), sized to finish within 15 minutes on a
quiet 2-core machine::

    python -m benchmarks --quick

Full run (takes hours on 2 cores)::

    python -m benchmarks --out results-today

Only CUBA at two sizes against Brian2, no report::

    python -m benchmarks --cases cuba-4000,cuba-16000 --peers brian2 --no-doc

Tiny sizes of every case (what the smoke test runs; not a measurement)::

    python -m benchmarks --smoke --peers limit --no-doc

The converted digits network against SpikingJelly and snnTorch (each in its
own virtual environment; ``benchmarks/bridge_peers/setup_venvs.sh``), in
alternating rounds through the load gate::

    python -m benchmarks --cases bridge --out bridge-today

Only the bridge's 5- and 10-step ratios against SpikingJelly (a few minutes)::

    python -m benchmarks --cases bridge --quick

Rewrite the report from saved results without measuring::

    python -m benchmarks --from-json spikenet-bench/results.json

Regenerate the published report (``docs/benchmarks.md``)::

    python -m benchmarks --update-docs
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import time
from pathlib import Path

from benchmarks import cases as C
from benchmarks.measure import REPO, prepare, warm_run
from benchmarks.protocol import MAX_LOAD_PER_CORE, LoadGate, run_rounds

PEERS = ("brian2", "nest", "limit")
#: The tracked report; written only with --update-docs.
DOCS_REPORT = REPO / "docs" / "benchmarks.md"
DOCS_RESULTS = REPO / "docs" / "benchmarks-results.json"
#: The bridge page; its generated table (between markers) is rewritten only with --update-docs.
DOCS_BRIDGE = REPO / "docs" / "bridge.md"
#: Rounds of --quick (each round runs every simulator once).
QUICK_ROUNDS = 5


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def _parse_cases(text: str, smoke: bool) -> list[C.Case]:
    base = C.SMOKE_CASES if smoke else C.FULL_CASES
    if text == "all":
        return list(base)
    out = []
    for item in _csv(text):
        if item in ("conversion", "bridge"):  # not simulator cases: run_conversion, run_bridge_case
            continue
        if item in C.KINDS:
            out += [c for c in base if c.kind == item]
            continue
        kind, _, n = item.partition("-")
        if kind == "cuba" and n.endswith("-stdp"):  # cuba-N-stdp: the plastic CUBA kind
            kind, n = "cuba_stdp", n[:-len("-stdp")]
        if kind not in C.KINDS or not n.isdigit() or int(n) < 1:
            raise SystemExit(f"--cases: expected 'all', a kind ({', '.join(C.KINDS)}) or kind-N "
                             f"such as cuba-4000, got {item!r}")
        T = next((c.T for c in base if c.kind == kind), None)
        out.append(C.make_case(kind, int(n), T=T))
    return out


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m benchmarks``."""
    plain = __doc__.replace("``", "'").replace("::\n", ":\n")  # --help shows text, not reStructuredText
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=plain,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default="all",
                   help="'all' (default), kinds (cuba, lif, hh), sizes such as cuba-4000,hh-1000, "
                        "'conversion' (the converted digits network) and/or 'bridge' (the converted "
                        "network against SpikingJelly and snnTorch), comma-separated")
    p.add_argument("--quick", action="store_true",
                   help="the headline ratios only: cuba-4000, cuba-64000, lif-100000 and hh-10000, "
                        "spikenet (and its stepped LIF kernel) against Brian2 cpp_standalone, "
                        f"{QUICK_ROUNDS} rounds, warm caches; sized to finish within 15 minutes on a "
                        "quiet 2-core machine (about 12 by the run times of earlier runs); with --cases "
                        "bridge: "
                        "only the bridge's 5- and 10-step runs against SpikingJelly")
    p.add_argument("--repeats", "--rounds", dest="repeats", type=int, default=None,
                   help="rounds per case (each runs every simulator once), >= 3 (default 3, "
                        f"{QUICK_ROUNDS} with --quick, 1 with --smoke)")
    p.add_argument("--peers", default="brian2,nest,limit",
                   help="comma-separated peers among brian2, nest, limit, or 'none' (default: all; "
                        "NEST is left out when not installed)")
    p.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    p.add_argument("--dtypes", default="float64,float32", help="spikenet state precisions")
    p.add_argument("--smoke", action="store_true",
                   help="tiny sizes of every case, one run each, warm caches only, load recorded "
                        "but not waited for (not a measurement)")
    p.add_argument("--no-cold", action="store_true", help="skip the empty-cache runs")
    p.add_argument("--cold-cases", default="cuba-4000,lif-100000,hh-10000",
                   help="cases with empty-cache runs of spikenet (float64) and the limit kernels, or "
                        "'all' (default: one per model, since compilation depends on the model and "
                        "not on its size)")
    p.add_argument("--cold-peer-cases", default="cuba-4000",
                   help="cases with empty-cache runs of Brian2, or 'all' (default cuba-4000, the case "
                        "of the targets: a Brian2 empty-cache run compiles for 30-150 s here)")
    p.add_argument("--big-repeats", type=int, default=1,
                   help="runs of the cases with 1,000,000 neurons or more (default 1: each takes "
                        "minutes here); they use the default caches, no warm-up and no empty-cache runs")
    p.add_argument("--big-peers", action="store_true",
                   help="run the peers on CUBA with 1,000,000 neurons too (default: spikenet and limit)")
    p.add_argument("--out", type=Path, default=Path("spikenet-bench"),
                   help="folder for results.json, the report benchmarks.md, its plot and the work "
                        "files (default ./spikenet-bench)")
    p.add_argument("--doc", type=Path, default=None,
                   help="write the Markdown report here instead of OUT/benchmarks.md; its plot goes "
                        "next to it")
    p.add_argument("--update-docs", action="store_true",
                   help="also write the published report docs/benchmarks.md, its plot and "
                        "docs/benchmarks-results.json (never written otherwise)")
    p.add_argument("--no-doc", action="store_true", help="do not write the report")
    p.add_argument("--analysis", type=Path, default=None,
                   help="a hand-written Markdown reading of these results, appended to the report")
    p.add_argument("--no-profile", action="store_true",
                   help="do not profile spikenet on the cases whose targets are not met")
    p.add_argument("--from-json", type=Path, nargs="+", default=None,
                   help="write the report from saved results.json files instead of measuring; several "
                        "files (runs of different cases) are merged")
    p.add_argument("--drop", nargs="+", default=[], metavar="SIM@CASE[=REASON]",
                   help="with --from-json: leave these measurements out of the report (e.g. runs "
                        "stopped for time), saying so and why in its notes")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed per process")
    p.add_argument("--conversion", action=argparse.BooleanOptionalAction, default=None,
                   help="also measure the converted digits network (benchmarks/bench_conversion.py); "
                        "default: on for full runs of all cases when that module exists")
    p.add_argument("--bridge", action=argparse.BooleanOptionalAction, default=None,
                   help="also measure the converted digits network against SpikingJelly and snnTorch "
                        "(benchmarks/bridge_case.py; same as 'bridge' in --cases); default: on for "
                        "full runs of all cases")
    g = p.add_argument_group("load gate (see benchmarks/protocol.py)")
    g.add_argument("--max-load-per-core", type=float, default=MAX_LOAD_PER_CORE,
                   help="a measured run starts only while the 1-minute load average of other "
                        f"processes is at most this per core (default {MAX_LOAD_PER_CORE})")
    g.add_argument("--load-retries", type=int, default=8,
                   help="readings after the first before a run starts anyway and its case is "
                        "marked INVALID (default 8)")
    g.add_argument("--load-wait", type=float, default=15.0,
                   help="seconds between load readings (default 15)")
    g.add_argument("--no-load-gate", action="store_true",
                   help="never wait: record the load, and mark the cases whose runs started above "
                        "the limit INVALID")
    return p


def select_sims(args) -> tuple[list[C.Sim], list[str]]:
    """Simulator configurations for the parsed arguments, and notes on peers left out."""
    notes = []
    peers = [] if args.peers == "none" else _csv(args.peers)
    for peer in peers:
        if peer not in PEERS:
            raise SystemExit(f"--peers: unknown peer {peer!r}; choose from {', '.join(PEERS)} or 'none'")
    if getattr(args, "quick", False):
        peers = ["brian2"]
    if "nest" in peers and importlib.util.find_spec("nest") is None:
        peers.remove("nest")
        notes.append("NEST is not installed (pip install nest-simulator): left out")
    if "brian2" in peers and importlib.util.find_spec("brian2") is None:
        peers.remove("brian2")
        notes.append("Brian2 is not installed: left out")
    try:
        threads = [int(t) for t in _csv(args.threads)]
    except ValueError:
        raise SystemExit(f"--threads: expected comma-separated integers, got {args.threads!r}") from None
    if not threads or min(threads) < 1:
        raise SystemExit("--threads: thread counts must be >= 1")
    dtypes = _csv(args.dtypes)
    for d in dtypes:
        if d not in ("float64", "float32"):
            raise SystemExit(f"--dtypes: expected float64 and/or float32, got {d!r}")
    if getattr(args, "quick", False):
        sims = C.quick_sims(threads)
        return ([s for s in sims if s.family != "brian2"] if "brian2" not in peers else sims), notes
    return C.default_sims(threads, peers, dtypes), notes


def plan(args) -> tuple[list[C.Case], list[C.Sim], list[str], int]:
    """What a run measures: its cases, simulators, notes and rounds per case.

    ``--quick`` fixes the cases (:data:`benchmarks.cases.QUICK_CASES`), the
    simulators (:func:`benchmarks.cases.quick_sims`) and the rounds, and
    switches off the empty-cache runs and the converted network.
    """
    if args.quick:
        if args.smoke:
            raise SystemExit("--quick and --smoke exclude each other")
        if args.cases not in ("all", "bridge"):
            raise SystemExit("--quick measures its own cases; leave out --cases (or give only 'bridge')")
        # --cases bridge --quick: only the bridge's 5- and 10-step ratios (benchmarks.bridge_case.QUICK)
        case_list = [] if args.cases == "bridge" else list(C.QUICK_CASES)
    else:
        case_list = _parse_cases(args.cases, args.smoke)
    sims, notes = select_sims(args)
    default = QUICK_ROUNDS if args.quick else (1 if args.smoke else 3)
    repeats = args.repeats if args.repeats is not None else default
    if repeats < 1 or (repeats < 3 and not args.smoke):
        raise SystemExit("--repeats must be >= 3 (medians of fewer rounds are not reported); "
                         "--smoke allows 1")
    if args.max_load_per_core <= 0:
        raise SystemExit("--max-load-per-core must be > 0")
    if args.load_retries < 0 or args.load_wait < 0:
        raise SystemExit("--load-retries and --load-wait must be >= 0")
    return case_list, sims, notes, repeats


def make_gate(args) -> LoadGate:
    """The load gate of a run (``--smoke`` and ``--no-load-gate`` record without waiting)."""
    return LoadGate(max_per_core=args.max_load_per_core, retries=args.load_retries,
                    wait_s=args.load_wait, enforce=not (args.smoke or args.no_load_gate))


def invalid_reason(runs, gate_limit: float, cores: int) -> str | None:
    """Why a case is INVALID (runs that started with the others' load above the limit), or None.

    Parameters
    ----------
    runs : iterable of Run
        The case's runs.
    gate_limit : float
        The gate's limit on the load of other processes (whole machine).
    cores : int
        Cores of the machine.
    """
    over = [r for r in runs if r.over_load]
    if not over:
        return None
    worst = max(r.load["others"] for r in over if r.load)
    return (f"{len(over)} run(s) started while other processes loaded the machine above the limit "
            f"(1-minute load average of the others up to {worst:.2f} on {cores} cores, limit "
            f"{gate_limit:.2f})")


def run_suite(args, log=print, save=None, gate: LoadGate | None = None, bridge_runner=None) -> dict:
    """Measure every (case, simulator) pair; returns the results payload.

    ``save(payload)``, when given, is called after each case with the results so
    far (``payload["partial"]`` true until the end), so that an interrupted run
    still leaves its measurements behind. ``gate`` (default :func:`make_gate`)
    reads the load before every run. ``bridge_runner`` (default: the real
    runners, :func:`benchmarks.bridge_case.subprocess_runner`) makes one run
    of a library of the bridge case.
    """
    from benchmarks.report import machine_info

    case_list, sims, notes, repeats = plan(args)
    gate = gate if gate is not None else make_gate(args)
    if args.quick:
        args.no_cold = True

    def names(text):
        return {c.name for c in case_list} if text == "all" else set(_csv(text))

    cold_cases, cold_peer_cases = names(args.cold_cases), names(args.cold_peer_cases)
    workdir = args.out / "work"
    meta = machine_info()
    meta["load_before"] = _loadavg()
    measurements, agreement, invalid = [], {}, {}
    t_start = time.perf_counter()
    if any(c.n >= 1_000_000 for c in case_list):
        notes.append(f"Cases with 1,000,000 neurons or more: {args.big_repeats} run(s) each "
                     "(`--big-repeats`), warm default caches, no empty-cache runs.")
    protocol = {"version": 2, "rounds": repeats, "order": "alternating",
                "max_load_per_core": gate.max_per_core, "cores": gate.cores,
                "load_limit": gate.limit, "retries": gate.retries, "wait_s": gate.wait_s,
                "enforced": gate.enforce, "quick": bool(args.quick)}
    payload = {"meta": meta, "notes": notes, "smoke": bool(args.smoke), "repeats": repeats,
               "protocol": protocol,
               "cases": [c.spec() | {"name": c.name} for c in case_list],
               "measurements": measurements, "agreement": agreement, "invalid": invalid,
               "partial": True}
    for case in case_list:
        log(f"== {case.name}: {case.n} neurons, {case.T} s at dt = {case.dt * 1e3:g} ms")
        stats, counts = {}, {}
        prepared = []
        for sim in sims:
            if not C.applies(sim, case):
                continue
            is_peer = sim.family in ("brian2", "nest")
            if is_peer and case.kind == "cuba" and case.n >= 1_000_000 and not args.big_peers:
                continue
            big = case.n >= 1_000_000
            if is_peer:
                cold = case.name in cold_peer_cases
            else:
                cold = case.name in cold_cases and sim.dtype == "float64" and sim.mode == ""
            cold = cold and not (args.no_cold or args.smoke or big)
            prepared.append(prepare(case, sim, workdir, repeats=args.big_repeats if big else repeats,
                                    cold=cold, warmup=not (args.smoke or big),
                                    own_cache=not (args.smoke or big), timeout=args.timeout, log=log,
                                    gate=gate))
        # Warm runs in rounds: every simulator once per round, the order
        # alternating between rounds, each run through the load gate.
        ready = {m.sim.key: (m, cache) for m, cache, go in prepared if go}
        n_rounds = args.big_repeats if case.n >= 1_000_000 else repeats

        def run_one(key, k, ready=ready):
            m, cache = ready[key]
            return warm_run(m, cache, workdir, k, timeout=args.timeout, log=lambda *_: None)

        def keep_going(key, ready=ready):
            runs = [r for r in ready[key][0].runs if r.round >= 0]
            return not runs or runs[-1].ok

        def on_done(rec, case=case):
            r = rec["result"]
            r.load, r.discarded, r.over_load = rec["load"], rec["discarded"], rec["over_load"]
            ld = r.load or {}
            log(f"  {rec['item']:24s} {case.name:14s} round {rec['round'] + 1}: {r.wall_s:7.2f} s, loop "
                f"{r.result.get('loop_s', float('nan')):.4f} s, {r.maxrss_mb:.0f} MB, load "
                f"{ld.get('load_1m', float('nan')):.2f} (others {ld.get('others', float('nan')):.2f})"
                + (" OVER THE LIMIT" if r.over_load else "")
                + ("" if r.ok else f"  FAILED: {r.error[:300]}"))

        run_rounds(list(ready), n_rounds, run_one, gate, log=log, keep_going=keep_going,
                   on_done=on_done)
        for m, _, _ in prepared:
            sim = m.sim
            rec = m.to_json()
            measurements.append(rec)
            good = m.warm or m.cold
            if good:
                stats[sim.key] = good[0].result["stats"]
                cf = good[0].result.get("counts_file")
                if cf:
                    import numpy as np

                    counts[sim.key] = np.load(cf, allow_pickle=False)
        reason = invalid_reason([r for m, _, _ in prepared for r in m.runs], gate.limit, gate.cores)
        if reason:
            invalid[case.name] = reason
            log(f"  INVALID: {reason}")
        agr = C.check_agreement(case, stats, counts)
        agreement[case.name] = {k: {"level": a.level, "detail": a.detail, "numbers": a.numbers}
                                for k, a in agr.items()}
        for k, a in agr.items():
            log(f"  agreement {k:24s} {a.level}: {a.detail}")
        # run folders hold only logs and counts by now; keep the standalone projects (warm cache)
        if workdir.exists():
            for child in workdir.iterdir():
                if child.is_dir() and child.name not in ("standalone", "caches"):
                    shutil.rmtree(child, ignore_errors=True)
        meta["load_after"] = _loadavg()
        meta["suite_s"] = time.perf_counter() - t_start
        if save is not None:
            save(payload)
    conversion = args.conversion
    if conversion is None:
        conversion = (args.cases == "all" and not args.smoke and not args.quick) or (
            "conversion" in _csv(args.cases))
    if conversion:
        # one process timing itself over its repeats: recorded with the load it started at
        load = gate.reading()
        payload["conversion"] = run_conversion(repeats, max(s.threads for s in sims) if sims else 1,
                                               args.timeout, smoke=args.smoke, log=log)
        payload["conversion"]["load"] = load
        if save is not None:
            save(payload)
    bridge = args.bridge
    if bridge is None:
        bridge = (args.cases == "all" and not args.smoke and not args.quick) or "bridge" in _csv(args.cases)
    if bridge:
        payload["bridge"] = run_bridge_case(args, repeats, gate, log=log, runner=bridge_runner)
        if save is not None:
            save(payload)
    shutil.rmtree(workdir / "caches", ignore_errors=True)
    payload["partial"] = False
    return payload


def run_bridge_case(args, rounds: int, gate: LoadGate, log=print, runner=None) -> dict:
    """The bridge case (:mod:`benchmarks.bridge_case`) with the run's rounds, threads and gate.

    ``--smoke`` trains for 2 epochs, measures 5 and 10 steps with one timed
    call each, and leaves out peers whose venvs are missing instead of
    creating them.
    """
    from benchmarks import bridge_case as B

    threads = sorted({int(t) for t in _csv(args.threads)})
    if args.smoke:
        steps, config = B.SMOKE["steps"], {"epochs": B.SMOKE["epochs"], "repeats": B.SMOKE["repeats"]}
    elif args.quick:
        steps, config = B.QUICK["steps"], {"epochs": None, "repeats": B.QUICK["repeats"], "quick": True}
    else:
        steps, config = B.STEPS, {"epochs": None, "repeats": 5}
    notes = []
    if runner is None:
        libraries, notes = B.available_libraries(args.smoke, log=log)
        runner = B.subprocess_runner(steps, threads, epochs=config["epochs"], repeats=config["repeats"],
                                     timeout=args.timeout)
    else:
        libraries = list(B.LIBRARIES)
    if args.quick:
        libraries = [lib for lib in libraries if lib in B.QUICK["libraries"]]
    section = B.run_bridge(rounds, steps, threads, runner, gate, libraries=libraries, log=log,
                           config=config)
    section["notes"] = notes
    for row in section["summary"]["rows"]:
        log(f"  {row['threads']}t {row['steps']:4d} steps: " + ", ".join(
            f"spikenet/{B.NAMES[p]} {r['median']:.2f}x" for p, r in row["ratios"].items() if r)
            + f"; {row['verdict']}")
    log(f"  target: {section['summary']['target']['text']}")
    return section


def run_conversion(repeats: int, threads: int, timeout: float, smoke: bool = False, log=print) -> dict:
    """Run ``benchmarks.bench_conversion.bench_conversion`` in a fresh process; its dict or an error."""
    import os
    import subprocess

    if importlib.util.find_spec("benchmarks.bench_conversion") is None:
        return {"error": "benchmarks/bench_conversion.py is not in this checkout"}
    kwargs = {"repeats": repeats}
    if smoke:
        kwargs.update(n_images=20, epochs=2, T=0.05)
    code = ("import json, sys; from benchmarks.bench_conversion import bench_conversion as b; "
            "print('BENCH_JSON ' + json.dumps(b(**json.loads(sys.argv[1]))))")
    env = dict(os.environ, PYTHONPATH=str(REPO), NUMBA_NUM_THREADS=str(threads))
    log(f"== conversion: converted digits network, {kwargs}")
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", code, json.dumps(kwargs)], env=env, cwd=str(REPO),
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    wall = time.perf_counter() - t0
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            res = json.loads(line[len("BENCH_JSON "):])
            res["whole_process_s"] = wall
            res["kwargs"] = kwargs
            log(f"  {res.get('images_per_s', float('nan')):.0f} images/s, spiking accuracy "
                f"{res.get('spiking_accuracy', float('nan')):.3f}")
            return res
    return {"error": f"exit code {proc.returncode}: {(proc.stdout + proc.stderr)[-1500:]}"}


def merge_payloads(payloads: list[dict]) -> dict:
    """Merge the results of several runs (each measuring its cases side by side) into one payload.

    A case measured in several runs keeps the last one. Each case remembers the
    run it came from (``meta`` per run in ``runs``).
    """
    if len(payloads) == 1:
        return payloads[0]
    out = {"meta": payloads[-1]["meta"], "notes": [], "smoke": any(p["smoke"] for p in payloads),
           "repeats": min(p["repeats"] for p in payloads), "cases": [], "measurements": [],
           "agreement": {}, "invalid": {}, "partial": False,
           "runs": []}  # the runs list says what each run measured
    # the merged results follow the current protocol only if every run did
    if all("protocol" in p for p in payloads):
        out["protocol"] = payloads[-1]["protocol"]
    for p in payloads:
        names = [c["name"] for c in p["cases"] if c["name"] in p["agreement"]]
        for m in p["measurements"]:
            m.setdefault("run_date", p["meta"]["date"])
        _carry_cold_runs(out, p, names)
        out["runs"].append({"meta": p["meta"], "cases": names, "protocol": p.get("protocol")})
        out["cases"] = [c for c in out["cases"] if c["name"] not in names] + [
            c for c in p["cases"] if c["name"] in names]
        out["measurements"] = [m for m in out["measurements"] if m["case_name"] not in names] + [
            m for m in p["measurements"] if m["case_name"] in names]
        out["agreement"].update({n: p["agreement"][n] for n in names})
        out["invalid"] = {n: r for n, r in out["invalid"].items() if n not in names}
        out["invalid"].update({n: r for n, r in p.get("invalid", {}).items() if n in names})
        out["notes"] += [n for n in p.get("notes", []) if n not in out["notes"]]
        if "conversion" in p:
            out["conversion"] = p["conversion"]
        if "bridge" in p:
            out["bridge"] = p["bridge"]
    order = {c.name: i for i, c in enumerate(C.FULL_CASES)}
    out["cases"].sort(key=lambda c: order.get(c["name"], len(order)))
    return out


def _carry_cold_runs(old: dict, new: dict, names: list[str]) -> None:
    """Keep earlier empty-cache runs of measurements that a later run repeats without them.

    A later run may re-measure a case without the (slow) empty-cache runs of
    some simulator; its measurement then takes over the earlier session's
    empty-cache runs, marked as carried over, and only the empty-cache wall
    time uses them (see :meth:`benchmarks.measure.Measurement.summarise`).
    """
    from benchmarks.measure import Measurement, Run

    earlier = {(m["case_name"], m["sim_key"]): m for m in old["measurements"] if m["case_name"] in names}
    for m in new["measurements"]:
        prev = earlier.get((m["case_name"], m["sim_key"]))
        if prev is None or any(r["cold"] for r in m["runs"]):
            continue
        cold = [dict(r, carried=r.get("carried") or prev.get("run_date", "an earlier run"))
                for r in prev["runs"] if r["cold"]]
        if not cold:
            continue
        m["runs"] = m["runs"] + cold
        runs = [Run(**r) for r in m["runs"]]
        meas = Measurement(C.Case(**m["case"]), C.Sim(**m["sim"]), runs)
        m["summary"] = meas.summarise()
        note = (f"Empty-cache runs of {m['sim_key']} on {m['case_name']} are from the earlier run of "
                f"{cold[0]['carried']} (the later run measured it with warm caches only).")
        if note not in old.setdefault("notes", []):
            old["notes"].append(note)


def _resummarise(payload: dict) -> None:
    """Recompute every measurement's summary from its runs (saved files may predate a change)."""
    from benchmarks.measure import Measurement, Run

    for m in payload["measurements"]:
        runs = [Run(**r) for r in m["runs"]]
        m["summary"] = Measurement(C.Case(**m["case"]), C.Sim(**m["sim"]), runs).summarise()


def _loadavg():
    try:
        import os

        return list(os.getloadavg())
    except OSError:  # pragma: no cover - not on Linux
        return None


def _doc_path(args) -> Path:
    """Where the report goes: ``--doc``, else OUT/benchmarks.md; the tracked one only if asked."""
    doc = args.doc if args.doc is not None else args.out / "benchmarks.md"
    if doc.resolve() == DOCS_REPORT.resolve() and not args.update_docs:
        raise SystemExit(f"--doc: {DOCS_REPORT.relative_to(REPO)} is the published report; "
                         "write it with --update-docs")
    return doc


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark suite; returns 0 when every run succeeded and every check agreed.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 1 if a run failed or a simulator disagreed with the
        reference, 2 on bad arguments, 3 if a case is INVALID (runs started
        while other processes loaded the machine; not for ``--smoke``).
    """
    args = build_parser().parse_args(argv)
    doc = None if args.no_doc else _doc_path(args)
    if args.from_json is not None:
        payload = merge_payloads([json.loads(f.read_text()) for f in args.from_json])
        _resummarise(payload)
        for item in args.drop:
            item, _, reason = item.partition("=")
            key, _, case = item.partition("@")
            before = len(payload["measurements"])
            payload["measurements"] = [m for m in payload["measurements"]
                                       if not (m["sim_key"] == key and m["case_name"] == case)]
            payload["agreement"].get(case, {}).pop(key, None)
            if len(payload["measurements"]) < before:
                payload.setdefault("notes", []).append(
                    f"{key} on {case} is left out: " + (reason or "it was stopped before it finished "
                                                         "(many minutes per run on this machine)") + ".")
    else:
        plan(args)  # bad arguments fail before anything is created
        args.out.mkdir(parents=True, exist_ok=True)

        def save(payload):
            (args.out / "results.json").write_text(json.dumps(payload, indent=1))

        payload = run_suite(args, save=save)
        save(payload)
        print(f"results: {args.out / 'results.json'}")
    from benchmarks import report

    # a run of the bridge case alone measures no simulator case: it leaves the
    # simulator report (and its results file) as they are
    simulators_measured = bool(payload["measurements"])
    if doc is not None and not simulators_measured and doc.resolve() == DOCS_REPORT.resolve():
        doc = None
    if doc is not None:
        if (not args.no_profile and not payload["smoke"] and not args.quick
                and "profiles" not in payload):
            payload["profiles"] = report.profile_gaps(payload, args.out / "work")
            args.out.mkdir(parents=True, exist_ok=True)
            name = "results.json" if args.from_json is None else "results-merged.json"
            (args.out / name).write_text(json.dumps(payload, indent=1))
        report.write_doc(payload, doc, analysis=args.analysis)
        print(f"report: {doc}")
    if args.update_docs:
        if simulators_measured and (doc is None or doc.resolve() != DOCS_REPORT.resolve()):
            report.write_doc(payload, DOCS_REPORT, analysis=args.analysis)
            print(f"report: {DOCS_REPORT}")
        sources = {f.resolve() for f in (args.from_json or [])}
        if simulators_measured and DOCS_RESULTS.resolve() not in sources:
            DOCS_RESULTS.write_text(json.dumps(payload, indent=1))
            print(f"results: {DOCS_RESULTS}")
        if "bridge" in payload:
            if payload["smoke"]:
                print(f"{DOCS_BRIDGE.name}: not rewritten from a smoke run")
            else:
                from benchmarks import bridge_case

                bridge_case.update_docs(payload["bridge"], DOCS_BRIDGE, payload["meta"])
                print(f"bridge table: {DOCS_BRIDGE}")
    print(report.text_summary(payload))
    if "bridge" in payload:
        print("bridge: " + payload["bridge"]["summary"]["target"]["text"])
    failed = [m for m in payload["measurements"] if m["errors"]
              and not all(e.startswith("unsupported") for e in m["errors"])]
    mismatched = [(c, k) for c, d in payload["agreement"].items() for k, a in d.items()
                  if a["level"] == "MISMATCH"]
    conv_failed = "error" in payload.get("conversion", {}) and "not in this checkout" not in payload[
        "conversion"]["error"]
    bridge = payload.get("bridge") or {}
    bridge_failed = any(not r["ok"] for r in bridge.get("runs", []))
    if failed or mismatched or conv_failed or bridge_failed:
        return 1
    invalid = payload.get("invalid") or bridge.get("invalid")
    return 3 if invalid and not payload["smoke"] else 0


if __name__ == "__main__":
    sys.exit(main())
