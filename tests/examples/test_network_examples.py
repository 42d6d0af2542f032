"""The network examples run end to end (with --quick) and write their figures."""

import pytest

from tests.examples._runner import run_examples


@pytest.mark.parametrize(
    ("script", "figures"),
    [
        ("psc_filters.py", ["psc_filters_kernels.png", "psc_filters_filtered_train.png"]),
        ("cuba_network.py", ["cuba_network_raster.png"]),
    ],
)
def test_example_runs_and_saves_figures(script, figures, tmp_path):
    run_examples([script], tmp_path, timeout=300)
    for name in figures:
        assert (tmp_path / name).stat().st_size > 10_000


@pytest.mark.slow  # starts a Dask cluster and runs the grid twice (sweep, then serial): ~40 s
def test_brunel_phase_diagram_example_runs_and_names_its_regimes(tmp_path):
    stdout = run_examples(["brunel_phase_diagram.py"], tmp_path, timeout=600)
    assert (tmp_path / "brunel_phase_diagram.png").stat().st_size > 10_000
    assert "rate" in stdout and "synchrony" in stdout
