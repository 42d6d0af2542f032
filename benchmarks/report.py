"""Targets, tables, build options, the loop-time plot and the Markdown report.

Everything here works on the JSON payload written by ``python -m benchmarks``
(``results.json`` in the ``--out`` folder), so the document can be regenerated
without measuring again (``--from-json``).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from benchmarks.cases import Case, Sim

# Targets: (case, quantity, peer, bound, kind, text[, modes])
# kind "max_ratio": spikenet / peer <= bound; "min_ratio": spikenet / peer >= bound;
# "max_abs": spikenet <= bound (seconds or MB). "same" means the peer with the same
# thread count as the spikenet configuration. ``modes``, when given, limits a target
# to the spikenet configurations of those modes ("" = the defaults).
TARGETS = (
    ("cuba-4000", "loop_s", "brian2-standalone-same", 0.5, "max_ratio",
     "CUBA-4000 simulation loop <= 0.5x Brian2 cpp_standalone"),
    ("cuba-4000", "wall_warm_s", "brian2-cython-1t", 0.5, "max_ratio",
     "CUBA-4000 whole process, warm caches <= 0.5x Brian2 cython"),
    ("cuba-4000", "wall_warm_s", "brian2-standalone-same", 0.2, "max_ratio",
     "CUBA-4000 whole process, warm caches <= 0.2x Brian2 cpp_standalone"),
    ("cuba-4000", "wall_cold_s", None, 5.0, "max_abs",
     "CUBA-4000 whole process, empty caches <= 5 s"),
    ("cuba-64000", "loop_s", "brian2-standalone-same", 0.5, "max_ratio",
     "CUBA-64000 simulation loop <= 0.5x Brian2 cpp_standalone"),
    ("cuba-1000000", "maxrss_mb", None, 8192.0, "max_abs",
     "CUBA-1,000,000 runs 1 s of biological time within 8 GB"),
    ("lif-100000", "neuron_steps_per_s", "brian2-standalone-same", 2.5, "min_ratio",
     "Uncoupled LIF, constant drive >= 2.5x Brian2 cpp_standalone neuron-steps/s", ("",)),
    ("lif-100000", "neuron_steps_per_s", "brian2-standalone-same", 2.0, "min_ratio",
     "Uncoupled LIF, time-stepping kernel >= 2x Brian2 cpp_standalone neuron-steps/s",
     ("stepped",)),
    ("hh-10000", "neuron_steps_per_s", "brian2-standalone-same", 5.0, "min_ratio",
     "HH >= 5x Brian2 cpp_standalone neuron-steps/s"),
)

#: What each simulator family is and how it is built, for the report.
SIM_TEXT = {
    "spikenet": "spikenet (Numba kernels; `-stepped`: the uncoupled LIF through the time-stepping "
                "kernel; `-jit`: the CUBA network from Numba's cache, without the ahead-of-time "
                "module; `-f32`: float32 state)",
    "brian2-standalone": "Brian2 cpp_standalone: at 1 thread built without OpenMP "
                         "(`openmp_threads = 0`, Brian2's default), at k > 1 threads built with "
                         "OpenMP and `openmp_threads = k`",
    "brian2-cython": "Brian2 runtime mode, Cython code generation, 1 thread",
    "nest": "NEST `iaf_psc_exp`, `local_num_threads` = the thread count",
    "limit": "hand-written Numba kernels doing the same arithmetic (a bound, not a peer: they count "
             "spikes instead of recording their times)",
}


def is_current(payload) -> bool:
    """Whether ``payload`` was measured under the current protocol (rounds, load gate)."""
    return payload.get("protocol", {}).get("version", 0) >= 2


def _run(cmd) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def _version(mod: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(mod)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict:
    """CPU, cores, memory, OS and versions of everything measured."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    mem_gb = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gcc = _run(["gcc", "--version"]).splitlines()
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb,
        "os": platform.platform(), "python": sys.version.split()[0],
        "versions": {m: _version(m) for m in ("numpy", "numba", "llvmlite", "scipy", "brian2",
                                             "nest-simulator", "spikenet")},
        "gcc": gcc[0] if gcc else "",
        "git": _run(["git", "-C", str(Path(__file__).resolve().parent.parent), "rev-parse", "--short",
                     "HEAD"]),
    }


# ----------------------------------------------------------------------------
# lookups on the payload

def _index(payload) -> dict:
    return {(m["case_name"], m["sim_key"]): m for m in payload["measurements"]}


def _med(m, quantity):
    if m is None:
        return None
    s = m["summary"].get(quantity)
    return None if not s else s["median"]


def _spikenet_keys(payload) -> list[str]:
    keys = []
    for m in payload["measurements"]:
        if m["sim"]["family"] == "spikenet" and m["sim_key"] not in keys:
            keys.append(m["sim_key"])
    return keys


def _by_round(m, quantity) -> dict:
    """Round -> value of ``quantity`` for the successful warm runs of measurement ``m``."""
    out = {}
    for r in (m or {}).get("runs", []):
        res = r.get("result") or {}
        if r.get("round", -1) < 0 or r["cold"] or r["rc"] != 0 or not res or res.get("unsupported"):
            continue
        if quantity == "wall_warm_s":
            out[r["round"]] = r["wall_s"]
        elif quantity == "maxrss_mb":
            out[r["round"]] = r["maxrss_mb"]
        elif quantity in ("loop_s", "neuron_steps_per_s"):
            out[r["round"]] = res.get("loop_s")
    return out


