"""The network examples run end to end (with --quick) and write their figures."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("script", "figures"),
    [
        ("psc_filters.py", ["psc_kernels.png", "psc_filtered_train.png"]),
        ("cuba_network.py", ["cuba_raster.png"]),
    ],
)
def test_example_runs_and_saves_figures(script, figures, tmp_path):
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), "--quick", "--out", str(tmp_path)],
        env=dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg"),
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for name in figures:
        assert (tmp_path / name).stat().st_size > 10_000
