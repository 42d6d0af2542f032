"""The bridge examples run end to end (with --quick), print their results and write their figures."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_example(script, out):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), "--quick", "--out", str(out)],
        env=dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_lif_tuning_example_shows_simulation_on_the_analytic_curve(tmp_path):
    stdout = run_example("lif_tuning_analytic_vs_sim.py", tmp_path)
    assert (tmp_path / "lif_tuning_analytic_vs_sim.png").stat().st_size > 10_000
    errors = [float(e) for e in re.findall(r"max relative error of the simulated rates ([\d.e+-]+)", stdout)]
    assert len(errors) == 2 and max(errors) < 0.005


def test_hh_fi_example_finds_the_onset_and_fits_an_lif_curve(tmp_path):
    stdout = run_example("hh_fi_curve.py", tmp_path)
    assert (tmp_path / "hh_fi_curve.png").stat().st_size > 10_000
    onset = float(re.search(r"onset of repetitive firing: ([\d.]+)", stdout).group(1))
    assert 6.0 <= onset <= 6.5
    assert "LIF fit: gain" in stdout and "rmse" in stdout


@pytest.mark.parametrize("figure", ["digits_hidden_raster.png", "digits_accuracy_vs_T.png"])
def test_digits_example_figures(figure, digits_example_out):
    assert (digits_example_out[0] / figure).stat().st_size > 10_000


@pytest.fixture(scope="module")
def digits_example_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    return out, run_example("digits_to_spiking.py", out)


def test_digits_example_keeps_accuracy_after_conversion(digits_example_out):
    stdout = digits_example_out[1]
    rate_acc = float(re.search(r"rate network \(SoftLIF\): test accuracy ([\d.]+)%", stdout).group(1))
    spiking_acc = float(re.search(r"spiking network: accuracy ([\d.]+)%", stdout).group(1))
    assert spiking_acc >= rate_acc - 2.0