def round_ratio(m, peer, quantity) -> dict | None:
    """Median and spread over rounds of spikenet / peer for ``quantity`` (see ``ratio_stats``).

    For a throughput (``neuron_steps_per_s``) the per-round ratio is the
    peer's loop time over spikenet's, i.e. spikenet's throughput over the
    peer's; for times and memory it is spikenet's value over the peer's.
    """
    from benchmarks.protocol import ratio_stats

    a, b = _by_round(m, quantity), _by_round(peer, quantity)
    if quantity == "neuron_steps_per_s":
        a, b = b, a
    return ratio_stats(a, b)


def evaluate_targets(payload) -> list[dict]:
    """Every target for every spikenet configuration measured: value, bound, verdict.

    Under the current protocol the ratio is the median of the per-round ratios
    (``ratio_min``/``ratio_max`` its range over ``rounds`` rounds); results of
    the older protocol (no rounds) get the ratio of the medians and
    ``legacy`` true.

    Returns
    -------
    list of dict
        Keys ``target``, ``case``, ``spikenet``, ``peer``, ``value``,
        ``peer_value``, ``ratio``, ``ratio_min``, ``ratio_max``, ``rounds``,
        ``bound``, ``met`` (True, False, or None when not measured),
        ``invalid`` (the case's INVALID reason or None) and ``legacy``.
    """
    idx = _index(payload)
    current = is_current(payload)
    invalid = payload.get("invalid", {})
    rows = []
    for case, qty, peer, bound, kind, text, *rest in TARGETS:
        modes = rest[0] if rest else None
        for skey in _spikenet_keys(payload):
            m = idx.get((case, skey))
            if m is None or (modes is not None and m["sim"]["mode"] not in modes):
                continue
            threads = m["sim"]["threads"]
            pkey = None
            if peer:
                pkey = peer.replace("-same", f"-{threads}t")
            value = _med(m, qty)
            ok_run = not m["errors"] or (qty == "maxrss_mb" and m["summary"]["loop_s"])
            pm = idx.get((case, pkey)) if pkey else None
            peer_value = _med(pm, qty) if pkey else None
            row = {"target": text, "case": case, "spikenet": skey, "peer": pkey, "value": value,
                   "peer_value": peer_value, "ratio": None, "ratio_min": None, "ratio_max": None,
                   "rounds": None, "bound": bound, "met": None, "kind": kind,
                   "invalid": invalid.get(case), "legacy": not current}
            if kind == "max_abs":
                if value is not None and ok_run:
                    row["met"] = value <= bound
                elif m["errors"]:
                    row["met"] = False
            elif value is not None and peer_value:
                if current:
                    rs = round_ratio(m, pm, qty)
                    if rs is not None:
                        row.update(ratio=rs["median"], ratio_min=rs["min"], ratio_max=rs["max"],
                                   rounds=rs["n"])
                else:
                    row["ratio"] = value / peer_value
                if row["ratio"] is not None:
                    row["met"] = (row["ratio"] <= bound if kind == "max_ratio"
                                  else row["ratio"] >= bound)
            rows.append(row)
    return rows


# ----------------------------------------------------------------------------
# profiles of the gaps

def profile_gaps(payload, workdir: Path, top: int = 12) -> dict:
    """Profile spikenet at 1 thread on each case and configuration with an unmet target.

    Runs the spikenet worker under ``cProfile`` in a fresh process with warm
    caches and keeps the ``top`` entries by cumulative time, next to the
    worker's own phase breakdown (import, kernel loading, build, loop). The
    configuration (float32 state, the stepped LIF kernel) is the one that
    missed the target, run at 1 thread.

    Returns
    -------
    dict
        ``"<case>, <configuration>"`` -> {"phases": {...}, "cprofile": str}.
    """
    import pstats
    import tempfile

    from benchmarks.measure import REPO, _env

    idx = _index(payload)
    missed = sorted({(r["case"], idx[(r["case"], r["spikenet"])]["sim"]["mode"],
                      idx[(r["case"], r["spikenet"])]["sim"]["dtype"])
                     for r in evaluate_targets(payload) if r["met"] is False})
    out = {}
    for name, mode, dtype in missed:
        spec_case = next((c for c in payload["cases"] if c["name"] == name), None)
        if spec_case is None:
            continue
        case = Case(spec_case["kind"], spec_case["n"], spec_case["T"], spec_case["dt"])
        sim = Sim("spikenet", 1, mode=mode, dtype=dtype)
        workdir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f"profile-{name}-", dir=workdir))
        prof = tmp / "prof.out"
        spec = json.dumps({"case": case.spec(), "sim": sim.spec()})
        cmd = [sys.executable, "-m", "cProfile", "-o", str(prof), "-m", sim.module, "--spec", spec,
               "--out", str(tmp)]
        proc = subprocess.run(cmd, env=_env(sim, None), cwd=str(REPO), capture_output=True, text=True)
        entry = {"command": f"python -m cProfile -m {sim.module} --spec '{spec}'"}
        if proc.returncode != 0 or not prof.exists():
            entry["error"] = (proc.stdout + proc.stderr)[-1500:]
        else:
            import io

            parts = []
            for order, title in (("tottime", "by own time"), ("cumulative", "by cumulative time, "
                                                                         "spikenet and Numba entries")):
                buf = io.StringIO()
                st = pstats.Stats(str(prof), stream=buf)
                st.sort_stats(order)
                if order == "cumulative":
                    st.print_stats(r"spikenet/|numba/core/(dispatcher|caching)", top)
                else:
                    st.print_stats(top)
                text = buf.getvalue()
                text = text[text.find("ncalls"):] if "ncalls" in text else text
                parts.append(f"# {title}\n{text.rstrip()}")
            import re

            text = "\n\n".join(parts).replace(str(REPO) + "/", "")
            entry["cprofile"] = re.sub(r"/\S*?/(site-packages|lib/python3\.\d+)/", "", text)
            res = json.loads((tmp / "result.json").read_text())
            entry["phases"] = dict(res.get("phases", {}), build=res["build_s"], loop=res["loop_s"])
        out[f"{name}, {sim.key}"] = entry
    return out


