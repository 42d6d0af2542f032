"""Speed regression check: this checkout's spikenet against an earlier revision, run alternately.

``python -m benchmarks.regression --baseline REV`` extracts the ``spikenet``
package of git revision ``REV`` (``git archive``) into a scratch folder and
runs the suite's spikenet worker (``benchmarks.run_spikenet``, from this
checkout) once with that package and once with this checkout's, alternating
the order between rounds (baseline, new, new, baseline, ...), every run
through the load gate of :mod:`benchmarks.protocol`. Both sides run the
same case code, so only the package differs.

Checks (the engine's speed contract):

- warm loop time of each case (default: CUBA-4000, CUBA-64000, HH-10000,
  uncoupled LIF-100000, one thread): the median of the per-round ratios
  new / baseline at most ``1 + --loop-tol`` (5 %);
- whole process with empty caches on CUBA-4000 (Numba's cache and the
  ahead-of-time module emptied before each run): median ratio at most
  ``1 + --cold-tol`` (20 %).

Each side has its own cache folder. The ahead-of-time CUBA kernel is built
once per side before the warm rounds, as :func:`benchmarks.measure.prepare`
does for the main suite. The result is printed as a table and written as
JSON to ``--out`` (default ``benchmarks/output/regression.json``); the exit
status is 0 when every check passes, 1 when one fails, 2 when a run failed
or a run started above the load limit (the verdict is then not valid).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import cases as C
from benchmarks.measure import REPO, gated, run_process
from benchmarks.protocol import LoadGate, ratio_stats, run_rounds

DEFAULT_CASES = ("cuba-4000", "cuba-64000", "hh-10000", "lif-100000")
SIDES = ("baseline", "new")


def extract_package(rev: str, dest: Path, repo: Path = REPO) -> Path:
    """Write the ``spikenet`` package of git revision ``rev`` into ``dest``; returns ``dest``.

    Raises
    ------
    ValueError
        If ``rev`` is not a revision of ``repo`` or has no ``spikenet`` folder.
    """
    dest.mkdir(parents=True, exist_ok=True)
    arch = subprocess.run(["git", "-C", str(repo), "archive", "--format=tar", rev, "spikenet"],
                          capture_output=True)
    if arch.returncode != 0:
        why = arch.stderr.decode(errors="replace").strip()
        raise ValueError(f"baseline {rev!r}: git archive failed: {why}")
    subprocess.run(["tar", "-x", "-C", str(dest)], input=arch.stdout, check=True)
    if not (dest / "spikenet" / "__init__.py").exists():
        raise ValueError(f"baseline {rev!r} has no spikenet package")
    return dest


def parse_case(name: str) -> C.Case:
    """``"cuba-4000"`` -> the suite's case of that kind and size (its default duration)."""
    kind, _, n = name.partition("-")
    if kind not in ("cuba", "lif", "hh") or not n.isdigit():
        raise ValueError(f"case {name!r}: expected KIND-N with KIND one of cuba, lif, hh")
    return C.make_case(kind, int(n))


def verdict(ratio: dict | None, tol: float) -> str:
    """``"pass"`` for a median ratio at most ``1 + tol``, ``"FAIL"`` above, ``"no data"`` without one."""
    if not ratio:
        return "no data"
    return "pass" if ratio["median"] <= 1.0 + tol else "FAIL"


def _compare(case, sim, workdir, paths, caches, rounds, gate, cold, quantity, log):
    """Alternate the two sides on ``case``; returns the check's record."""
    by_side = {s: {} for s in SIDES}
    runs = []

    def one(side, k):
        r = run_process(case, sim, workdir / side, cold=cold, cache=caches[side],
                        pythonpath=paths[side])
        value = r.wall_s if quantity == "wall_s" else r.result.get(quantity)
        log(f"  {case.name:12s} {side:8s} round {k + 1}: {quantity} "
            + (f"{value:.4f} s" if r.ok and value is not None else f"FAILED {r.error[:300]}"))
        if r.ok and value is not None:
            by_side[side][k] = value
        runs.append({"side": side, "round": k, "ok": r.ok, quantity: value, "error": r.error[:500],
                     "package": r.result.get("package")})
        return r

    records = run_rounds(list(SIDES), rounds, one, gate=gate, log=log)
    for rec, run in zip(records, runs):
        run["load"] = rec["load"]
        run["over_load"] = rec["over_load"]
    return {"case": case.name, "quantity": quantity, "runs": runs,
            "ratio": ratio_stats(by_side["new"], by_side["baseline"]),
            "valid": all(r["ok"] and not r["over_load"] for r in runs)}


