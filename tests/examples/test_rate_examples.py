"""Run the rate-model example scripts with --quick (one subprocess for all of them)."""

from tests.examples._runner import run_examples

SCRIPTS = {
    "rate_universal_approximation.py": "rate_universal_approximation.png",
    "rate_overfitting.py": "rate_overfitting.png",
    "rate_vanishing_gradients.py": "rate_vanishing_gradients.png",
    "rate_momentum.py": "rate_momentum.png",
    "rate_digits.py": "rate_digits.png",
}



def test_rate_examples_run_quick_and_save_figures(tmp_path):
    stdout = run_examples(SCRIPTS, tmp_path)
    for figure in SCRIPTS.values():
        assert (tmp_path / figure).stat().st_size > 10_000, figure
    # each script prints the numbers behind its claim
    assert "log-log slope" in stdout
    assert "more_data" in stdout
    assert "per-layer drop" in stdout
    assert "plain GD" in stdout
    assert "test accuracy" in stdout
