"""The bridge case of the benchmark suite: spikenet's converted network against SpikingJelly and snnTorch.

The default run replaces the three runners by fakes that return numbers
chosen here, and checks the protocol's rules on them: the alternating order
of the three libraries, per-round ratios and their medians (worked out by
hand; the numbers are chosen so that the median of the ratios differs from
the ratio of the medians), the 2x target at equal accuracy, INVALID under a
fake high load, and that docs/bridge.md is rewritten only with
``--update-docs`` and only between its markers. The end-to-end run of the
real runners (their own venvs, training included) is marked slow.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import bridge_case as B
from benchmarks import bridge_peers as bp
from benchmarks.protocol import LoadGate

REPO = Path(__file__).resolve().parent.parent

STEPS = (5, 25)
THREADS = (1, 2)
# Accuracy per step count: spikenet is at full accuracy (within 0.5 pp of its
# best, 96.4 %) only at 25 steps, SpikingJelly at both, snnTorch only at 25.
ACC = {"spikenet": {5: 0.90, 25: 0.964}, "spikingjelly": {5: 0.962, 25: 0.962},
       "snntorch": {5: 0.970, 25: 0.978}}
# Images/s per round (rounds 0, 1, 2). spikenet / SpikingJelly per round:
# 100/40, 300/100, 200/100 = 2.5, 3, 2 -> median 2.5 (the ratio of the medians
# would be 200/100 = 2); at 2 threads, 25 steps: 100/60, 300/200, 200/150 =
# 1.67, 1.5, 1.33 -> median 1.5. spikenet / snnTorch: 100/50, 300/150, 200/50
# = 2, 2, 4 -> median 2.
IPS = {"spikenet": [100.0, 300.0, 200.0], "spikingjelly": [40.0, 100.0, 100.0],
       "snntorch": [50.0, 150.0, 50.0]}
SLOW_SJ = [60.0, 200.0, 150.0]


class FakeClock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t

    def sleep(self, s):
        self.t += s


def _gate(loads, retries=2):
    clock = FakeClock()
    it = iter(loads)
    return LoadGate(max_per_core=0.3, cores=2, retries=retries, wait_s=5.0,
                    read_load=lambda: next(it), sleep=clock.sleep, clock=clock)


def fake_runner(order, slow_sj=True, fail=()):
    """A run_one that returns the numbers above and records the order of the runs."""

    def run_one(lib, k):
        order.append((lib, k))
        if lib in fail:
            return {"ok": False, "error": "RuntimeError: boom", "result": {}, "wall_s": 1.0, "cpu_s": 0.5}
        ips = {t: {s: (SLOW_SJ if (slow_sj and lib == "spikingjelly" and (t, s) == (2, 25))
                       else IPS[lib])[k] for s in STEPS} for t in THREADS}
        ts = {t: {"torch_threads": t, "torch_interop_threads": 2, "blas": [{"api": "openblas", "threads": 2}],
                  "env": {}} | ({"numba_threads": t, "numba_max_threads": 2} if lib == "spikenet" else {})
              for t in THREADS}
        res = {"accuracy": dict(ACC[lib]), "images_per_s": ips, "thread_settings": ts, "library": lib}
        return {"ok": True, "error": None, "result": res, "wall_s": 1.0, "cpu_s": 0.5}

    return run_one


def _section(order, loads=None, rounds=3, **kw):
    gate = _gate(loads if loads is not None else [0.1] * 50)
    return B.run_bridge(rounds, STEPS, THREADS, fake_runner(order, **kw), gate, log=lambda *_: None,
                        config={"repeats": 5})


def _row(section, t, s):
    (row,) = [r for r in section["summary"]["rows"] if (r["threads"], r["steps"]) == (t, s)]
    return row


def test_libraries_run_once_per_round_in_alternating_order():
    order = []
    section = _section(order)
    sn, sj, st = "spikenet", "spikingjelly", "snntorch"
    assert order == [(sn, 0), (sj, 0), (st, 0), (st, 1), (sj, 1), (sn, 1), (sn, 2), (sj, 2), (st, 2)]
    assert [(r["library"], r["round"]) for r in section["runs"]] == order
    assert all(r["load"]["load_1m"] == 0.1 and not r["over_load"] for r in section["runs"])


def test_ratios_are_medians_of_per_round_ratios_with_their_spread():
    section = _section([])
    row = _row(section, 1, 25)
    r = row["ratios"]["spikingjelly"]
    assert r["values"] == pytest.approx([2.5, 3.0, 2.0])
    assert (r["median"], r["min"], r["max"], r["n"]) == pytest.approx((2.5, 2.0, 3.0, 3))
    assert row["ratios"]["snntorch"]["median"] == pytest.approx(2.0)
    assert row["ratios"]["snntorch"]["max"] == pytest.approx(4.0)
    assert row["images_per_s"]["spikenet"] == {"median": 200.0, "min": 100.0, "max": 300.0, "n": 3}
    slow = _row(section, 2, 25)["ratios"]["spikingjelly"]
    assert slow["median"] == pytest.approx(1.5) and slow["min"] == pytest.approx(200 / 150)


def test_target_is_judged_only_at_equal_accuracy_and_needs_every_thread_count():
    section = _section([])
    summ = section["summary"]
    # full accuracy: within 0.5 pp of each library's own best
    assert summ["full"] == {"spikenet": [25], "spikingjelly": [5, 25], "snntorch": [25]}
    assert _row(section, 1, 5)["verdict"] == "not judged (accuracy)"  # ratio 2.5, but spikenet at 90 %
    assert _row(section, 1, 25)["verdict"] == "met"
    assert _row(section, 2, 25)["verdict"] == "missed"
    assert summ["target"]["met"] is False
    met = _section([], slow_sj=False)["summary"]["target"]
    assert met["met"] is True and "25 steps/1t" in met["text"] and "25 steps/2t" in met["text"]


def test_target_is_not_judged_without_an_equal_accuracy_step_count():
    section = _section([])
    for r in section["runs"]:  # SpikingJelly now at full accuracy only at 5 steps, spikenet only at 25
        if r["library"] == "spikingjelly":
            r["result"]["accuracy"] = {5: 0.97, 25: 0.95}
    summ = B.summarise(section)
    assert {r["verdict"] for r in summ["rows"]} == {"not judged (accuracy)"}
    assert summ["target"]["met"] is None and summ["target"]["text"].startswith("not judged")
    section["runs"] = [r for r in section["runs"] if r["library"] != "spikingjelly"]
    section["libraries"] = ["spikenet", "snntorch"]
    summ = B.summarise(section)
    assert {r["verdict"] for r in summ["rows"]} == {"not measured"} and summ["target"]["met"] is None


def test_a_loaded_machine_makes_the_case_invalid():
    # first round quiet, then never below the limit (0.6 on 2 cores): the later
    # runs start after the retries and are flagged
    section = _section([], loads=[0.1, 0.1, 0.1] + [1.5] * 50)
    assert [r["over_load"] for r in section["runs"]] == [False] * 3 + [True] * 6
    assert section["runs"][3]["discarded"] and section["runs"][3]["load"]["load_1m"] == 1.5
    assert "6 run(s)" in section["invalid"]
    summ = section["summary"]
    assert {r["verdict"] for r in summ["rows"]} == {"invalid (load)"}
    assert summ["target"]["met"] is None and summ["target"]["text"].startswith("invalid (load)")
    md = "\n".join(B.report_lines(section))
    assert "**INVALID" in md and "| invalid (load) |" in md


def test_a_failed_library_is_skipped_in_later_rounds_and_reported():
    order = []
    section = _section(order, fail=("snntorch",))
    assert [o for o in order if o[0] == "snntorch"] == [("snntorch", 0)]
    assert _row(section, 1, 25)["ratios"]["snntorch"] is None
    md = "\n".join(B.report_lines(section))
    assert "snnTorch round 1 failed" in md and "RuntimeError: boom" in md


def test_report_table_shows_each_library_ratio_and_thread_settings():
    section = _section([])
    table = B.table_lines(section)
    assert table[0].startswith("| threads | steps | spikenet images/s | SpikingJelly images/s |")
    assert "| 1 | 25 | 200 [100-300] | 100 [40-100] | 50 [50-150] | 96.4 % / 96.2 % / 97.8 % | " \
           "2.50x [2.00-3.00] | 2.00x [2.00-4.00] | yes | met |" in table
    threads = B.thread_lines(section)
    assert "- spikenet at 2 thread(s): Numba 2 (pool of 2); torch 2 (inter-op 2); BLAS/OpenMP pools " \
           "openblas 2" in threads
    assert any(t.startswith("- SpikingJelly at 1 thread(s): torch 1") for t in threads)


def test_summary_survives_a_json_round_trip():
    section = _section([])
    again = json.loads(json.dumps(section))  # int keys become strings
    assert json.loads(json.dumps(B.summarise(again))) == json.loads(json.dumps(section["summary"]))


def test_update_docs_rewrites_only_the_block_between_the_markers(tmp_path):
    doc = tmp_path / "bridge.md"
    before, after = "# Title\n\ntext before\n", "\ntext after\n"
    doc.write_text(before + B.DOC_BEGIN + "\nold table\n" + B.DOC_END + after)
    B.update_docs(_section([]), doc, {"date": "2026-01-01", "git": "abc"})
    text = doc.read_text()
    assert text.startswith(before + B.DOC_BEGIN) and text.endswith(B.DOC_END + after)
    inner = text[len(before + B.DOC_BEGIN):-len(B.DOC_END + after)]
    assert "old table" not in inner and "| 2 | 25 |" in inner and "**missed" in inner
    assert f"]({B.DOC_FIGURE})" in inner and (tmp_path / B.DOC_FIGURE).stat().st_size > 1000
    doc.write_text("no markers here\n")
    with pytest.raises(ValueError, match="bridge-peers:begin"):
        B.update_docs(_section([]), doc)


def test_docs_are_rewritten_only_with_update_docs(monkeypatch, tmp_path):
    from benchmarks import __main__ as bm

    docs = tmp_path / "docs"
    docs.mkdir()
    bridge_md = docs / "bridge.md"
    original = (REPO / "docs" / "bridge.md").read_text()
    assert original.count(B.DOC_BEGIN) == 1 and original.count(B.DOC_END) == 1
    bridge_md.write_text(original)
    monkeypatch.setattr(bm, "DOCS_BRIDGE", bridge_md)
    monkeypatch.setattr(bm, "DOCS_REPORT", docs / "benchmarks.md")
    monkeypatch.setattr(bm, "DOCS_RESULTS", docs / "benchmarks-results.json")
    real = bm.run_suite
    monkeypatch.setattr(bm, "run_suite", lambda args, save=None: real(
        args, log=lambda *_: None, save=save, gate=_gate([0.1] * 50), bridge_runner=fake_runner([])))
    out = tmp_path / "out"
    # a smoke run never publishes, even with --update-docs
    assert bm.main(["--smoke", "--cases", "bridge", "--out", str(out), "--update-docs"]) == 0
    assert bridge_md.read_text() == original and not (docs / B.DOC_FIGURE).exists()
    assert bm.main(["--cases", "bridge", "--out", str(out), "--no-profile"]) == 0
    assert bridge_md.read_text() == original and not (docs / B.DOC_FIGURE).exists()
    md = (out / "benchmarks.md").read_text()
    assert "## Converted digits network against SpikingJelly and snnTorch" in md
    assert "| 1 | 25 |" in md and (out / "benchmarks_bridge_accuracy.png").is_file()
    saved = json.loads((out / "results.json").read_text())
    assert saved["bridge"]["summary"]["target"]["met"] is False

    assert bm.main(["--cases", "bridge", "--out", str(out), "--no-profile", "--update-docs"]) == 0
    text = bridge_md.read_text()
    i, j = original.index(B.DOC_BEGIN), original.index(B.DOC_END)
    assert text.startswith(original[:i + len(B.DOC_BEGIN)]) and text.endswith(original[j:])
    assert "| 2 | 25 |" in text and (docs / B.DOC_FIGURE).is_file()
    # the bridge case alone leaves the simulator report and its results untouched
    assert not (docs / "benchmarks.md").exists() and not (docs / "benchmarks-results.json").exists()


def test_merged_results_keep_the_bridge_section():
    from benchmarks.__main__ import merge_payloads

    section = _section([])
    base = {"meta": {"date": "d"}, "smoke": False, "repeats": 3, "cases": [], "measurements": [],
            "agreement": {}, "invalid": {}}
    merged = merge_payloads([dict(base), dict(base, bridge=section)])
    assert merged["bridge"] is section


def test_bridge_is_part_of_full_runs_only():
    from benchmarks.__main__ import _parse_cases, build_parser

    p = build_parser()
    assert _parse_cases("bridge", smoke=False) == []  # not a simulator case
    assert p.parse_args([]).bridge is None and p.parse_args(["--no-bridge"]).bridge is False


def test_quick_bridge_measures_the_short_runs_against_spikingjelly_only():
    from benchmarks.__main__ import QUICK_ROUNDS, build_parser, plan, run_bridge_case

    args = build_parser().parse_args(["--quick", "--cases", "bridge"])
    case_list, _, _, rounds = plan(args)
    assert case_list == [] and rounds == QUICK_ROUNDS >= 3
    order = []
    section = run_bridge_case(args, 3, _gate([0.1] * 50), log=lambda *_: None, runner=fake_runner(order))
    assert section["config"]["steps"] == [5, 10] and section["config"]["quick"] is True
    assert section["libraries"] == ["spikenet", "spikingjelly"]
    sn, sj = "spikenet", "spikingjelly"
    assert order == [(sn, 0), (sj, 0), (sj, 1), (sn, 1), (sn, 2), (sj, 2)]
    row = _row(section, 1, 5)
    assert set(row["ratios"]) == {sj} and row["ratios"][sj]["median"] == 2.5
    with pytest.raises(SystemExit, match="--quick"):
        plan(build_parser().parse_args(["--quick", "--cases", "bridge,cuba-4000"]))


def test_runner_records_thread_settings_while_timing():
    spec = importlib.util.spec_from_file_location("_peer_common", bp.HERE / "_peer_common.py")
    common = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(common)
    import torch

    seen = []
    X, y = torch.zeros(4, 2), torch.tensor([0, 1, 0, 1])
    out = common.measure(lambda X, s: y, X, y, [2], [1, 3], repeats=1, set_threads=seen.append)
    assert seen == [1, 1, 3]  # accuracy at 1 thread, then each timed thread count
    assert set(out["thread_settings"]) == {"1", "3"}
    ts = out["thread_settings"]["1"]
    assert ts["torch_threads"] == torch.get_num_threads() and "blas" in ts and "env" in ts
    # torch's own report of its OpenMP threads follows the setting
    assert f"omp_get_max_threads() : {torch.get_num_threads()}" in ts["torch_parallel"]
    assert bp.RUNNERS["spikenet"] == "run_spikenet.py" and set(bp.PEERS) < set(bp.RUNNERS)


@pytest.mark.slow
def test_tiny_real_round_of_the_three_runners(tmp_path):
    try:
        bp.ensure_venvs()
    except bp.PeerUnavailable as exc:
        pytest.skip(f"the peers' venvs could not be created: {exc}")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--smoke", "--cases", "bridge", "--threads",
                           "1", "--out", str(tmp_path), "--no-profile"], cwd=str(REPO), env=env,
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    section = json.loads((tmp_path / "results.json").read_text())["bridge"]
    assert [r["library"] for r in section["runs"]] == list(B.LIBRARIES)
    assert all(r["ok"] for r in section["runs"])
    for lib, acc in section["summary"]["accuracy"].items():
        assert max(acc.values()) > 0.5, lib  # two epochs already beat chance (10 %) by far
    for r in section["runs"]:
        ts = r["result"]["thread_settings"]["1"]
        assert ts["torch_threads"] == 1 or r["library"] == "spikenet"
        assert r["library"] != "spikenet" or ts["numba_threads"] == 1
    assert "Converted digits network against SpikingJelly" in (tmp_path / "benchmarks.md").read_text()
