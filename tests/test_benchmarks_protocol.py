"""The benchmark protocol: alternating rounds, the load gate, per-round ratios, where reports go.

Everything here runs in-process with fake runners and a fake load reader: no
simulator is started. The rules are checked against numbers worked out by hand
(ratios, quartiles), against the kernel's own load-average recurrence (the
suite's share of the load), and end to end through ``run_suite`` with the
workers replaced by fakes (INVALID marking, rounds in the results, the report).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from pathlib import Path

import pytest

from benchmarks import cases as C
from benchmarks import report
from benchmarks.measure import Measurement, Run
from benchmarks.protocol import LoadGate, OwnLoad, ratio_stats, round_order, run_rounds

REPO = Path(__file__).resolve().parent.parent
DOCS_MD = REPO / "docs" / "benchmarks.md"


class FakeClock:
    """A clock that only moves when the gate sleeps or a fake run takes time."""

    def __init__(self):
        self.t = 1000.0
        self.sleeps = []

    def __call__(self):
        return self.t

    def sleep(self, s):
        self.sleeps.append(s)
        self.t += s


def _gate(loads, cores=2, retries=3, wait_s=10.0, enforce=True):
    clock = FakeClock()
    it = iter(loads)
    gate = LoadGate(max_per_core=0.3, cores=cores, retries=retries, wait_s=wait_s, enforce=enforce,
                    read_load=lambda: next(it), sleep=clock.sleep, clock=clock)
    return gate, clock


# ---------------------------------------------------------------- rounds

def test_round_order_alternates_between_rounds():
    assert round_order("ABC", 0) == ["A", "B", "C"]
    assert round_order("ABC", 1) == ["C", "B", "A"]
    assert round_order("ABC", 2) == ["A", "B", "C"]
    with pytest.raises(ValueError, match="k"):
        round_order("ABC", -1)


def test_every_simulator_runs_once_per_round_in_alternating_order():
    calls = []
    recs = run_rounds(["A", "B", "C"], 3, lambda item, k: calls.append((item, k)) or item)
    assert calls == [("A", 0), ("B", 0), ("C", 0), ("C", 1), ("B", 1), ("A", 1),
                     ("A", 2), ("B", 2), ("C", 2)]
    assert [(r["item"], r["round"]) for r in recs] == calls


def test_a_failed_simulator_is_skipped_in_later_rounds_only():
    failed = set()

    def run_one(item, k):
        if item == "B":
            failed.add(item)
        return item

    recs = run_rounds(["A", "B", "C"], 2, run_one, keep_going=lambda item: item not in failed)
    assert [(r["item"], r["round"]) for r in recs] == [("A", 0), ("B", 0), ("C", 0), ("C", 1),
                                                        ("A", 1)]


# ---------------------------------------------------------------- load gate

def test_gate_defers_a_run_until_the_machine_is_quiet():
    # 2 cores, 0.3 per core: runs may start at a load of others <= 0.6
    gate, clock = _gate([1.5, 1.2, 0.4])
    ran = []
    result, rec = gate.run(lambda: ran.append(clock.t) or "done")
    assert result == "done" and len(ran) == 1
    assert [d["load_1m"] for d in rec["discarded"]] == [1.5, 1.2]  # never started
    assert clock.sleeps == [10.0, 10.0]
    assert rec["load"]["load_1m"] == 0.4 and rec["over_load"] is False


def test_gate_runs_once_and_flags_the_run_when_the_retries_run_out():
    gate, clock = _gate([2.0] * 10, retries=3)
    ran = []
    _, rec = gate.run(lambda: ran.append(1))
    assert len(ran) == 1 and len(rec["discarded"]) == 3 and len(clock.sleeps) == 3
    assert rec["over_load"] is True and rec["load"]["per_core"] == pytest.approx(1.0)


def test_gate_that_does_not_enforce_records_and_flags_without_waiting():
    gate, clock = _gate([2.0], enforce=False)
    _, rec = gate.run(lambda: None)
    assert clock.sleeps == [] and rec["discarded"] == [] and rec["over_load"] is True


def test_gate_refuses_bad_settings():
    with pytest.raises(ValueError, match="max_per_core"):
        LoadGate(max_per_core=0)
    with pytest.raises(ValueError, match="retries"):
        LoadGate(retries=-1)


def _kernel_loadavg(busy, t_end, dt=5.0):
    """Linux's 1-minute load average: every 5 s, L = L e + n (1 - e), e = exp(-5/60).

    ``busy(t)`` is the number of runnable threads at time t.
    """
    e, L, t = math.exp(-dt / 60.0), 0.0, 0.0
    while t + dt <= t_end + 1e-9:
        t += dt
        L = L * e + busy(t) * (1 - e)
    return L


@pytest.mark.parametrize("k, start, end, now", [(1, 0.0, 60.0, 60.0), (2, 0.0, 30.0, 90.0),
                                                 (1, 20.0, 200.0, 260.0)])
def test_own_load_estimate_follows_the_kernels_load_average(k, start, end, now):
    # A run using k threads for [start, end] adds what the kernel's recurrence
    # adds for k runnable threads over that interval (sampled every 5 s, so
    # within one sample's weight, 1 - exp(-5/60) = 0.08 per thread).
    own = OwnLoad()
    own.add(start, end, cpu_s=k * (end - start))
    expected = _kernel_loadavg(lambda t: k if start < t <= end else 0, now)
    assert own.estimate(now) == pytest.approx(expected, abs=0.08 * k)
    assert own.estimate(end) == pytest.approx(k * (1 - math.exp(-(end - start) / 60.0)), rel=1e-12)


def test_gate_does_not_count_the_suites_own_runs_as_other_load():
    clock = FakeClock()
    gate = LoadGate(cores=2, read_load=lambda: 1.0, sleep=clock.sleep, clock=clock)
    assert not gate.reading()["ok"]  # 1.0 of others on 2 cores: too busy
    gate.own.add(clock.t - 120.0, clock.t, cpu_s=120.0)  # one busy thread of ours for 2 minutes
    r = gate.reading()
    assert r["own"] == pytest.approx(1 - math.exp(-2.0)) and r["ok"]
    assert r["others"] == pytest.approx(1.0 - r["own"])


# ---------------------------------------------------------------- ratios

def test_ratio_is_the_median_of_per_round_ratios_with_its_spread():
    a = {0: 1.0, 1: 2.0, 2: 3.0, 3: 4.0, 4: 9.0}
    b = {0: 2.0, 1: 2.0, 2: 2.0, 3: 8.0}  # round 4 has no partner: dropped
    rs = ratio_stats(a, b)
    # per round: 0.5, 1.0, 1.5, 0.5 -> sorted 0.5, 0.5, 1.0, 1.5
    assert rs["values"] == [0.5, 1.0, 1.5, 0.5] and rs["n"] == 4
    assert rs["median"] == pytest.approx(0.75)  # the ratio of the medians would be 2.5 / 2 = 1.25
    assert (rs["min"], rs["max"]) == (0.5, 1.5)
    # inclusive quartiles: positions 0.75 and 2.25 between the sorted values
    assert rs["q1"] == pytest.approx(0.5) and rs["q3"] == pytest.approx(1.0 + 0.25 * 0.5)
    assert ratio_stats({0: 1.0}, {1: 1.0}) is None
    assert ratio_stats({0: 1.0, 1: float("nan")}, {0: 4.0, 1: 1.0})["values"] == [0.25]


def _run(k, loop, wall=None, build=None):
    res = {"loop_s": loop, "build_s": 0.0, "stats": {"n_spikes": 10}}
    if build:
        res["build"] = build
    return {"wall_s": wall or 10 * loop, "maxrss_mb": 100.0, "rc": 0, "cold": False, "round": k,
            "result": res, "error": "", "load": {"load_1m": 0.1, "own": 0.0, "others": 0.1},
            "discarded": []}


def _meas(case, sim, runs):
    c = C.make_case(case.split("-")[0], int(case.split("-")[1]))
    m = Measurement(c, sim, [Run(**r) for r in runs])
    return m.to_json()


def _current_payload(measurements, invalid=None, cases=("cuba-4000",)):
    return {"meta": {"date": "2026-12-03 01:00 UTC", "cpu": "test CPU", "cores": 2, "memory_gb": 8.0,
                     "os": "Linux", "python": "3.11", "gcc": "gcc 12",
                     "versions": {"numba": "0.68.1", "brian2": "2.9.0", "nest-simulator": "3.10.0",
                                  "spikenet": "0.1.0"},
                     "load_before": [0.1, 0.1, 0.1], "load_after": [0.2, 0.1, 0.1], "suite_s": 60.0},
            "notes": [], "smoke": False, "repeats": 3, "partial": False,
            "protocol": {"version": 2, "rounds": 3, "order": "alternating", "max_load_per_core": 0.3,
                         "cores": 2, "load_limit": 0.6, "retries": 8, "wait_s": 15.0,
                         "enforced": True, "quick": False},
            "cases": [C.make_case(n.split("-")[0], int(n.split("-")[1])).spec() | {"name": n}
                      for n in cases],
            "measurements": measurements, "agreement": {}, "invalid": invalid or {}}


def test_targets_use_the_median_of_per_round_ratios():
    sn = _meas("cuba-4000", C.Sim("spikenet", 1), [_run(0, 1.0), _run(1, 2.0), _run(2, 3.0)])
    b2 = _meas("cuba-4000", C.Sim("brian2", 1, mode="standalone"),
               [_run(0, 4.0), _run(1, 2.0), _run(2, 4.0)])
    rows = [r for r in report.evaluate_targets(_current_payload([sn, b2]))
            if r["target"].startswith("CUBA-4000 simulation loop")]
    (row,) = rows
    # rounds: 0.25, 1.0, 0.75 -> median 0.75 (ratio of medians: 2 / 4 = 0.5)
    assert row["ratio"] == pytest.approx(0.75) and row["ratio_min"] == pytest.approx(0.25)
    assert row["ratio_max"] == pytest.approx(1.0) and row["rounds"] == 3
    assert row["met"] is False and report.row_verdict(row) == "**not met**"


def test_throughput_ratio_is_spikenets_throughput_over_the_peers():
    sn = _meas("hh-10000", C.Sim("spikenet", 1), [_run(0, 1.0), _run(1, 1.0), _run(2, 2.0)])
    b2 = _meas("hh-10000", C.Sim("brian2", 1, mode="standalone"),
               [_run(0, 6.0), _run(1, 5.0), _run(2, 8.0)])
    (row,) = [r for r in report.evaluate_targets(_current_payload([sn, b2], cases=("hh-10000",)))
              if r["target"].startswith("HH")]
    assert row["ratio"] == pytest.approx(5.0) and (row["ratio_min"], row["ratio_max"]) == (4.0, 6.0)
    assert row["met"] is True


def test_invalid_case_is_never_reported_met():
    sn = _meas("hh-10000", C.Sim("spikenet", 1), [_run(k, 1.0) for k in range(3)])
    b2 = _meas("hh-10000", C.Sim("brian2", 1, mode="standalone"), [_run(k, 9.0) for k in range(3)])
    payload = _current_payload([sn, b2], invalid={"hh-10000": "2 run(s) started while ..."},
                               cases=("hh-10000",))
    (row,) = [r for r in report.evaluate_targets(payload) if r["target"].startswith("HH")]
    assert row["met"] is True and report.row_verdict(row) == "**INVALID** (load)"


# ---------------------------------------------------------------- run_suite with fake workers

def test_suite_discards_retries_and_marks_a_loaded_case_invalid(monkeypatch, tmp_path):
    from benchmarks import __main__ as bm

    loops = {"spikenet-1t": [1.0, 1.0, 1.0], "brian2-standalone-1t": [3.0, 2.0, 4.0]}
    order = []

    def fake_prepare(case, sim, workdir, **kw):
        return Measurement(case, sim, []), None, True

    def fake_warm_run(m, cache, workdir, k, **kw):
        order.append((m.sim.key, k))
        r = Run(wall_s=1.0, maxrss_mb=50.0, rc=0, cold=False, cpu_s=0.5, round=k,
                result={"loop_s": loops[m.sim.key][k], "build_s": 0.0,
                        "stats": {"rate_e": 5.0, "rate_i": 5.0, "cv": 0.5, "n_spikes": 100}})
        m.runs.append(r)
        return r

    monkeypatch.setattr(bm, "prepare", fake_prepare)
    monkeypatch.setattr(bm, "warm_run", fake_warm_run)
    # quiet for the first round, then busy: one deferred start in round 2, and
    # round 3 never becomes quiet, so its runs start anyway and are flagged
    loads = iter([0.1, 0.1, 0.9, 0.2, 0.2] + [1.5] * 20)
    clock = FakeClock()
    gate = LoadGate(cores=2, retries=2, wait_s=5.0, read_load=lambda: next(loads),
                    sleep=clock.sleep, clock=clock)
    args = bm.build_parser().parse_args(["--cases", "cuba-4000", "--peers", "brian2", "--threads", "1",
                                         "--dtypes", "float64", "--out", str(tmp_path), "--no-cold"])
    monkeypatch.setattr(C, "default_sims", lambda *a, **k: [C.Sim("spikenet", 1),
                                                           C.Sim("brian2", 1, mode="standalone")])
    payload = bm.run_suite(args, log=lambda *_: None, gate=gate)
    assert order == [("spikenet-1t", 0), ("brian2-standalone-1t", 0), ("brian2-standalone-1t", 1),
                     ("spikenet-1t", 1), ("spikenet-1t", 2), ("brian2-standalone-1t", 2)]
    runs = {(m["sim_key"], r["round"]): r for m in payload["measurements"] for r in m["runs"]}
    assert [d["load_1m"] for d in runs[("brian2-standalone-1t", 1)]["discarded"]] == [0.9]
    assert runs[("brian2-standalone-1t", 1)]["load"]["load_1m"] == 0.2
    assert runs[("spikenet-1t", 2)]["over_load"] and runs[("brian2-standalone-1t", 2)]["over_load"]
    assert all(r["load"] is not None for r in runs.values())  # recorded before every run
    assert "cuba-4000" in payload["invalid"]
    text = tmp_path / "report.md"
    report.write_doc(payload, text)
    md = text.read_text()
    assert "**INVALID.**" in md and "**INVALID** (load)" in md and "Every measured target is met" not in md
    # the loop target: rounds 1/3, 1/2, 1/4 -> median 1/3, range 0.25-0.5
    (row,) = [r for r in report.evaluate_targets(payload) if r["target"].startswith("CUBA-4000 sim")]
    assert row["ratio"] == pytest.approx(1 / 3) and row["ratio_min"] == pytest.approx(0.25)


# ---------------------------------------------------------------- the report

def test_report_names_every_peers_build_options(tmp_path):
    sn = _meas("cuba-4000", C.Sim("spikenet", 2), [
        _run(k, 1.0, build={"dtype": "float64", "numba_threads": "2", "numba_imported": False})
        for k in range(3)])
    b1 = _meas("cuba-4000", C.Sim("brian2", 1, mode="standalone"), [
        _run(k, 2.0, build={"brian2": "2.9.0", "device": "cpp_standalone", "openmp_threads": 0,
                            "OpenMP": "off (built without OpenMP)",
                            "extra_compile_args_gcc": "-w -O3 -ffast-math -march=native"})
        for k in range(3)])
    ne = _meas("cuba-4000", C.Sim("nest", 2), [
        _run(k, 2.0, build={"nest": "3.10.0", "local_num_threads": 2}) for k in range(3)])
    doc = tmp_path / "r.md"
    report.write_doc(_current_payload([sn, b1, ne]), doc)
    md = doc.read_text()
    assert "## Simulators and build options" in md
    assert "openmp_threads = `0`" in md and "off (built without OpenMP)" in md
    assert "-O3 -ffast-math -march=native" in md
    assert "local_num_threads = `2`" in md and "numba_threads = `2`" in md and "dtype = `float64`" in md
    assert "Numba 0.68.1" in md and "NEST 3.10.0" in md
    assert "## Protocol" in md and "median over the rounds" in md


def test_brian2_runs_one_thread_without_openmp():
    assert C.brian2_openmp_threads(1) == 0  # Brian2's default build: no OpenMP
    assert C.brian2_openmp_threads(2) == 2
    with pytest.raises(ValueError, match="threads"):
        C.brian2_openmp_threads(0)


def test_older_protocol_results_are_reported_superseded(tmp_path):
    payload = _current_payload([
        _meas("cuba-4000", C.Sim("spikenet", 1), [_run(k, 1.0) for k in range(3)]),
        _meas("cuba-4000", C.Sim("brian2", 1, mode="standalone"), [_run(k, 9.0) for k in range(3)])])
    del payload["protocol"]
    doc = tmp_path / "r.md"
    report.write_doc(payload, doc)
    md = doc.read_text()
    assert "**Superseded figures.**" in md and not re.search(r"\| met \|$", md, re.M)
    assert "superseded (older protocol)" in md and "Every measured target is met" not in md


def test_published_report_claims_nothing_its_results_do_not_support():
    payload = json.loads((REPO / "docs" / "benchmarks-results.json").read_text())
    md = DOCS_MD.read_text()
    if not report.is_current(payload) or payload.get("invalid"):
        assert not re.search(r"\| met \|$", md, re.M)  # no target row's verdict says "met"
        assert "Every measured target is met" not in md
    if not report.is_current(payload):
        assert "**Superseded figures.**" in md.split("## ")[0]  # at the top, before any section


# ---------------------------------------------------------------- command line

def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_out_folder_receives_the_report_and_docs_stay_untouched(tmp_path):
    from benchmarks.__main__ import main

    sn = _meas("hh-10000", C.Sim("spikenet", 1), [_run(k, 1.0) for k in range(3)])
    b2 = _meas("hh-10000", C.Sim("brian2", 1, mode="standalone"), [_run(k, 6.0) for k in range(3)])
    src = tmp_path / "saved.json"
    src.write_text(json.dumps(_current_payload([sn, b2], cases=("hh-10000",))))
    docs = [DOCS_MD, REPO / "docs" / "benchmarks-results.json", REPO / "docs" / "benchmarks_cuba_loop.png"]
    before = {p: (_digest(p), p.stat().st_mtime_ns) for p in docs}
    out = tmp_path / "mine"
    assert main(["--from-json", str(src), "--out", str(out), "--no-profile"]) == 0
    assert (out / "benchmarks.md").is_file() and "HH >= 5x" in (out / "benchmarks.md").read_text()
    assert {p: (_digest(p), p.stat().st_mtime_ns) for p in docs} == before
    with pytest.raises(SystemExit, match="--update-docs"):
        main(["--from-json", str(src), "--doc", str(DOCS_MD), "--no-profile"])
    assert {p: (_digest(p), p.stat().st_mtime_ns) for p in docs} == before


def test_default_out_is_a_folder_in_the_working_directory():
    from benchmarks.__main__ import build_parser

    args = build_parser().parse_args([])
    assert args.out == Path("spikenet-bench") and args.doc is None and not args.update_docs


def test_quick_selects_exactly_the_cases_of_every_loop_target():
    import importlib.util

    from benchmarks.__main__ import build_parser, plan

    case_list, sims, _, rounds = plan(build_parser().parse_args(["--quick"]))
    assert [c.name for c in case_list] == ["cuba-4000", "cuba-64000", "lif-100000", "hh-10000"]
    assert rounds >= 3
    keys = {s.key for s in sims}
    expected = {"spikenet-1t", "spikenet-2t", "spikenet-stepped-1t", "spikenet-stepped-2t"}
    if importlib.util.find_spec("brian2") is not None:
        expected |= {"brian2-standalone-1t", "brian2-standalone-2t"}
    assert keys == expected
    per_case = {c.name: sorted(s.key for s in sims if C.applies(s, c)) for c in case_list}
    assert not any("stepped" in k for k in per_case["cuba-4000"] + per_case["hh-10000"])
    with pytest.raises(SystemExit, match="--quick"):
        plan(build_parser().parse_args(["--quick", "--cases", "cuba-16000"]))


def test_brian2_worker_reports_its_openmp_build():
    from types import SimpleNamespace as NS

    from benchmarks.run_brian2 import build_options

    def fake_b2(openmp_threads):
        cpp = NS(compiler="", extra_compile_args_gcc=["-O3", "-march=native"], extra_compile_args=None)
        standalone = NS(openmp_threads=openmp_threads, extra_make_args_unix=["-j"])
        return NS(__version__="2.9.0", prefs=NS(codegen=NS(cpp=cpp, target="cython"),
                                                devices=NS(cpp_standalone=standalone)))

    sim1 = C.Sim("brian2", 1, mode="standalone")
    one = build_options(fake_b2(C.brian2_openmp_threads(1)), sim1)
    assert one["openmp_threads"] == 0 and one["OpenMP"].startswith("off")
    assert one["extra_compile_args_gcc"] == "-O3 -march=native"
    two = build_options(fake_b2(C.brian2_openmp_threads(2)), C.Sim("brian2", 2, mode="standalone"))
    assert two["openmp_threads"] == 2 and two["OpenMP"] == "on, 2 threads"
    assert build_options(fake_b2(0), C.Sim("brian2", 1, mode="cython"))["device"] == "runtime"


def test_merged_results_keep_the_protocol_and_the_invalid_cases():
    from benchmarks.__main__ import merge_payloads

    a = _current_payload([_meas("cuba-4000", C.Sim("spikenet", 1), [_run(0, 1.0)])],
                         invalid={"cuba-4000": "loaded"})
    a["agreement"] = {"cuba-4000": {}}
    b = _current_payload([_meas("hh-10000", C.Sim("spikenet", 1), [_run(0, 1.0)])], cases=("hh-10000",))
    b["agreement"] = {"hh-10000": {}}
    merged = merge_payloads([a, b])
    assert report.is_current(merged) and merged["invalid"] == {"cuba-4000": "loaded"}
    old = dict(b)
    del old["protocol"]
    assert not report.is_current(merge_payloads([a, old]))  # one older run: all superseded
