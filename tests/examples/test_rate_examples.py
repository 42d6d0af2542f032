"""Run the rate-model example scripts with --quick (one subprocess for all of them)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = {
    "rate_universal_approximation.py": "universal_approximation.png",
    "rate_overfitting.py": "overfitting.png",
    "rate_vanishing_gradients.py": "vanishing_gradients.png",
    "rate_momentum.py": "momentum.png",
    "rate_digits.py": "digits.png",
}

# Importing torch costs seconds, so one interpreter runs every script in turn,
# each exactly as ``python examples/<script> --quick --out <dir>`` would.
DRIVER = """
import runpy, sys, time
out = sys.argv[1]
for script in sys.argv[2:]:
    t0 = time.perf_counter()
    sys.argv = [script, "--quick", "--out", out]
    runpy.run_path(script, run_name="__main__")
    print(f"== {script} took {time.perf_counter() - t0:.1f} s", flush=True)
"""


def test_rate_examples_run_quick_and_save_figures(tmp_path):
    scripts = [str(ROOT / "examples" / name) for name in SCRIPTS]
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, str(tmp_path), *scripts],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for figure in SCRIPTS.values():
        assert (tmp_path / figure).stat().st_size > 10_000, figure
    # each script prints the numbers behind its claim
    assert "log-log slope" in proc.stdout
    assert "more_data" in proc.stdout
    assert "per-layer drop" in proc.stdout
    assert "plain GD" in proc.stdout
    assert "test accuracy" in proc.stdout
