"""The microcircuit benchmark case: its agreement rule, and its spikenet and NEST workers at a tiny size."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import cases as C

REPO = Path(__file__).resolve().parent.parent


def test_microcircuit_agreement_compares_every_population_above_1_hz():
    ref = {"rates": [0.9, 3.0, 4.4, 5.9, 7.6, 8.6, 1.1, 7.8]}
    near = {"rates": [r * 1.2 for r in ref["rates"]]}
    far = {"rates": [*ref["rates"][:4], 7.6 * 1.5, *ref["rates"][5:]]}
    slow_only = {"rates": [0.3, *ref["rates"][1:]]}  # L2/3E is below 1 Hz in the reference: not compared
    assert C.compare_microcircuit(near, ref, 7717).level == "same statistics"
    assert C.compare_microcircuit(far, ref, 7717).level == "MISMATCH"
    assert C.compare_microcircuit(slow_only, ref, 7717).level == "same statistics"
    assert C.compare_microcircuit(far, ref, 772).level == "not compared"
    case = C.make_case("microcircuit", 7717)
    checked = C.check_agreement(case, {"nest-1t": ref, "spikenet-1t": far}, {})
    assert checked["nest-1t"].level == "reference" and checked["spikenet-1t"].level == "MISMATCH"


def test_microcircuit_case_runs_on_spikenet_and_nest_only():
    case = C.make_case("microcircuit", 7717)
    assert case in C.FULL_CASES
    ran = {s.key for s in C.default_sims() if C.applies(s, case)}
    assert ran and all(k.startswith(("spikenet", "nest")) for k in ran)
    assert not any("jit" in k or "stepped" in k for k in ran)


@pytest.mark.slow
@pytest.mark.nest
@pytest.mark.parametrize("family", ["spikenet", "nest"])
def test_microcircuit_workers_report_rates_of_the_eight_populations(family, tmp_path):
    case = C.make_case("microcircuit", 772, T=0.05)
    spec = {"case": case.spec(), "sim": C.Sim(family, 1).spec()}
    proc = subprocess.run([sys.executable, "-m", f"benchmarks.run_{family}", "--spec", json.dumps(spec),
                           "--out", str(tmp_path)], cwd=REPO, env=dict(os.environ, PYTHONPATH=str(REPO)),
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    res = json.loads((tmp_path / "result.json").read_text())
    assert len(res["stats"]["rates"]) == 8 and res["stats"]["n_spikes"] > 0
    assert res["loop_s"] > 0 and res["build_s"] > 0
