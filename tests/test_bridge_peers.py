"""The bridge's peer runners (snnTorch, SpikingJelly): result parsing, measuring, and a tiny real run.

The parsing and measuring helpers are checked in-process against values
computed here by hand. The runners themselves need their own venvs
(``torch==2.13.0`` plus the peer, a few GB of downloads and minutes of
installing), so the tiny end-to-end run of each is marked slow; it creates
the venvs when they are missing and skips only when that fails.
"""

from __future__ import annotations

import importlib.util
import json
import math

import numpy as np
import pytest
import torch

from benchmarks import bridge_peers as bp


def _peer_common():
    spec = importlib.util.spec_from_file_location("_peer_common", bp.HERE / "_peer_common.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_runner_result_line_round_trips_through_parse_result(capsys):
    common = _peer_common()
    assert common.RESULT_PREFIX == bp.RESULT_PREFIX
    raw = {"accuracy": {"5": 0.5, "200": 0.75}, "images_per_s": {"1": {"5": 100.0}, "2": {"5": 150.0}},
           "seconds": {"1": {"5": 0.01}, "2": {"5": 0.02}}, "library": "x", "version": "1.0"}
    print("some log line")
    common.emit(raw)
    print("trailing noise")
    res = bp.parse_result(capsys.readouterr().out)
    assert res["accuracy"] == {5: 0.5, 200: 0.75}
    assert res["images_per_s"] == {1: {5: 100.0}, 2: {5: 150.0}}
    assert res["seconds"][2][5] == 0.02
    assert res["library"] == "x"


def test_parse_result_without_a_result_line_raises():
    with pytest.raises(ValueError, match="no result line"):
        bp.parse_result("Traceback (most recent call last):\n  boom")


def test_measure_counts_accuracy_and_images_per_second_from_the_median():
    common = _peer_common()
    X = torch.zeros(8, 3)
    y = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    calls = []

    def predict(X, steps):  # right on the first `steps` samples (capped), wrong elsewhere
        calls.append(steps)
        pred = (y + 1) % 4
        pred[:steps] = y[:steps]
        return pred

    old = torch.get_num_threads()
    try:
        out = common.measure(predict, X, y, [2, 6], [1], repeats=3)
    finally:
        torch.set_num_threads(old)
    assert out["accuracy"] == {"2": 2 / 8, "6": 6 / 8}
    sec = out["seconds"]["1"]["6"]
    assert out["images_per_s"]["1"]["6"] == pytest.approx(8 / sec)
    # 2 accuracy calls, then per step count one warm-up and 3 timed calls
    assert calls == [2, 6, 2, 2, 2, 2, 6, 6, 6, 6]


def test_timed_returns_the_median_of_the_timed_calls(monkeypatch):
    common = _peer_common()
    # a fake clock: the warm-up call is not timed, then three calls of 3, 1 and 2 s
    ticks = iter([0.0, 3.0, 10.0, 11.0, 20.0, 22.0])
    monkeypatch.setattr(common.time, "perf_counter", lambda: next(ticks))
    calls = []
    assert common.timed(lambda: calls.append(1), 3) == 2.0
    assert len(calls) == 4


def test_accuracy_table_lists_each_peer_and_step_count():
    res = {"snntorch": {"accuracy": {5: 0.9, 10: 0.9666}, "version": "1.0.0"}}
    table = bp.accuracy_table(res, [5, 10, 25])
    lines = table.splitlines()
    assert lines[0] == "| library | 5 steps | 10 steps | 25 steps |"
    assert lines[2] == "| snntorch 1.0.0 | 90.0 % | 96.7 % | - |"


def test_run_rejects_an_unknown_peer_and_bad_steps():
    with pytest.raises(ValueError, match="case"):
        bp.run("norse", 5, 1)
    with pytest.raises(ValueError, match="steps"):
        bp.run("snntorch", 0, 1)
    with pytest.raises(ValueError, match="threads"):
        bp.run("snntorch", 5, [1, "2"])


def test_written_digits_split_is_the_benchmark_split(tmp_path):
    from spikenet.rate import datasets

    path = bp.write_digits(tmp_path / "d.npz")
    ref = datasets.digits(seed=0)
    with np.load(path, allow_pickle=False) as d:
        for key, want in zip(("X_train", "y_train", "X_test", "y_test"), ref, strict=True):
            np.testing.assert_array_equal(d[key], want)
    assert ref[2].shape == (450, 64)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(bp.PEERS))
def test_peer_runner_trains_and_measures_a_tiny_config(case, tmp_path):
    try:
        bp.ensure_venvs()
    except bp.PeerUnavailable as exc:
        pytest.skip(f"the {case} venv could not be created: {exc}")
    res = bp.run(case, steps=[2, 4], threads=1, epochs=2, repeats=1)
    assert set(res["accuracy"]) == {2, 4}
    # two epochs on digits already beat chance (10 %) by far
    assert max(res["accuracy"].values()) > 0.5
    assert all(math.isfinite(v) and v > 0 for v in res["images_per_s"][1].values())
    assert res["torch"].startswith("2.13.0")
    assert res["n_test"] == 450
    json.dumps(res, default=str)
