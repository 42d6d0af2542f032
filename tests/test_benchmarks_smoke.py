"""The benchmark suite at tiny sizes, so that it cannot rot.

The default run drives ``python -m benchmarks --smoke`` with spikenet and the
bare Numba "limit" kernels on every case in fresh processes, the way the full
benchmark does, and checks the numbers it reports and the agreement checks
against closed forms; the float32 configuration of the spikenet worker runs
every case in-process. The pure helpers (closed-form
spike counts, CUBA statistics, target verdicts, the vectorisable exp of the
limit kernels) are tested in-process against independent computations. The
Brian2 and NEST peers compile code for tens of seconds on first use, so their
tiny-size run is marked slow.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import cases as C
from benchmarks import report

REPO = Path(__file__).resolve().parent.parent

# Tolerances (one place):
# - fast_exp: 1e-12 relative on [-12, 12]; its docstring derives ~1e-13 (Taylor
#   truncation below 1e-15 times 256 from the squarings, plus rounding).
FAST_EXP_RTOL = 1e-12
# - CUBA statistics of a hand-made raster are exact up to float summation.
STATS_RTOL = 1e-12


def _bench(args, timeout=900):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=str(REPO), env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench-smoke")
    proc = _bench(["--smoke", "--peers", "limit", "--threads", "1", "--dtypes", "float64",
                   "--out", str(out)])  # the report goes to OUT/benchmarks.md
    payload = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else None
    return proc, payload, out


def _measurement(payload, case_name, key):
    for m in payload["measurements"]:
        if m["case_name"] == case_name and m["sim_key"] == key:
            return m
    raise AssertionError(f"no measurement of {key} on {case_name}")


def test_smoke_run_exits_cleanly(smoke):
    proc, payload, _ = smoke
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert payload is not None and payload["smoke"]


def test_every_run_records_its_round_and_the_load_it_started_with(smoke):
    _, payload, _ = smoke
    assert payload["protocol"]["enforced"] is False  # a smoke run records the load, never waits
    for m in payload["measurements"]:
        warm = [r for r in m["runs"] if not r["cold"]]
        assert [r["round"] for r in warm] == [0], m["sim_key"]
        for r in warm:
            assert r["load"]["load_1m"] >= 0 and r["cpu_s"] > 0


_SMOKE_KEYS = {"spikenet-1t": C.Sim("spikenet", 1), "limit-1t": C.Sim("limit", 1)}


@pytest.mark.parametrize(("case", "key"), [(c, k) for c in C.SMOKE_CASES for k, sim in _SMOKE_KEYS.items()
                                           if C.applies(sim, c)], ids=lambda x: getattr(x, "name", x))
def test_every_case_reports_times_throughput_and_memory(smoke, case, key):
    _, payload, _ = smoke
    m = _measurement(payload, case.name, key)
    assert not m["errors"], m["errors"]
    s = m["summary"]
    loop, wall = s["loop_s"]["median"], s["wall_warm_s"]["median"]
    assert 0 < loop < wall  # the process does more than its loop
    assert s["neuron_steps_per_s"]["median"] == pytest.approx(case.neuron_steps / loop)
    assert s["maxrss_mb"]["median"] > 10  # a Python process with numpy is never smaller
    if case.kind in ("cuba", "coba"):
        assert s["events_per_s"]["median"] > 0


def test_lif_spikes_match_the_closed_form_counts(smoke):
    _, payload, _ = smoke
    agr = payload["agreement"]["lif-200"]
    for key in ("spikenet-1t", "spikenet-stepped-1t", "limit-1t"):
        assert agr[key]["level"] == "same spikes", agr[key]


def test_stepped_configuration_runs_the_uncoupled_lif_only(smoke):
    _, payload, _ = smoke
    cases = {m["case_name"] for m in payload["measurements"] if m["sim_key"] == "spikenet-stepped-1t"}
    assert cases == {c.name for c in C.SMOKE_CASES if c.kind == "lif"}


def test_stepped_worker_switches_off_the_closed_form(monkeypatch, tmp_path):
    # In-process; monkeypatch restores the switch afterwards.
    import importlib

    from benchmarks import run_spikenet

    sim_module = importlib.import_module("spikenet.sim.simulate")
    monkeypatch.setattr(sim_module, "_LIF_CLOSED_FORM", True)
    case = next(c for c in C.SMOKE_CASES if c.kind == "lif")
    spec = json.dumps({"case": case.spec(), "sim": C.Sim("spikenet", 1, mode="stepped").spec()})
    assert run_spikenet.main(["--spec", spec, "--out", str(tmp_path)]) == 0
    assert sim_module._LIF_CLOSED_FORM is False
    counts = np.load(tmp_path / "counts.npy", allow_pickle=False)
    ref = C.lif_analytic_counts(C.lif_drives(case.n), case.T)
    assert C.compare_counts(counts, ref).level == "same spikes"


@pytest.mark.parametrize("case", C.SMOKE_CASES, ids=lambda c: c.name)
def test_float32_worker_runs_every_case(case, tmp_path):
    # In-process (the kernels are already compiled by the simulator tests): the
    # float32 configuration of the spikenet worker, checked like the smoke run.
    from benchmarks import run_spikenet

    spec = json.dumps({"case": case.spec(), "sim": C.Sim("spikenet", 1, dtype="float32").spec()})
    assert run_spikenet.main(["--spec", spec, "--out", str(tmp_path)]) == 0
    res = json.loads((tmp_path / "result.json").read_text())
    assert "unsupported" not in res and res["loop_s"] > 0
    if case.kind == "lif":
        counts = np.load(tmp_path / "counts.npy", allow_pickle=False)
        ref = C.lif_analytic_counts(C.lif_drives(case.n), case.T)
        assert C.compare_counts(counts, ref).level == "same spikes"
    elif case.kind == "cuba":
        assert res["stats"]["n_spikes"] > 0


def test_hh_limit_kernel_gives_spikenet_spikes(smoke):
    _, payload, _ = smoke
    agr = payload["agreement"]["hh-20"]
    assert agr["spikenet-1t"]["level"] == "reference"
    assert agr["limit-1t"]["level"] == "same spikes", agr["limit-1t"]


def test_report_has_targets_cases_and_plot(smoke):
    _, _, out = smoke
    text = (out / "benchmarks.md").read_text()
    assert "## Targets" in text and "smoke run" in text
    for case in C.SMOKE_CASES:
        assert f"### {case.name}" in text
    assert (out / "benchmarks_cuba_loop.png").stat().st_size > 1000


def test_report_regenerates_from_saved_results(smoke, tmp_path):
    _, _, out = smoke
    doc = tmp_path / "again.md"
    proc = _bench(["--from-json", str(out / "results.json"), "--doc", str(doc)])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "## Targets" in doc.read_text()


def test_spikenet_bench_passes_its_options_to_the_runner(capsys):
    from spikenet.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["bench", "--help"])
    assert exc.value.code == 0
    assert "--smoke" in capsys.readouterr().out  # the runner's help, not the CLI's
    with pytest.raises(SystemExit, match="--repeats"):  # validated by the runner
        main(["bench", "--repeats", "2", "--cases", "lif-10", "--no-doc"])


def test_fewer_than_three_repeats_are_refused():
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit, match="--repeats"):
        main(["--repeats", "2", "--cases", "lif-10", "--no-doc"])


def test_unknown_case_is_refused():
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit, match="--cases"):
        main(["--cases", "izhikevich-10", "--no-doc"])


def test_unknown_peer_is_refused():
    from benchmarks.__main__ import main

    with pytest.raises(SystemExit, match="--peers"):
        main(["--peers", "neuron", "--cases", "lif-10", "--no-doc"])


# ---------------------------------------------------------------- pure helpers

def test_cuba_constants_follow_from_the_published_voltages():
    # Brette et al. 2007 / Brian2 example: E_L = -49, V_t = -50, V_r = -60 mV,
    # we = 1.62 mV, wi = -9 mV, normalised by V_t - V_r = 10 mV.
    assert pytest.approx(11 / 10) == C.CUBA_BIAS
    assert pytest.approx(0.162) == C.CUBA_JUMP_E
    assert pytest.approx(-0.9) == C.CUBA_JUMP_I
    n_e, n_i, p = C.cuba_sizes(4000)
    assert (n_e, n_i, p) == (3200, 800, pytest.approx(0.02))
    assert C.cuba_sizes(1_000_000)[2] * 1_000_000 == pytest.approx(80)


def test_lif_closed_form_counts_match_an_event_driven_reference():
    # Independent reference: step from spike to spike with the ISI formula of LIF.rate.
    from spikenet.sim import LIF

    J = np.array([0.5, 1.0, 1.01, 1.5, 2.0, 3.0])
    T = 1.0
    lif = LIF(tau_m=C.LIF_TAU_M, tau_ref=C.LIF_TAU_REF)
    expected = []
    for j in J:
        rate = lif.rate(j)
        if rate == 0:
            expected.append(0)
            continue
        isi = 1.0 / rate
        t, k = isi - lif.tau_ref, 0  # the first spike needs no refractory period
        while t < T:
            k += 1
            t += isi
        expected.append(k)
    np.testing.assert_array_equal(C.lif_analytic_counts(J, T), expected)


def test_cuba_statistics_match_a_direct_computation():
    rng = np.random.default_rng(3)
    n, n_e, T = 30, 24, 2.0
    times = [np.sort(rng.uniform(0, T, rng.integers(0, 9))) for _ in range(n)]
    idx = np.concatenate([np.full(len(t), i) for i, t in enumerate(times)])
    tt = np.concatenate(times)
    perm = rng.permutation(idx.size)  # order of the flat arrays must not matter
    stats = C.cuba_stats(idx[perm], tt[perm], n, n_e, T)
    cvs = [np.std(np.diff(t)) / np.mean(np.diff(t)) for t in times if len(t) >= 3]
    assert stats["rate_e"] == pytest.approx(sum(len(t) for t in times[:n_e]) / (n_e * T), rel=STATS_RTOL)
    assert stats["rate_i"] == pytest.approx(sum(len(t) for t in times[n_e:]) / ((n - n_e) * T),
                                            rel=STATS_RTOL)
    assert stats["cv"] == pytest.approx(np.mean(cvs), rel=1e-9)
    assert stats["n_spikes"] == idx.size


def test_count_comparison_levels():
    ref = np.array([10, 20, 30, 40])
    assert C.compare_counts(ref + np.array([1, -1, 0, 1]), ref).level == "same spikes"
    assert C.compare_counts(ref + np.array([2, -2, 0, 1]), ref).level == "same statistics"
    assert C.compare_counts(ref * 2, ref).level == "MISMATCH"


def test_cuba_comparison_levels():
    ref = {"rate_e": 5.0, "rate_i": 5.0, "cv": 0.5}
    close = {"rate_e": 5.5, "rate_i": 4.6, "cv": 0.55}
    far = {"rate_e": 7.0, "rate_i": 5.0, "cv": 0.5}
    assert C.compare_cuba(close, ref, 4000).level == "same statistics"
    assert C.compare_cuba(far, ref, 4000).level == "MISMATCH"
    assert C.compare_cuba(far, ref, 400).level == "not compared"


def _fake(case, key, threads, loop, wall, rss=100.0, cold=None, family=None):
    def s(v):
        return None if v is None else {"median": v, "min": v, "max": v, "n": 3}

    fam = family or key.split("-")[0]
    return {"case_name": case, "sim_key": key, "errors": [],
            "sim": {"family": fam, "threads": threads, "mode": "", "dtype": "float64"},
            "case": {"kind": case.split("-")[0], "n": int(case.split("-")[1]), "T": 1.0, "dt": 1e-4},
            "summary": {"loop_s": s(loop), "wall_warm_s": s(wall), "wall_cold_s": s(cold),
                        "maxrss_mb": s(rss), "build_s": s(0.0),
                        "neuron_steps_per_s": s(1.0 / loop)}}


def test_target_verdicts_follow_the_ratios():
    payload = {"measurements": [
        _fake("cuba-4000", "spikenet-1t", 1, loop=0.02, wall=1.0, cold=4.0),
        _fake("cuba-4000", "brian2-standalone-1t", 1, loop=0.05, wall=7.0),
        _fake("cuba-4000", "brian2-cython-1t", 1, loop=0.2, wall=1.5),
        _fake("lif-100000", "spikenet-1t", 1, loop=1.0, wall=2.0),
        _fake("lif-100000", "brian2-standalone-1t", 1, loop=2.0, wall=9.0),
    ]}
    rows = {(r["target"], r["spikenet"]): r for r in report.evaluate_targets(payload)}
    loop = rows[("CUBA-4000 simulation loop <= 0.5x Brian2 cpp_standalone", "spikenet-1t")]
    assert loop["ratio"] == pytest.approx(0.4) and loop["met"] is True
    cy = rows[("CUBA-4000 whole process, warm caches <= 0.5x Brian2 cython", "spikenet-1t")]
    assert cy["ratio"] == pytest.approx(1.0 / 1.5) and cy["met"] is False
    cold = rows[("CUBA-4000 whole process, empty caches <= 5 s", "spikenet-1t")]
    assert cold["met"] is True
    lif = rows[("Uncoupled LIF, constant drive >= 2.5x Brian2 cpp_standalone neuron-steps/s",
                "spikenet-1t")]
    assert lif["ratio"] == pytest.approx(2.0) and lif["met"] is False


def test_fast_exp_error_is_bounded():
    from benchmarks.limit_kernels import fast_exp

    x = np.linspace(-12.0, 12.0, 4001)
    got = np.array([fast_exp(v) for v in x])
    rel = np.abs(got / np.exp(x) - 1.0)
    assert rel.max() < FAST_EXP_RTOL
    assert fast_exp(0.0) == 1.0 and math.isfinite(fast_exp(-12.0))


@pytest.mark.slow
@pytest.mark.brian2
def test_peers_run_every_case_at_tiny_size(tmp_path):
    peers = "brian2,nest" if importlib.util.find_spec("nest") else "brian2"
    proc = _bench(["--smoke", "--peers", peers, "--threads", "1", "--dtypes", "float64",
                   "--out", str(tmp_path), "--no-doc"], timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    payload = json.loads((tmp_path / "results.json").read_text())
    keys = {(m["case_name"], m["sim_key"]) for m in payload["measurements"] if not m["errors"]}
    for case in C.SMOKE_CASES:
        assert (case.name, "brian2-cython-1t") in keys
        assert (case.name, "brian2-standalone-1t") in keys
    assert payload["agreement"]["lif-200"]["brian2-cython-1t"]["level"] in ("same spikes",
                                                                             "same statistics")
    assert payload["agreement"]["hh-20"]["brian2-standalone-1t"]["level"] in ("same spikes",
                                                                                "same statistics")
    # the 1-thread standalone peer is Brian2's default build, without OpenMP
    for m in payload["measurements"]:
        if m["sim_key"] == "brian2-standalone-1t":
            build = next(r["result"]["build"] for r in m["runs"] if r["result"].get("build"))
            assert build["openmp_threads"] == 0 and build["device"] == "cpp_standalone"


def _payload(date, runs_by_key, case="cuba-4000"):
    ms = []
    for key, runs in runs_by_key.items():
        ms.append({"case_name": case, "sim_key": key,
                   "case": {"kind": "cuba", "n": 4000, "T": 1.0, "dt": 1e-4},
                   "sim": C.Sim("brian2", 1, mode="cython").spec(), "runs": runs, "errors": [],
                   "summary": {}})
    return {"meta": {"date": date}, "smoke": False, "repeats": 3, "partial": False, "notes": [],
            "cases": [{"kind": "cuba", "n": 4000, "T": 1.0, "dt": 1e-4, "name": case}],
            "measurements": ms, "agreement": {case: {}}}


def _run(wall, loop, cold):
    return {"wall_s": wall, "maxrss_mb": 100.0, "rc": 0, "cold": cold, "error": "",
            "result": {"loop_s": loop, "build_s": 0.1, "stats": {"n_spikes": 10}}}


def test_merged_report_carries_over_only_the_empty_cache_runs():
    from benchmarks.__main__ import merge_payloads

    early = _payload("early", {"brian2-cython-1t": [_run(30.0, 9.0, True), _run(31.0, 9.0, True),
                                                   _run(5.0, 9.0, False)]})
    late = _payload("late", {"brian2-cython-1t": [_run(4.0, 1.0, False), _run(6.0, 2.0, False)]})
    merged = merge_payloads([early, late])
    s = merged["measurements"][0]["summary"]
    assert s["wall_cold_s"]["median"] == pytest.approx(30.5)  # the early session's empty caches
    assert s["wall_warm_s"]["median"] == pytest.approx(5.0)  # the late session's warm runs only
    assert s["loop_s"]["median"] == pytest.approx(1.5)  # loop times of the late session only
    assert any("early" in n for n in merged["notes"])


def test_limit_cuba_kernel_keeps_spikes_when_its_buffer_grows():
    # Regression: the spike buffers start at 2**16 entries and grow; a longer run
    # must reproduce the shorter run's spikes exactly and keep counting beyond.
    from benchmarks import limit_kernels as lk
    from benchmarks.run_limit import _cuba_propagator

    n, n_e, p = 400, 320, 0.2
    e_ptr, e_idx = lk.random_csr(n_e, n, p, 1)
    i_ptr, i_idx = lk.random_csr(n - n_e, n, p, 2)
    # no inhibition, a strong drive and no refractory period: nearly every neuron
    # fires at nearly every step, so a few hundred steps fill the first buffer
    e_w, i_w = np.full(e_idx.size, C.CUBA_JUMP_E), np.zeros(i_idx.size)
    a, be, bi, de, di = _cuba_propagator(1e-4)

    def run(steps):
        v = np.random.default_rng(0).random(n)
        return lk.cuba_loop(v, np.zeros(n), np.zeros(n), steps, 10.0, a, be, bi, de, di, 0,
                            e_ptr, e_idx, e_w, i_ptr, i_idx, i_w, n_e)

    k_short, i_short = run(100)
    k_long, i_long = run(1000)
    assert k_short.size < 2**16 < k_long.size
    np.testing.assert_array_equal(k_long[:k_short.size], k_short)
    np.testing.assert_array_equal(i_long[:i_short.size], i_short)
    assert np.all(np.diff(k_long) >= 0) and i_long.max() < n