def run_regression(baseline: str, case_names=DEFAULT_CASES, rounds: int = 4, cold_rounds: int = 2,
                   threads: int = 1, loop_tol: float = 0.05, cold_tol: float = 0.20,
                   gate: LoadGate | None = None, workdir: Path | None = None, log=print) -> dict:
    """Run the checks (see the module docstring) and return the report as a dict.

    Parameters
    ----------
    baseline : str
        Git revision of the baseline (any ``git archive`` revision).
    case_names : sequence of str
        Warm-loop cases, e.g. ``("cuba-4000", "lif-100000")``.
    rounds, cold_rounds : int
        Alternating rounds of warm runs per case, and of empty-cache CUBA-4000
        runs (0 skips the empty-cache check).
    threads : int
        Numba threads of both sides.
    loop_tol, cold_tol : float
        Allowed slow-down of the warm loop and of the empty-cache process.
    gate : LoadGate, optional
        Load gate (None: runs start without reading the load).
    workdir : Path, optional
        Scratch folder (a temporary one by default).
    """
    workdir = Path(tempfile.mkdtemp(prefix="spikenet-regression-")) if workdir is None else workdir
    paths = {"baseline": str(extract_package(baseline, workdir / "baseline-src")), "new": str(REPO)}
    caches = {s: workdir / "caches" / s for s in SIDES}
    sim = C.Sim("spikenet", threads)
    checks = []
    for name in case_names:
        case = parse_case(name)
        for side in SIDES:  # fill the caches (and build the ahead-of-time CUBA kernel): not measured
            def prep(side=side, case=case, options=None):
                return run_process(case, sim, workdir / side, cold=False, cache=caches[side],
                                   pythonpath=paths[side], options=options)

            r = gated(gate, prep, log=log, measured=False)
            if not r.ok:
                raise RuntimeError(f"{side} warm-up of {name} failed: {r.error[:1000]}")
            if case.kind == "cuba":
                gated(gate, lambda prep=prep: prep(options={"build_aot": True}), log=log, measured=False)
        check = _compare(case, sim, workdir, paths, caches, rounds, gate, False, "loop_s", log)
        check["tol"] = loop_tol
        check["verdict"] = verdict(check["ratio"], loop_tol)
        checks.append(check)
    if cold_rounds:
        case = parse_case("cuba-4000")
        cold_caches = {s: workdir / "cold-caches" / s for s in SIDES}
        check = _compare(case, sim, workdir, paths, cold_caches, cold_rounds, gate, True, "wall_s", log)
        check["case"] = "cuba-4000 empty caches"
        check["tol"] = cold_tol
        check["verdict"] = verdict(check["ratio"], cold_tol)
        checks.append(check)
    return {"baseline": baseline, "threads": threads, "rounds": rounds, "checks": checks}


def format_report(report: dict) -> str:
    """The report as a plain-text table."""
    lines = [f"spikenet speed against {report['baseline']} ({report['threads']} thread(s)); "
             "ratio = new / baseline, median [min-max] of per-round ratios",
             f"{'check':28s} {'quantity':8s} {'ratio':24s} {'limit':7s} verdict"]
    for c in report["checks"]:
        r = c["ratio"]
        cell = f"{r['median']:.3f} [{r['min']:.3f}-{r['max']:.3f}], n={r['n']}" if r else "-"
        flag = "" if c["valid"] else " (not valid: failed or loaded runs)"
        lines.append(f"{c['case']:28s} {c['quantity']:8s} {cell:24s} {1 + c['tol']:<7.2f} "
                     f"{c['verdict']}{flag}")
    return "\n".join(lines)


def exit_status(report: dict) -> int:
    """0: every check passes; 1: a check fails; 2: a check has no valid verdict."""
    if any(not c["valid"] or c["verdict"] == "no data" for c in report["checks"]):
        return 2
    return 1 if any(c["verdict"] == "FAIL" for c in report["checks"]) else 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.regression", description=__doc__.split("\n")[0])
    p.add_argument("--baseline", required=True, help="git revision to compare against")
    p.add_argument("--cases", default=",".join(DEFAULT_CASES), help="comma-separated warm-loop cases")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--cold-rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-gate", action="store_true", help="do not wait for a quiet machine")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "output" / "regression.json")
    args = p.parse_args(argv)
    gate = None if args.no_gate else LoadGate()
    report = run_regression(args.baseline, [c for c in args.cases.split(",") if c], rounds=args.rounds,
                            cold_rounds=args.cold_rounds, threads=args.threads, gate=gate)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1))
    print(format_report(report))
    print(f"wrote {args.out}")
    return exit_status(report)


if __name__ == "__main__":
    sys.exit(main())
