"""Run the simulation examples with --quick in a subprocess and check their figures."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("script, figure", [("hh_neuron.py", "hh_neuron.png"),
                                            ("lif_tuning_curve.py", "lif_tuning_curve.png")])
def test_sim_example_runs_and_saves_figure(tmp_path, script, figure):
    cmd = [sys.executable, str(ROOT / "examples" / script), "--quick", "--out", str(tmp_path)]
    proc = subprocess.run(cmd, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    png = tmp_path / figure
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "saved" in proc.stdout


def test_hh_example_shows_the_four_regimes(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "hh_neuron.py"), "--quick", "--out",
                           str(tmp_path)], env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=300)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("J =")]
    counts = [int(line.split(":")[1].split("spikes")[0]) for line in lines]
    vmin = [float(line.split("V min")[1].split("mV")[0]) for line in lines]
    assert counts[0] == 0 and vmin[0] < -100  # negative input: hyperpolarised, silent
    # zero input: back to rest; at most the rebound spike on release from
    # hyperpolarisation (anode-break excitation, a known HH behaviour)
    assert counts[1] <= 1
    assert counts[2] <= 1  # small input: at most one spike
    assert 2 <= counts[3] < counts[4]  # larger input fires faster
