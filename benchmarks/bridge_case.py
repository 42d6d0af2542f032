"""The bridge case: spikenet's converted digits network against SpikingJelly and snnTorch.

Each library trains its digits classifier (64-``HIDDEN``-10, the split
``datasets.digits(seed=0)``) and measures it in a fresh process
(:func:`benchmarks.bridge_peers.run`): accuracy at each step count (1 ms
steps) and images per second for the whole 450-image test set as one batch,
per thread count and step count (the median of a few timed calls after a
warm-up). spikenet runs ``to_spiking`` with its defaults; SpikingJelly 2.0
converts a ReLU network with ``ann2snn``; snnTorch 1.0 trains ``Leaky``
neurons by BPTT. The peers run in their own virtual environments.

Protocol
--------
The three processes are the "simulators" of one case and go through the
suite's protocol (:mod:`benchmarks.protocol`) unchanged: every round runs
each library once, in an order that alternates between rounds; every run
waits at the load gate; the ratios spikenet / SpikingJelly and spikenet /
snnTorch of images per second are computed per round, per thread count and
step count, and reported as the median over rounds with their spread. A run
that started above the load limit makes the whole case INVALID.

Target
------
spikenet's images/s >= ``TARGET_RATIO`` x SpikingJelly's at equal accuracy
and equal step count, at every thread count. *Equal accuracy* at a step
count means that both libraries are at their full accuracy there: each is
within ``ACCURACY_TOL`` (0.5 percentage points) of the best accuracy it
reaches over the measured step counts. Rows where one of the two is not are
reported but not judged. The target is met when every judged row meets it
and every thread count has at least one judged row.
"""

from __future__ import annotations

import math
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.protocol import LoadGate, ratio_stats, run_rounds

#: The libraries of a round, in their configured order (alternated between rounds).
LIBRARIES = ("spikenet", "spikingjelly", "snntorch")
#: How the report names them.
NAMES = {"spikenet": "spikenet", "spikingjelly": "SpikingJelly", "snntorch": "snnTorch"}
#: What each runs.
METHODS = {
    "spikenet": "SoftLIF MLP -> `to_spiking(dt=1e-3)` with its defaults (instantaneous synapses, "
                "rate_scale 10, v_init 0.5, float32); one hidden layer under a constant input counts "
                "its spikes from the LIF neuron's closed-form spike times; Numba threads (a run with "
                "fewer than 20 million input weights times images, such as this one, uses one thread "
                "whatever the setting: waking the pool costs more); no BLAS or torch at run time",
    "spikingjelly": "ReLU MLP -> `ann2snn.Converter(RateCodingRecipe(mode=\"Max\"))`, IF neurons, "
                    "torch threads",
    "snntorch": "`Leaky` MLP trained by surrogate-gradient BPTT at 10 steps, direct input, torch threads",
}
STEPS = (5, 10, 25, 200)
HIDDEN = 128
#: The target: spikenet's images/s over the target peer's, at least.
TARGET_PEER = "spikingjelly"
TARGET_RATIO = 2.0
#: Equal accuracy: each library within this (fraction) of its own best accuracy.
ACCURACY_TOL = 0.005
#: --smoke: tiny training, few step counts, one timed call per point.
SMOKE = {"steps": (5, 10), "epochs": 2, "repeats": 1}
#: --cases bridge --quick: the short runs against the target peer only (training as in a full run).
QUICK = {"steps": (5, 10), "libraries": ("spikenet", "spikingjelly"), "repeats": 7}
#: Markers of the generated table in docs/bridge.md.
DOC_BEGIN = "<!-- bridge-peers:begin -->"
DOC_END = "<!-- bridge-peers:end -->"
#: The published figure, next to docs/bridge.md.
DOC_FIGURE = "bridge_peers_accuracy.png"