# ----------------------------------------------------------------------------
# formatting

def _fmt_t(s) -> str:
    if s is None:
        return "-"
    v = s["median"]
    return f"{_num(v)} [{_num(s['min'])}-{_num(s['max'])}]"


def _num(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e5 or a < 1e-3:
        return f"{v:.2e}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def _verdict(met) -> str:
    return {True: "met", False: "**not met**", None: "not measured"}[met]


def row_verdict(row) -> str:
    """The verdict cell of a target row: INVALID and older-protocol results are never "met"."""
    if row.get("invalid"):
        return "**INVALID** (load)"
    if row.get("legacy") and row["met"] is not None:
        return "superseded (older protocol)"
    return _verdict(row["met"])


def _ratio_cell(row) -> str:
    if row["ratio"] is None:
        return "-"
    if row.get("ratio_min") is None:
        return f"{row['ratio']:.3g}"
    return f"{row['ratio']:.3g} [{row['ratio_min']:.3g}-{row['ratio_max']:.3g}], {row['rounds']} rounds"


def target_table(payload) -> list[str]:
    """Markdown lines of the targets table."""
    ratio_head = ("ratio, median of rounds [min-max]" if is_current(payload)
                  else "ratio of medians")
    lines = [f"| target | spikenet config | spikenet | peer | peer value | {ratio_head} | bound | verdict |",
             "|---|---|---|---|---|---|---|---|"]
    for r in evaluate_targets(payload):
        bound = (f"<= {r['bound']:g}x" if r["kind"] == "max_ratio" else
                 f">= {r['bound']:g}x" if r["kind"] == "min_ratio" else f"<= {r['bound']:g}")
        lines.append(f"| {r['target']} | {r['spikenet']} | {_num(r['value'])} | {r['peer'] or '-'} | "
                     f"{_num(r['peer_value'])} | {_ratio_cell(r)} | {bound} | {row_verdict(r)} |")
    return lines


def case_table(payload, case_name) -> list[str]:
    """Markdown lines of one case's results table, with ratios to spikenet at the same thread count."""
    idx = _index(payload)
    rows = [m for m in payload["measurements"] if m["case_name"] == case_name]
    agr = payload["agreement"].get(case_name, {})
    cuba = case_name.startswith(("cuba", "coba"))
    head = ("| simulator | loop s | neuron-steps/s" + (" | synaptic events/s" if cuba else "")
            + " | whole process s (warm) | whole process s (empty caches) | build s | peak MB"
            + " | spikenet loop / this | spikenet process / this | agreement |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for m in rows:
        s = m["summary"]
        threads = m["sim"]["threads"]
        ref = idx.get((case_name, f"spikenet-{threads}t"))
        lr = pr = "-"
        if ref is not None and m["sim"]["family"] != "spikenet":
            if is_current(payload):
                lr, pr = (_spread(round_ratio(ref, m, q)) for q in ("loop_s", "wall_warm_s"))
            else:
                a, b = _med(ref, "loop_s"), _med(m, "loop_s")
                lr = f"{a / b:.3g}" if a and b else "-"
                a, b = _med(ref, "wall_warm_s"), _med(m, "wall_warm_s")
                pr = f"{a / b:.3g}" if a and b else "-"
        nsps = s.get("neuron_steps_per_s")
        eps = s.get("events_per_s")
        a = agr.get(m["sim_key"])
        agreement = "-" if a is None else a["level"]
        if m["errors"]:
            agreement = "failed: " + m["errors"][0][:80].replace("|", "/").replace("\n", " ")
        cells = [m["sim_key"], _fmt_t(s["loop_s"]), _num(nsps["median"]) if nsps else "-"]
        if cuba:
            cells.append(_num(eps["median"]) if eps else "-")
        cells += [_fmt_t(s["wall_warm_s"]), _fmt_t(s["wall_cold_s"]), _fmt_t(s["build_s"]),
                  _num(s["maxrss_mb"]["median"]) if s["maxrss_mb"] else "-", lr, pr, agreement]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _spread(rs) -> str:
    return "-" if rs is None else f"{rs['median']:.3g} [{rs['min']:.3g}-{rs['max']:.3g}]"


def phase_lines(payload) -> list[str]:
    """Markdown lines: where a spikenet process spends its time, per case and cache state (medians).

    The worker times its phases (imports, loading the cached kernels through a
    tiny run, building the network, the loop, turning the result into
    statistics); "rest" is the whole-process time minus those (interpreter
    start and exit, the worker's own imports and I/O).
    """
    import statistics

    rows = []
    for m in payload["measurements"]:
        if m["sim"]["family"] != "spikenet":
            continue
        for cold in (False, True):
            warm = [r for r in m["runs"] if r["cold"] == cold and r["rc"] == 0 and r["result"].get("phases")]
            if not warm:
                continue

            def med(f, warm=warm):
                return statistics.median(f(r) for r in warm)

            ph = {k: med(lambda r, k=k: r["result"]["phases"].get(k, 0.0))
                  for k in ("import", "load_or_compile_kernels", "result_to_stats")}
            build, loop, wall = (med(lambda r: r["result"]["build_s"]), med(lambda r: r["result"]["loop_s"]),
                                 med(lambda r: r["wall_s"]))
            rest = wall - ph["import"] - ph["load_or_compile_kernels"] - ph["result_to_stats"] - build - loop
            label = m["sim_key"] + (" (empty caches)" if cold else "")
            rows.append(f"| {m['case_name']} | {label} | {_num(wall)} | {_num(ph['import'])} | "
                        f"{_num(ph['load_or_compile_kernels'])} | {_num(build)} | {_num(loop)} | "
                        f"{_num(ph['result_to_stats'])} | {_num(rest)} |")
    if not rows:
        return []
    return ["| case | config | whole process s | import spikenet | load or compile kernels (tiny run) "
            "| build | loop | result to statistics | rest |", "|---|---|---|---|---|---|---|---|---|", *rows]


def plot_loop_vs_n(payload, path: Path) -> bool:
    """Save a log-log plot of CUBA loop time versus N per simulator; False if nothing to plot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[tuple[int, dict]]] = {}
    for m in payload["measurements"]:
        if m["case"]["kind"] != "cuba" or not m["summary"]["loop_s"]:
            continue
        series.setdefault(m["sim_key"], []).append((m["case"]["n"], m["summary"]["loop_s"]))
    if not series:
        return False
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, pts in sorted(series.items()):
        pts.sort()
        n = [p[0] for p in pts]
        med = [p[1]["median"] for p in pts]
        lo = [p[1]["median"] - p[1]["min"] for p in pts]
        hi = [p[1]["max"] - p[1]["median"] for p in pts]
        style = "-" if key.startswith("spikenet") else "--" if key.startswith("limit") else ":"
        ax.errorbar(n, med, yerr=[lo, hi], fmt="o" + style, capsize=3, label=key, ms=4)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("neurons N (80 synapses per neuron)")
    ax.set_ylabel("simulation loop time for 1 s (s)")
    ax.set_title("CUBA network: loop time vs N (median, bars min-max)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def dtype_lines(payload) -> list[str]:
    """Markdown lines comparing float32 and float64 spikenet loop times."""
    idx = _index(payload)
    lines = ["| case | threads | float64 loop s | float32 loop s | float64 / float32 | float32 agreement |",
             "|---|---|---|---|---|---|"]
    any_row = False
    for c in payload["cases"]:
        for m in payload["measurements"]:
            if m["case_name"] != c["name"] or m["sim_key"] not in ("spikenet-1t", "spikenet-2t"):
                continue
            t = m["sim"]["threads"]
            f32 = idx.get((c["name"], f"spikenet-f32-{t}t"))
            a, b = _med(m, "loop_s"), _med(f32, "loop_s")
            agr = payload["agreement"].get(c["name"], {}).get(f"spikenet-f32-{t}t")
            status = "-" if f32 is None else (agr["level"] + ": " + agr["detail"]) if agr else (
                "; ".join(e[:80] for e in f32["errors"]) or "-")
            lines.append(f"| {c['name']} | {t} | {_num(a)} | {_num(b)} | "
                         f"{(f'{a / b:.3g}' if a and b else '-')} | {status} |")
            any_row = True
    return lines if any_row else []


def text_summary(payload) -> str:
    """Plain-text summary for the terminal: targets and agreement."""
    out = []
    for c, reason in payload.get("invalid", {}).items():
        out.append(f"INVALID       {c}: {reason}")
    for r in evaluate_targets(payload):
        ratio = "" if r["ratio"] is None else f" ratio {_ratio_cell(r)}"
        out.append(f"{row_verdict(r).replace('*', ''):13s} {r['target']} [{r['spikenet']}]: "
                   f"{_num(r['value'])}{ratio}")
    for case, d in payload["agreement"].items():
        for k, a in d.items():
            out.append(f"agreement {case:14s} {k:24s} {a['level']}")
    return "\n".join(out)


CASE_TEXT = {
    "cuba": "CUBA network (Brette et al. 2007): 80 % excitatory LIF neurons, exponential currents "
            "(5 ms / 10 ms), about 80 synapses per neuron (p = 80/N), 1 s at dt = 0.1 ms, all spikes "
            "recorded. Agreement: same statistics (mean excitatory and inhibitory rates within 15 %, "
            "mean ISI CV within 0.1 of Brian2's); spike-by-spike identity is impossible because each "
            "simulator draws its own connectivity and the network is chaotic. With warm caches, "
            "spikenet's network runs through its network kernel compiled ahead of time "
            "(`spikenet.sim.aot`, built once per cache folder; the process then never imports "
            "Numba); `spikenet-jit` is the same run with Numba's cache only.",
    "coba": "COBA network (Brette et al. 2007, benchmark 1; Brian's COBA example): 80 % excitatory LIF "
            "neurons with exponential conductances (5 ms / 10 ms, reversal potentials 0 mV and -80 mV; "
            "6 nS and 67 nS per spike for a 10 nS leak), about 80 synapses per neuron (p = 80/N), random "
            "initial voltages and conductances, no external drive; 1 s at dt = 0.1 ms, all spikes "
            "recorded. Agreement: the same statistics as CUBA. Brian2 integrates with exponential Euler "
            "(at 4,000 neurons the example's forward Euler gives the same statistics within 3 %, but it "
            "strays on reduced networks), NEST with "
            "`iaf_cond_exp` (adaptive GSL Runge-Kutta), spikenet with its conductance scheme (4th order "
            "within the step); the ahead-of-time kernel does not cover conductances, so spikenet runs "
            "its Numba kernel.",
    "cuba_stdp": "The CUBA network with pair-based additive STDP on every excitatory-to-excitatory "
                 "synapse (Brian2's STDP example rule: traces of 20 ms, a_pre = 0.01 w_max, a_post = "
                 "-1.05 a_pre, bounds [0, 2 w_e]). spikenet runs plastic networks on one thread. "
                 "Agreement: the CUBA statistics against Brian2.",
    "lif": "Uncoupled LIF neurons (tau_m = 20 ms, tau_ref = 2 ms), constant drives spread over "
           "[0.5, 3], 1 s at dt = 0.1 ms. Agreement: same spikes = every neuron's count within +-1 of "
           "the closed-form count; same statistics = total within 2 % (grid-quantised refractory "
           "periods and spike times of Brian2 and NEST). `simulate` runs a drive constant in time "
           "in closed form, spike to spike, at a cost proportional to the spikes rather than the "
           "steps; `spikenet-stepped` forces its time-stepping kernel (the one a time-varying "
           "drive or a recorded voltage takes), which is the one comparable step for step with the "
           "peers and the limit kernel.",
    "hh": "Uncoupled Hodgkin-Huxley neurons, constant currents spread over [0, 20] uA/cm^2, 100 ms "
          "at dt = 0.01 ms. Agreement with spikenet's counts (upward crossings of 0 mV): same spikes = "
          "every count within +-1; same statistics = total within 2 % (Brian2's exponential Euler "
          "updates V with the old gates).",
    "microcircuit": "Cortical microcircuit (Potjans & Diesmann 2014): 8 populations of LIF neurons with "
                    "exponential currents (0.5 ms), N of the 77,169 neurons with the full in-degrees (about "
                    "3,900 synapses per neuron with per-synapse normal weights and delays), DC background, "
                    "1 s at dt = 0.1 ms. Each simulator draws its own instance (NEST with its "
                    "fixed_total_number rule), so only statistics can agree: every population's rate "
                    "above 1 Hz within 30 % of NEST's (the spread between seeds).",
}


def _shown_path(path) -> str:
    path = Path(path).resolve()
    root = Path(__file__).resolve().parent.parent
    return str(path.relative_to(root)) if path.is_relative_to(root) else path.name


def _max_recorded_load(payload) -> float | None:
    """Highest 1-minute load average recorded at the start or end of any run of the command."""
    metas = [r["meta"] for r in payload.get("runs", [])] or [payload["meta"]]
    vals = [v[0] for m in metas for v in (m.get("load_before"), m.get("load_after")) if v]
    return max(vals) if vals else None


def notice_lines(payload) -> list[str]:
    """The warnings at the top of the report: older protocol, INVALID cases."""
    L = []
    if not is_current(payload):
        peak = _max_recorded_load(payload)
        cores = payload["meta"].get("cores")
        L += ["> **Superseded figures.** The figures below were measured under an older protocol: "
              "the 1-thread Brian2 cpp_standalone peer was built with OpenMP and run on one OpenMP "
              "thread (Brian2's default build, without OpenMP, is faster), and the peers ran while "
              "other jobs loaded the machine"
              + (f" (load averages up to {_num(peak)} on {cores} cores)" if peak is not None else "")
              + ", which slowed them down. Their ratios are not valid comparisons and no target is "
              "claimed met until this report is regenerated with the current protocol (alternating "
              "rounds on a quiet machine, Brian2 without OpenMP at 1 thread; `python -m benchmarks "
              "--quick` for the headline ratios).", ""]
    if payload.get("invalid"):
        L += ["> **INVALID.** Some runs started while other processes loaded the machine, after the "
              "load gate had waited as long as it may; the cases below are not valid measurements "
              "and their ratios must not be quoted:", ">"]
        L += [f"> - {c}: {reason}" for c, reason in payload["invalid"].items()]
        L.append("")
    return L


def protocol_lines(payload) -> list[str]:
    """Markdown lines describing how the runs were made, with the loads recorded."""
    pr = payload.get("protocol")
    if not pr:
        return []
    loads = [r["load"] for m in payload["measurements"] for r in m["runs"] if r.get("load")]
    discarded = sum(len(r.get("discarded", [])) for m in payload["measurements"] for r in m["runs"])
    L = ["## Protocol", "",
         *(["- A `--quick` run: the headline cases and configurations only (CUBA-4000, "
            "CUBA-64000, lif-100000, hh-10000; spikenet against Brian2 cpp_standalone), warm caches "
            "only."]
           if pr.get("quick") else []),
         f"- Each case is measured in {pr['rounds']} rounds. A round runs every simulator of the case "
         "once, each in a fresh process, in an order that alternates between rounds (the listed "
         "order, then the reverse, ...).",
         "- Ratios are computed per round, from the two simulators' runs of that round, and "
         "reported as the median over the rounds with [min-max]; the per-simulator numbers are "
         "medians over the rounds with [min-max].",
         f"- Load gate: before every measured run the 1-minute load average is read. The suite's "
         "own share of it (estimated from the CPU time of its recent runs) is subtracted, and a run "
         f"starts only while the rest, the load of other processes, is at most "
         f"{pr['max_load_per_core']:g} per core ({_num(pr['load_limit'])} on {pr['cores']} cores); "
         f"otherwise it waits {pr['wait_s']:g} s and reads again, at most {pr['retries']} times, "
         "and a run that still starts above the limit makes its case INVALID."
         + ("" if pr["enforced"] else " In this run the gate did not wait (smoke run or "
            "`--no-load-gate`): loads were only recorded."),
         ]
    if loads:
        raw = max(ld["load_1m"] for ld in loads)
        others = max(ld["others"] for ld in loads)
        L.append(f"- Recorded at the start of the {len(loads)} measured runs: 1-minute load average "
                 f"up to {_num(raw)}, of which other processes up to {_num(max(others, 0.0))}; "
                 f"{discarded} start(s) deferred because the machine was busy.")
    L.append("")
    return L


def _build_cell(b: dict) -> str:
    return ", ".join(f"{k} = `{v}`" if v not in ("", None) else f"{k} = (none)" for k, v in b.items())


def build_lines(payload) -> list[str]:
    """Markdown lines: every simulator configuration, its version and build options."""
    meta = payload["meta"]
    v = meta.get("versions", {})
    L = ["## Simulators and build options", "",
         f"- Versions: spikenet {v.get('spikenet', '?')}, Numba {v.get('numba', '?')} (llvmlite "
         f"{v.get('llvmlite', '?')}), NumPy {v.get('numpy', '?')}, Brian2 {v.get('brian2', '?')}, "
         f"NEST {v.get('nest-simulator', '?')}; C++ compiler: {meta.get('gcc') or '?'}.",
         ]
    families = []
    for m in payload["measurements"]:
        fam = m["sim"]["family"] + (f"-{m['sim']['mode']}" if m["sim"]["family"] == "brian2" else "")
        if fam not in families:
            families.append(fam)
    L += [f"- `{f}`: {SIM_TEXT[f]}." for f in families if f in SIM_TEXT]
    if not is_current(payload) and "brian2-standalone" in families:
        L.append("- In these (older) results `brian2-standalone-1t` was built **with** OpenMP and "
                 "run with `openmp_threads = 1`.")
    rows, seen = [], set()
    for m in payload["measurements"]:
        if m["sim_key"] in seen:
            continue
        b = next((r["result"]["build"] for r in m["runs"]
                  if r.get("result") and r["result"].get("build")), None)
        if b is not None:
            seen.add(m["sim_key"])
            rows.append(f"| {m['sim_key']} | {_build_cell(b)} |")
    if rows:
        L += ["", "As each worker reported them:", "", "| configuration | build and run options |",
              "|---|---|", *rows]
    L.append("")
    return L


def write_doc(payload, doc: Path, analysis: Path | None = None) -> None:
    """Write the Markdown report ``doc`` and its plot ``<doc stem>_cuba_loop.png`` next to it.

    Parameters
    ----------
    payload : dict
        The results (``results.json``).
    doc : Path
        The Markdown file to write.
    analysis : Path, optional
        A hand-written reading of these numbers, appended as "Reading the
        numbers". Results of the older protocol append ``benchmarks/analysis.md``
        (written for them) by default, under a notice.
    """
    meta = payload["meta"]
    current = is_current(payload)
    png = doc.with_name(doc.stem + "_cuba_loop.png")
    have_plot = plot_loop_vs_n(payload, png)
    L = ["# Benchmarks: spikenet against Brian2, NEST and bare Numba kernels", "",
         "*Generated by `python -m benchmarks` (also `spikenet bench`); do not edit by hand.*", "",
         *notice_lines(payload),
         (f"Measured {meta['date']} at commit `{meta.get('git', '')}`, " if not payload.get("runs") else "")
         + f"{payload['repeats']} " + ("rounds per case" if current else "runs per measurement")
         + (" (**smoke run: tiny sizes, not a measurement**)" if payload["smoke"] else "") + ".", ""]
    load = (meta.get("load_before"), meta.get("load_after"))
    if payload.get("runs"):
        L += ["Measured in several runs of the command, each measuring all simulators of its cases "
              "side by side (so every ratio compares runs of the same session):", ""]
        for r in payload["runs"]:
            m = r["meta"]
            la, lb = m.get("load_before") or ["?"], m.get("load_after") or ["?"]
            what = ", ".join(r["cases"]) or "converted digits network"
            L.append(f"- {m['date']}, commit `{m.get('git', '')}`, load average {_num(la[0])} -> "
                     f"{_num(lb[0])}, {_num(m.get('suite_s'))} s: {what}")
        L.append("")
    L += protocol_lines(payload)
    L += build_lines(payload)
    L += ["## Machine and noise", "",
          f"- CPU: {meta['cpu']}, {meta['cores']} cores, {_num(meta['memory_gb'])} GiB memory; {meta['os']}",
          f"- Python {meta['python']}; " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
          + f"; {meta['gcc']}",
          "- The machine is a shared virtual machine: other processes may run during the measurements ("
          + (f"load average {_num(load[0][0]) if load[0] else '?'} before, "
             f"{_num(load[1][0]) if load[1] else '?'} after, " if not payload.get("runs") else "see the "
             "load averages above, ")
          + f"on {meta['cores']} cores), so single runs are noisy and 2-thread runs especially so. Every "
          "number is the median of the runs with [min-max]; "
          + ("ratios are medians of per-round ratios (see Protocol)." if current else
             "ratios are ratios of medians of runs made in the same session."),
          f"- Whole suite: {_num(meta.get('suite_s'))} s." if not payload.get("runs") else ""]
    threads = sorted({m["sim"]["threads"] for m in payload["measurements"]})
    if threads == [1]:
        L.append("- Only 1-thread configurations were measured in this run: with the 2 cores already "
                 "busy, a second thread mostly waits at the per-step barrier for a core, which measures "
                 "the other users rather than the simulators (`--threads 1,2` measures both).")
    if payload.get("partial"):
        L.append("- **Partial run**: the suite was interrupted; only the cases below were measured.")
    for note in dict.fromkeys(payload.get("notes", [])):
        L.append(f"- Note: {note}")
    L.append("")
    L += ["## Targets", "", *target_table(payload), ""]
    L += ["Ratios compare spikenet with the peer at the same thread count (`-1t`, `-2t`); `f32` marks "
          "spikenet with float32 state; `stepped` marks the uncoupled LIF run through the "
          "time-stepping kernel instead of the closed form that `simulate` uses for a drive "
          "constant in time (both are exact; the stepped kernel is what a time-varying drive or a "
          "recorded voltage gets); `jit` marks the CUBA network run from Numba's cache alone, without "
          "the network kernel compiled ahead of time (what a process gets before `spikenet aot`). "
          "The `f32` and `jit` rows are shown for comparison; the targets are read on the defaults "
          "(`spikenet-1t`, `spikenet-2t`) and, for the time-stepping LIF target, on `stepped`.", ""]
    L += ["## What is measured", "",
          "- **loop**: the simulation loop alone, measured by each simulator around its run (Brian2: "
          "its own `_last_run_time`, i.e. the C++ main loop in standalone mode; NEST: `nest.Run`; "
          "spikenet: `Network.run` / `simulate` after a tiny run has loaded the compiled kernels; "
          "for CUBA the first step runs before the loop, because it builds the network's data "
          "structures as Brian2 builds its synapses before its loop, so the loop has one step "
          "fewer than Brian2's, 0.01 %). Every side records the same thing, the time and neuron "
          "of every spike (the limit kernels only count them), and the statistics are computed "
          "from those records after the loop, by the same code for every simulator.",
          "- **whole process**: wall time of a fresh `python -m benchmarks.run_<sim>` process from start "
          "to exit (imports, model construction, code generation and compilation, run, statistics); "
          "*warm* with the compiled-code caches as the previous run left them (Numba's cache and "
          "spikenet's ahead-of-time compiled network kernel, Brian2's "
          "Cython cache, the standalone project folder), *empty caches* with all of them fresh (NEST "
          "has no such cache). Compilation depends on the model, not on its size, so by default the "
          "empty-cache runs are made on one case per model (cuba-4000, lif-100000, hh-10000) for "
          "spikenet (float64) and the limit kernels, and on CUBA-4000 only for Brian2, whose "
          "empty-cache runs compile for 30-150 s each here (`--cold-cases all`, "
          "`--cold-peer-cases all` measure every case).",
          "- **build**: network construction (for Brian2 standalone: code generation, `make` and the "
          "binary's synapse creation, i.e. the standalone build and run minus the loop).",
          "- **peak MB**: `ru_maxrss` of the process and the children it waited for (the standalone "
          "binary).",
          "- **neuron-steps/s** = neurons x steps / loop; **synaptic events/s** = spikes x 80 / loop.",
          "- **limit**: minimal hand-written Numba kernels doing the same arithmetic "
          "(`benchmarks/limit_kernels.py`), i.e. what this machine gives without a framework.",
          ""]
    L += ["## Results per case", ""]
    for c in payload["cases"]:
        L += [f"### {c['name']}: {c['n']} neurons, {c['T']:g} s at dt = {c['dt'] * 1e3:g} ms", "",
              CASE_TEXT[c["kind"]], "", *case_table(payload, c["name"]), ""]
        for k, a in payload["agreement"].get(c["name"], {}).items():
            if a["detail"]:
                L.append(f"- {k}: {a['level']}: {a['detail']}")
        for m in payload["measurements"]:
            if m["case_name"] == c["name"] and m.get("aot_build_s"):
                L.append(f"- {m['sim_key']}: network kernel compiled ahead of time in "
                         f"{_num(m['aot_build_s'])} s, once, after the empty-cache runs "
                         "(not part of any measured run).")
        L.append("")
    if have_plot:
        L += ["## Loop time versus network size", "", f"![CUBA loop time vs N]({png.name})", ""]
    dl = dtype_lines(payload)
    if dl:
        L += ["## float32 versus float64 state", "",
              "float64 is the default: the accuracy tests (LIF rates within 0.1 %, HH spike times "
              "within 0.1 ms of `solve_ivp`) are stated for it, and float32 rounding (1e-7 relative) "
              "accumulates over 10^4-10^5 steps. float32 halves the memory traffic of the state arrays.",
              "", *dl, ""]
    conv = payload.get("conversion")
    if conv:
        L += ["## Converted digits network", "",
              "`benchmarks/bench_conversion.py`: the 64-128-10 SoftLIF digits classifier converted with "
              "`to_spiking` (dt = 1 ms; defaults: instantaneous synapses, rate_scale 10, v_init 0.5, "
              "float32) simulating the whole test set in one kernel call: the headline at 5 steps, then "
              "images/s (`ips_`) and accuracy (`acc_`) per path, float type, Numba threads and steps, "
              "timed in alternating rounds; the former defaults (5 ms PSC synapses) as `psc_` rows.", ""]
        if "error" in conv:
            L += ["```", conv["error"].rstrip(), "```", ""]
        else:
            L += ["| quantity | value |", "|---|---|"]
            for k, v in conv.items():
                if k == "kwargs":
                    continue
                L.append(f"| {k} | {_num(v) if isinstance(v, float) else v} |")
            L.append("")
    if payload.get("bridge"):
        from benchmarks import bridge_case

        fig = doc.with_name(doc.stem + "_bridge_accuracy.png")
        have_fig = bridge_case.plot_accuracy(payload["bridge"], fig)
        L += bridge_case.report_lines(payload["bridge"], fig.name if have_fig else None,
                                      smoke=payload["smoke"])
        L.append("")
    gaps = [r for r in evaluate_targets(payload) if r["met"] is False]
    L += ["## Gaps and where the time goes", ""]
    pl = phase_lines(payload)
    if pl:
        L += ["Per-phase timing of the spikenet processes (medians over the runs):", "", *pl, ""]
    if not gaps and current and not payload.get("invalid") and not payload["smoke"]:
        L += ["Every measured target is met.", ""]
    for r in gaps:
        ratio = f"ratio {r['ratio']:.3g}, bound {r['bound']:g}" if r["ratio"] is not None else (
            f"{_num(r['value'])} against {r['bound']:g}")
        L.append(f"- {r['target']} [{r['spikenet']}]: {ratio}.")
    L.append("")
    for name, prof in payload.get("profiles", {}).items():
        label = name if "," in name else f"{name}, spikenet-1t"  # older results: keyed by case
        L += [f"### Profile: {label} (warm caches)", "",
              f"`{prof['command']}`", ""]
        if "phases" in prof:
            L += ["Phases (s): " + ", ".join(f"{k} {_num(v)}" for k, v in prof["phases"].items()), "",
                  "```", prof["cprofile"].rstrip(), "```", ""]
        else:
            L += ["```", prof.get("error", "").rstrip(), "```", ""]
    if analysis is None and not current:
        analysis = Path(__file__).with_name("analysis.md")
    if analysis is not None and Path(analysis).exists() and not payload["smoke"]:
        L += ["## Reading the numbers", "",
              f"*Written by hand from the measured run (`{_shown_path(analysis)}`); the tables above are "
              "generated.*", ""]
        if not current:
            L += ["> Written for the superseded figures above: the verdicts it states (\"met\") are "
                  "withdrawn until the report is regenerated with the current protocol.", ""]
        L += [Path(analysis).read_text().strip(), ""]
    L += ["## Running it", "", "```bash",
          "python -m benchmarks --quick         # headline ratios (sized for < 15 min, quiet machine)",
          "python -m benchmarks                 # everything (hours); results in ./spikenet-bench/",
          "python -m benchmarks --cases cuba-4000,hh --peers brian2 --out my-run",
          "python -m benchmarks --smoke --peers limit --no-doc   # tiny sizes, a few seconds",
          "python -m benchmarks --from-json spikenet-bench/results.json   # rewrite the report",
          "python -m benchmarks --quick --update-docs   # also rewrite this published page",
          "```", "", "NEST is optional: `pip install nest-simulator` (or the `[bench]` extra).", ""]
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text("\n".join(L))
