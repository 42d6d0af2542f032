"""The bridge examples run end to end (with --quick), print their results and write their figures.

They run in this process (``main(argv)`` of each script, loaded from its
file) rather than in a subprocess: the scripts import torch and load the
Numba kernels, which a fresh interpreter would pay for again (several seconds
each on a loaded 2-core machine). Importing the file from ``ROOT`` tests the
checkout the tests live in.
"""

import ast
import importlib.util
import re
from pathlib import Path

import pytest

from tests.examples._runner import check_written_figures

ROOT = Path(__file__).resolve().parents[2]


def run_example(script, out, capsys):
    spec = importlib.util.spec_from_file_location(f"bridge_example_{script[:-3]}", ROOT / "examples" / script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(["--quick", "--out", str(out)])
    stdout = capsys.readouterr().out
    # the same checks as for the scripts run in a subprocess: one "wrote PATH" line per figure
    check_written_figures(f"{stdout}\n== {script} took 0 s\n", [script], out)
    return stdout


def test_lif_tuning_example_shows_simulation_on_the_analytic_curve(tmp_path, capsys):
    stdout = run_example("lif_tuning_analytic_vs_sim.py", tmp_path, capsys)
    assert (tmp_path / "lif_tuning_analytic_vs_sim.png").stat().st_size > 10_000
    errors = [float(e) for e in re.findall(r"max relative error of the simulated rates ([\d.e+-]+)", stdout)]
    assert len(errors) == 2 and max(errors) < 0.005


@pytest.mark.slow  # for time: the model itself is tested in tests/sim or tests/rate
def test_hh_fi_example_finds_the_onset_and_fits_an_lif_curve(tmp_path, capsys):
    stdout = run_example("hh_fi_curve.py", tmp_path, capsys)
    assert (tmp_path / "hh_fi_curve.png").stat().st_size > 10_000
    onset = float(re.search(r"onset of repetitive firing: ([\d.]+)", stdout).group(1))
    assert 6.0 <= onset <= 6.5
    assert "LIF fit: gain" in stdout and "rmse" in stdout


@pytest.mark.slow  # for time: the model itself is tested in tests/sim or tests/rate
def test_digits_example_keeps_accuracy_and_writes_both_figures(tmp_path, capsys):
    stdout = run_example("digits_to_spiking.py", tmp_path, capsys)
    for figure in ("digits_to_spiking_hidden_raster.png", "digits_to_spiking_accuracy_vs_T.png"):
        assert (tmp_path / figure).stat().st_size > 10_000
    rate_acc = float(re.search(r"rate network \(SoftLIF\): test accuracy ([\d.]+)%", stdout).group(1))
    spiking_acc = float(re.search(r"spiking network: accuracy ([\d.]+)%", stdout).group(1))
    assert spiking_acc >= rate_acc - 2.0


def test_latency_example_reaches_the_rate_network_in_five_steps_with_the_defaults(tmp_path, capsys):
    stdout = run_example("digits_latency.py", tmp_path, capsys)
    assert (tmp_path / "digits_latency_accuracy_vs_steps.png").stat().st_size > 10_000
    rate_acc = float(re.search(r"rate network \(SoftLIF\): test accuracy ([\d.]+)%", stdout).group(1))
    rows = {line.split("  ")[0]: line for line in stdout.splitlines()}
    defaults = next(v for k, v in rows.items() if k.startswith("defaults"))
    former = next(v for k, v in rows.items() if k.startswith("former defaults"))
    # columns: 1, 2, 5, 10, 25 and the longest run's steps
    acc_defaults = [float(a) for a in defaults.split(")")[1].split()[:6]]
    acc_former = [float(a) for a in former.split(")")[1].split()[:6]]
    assert acc_defaults[2] >= rate_acc - 0.5
    assert acc_former[2] < rate_acc - 10


EXAMPLES = ["lif_tuning_analytic_vs_sim.py", "hh_fi_curve.py", "digits_to_spiking.py", "digits_latency.py"]


@pytest.mark.parametrize("script", EXAMPLES)
def test_example_cites_the_published_work_it_reproduces(script):
    """The docstring names a paper (author, year) listed on the documentation's references page."""
    doc = ast.get_docstring(ast.parse((ROOT / "examples" / script).read_text()))
    cited = re.findall(r"([A-Z][a-z]+)(?: et al\.| & [A-Z][a-z]+)?,? \(?(1[89]\d\d|20\d\d)\b", doc)
    assert cited, doc
    references = (ROOT / "docs" / "references.md").read_text()
    for author, year in cited:
        assert re.search(rf"{author}\b[^\n]*(?:\n[^\n-][^\n]*)*\({year}\)", references) or \
            re.search(rf"{author}, [^(]*\({year}\)", references), (author, year)