def subprocess_runner(steps, threads, *, epochs=None, repeats=5, hidden=HIDDEN, timeout=3600.0,
                      root=None) -> Callable[[str, int], dict]:
    """A ``run_one(library, round)`` that runs :func:`benchmarks.bridge_peers.run` in a fresh process.

    Its result is a dict: ``ok``, ``error`` (None or the message), ``result``
    (the runner's dict), ``wall_s`` and ``cpu_s`` (the CPU time of the
    process, which the load gate counts as the suite's own load).
    """
    from benchmarks import bridge_peers as bp

    def run_one(library, k):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        try:
            res, err = bp.run(library, steps, threads, epochs=epochs, repeats=repeats, hidden=hidden,
                              root=root, setup=False, timeout=timeout), None
        except Exception as exc:  # a failed run is recorded, the others go on
            res, err = {}, f"{type(exc).__name__}: {str(exc)[-1500:]}"
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return {"ok": err is None, "error": err, "result": res, "wall_s": time.perf_counter() - t0,
                "cpu_s": cpu}

    return run_one


def available_libraries(smoke: bool, log=print) -> tuple[list[str], list[str]]:
    """The libraries whose runners can start, and notes on those left out.

    A missing peer venv is created with ``setup_venvs.sh`` (not with
    ``smoke``); when that fails the peer is left out.
    """
    from benchmarks import bridge_peers as bp

    missing = [lib for lib in LIBRARIES if lib != "spikenet" and not bp.peer_python(lib).exists()]
    notes = []
    if missing and not smoke:
        log(f"== bridge: creating the venvs of {', '.join(missing)} (setup_venvs.sh)")
        try:
            bp.ensure_venvs()
            missing = []
        except bp.PeerUnavailable as exc:
            notes.append(f"the peers' venvs could not be created: {str(exc)[:300]}")
    for lib in missing:
        notes.append(f"{NAMES[lib]} left out: no venv at {bp.peer_python(lib).parent.parent} "
                     f"(run benchmarks/bridge_peers/setup_venvs.sh)")
    return [lib for lib in LIBRARIES if lib not in missing], notes


def run_bridge(rounds: int, steps, threads, run_one: Callable, gate: LoadGate | None,
               libraries=LIBRARIES, log=print, config: dict | None = None) -> dict:
    """Measure the bridge case in rounds; returns its section of the results.

    Parameters
    ----------
    rounds : int
        Rounds (each runs every library once, the order alternating).
    steps, threads : sequence of int
        Step counts and thread counts the runners measure.
    run_one : callable
        ``run_one(library, round)`` -> dict as :func:`subprocess_runner` returns.
    gate : LoadGate or None
        The suite's load gate.
    libraries : sequence of str
        Libraries of the round, in configured order.
    config : dict, optional
        Recorded as it is (epochs, repeats, hidden...).

    Returns
    -------
    dict
        ``config``, ``libraries``, ``runs`` (one record per run, in the order
        they ran: ``library``, ``round``, ``ok``, ``error``, ``result``,
        ``wall_s``, ``cpu_s``, ``load``, ``discarded``, ``over_load``),
        ``invalid`` (None or the reason) and ``summary`` (:func:`summarise`).
    """
    runs = []

    def keep_going(lib):
        mine = [r for r in runs if r["library"] == lib]
        return not mine or mine[-1]["ok"]

    def on_done(rec):
        r = rec["result"]
        runs.append({"library": rec["item"], "round": rec["round"], **r, "load": rec["load"],
                     "discarded": rec["discarded"], "over_load": rec["over_load"]})
        ld = rec["load"] or {}
        log(f"  {NAMES[rec['item']]:13s} round {rec['round'] + 1}: {r['wall_s']:6.1f} s, load "
            f"{ld.get('load_1m', float('nan')):.2f} (others {ld.get('others', float('nan')):.2f})"
            + (" OVER THE LIMIT" if rec["over_load"] else "")
            + ("" if r["ok"] else f"  FAILED: {r['error'][:300]}"))

    log(f"== bridge: {', '.join(NAMES[lib] for lib in libraries)}; {rounds} round(s), steps "
        f"{list(steps)}, threads {list(threads)}")
    run_rounds(list(libraries), rounds, run_one, gate, log=log, keep_going=keep_going, on_done=on_done)
    section = {"config": {"rounds": rounds, "steps": list(steps), "threads": list(threads),
                          "hidden": HIDDEN, **(config or {})},
               "libraries": list(libraries), "runs": runs}
    if gate is not None:
        section["gate"] = {"limit": gate.limit, "cores": gate.cores, "max_per_core": gate.max_per_core,
                           "enforced": gate.enforce}
    section["invalid"] = invalid_reason(runs, gate.limit if gate is not None else float("nan"))
    section["summary"] = summarise(section)
    return section


