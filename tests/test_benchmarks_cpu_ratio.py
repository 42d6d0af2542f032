"""benchmarks.cpu_ratio: per-round ratios by wall and CPU time from a results.json, worked by hand."""

from __future__ import annotations

import json

import pytest

from benchmarks import cpu_ratio


def _run(rnd, loop_s, load, cpu=None, clock=None, cold=False):
    result = {"loop_s": loop_s, "build": {} if clock is None else {"loop_clock": clock}}
    if cpu is not None:
        result["loop_cpu_s"] = cpu
    return {"round": rnd, "rc": 0, "cold": cold, "result": result, "load": {"load_1m": load}}


def _results():
    spikenet = [_run(0, 2.0, 4.0, cpu=0.5), _run(1, 1.0, 0.1, cpu=0.9),
                _run(-1, 9.0, 0.0, cpu=9.0, cold=True)]
    clock = "CPU time (std::clock)"
    brian2 = [_run(0, 1.5, 4.0, clock=clock), _run(1, 1.8, 0.1, clock=clock)]
    return {"measurements": [
        {"case_name": "lif-100000", "sim_key": "spikenet-stepped-1t", "runs": spikenet},
        {"case_name": "lif-100000", "sim_key": "brian2-standalone-1t", "runs": brian2},
        {"case_name": "hh-10000", "sim_key": "spikenet-stepped-1t", "runs": [_run(0, 5.0, 0.0, cpu=5.0)]},
    ]}


def test_per_round_ratios_by_wall_and_cpu_time():
    res = _results()
    a = cpu_ratio.loop_times(res, "lif-100000", "spikenet-stepped-1t")
    b = cpu_ratio.loop_times(res, "lif-100000", "brian2-standalone-1t")
    assert set(a) == {0, 1}  # the cold run and the other case are left out
    rows = cpu_ratio.per_round(a, b)
    # round 0 (loaded): wall 1.5 / 2.0 = 0.75, CPU 1.5 / 0.5 = 3; round 1: 1.8 / 1.0 = 1.8 and 1.8 / 0.9 = 2
    assert [r["wall_ratio"] for r in rows] == pytest.approx([0.75, 1.8])
    assert [r["cpu_ratio"] for r in rows] == pytest.approx([3.0, 2.0])


def test_command_prints_the_median_ratios(tmp_path, capsys):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(_results()))
    assert cpu_ratio.main([str(path), "--case", "lif-100000", "--a", "spikenet-stepped-1t",
                           "--b", "brian2-standalone-1t"]) == 0
    out = capsys.readouterr().out
    assert "median ratio by CPU time:   2.5 [2-3], 2 rounds" in out
    assert cpu_ratio.main([str(path), "--case", "cuba-4000", "--a", "x", "--b", "y"]) == 1
