"""Per-round ratios of two simulators of a case by loop CPU time, from a ``results.json``.

Usage::

    python -m benchmarks.cpu_ratio RESULTS.json --case lif-100000 \\
        --a spikenet-stepped-1t --b brian2-standalone-1t

Brian2's cpp_standalone built without OpenMP (its one-thread configuration)
reports its loop time as CPU time (``std::clock``), while spikenet's
``loop_s`` is wall time; on a loaded machine the wall time grows with the
other processes' load and the CPU time hardly does. This prints, for each
round in which both ran, the loop times of ``a`` and ``b`` by wall clock and
(where the worker recorded it, ``loop_cpu_s``) by CPU time, the load before
each run, and the median and range of the per-round ratios ``b / a`` (speed
of ``a`` relative to ``b``: above 1 means ``a`` is faster). Compare CPU
times only for one-thread configurations.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path


def loop_times(results: dict, case: str, sim: str) -> dict:
    """``round -> (wall s, CPU s or None, load_1m or None)`` of ``sim``'s warm runs on ``case``."""
    out = {}
    for m in results.get("measurements", []):
        if m.get("case_name") != case or m.get("sim_key") != sim:
            continue
        for r in m["runs"]:
            if r.get("cold") or r.get("round", -1) < 0 or r.get("rc") != 0 or not r.get("result"):
                continue
            res = r["result"]
            cpu = res.get("loop_cpu_s")
            if cpu is None and res.get("build", {}).get("loop_clock", "").startswith("CPU"):
                cpu = res["loop_s"]  # Brian2 without OpenMP: its loop time is CPU time
            load = (r.get("load") or {}).get("load_1m")
            out[r["round"]] = (res["loop_s"], cpu, load)
    return out


def per_round(a: dict, b: dict) -> list[dict]:
    """Rows for the rounds in both ``a`` and ``b`` (outputs of :func:`loop_times`)."""
    rows = []
    for k in sorted(set(a) & set(b)):
        (wa, ca, la), (wb, cb, lb) = a[k], b[k]
        rows.append({"round": k, "a_wall": wa, "b_wall": wb, "a_cpu": ca, "b_cpu": cb,
                     "load_a": la, "load_b": lb,
                     "wall_ratio": wb / wa if wa > 0 else None,
                     "cpu_ratio": cb / ca if (ca and cb) else None})
    return rows


def _summary(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    return f"{statistics.median(xs):.3g} [{min(xs):.3g}-{max(xs):.3g}], {len(xs)} rounds"


def main(argv=None) -> int:
    """Command line; see the module docstring."""
    ap = argparse.ArgumentParser(prog="python -m benchmarks.cpu_ratio", description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--case", required=True)
    ap.add_argument("--a", required=True, help="simulator key, e.g. spikenet-stepped-1t")
    ap.add_argument("--b", required=True, help="simulator key, e.g. brian2-standalone-1t")
    args = ap.parse_args(argv)
    results = json.loads(args.results.read_text())
    rows = per_round(loop_times(results, args.case, args.a), loop_times(results, args.case, args.b))
    if not rows:
        print(f"no round with both {args.a} and {args.b} on {args.case}", file=sys.stderr)
        return 1

    def f(x):
        return "-" if x is None else f"{x:.3g}"

    print(f"{args.case}: {args.a} (a) vs {args.b} (b); ratio = b / a (above 1: a is faster)")
    print("round | a wall s | a CPU s | load | b wall s | b CPU s | load | ratio wall | ratio CPU")
    for r in rows:
        print(f"{r['round']} | {f(r['a_wall'])} | {f(r['a_cpu'])} | {f(r['load_a'])} | {f(r['b_wall'])} | "
              f"{f(r['b_cpu'])} | {f(r['load_b'])} | {f(r['wall_ratio'])} | {f(r['cpu_ratio'])}")
    print(f"median ratio by wall clock: {_summary(r['wall_ratio'] for r in rows)}")
    print(f"median ratio by CPU time:   {_summary(r['cpu_ratio'] for r in rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