def invalid_reason(runs, limit: float) -> str | None:
    """Why the case is INVALID (runs that started above the load limit), or None."""
    over = [r for r in runs if r.get("over_load")]
    if not over:
        return None
    worst = max((r["load"] or {}).get("others", float("nan")) for r in over)
    return (f"{len(over)} run(s) started while other processes loaded the machine above the limit "
            f"(1-minute load average of the others up to {worst:.2f}, limit {limit:.2f})")


def _ints(d) -> dict:
    """A dict with int keys (JSON turns the runners' int keys into strings)."""
    return {int(k): v for k, v in (d or {}).items()}


def summarise(section: dict) -> dict:
    """Accuracies, images/s, per-round ratios and verdicts of a bridge section.

    Returns
    -------
    dict
        ``accuracy`` {library: {steps: fraction}} (from the library's first
        successful run; the runs are deterministic), ``full`` {library:
        [steps at full accuracy]}, ``rows`` (one per thread count and step
        count: ``threads``, ``steps``, ``images_per_s`` {library: median,
        min, max, n}, ``accuracy`` {library: fraction}, ``ratios`` {peer:
        :func:`benchmarks.protocol.ratio_stats` of spikenet / peer},
        ``equal_accuracy`` (bool or None), ``verdict``) and ``target``
        (``met``: True, False or None when not judged, ``text``).
    """
    cfg = section["config"]
    libs = section["libraries"]
    ok = [r for r in section["runs"] if r["ok"]]
    acc, ips = {}, {lib: {} for lib in libs}
    for r in ok:
        lib, res = r["library"], r["result"]
        acc.setdefault(lib, {int(s): float(a) for s, a in res["accuracy"].items()})
        for t, per in _ints(res["images_per_s"]).items():
            for s, v in _ints(per).items():
                ips[lib].setdefault((t, s), {})[r["round"]] = float(v)
    full = {}
    for lib, a in acc.items():
        best = max(a.values())
        full[lib] = sorted(s for s, v in a.items() if v >= best - ACCURACY_TOL - 1e-12)
    invalid = section.get("invalid")
    rows = []
    for t in cfg["threads"]:
        for s in cfg["steps"]:
            row = {"threads": t, "steps": s, "images_per_s": {}, "accuracy": {}, "ratios": {}}
            for lib in libs:
                vals = list(ips[lib].get((t, s), {}).values())
                if vals:
                    row["images_per_s"][lib] = {"median": statistics.median(vals), "min": min(vals),
                                                "max": max(vals), "n": len(vals)}
                if s in acc.get(lib, {}):
                    row["accuracy"][lib] = acc[lib][s]
            base = ips.get("spikenet", {}).get((t, s), {})
            for peer in libs:
                if peer != "spikenet":
                    row["ratios"][peer] = ratio_stats(base, ips[peer].get((t, s), {}))
            both = ("spikenet" in acc and TARGET_PEER in acc)
            row["equal_accuracy"] = (s in full["spikenet"] and s in full[TARGET_PEER]) if both else None
            row["verdict"] = _verdict(row, invalid)
            rows.append(row)
    return {"accuracy": acc, "full": full, "rows": rows, "target": _target(rows, cfg["threads"], invalid)}


def _verdict(row, invalid) -> str:
    r = row["ratios"].get(TARGET_PEER)
    if invalid:
        return "invalid (load)"
    if r is None:
        return "not measured"
    if not row["equal_accuracy"]:
        return "not judged (accuracy)"
    return "met" if r["median"] >= TARGET_RATIO else "missed"


def _target(rows, threads, invalid) -> dict:
    judged = [r for r in rows if r["verdict"] in ("met", "missed")]
    if invalid:
        return {"met": None, "text": "invalid (load): " + invalid}
    missing = [t for t in threads if not any(r["threads"] == t for r in judged)]
    if missing:
        return {"met": None, "text": "not judged: no step count at equal accuracy with "
                f"{NAMES[TARGET_PEER]} at {', '.join(map(str, missing))} thread(s)"}
    met = all(r["verdict"] == "met" for r in judged)
    where = ", ".join(f"{r['steps']} steps/{r['threads']}t" for r in judged)
    return {"met": met, "text": ("met" if met else "missed") + f" (judged at {where})"}


# --- report -----------------------------------------------------------------


def _n(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if v >= 1e4:
        return f"{v / 1e3:,.0f}k"
    if v >= 1e3:
        return f"{v / 1e3:.1f}k"
    return f"{v:.3g}"


def _ips_cell(d) -> str:
    if not d:
        return "-"
    return _n(d["median"]) + (f" [{_n(d['min'])}-{_n(d['max'])}]" if d["n"] > 1 else "")


def _ratio_cell(r) -> str:
    if not r:
        return "-"
    return f"{r['median']:.2f}x" + (f" [{r['min']:.2f}-{r['max']:.2f}]" if r["n"] > 1 else "")


def table_lines(section: dict) -> list[str]:
    """The Markdown table: one row per thread count and step count."""
    libs = section["libraries"]
    peers = [p for p in libs if p != "spikenet"]
    head = (["threads", "steps"] + [f"{NAMES[lib]} images/s" for lib in libs]
            + ["accuracy " + " / ".join(NAMES[lib] for lib in libs)]
            + [f"spikenet / {NAMES[p]}" for p in peers]
            + ["equal accuracy", f"target (>= {TARGET_RATIO:g}x {NAMES[TARGET_PEER]})"])
    L = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in section["summary"]["rows"]:
        accs = " / ".join(f"{100 * row['accuracy'][lib]:.1f} %" if lib in row["accuracy"] else "-"
                          for lib in libs)
        eq = {True: "yes", False: "no", None: "-"}[row["equal_accuracy"]]
        cells = ([str(row["threads"]), str(row["steps"])]
                 + [_ips_cell(row["images_per_s"].get(lib)) for lib in libs] + [accs]
                 + [_ratio_cell(row["ratios"].get(p)) for p in peers] + [eq, row["verdict"]])
        L.append("| " + " | ".join(cells) + " |")
    return L


def thread_lines(section: dict) -> list[str]:
    """One line per library and thread count: the thread settings its runner recorded."""
    L = []
    for lib in section["libraries"]:
        run = next((r for r in section["runs"] if r["library"] == lib and r["ok"]), None)
        if run is None:
            continue
        for t, ts in sorted(_ints(run["result"].get("thread_settings")).items()):
            parts = []
            if "numba_threads" in ts:
                parts.append(f"Numba {ts['numba_threads']} (pool of {ts.get('numba_max_threads', '?')})")
            parts.append(f"torch {ts.get('torch_threads', '?')} "
                         f"(inter-op {ts.get('torch_interop_threads', '?')})")
            blas = ts.get("blas")
            parts.append("BLAS/OpenMP pools " + (", ".join(f"{b['api']} {b['threads']}" for b in blas)
                                                 if blas else "not readable (no threadpoolctl)"))
            if ts.get("torch_parallel"):
                parts.append("torch reports " + ", ".join(ts["torch_parallel"]))
            if ts.get("env"):
                parts.append(", ".join(f"{k}={v}" for k, v in ts["env"].items()))
            L.append(f"- {NAMES[lib]} at {t} thread(s): " + "; ".join(parts))
    return L


def report_lines(section: dict, figure: str | None = None, smoke: bool = False) -> list[str]:
    """The report's section on the bridge case (Markdown lines)."""
    cfg = section["config"]
    summ = section["summary"]
    L = ["## Converted digits network against SpikingJelly and snnTorch", ""]
    if smoke:
        L += ["**Smoke run: tiny training, not a measurement.**", ""]
    if section.get("invalid"):
        L += [f"**INVALID: {section['invalid']}.** The images/s and ratios below were measured on a "
              "loaded machine and are not results.", ""]
    L += ["Digits (`datasets.digits(seed=0)`), the whole 450-image test set as one batch, 1 ms steps, "
          f"64-{cfg.get('hidden', HIDDEN)}-10 networks, each library trained and measured in a fresh "
          f"process per round; {cfg['rounds']} round(s), the order of the libraries alternating between "
          "rounds, every run started through the load gate. Images/s: median over rounds [min-max] of "
          "each process's median of "
          f"{cfg.get('repeats', '?')} timed call(s) after a warm-up; ratios: median [min-max] of the "
          "per-round ratios of images/s.", ""]
    for lib in section["libraries"]:
        L.append(f"- {NAMES[lib]}: {METHODS[lib]}.")
    L += ["", f"Equal accuracy: a step count where spikenet and {NAMES[TARGET_PEER]} are both within "
          f"{100 * ACCURACY_TOL:g} percentage points of the best accuracy each reaches over the measured "
          "step counts ("
          + "; ".join(f"{NAMES[lib]}: {', '.join(map(str, s)) or 'none'}" for lib, s in summ["full"].items())
          + f"). Target: **{summ['target']['text']}**.", ""]
    L += [*table_lines(section), ""]
    if figure:
        L += [f"![digits: accuracy against steps, spikenet and its peers]({figure})", ""]
    tl = thread_lines(section)
    if tl:
        L += ["Thread settings while timing, as each runner recorded them:", "", *tl, ""]
    L += ["Runs (in the order they ran): " + ", ".join(
        f"{NAMES[r['library']]} r{r['round'] + 1} (load {_n((r['load'] or {}).get('load_1m'))}"
        + (", over" if r["over_load"] else "") + ")" + ("" if r["ok"] else " FAILED")
        for r in section["runs"]) + ".", ""]
    for r in section["runs"]:
        if not r["ok"]:
            L += [f"- {NAMES[r['library']]} round {r['round'] + 1} failed:", "", "```",
                  r["error"].rstrip(), "```", ""]
    for note in section.get("notes", []):
        L.append(f"- Note: {note}")
    return L


def plot_accuracy(section: dict, path: Path) -> bool:
    """Plot accuracy against steps for every library to ``path`` (PNG); False without data."""
    acc = section["summary"]["accuracy"]
    if not acc:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=100)
    for lib in section["libraries"]:
        if lib in acc:
            s = sorted(acc[lib])
            ax.plot(s, [100 * acc[lib][k] for k in s], "o-", label=NAMES[lib])
    ax.set_xscale("log")
    ax.set_xlabel("steps of 1 ms")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("digits, 450 test images")
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return True


def update_docs(section: dict, doc: Path, meta: dict | None = None) -> None:
    """Replace the generated block between :data:`DOC_BEGIN` and :data:`DOC_END` in ``doc``.

    The block gets the table, the target verdict and the figure
    (:data:`DOC_FIGURE`, written next to ``doc``). Text outside the markers is
    kept byte for byte; a file without both markers raises ``ValueError``.
    """
    text = doc.read_text()
    i, j = text.find(DOC_BEGIN), text.find(DOC_END)
    if i < 0 or j < i:
        raise ValueError(f"doc: {doc} has no {DOC_BEGIN} ... {DOC_END} block")
    have_fig = plot_accuracy(section, doc.with_name(DOC_FIGURE))
    meta = meta or {}
    summ = section["summary"]
    block = ["", "*Generated by `python -m benchmarks --cases bridge --update-docs`"
             + (f" on {meta['date']}" if meta.get("date") else "")
             + (f" at commit `{meta['git']}`" if meta.get("git") else "")
             + f", {section['config']['rounds']} round(s); do not edit by hand.*", ""]
    if section.get("invalid"):
        block += [f"**INVALID: {section['invalid']}.** Images/s and ratios measured on a loaded machine "
                  "are not results.", ""]
    block += [f"Target, spikenet >= {TARGET_RATIO:g}x {NAMES[TARGET_PEER]}'s images/s at equal accuracy "
              f"(both within {100 * ACCURACY_TOL:g} pp of their own best) and equal step count: "
              f"**{summ['target']['text']}**.", "", *table_lines(section), ""]
    if have_fig:
        block += [f"![digits: accuracy against steps, spikenet and its peers]({DOC_FIGURE})", ""]
    doc.write_text(text[:i + len(DOC_BEGIN)] + "\n".join(block) + text[j:])
